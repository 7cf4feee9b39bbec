//! `pv-reclaim-failed`: the PV is Failed: deleting or recycling its storage
//! did not work.

use super::{Cause, Ctx, Rule};
use crate::chain::Chain;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "pv-reclaim-failed",
    title: "reclaiming the PersistentVolume (delete or recycle) failed",
    severity: Severity::Warning,
    link: Link::ClassToProvisioner,
    precedence: 80,
    fallback: false,
    check,
};

const REASONS: &[&str] = &[
    "VolumeFailedDelete",
    "VolumeFailedRecycle",
    "VolumeUnknownReclaimPolicy",
];

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let Some(pv) = chain.volume else {
        return Vec::new();
    };
    let status = pv.status.as_ref();
    if status.and_then(|s| s.phase.as_deref()) != Some("Failed") {
        return Vec::new();
    }
    let name = pv.metadata.name.as_deref().unwrap_or("");
    let policy = pv
        .spec
        .as_ref()
        .and_then(|s| s.persistent_volume_reclaim_policy.as_deref())
        .unwrap_or("Delete");
    let events = ctx
        .snap
        .events_for("PersistentVolume", "", name, pv.metadata.uid.as_deref());
    let timeline = Timeline::new(&events);
    let event = REASONS.iter().find_map(|r| timeline.latest(r));
    let message = status.and_then(|s| s.message.as_deref()).unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "volume {name} is Failed: its {} reclaim did not complete{}",
            policy.to_lowercase(),
            if message.is_empty() {
                String::new()
            } else {
                format!(": {message}")
            }
        ),
    )
    .object(ObjectRef::volume(name))
    .evidence(format!("PV {name} phase Failed, reclaimPolicy {policy}"));
    if !message.is_empty() {
        cause = cause.evidence(format!("status.message: {message}"));
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    let handle = pv
        .spec
        .as_ref()
        .and_then(|s| s.csi.as_ref())
        .map(|c| format!(" (driver {}, volumeHandle {})", c.driver, c.volume_handle))
        .unwrap_or_default();
    cause = cause
        .fix(format!(
            "the disk{handle} may still exist and cost money: fix what the error says (often: still attached to a node, or the provisioner lacks permission), then delete it in the storage backend"
        ))
        .fix(format!(
            "once the backend volume is gone, remove the object: kubectl delete pv {name} (DATA RISK: if the backend volume still exists and holds data you need, back it up first)"
        ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn failed_volume_with_its_message() {
        let mut p = pv("pv-1").csi("ebs.csi.aws.com");
        let status = p.status.as_mut().unwrap();
        status.phase = Some("Failed".into());
        status.message = Some("rpc error: code = Internal desc = volume is attached".into());
        let snap = snapshot(|o| o.volumes.push(p));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("volume is attached"),
            "{}",
            c[0].summary
        );
    }
}
