//! `populator-missing`: `dataSourceRef` names a kind that neither the CSI
//! provisioner (snapshots, claims) nor any installed volume populator
//! serves, so the claim waits for ever.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::data_source::waiting_source;
use super::support::evidence::claim_state_line;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "populator-missing",
    title: "no volume populator serves the kind the claim's dataSourceRef names",
    severity: Severity::Error,
    link: Link::ClaimToSource,
    check: Check::Claim(check),
    normal_events: &[
        AT_WORK[0],
        AT_WORK[1],
        AT_WORK[2],
        AT_WORK[3],
        NormalEvent::about_claims("ExternalProvisioning"),
    ],
    runbook: include_str!("../../docs/runbooks/populator-missing.md"),
};

/// How long a populated claim may wait before the wait is a fault.
/// What a populator at work posts on the claim (lib-volume-populator's
/// Normal events).
const AT_WORK: [NormalEvent; 4] = [
    NormalEvent::about_claims("PopulatorCreated"),
    NormalEvent::about_claims("PopulatorFinished"),
    NormalEvent::about_claims("PopulateOperationStartSuccess"),
    NormalEvent::about_claims("PopulateOperationFinished"),
];

const GRACE_SECONDS: i64 = 5 * 60;

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let src = waiting_source(c)?;
    let s = &src.source;
    if !s.is_populated() {
        return None;
    }
    let timeline = Timeline::new(&c.events);
    let working = c.events.iter().any(|e| {
        !events::is_warning(e)
            && AT_WORK
                .iter()
                .any(|w| w.reason() == Some(events::reason(e)))
    });
    if working {
        return None;
    }
    let unrecognized = timeline.latest("UnrecognizedDataSourceKind");
    let assumed = c.events.iter().copied().find(|e| {
        events::message(e).contains("Assuming an external populator")
            || events::message(e).contains("assuming an external populator")
    });
    let old_enough = c
        .claim
        .and_then(|x| x.metadata.creation_timestamp.as_ref())
        .is_some_and(|t| ctx.snap.now.duration_since(t.0).as_secs() > GRACE_SECONDS);
    if unrecognized.is_none() && !old_enough {
        return None;
    }
    let ns = c.namespace;
    let what = s.describe();
    let group = if s.api_group.is_empty() {
        "core".to_string()
    } else {
        s.api_group.to_string()
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} is to be filled from {what}, but no volume populator serves kind {} of group {group}",
            c.name, s.kind
        ),
    )
    .object(c.object())
    .object(ObjectRef::namespaced(s.kind, src.namespace, s.name))
    .evidence(claim_state_line(ctx, c));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    for e in [unrecognized, assumed].into_iter().flatten() {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(e) = timeline.latest("ExternalProvisioning") {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if unrecognized.is_none() {
        cause = cause
            .evidence("no populator has reported on the claim (no Populator* event)".to_string())
            .confidence(Confidence::Medium);
    }
    cause = cause
        .fix(format!("install the populator controller for {}.{} and register it with a VolumePopulator (kubectl get volumepopulators; the volume-data-source-validator reports unregistered kinds)", s.kind, s.api_group))
        .fix(format!("or, if the data should come from a snapshot or another claim, recreate claim {} with dataSourceRef naming a VolumeSnapshot (group snapshot.storage.k8s.io) or a PersistentVolumeClaim ({} get pvc {} -o yaml > pvc.yaml, edit, delete, apply; a Pending claim holds no data)", c.name, kubectl_ns(ns), c.name));
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn claim() -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
        pvc("seeded").populated_from("hello.example.com", "Hello", "greeting")
    }

    #[test]
    fn the_validator_names_an_unregistered_kind() {
        let snap = snapshot(|o| {
            o.claims.push(claim());
            o.events.push(
                event(
                    "UnrecognizedDataSourceKind",
                    "The datasource for this PVC does not match any registered VolumePopulator",
                )
                .warning()
                .at("2026-11-20T10:01:00Z")
                .about("PersistentVolumeClaim", "default", "seeded"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c[0].confidence, Confidence::High);
        assert!(
            c[0].summary.contains("Hello.hello.example.com greeting"),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn a_young_claim_or_a_working_populator_is_no_finding() {
        let snap = snapshot(|o| {
            o.claims.push(claim());
            o.events.push(event("X", "y").at("2026-11-20T10:01:00Z"));
        });
        assert!(causes(&RULE, &snap).is_empty());
        let snap = snapshot(|o| {
            o.claims.push(claim());
            o.events.push(
                event("PopulatorCreated", "Populator started")
                    .at("2026-11-20T10:30:00Z")
                    .about("PersistentVolumeClaim", "default", "seeded"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_long_wait_with_no_populator_is_a_finding() {
        let snap = snapshot(|o| {
            o.claims.push(claim());
            o.events.push(
                event(
                    "Provisioning",
                    "Assuming an external populator will provision the volume",
                )
                .at("2026-11-20T10:30:00Z")
                .about("PersistentVolumeClaim", "default", "seeded"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c[0].confidence, Confidence::Medium);
    }
}
