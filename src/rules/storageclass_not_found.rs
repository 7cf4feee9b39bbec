//! `storageclass-not-found`: the claim names a StorageClass that does not exist.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::classes::suggest;
use super::support::commands::kubectl_ns;
use super::support::evidence::{claim_state_line, gap_lines, scheduler_says};
use super::support::names::{class_list, closest};
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "storageclass-not-found",
    title: "the claim names a StorageClass that does not exist",
    severity: Severity::Error,
    link: Link::ClaimToClass,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("ExternalProvisioning"),
        NormalEvent::about_claims("Provisioning"),
    ],
    runbook: include_str!("../../docs/runbooks/storageclass-not-found.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let class_name = c.class_name()?;
    if c.claim.is_none() || c.class.is_some() || c.is_bound() {
        return None;
    }
    let ns = c.namespace;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} asks for StorageClass \"{class_name}\", which does not exist",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::class(class_name))
    .evidence(claim_state_line(ctx, c));
    if let Some(pod) = pod {
        cause = cause.object(pod.object());
    }
    let timeline = Timeline::new(&c.events);
    let event = timeline
        .current("ProvisioningFailed")
        .filter(|e| events::message(e).contains("not found"));
    match event {
        Some(e) => cause = cause.evidence(events::quote(e, ctx.snap.now)),
        None => {
            cause = cause.evidence(format!(
                "no StorageClass named \"{class_name}\" exists (seen from object state; no ProvisioningFailed event in the input)"
            ))
        }
    }
    if let Some(line) = scheduler_says(pod, |k| {
        matches!(
            k,
            ReasonKind::UnboundImmediateClaims | ReasonKind::VolumeBindingError
        )
    }) {
        cause = cause.evidence(format!(
            "{line} (a claim whose class is missing counts as Immediate binding, so the pod waits for it)"
        ));
    }
    if !ctx.snap.has("storageclasses") {
        cause = cause
            .confidence(Confidence::Low)
            .evidence_all(gap_lines(ctx, &["storageclasses"]));
        return Some(cause);
    }
    let existing = class_list(ctx.snap);
    cause = cause.evidence(format!("StorageClasses in the cluster: {existing}"));
    // A class that can serve the claim: the one whose name the claim's is a
    // typo of, else the default, else one whose driver serves its modes.
    let usable = suggest(ctx, &c.access_modes(), c.volume_mode(), None, false);
    let names: Vec<&str> = ctx
        .snap
        .objects
        .classes
        .iter()
        .filter_map(|sc| sc.metadata.name.as_deref())
        .collect();
    let suggestion = closest(class_name, usable.iter().map(|s| s.name))
        .or_else(|| usable.first().map(|s| s.name))
        .or_else(|| closest(class_name, names.iter().copied()));
    let target = suggestion.unwrap_or("<an existing class>");
    if let Some(s) = suggestion {
        cause = cause.object(ObjectRef::class(s));
    }
    cause = cause.fix(format!(
        "storageClassName cannot be changed on an existing claim: recreate it with an existing class. The claim is not bound, so no data is lost: {k} get pvc {n} -o yaml > {n}.yaml; set spec.storageClassName: {target} (and drop metadata.uid, resourceVersion, status); {k} delete pvc {n}; {k} apply -f {n}.yaml",
        k = kubectl_ns(ns),
        n = c.name
    ));
    cause = cause.fix(format!(
        "or, if \"{class_name}\" is the class that should exist, create a StorageClass named {class_name} with the provisioner and parameters meant for it; the claim then provisions as it is"
    ));
    if let Some(pod) = pod {
        if let Some(owner) =
            crate::chain::owner_of(ctx.snap, pod.pod).filter(|o| o.kind == "StatefulSet")
        {
            cause = cause.fix(format!(
                "the claim comes from {}'s volumeClaimTemplates: fix storageClassName there too, or new replicas get the same claim (volumeClaimTemplates cannot be edited: {} delete {} --cascade=orphan, then re-apply it with the class changed)",
                owner.kubectl_name(),
                kubectl_ns(ns),
                owner.kubectl_name()
            ));
        }
    }
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn missing_class_names_the_existing_ones_and_the_default() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("standard", "rancher.io/local-path").default_class());
            o.claims.push(pvc("scratch").class("fast-ssd"));
            o.pods.push(pod("preprocess").claim("scratch").unschedulable(
                "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
            ));
            o.events.push(
                event(
                    "ProvisioningFailed",
                    "storageclass.storage.k8s.io \"fast-ssd\" not found",
                )
                .warning()
                .about("PersistentVolumeClaim", "default", "scratch"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("standard (default)"), "{t}");
        assert!(t.contains("storageClassName: standard"), "{t}");
        assert!(t.contains("event Warning ProvisioningFailed"), "{t}");
        assert!(t.contains("unbound immediate"), "{t}");
    }

    #[test]
    fn typo_of_a_class_is_suggested_over_the_default() {
        let snap = snapshot(|o| {
            o.classes.push(class("standard", "x").default_class());
            o.classes.push(class("fast-ssd", "y"));
            o.claims.push(pvc("a").class("fast-sdd"));
        });
        assert!(text(&causes(&RULE, &snap)[0]).contains("storageClassName: fast-ssd"));
    }

    #[test]
    fn without_default_or_typo_the_first_class_by_name_is_suggested() {
        for order in [["zfs", "gp3"], ["gp3", "zfs"]] {
            let snap = snapshot(|o| {
                for name in order {
                    o.classes.push(class(name, "x"));
                }
                o.claims.push(pvc("a").class("fast-ssd"));
            });
            let t = text(&causes(&RULE, &snap)[0]);
            assert!(t.contains("storageClassName: gp3"), "{order:?}: {t}");
        }
    }

    #[test]
    fn bound_claim_or_existing_class_is_fine() {
        let snap = snapshot(|o| {
            o.classes.push(class("standard", "x"));
            o.claims.push(pvc("a").class("standard"));
            o.claims.push(pvc("b").class("gone").bound("pv-b"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
