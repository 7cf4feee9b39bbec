//! `claim-terminating`: the claim is being deleted, held by the
//! `kubernetes.io/pvc-protection` finalizer while pods still use it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::evidence::scheduler_says;
use crate::chain::{is_finished, pod_state, ClaimChain, PodChain};
use crate::events;
use crate::model::{age, Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "claim-terminating",
    title: "the claim is being deleted and waits for the pods that use it to go",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/claim-terminating.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    let deleted = claim.metadata.deletion_timestamp.as_ref()?;
    let ns = c.namespace;
    let subject_pod = pod.map(|p| p.name);
    // What the pvc-protection controller waits for: pods scheduled to a
    // node and not finished. A pod that is not scheduled yet only waits for
    // the claim; the kubelet would refuse to start it.
    let holding: Vec<(&str, &str)> = c
        .users
        .iter()
        .filter(|p| !is_finished(p) && p.metadata.name.as_deref() != subject_pod)
        .filter_map(|p| {
            let node = p
                .spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .filter(|n| !n.is_empty())?;
            Some((p.metadata.name.as_deref()?, node))
        })
        .collect();
    let holders: Vec<&str> = holding.iter().map(|(p, _)| *p).collect();
    let holders_on_nodes: Vec<String> = holding
        .iter()
        .map(|(p, node)| format!("{p} (on node {node})"))
        .collect();
    // Finished pods the pvc-protection controller of some versions still
    // counts: named only when no unfinished pod holds the claim.
    let finished: Vec<(&str, String)> = c
        .users
        .iter()
        .filter(|p| is_finished(p) && p.metadata.name.as_deref() != subject_pod)
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some_and(|n| !n.is_empty())
        })
        .filter_map(|p| {
            let name = p.metadata.name.as_deref()?;
            Some((name, format!("{name} ({})", pod_state(p))))
        })
        .collect();
    let finished = if holders.is_empty() {
        finished
    } else {
        Vec::new()
    };
    let running = pod.is_some_and(|p| p.healthy);
    let subject_finished = pod.is_some_and(|p| is_finished(p.pod));
    let summary = match (pod, running) {
        (Some(p), _) if subject_finished => format!(
            "pod {ns}/{} has finished ({}); its claim {} is being deleted",
            p.name,
            pod_state(p.pod),
            c.name
        ),
        (Some(p), true) => format!(
            "claim {ns}/{} is being deleted while pod {} still uses it: the pod loses its volume when it stops, and cannot be restarted with it",
            c.name, p.name
        ),
        (Some(p), false) => format!(
            "pod {ns}/{} cannot start: its claim {} is being deleted{}",
            p.name,
            c.name,
            if holders.is_empty() {
                String::new()
            } else {
                format!(" and is kept alive only by {}", holders_on_nodes.join(", "))
            }
        ),
        (None, _) => format!(
            "claim {ns}/{} has been terminating for {}",
            c.name,
            age(deleted.0, ctx.snap.now)
        ),
    };
    let mut cause = Cause::new(&RULE, summary)
        .object(c.object())
        .evidence(format!(
            "claim {ns}/{} has deletionTimestamp {} ({} ago) and finalizers [{}]",
            c.name,
            deleted.0,
            age(deleted.0, ctx.snap.now),
            claim
                .metadata
                .finalizers
                .clone()
                .unwrap_or_default()
                .join(", ")
        ));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if running {
        cause = cause.severity(Severity::Warning);
    }
    for h in &holders {
        cause = cause.object(ObjectRef::pod(ns, h));
    }
    if !holders.is_empty() {
        cause = cause.evidence(format!(
            "pods still using it on their nodes (the pvc-protection finalizer waits for them): {}",
            holders_on_nodes.join(", ")
        ));
    }
    if !finished.is_empty() {
        let names: Vec<&str> = finished.iter().map(|(_, line)| line.as_str()).collect();
        cause = cause.confidence(Confidence::Medium).evidence(format!(
            "no unfinished pod uses it; finished pods still reference it: {} (the pvc-protection controller of some Kubernetes versions waits for them too)",
            names.join(", ")
        ));
        for (name, _) in &finished {
            cause = cause.object(ObjectRef::pod(ns, name));
        }
    }
    if let Some(line) = scheduler_says(
        pod,
        |k| matches!(k, ReasonKind::ClaimBeingDeleted(n) if n == &c.name),
    ) {
        cause = cause.evidence(line);
    }
    if let Some(e) = pod.and_then(|p| {
        p.events
            .iter()
            .find(|e| events::message(e).contains("is being deleted"))
    }) {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    let reclaim = c
        .volume
        .and_then(|v| v.spec.as_ref())
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Delete");
    if let Some(pv) = c.volume.and_then(|v| v.metadata.name.as_deref()) {
        if reclaim == "Delete" {
            cause = cause.fix(format!(
                "DATA RISK: once the last pod stops, the claim goes and PV {pv} (reclaimPolicy Delete) is deleted with its data. To keep the data, first: kubectl patch pv {pv} -p '{{\"spec\":{{\"persistentVolumeReclaimPolicy\":\"Retain\"}}}}'"
            ));
        } else {
            cause = cause.evidence(format!(
                "PV {pv} has reclaimPolicy {reclaim}: the data stays when the claim goes"
            ));
        }
    }
    if !finished.is_empty() {
        let names: Vec<&str> = finished.iter().map(|(name, _)| *name).collect();
        cause = cause.fix(format!(
            "delete the finished pods that reference it (their logs go with them), so the claim can go: {} delete pod {}",
            kubectl_ns(ns),
            names.join(" ")
        ));
    }
    let subject_stops = pod.filter(|p| p.node_name.is_some() && !subject_finished);
    cause = cause.fix(format!(
        "a deletion cannot be cancelled: let it finish (stop {}), then recreate the claim{}; with the volume retained, bind the new claim to it by clearing the PV's claimRef and setting spec.volumeName",
        match (holders.is_empty(), subject_stops) {
            (true, Some(p)) => p.name.to_string(),
            (true, None) => "the pods using it".to_string(),
            (false, Some(p)) => format!("{}, {}", p.name, holders.join(", ")),
            (false, None) => holders.join(", "),
        },
        if reclaim == "Delete" { "" } else { " and rebind the retained PV" }
    ));
    cause = cause.fix(format!(
        "find who deleted it: {} get events --field-selector involvedObject.name={}, or the audit log",
        kubectl_ns(ns),
        c.name
    ));
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn a_pod_waiting_for_the_claim_does_not_hold_it() {
        let waiting = "0/3 nodes are available: persistentvolumeclaim \"data\" is being deleted.";
        let snap = snapshot(|o| {
            o.claims.push(deleting(pvc("data").bound("pv-1")));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods
                .push(pod("old").claim("data").running().on_node("node-2"));
            o.pods
                .push(pod("new-a").claim("data").unschedulable(waiting));
            o.pods
                .push(pod("new-b").claim("data").unschedulable(waiting));
            o.pods.push(
                pod("done")
                    .claim("data")
                    .phase("Succeeded")
                    .on_node("node-1"),
            );
        });
        let c = causes(&RULE, &snap);
        let a = c.iter().find(|c| c.summary.contains("new-a")).unwrap();
        assert!(
            a.summary
                .ends_with("kept alive only by old (on node node-2)"),
            "{}",
            a.summary
        );
        assert!(!text(a).contains("new-b"), "{}", text(a));
        assert!(!text(a).contains("done"), "{}", text(a));
    }

    #[test]
    fn finished_pods_are_named_when_nothing_else_holds_the_claim() {
        let snap = snapshot(|o| {
            o.claims.push(deleting(pvc("data").bound("pv-1")));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("job-a")
                    .claim("data")
                    .phase("Succeeded")
                    .on_node("node-1"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("finished pods still reference it: job-a"), "{t}");
        assert!(t.contains("delete pod job-a"), "{t}");
    }

    fn deleting(
        mut c: k8s_openapi::api::core::v1::PersistentVolumeClaim,
    ) -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
        c.metadata.deletion_timestamp = Some(time("2026-11-20T10:05:00Z"));
        c.metadata.finalizers = Some(vec!["kubernetes.io/pvc-protection".into()]);
        c
    }

    #[test]
    fn names_the_pod_keeping_it_alive_and_the_data_risk() {
        let snap = snapshot(|o| {
            o.claims.push(deleting(pvc("data").bound("pv-1")));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(pod("old-worker").claim("data").running());
            o.pods.push(pod("new-worker").claim("data").unschedulable(
                "0/3 nodes are available: persistentvolumeclaim \"data\" is being deleted. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 2);
        let new = c.iter().find(|c| c.summary.contains("new-worker")).unwrap();
        assert_eq!(new.severity, Severity::Error);
        assert!(
            new.summary
                .contains("kept alive only by old-worker (on node node-1)"),
            "{}",
            new.summary
        );
        assert!(new.fix[0].starts_with("DATA RISK"), "{:?}", new.fix);
        let old = c
            .iter()
            .find(|c| c.summary.contains("while pod old-worker"))
            .unwrap();
        assert_eq!(old.severity, Severity::Warning);
    }
}
