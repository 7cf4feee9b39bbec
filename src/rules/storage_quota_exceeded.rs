//! `storage-quota-exceeded`: a ResourceQuota or LimitRange refuses the
//! claim, so a StatefulSet cannot create it (nor the pod that needs it).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use crate::chain::Chain;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::quantity;

pub const RULE: Rule = Rule {
    id: "storage-quota-exceeded",
    title: "a ResourceQuota or LimitRange refuses the claim",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Subject(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/storage-quota-exceeded.md"),
};

fn is_quota_text(m: &str) -> bool {
    m.contains("exceeded quota")
        || m.contains("Exceeded quota")
        || m.contains("maximum storage usage per PersistentVolumeClaim")
        || m.contains("minimum storage usage per PersistentVolumeClaim")
}

/// Storage quotas of a namespace at or near their limit (90% or more:
/// the next claim is refused once used + request exceeds hard).
fn exhausted_quotas(ctx: &Ctx, ns: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in ctx
        .snap
        .objects
        .quotas
        .iter()
        .filter(|q| q.metadata.namespace.as_deref() == Some(ns))
    {
        let name = q.metadata.name.as_deref().unwrap_or("");
        let status = q.status.as_ref();
        let hard = status.and_then(|s| s.hard.as_ref());
        let used = status.and_then(|s| s.used.as_ref());
        for (key, limit) in hard.into_iter().flatten() {
            let storage = key == "requests.storage"
                || key == "persistentvolumeclaims"
                || key.ends_with(".storageclass.storage.k8s.io/requests.storage")
                || key.ends_with(".storageclass.storage.k8s.io/persistentvolumeclaims");
            if !storage {
                continue;
            }
            let Some(u) = used.and_then(|u| u.get(key)) else {
                continue;
            };
            if let (Some(ub), Some(hb)) = (quantity::parse(&u.0), quantity::parse(&limit.0)) {
                if ub >= hb * 0.9 {
                    out.push(format!(
                        "ResourceQuota {name}: {key} used {} of {}",
                        u.0, limit.0
                    ));
                }
            }
        }
    }
    out
}

/// The per-claim storage bounds of the namespace's LimitRanges.
fn limit_ranges(ctx: &Ctx, ns: &str) -> Vec<String> {
    let storage = |m: Option<
        &std::collections::BTreeMap<
            String,
            k8s_openapi::apimachinery::pkg::api::resource::Quantity,
        >,
    >| {
        m.and_then(|m| m.get("storage"))
            .map_or("none".to_string(), |q| q.0.clone())
    };
    ctx.snap
        .objects
        .limit_ranges
        .iter()
        .filter(|l| l.metadata.namespace.as_deref() == Some(ns))
        .flat_map(|lr| {
            let name = lr.metadata.name.clone().unwrap_or_default();
            lr.spec
                .iter()
                .flat_map(|s| s.limits.iter())
                .filter(|item| item.type_ == "PersistentVolumeClaim")
                .map(move |item| {
                    format!(
                        "LimitRange {name}: storage per PersistentVolumeClaim min {}, max {}",
                        storage(item.min.as_ref()),
                        storage(item.max.as_ref())
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let Some(w) = &chain.workload else {
        return Vec::new();
    };
    let refused: Vec<_> = Timeline::new(&w.events)
        .current_all("FailedCreate")
        .filter(|e| is_quota_text(events::message(e)))
        .collect();
    let Some(newest) = refused.first() else {
        return Vec::new();
    };
    let ns = w.namespace.as_str();
    let message = events::message(newest);
    let limit_range = message.contains("storage usage per PersistentVolumeClaim");
    let claim = message
        .split_once("create Claim ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "StatefulSet {ns}/{} cannot create {}: the {} refuses it, so its pod is not created either",
            w.name,
            if claim.is_empty() { "its claim".to_string() } else { format!("claim {claim}") },
            if limit_range { "namespace's LimitRange" } else { "namespace's storage quota" }
        ),
    )
    .object(chain.subject.clone())
    .evidence(events::quote(newest, ctx.snap.now));
    if !claim.is_empty() {
        cause = cause.object(ObjectRef::claim(ns, claim));
    }
    cause = cause.evidence_all(exhausted_quotas(ctx, ns));
    cause = cause.evidence_all(limit_ranges(ctx, ns));
    let o = &ctx.snap.objects;
    let limits = o.limit_ranges.iter().map(|x| ("LimitRange", &x.metadata));
    let quotas = o.quotas.iter().map(|x| ("ResourceQuota", &x.metadata));
    for (kind, meta) in limits.chain(quotas) {
        if meta.namespace.as_deref() == Some(ns) {
            cause = cause.object(ObjectRef::namespaced(
                kind,
                ns,
                meta.name.as_deref().unwrap_or(""),
            ));
        }
    }
    cause = if limit_range {
        cause
            .fix(format!("the LimitRange caps the size of one claim: lower the StatefulSet's volumeClaimTemplates storage request, or raise the LimitRange's max ({} get limitrange -o yaml)", kubectl_ns(ns)))
    } else {
        cause
            .fix(format!(
                "raise the quota ({} edit resourcequota <name>, hard requests.storage / persistentvolumeclaims) or free some: list claims by size with {} get pvc",
                kubectl_ns(ns),
                kubectl_ns(ns)
            ))
            .fix("DATA RISK: freeing quota by deleting claims deletes their volumes when the reclaimPolicy is Delete; check kubectl get pv first")
    };
    cause = cause.fix(format!(
        "the StatefulSet controller retries by itself once the claim fits; watch with {} get events --field-selector involvedObject.name={}",
        kubectl_ns(ns),
        w.name
    ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_every_quota_wording() {
        assert!(is_quota_text("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: persistentvolumeclaims \"data-web-0\" is forbidden: exceeded quota: storage, requested: requests.storage=10Gi, used: requests.storage=95Gi, limited: requests.storage=100Gi"));
        assert!(is_quota_text(
            "... is forbidden: Exceeded quota: storage, requested ..."
        ));
        assert!(is_quota_text("persistentvolumeclaims \"x\" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi"));
        assert!(!is_quota_text("create Pod web-0 in StatefulSet web failed error: pods \"web-0\" is forbidden: error looking up service account"));
    }
}
