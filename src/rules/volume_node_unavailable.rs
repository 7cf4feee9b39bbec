//! `volume-node-unavailable`: the pod's volumes pin it to nodes that exist,
//! and something that is not the volume rules each of them out: a taint the
//! pod does not tolerate, a cordon, NotReady, or what the scheduler counts
//! (cpu, memory, ports, inter-pod rules). Not a node affinity conflict: the
//! volume is where it should be, and freeing its node lets the pod start.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::edit_pod_spec_hint;
use super::support::evidence::scheduler_says;
use crate::chain::node_view::{BlockerKind, NodeCheck};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::nodes::Exclusion;

pub const RULE: Rule = Rule {
    id: "volume-node-unavailable",
    title: "the nodes the pod's volumes allow exist, and something else rules each of them out",
    severity: Severity::Error,
    link: Link::VolumeToNode,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-node-unavailable.md"),
};

/// Allowed nodes named one by one in the summary and the fixes.
const NAMED: usize = 5;

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let view = ctx.node_view(pod, claims);
    let Some(view) = view.as_ref() else {
        return Vec::new();
    };
    if !view.allowed_nodes_blocked_elsewhere() {
        return Vec::new();
    }
    let allowed: Vec<&NodeCheck> = view.allowed().collect();
    let pins: Vec<String> = view.pins.iter().map(|p| p.text.clone()).collect();
    let where_ = if pins.is_empty() {
        "the nodes its volumes can be used on".to_string()
    } else {
        pins.join(", and ")
    };
    let names: Vec<&str> = allowed.iter().map(|n| n.name.as_str()).collect();
    let listed = list(&names);
    let blockers: Vec<String> = {
        let mut b: Vec<String> = allowed
            .iter()
            .flat_map(|n| n.ruled_out.iter().map(|b| b.text.to_string()))
            .collect();
        b.sort();
        b.dedup();
        b
    };
    let summary = format!(
        "pod {}/{} can only run where its volumes are ({where_}): {} {listed}, which {} ruled out: {}",
        pod.namespace,
        pod.name,
        if names.len() == 1 { "node" } else { "nodes" },
        if names.len() == 1 { "is" } else { "are" },
        blockers.join("; ")
    );
    let mut cause = Cause::new(&RULE, summary).object(pod.object());
    for p in &view.pins {
        cause = cause.object(p.claim.clone());
        if let Some(pv) = &p.volume {
            cause = cause.object(ObjectRef::volume(pv));
        }
        cause = cause.evidence(format!("claim {}: {}", p.claim_name, p.text));
    }
    for n in allowed.iter().take(NAMED) {
        cause = cause.object(ObjectRef::node(&n.name)).evidence(format!(
            "node {} is allowed by the volumes, but {}",
            n.name,
            n.ruled_out
                .iter()
                .map(|b| &*b.text)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let other = view.nodes.len() - allowed.len();
    cause = cause.evidence(format!(
        "the other {other} of {} nodes are left out by the volumes themselves",
        view.nodes.len()
    ));
    match scheduler_says(Some(pod), |_| true) {
        Some(line) => cause = cause.evidence(line),
        None => cause = cause.confidence(Confidence::Medium).evidence(
            "no scheduler message in the input: diagnosed from the volumes and the nodes' state",
        ),
    }
    for fix in fixes(ctx, pod, &allowed) {
        cause = cause.fix(fix);
    }
    if view.pins.iter().any(|p| p.volume.is_some()) {
        cause = cause.fix(
            "do not delete the claim to get the pod placed elsewhere while these nodes can still serve it: the data lives on the volume, and the volume is on these nodes",
        );
    } else {
        cause = cause.fix(
            "its claims have no volume yet: the volume can only be made on the nodes its driver serves, so free room there or run the driver's node plugin on more nodes (kubectl get csinode shows where it is registered)",
        );
    }
    vec![cause]
}

fn list(names: &[&str]) -> String {
    if names.len() <= NAMED {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..NAMED].join(", "),
            names.len() - NAMED
        )
    }
}

fn not_ready_fix(node: &str) -> String {
    format!(
        "node {node} is NotReady or unreachable: bring its kubelet back (kubectl describe node {node}, the kubelet's log on the node); the volume is there. If the node is gone for good, so is the data of a local volume on it: then delete the claim and its PersistentVolume so a new volume is made"
    )
}

/// The fix for a taint that Kubernetes itself sets from the node's state:
/// tolerating or removing it only puts the pod on a node that cannot run
/// it, and the taint comes back.
fn node_state_taint_fix(key: &str, node: &str) -> Option<String> {
    let state = match key.strip_prefix("node.kubernetes.io/")? {
        "disk-pressure" => return Some(format!(
            "node {node} is under DiskPressure, its own disk full: free disk on it (kubectl describe node {node}; on the node, crictl rmi --prune and du -sh /var/log/pods/* /var/lib/kubelet/pods/*); do not tolerate the taint, the kubelet would evict the pod again"
        )),
        "memory-pressure" => "under MemoryPressure: free memory on it",
        "pid-pressure" => "under PIDPressure: find the process that forks without end",
        "not-ready" | "unreachable" => return Some(not_ready_fix(node)),
        "unschedulable" => return Some(format!(
            "node {node} is cordoned: once its maintenance is done, kubectl uncordon {node}"
        )),
        "network-unavailable" => "without pod networking: check its CNI plugin's pod on it",
        "out-of-service" => "marked out-of-service: bring it back, then remove the taint",
        _ => "in a state that keeps pods off it",
    };
    Some(format!(
        "node {node} is {state} (kubectl describe node {node}); the taint {key} reflects that state and goes by itself once it is fixed, so tolerating or removing it does not help"
    ))
}

