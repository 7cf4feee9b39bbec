//! `claim-lost`: the claim is Lost, its PV deleted or its volumeName
//! cleared. The data may be gone.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claims::volume_of_other;
use super::support::commands::kubectl_ns;
use super::support::evidence::scheduler_says;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "claim-lost",
    title: "the claim lost its PersistentVolume: data on it may be gone",
    severity: Severity::Critical,
    link: Link::ClaimToVolume,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/claim-lost.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    c.claim?;
    let timeline = Timeline::new(&c.events);
    let event = timeline.latest("ClaimLost");
    if c.phase() != Some("Lost") && event.is_none() {
        return None;
    }
    // The volume exists and belongs to another claim: misbound, not lost.
    if timeline.latest("ClaimMisbound").is_some() || volume_of_other(ctx, c).is_some() {
        return None;
    }
    let ns = c.namespace;
    let volume_name = c
        .claim
        .and_then(|x| x.spec.as_ref())
        .and_then(|s| s.volume_name.as_deref())
        .filter(|v| !v.is_empty());
    let mut cause = Cause::new(
        &RULE,
        match volume_name {
            Some(v) if c.volume.is_none() => format!(
                "claim {ns}/{} is Lost: its PersistentVolume {v} no longer exists, and the data on it may be gone",
                c.name
            ),
            Some(v) => format!(
                "claim {ns}/{} is Lost: PersistentVolume {v} no longer points back at it",
                c.name
            ),
            None => format!(
                "claim {ns}/{} is Lost: it no longer references a PersistentVolume",
                c.name
            ),
        },
    )
    .object(c.object())
    .evidence(format!("claim {ns}/{} is in phase {}", c.name, c.phase().unwrap_or("?")));
    if let Some(v) = volume_name {
        cause = cause.object(ObjectRef::volume(v));
        cause = cause.evidence(if ctx.snap.has("persistentvolumes") && c.volume.is_none() {
            format!("spec.volumeName is {v}, and no PersistentVolume of that name exists")
        } else {
            format!("spec.volumeName is {v}")
        });
    }
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    } else {
        cause = cause.evidence("no ClaimLost event in the input: diagnosed from the claim's phase");
    }
    if let Some(line) = scheduler_says(pod, |k| *k == ReasonKind::ClaimBoundToMissingVolume) {
        cause = cause.evidence(line);
    }
    let volume = volume_name.unwrap_or("<the volume>");
    cause = cause
        .fix(format!(
            "check whether the backing disk still exists in the storage backend (the PV object was deleted, but with reclaimPolicy Retain or a provider that keeps disks the data can survive); look up its volume handle in your records or the backend by the name {volume}"
        ))
        .fix(format!(
            "if it exists: create a PersistentVolume pointing at it (same driver and volumeHandle, same storageClassName, spec.claimRef to {ns}/{}) and the claim binds again",
            c.name
        ))
        .fix(format!(
            "if it is gone, the data is lost: restore from backup or snapshot into a new claim; DATA RISK: deleting the Lost claim ({} delete pvc {}) is final, do it only once nothing can be recovered",
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
    fn lost_claim_is_critical_and_points_at_the_missing_volume() {
        let mut lost = pvc("data").bound("pv-gone");
        lost.status.as_mut().unwrap().phase = Some("Lost".into());
        let snap = snapshot(|o| {
            o.claims.push(lost);
            o.volumes.push(pv("other"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Critical);
        assert!(
            c[0].summary.contains("pv-gone no longer exists"),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn bound_claim_is_not_lost() {
        let snap = snapshot(|o| o.claims.push(pvc("data").bound("pv-1")));
        assert!(causes(&RULE, &snap).is_empty());
    }
}
