//! `storage-unexplained`: storage is involved in a broken chain, but no
//! known failure mode matched. Shows the raw evidence instead of guessing.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claims::{claim_ok, VOLUME_EVENT_REASONS};
use super::support::commands::kubectl_ns;
use super::support::evidence::claim_state_line;
use crate::chain::{is_finished, pod_state, Chain};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, Severity};

pub const RULE: Rule = Rule {
    id: "storage-unexplained",
    title: "storage blocks the subject, but no known failure mode matched",
    severity: Severity::Error,
    link: Link::ClaimToVolume,
    check: Check::Fallback(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/storage-unexplained.md"),
};

/// A claim younger than this is still being provisioned, not failing.
const PROVISIONING_GRACE_SECONDS: i64 = 120;

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let now = ctx.snap.now;
    let mut evidence = Vec::new();
    let mut fix = Vec::new();
    let summary;
    let mut young = false;
    match &chain.pod {
        Some(pod) => {
            if pod.healthy {
                return Vec::new();
            }
            let scheduled = pod.node_name.is_some();
            let timeline = Timeline::new(&pod.events);
            let volume_events: Vec<_> = VOLUME_EVENT_REASONS
                .iter()
                .filter_map(|r| timeline.current(r))
                .collect();
            let storage_reasons = pod
                .scheduling
                .as_ref()
                .is_some_and(|s| s.verdict.storage_reasons().next().is_some());
            let claims_ok = chain.claims.iter().all(|c| claim_ok(c, scheduled));
            if claims_ok && volume_events.is_empty() && !storage_reasons {
                return Vec::new();
            }
            summary = format!(
                "pod {}/{} is {} and its storage is involved, but no known failure mode matched",
                pod.namespace,
                pod.name,
                pod_state(pod.pod)
            );
            if let Some(s) = &pod.scheduling {
                evidence.push(format!("scheduler ({}): {}", s.source, s.verdict.message));
            }
            evidence.extend(volume_events.iter().map(|e| events::quote(e, now)));
            fix.push(format!(
                "{} describe pod {}",
                kubectl_ns(pod.namespace),
                pod.name
            ));
        }
        None => {
            let Some(c) = chain.claims.first() else {
                return Vec::new();
            };
            if c.is_bound() || c.claim.is_none() {
                return Vec::new();
            }
            if c.is_wait_for_first_consumer() && c.users.iter().all(|p| is_finished(p)) {
                return Vec::new();
            }
            summary = format!(
                "claim {}/{} is {} and no known failure mode matched",
                c.namespace,
                c.name,
                c.phase().unwrap_or("Pending")
            );
        }
    }
    for c in &chain.claims {
        if c.claim.is_none() || c.is_bound() {
            continue;
        }
        evidence.push(claim_state_line(ctx, c));
        let age = c
            .claim
            .and_then(|x| x.metadata.creation_timestamp.as_ref())
            .map(|t| now.as_second() - t.0.as_second());
        if age.is_some_and(|a| a < PROVISIONING_GRACE_SECONDS) && c.is_pending() {
            young = true;
        }
        let warnings = c.events.iter().filter(|e| events::is_warning(e)).take(3);
        evidence.extend(warnings.map(|e| events::quote(e, now)));
        fix.push(format!(
            "{} describe pvc {}",
            kubectl_ns(c.namespace),
            c.name
        ));
    }
    let mut cause = Cause::new(&RULE, summary).confidence(Confidence::Low);
    cause.objects.push(chain.subject.clone());
    for c in &chain.claims {
        cause = cause.object(c.object());
    }
    if young {
        cause = cause.severity(Severity::Info).evidence(
            "the claim was created less than two minutes ago: provisioning may still be under way",
        );
    }
    cause = cause.evidence_all(evidence);
    for f in fix {
        cause = cause.fix(f);
    }
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn unexplained_mount_failure_shows_the_raw_event() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.pods.push(
                pod("web")
                    .claim("data")
                    .on_node("n1")
                    .waiting("ContainerCreating"),
            );
            o.events.push(
                event(
                    "FailedMount",
                    "MountVolume.SetUp failed for volume \"pv-1\" : something new",
                )
                .warning()
                .about("Pod", "default", "web"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::Low);
        assert!(text(&c[0]).contains("something new"));
    }

    #[test]
    fn healthy_pod_is_not_reported() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.pods.push(pod("web").claim("data").running());
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