/// One fix per distinct thing that rules the allowed nodes out, naming it.
fn fixes(ctx: &Ctx, pod: &PodChain, allowed: &[&NodeCheck]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |line: String| {
        if !out.contains(&line) {
            out.push(line);
        }
    };
    for n in allowed.iter().take(NAMED) {
        for b in &n.ruled_out {
            match (&b.exclusion, b.kind) {
                (Some(Exclusion::Taint(t)), _) => {
                    let (key_value, effect) = t.rsplit_once(':').unwrap_or((t, ""));
                    let key = key_value.split('=').next().unwrap_or(key_value);
                    if let Some(fix) = node_state_taint_fix(key, &n.name) {
                        push(fix);
                        continue;
                    }
                    push(format!(
                        "node {} has the taint {t}, which the pod does not tolerate: if the pod belongs there, {}; if the taint is stale, remove it: kubectl taint node {} {t}-",
                        n.name,
                        edit_pod_spec_hint(
                            ctx,
                            pod,
                            &format!("add the toleration {{key: {key}, operator: Exists, effect: {effect}}}")
                        ),
                        n.name
                    ));
                }
                (Some(Exclusion::Cordoned), _) => push(format!(
                    "node {0} is cordoned: once its maintenance is done, kubectl uncordon {0}",
                    n.name
                )),
                (Some(Exclusion::NotReady), _) => push(not_ready_fix(&n.name)),
                (_, BlockerKind::Scheduler) => {
                    let reason = b.text.split(" (scheduler").next().unwrap_or(&b.text);
                    // A storage driver's capacity published as a node
                    // resource (TopoLVM's topolvm.cybozu.com/capacity).
                    let storage_resource = reason.strip_prefix("Insufficient ").filter(|r| {
                        r.contains('/') && (r.ends_with("capacity") || r.contains("storage"))
                    });
                    push(match storage_resource {
                        Some(r) => format!(
                            "node {0} reports no room left in {r}, the free space its storage driver publishes: free space in the node's storage (for TopoLVM, its LVM volume group), or check that the driver's node plugin runs there and reports it (kubectl describe node {0}, Allocatable)",
                            n.name
                        ),
                        None => format!(
                            "make room on node {0} ({reason}): lower the pod's requests, or move other pods off it (kubectl describe node {0} shows what is allocated)",
                            n.name
                        ),
                    })
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn pinned(node_name: &str) -> crate::api::PersistentVolume {
        pv("local-pv")
            .bound_to("default", "data")
            .node_affinity("kubernetes.io/hostname", &[node_name])
    }

    #[test]
    fn tainted_node_of_a_pinned_volume_is_named_with_its_taint() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.nodes
                .push(node("worker-2").taint("dedicated", "NoSchedule"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-2"));
            o.pods.push(pod("db").claim("data").unschedulable(
                "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: }, 1 node(s) didn't match PersistentVolume's node affinity.",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(c[0].summary.contains("node worker-2, which is ruled out: it has the untolerated taint dedicated:NoSchedule"), "{t}");
        assert!(
            t.contains("kubectl taint node worker-2 dedicated:NoSchedule-"),
            "{t}"
        );
        assert_eq!(c[0].confidence, Confidence::High);
    }

    #[test]
    fn a_taint_from_the_nodes_state_gets_the_node_fixed_not_tolerated() {
        let snap = snapshot(|o| {
            o.nodes
                .push(node("worker-2").taint("node.kubernetes.io/disk-pressure", "NoSchedule"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-2"));
            o.pods.push(pod("db").claim("data").unschedulable(
                "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }.",
            ));
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(t.contains("free disk on it"), "{t}");
        assert!(!t.contains("add the toleration"), "{t}");
        assert!(!t.contains("kubectl taint node"), "{t}");
    }

    #[test]
    fn cpu_on_the_pinned_node_is_named_from_the_scheduler() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.nodes.push(node("worker-2"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-2"));
            o.pods.push(pod("db").claim("data").unschedulable(
                "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had volume node affinity conflict.",
            ));
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(
            t.contains("make room on node worker-2 (Insufficient cpu)"),
            "{t}"
        );
    }

    #[test]
    fn missing_node_or_the_pods_own_selector_are_left_to_the_affinity_rule() {
        let gone = snapshot(|o| {
            o.nodes
                .push(node("worker-1").taint("dedicated", "NoSchedule"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-3"));
            o.pods.push(pod("db").claim("data"));
        });
        assert!(causes(&RULE, &gone).is_empty());
        let selector = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.nodes.push(node("worker-2"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-2"));
            o.pods.push(
                pod("db")
                    .claim("data")
                    .node_selector("kubernetes.io/hostname", "worker-1"),
            );
        });
        assert!(causes(&RULE, &selector).is_empty());
    }

    #[test]
    fn a_read_write_once_pod_holder_is_left_to_its_own_rule() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.nodes.push(node("worker-2"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-2"));
            o.pods.push(pod("db").claim("data").unschedulable(
                "0/2 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode, 1 node(s) had volume node affinity conflict.",
            ));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn volumes_that_allow_every_node_are_not_the_cause_of_missing_cpu() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-1"));
            o.pods.push(
                pod("db")
                    .claim("data")
                    .unschedulable("0/1 nodes are available: 1 Insufficient cpu."),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn the_only_node_of_a_pinned_volume_tainted() {
        let snap = snapshot(|o| {
            o.nodes
                .push(node("worker-1").taint("dedicated", "NoSchedule"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(pinned("worker-1"));
            o.pods.push(pod("db").claim("data"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::Medium);
    }
}
