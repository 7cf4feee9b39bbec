//! `pv-released-retained`: a PV Released under Retain keeps its data but
//! cannot bind again until its claimRef is cleared.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claims::{claim_ref_other, released_retained_for_other, OtherClaim};
use super::support::commands::kubectl_ns;
use crate::api::PersistentVolume;
use crate::chain::Chain;
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "pv-released-retained",
    title: "a Released PersistentVolume under Retain keeps its data but cannot bind until its claimRef is cleared",
    severity: Severity::Warning,
    link: Link::ClaimToVolume,
    check: Check::Subject(check),
    normal_events: &[NormalEvent::about_claims("FailedBinding")],
    runbook: include_str!("../../docs/runbooks/pv-released-retained.md"),
};

fn is_released_retained(pv: &PersistentVolume) -> bool {
    let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref());
    phase == Some("Released") && policy == Some("Retain")
}

fn old_claim(pv: &PersistentVolume) -> String {
    pv.spec
        .as_ref()
        .and_then(|s| s.claim_ref.as_ref())
        .map(|r| {
            format!(
                "{}/{} (uid {})",
                r.namespace.as_deref().unwrap_or(""),
                r.name.as_deref().unwrap_or(""),
                r.uid.as_deref().unwrap_or("none")
            )
        })
        .unwrap_or_else(|| "none".to_string())
}

fn clear_fixes(cause: Cause, pv: &str, for_claim: Option<(&str, &str)>) -> Cause {
    let remove = format!(
        "kubectl patch pv {pv} --type json -p '[{{\"op\":\"remove\",\"path\":\"/spec/claimRef\"}}]'"
    );
    match for_claim {
        Some((ns, name)) => cause
            .fix(format!(
                "point the claimRef at claim {ns}/{name}, without the deleted claim's uid and resourceVersion, so that the volume, with its data, binds to that claim and to no other: kubectl patch pv {pv} --type merge -p '{{\"spec\":{{\"claimRef\":{{\"namespace\":\"{ns}\",\"name\":\"{name}\",\"uid\":null,\"resourceVersion\":null}}}}}}'"
            ))
            .fix(format!(
                "or clear the whole claim reference: {remove} (the PV becomes Available, and any matching claim may take it)"
            )),
        None => cause
            .fix(format!(
                "to make the retained data available again, clear the old claim reference: {remove} (the PV becomes Available, and any matching claim may take it)"
            ))
            .fix(format!(
                "if the data is no longer needed: kubectl delete pv {pv}, then delete the disk in the storage backend (DATA RISK: with Retain, deleting the PV object leaves the disk; deleting the disk is final)"
            )),
    }
}

