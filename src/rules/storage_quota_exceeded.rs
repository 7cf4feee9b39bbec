//! `storage-quota-exceeded`: a ResourceQuota or LimitRange refuses the
//! claim, so a StatefulSet cannot create it (nor the pod that needs it),
//! or the ephemeral volume controller cannot create a pod's claim.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claim_creation::{ephemeral_refusal, newest_refusal, Refuser};
use super::support::commands::kubectl_ns;
use crate::chain::{Chain, ClaimChain, PodChain, WorkloadChain};
use crate::events;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::quantity;
use k8s_openapi::api::core::v1::PersistentVolumeClaimSpec;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

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
    let storage = |m: Option<&BTreeMap<String, Quantity>>| {
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

/// The cause names the namespace's LimitRanges and ResourceQuotas.
fn with_limit_objects(ctx: &Ctx, ns: &str, mut cause: Cause) -> Cause {
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
    cause
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    if let Some(w) = &chain.workload {
        return statefulset(ctx, chain, w);
    }
    let Some(pod) = &chain.pod else {
        return Vec::new();
    };
    chain
        .claims
        .iter()
        .filter(|c| c.claim.is_none())
        .filter_map(|c| ephemeral(ctx, pod, c))
        .collect()
}

/// The claim template of a pod's generic ephemeral volume.
fn ephemeral_template<'a>(
    pod: &PodChain<'a>,
    volume: &str,
) -> Option<&'a PersistentVolumeClaimSpec> {
    pod.pod
        .spec
        .as_ref()?
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name == volume)?
        .ephemeral
        .as_ref()?
        .volume_claim_template
        .as_ref()
        .map(|t| &t.spec)
}

/// What a new claim of `class` asking `ask` would break: each storage
/// limit of the namespace's quotas that used + ask exceeds, and each
/// LimitRange bound it falls outside.
fn would_refuse(ctx: &Ctx, ns: &str, class: Option<&str>, ask: &str) -> Vec<String> {
    let ask_bytes = quantity::parse(ask);
    let mut out: Vec<String> = storage_limits(ctx, ns)
        .filter_map(|l| {
            let (scope, resource) = match l.key.split_once(".storageclass.storage.k8s.io/") {
                Some((for_class, resource)) => (Some(for_class), resource),
                None => (None, l.key),
            };
            if scope.is_some() && scope != class {
                return None;
            }
            let adds = match resource {
                "requests.storage" => ask_bytes?,
                _ => 1.0,
            };
            let (used, hard) = (quantity::parse(l.used?)?, quantity::parse(l.hard)?);
            (used + adds > hard).then(|| {
                format!(
                    "ResourceQuota {}: {} used {} of {}, and the claim adds {}",
                    l.quota,
                    l.key,
                    l.used.unwrap_or("0"),
                    l.hard,
                    if resource == "requests.storage" {
                        ask
                    } else {
                        "1"
                    }
                )
            })
        })
        .collect();
    for lr in ctx
        .snap
        .objects
        .limit_ranges
        .iter()
        .filter(|l| l.metadata.namespace.as_deref() == Some(ns))
    {
        let name = lr.metadata.name.as_deref().unwrap_or("");
        for item in lr.spec.iter().flat_map(|s| s.limits.iter()) {
            if item.type_ != "PersistentVolumeClaim" {
                continue;
            }
            fn bound(m: Option<&BTreeMap<String, Quantity>>) -> Option<(&str, f64)> {
                let q = m?.get("storage")?;
                Some((q.0.as_str(), quantity::parse(&q.0)?))
            }
            if let (Some((max, max_bytes)), Some(a)) = (bound(item.max.as_ref()), ask_bytes) {
                if a > max_bytes {
                    out.push(format!(
                        "LimitRange {name}: at most {max} per claim, and the claim asks {ask}"
                    ));
                }
            }
            if let (Some((min, min_bytes)), Some(a)) = (bound(item.min.as_ref()), ask_bytes) {
                if a < min_bytes {
                    out.push(format!(
                        "LimitRange {name}: at least {min} per claim, and the claim asks {ask}"
                    ));
                }
            }
        }
    }
    out
}

