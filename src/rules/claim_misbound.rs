//! `claim-misbound`: two claims are bound to the same volume.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "claim-misbound",
    title: "two claims are bound to the same PersistentVolume",
    severity: Severity::Error,
    link: Link::ClaimToVolume,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/claim-misbound.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    let event = Timeline::new(&c.events).latest("ClaimMisbound");
    let volume_name = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .filter(|v| !v.is_empty());
    let pv = volume_name.and_then(|v| ctx.snap.volume(v));
    let owner = pv
        .and_then(|v| v.spec.as_ref())
        .and_then(|s| s.claim_ref.as_ref());
    let owned_by_other = owner.is_some_and(|r| {
        r.name.as_deref() != Some(c.name.as_str()) || r.namespace.as_deref() != Some(c.namespace)
    });
    // State alone: the claim names a PV whose claimRef names another claim.
    let state_says = (c.is_bound() || c.phase() == Some("Lost")) && owned_by_other;
    if event.is_none() && !state_says {
        return None;
    }
    let ns = c.namespace;
    let v = volume_name.unwrap_or("<its volume>");
    let other = owner
        .map(|r| {
            format!(
                "{}/{}",
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_else(|| "another claim".to_string());
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} names volume {v}, but that volume is bound to {other}",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::volume(v))
    .evidence(format!("claim {ns}/{} has spec.volumeName {v}", c.name));
    if let Some(r) = owner {
        cause = cause.evidence(format!(
            "PV {v} has claimRef {other} (uid {})",
            r.uid.as_deref().unwrap_or("?")
        ));
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    cause = cause
        .fix(format!(
            "the volume belongs to {other}; this claim must get its own volume: recreate it without spec.volumeName ({} get pvc {} -o yaml > {}.yaml, remove volumeName, delete and apply). This claim holds no data of its own",
            kubectl_ns(ns),
            c.name,
            c.name
        ))
        .fix("if this claim is the rightful owner, the other claim must be fixed first; never edit the PV's claimRef while a pod of the other claim writes to it");
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn event_names_the_misbound_claim() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("b").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "a"));
            o.events.push(
                event(
                    "ClaimMisbound",
                    "Two claims are bound to the same volume, this one is bound incorrectly",
                )
                .warning()
                .about("PersistentVolumeClaim", "default", "b"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("bound to default/a"),
            "{}",
            c[0].summary
        );
    }
}