/// A Pending claim that names the volume in spec.volumeName: the one the
/// volume should be given to.
fn waiting_claim<'a>(ctx: &Ctx<'a>, pv: &str) -> Option<(&'a str, &'a str)> {
    let mut found: Vec<(&str, &str)> = ctx
        .snap
        .objects
        .claims
        .iter()
        .filter(|c| {
            c.spec.as_ref().and_then(|s| s.volume_name.as_deref()) == Some(pv)
                && matches!(
                    c.status.as_ref().and_then(|s| s.phase.as_deref()),
                    None | Some("Pending")
                )
        })
        .filter_map(|c| {
            Some((
                c.metadata.namespace.as_deref()?,
                c.metadata.name.as_deref()?,
            ))
        })
        .collect();
    found.sort_unstable();
    found.into_iter().next()
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    if let Some(pv) = chain.volume {
        if !is_released_retained(pv) {
            return Vec::new();
        }
        let name = pv.metadata.name.as_deref().unwrap_or("");
        let mut cause = Cause::new(
            &RULE,
            format!(
                "volume {name} is Released under reclaimPolicy Retain: its data is kept, but it cannot bind to any claim while its claimRef still names {}",
                old_claim(pv)
            ),
        )
        .object(ObjectRef::volume(name))
        .evidence(format!("PV {name} phase Released, reclaimPolicy Retain, claimRef {}", old_claim(pv)));
        let r = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        if let Some((ns, claim)) =
            r.and_then(|r| Some((r.namespace.as_deref()?, r.name.as_deref()?)))
        {
            cause = cause.evidence(match ctx.snap.claim(ns, claim) {
                None => format!("claim {ns}/{claim} no longer exists"),
                Some(c) => format!(
                    "a claim {ns}/{claim} exists again, but with uid {} (a new object)",
                    c.metadata.uid.as_deref().unwrap_or("?")
                ),
            });
        }
        let waiting = waiting_claim(ctx, name);
        if let Some((ns, claim)) = waiting {
            cause = cause.object(ObjectRef::claim(ns, claim)).evidence(format!(
                "claim {ns}/{claim} is Pending with spec.volumeName: {name}, waiting for it"
            ));
        }
        return vec![clear_fixes(cause, name, waiting).severity(Severity::Warning)];
    }
    let mut out = Vec::new();
    for c in &chain.claims {
        let Some(wanted) = c
            .claim
            .and_then(|x| x.spec.as_ref())
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let Some(pv) = ctx.snap.volume(wanted) else {
            continue;
        };
        if !c.is_pending() || !released_retained_for_other(pv, c) {
            continue;
        }
        let ns = c.namespace;
        let mut cause = Cause::new(
            &RULE,
            format!(
                "claim {ns}/{} wants volume {wanted}, which is Released and still reserved by {} {} (claimRef)",
                c.name,
                if claim_ref_other(pv, c) == Some(OtherClaim::Earlier) {
                    "the deleted claim of the same name,"
                } else {
                    "its old claim"
                },
                old_claim(pv)
            ),
        )
        .severity(Severity::Error)
        .object(c.object())
        .object(ObjectRef::volume(wanted))
        .evidence(format!("claim {ns}/{} sets spec.volumeName: {wanted}", c.name))
        .evidence(format!(
            "PV {wanted} is Released under reclaimPolicy Retain with claimRef {}",
            old_claim(pv)
        ));
        if claim_ref_other(pv, c) == Some(OtherClaim::Earlier) {
            cause = cause.evidence(format!(
                "the claimRef names this claim's namespace and name but the uid of a deleted claim: claim {ns}/{} is a new object (uid {}), so the PV controller will not bind them",
                c.name,
                c.claim
                    .and_then(|x| x.metadata.uid.as_deref())
                    .unwrap_or("?")
            ));
        }
        if let Some(p) = &chain.pod {
            cause = cause.object(p.object());
        }
        let timeline = Timeline::new(&c.events);
        if let Some(e) = timeline
            .current("VolumeMismatch")
            .or_else(|| timeline.current("FailedBinding"))
        {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        cause = clear_fixes(cause, wanted, Some((ns, &c.name)));
        cause = cause.fix(format!(
            "then the claim binds by itself; watch with {} get pvc {} -w",
            kubectl_ns(ns),
            c.name
        ));
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn released(name: &str) -> PersistentVolume {
        let mut p = pv(name).bound_to("default", "old-data");
        p.status.as_mut().unwrap().phase = Some("Released".into());
        p.spec.as_mut().unwrap().persistent_volume_reclaim_policy = Some("Retain".into());
        p
    }

    #[test]
    fn released_volume_and_the_claim_that_wants_it() {
        let mut restore = pvc("restore");
        restore.spec.as_mut().unwrap().volume_name = Some("pv-1".into());
        let snap = snapshot(|o| {
            o.volumes.push(released("pv-1"));
            o.claims.push(restore);
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 2);
        let claim = c.iter().find(|c| c.severity == Severity::Error).unwrap();
        assert!(
            text(claim).contains("\"name\":\"restore\""),
            "{}",
            text(claim)
        );
        let volume = c.iter().find(|c| c.severity == Severity::Warning).unwrap();
        assert!(
            text(volume).contains("claim default/old-data no longer exists"),
            "{}",
            text(volume)
        );
    }

    #[test]
    fn released_under_delete_is_being_cleaned_up() {
        let mut p = released("pv-1");
        p.spec.as_mut().unwrap().persistent_volume_reclaim_policy = Some("Delete".into());
        let snap = snapshot(|o| o.volumes.push(p));
        assert!(causes(&RULE, &snap).is_empty());
    }
}
