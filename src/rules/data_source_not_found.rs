//! `data-source-not-found`: the claim restores or clones from something
//! that is not there: no such VolumeSnapshot or claim in the namespace, a
//! source in another namespace that may not be used, or no snapshot CRDs.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::data_source::{failure_saying, waiting_source};
use super::support::evidence::{claim_state_line, gap_lines};
use crate::chain::{ClaimChain, PodChain};
use crate::events;
use crate::events::NormalEvent;
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "data-source-not-found",
    title: "the claim's data source (snapshot or claim to clone) does not exist",
    severity: Severity::Error,
    link: Link::ClaimToSource,
    check: Check::Claim(check),
    normal_events: &[NormalEvent::all_about("VolumeSnapshot")],
    runbook: include_str!("../../docs/runbooks/data-source-not-found.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let src = waiting_source(c)?;
    let s = &src.source;
    if s.is_populated() {
        return None;
    }
    let ns = c.namespace;
    let from_ns = src.namespace;
    let (resource, missing) = if s.is_snapshot() {
        ("volumesnapshots", src.snapshot.is_none())
    } else {
        ("persistentvolumeclaims", src.claim.is_none())
    };
    let not_found_event = failure_saying(
        c,
        &[
            &format!("\"{}\" not found", s.name),
            "error getting snapshot",
            "error getting PVC",
            "the PVC source not found",
            "isn't allowed",
            "the server could not find the requested resource",
        ],
    );
    let state_known = ctx.snap.has(resource);
    if !(missing && state_known) && not_found_event.is_none() {
        return None;
    }
    // The source exists but the provisioner could not get it: only the
    // cross-namespace refusal says so; other wordings mean it is missing.
    if !missing && not_found_event.is_some_and(|e| !events::message(e).contains("isn't allowed")) {
        return None;
    }
    let what = s.describe();
    let where_ = if from_ns != ns {
        format!("namespace {from_ns} (the claim is in {ns})")
    } else {
        format!("namespace {ns}")
    };
    let refused = not_found_event.is_some_and(|e| events::message(e).contains("isn't allowed"));
    let not_installed =
        s.is_snapshot()
            && (ctx.snap.gaps.iter().any(|g| {
                g.reason == "NotInstalled" && g.resource.split(',').any(|r| r == resource)
            }) || not_found_event.is_some_and(|e| {
                events::message(e).contains("the server could not find the requested resource")
            }));
    let summary = if not_installed {
        format!(
            "claim {ns}/{} restores from VolumeSnapshot {}, but the snapshot CRDs (snapshot.storage.k8s.io) are not installed",
            c.name, s.name
        )
    } else if refused {
        format!(
            "claim {ns}/{} may not use {what} from namespace {from_ns}: cross-namespace data sources are not allowed for it",
            c.name
        )
    } else {
        format!(
            "claim {ns}/{} is filled from {what}, which does not exist in {where_}",
            c.name
        )
    };
    let mut cause = Cause::new(&RULE, summary)
        .object(c.object())
        .object(ObjectRef::namespaced(s.kind, from_ns, s.name))
        .evidence(claim_state_line(ctx, c));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(e) = not_found_event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if missing && state_known {
        cause = cause.evidence(format!(
            "no {} named \"{}\" in {where_} (from object state)",
            s.kind, s.name
        ));
    }
    if !state_known {
        cause = cause.evidence_all(gap_lines(ctx, &[resource]));
        if not_found_event.is_none() {
            cause = cause.confidence(Confidence::Medium);
        }
    }
    let kn = kubectl_ns(from_ns);
    cause = if refused {
        cause
            .fix(format!("a source in another namespace needs the CrossNamespaceVolumeDataSource feature gate and a ReferenceGrant in {from_ns} that allows PersistentVolumeClaims from {ns} to use it; or copy the data into {ns} and restore from there"))
    } else if not_installed {
        cause.fix("the snapshot CRDs (snapshot.storage.k8s.io) are not installed on this cluster, so no VolumeSnapshot can exist: install the external-snapshotter CRDs and snapshot-controller (or the cloud's add-on), take the snapshot, then recreate the claim".to_string())
    } else if s.is_snapshot() {
        cause
            .fix(format!("list the snapshots that exist: {kn} get volumesnapshot; a claim restores only from a snapshot in its own namespace"))
            .fix(format!("spec.dataSource cannot be changed: recreate claim {} naming an existing, readyToUse snapshot ({} get pvc {} -o yaml > pvc.yaml, edit dataSource and dataSourceRef, {} delete pvc {}, then apply; the claim is Pending and holds no data)", c.name, kubectl_ns(ns), c.name, kubectl_ns(ns), c.name))
    } else {
        cause
            .fix(format!("list the claims that exist: {kn} get pvc; a clone's source claim must be in the same namespace, Bound, and use the same CSI driver"))
            .fix(format!("spec.dataSource cannot be changed: recreate claim {} naming the right source claim ({} get pvc {} -o yaml > pvc.yaml, edit dataSource and dataSourceRef, {} delete pvc {}, then apply)", c.name, kubectl_ns(ns), c.name, kubectl_ns(ns), c.name))
    };
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::snapshot::Gap;

    #[test]
    fn a_restore_from_a_snapshot_that_is_not_there() {
        let snap = snapshot(|o| {
            o.classes.push(class("csi", "x.csi.io"));
            o.claims
                .push(pvc("restored").class("csi").restored_from("nightly"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary
                .contains("VolumeSnapshot nightly, which does not exist"),
            "{}",
            c[0].summary
        );
        assert_eq!(c[0].confidence, Confidence::High);
    }

    #[test]
    fn an_existing_snapshot_or_a_bound_claim_is_no_finding() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.snapshots.push(volume_snapshot("nightly", true));
        });
        assert!(causes(&RULE, &snap).is_empty());
        let snap = snapshot(|o| {
            o.claims
                .push(pvc("restored").restored_from("gone").bound("pv-1"))
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn unreadable_snapshots_need_the_provisioners_word() {
        let gap = Gap {
            resource: "volumesnapshots".into(),
            reason: "Forbidden".into(),
            message: "forbidden".into(),
        };
        let mut snap = snapshot(|o| o.claims.push(pvc("restored").restored_from("nightly")));
        snap.gaps.push(gap.clone());
        assert!(causes(&RULE, &snap).is_empty());
        let mut snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.events.push(event("ProvisioningFailed", "error getting handle for DataSource Type VolumeSnapshot by Name nightly: error getting snapshot nightly from api server: volumesnapshots.snapshot.storage.k8s.io \"nightly\" not found").warning().about("PersistentVolumeClaim", "default", "restored"));
        });
        snap.gaps.push(gap);
        // The provisioner's own "not found" is direct evidence.
        let c = causes(&RULE, &snap);
        assert_eq!(c[0].confidence, Confidence::High);
        assert!(text(&c[0]).contains("could not be read"));
    }

    #[test]
    fn a_clone_of_a_missing_claim() {
        let snap = snapshot(|o| o.claims.push(pvc("copy").clone_of("orig")));
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("PersistentVolumeClaim orig"),
            "{}",
            c[0].summary
        );
    }
}
