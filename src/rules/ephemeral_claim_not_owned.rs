//! `ephemeral-claim-not-owned`: a generic ephemeral volume's claim
//! `<pod>-<volume>` exists but was not created for this pod, so neither the
//! scheduler nor the kubelet will use it, and the ephemeral volume
//! controller will not replace it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use super::support::evidence::scheduler_says;
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, Severity};
use crate::scheduler::ReasonKind;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;

pub const RULE: Rule = Rule {
    id: "ephemeral-claim-not-owned",
    title: "the claim of a generic ephemeral volume was not created for this pod",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/ephemeral-claim-not-owned.md"),
};

/// Whether the claim's owner is this pod: by uid when both have one, else
/// by the pod's name.
fn owned_by(claim: &PersistentVolumeClaim, pod: &PodChain) -> bool {
    let uid = pod.pod.metadata.uid.as_deref();
    claim.metadata.owner_references.iter().flatten().any(|o| {
        o.kind == "Pod"
            && match uid {
                Some(uid) if !o.uid.is_empty() => o.uid == uid,
                _ => o.name == pod.name,
            }
    })
}

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let ns = pod.namespace;
    let mut out = Vec::new();
    for c in claims {
        let Some(usage) = c.usage.as_ref().filter(|u| u.ephemeral) else {
            continue;
        };
        let Some(claim) = c.claim else { continue };
        let said = scheduler_says(
            Some(pod),
            |k| matches!(k, ReasonKind::EphemeralClaimNotOwned(name) if *name == c.name),
        );
        if owned_by(claim, pod) && said.is_none() {
            continue;
        }
        let owners: Vec<String> = claim
            .metadata
            .owner_references
            .iter()
            .flatten()
            .map(|o| format!("{} {}", o.kind, o.name))
            .collect();
        let mut cause = Cause::new(
            &RULE,
            format!(
                "pod {ns}/{} cannot use its ephemeral volume \"{}\": claim {ns}/{} exists but was not created for this pod",
                pod.name, usage.volume, c.name
            ),
        )
        .object(pod.object())
        .object(c.object())
        .evidence(if owners.is_empty() {
            format!("claim {ns}/{} has no owner (created by hand or by an earlier tool, not by the ephemeral volume controller)", c.name)
        } else {
            format!(
                "claim {ns}/{} is owned by {}, not by pod {}{}",
                c.name,
                owners.join(", "),
                pod.name,
                pod.pod
                    .metadata
                    .uid
                    .as_deref()
                    .map(|u| format!(" (uid {u})"))
                    .unwrap_or_default()
            )
        })
        .evidence(format!(
            "the ephemeral volume controller names the claim of volume \"{}\" {}-{} and uses it only when the pod owns it",
            usage.volume, pod.name, usage.volume
        ));
        if let Some(line) = said {
            cause = cause.evidence(line);
        }
        cause = cause
            .fix(format!(
                "if the claim is a leftover (an earlier pod of the same name, before its owner reference was set): check what it holds, then delete it and the controller creates the pod's own: {} delete pvc {} (DATA RISK: its data is lost)",
                kubectl_ns(ns),
                c.name
            ))
            .fix(edit_pod_spec_hint(
                ctx,
                pod,
                &format!(
                    "rename ephemeral volume \"{}\" so its claim name <pod>-<volume> does not collide with an existing claim",
                    usage.volume
                ),
            ));
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn claim_owned_by(pod_name: &str, uid: &str) -> PersistentVolumeClaim {
        let mut c = pvc("web-scratch").bound("pv-1");
        c.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: pod_name.into(),
            uid: uid.into(),
            ..Default::default()
        }]);
        c
    }

    #[test]
    fn claim_of_an_earlier_pod_is_not_owned() {
        let snap = snapshot(|o| {
            o.pods.push(pod("web").ephemeral("scratch"));
            o.claims.push(claim_owned_by("web", "uid-of-an-older-web"));
        });
        let found = causes(&RULE, &snap);
        assert_eq!(found.len(), 1);
        assert!(found[0].summary.contains("volume \"scratch\""));
    }

    #[test]
    fn own_claim_is_fine() {
        let p = pod("web").ephemeral("scratch");
        let uid = p.metadata.uid.clone().unwrap_or_default();
        let snap = snapshot(|o| {
            o.pods.push(p);
            o.claims.push(claim_owned_by("web", &uid));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
