//! `filesystem-resize-pending`: the volume grew; its file system grows when
//! a pod (re)mounts it.

use super::expansion::{condition, user_or_claim};
use super::{kubectl_ns, Cause, Ctx, Rule};
use crate::chain::Chain;
use crate::model::{Link, Severity};

pub const RULE: Rule = Rule {
    id: "filesystem-resize-pending",
    title: "the volume was expanded; its file system grows when a pod (re)mounts it",
    severity: Severity::Info,
    link: Link::Mount,
    precedence: 88,
    fallback: false,
    check,
};

fn check(_: &Ctx, chain: &Chain) -> Vec<Cause> {
    let mut out = Vec::new();
    for c in &chain.claims {
        let Some(cond) = condition(c, "FileSystemResizePending") else {
            continue;
        };
        let ns = c.namespace;
        let mut cause = Cause::new(
            &RULE,
            format!(
                "{}: the disk has been expanded, the file system grows when a pod mounts the volume again",
                user_or_claim(chain.pod.as_ref(), c)
            ),
        )
        .object(c.object())
        .evidence(format!(
            "condition FileSystemResizePending: {}",
            cond.message.as_deref().unwrap_or("")
        ));
        cause = match &chain.pod {
            Some(p) => cause.object(p.object()).fix(format!(
                "restart the pod so the kubelet grows the file system: {} delete pod {} (its controller recreates it), unless the driver grows it online shortly",
                kubectl_ns(ns),
                p.name
            )),
            None => cause.fix("nothing to do now: the next pod that mounts the claim finishes the resize"),
        };
        out.push(cause);
    }
    out
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
