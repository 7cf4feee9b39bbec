//! `claim-not-found`: the pod references a claim that does not exist.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use super::support::evidence::{gap_lines, scheduler_says};
use super::support::names::{class_list, closest};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "claim-not-found",
    title: "the pod references a PersistentVolumeClaim that does not exist",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/claim-not-found.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let ns = pod.namespace;
    let mut out = Vec::new();
    for c in claims.iter().filter(|c| c.claim.is_none()) {
        let Some(usage) = &c.usage else { continue };
        let captured = ctx.snap.has("persistentvolumeclaims");
        let named = |k: &ReasonKind| match k {
            ReasonKind::ClaimNotFound(n) | ReasonKind::EphemeralClaimNotCreated(n) => n == &c.name,
            _ => false,
        };
        let said = scheduler_says(Some(pod), named);
        let mut cause = if usage.ephemeral {
            Cause::new(
                &RULE,
                format!(
                    "the claim \"{}\" for generic ephemeral volume \"{}\" of pod {ns}/{} has not been created",
                    c.name, usage.volume, pod.name
                ),
            )
            .evidence(format!(
                "pod {ns}/{} declares ephemeral volume \"{}\"; the ephemeral volume controller names its claim \"{}\", and no claim of that name exists",
                pod.name, usage.volume, c.name
            ))
            .fix(format!(
                "check that kube-controller-manager runs the ephemeral-volume controller and look for its errors: {} get events --field-selector involvedObject.name={}",
                kubectl_ns(ns),
                pod.name
            ))
            .fix(format!(
                "check the volumeClaimTemplate of volume \"{}\" in the pod spec (a claim named \"{}\" that the pod does not own also blocks creation)",
                usage.volume, c.name
            ))
        } else {
            Cause::new(
                &RULE,
                format!(
                    "pod {ns}/{} mounts claim \"{}\", which does not exist in namespace {ns}",
                    pod.name, c.name
                ),
            )
        };
        cause = cause
            .object(pod.object())
            .object(ObjectRef::claim(ns, &c.name));
        let confirmed = said.is_some();
        if let Some(line) = said {
            cause = cause.evidence(line);
        }
        if !captured {
            // Without the claims, only the scheduler's word makes it certain.
            if !confirmed {
                cause = cause.confidence(Confidence::Low);
            }
            cause = cause.evidence_all(gap_lines(ctx, &["persistentvolumeclaims"]));
            out.push(cause);
            continue;
        }
        if usage.ephemeral {
            out.push(cause);
            continue;
        }
        let here: Vec<&str> = ctx.snap.claim_names_in(ns);
        let elsewhere: Vec<&str> = ctx
            .snap
            .namespaces_with_claim(&c.name)
            .into_iter()
            .filter(|other| *other != ns)
            .collect();
        cause = cause.evidence(if here.is_empty() {
            format!("namespace {ns} has no claims at all")
        } else {
            let listed: Vec<&str> = here.iter().copied().take(10).collect();
            let more = here.len().saturating_sub(10);
            format!(
                "claims in namespace {ns}: {}{}",
                listed.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        });
        let typo = closest(&c.name, here.iter().copied());
        if let Some(right) = typo {
            cause = cause
                .evidence(format!(
                    "claim \"{right}\" exists in {ns} and is a few letters away from \"{}\": most likely a typo",
                    c.name
                ))
                .object(ObjectRef::claim(ns, right))
                .fix(edit_pod_spec_hint(
                    ctx,
                    pod,
                    &format!(
                        "set volume \"{}\" to claimName: {right}",
                        usage.volume
                    ),
                ));
        }
        for other in &elsewhere {
            cause = cause
                .evidence(format!(
                    "a claim named \"{}\" exists in namespace {other}; claims are namespaced and a pod can only mount claims of its own namespace",
                    c.name
                ))
                .fix(format!(
                    "run the workload in namespace {other} (where the claim and its data are), or create a claim in {ns}; a volume binds to one claim only, so sharing the same data across namespaces needs a ReadWriteMany/ReadOnlyMany backend with a second PersistentVolume pointing at it"
                ));
        }
        if typo.is_none() && elsewhere.is_empty() {
            cause = cause.fix(format!(
                "create the missing claim ({} create -f claim.yaml with metadata.name: {} and the storageClassName, accessModes and size the workload needs; classes here: {}), or point the pod at an existing claim",
                kubectl_ns(ns),
                c.name,
                class_list(ctx.snap)
            ));
        }
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn typo_names_the_existing_claim() {
        let snap = snapshot(|o| {
            o.pods.push(pod("trainer").claim("checkpoint-pcv").unschedulable(
                "0/2 nodes are available: persistentvolumeclaim \"checkpoint-pcv\" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
            ));
            o.claims.push(pvc("checkpoint-pvc").bound("pv-1"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        let t = text(&c[0]);
        assert!(t.contains("claim \"checkpoint-pvc\" exists"), "{t}");
        assert!(t.contains("claimName: checkpoint-pvc"), "{t}");
        assert!(t.contains("scheduler (PodScheduled condition)"), "{t}");
    }

    #[test]
    fn claim_in_another_namespace_is_pointed_out() {
        let mut other = pvc("model-weights-pvc");
        other.metadata.namespace = Some("model-storage".into());
        let snap = snapshot(|o| {
            o.pods.push(pod("vllm").claim("model-weights-pvc"));
            o.claims.push(other);
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(t.contains("exists in namespace model-storage"), "{t}");
    }

    #[test]
    fn existing_claim_is_no_finding() {
        let snap = snapshot(|o| {
            o.pods.push(pod("web").claim("data"));
            o.claims.push(pvc("data"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn ephemeral_claim_not_created() {
        let snap = snapshot(|o| {
            o.pods.push(pod("web-0").ephemeral("scratch"));
            o.claims.push(pvc("other"));
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("\"web-0-scratch\""),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn uncaptured_claims_lower_confidence() {
        let mut o = crate::snapshot::Objects::default();
        o.pods.push(pod("web").claim("data"));
        let gap = crate::snapshot::Gap {
            resource: "persistentvolumeclaims".into(),
            reason: "Forbidden".into(),
            message: "cannot list".into(),
        };
        let snap = crate::snapshot::Snapshot::new(o, vec![gap], None);
        assert_eq!(causes(&RULE, &snap)[0].confidence, Confidence::Low);
    }
}
