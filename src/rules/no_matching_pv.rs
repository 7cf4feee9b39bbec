//! `no-matching-pv`: static provisioning, and no Available PV fits the claim.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::evidence::{claim_state_line, scheduler_says};
use super::support::matching::candidates;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;
use crate::snapshot::claim_names;

pub const RULE: Rule = Rule {
    id: "no-matching-pv",
    title: "static provisioning: no Available PersistentVolume matches the claim",
    severity: Severity::Error,
    link: Link::ClaimToVolume,
    check: Check::Claim(check),
    normal_events: &[NormalEvent::about_claims("FailedBinding")],
    runbook: include_str!("../../docs/runbooks/no-matching-pv.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let class = c.class?;
    if !c.is_pending() || c.volume.is_some() || c.pre_bound().is_some() {
        return None;
    }
    let static_only = class.provisioner == "kubernetes.io/no-provisioner"
        || ctx
            .drivers
            .get(&class.provisioner)
            .is_some_and(|d| d.static_only);
    if !static_only {
        return None;
    }
    let class_name = class.metadata.name.as_deref().unwrap_or("");
    let timeline = Timeline::new(&c.events);
    let said = scheduler_says(pod, |k| *k == ReasonKind::NoVolumeToBind);
    let failed_binding = timeline.current("FailedBinding");
    let (lines, fits) = candidates(ctx, c, class_name);
    if c.is_wait_for_first_consumer() && said.is_none() {
        // Binding waits for the pod to be scheduled; nothing failed yet
        // unless no volume fits at all and a pod is waiting for one.
        if fits > 0 || pod.is_none() {
            return None;
        }
    } else if fits > 0 && said.is_none() && failed_binding.is_none() {
        return None;
    }
    let ns = c.namespace;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "no PersistentVolume of class \"{class_name}\" can bind claim {ns}/{}: the class provisions nothing ({}), so a matching PV must exist",
            c.name, class.provisioner
        ),
    )
    .object(c.object())
    .object(ObjectRef::class(class_name))
    .evidence(claim_state_line(ctx, c));
    if let Some(line) = said {
        cause = cause.evidence(line);
    }
    if let Some(e) = failed_binding {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if lines.is_empty() && fits == 0 {
        cause = cause.evidence(format!("there are no PVs of class \"{class_name}\""));
    } else {
        cause = cause.evidence_all(lines.iter().map(|l| format!("closest: {l}")));
    }
    // Claims of the same pod that wait for a PV of this class: they must all
    // bind at once, to PVs on the one node the pod runs on.
    let waiting_together = pod.map_or(1, |p| {
        claim_names(p.pod)
            .iter()
            .filter_map(|u| ctx.snap.claim(ns, &u.claim))
            .filter(|other| {
                other
                    .spec
                    .as_ref()
                    .and_then(|s| s.storage_class_name.as_deref())
                    == Some(class_name)
                    && other
                        .spec
                        .as_ref()
                        .and_then(|s| s.volume_name.as_deref())
                        .is_none()
            })
            .count()
    });
    if fits > 0 && waiting_together > fits {
        cause = cause.evidence(format!(
            "pod {ns}/{} needs {waiting_together} PVs of class \"{class_name}\" at once, all on the node it runs on; {fits} PV(s) fit a claim",
            pod.map_or("", |p| p.name)
        ));
    } else if fits > 0 {
        cause = cause.evidence(format!(
            "{fits} PV(s) fit the claim itself, but none on a node the pod can use"
        ));
    }
    let modes = c.access_modes().join(", ");
    cause = cause.fix(format!(
        "create a PersistentVolume for it: storageClassName: {class_name}, capacity.storage ≥ {}, accessModes [{modes}], volumeMode {}{}",
        c.requested_size().unwrap_or("the requested size"),
        c.volume_mode(),
        match (c.is_wait_for_first_consumer(), waiting_together > 1) {
            (true, true) => ", with nodeAffinity to a node the pod can run on, the same node as the PVs for its other claims",
            (true, false) => ", with nodeAffinity to a node the pod can run on",
            _ => "",
        }
    ));
    if !lines.is_empty() {
        cause = cause.fix(format!(
            "or change the claim to fit an existing PV (size, access modes and volumeMode cannot be edited on a Pending claim: recreate it; {} delete pvc {} loses no data since it is not bound)",
            kubectl_ns(ns),
            c.name
        ));
    }
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn explains_why_each_local_pv_does_not_fit() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("local-storage", "kubernetes.io/no-provisioner").wait_for_consumer());
            o.claims
                .push(pvc("data").class("local-storage").size("50Gi"));
            o.volumes
                .push(pv("local-a").class("local-storage").size("10Gi"));
            o.volumes.push(
                pv("local-b")
                    .class("local-storage")
                    .size("100Gi")
                    .modes(&["ReadOnlyMany"]),
            );
            o.pods.push(pod("db").claim("data").unschedulable(
                "0/3 nodes are available: 3 node(s) didn't find available persistent volumes to bind. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("PV local-a: too small: 10Gi"), "{t}");
        assert!(t.contains("PV local-b: access modes"), "{t}");
        assert!(
            t.contains("didn't find available persistent volumes"),
            "{t}"
        );
    }

    #[test]
    fn wffc_claim_without_consumer_is_not_a_failure() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("local-storage", "kubernetes.io/no-provisioner").wait_for_consumer());
            o.claims.push(pvc("data").class("local-storage"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
