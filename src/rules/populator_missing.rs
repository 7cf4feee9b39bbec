//! `populator-missing`: `dataSourceRef` names a kind that neither the CSI
//! provisioner (snapshots, claims) nor any installed volume populator
//! serves, so the claim waits for ever.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::data_source::waiting_source;
use super::support::evidence::{claim_state_line, gap_lines};
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::kinds::VOLUME_POPULATOR;
use crate::model::{age, Confidence, Link, ObjectRef, Severity};
use crate::volume_populator::VolumePopulator;

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

/// What the cluster's VolumePopulators say about the kind a claim names.
enum Registration<'a> {
    /// These register it: a populator is meant to serve the kind.
    Registered(Vec<&'a VolumePopulator>),
    /// None does; the kinds that are registered.
    Unregistered(Vec<String>),
    /// The CRD is not installed: nothing is registered, and no validator
    /// checks data sources.
    NotInstalled,
    /// They could not be read, or the capture holds none.
    Unknown,
}

fn registration<'a>(ctx: &Ctx<'a>, group: &str, kind: &str) -> Registration<'a> {
    let gap = ctx.snap.gaps.iter().find(|g| {
        g.resource
            .split(',')
            .any(|r| r == VOLUME_POPULATOR.resource)
    });
    match gap {
        Some(g) if g.reason == "NotInstalled" => Registration::NotInstalled,
        Some(_) => Registration::Unknown,
        None => {
            let found = ctx.snap.populators_of(group, kind);
            if found.is_empty() {
                let mut others: Vec<String> = ctx
                    .snap
                    .objects
                    .populators
                    .iter()
                    .filter_map(|p| p.source_kind_name())
                    .collect();
                others.sort();
                others.dedup();
                Registration::Unregistered(others)
            } else {
                Registration::Registered(found)
            }
        }
    }
}

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
    let kind_name = if s.api_group.is_empty() {
        s.kind.to_string()
    } else {
        format!("{}.{}", s.kind, s.api_group)
    };
    let registration = registration(ctx, s.api_group, s.kind);
    let failure = c
        .events
        .iter()
        .copied()
        .filter(|e| events::reason(e).starts_with("Populat") && events::is_warning(e))
        .max_by_key(|e| events::last_seen(e));
    let summary = match &registration {
        Registration::Registered(found) => {
            let names = names_of(found);
            match failure {
                Some(e) => format!(
                    "claim {ns}/{} is to be filled from {what}; VolumePopulator {names} registers kind {} of group {group}, but the populator failed: {}",
                    c.name,
                    s.kind,
                    super::support::provisioner_errors::brief(events::message(e))
                ),
                None => format!(
                    "claim {ns}/{} is to be filled from {what}; VolumePopulator {names} registers kind {} of group {group}, but its populator controller has not acted on the claim",
                    c.name, s.kind
                ),
            }
        }
        _ => format!(
            "claim {ns}/{} is to be filled from {what}, but no volume populator serves kind {} of group {group}",
            c.name, s.kind
        ),
    };
    let mut cause = Cause::new(&RULE, summary)
        .object(c.object())
        .object(ObjectRef::namespaced(s.kind, src.namespace, s.name))
        .evidence(claim_state_line(ctx, c));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    for e in [unrecognized, assumed, failure].into_iter().flatten() {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(e) = timeline.latest("ExternalProvisioning") {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    let mut confident = unrecognized.is_some();
    match &registration {
        Registration::Registered(found) => {
            for p in found {
                cause = cause.object(ObjectRef::cluster(
                    "VolumePopulator",
                    p.metadata.name.as_deref().unwrap_or(""),
                ));
            }
            cause = cause.evidence(format!(
                "VolumePopulator {} registers {kind_name}: a populator is meant to serve it",
                names_of(found)
            ));
            if failure.is_none() {
                let waited = c
                    .claim
                    .and_then(|x| x.metadata.creation_timestamp.as_ref())
                    .map(|t| format!(" in {}", age(t.0, ctx.snap.now)))
                    .unwrap_or_default();
                cause = cause.evidence(format!(
                    "no populator has reported on the claim{waited} (no Populator* event)"
                ));
            }
            confident = failure.is_some();
        }
        Registration::Unregistered(others) => {
            let registered = if others.is_empty() {
                "there are no VolumePopulators".to_string()
            } else {
                format!("the VolumePopulators register only {}", others.join(", "))
            };
            cause = cause.evidence(format!(
                "no VolumePopulator registers {kind_name} ({registered})"
            ));
            confident = true;
        }
        Registration::NotInstalled => {
            cause = cause.evidence(format!(
                "the VolumePopulator CRD ({}) is not installed: no populator is registered, and no volume-data-source-validator checks data sources",
                crate::volume_populator::GROUP
            ));
        }
        Registration::Unknown => {
            cause = cause.evidence_all(gap_lines(ctx, &[VOLUME_POPULATOR.resource]));
        }
    }
    if unrecognized.is_none() && !matches!(registration, Registration::Registered(_)) {
        cause = cause
            .evidence("no populator has reported on the claim (no Populator* event)".to_string());
    }
    if !confident {
        cause = cause.confidence(Confidence::Medium);
    }
    cause = match &registration {
        Registration::Registered(found) => cause
            .fix(format!("the populator controller registered for {kind_name} is not filling the claim: find it (kubectl get pods -A | grep -i populator; VolumePopulator {} names no controller, so look for the one its installation documents), check that it runs and read its log; a populator ignores claims whose {} {} it cannot read", names_of(found), s.kind, s.name))
            .fix(format!("check that {} {} exists in namespace {}: {} get {} {}", s.kind, s.name, src.namespace, kubectl_ns(src.namespace), kind_name.to_lowercase(), s.name)),
        _ => cause
            .fix(format!("install the populator controller for {kind_name} and register it with a VolumePopulator (kubectl get volumepopulators; the volume-data-source-validator reports unregistered kinds)")),
    };
    cause = cause.fix(format!("or, if the data should come from a snapshot or another claim, recreate claim {} with dataSourceRef naming a VolumeSnapshot (group snapshot.storage.k8s.io) or a PersistentVolumeClaim ({} get pvc {} -o yaml > pvc.yaml, edit, delete, apply; a Pending claim holds no data)", c.name, kubectl_ns(ns), c.name));
    Some(cause)
}

/// `a`, or `a, b` for several registrations of one kind.
fn names_of(found: &[&VolumePopulator]) -> String {
    found
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect::<Vec<_>>()
        .join(", ")
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

    fn waiting(fill: impl FnOnce(&mut crate::snapshot::Objects)) -> crate::snapshot::Snapshot {
        snapshot(|o| {
            o.claims.push(claim());
            o.events.push(
                event(
                    "Provisioning",
                    "Assuming an external populator will provision the volume",
                )
                .at("2026-11-20T10:30:00Z")
                .about("PersistentVolumeClaim", "default", "seeded"),
            );
            fill(o);
        })
    }

    #[test]
    fn a_long_wait_with_no_registered_populator_is_a_finding() {
        let snap = waiting(|o| {
            o.populators.push(volume_populator(
                "cdi",
                "cdi.kubevirt.io",
                "VolumeImportSource",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c[0].confidence, Confidence::High);
        assert!(
            text(&c[0]).contains("no VolumePopulator registers Hello.hello.example.com (the VolumePopulators register only VolumeImportSource.cdi.kubevirt.io)"),
            "{}",
            text(&c[0])
        );
    }

    #[test]
    fn without_the_crd_or_its_objects_the_wait_alone_is_of_medium_confidence() {
        for (reason, says) in [
            (
                "NotInstalled",
                "CRD (populator.storage.k8s.io) is not installed",
            ),
            (
                "Forbidden",
                "volumepopulators could not be read (Forbidden)",
            ),
        ] {
            let mut snap = waiting(|_| {});
            snap.gaps.push(crate::snapshot::Gap {
                resource: "volumepopulators".into(),
                reason: reason.into(),
                message: "x".into(),
            });
            let c = causes(&RULE, &snap);
            assert_eq!(c[0].confidence, Confidence::Medium, "{reason}");
            assert!(text(&c[0]).contains(says), "{}", text(&c[0]));
        }
    }

    #[test]
    fn a_registered_populator_that_never_acts_is_named() {
        let snap = waiting(|o| {
            o.populators
                .push(volume_populator("hello", "hello.example.com", "Hello"));
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains(
                "VolumePopulator hello registers kind Hello of group hello.example.com, but its populator controller has not acted"
            ),
            "{}",
            c[0].summary
        );
        assert!(text(&c[0]).contains("no populator has reported on the claim in 30m"));
        assert_eq!(c[0].confidence, Confidence::Medium);
        // One that acted and failed is quoted.
        let snap = waiting(|o| {
            o.populators
                .push(volume_populator("hello", "hello.example.com", "Hello"));
            o.events.push(
                event(
                    "PopulatorFailed",
                    "Failed to populate volume: image pull failed",
                )
                .warning()
                .at("2026-11-20T10:20:00Z")
                .about("PersistentVolumeClaim", "default", "seeded"),
            );
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("but the populator failed"),
            "{}",
            c[0].summary
        );
        assert_eq!(c[0].confidence, Confidence::High);
    }
}
