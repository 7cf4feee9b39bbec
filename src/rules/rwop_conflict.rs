//! `rwop-conflict`: a ReadWriteOncePod claim is already used by another pod.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::evidence::scheduler_says;
use crate::chain::{is_finished, ClaimChain, PodChain};
use crate::events;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "rwop-conflict",
    title: "a ReadWriteOncePod claim is already in use by another pod",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/rwop-conflict.md"),
};

const KUBELET_TEXT: &str =
    "volume uses the ReadWriteOncePod access mode and is already in use by another pod";

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    if pod.healthy {
        return Vec::new();
    }
    let said = scheduler_says(Some(pod), |k| *k == ReasonKind::ReadWriteOncePodInUse);
    let kubelet = pod
        .events
        .iter()
        .find(|e| events::message(e).contains(KUBELET_TEXT));
    let mut out = Vec::new();
    for c in claims {
        if !c.access_modes().contains(&"ReadWriteOncePod") {
            continue;
        }
        let holders: Vec<_> = c
            .users
            .iter()
            .filter(|p| p.metadata.name.as_deref() != Some(pod.name))
            .filter(|p| !is_finished(p))
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .collect();
        if holders.is_empty() && said.is_none() && kubelet.is_none() {
            continue;
        }
        if holders.is_empty()
            && claims
                .iter()
                .filter(|x| x.access_modes().contains(&"ReadWriteOncePod"))
                .count()
                > 1
        {
            // Several RWOP claims and nobody visibly holds this one.
            continue;
        }
        let ns = c.namespace;
        let holder_names: Vec<String> = holders
            .iter()
            .map(|p| {
                format!(
                    "{ns}/{} ({} on {})",
                    p.metadata.name.as_deref().unwrap_or(""),
                    crate::chain::pod_state(p),
                    p.spec
                        .as_ref()
                        .and_then(|s| s.node_name.as_deref())
                        .unwrap_or("?")
                )
            })
            .collect();
        let summary = match holders.first() {
            Some(h) => format!(
                "claim {ns}/{} is ReadWriteOncePod and pod {} already uses it, so pod {ns}/{} cannot start",
                c.name,
                h.metadata.name.as_deref().unwrap_or(""),
                pod.name
            ),
            None => format!(
                "claim {ns}/{} is ReadWriteOncePod and another pod already uses it, so pod {ns}/{} cannot start",
                c.name, pod.name
            ),
        };
        let mut cause = Cause::new(&RULE, summary)
            .object(pod.object())
            .object(c.object())
            .evidence(format!(
                "claim {ns}/{} has accessModes [{}]: one pod at a time, cluster-wide",
                c.name,
                c.access_modes().join(", ")
            ));
        for h in &holders {
            cause = cause.object(ObjectRef::pod(ns, h.metadata.name.as_deref().unwrap_or("")));
        }
        if !holder_names.is_empty() {
            cause = cause.evidence(format!("in use by: {}", holder_names.join(", ")));
        }
        if let Some(line) = &said {
            cause = cause.evidence(line.clone());
        }
        if let Some(e) = kubelet {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        if said.is_none() && kubelet.is_none() {
            cause = cause
                .confidence(Confidence::Medium)
                .evidence("no scheduler or kubelet message in the input: diagnosed from which pods use the claim");
        }
        let holder = holders
            .first()
            .and_then(|h| h.metadata.name.as_deref())
            .unwrap_or("<the pod using it>");
        cause = cause
            .fix(format!(
                "only one pod may use a ReadWriteOncePod claim: stop {holder} first ({} delete pod {holder}, or scale its workload down), then this pod schedules",
                kubectl_ns(ns)
            ))
            .fix("if both pods must share the volume: ReadWriteOnce lets pods on the same node share it, ReadWriteMany (a shared-filesystem class) lets pods on any node; accessModes cannot be edited, so that means a new claim and copying the data")
            .fix("for rolling updates of a single-replica workload on an RWOP claim, use strategy Recreate so the old pod is gone before the new one starts");
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn names_the_pod_holding_the_claim() {
        let snap = snapshot(|o| {
            o.claims.push(
                pvc("eval-results")
                    .modes(&["ReadWriteOncePod"])
                    .bound("pv-1"),
            );
            o.pods
                .push(pod("evaluator").claim("eval-results").running());
            o.pods.push(pod("exporter").claim("eval-results").unschedulable(
                "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("pod evaluator already uses it"),
            "{}",
            c[0].summary
        );
        assert_eq!(c[0].confidence, Confidence::High);
    }

    #[test]
    fn rwo_claims_are_not_this_rule() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("d").bound("pv-1"));
            o.pods.push(pod("a").claim("d").running());
            o.pods.push(pod("b").claim("d"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
