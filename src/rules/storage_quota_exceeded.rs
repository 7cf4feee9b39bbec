//! `storage-quota-exceeded`: a ResourceQuota or LimitRange refuses the
//! claim, so a StatefulSet cannot create it (nor the pod that needs it).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claim_creation::{newest_refusal, Refuser};
use super::support::commands::kubectl_ns;
use crate::chain::Chain;
use crate::events;
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

/// One storage limit of a quota's status: its name, the resource, the
/// limit, and the usage counted (none until the quota controller counts).
struct StorageLimit<'a> {
    quota: &'a str,
    key: &'a str,
    hard: &'a str,
    used: Option<&'a str>,
}

fn storage_limits<'a>(ctx: &Ctx<'a>, ns: &'a str) -> impl Iterator<Item = StorageLimit<'a>> + 'a {
    ctx.snap
        .objects
        .quotas
        .iter()
        .filter(move |q| q.metadata.namespace.as_deref() == Some(ns))
        .flat_map(|q| {
            let quota = q.metadata.name.as_deref().unwrap_or("");
            let status = q.status.as_ref();
            let used = status.and_then(|s| s.used.as_ref());
            status
                .and_then(|s| s.hard.as_ref())
                .into_iter()
                .flatten()
                .filter(|(key, _)| {
                    *key == "requests.storage"
                        || *key == "persistentvolumeclaims"
                        || key.ends_with(".storageclass.storage.k8s.io/requests.storage")
                        || key.ends_with(".storageclass.storage.k8s.io/persistentvolumeclaims")
                })
                .map(move |(key, hard)| StorageLimit {
                    quota,
                    key,
                    hard: &hard.0,
                    used: used.and_then(|u| u.get(key)).map(|q| q.0.as_str()),
                })
        })
}

/// Storage quotas of a namespace at or near their limit (90% or more:
/// the next claim is refused once used + request exceeds hard).
fn exhausted_quotas(ctx: &Ctx, ns: &str) -> Vec<String> {
    storage_limits(ctx, ns)
        .filter_map(|l| {
            let used = l.used?;
            let (u, h) = (quantity::parse(used)?, quantity::parse(l.hard)?);
            (u >= h * 0.9).then(|| {
                format!(
                    "ResourceQuota {}: {} used {used} of {}",
                    l.quota, l.key, l.hard
                )
            })
        })
        .collect()
}

/// Storage limits whose usage the quota's status does not count.
fn uncounted_quotas(ctx: &Ctx, ns: &str) -> Vec<String> {
    storage_limits(ctx, ns)
        .filter(|l| l.used.is_none())
        .map(|l| {
            format!(
                "ResourceQuota {}: status.hard limits {} to {}, and status.used has no count of it",
                l.quota, l.key, l.hard
            )
        })
        .collect()
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
    let Some(refusal) = newest_refusal(ctx.snap, w).filter(|r| r.refuser.is_quota()) else {
        return Vec::new();
    };
    let newest = refusal.event;
    let ns = w.namespace.as_str();
    let limit_range = refusal.refuser == Refuser::LimitRange;
    let uncounted = refusal.refuser == Refuser::UncountedQuota;
    let claim = refusal.claim.unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "StatefulSet {ns}/{} cannot create {}: the {} refuses it, so its pod is not created either",
            w.name,
            if claim.is_empty() { "its claim".to_string() } else { format!("claim {claim}") },
            if limit_range {
                "namespace's LimitRange"
            } else if uncounted {
                "namespace's storage quota (its usage not counted yet)"
            } else {
                "namespace's storage quota"
            }
        ),
    )
    .object(chain.subject.clone())
    .evidence(events::quote(newest, ctx.snap.now));
    if !claim.is_empty() {
        cause = cause.object(ObjectRef::claim(ns, claim));
    }
    cause = cause.evidence_all(exhausted_quotas(ctx, ns));
    cause = cause.evidence_all(uncounted_quotas(ctx, ns));
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
    } else if uncounted {
        cause
            .fix(format!(
                "the quota's status.used lacks a resource its status.hard limits ({} get resourcequota -o yaml): the resource quota controller of kube-controller-manager counts it; check that it runs and what its log says about resource quota",
                kubectl_ns(ns)
            ))
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
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::{ResourceQuota, ResourceQuotaStatus};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn refused_statefulset(message: &str, used: &[(&str, &str)]) -> Vec<Cause> {
        let quantities = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                .collect()
        };
        let snap = snapshot(|o| {
            o.stateful_sets.push(crate::api::StatefulSet {
                metadata: meta("web", Some("default")),
                ..Default::default()
            });
            o.quotas.push(ResourceQuota {
                metadata: meta("storage", Some("default")),
                status: Some(ResourceQuotaStatus {
                    hard: Some(quantities(&[("requests.storage", "50Gi"), ("pods", "10")])),
                    used: Some(quantities(used)),
                }),
                ..Default::default()
            });
            o.events
                .push(event("FailedCreate", message).warning().about(
                    "StatefulSet",
                    "default",
                    "web",
                ));
        });
        causes(&RULE, &snap)
    }

    #[test]
    fn an_uncounted_quota_points_at_its_missing_usage_and_the_quota_controller() {
        let c = refused_statefulset(
            "create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: persistentvolumeclaims \"data-web-0\" is forbidden: status unknown for quota: storage, resources: requests.storage",
            &[("pods", "3")],
        );
        assert_eq!(c.len(), 1);
        let all = text(&c[0]);
        assert!(all.contains("its usage not counted yet"), "{all}");
        assert!(
            all.contains("ResourceQuota storage: status.hard limits requests.storage to 50Gi, and status.used has no count of it"),
            "{all}"
        );
        assert!(all.contains("resource quota controller"), "{all}");
        assert!(!all.contains("raise the quota"), "{all}");
    }

    #[test]
    fn a_full_quota_is_shown_with_its_usage() {
        let c = refused_statefulset(
            "create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: persistentvolumeclaims \"data-web-0\" is forbidden: exceeded quota: storage, requested: requests.storage=10Gi, used: requests.storage=45Gi, limited: requests.storage=50Gi",
            &[("requests.storage", "45Gi"), ("pods", "3")],
        );
        assert_eq!(c.len(), 1);
        let all = text(&c[0]);
        assert!(
            all.contains("ResourceQuota storage: requests.storage used 45Gi of 50Gi"),
            "{all}"
        );
        assert!(!all.contains("no count"), "{all}");
        assert!(all.contains("raise the quota"), "{all}");
    }
}
