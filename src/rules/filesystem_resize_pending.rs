//! `filesystem-resize-pending`: the volume grew; its file system grows when
//! a pod (re)mounts it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::expansion::{condition, user_or_claim};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, Severity};

pub const RULE: Rule = Rule {
    id: "filesystem-resize-pending",
    title: "the volume was expanded; its file system grows when a pod (re)mounts it",
    severity: Severity::Info,
    link: Link::Mount,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/filesystem-resize-pending.md"),
};

fn check(_: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let cond = condition(c, "FileSystemResizePending")?;
    let ns = c.namespace;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "{}: the disk has been expanded, the file system grows when a pod mounts the volume again",
            user_or_claim(pod, c)
        ),
    )
    .object(c.object())
    .evidence(format!(
        "condition FileSystemResizePending: {}",
        cond.message.as_deref().unwrap_or("")
    ));
    cause = match pod {
        Some(p) => cause.object(p.object()).fix(format!(
            "restart the pod so the kubelet grows the file system: {} delete pod {} (its controller recreates it), unless the driver grows it online shortly",
            kubectl_ns(ns),
            p.name
        )),
        None => cause.fix("nothing to do now: the next pod that mounts the claim finishes the resize"),
    };
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::PersistentVolumeClaimCondition;

    #[test]
    fn pending_resize_is_info() {
        let mut c = pvc("data").bound("pv-1");
        c.status.as_mut().unwrap().conditions = Some(vec![PersistentVolumeClaimCondition {
            type_: "FileSystemResizePending".into(),
            status: "True".into(),
            message: Some("Waiting for user to (re-)start a pod to finish file system resize of volume on node.".into()),
            ..Default::default()
        }]);
        let snap = snapshot(|o| o.claims.push(c));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Info);
    }
}
