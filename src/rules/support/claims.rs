//! Facts about a claim that several rules read: whether it is fine for its
//! pod, whether its volume belongs to another claim.

use crate::api::PersistentVolume;
use crate::chain::ClaimChain;
use crate::rules::rule::Ctx;

/// Failed volume events on a pod mean storage is involved.
pub const VOLUME_EVENT_REASONS: &[&str] = &["FailedMount", "FailedMapVolume", "FailedAttachVolume"];

/// Whether the claim is fine for this pod: bound, or a WaitForFirstConsumer
/// claim that binds once the pod is scheduled.
pub fn claim_ok(c: &ClaimChain, pod_scheduled: bool) -> bool {
    let terminating = c
        .claim
        .is_some_and(|x| x.metadata.deletion_timestamp.is_some());
    if c.claim.is_none() || terminating {
        return false;
    }
    c.is_bound() || (c.is_pending() && c.is_wait_for_first_consumer() && !pod_scheduled)
}

/// The volume the claim names when that volume's claimRef names another claim.
pub fn volume_of_other<'a>(ctx: &Ctx<'a>, c: &ClaimChain) -> Option<&'a PersistentVolume> {
    let name = c.claim?.spec.as_ref()?.volume_name.as_deref()?;
    let pv = ctx.snap.volume(name)?;
    let r = pv.spec.as_ref()?.claim_ref.as_ref()?;
    let other_name =
        r.name.as_deref() != Some(c.name.as_str()) || r.namespace.as_deref() != Some(c.namespace);
    let other_uid = matches!(
        (r.uid.as_deref(), c.claim?.metadata.uid.as_deref()),
        (Some(a), Some(b)) if a != b
    );
    (other_name || other_uid).then_some(pv)
}

/// Whom a volume's claimRef names besides this claim: another claim, or an
/// earlier claim of the same name (another uid), deleted since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherClaim {
    /// Another namespace or name.
    Other,
    /// The same namespace and name, another uid: a deleted claim whose
    /// name was reused.
    Earlier,
}

/// Whether `pv`'s claimRef names a claim other than `c`, and how.
pub fn claim_ref_other(pv: &PersistentVolume, c: &ClaimChain) -> Option<OtherClaim> {
    let r = pv.spec.as_ref()?.claim_ref.as_ref()?;
    if r.name.as_deref() != Some(c.name.as_str()) || r.namespace.as_deref() != Some(c.namespace) {
        return Some(OtherClaim::Other);
    }
    let claim_uid = c.claim.and_then(|x| x.metadata.uid.as_deref());
    match (r.uid.as_deref(), claim_uid) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() && a != b => Some(OtherClaim::Earlier),
        _ => None,
    }
}

/// A Released volume under Retain whose claimRef still names another (or
/// an earlier, deleted) claim than `c`: it keeps its data and binds to no
/// claim until the claimRef is cleared (rule `pv-released-retained`).
pub fn released_retained_for_other(pv: &PersistentVolume, c: &ClaimChain) -> bool {
    let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref());
    phase == Some("Released") && policy == Some("Retain") && claim_ref_other(pv, c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn released(claim: &str, uid: &str) -> PersistentVolume {
        let mut p = pv("pv-1").bound_to("default", claim);
        p.spec.as_mut().unwrap().claim_ref.as_mut().unwrap().uid = Some(uid.into());
        p.status.as_mut().unwrap().phase = Some("Released".into());
        p.spec.as_mut().unwrap().persistent_volume_reclaim_policy = Some("Retain".into());
        p
    }

    #[test]
    fn a_reused_name_with_another_uid_is_another_claim() {
        let snap = snapshot(|o| o.claims.push(pvc("data")));
        let c = ClaimChain::resolve(&snap, "default", "data", None);
        assert_eq!(
            claim_ref_other(&released("data", "old-uid"), &c),
            Some(OtherClaim::Earlier)
        );
        assert!(released_retained_for_other(
            &released("data", "old-uid"),
            &c
        ));
        assert_eq!(
            claim_ref_other(&released("other", "x"), &c),
            Some(OtherClaim::Other)
        );
        assert_eq!(claim_ref_other(&released("data", "uid-data"), &c), None);
        let mut deleting = released("data", "old-uid");
        deleting
            .spec
            .as_mut()
            .unwrap()
            .persistent_volume_reclaim_policy = Some("Delete".into());
        assert!(!released_retained_for_other(&deleting, &c));
    }
}
