//! `pv-reclaim-failed`: the PV is Failed: deleting or recycling its storage
//! did not work.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::provisioner_errors;
use crate::chain::Chain;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "pv-reclaim-failed",
    title: "reclaiming the PersistentVolume (delete or recycle) failed",
    severity: Severity::Warning,
    link: Link::ClassToProvisioner,
    check: Check::Subject(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/pv-reclaim-failed.md"),
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
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
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
    // CSI provisioners never set phase Failed: a Released volume they keep
    // failing to delete shows only in their events.
    let failing_delete = phase == "Released" && event.is_some();
    if phase != "Failed" && !failing_delete {
        return Vec::new();
    }
    let status_message = status
        .and_then(|s| s.message.as_deref())
        .filter(|m| !m.is_empty());
    let message = status_message.or(event.map(events::message));
    let mut cause = Cause::new(
        &RULE,
        format!(
            "volume {name} is {phase}: its {} reclaim did not complete{}",
            policy.to_lowercase(),
            message
                .map(|m| format!(": {}", provisioner_errors::brief(m)))
                .unwrap_or_default()
        ),
    )
    .object(ObjectRef::volume(name))
    .evidence(format!("PV {name} phase {phase}, reclaimPolicy {policy}"));
    if let Some(m) = status_message {
        cause = cause.evidence(format!("status.message: {m}"));
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
            "the disk{handle} may still exist and cost money: fix what the error says (often: still attached to or mounted on a node, or the provisioner lacks permission); the provisioner retries by itself"
        ))
        .fix(format!(
            "if the volume must go by hand: delete it in the storage backend, then kubectl delete pv {name} (DATA RISK: if it holds data you need, back it up first)"
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
