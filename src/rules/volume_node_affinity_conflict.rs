//! `volume-node-affinity-conflict`: the bound PV may only be used on nodes
//! that the pod cannot run on (node gone, zone without usable nodes, the
//! pod's own selector, affinity or taints excluding them).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use super::support::evidence::{gap_lines, scheduler_says};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::nodes;
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "volume-node-affinity-conflict",
    title: "the bound volume's node affinity matches no node the pod can run on",
    severity: Severity::Error,
    link: Link::VolumeToNode,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-node-affinity-conflict.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    if pod.node_name.is_some() {
        return Vec::new();
    }
    // Whether the volume's nodes exist and something else keeps the pod
    // off them: that something is the cause (volume-node-unavailable, or
    // the storage rule of an RWOP holder or an attach limit). Worked out
    // once, and only for a pod this rule would otherwise speak for.
    let mut ruled_out_by_others = None;
    let said = scheduler_says(Some(pod), |k| {
        matches!(
            k,
            ReasonKind::VolumeNodeAffinityConflict | ReasonKind::NoVolumeZone
        )
    });
    let mut out = Vec::new();
    for c in claims {
        let Some(pv) = c.volume else { continue };
        let Some(terms) = pv
            .spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .and_then(|a| a.required.as_ref())
            .map(|r| &r.node_selector_terms)
        else {
            continue;
        };
        let all_nodes = &ctx.snap.objects.nodes;
        let mut per_node = Vec::new();
        let mut usable = 0;
        let mut matching = 0;
        for n in all_nodes {
            let name = nodes::name(n);
            match nodes::terms_match(terms, n) {
                Err(why) => per_node.push(format!("node {name}: {why}")),
                Ok(()) => {
                    matching += 1;
                    match nodes::pod_allows(pod.pod, n) {
                        Ok(()) => usable += 1,
                        Err(why) => {
                            per_node.push(format!("node {name} matches the volume, but {why}"))
                        }
                    }
                }
            }
        }
        let nodes_known = ctx.snap.has("nodes") && !all_nodes.is_empty();
        let state_says = nodes_known && usable == 0;
        if said.is_none() && !state_says {
            continue;
        }
        if *ruled_out_by_others.get_or_insert_with(|| {
            ctx.node_view(pod, claims)
                .as_ref()
                .as_ref()
                .is_some_and(|v| v.allowed_nodes_ruled_out_by_others())
        }) {
            return Vec::new();
        }
        let pv_name = pv.metadata.name.as_deref().unwrap_or("");
        let required = terms
            .iter()
            .map(nodes::describe_term)
            .collect::<Vec<_>>()
            .join(" or ");
        let node_local = pv
            .spec
            .as_ref()
            .is_some_and(|s| s.local.is_some() || s.host_path.is_some())
            || terms.iter().any(|t| {
                t.match_expressions
                    .iter()
                    .flatten()
                    .any(|r| r.key == "kubernetes.io/hostname")
            });
        let summary = if nodes_known && matching == 0 {
            format!(
                "volume {pv_name} of claim {}/{} can only be used on nodes where {required}, and no such node exists",
                c.namespace, c.name
            )
        } else {
            format!(
                "volume {pv_name} of claim {}/{} can only be used on nodes where {required}, and the pod cannot run on any of them",
                c.namespace, c.name
            )
        };
        let mut cause = Cause::new(&RULE, summary)
            .object(pod.object())
            .object(c.object())
            .object(ObjectRef::volume(pv_name))
            .evidence(format!("PV {pv_name} requires: {required}"));
        if let Some(line) = &said {
            cause = cause.evidence(line.clone());
        }
        cause = cause.evidence_all(per_node.into_iter().take(8));
        if !nodes_known {
            cause = cause
                .confidence(Confidence::Medium)
                .evidence_all(gap_lines(ctx, &["nodes"]));
        } else if said.is_none() {
            cause = cause.evidence("no scheduler message in the input: diagnosed from the volume's node affinity and the nodes that exist");
        } else if usable > 0 {
            // The scheduler says so, but the tool sees a usable node: other
            // constraints (resources, inter-pod affinity) must combine with it.
            cause = cause.confidence(Confidence::Medium);
        }
        let ns = c.namespace;
        let reclaim = pv
            .spec
            .as_ref()
            .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
            .unwrap_or("Delete");
        if node_local && matching == 0 && nodes_known {
            cause = cause.fix(
                "the node that held this node-local volume is gone, and its data with it unless the disk comes back: if the node returns (same name), the pod schedules again",
            );
            cause = cause.fix(format!(
                "otherwise release the claim so a new volume can be provisioned — DATA ON {pv_name} IS LOST (reclaimPolicy {reclaim}): {k} delete pvc {n}, then kubectl delete pv {pv_name} if it stays Released; the workload's controller recreates the claim (StatefulSet) or re-apply it",
                k = kubectl_ns(ns),
                n = c.name
            ));
        } else if matching == 0 {
            cause = cause
                .fix(format!("add or restore nodes where {required} (for a zonal disk: a node group in that zone)"))
                .fix(format!(
                    "or move the data: snapshot the volume and restore it as a new claim in a zone the pod can use (the new claim's data comes from the snapshot; keep {pv_name} until it is verified)"
                ));
        } else {
            cause = cause
                .fix(edit_pod_spec_hint(
                    ctx,
                    pod,
                    &format!("relax nodeSelector / affinity / tolerations so that a node where {required} is allowed"),
                ))
                .fix("or make room on the matching nodes (uncordon, remove the taint, fix NotReady)");
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
    fn local_volume_on_a_node_that_is_gone() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(
                pv("local-pv")
                    .bound_to("default", "data")
                    .node_affinity("kubernetes.io/hostname", &["worker-3"]),
            );
            o.pods.push(pod("db").claim("data"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(c[0].summary.contains("no such node exists"), "{t}");
        assert!(t.contains("DATA ON local-pv IS LOST"), "{t}");
        assert!(
            t.contains("diagnosed from the volume's node affinity"),
            "{t}"
        );
    }

    #[test]
    fn zone_excluded_by_the_pods_node_selector() {
        let snap = snapshot(|o| {
            o.nodes
                .push(node("a").label("topology.kubernetes.io/zone", "us-east-1a"));
            o.nodes
                .push(node("b").label("topology.kubernetes.io/zone", "us-east-1b"));
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .node_affinity("topology.kubernetes.io/zone", &["us-east-1a"]),
            );
            o.pods.push(
                pod("db")
                    .claim("data")
                    .node_selector("topology.kubernetes.io/zone", "us-east-1b")
                    .unschedulable("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume node affinity conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."),
            );
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(
            t.contains("node a matches the volume, but the pod's nodeSelector"),
            "{t}"
        );
        assert!(
            t.contains("node b: topology.kubernetes.io/zone=us-east-1b"),
            "{t}"
        );
    }

    #[test]
    fn usable_node_and_no_complaint_is_fine() {
        let snap = snapshot(|o| {
            o.nodes.push(node("worker-1"));
            o.claims.push(pvc("data").bound("local-pv"));
            o.volumes.push(
                pv("local-pv")
                    .bound_to("default", "data")
                    .node_affinity("kubernetes.io/hostname", &["worker-1"]),
            );
            o.pods.push(pod("db").claim("data"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