/// A generic ephemeral volume's claim that does not exist: refused by a
/// quota or LimitRange as the pod's `FailedBinding` says, or, when no
/// event says (it expired, or the controller is older), as the namespace's
/// quotas and LimitRanges weighed against the template say.
fn ephemeral(ctx: &Ctx, pod: &PodChain, c: &ClaimChain) -> Option<Cause> {
    let usage = c.usage.as_ref().filter(|u| u.ephemeral)?;
    let spec = ephemeral_template(pod, &usage.volume)?;
    let ask = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.as_str());
    let default_class = ctx
        .snap
        .default_classes()
        .first()
        .and_then(|sc| sc.metadata.name.clone());
    let class = match spec.storage_class_name.as_deref() {
        Some(named) => Some(named.to_string()),
        None => default_class,
    };
    let ns = pod.namespace;
    let refused = ask.map_or_else(Vec::new, |ask| would_refuse(ctx, ns, class.as_deref(), ask));
    let said = ephemeral_refusal(pod, &c.name);
    match &said {
        Some(r) if !r.refuser.is_quota() => return None,
        None if refused.is_empty() || !ctx.snap.has("persistentvolumeclaims") => return None,
        _ => {}
    }
    let limit_range = match &said {
        Some(r) => r.refuser == Refuser::LimitRange,
        None => refused.iter().all(|r| r.starts_with("LimitRange")),
    };
    let by = if limit_range {
        "namespace's LimitRange"
    } else {
        "namespace's storage quota"
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "the claim \"{}\" of ephemeral volume \"{}\" of pod {ns}/{} cannot be created: the {by} refuses it",
            c.name, usage.volume, pod.name
        ),
    )
    .object(pod.object())
    .object(ObjectRef::claim(ns, &c.name));
    cause = match &said {
        Some(r) => cause
            .evidence(events::quote(r.event, ctx.snap.now))
            .evidence_all(refused)
            .evidence_all(uncounted_quotas(ctx, ns)),
        None => cause
            .evidence_all(refused)
            .evidence("no event of the ephemeral volume controller says why (they expire after an hour): the quota and the template say it")
            .confidence(Confidence::Medium),
    };
    cause = with_limit_objects(ctx, ns, cause);
    Some(
        cause
            .fix(format!(
                "raise the quota ({} edit resourcequota <name>) or lower the storage request of volume \"{}\"'s volumeClaimTemplate in the pod's template",
                kubectl_ns(ns),
                usage.volume
            ))
            .fix("the ephemeral volume controller retries by itself once the claim fits"),
    )
}

fn statefulset(ctx: &Ctx, chain: &Chain, w: &WorkloadChain) -> Vec<Cause> {
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
    cause = with_limit_objects(ctx, ns, cause);
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

    /// Pod web-0 with ephemeral volume "scratch" asking `ask` of class
    /// `class`, in a namespace whose quota allows `hard` and uses `used`.
    fn ephemeral_pod(ask: &str, class: &str, quota: &[(&str, &str, &str)]) -> Vec<Cause> {
        let snap = snapshot(|o| {
            let mut p = pod("web-0").ephemeral("scratch").unschedulable(
                "0/3 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim \"web-0-scratch\".",
            );
            let spec = p.spec.as_mut().unwrap().volumes.as_mut().unwrap()[0]
                .ephemeral
                .as_mut()
                .unwrap()
                .volume_claim_template
                .as_mut()
                .unwrap();
            spec.spec.storage_class_name = Some(class.into());
            spec.spec.resources = Some(k8s_openapi::api::core::v1::VolumeResourceRequirements {
                requests: Some([("storage".to_string(), Quantity(ask.into()))].into()),
                ..Default::default()
            });
            o.pods.push(p);
            o.claims.push(pvc("other"));
            o.quotas.push(ResourceQuota {
                metadata: meta("storage", Some("default")),
                status: Some(ResourceQuotaStatus {
                    hard: Some(
                        quota
                            .iter()
                            .map(|(k, h, _)| (k.to_string(), Quantity(h.to_string())))
                            .collect(),
                    ),
                    used: Some(
                        quota
                            .iter()
                            .map(|(k, _, u)| (k.to_string(), Quantity(u.to_string())))
                            .collect(),
                    ),
                }),
                ..Default::default()
            });
        });
        causes(&RULE, &snap)
    }

    #[test]
    fn an_ephemeral_claim_the_quota_cannot_fit_is_refused_by_it() {
        let c = ephemeral_pod("10Gi", "fast", &[("requests.storage", "50Gi", "45Gi")]);
        assert_eq!(c.len(), 1);
        let all = text(&c[0]);
        assert!(
            c[0].summary
                .contains("the claim \"web-0-scratch\" of ephemeral volume \"scratch\""),
            "{all}"
        );
        assert!(
            all.contains("ResourceQuota storage: requests.storage used 45Gi of 50Gi, and the claim adds 10Gi"),
            "{all}"
        );
    }

    #[test]
    fn an_ephemeral_claim_that_fits_or_is_of_another_class_is_not_refused() {
        assert!(ephemeral_pod("4Gi", "fast", &[("requests.storage", "50Gi", "45Gi")]).is_empty());
        assert!(ephemeral_pod(
            "10Gi",
            "fast",
            &[(
                "slow.storageclass.storage.k8s.io/requests.storage",
                "50Gi",
                "45Gi"
            )]
        )
        .is_empty());
        let c = ephemeral_pod(
            "10Gi",
            "fast",
            &[(
                "fast.storageclass.storage.k8s.io/persistentvolumeclaims",
                "3",
                "3",
            )],
        );
        assert_eq!(c.len(), 1);
        assert!(text(&c[0]).contains("persistentvolumeclaims used 3 of 3, and the claim adds 1"));
    }
}
