//! `volume-held-by-lost-node`: a volume the pod needs is still attached to,
//! or in use on, a node that is NotReady, unreachable or deleted. Nothing
//! on that node will ever release it: the old node must be declared dead.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::lost_nodes::{lost, out_of_service_fix, Lost};
use crate::api::{Pod, VolumeAttachment};
use crate::chain::{is_finished, overdue, pod_state, ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{age, Confidence, Link, ObjectRef, Severity};
use k8s_openapi::api::core::v1::Node;

pub const RULE: Rule = Rule {
    id: "volume-held-by-lost-node",
    title: "a volume the pod needs is still attached to a node that is NotReady, unreachable or deleted",
    severity: Severity::Error,
    link: Link::Attach,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-held-by-lost-node.md"),
};

fn is_attached(va: &VolumeAttachment) -> bool {
    va.status.as_ref().is_some_and(|s| s.attached)
}

fn node_of(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// The name kubelets report in `status.volumesInUse` for a CSI volume.
fn unique_name(c: &ClaimChain) -> Option<String> {
    let csi = c.volume?.spec.as_ref()?.csi.as_ref()?;
    Some(format!(
        "kubernetes.io/csi/{}^{}",
        csi.driver, csi.volume_handle
    ))
}

fn reports_in_use(node: &Node, unique: &str) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.volumes_in_use.as_ref())
        .is_some_and(|v| v.iter().any(|u| u == unique))
}

