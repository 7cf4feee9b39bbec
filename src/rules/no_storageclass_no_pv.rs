//! `no-storageclass-no-pv`: the claim has no class (`""`, or unset with no
//! default class) and no static PV matches it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::classes::suggest;
use super::support::commands::kubectl_ns;
use super::support::evidence::{claim_state_line, scheduler_says};
use super::support::matching::candidates;
use super::support::names::class_list;
use crate::chain::{ClaimChain, PodChain, RequestedClass};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "no-storageclass-no-pv",
    title: "the claim has no StorageClass and no static PersistentVolume matches it",
    severity: Severity::Error,
    link: Link::ClaimToClass,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("FailedBinding"),
        NormalEvent::about_claims("ExternalProvisioning"),
        NormalEvent::about_claims("Provisioning"),
    ],
    runbook: include_str!("../../docs/runbooks/no-storageclass-no-pv.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    if !c.is_pending() || c.volume.is_some() || c.pre_bound().is_some() {
        return None;
    }
    let defaults = ctx.snap.default_classes();
    let explicit_empty = c.requested_class == RequestedClass::Empty;
    let unset_without_default = c.requested_class == RequestedClass::Unset && defaults.is_empty();
    if !explicit_empty && !unset_without_default && c.requested_class != RequestedClass::Unset {
        return None;
    }
    let (lines, fits) = candidates(ctx, c, "");
    if fits > 0 {
        return None;
    }
    let ns = c.namespace;
    let why = if explicit_empty {
        "storageClassName is \"\", which turns dynamic provisioning off".to_string()
    } else if unset_without_default {
        "storageClassName is unset and the cluster has no default StorageClass".to_string()
    } else {
        format!(
            "storageClassName is unset; a default class ({}) exists now but was not assigned to this claim (before v1.26 the default is assigned only when a claim is created)",
            defaults
                .first()
                .and_then(|d| d.metadata.name.as_deref())
                .unwrap_or("")
        )
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} has no StorageClass and no PersistentVolume matches it: {why}",
            c.name
        ),
    )
    .object(c.object())
    .evidence(claim_state_line(ctx, c));
    if let Some(e) = Timeline::new(&c.events).current("FailedBinding") {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(line) = scheduler_says(pod, |k| {
        matches!(
            k,
            ReasonKind::UnboundImmediateClaims | ReasonKind::NoVolumeToBind
        )
    }) {
        cause = cause.evidence(line);
    }
    cause = if lines.is_empty() {
        cause.evidence("there are no PVs without a class that it could bind to")
    } else {
        cause.evidence_all(lines.iter().map(|l| format!("closest: {l}")))
    };
    let class = suggest(ctx, &c.access_modes(), c.volume_mode(), None, false)
        .first()
        .map(|s| s.name)
        .or_else(|| defaults.first().and_then(|d| d.metadata.name.as_deref()))
        .or_else(|| {
            ctx.snap
                .objects
                .classes
                .first()
                .and_then(|s| s.metadata.name.as_deref())
        });
    if c.requested_class == RequestedClass::Unset {
        if let Some(class) = class {
            cause = cause.fix(format!(
                "an unset storageClassName may be set once on a Pending claim: {} patch pvc {} -p '{{\"spec\":{{\"storageClassName\":\"{class}\"}}}}'",
                kubectl_ns(ns),
                c.name
            ));
        }
    }
    cause = cause.fix(match class {
        Some(class) => format!(
            "for a dynamically provisioned volume, recreate the claim with storageClassName: {class} (classes: {}); it is not bound, so nothing is lost: {k} get pvc {n} -o yaml > {n}.yaml, edit, {k} delete pvc {n}, {k} apply -f {n}.yaml",
            class_list(ctx.snap),
            k = kubectl_ns(ns),
            n = c.name
        ),
        None => "the cluster has no StorageClass at all: install a provisioner and a default class, or create the PV by hand".to_string(),
    });
    cause = cause.fix(format!(
        "for a pre-created volume, create a PersistentVolume with no storageClassName, capacity ≥ {}, accessModes [{}], volumeMode {}",
        c.requested_size().unwrap_or("the request"),
        c.access_modes().join(", "),
        c.volume_mode()
    ));
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn empty_class_without_pv() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").default_class());
            o.claims.push(pvc("legacy").class(""));
            o.events.push(
                event(
                    "FailedBinding",
                    "no persistent volumes available for this claim and no storage class is set",
                )
                .about("PersistentVolumeClaim", "default", "legacy"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("storageClassName: gp3"), "{t}");
        assert!(t.contains("FailedBinding"), "{t}");
    }

    #[test]
    fn a_matching_static_pv_means_no_finding() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("legacy").class(""));
            o.volumes.push(pv("nfs-1").size("5Gi"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn named_class_is_not_this_rule() {
        let snap = snapshot(|o| o.claims.push(pvc("a").class("gp3")));
        assert!(causes(&RULE, &snap).is_empty());
    }
}
