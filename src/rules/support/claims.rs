//! Facts about a claim that several rules read: whether it is fine for its
//! pod, whether its volume belongs to another claim.

use crate::chain::ClaimChain;
use crate::rules::rule::Ctx;
use k8s_openapi::api::core::v1::PersistentVolume;

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
