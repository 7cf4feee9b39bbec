//! `waiting-for-first-consumer`: normal waiting. A WaitForFirstConsumer
//! claim binds only once a pod using it is scheduled.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::evidence::claim_state_line;
use crate::chain::{is_finished, Chain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "waiting-for-first-consumer",
    title: "normal: the claim binds once a pod that uses it is scheduled (WaitForFirstConsumer)",
    severity: Severity::Info,
    link: Link::ClaimToVolume,
    check: Check::Subject(check),
    normal_events: &[NormalEvent::about_claims("WaitForFirstConsumer")],
    runbook: include_str!("../../docs/runbooks/waiting-for-first-consumer.md"),
};

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    if chain.pod.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in &chain.claims {
        if !c.is_pending() || !c.is_wait_for_first_consumer() || c.volume.is_some() {
            continue;
        }
        if c.users.iter().any(|p| !is_finished(p)) {
            continue;
        }
        let timeline = Timeline::new(&c.events);
        if timeline.current("ProvisioningFailed").is_some() {
            continue;
        }
        let class = c.class_name().unwrap_or("");
        let mut cause = Cause::new(
            &RULE,
            format!(
                "claim {}/{} is waiting for its first consumer: StorageClass \"{class}\" binds volumes only once a pod that uses the claim is scheduled",
                c.namespace, c.name
            ),
        )
        .object(c.object())
        .object(ObjectRef::class(class))
        .evidence(claim_state_line(ctx, c))
        .evidence("no pod uses the claim yet");
        if let Some(e) = timeline.latest("WaitForFirstConsumer") {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        cause = cause.fix(
            "nothing to fix: create the pod that uses the claim; the volume is then provisioned where that pod is scheduled",
        );
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn unused_wffc_claim_is_info() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").wait_for_consumer());
            o.claims.push(pvc("data").class("gp3"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Info);
    }

    #[test]
    fn claim_with_a_consumer_is_the_pods_finding() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").wait_for_consumer());
            o.claims.push(pvc("data").class("gp3"));
            o.pods.push(pod("web").claim("data"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
