//! `expansion-failed`: a resize did not finish: the resizer reported an
//! error or infeasibility, or no resizer is running at all.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::expansion::{condition, growing, user_or_claim};
use super::support::provisioner_errors;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};

pub const RULE: Rule = Rule {
    id: "expansion-failed",
    title: "resizing the volume failed, or no resizer is acting on it",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("ExternalExpanding"),
        NormalEvent::about_claims("Resizing"),
    ],
    runbook: include_str!("../../docs/runbooks/expansion-failed.md"),
};

/// How long only `ExternalExpanding` may repeat before it means no resizer runs.
const NO_RESIZER_SECONDS: i64 = 10 * 60;

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    let status = claim.status.as_ref();
    let infeasible = status
        .and_then(|s| s.allocated_resource_statuses.as_ref())
        .and_then(|m| m.get("storage"))
        .filter(|v| v.ends_with("Infeasible"));
    let error_condition =
        condition(c, "ControllerResizeError").or_else(|| condition(c, "NodeResizeError"));
    let timeline = Timeline::new(&c.events);
    let failed_event = timeline.current("VolumeResizeFailed");
    let expanding = timeline.current("ExternalExpanding");
    let resizing_seen = timeline.latest("Resizing").is_some() || condition(c, "Resizing").is_some();
    let waited = expanding
        .and_then(|e| {
            e.first_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| events::last_seen(e))
        })
        .map(|t| ctx.snap.now.as_second() - t.as_second())
        .unwrap_or(0);
    let no_resizer = expanding.is_some()
        && !resizing_seen
        && failed_event.is_none()
        && growing(c).is_some()
        && waited >= NO_RESIZER_SECONDS;
    if infeasible.is_none() && error_condition.is_none() && failed_event.is_none() && !no_resizer {
        return None;
    }
    let ns = c.namespace;
    let sizes = growing(c)
        .map(|(w, h)| format!(" from {h} to {w}"))
        .unwrap_or_default();
    let who = user_or_claim(pod, c);
    let summary = if no_resizer {
        format!("resizing {who}{sizes} has not started: no resizer acts on it")
    } else if let Some(v) = infeasible {
        format!("resizing {who}{sizes} was refused as infeasible ({v}): it will not be retried")
    } else {
        format!("resizing {who}{sizes} failed")
    };
    let mut cause = Cause::new(&RULE, summary).object(c.object());
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(v) = infeasible {
        cause = cause.evidence(format!("status.allocatedResourceStatuses.storage: {v}"));
    }
    if let Some(cond) = error_condition {
        cause = cause.evidence(format!(
            "condition {}: {}",
            cond.type_,
            cond.message.as_deref().unwrap_or("")
        ));
    }
    if let Some(e) = failed_event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if no_resizer {
        if let Some(e) = expanding {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        cause = cause.evidence(format!(
            "only ExternalExpanding for {} and no Resizing event: the external-resizer never picked it up",
            crate::model::age(ctx.snap.now - jiff::SignedDuration::from_secs(waited), ctx.snap.now)
        ));
    }
    let driver = c
        .volume_driver()
        .or(c.class.map(|s| s.provisioner.as_str()))
        .unwrap_or("the driver");
    cause = if no_resizer {
        cause.fix(format!(
            "check that the driver's controller runs a csi-resizer sidecar: kubectl get pods -A | grep -i {}; kubectl logs <controller-pod> -c csi-resizer",
            provisioner_errors::short_name(driver)
        ))
    } else {
        cause.fix(format!(
            "fix what the resizer says (backend quota, maximum size of the volume type, a volume type that cannot grow online), and the resizer retries by itself; follow it with {} describe pvc {}",
            kubectl_ns(ns),
            c.name
        ))
    };
    if infeasible.is_some() {
        cause = cause.fix(format!(
            "an infeasible request is not retried: lower spec.resources.requests.storage back to a size the backend accepts (recovery from a failed expansion, Kubernetes ≥1.32; it must stay above the current capacity {})",
            growing(c).map(|(_, h)| h).unwrap_or("the current capacity")
        ));
    }
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use std::collections::BTreeMap;

    #[test]
    fn infeasible_resize_from_state_alone() {
        let mut c = pvc("data").class("gp3").size("20Ti").bound("pv-1");
        let status = c.status.as_mut().unwrap();
        status.capacity = Some(BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("10Ti".into()),
        )]));
        status.allocated_resource_statuses = Some(BTreeMap::from([(
            "storage".to_string(),
            "ControllerResizeInfeasible".to_string(),
        )]));
        let snap = snapshot(|o| o.claims.push(c));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(c[0].summary.contains("infeasible"), "{}", c[0].summary);
    }

    #[test]
    fn long_external_expanding_means_no_resizer() {
        let mut c = pvc("data").class("gp3").size("20Gi").bound("pv-1");
        c.status.as_mut().unwrap().capacity = Some(BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("10Gi".into()),
        )]));
        let mut waiting = event(
            "ExternalExpanding",
            "waiting for an external controller to expand this PVC",
        )
        .about("PersistentVolumeClaim", "default", "data");
        waiting.first_timestamp = Some(time("2026-11-20T09:20:00Z"));
        let snap = snapshot(|o| {
            o.claims.push(c);
            o.events.push(waiting);
        });
        let c = causes(&RULE, &snap);
        assert!(c[0].summary.contains("no resizer"), "{}", c[0].summary);
    }
}
