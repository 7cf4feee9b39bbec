//! `snapshot-not-ready`: the snapshot a claim restores from exists but is
//! not ready to use (still being cut, failed, no class, content gone). A
//! snapshot that failed or stays unready is also a subject of its own, so
//! a failing backup shows without any claim restoring from it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::data_source::{
    failure_saying, older_than_grace, snapshot_trouble, waiting_source,
};
use super::support::evidence::{claim_state_line, gap_lines};
use crate::api::Event;
use crate::chain::{Chain, ClaimChain};
use crate::events;
use crate::events::NormalEvent;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::volume_snapshot::VolumeSnapshot;

pub const RULE: Rule = Rule {
    id: "snapshot-not-ready",
    title: "the VolumeSnapshot is not ready to use",
    severity: Severity::Error,
    link: Link::ClaimToSource,
    check: Check::Subject(check),
    normal_events: &[NormalEvent::all_about("VolumeSnapshot")],
    runbook: include_str!("../../docs/runbooks/snapshot-not-ready.md"),
};

/// What the provisioner says when the snapshot exists but cannot be used yet.
const NOT_READY_WORDINGS: &[&str] = &[
    "is not Ready",
    "not bound",
    "is currently being created",
    "is not available",
    "is being deleted",
];

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    if let Some(vs) = chain.snapshot {
        return subject(ctx, vs).into_iter().collect();
    }
    chain
        .claims
        .iter()
        .filter_map(|c| restore(ctx, c, chain))
        .collect()
}

/// A snapshot as a subject: warning, since nothing waits on it yet.
fn subject(ctx: &Ctx, vs: &VolumeSnapshot) -> Option<Cause> {
    if !crate::chain::snapshot_in_trouble(ctx.snap, vs) {
        return None;
    }
    let ns = vs.metadata.namespace.as_deref().unwrap_or("");
    let name = vs.metadata.name.as_deref().unwrap_or("");
    let t = snapshot_trouble(ctx, vs);
    let mut cause = Cause::new(
        &RULE,
        format!("VolumeSnapshot {ns}/{name} is not usable: {}", t.state),
    )
    .severity(Severity::Warning)
    .evidence_all(t.evidence)
    .confidence(if t.fault {
        Confidence::High
    } else {
        Confidence::Medium
    });
    for o in t.objects {
        cause = cause.object(o);
    }
    for f in t.fix {
        cause = cause.fix(f);
    }
    Some(cause)
}

fn restore(ctx: &Ctx, c: &ClaimChain, chain: &Chain) -> Option<Cause> {
    let src = waiting_source(c)?;
    if !src.source.is_snapshot() {
        return None;
    }
    let event = failure_saying(c, NOT_READY_WORDINGS);
    let Some(vs) = src.snapshot else {
        return unread(ctx, c, chain, event?);
    };
    let content_gone = crate::chain::snapshot_content_gone(ctx.snap, vs);
    let unusable =
        vs.ready() != Some(true) || vs.metadata.deletion_timestamp.is_some() || content_gone;
    if !unusable && event.is_none() {
        return None;
    }
    let t = snapshot_trouble(ctx, vs);
    // Still being cut, within the grace period and with no word from the
    // provisioner: the restore simply waits.
    if !t.fault && event.is_none() && !older_than_grace(ctx, vs) {
        return None;
    }
    let ns = c.namespace;
    let name = src.source.name;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} restores from VolumeSnapshot {name}, which is not ready to use ({})",
            c.name, t.state
        ),
    )
    .object(c.object())
    .evidence(claim_state_line(ctx, c));
    if let Some(p) = &chain.pod {
        cause = cause.object(p.object());
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    cause = cause.evidence_all(t.evidence);
    for o in t.objects {
        cause = cause.object(o);
    }
    for f in t.fix {
        cause = cause.fix(f);
    }
    cause = cause.fix(format!(
        "the restore retries by itself once the snapshot is readyToUse: watch {} get volumesnapshot {name} and {} describe pvc {}",
        kubectl_ns(src.namespace),
        kubectl_ns(ns),
        c.name
    ));
    Some(cause)
}

