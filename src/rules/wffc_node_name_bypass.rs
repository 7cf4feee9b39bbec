//! `wffc-node-name-bypass`: the pod sets `spec.nodeName`, so the scheduler
//! never runs and a WaitForFirstConsumer claim never gets a node to bind on.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::edit_pod_spec_hint;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "wffc-node-name-bypass",
    title: "the pod sets spec.nodeName, bypassing the scheduler, so its WaitForFirstConsumer claim never binds",
    severity: Severity::Error,
    link: Link::ClaimToVolume,
    check: Check::PodOnNode(check),
    normal_events: &[NormalEvent::about("Pod", "Scheduled")],
    runbook: include_str!("../../docs/runbooks/wffc-node-name-bypass.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    // Scheduled by the scheduler: it would have set selected-node first.
    let scheduled_by_scheduler = pod
        .events
        .iter()
        .any(|e| crate::events::reason(e) == "Scheduled");
    let mut out = Vec::new();
    for c in claims {
        if !c.is_pending() || !c.is_wait_for_first_consumer() || scheduled_by_scheduler {
            continue;
        }
        if c.annotation("volume.kubernetes.io/selected-node").is_some() {
            continue;
        }
        let ns = c.namespace;
        let class = c.class_name().unwrap_or("");
        let mut cause = Cause::new(
            &RULE,
            format!(
                "pod {ns}/{} sets spec.nodeName: {node} directly, so the scheduler never picks a node for it and claim {} (WaitForFirstConsumer class \"{class}\") never binds",
                pod.name, c.name
            ),
        )
        .object(pod.object())
        .object(c.object())
        .object(ObjectRef::node(node))
        .evidence(format!("pod {ns}/{} has spec.nodeName {node} and no Scheduled event", pod.name))
        .evidence(format!(
            "claim {ns}/{} is Pending without the volume.kubernetes.io/selected-node annotation the scheduler would set",
            c.name
        ));
        if let Some(e) = pod.events.iter().find(|e| {
            matches!(
                crate::events::reason(e),
                "FailedMount" | "FailedAttachVolume"
            )
        }) {
            cause = cause.evidence(crate::events::quote(e, ctx.snap.now));
        }
        cause = cause.fix(edit_pod_spec_hint(
            ctx,
            pod,
            &format!(
                "replace spec.nodeName: {node} with nodeSelector kubernetes.io/hostname: {node} (the scheduler then selects the node and the claim binds)"
            ),
        ));
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn node_name_with_unbound_wffc_claim() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("local", "rancher.io/local-path").wait_for_consumer());
            o.claims.push(pvc("data").class("local"));
            o.pods.push(pod("db").claim("data").on_node("worker-1"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            text(&c[0]).contains("nodeSelector kubernetes.io/hostname: worker-1"),
            "{}",
            text(&c[0])
        );
    }

    #[test]
    fn selected_node_means_the_scheduler_ran() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("local", "rancher.io/local-path").wait_for_consumer());
            o.claims.push(
                pvc("data")
                    .class("local")
                    .annotate("volume.kubernetes.io/selected-node", "worker-1"),
            );
            o.pods.push(pod("db").claim("data").on_node("worker-1"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
