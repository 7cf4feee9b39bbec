//! `multi-attach`: a ReadWriteOnce volume is attached to another node.
//! RWO is per node, not per pod: a second node cannot attach it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::lost_nodes::lost;
use crate::chain::{is_finished, ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::nodes;

pub const RULE: Rule = Rule {
    id: "multi-attach",
    title: "a ReadWriteOnce volume is still attached to another node",
    severity: Severity::Error,
    link: Link::Attach,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/multi-attach.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, here: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let timeline = Timeline::new(&pod.events);
    let multi_events: Vec<_> = timeline
        .current_all("FailedAttachVolume")
        .filter(|e| events::message(e).contains("Multi-Attach error"))
        .collect();
    let mut out = Vec::new();
    for c in claims {
        let Some(pv) = c.volume else { continue };
        let modes = c.access_modes();
        if modes
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
        let elsewhere: Vec<_> = c
            .attachments
            .iter()
            .filter(|va| va.spec.node_name != here)
            .filter(|va| va.status.as_ref().is_some_and(|s| s.attached))
            .collect();
        let attached_here = c
            .attachments
            .iter()
            .any(|va| va.spec.node_name == here && va.status.as_ref().is_some_and(|s| s.attached));
        if event.is_none() && (elsewhere.is_empty() || attached_here) {
            continue;
        }
        let ns = c.namespace;
        // Without VolumeAttachments (in-tree volumes), the node's own
        // status says what is attached to it.
        let reported = nodes::reporting_attached(ctx.snap, pv, here);
        let other_node = elsewhere
            .first()
            .map(|va| va.spec.node_name.as_str())
            .or(reported.first().copied());
        let mut cause = Cause::new(
            &RULE,
            format!(
                "volume {pv_name} (claim {ns}/{}, ReadWriteOnce) is {}, so it cannot attach to node {here} where pod {} runs",
                c.name,
                other_node.map_or("still attached to another node".to_string(), |n| format!("attached to node {n}")),
                pod.name
            ),
        )
        .object(pod.object())
        .object(c.object())
        .object(ObjectRef::volume(pv_name));
        if let Some(e) = event {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        } else {
            cause = cause.confidence(Confidence::Medium).evidence(
                "no FailedAttachVolume event in the input: diagnosed from the VolumeAttachments",
            );
        }
        for n in reported
            .iter()
            .filter(|n| elsewhere.iter().all(|va| va.spec.node_name != **n))
        {
            cause = cause.evidence(format!(
                "node {n} reports {pv_name} attached (status.volumesAttached)"
            ));
        }
        for va in &elsewhere {
            cause = cause.evidence(format!(
                "VolumeAttachment {} attaches {pv_name} to node {} (attached: true)",
                va.metadata.name.as_deref().unwrap_or(""),
                va.spec.node_name
            ));
        }
        let others: Vec<_> = c
            .users
            .iter()
            .filter(|p| p.metadata.name.as_deref() != Some(pod.name) && !is_finished(p))
            .collect();
        // A holder on a lost node is volume-held-by-lost-node: the
        // workload is not what needs changing.
        let holder_nodes =
            elsewhere
                .iter()
                .map(|va| va.spec.node_name.as_str())
                .chain(others.iter().filter_map(|p| {
                    p.spec
                        .as_ref()
                        .and_then(|s| s.node_name.as_deref())
                        .filter(|n| *n != here)
                }));
        if holder_nodes.into_iter().any(|n| lost(ctx, n).is_some()) {
            continue;
        }
        for p in &others {
            cause = cause.evidence(format!(
                "pod {ns}/{} ({}) uses the same claim on node {}",
                p.metadata.name.as_deref().unwrap_or(""),
                crate::chain::pod_state(p),
                p.spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_deref())
                    .unwrap_or("(not scheduled)")
            ));
        }
        let other_down = other_node
            .and_then(|n| ctx.snap.node(n))
            .filter(|n| !nodes::is_ready(n));
        if let Some(n) = other_down {
            let name = nodes::name(n);
            cause = cause
                .object(ObjectRef::node(name))
                .evidence(format!("node {name} is NotReady"))
                .fix(format!(
                    "node {name} is NotReady: Kubernetes force-detaches 6 minutes after the pod on an unhealthy node is deleted (not at all when kube-controller-manager runs with --disable-force-detach-on-timeout). If the node is really shut down, mark it out of service so the volume detaches now: kubectl taint nodes {name} node.kubernetes.io/out-of-service=nodeshutdown:NoExecute (remove the taint once the node is back)"
                ));
        }
        let owner = crate::chain::owner_of(ctx.snap, pod.pod);
        let same_owner = others.iter().any(|p| {
            crate::chain::owner_of(ctx.snap, p).is_some()
                && crate::chain::owner_of(ctx.snap, p) == owner
        });
        match &owner {
            Some(o) if o.kind == "Deployment" && same_owner => {
                cause = cause
                    .evidence(format!(
                        "both pods belong to {}: a rolling update (or replicas > 1) on one ReadWriteOnce claim puts pods on two nodes",
                        o.kubectl_name()
                    ))
                    .fix(format!(
                        "use strategy Recreate so the old pod releases the volume first: {} patch {} -p '{{\"spec\":{{\"strategy\":{{\"type\":\"Recreate\",\"rollingUpdate\":null}}}}}}'",
                        kubectl_ns(ns),
                        o.kubectl_name()
                    ))
                    .fix("keep replicas at 1 for a ReadWriteOnce claim; for more replicas use a StatefulSet with volumeClaimTemplates (a volume each) or a ReadWriteMany class");
            }
            _ => {
                if let Some(p) = others.first() {
                    cause = cause.fix(format!(
                        "stop the pod that holds the volume, or run both on the same node (RWO allows that): {} delete pod {}",
                        kubectl_ns(ns),
                        p.metadata.name.as_deref().unwrap_or("")
                    ));
                }
            }
        }
        if other_down.is_none() && others.is_empty() {
            cause = cause.fix(
                "no pod uses the claim on the other node any more: the detach is stuck; check kubectl describe volumeattachment for detachError and the CSI attacher's log (kubectl get pods -A | grep -i attacher)",
            );
        }
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn rolling_update_on_rwo_claim() {
        let old = pod("web-old")
            .claim("data")
            .running()
            .on_node("node-a")
            .owned_by("ReplicaSet", "web-1111")
            .label("pod-template-hash", "1111");
        let new = pod("web-new")
            .claim("data")
            .on_node("node-b")
            .waiting("ContainerCreating")
            .owned_by("ReplicaSet", "web-2222")
            .label("pod-template-hash", "2222");
        let snap = snapshot(|o| {
            o.nodes.extend([node("node-a"), node("node-b")]);
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.attachments.push(attachment("pv-1", "node-a", true));
            o.pods.extend([old, new]);
            o.events.push(
                event("FailedAttachVolume", "Multi-Attach error for volume \"pv-1\" Volume is already used by pod(s) web-old")
                    .warning()
                    .about("Pod", "default", "web-new"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("attached to node node-a"), "{t}");
        assert!(t.contains("Recreate"), "{t}");
    }

    #[test]
    fn a_holder_on_a_lost_node_is_left_to_volume_held_by_lost_node() {
        let snap = snapshot(|o| {
            o.nodes.extend([node("node-a").not_ready(), node("node-b")]);
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
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn attached_on_its_own_node_is_fine() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.attachments.push(attachment("pv-1", "node-b", true));
            o.pods.push(
                pod("db-0")
                    .claim("data")
                    .on_node("node-b")
                    .waiting("ContainerCreating"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