/// The snapshot kinds could not be read, and the provisioner says the
/// snapshot is not ready: its word, and what could not be seen.
fn unread(ctx: &Ctx, c: &ClaimChain, chain: &Chain, event: &Event) -> Option<Cause> {
    let resources = ["volumesnapshots", "volumesnapshotcontents"];
    if ctx.snap.has(resources[0]) {
        return None;
    }
    let ns = c.namespace;
    let src = c.source.as_ref()?;
    let name = src.source.name;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} restores from VolumeSnapshot {name}, which the provisioner reports not ready to use",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::volume_snapshot(src.namespace, name))
    .evidence(claim_state_line(ctx, c))
    .evidence(events::quote(event, ctx.snap.now))
    .evidence_all(gap_lines(ctx, &resources));
    if let Some(p) = &chain.pod {
        cause = cause.object(p.object());
    }
    Some(
        cause
            .fix(format!(
                "the snapshot's own error could not be read here: {} get volumesnapshot {name} -o yaml (status.error) as a user who may read snapshot.storage.k8s.io, and fix what it says",
                kubectl_ns(src.namespace)
            ))
            .fix(format!(
                "the restore retries by itself once the snapshot is readyToUse: {} describe pvc {}",
                kubectl_ns(ns),
                c.name
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::volume_snapshot::SnapshotError;

    fn failing(mut vs: VolumeSnapshot, message: &str) -> VolumeSnapshot {
        vs.status.as_mut().unwrap().error = Some(SnapshotError {
            message: Some(message.into()),
            time: None,
        });
        vs
    }

    #[test]
    fn a_restore_from_a_failed_snapshot() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.snapshots.push(failing(
                volume_snapshot("nightly", false),
                "Failed to check and update snapshot content: failed to take snapshot of the volume vol-1: \"rpc error: code = Internal desc = quota\"",
            ));
            o.snapshot_contents
                .push(snapshot_content("nightly", "x.csi.io", false));
            o.snapshot_classes
                .push(snapshot_class("csi-snap", "x.csi.io"));
        });
        let c = causes(&RULE, &snap);
        let claim = c.iter().find(|c| c.summary.starts_with("claim")).unwrap();
        assert_eq!(claim.severity, Severity::Error);
        assert!(
            claim.summary.contains("failed: Internal: quota"),
            "{}",
            claim.summary
        );
        assert!(text(claim).contains("status.error"));
    }

    #[test]
    fn unreadable_snapshots_leave_the_provisioners_word_and_the_gap() {
        let mut snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.events.push(
                event("ProvisioningFailed", "failed to provision volume with StorageClass \"x\": error getting handle for DataSource Type VolumeSnapshot by Name nightly: snapshot nightly is not Ready")
                    .warning()
                    .about("PersistentVolumeClaim", "default", "restored"),
            );
        });
        // Missing, with the kinds read: data-source-not-found's to say.
        assert!(causes(&RULE, &snap).is_empty());
        snap.gaps.push(crate::snapshot::Gap {
            resource: "volumesnapshots".into(),
            reason: "Forbidden".into(),
            message: "forbidden".into(),
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary
                .contains("which the provisioner reports not ready"),
            "{}",
            c[0].summary
        );
        assert!(text(&c[0]).contains("volumesnapshots could not be read (Forbidden)"));
    }

    #[test]
    fn a_ready_snapshot_or_one_just_taken_is_no_finding() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.snapshots.push(volume_snapshot("nightly", true));
            o.snapshot_contents
                .push(snapshot_content("nightly", "x.csi.io", true));
            o.snapshot_classes
                .push(snapshot_class("csi-snap", "x.csi.io"));
        });
        assert!(causes(&RULE, &snap).is_empty());
        let snap = snapshot(|o| {
            o.claims.push(pvc("restored").restored_from("nightly"));
            o.snapshots.push(volume_snapshot("nightly", false));
            o.snapshot_contents
                .push(snapshot_content("nightly", "x.csi.io", false));
            o.snapshot_classes
                .push(snapshot_class("csi-snap", "x.csi.io"));
            o.events.push(event("X", "y").at("2026-11-20T10:01:00Z"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_snapshot_without_a_class_is_a_subject_of_its_own() {
        let mut vs = volume_snapshot("nightly", false);
        vs.spec.as_mut().unwrap().volume_snapshot_class_name = None;
        vs.status
            .as_mut()
            .unwrap()
            .bound_volume_snapshot_content_name = None;
        let snap = snapshot(|o| {
            o.snapshots.push(vs);
            o.snapshot_classes.push(snapshot_class("other", "y.csi.io"));
            o.events.push(event("X", "y").at("2026-11-20T11:00:00Z"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Warning);
        assert!(text(&c[0]).contains("no default one"), "{}", text(&c[0]));
    }

    #[test]
    fn a_snapshot_whose_content_is_gone() {
        let snap = snapshot(|o| {
            o.snapshots.push(volume_snapshot("nightly", true));
            o.snapshot_contents
                .push(snapshot_content("other", "x.csi.io", true));
        });
        let c = causes(&RULE, &snap);
        assert!(c[0].summary.contains("content is gone"), "{}", c[0].summary);
    }
}