/// Pod names of `Volume is already used by pod(s) a, b` (the rest of the
/// message, `and N pod(s) in different namespaces`, names none).
fn pods_named(message: &str) -> Vec<&str> {
    let Some((_, rest)) = message.split_once("used by pod(s)") else {
        return Vec::new();
    };
    let rest = rest.split(" and ").next().unwrap_or("");
    rest.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

fn check(ctx: &Ctx, pod: &PodChain, here: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let timeline = Timeline::new(&pod.events);
    let multi_events: Vec<_> = timeline
        .current_all("FailedAttachVolume")
        .filter(|e| events::message(e).contains("Multi-Attach error"))
        .collect();
    let mut out = Vec::new();
    for c in claims {
        let Some(pv) = c.volume else { continue };
        if c.access_modes()
            .iter()
            .any(|m| *m == "ReadWriteMany" || *m == "ReadOnlyMany")
        {
            continue;
        }
        let pv_name = pv.metadata.name.as_deref().unwrap_or("");
        let event = multi_events
            .iter()
            .find(|e| events::message(e).contains(&format!("\"{pv_name}\"")))
            .or_else(|| multi_events.first().filter(|_| claims.len() == 1));
        let attached_here = c
            .attachments
            .iter()
            .any(|va| va.spec.node_name == here && is_attached(va));
        // Where the volume is held: attachments, users of the claim, pods
        // the event names, nodes that report it in use.
        let mut holders: Vec<&str> = c
            .attachments
            .iter()
            .filter(|va| va.spec.node_name != here && is_attached(va))
            .map(|va| va.spec.node_name.as_str())
            .collect();
        let others: Vec<&Pod> = c
            .users
            .iter()
            .copied()
            .filter(|p| p.metadata.name.as_deref() != Some(pod.name) && !is_finished(p))
            .collect();
        holders.extend(others.iter().map(|p| node_of(p)));
        if let Some(e) = event {
            for name in pods_named(events::message(e)) {
                if let Some(p) = ctx.snap.pod(c.namespace, name) {
                    holders.push(node_of(p));
                }
            }
        }
        let unique = unique_name(c);
        if let Some(u) = &unique {
            holders.extend(
                ctx.snap
                    .objects
                    .nodes
                    .iter()
                    .filter(|n| reports_in_use(n, u))
                    .filter_map(|n| n.metadata.name.as_deref()),
            );
        }
        holders.retain(|n| !n.is_empty() && *n != here);
        holders.sort_unstable();
        holders.dedup();
        if event.is_none()
            && (attached_here
                || !c
                    .attachments
                    .iter()
                    .any(|va| va.spec.node_name != here && is_attached(va)))
        {
            continue;
        }
        let lost_nodes: Vec<Lost> = holders.iter().filter_map(|n| lost(ctx, n)).collect();
        let Some(first) = lost_nodes.first() else {
            continue;
        };
        out.push(cause(
            ctx,
            pod,
            here,
            c,
            pv_name,
            event.copied(),
            &others,
            &lost_nodes,
            unique.as_deref(),
            first,
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn cause(
    ctx: &Ctx,
    pod: &PodChain,
    here: &str,
    c: &ClaimChain,
    pv_name: &str,
    event: Option<&crate::api::Event>,
    others: &[&Pod],
    lost_nodes: &[Lost],
    unique: Option<&str>,
    first: &Lost,
) -> Cause {
    let ns = c.namespace;
    let modes = c.access_modes();
    let modes = if modes.is_empty() {
        "ReadWriteOnce".to_string()
    } else {
        modes.join(",")
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "volume {pv_name} (claim {ns}/{}, {modes}) is still attached to node {}, which is {}, so it cannot attach to node {here} where pod {} runs",
            c.name, first.name, first.state, pod.name
        ),
    )
    .object(pod.object())
    .object(c.object())
    .object(ObjectRef::volume(pv_name));
    match event {
        Some(e) => cause = cause.evidence(events::quote(e, ctx.snap.now)),
        None => {
            cause = cause.evidence(
                "no Multi-Attach event in the input (it is posted once and expires after an hour): diagnosed from the VolumeAttachments and the node",
            );
        }
    }
    let mut from_attachment = false;
    for va in c.attachments.iter().filter(|va| va.spec.node_name != here) {
        let status = va.status.as_ref();
        let mut line = format!(
            "VolumeAttachment {} attaches {pv_name} to node {} (attached: {})",
            va.metadata.name.as_deref().unwrap_or(""),
            va.spec.node_name,
            is_attached(va)
        );
        if let Some(t) = &va.metadata.deletion_timestamp {
            line.push_str(&format!("; being deleted for {}", age(t.0, ctx.snap.now)));
        }
        if let Some(m) = status
            .and_then(|s| s.detach_error.as_ref())
            .and_then(|e| e.message.as_deref())
        {
            line.push_str(&format!("; detachError: {m}"));
        }
        from_attachment |=
            is_attached(va) && lost_nodes.iter().any(|l| l.name == va.spec.node_name);
        cause = cause.evidence(line);
    }
    for l in lost_nodes {
        cause = cause
            .object(ObjectRef::node(l.name))
            .evidence_all(l.evidence.clone());
        if let (Some(u), Some(n)) = (unique, l.node) {
            if reports_in_use(n, u) {
                cause = cause.evidence(format!(
                    "node {} last reported the volume in status.volumesInUse: its kubelet never confirmed the unmount",
                    l.name
                ));
            }
        }
    }
    let mut stuck_old = Vec::new();
    for p in others {
        let node = node_of(p);
        let mut line = format!(
            "pod {ns}/{} ({}) uses the same claim on node {}",
            p.metadata.name.as_deref().unwrap_or(""),
            pod_state(p),
            if node.is_empty() {
                "(not scheduled)"
            } else {
                node
            }
        );
        if let Some(t) = &p.metadata.deletion_timestamp {
            line.push_str(&format!(
                "; its deletion was due {} ago",
                age(t.0, ctx.snap.now)
            ));
            if lost_nodes.iter().any(|l| l.name == node) {
                stuck_old.push(p.metadata.name.as_deref().unwrap_or(""));
            }
        }
        cause = cause.evidence(line);
        if overdue(p, ctx.snap.now).is_some() {
            cause = cause.object(ObjectRef::pod(ns, p.metadata.name.as_deref().unwrap_or("")));
        }
    }
    if event.is_none() && !from_attachment {
        cause = cause.confidence(Confidence::Medium);
    }
    for l in lost_nodes {
        cause = cause.fix(out_of_service_fix(l));
    }
    let clock = if stuck_old.is_empty() {
        String::new()
    } else {
        format!(
            " That clock starts only when the old pod is gone from the API: {} stays Terminating on the lost node until the node comes back, is tainted out of service, or the pod is force-deleted.",
            stuck_old.join(", ")
        )
    };
    cause = cause
        .fix(format!(
            "or wait: once no pod on node {} uses the volume any more, the attach/detach controller force-detaches it from the unhealthy node after 6 minutes (maxWaitForUnmountDuration; never when kube-controller-manager runs with --disable-force-detach-on-timeout).{clock}",
            first.name
        ))
        .fix(format!(
            "do not delete the VolumeAttachment by hand, and do not force-delete the old pod before the node is confirmed off: DATA RISK for a ReadWriteOnce volume. If node {} is in fact still running (a network partition looks the same from the API), the disk is detached under a file system it may still be writing, or attached to a second node while the first still writes: two writers corrupt it. Deleting or scaling the new pod does not help: the attachment on the lost node is what blocks",
            first.name
        ));
    cause
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn lost_node_snapshot(holder: Option<Node>, event: bool) -> crate::snapshot::Snapshot {
        snapshot(|o| {
            o.nodes.push(node("node-b"));
            o.nodes.extend(holder);
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.attachments.push(attachment("pv-1", "node-a", true));
            o.pods.push(
                pod("db-0")
                    .claim("data")
                    .on_node("node-b")
                    .waiting("ContainerCreating"),
            );
            if event {
                o.events.push(
                    crate::fixtures::event(
                        "FailedAttachVolume",
                        "Multi-Attach error for volume \"pv-1\" Volume is already exclusively attached to one node and can't be attached to another",
                    )
                    .warning()
                    .about("Pod", "default", "db-0"),
                );
            }
        })
    }

    #[test]
    fn not_ready_holder_gets_the_out_of_service_taint() {
        let snap = lost_node_snapshot(Some(node("node-a").not_ready()), true);
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        let t = text(&c[0]);
        assert!(t.contains("NotReady (Ready=Unknown)"), "{t}");
        assert!(
            t.contains("kubectl taint nodes node-a node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"),
            "{t}"
        );
        assert!(t.contains("6 minutes"), "{t}");
        assert!(t.contains("DATA RISK"), "{t}");
        assert!(!t.contains("Recreate"), "{t}");
    }

    #[test]
    fn unreachable_taint_alone_is_enough() {
        let holder = node("node-a").taint("node.kubernetes.io/unreachable", "NoExecute");
        let c = causes(&RULE, &lost_node_snapshot(Some(holder), true));
        assert!(text(&c[0]).contains("unreachable"));
    }

    #[test]
    fn deleted_holder_without_event() {
        let c = causes(&RULE, &lost_node_snapshot(None, false));
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("node node-a no longer exists"), "{t}");
        assert!(t.contains("was deleted"), "{t}");
        assert_eq!(c[0].confidence, Confidence::High);
    }

    #[test]
    fn ready_holder_is_left_to_multi_attach() {
        let c = causes(&RULE, &lost_node_snapshot(Some(node("node-a")), true));
        assert!(c.is_empty());
    }

    #[test]
    fn terminating_old_pod_on_the_lost_node_is_named() {
        let snap = snapshot(|o| {
            o.nodes.extend([node("node-a").not_ready(), node("node-b")]);
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            let mut old = pod("web-old")
                .claim("data")
                .on_node("node-a")
                .phase("Running");
            old.metadata.deletion_timestamp = Some(time("2026-11-20T10:01:00Z"));
            o.pods.push(old);
            o.pods.push(
                pod("web-new")
                    .claim("data")
                    .on_node("node-b")
                    .waiting("ContainerCreating"),
            );
            o.events.push(
                event(
                    "FailedAttachVolume",
                    "Multi-Attach error for volume \"pv-1\" Volume is already used by pod(s) web-old",
                )
                .warning()
                .about("Pod", "default", "web-new"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1, "{c:?}");
        let t = text(&c[0]);
        assert!(t.contains("pod default/web-old (Terminating)"), "{t}");
        assert!(
            t.contains("That clock starts only when the old pod is gone"),
            "{t}"
        );
    }

    #[test]
    fn pods_named_reads_the_event_list() {
        assert_eq!(
            pods_named("Multi-Attach error for volume \"p\" Volume is already used by pod(s) a, b and 2 pod(s) in different namespaces"),
            ["a", "b"]
        );
        assert!(pods_named("Multi-Attach error for volume \"p\" Volume is already used by 2 pod(s) in different namespaces").is_empty());
    }
}
