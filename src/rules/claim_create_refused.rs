//! `claim-create-refused`: the API server refuses the claim a StatefulSet
//! makes from its volumeClaimTemplates, or the ephemeral volume controller
//! from a pod's generic ephemeral volume, for a reason other than a quota
//! (an admission webhook, two default classes, an invalid template, a
//! namespace being deleted, RBAC).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claim_creation::{ephemeral_refusal, newest_refusal, Refusal, Refuser};
use super::support::commands::kubectl_ns;
use crate::chain::Chain;
use crate::events;
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "claim-create-refused",
    title: "the API server refuses the StatefulSet's claim",
    severity: Severity::Error,
    link: Link::PodToClaim,
    check: Check::Subject(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/claim-create-refused.md"),
};

/// What makes the claim: a StatefulSet from its volumeClaimTemplates, or
/// the ephemeral volume controller from a pod's volume.
enum Maker<'c> {
    StatefulSet {
        ns: &'c str,
        name: &'c str,
    },
    Ephemeral {
        ns: &'c str,
        pod: &'c str,
        volume: &'c str,
    },
}

impl Maker<'_> {
    fn controller(&self) -> &'static str {
        match self {
            Maker::StatefulSet { .. } => "statefulset-controller",
            Maker::Ephemeral { .. } => "ephemeral-volume-controller",
        }
    }

    /// The summary, around what refuses the claim.
    fn summary(&self, claim: Option<&str>, by: &str) -> String {
        match self {
            Maker::StatefulSet { ns, name } => format!(
                "StatefulSet {ns}/{name} cannot create {}: {by}, so its pod is not created either",
                claim.map_or("its claim".to_string(), |c| format!("claim {c}"))
            ),
            Maker::Ephemeral { ns, pod, volume } => format!(
                "the claim \"{}\" of ephemeral volume \"{volume}\" of pod {ns}/{pod} cannot be created: {by}, so the pod cannot be scheduled",
                claim.unwrap_or_default()
            ),
        }
    }

    /// Where the claim's template is, and how to change it.
    fn template(&self) -> String {
        match self {
            Maker::StatefulSet { .. } => "the StatefulSet's volumeClaimTemplates".to_string(),
            Maker::Ephemeral { volume, .. } => {
                format!("the volumeClaimTemplate of volume \"{volume}\" in the pod's template")
            }
        }
    }

    fn change_template(&self) -> String {
        match self {
            Maker::StatefulSet { ns, name } => format!(
                "volumeClaimTemplates cannot be edited: {} delete statefulset {name} --cascade=orphan, then apply the changed StatefulSet (its running pods and existing claims stay)",
                kubectl_ns(ns)
            ),
            Maker::Ephemeral { .. } => "a pod's volumes cannot be edited: change the template of the workload that makes the pod; its next pod gets a claim from the new template".to_string(),
        }
    }

    fn retries(&self) -> String {
        match self {
            Maker::StatefulSet { ns, name } => format!(
                "the StatefulSet controller retries by itself with a growing backoff; watch with {} get events --field-selector involvedObject.name={name}",
                kubectl_ns(ns)
            ),
            Maker::Ephemeral { ns, pod, .. } => format!(
                "the ephemeral volume controller retries by itself; watch with {} get events --field-selector involvedObject.name={pod}",
                kubectl_ns(ns)
            ),
        }
    }
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    if let Some(w) = &chain.workload {
        let maker = Maker::StatefulSet {
            ns: &w.namespace,
            name: &w.name,
        };
        return newest_refusal(ctx.snap, w)
            .filter(|r| !r.refuser.is_quota())
            .map(|r| explain(ctx, chain.subject.clone(), &maker, &r))
            .into_iter()
            .collect();
    }
    let Some(pod) = &chain.pod else {
        return Vec::new();
    };
    chain
        .claims
        .iter()
        .filter(|c| c.claim.is_none())
        .filter_map(|c| {
            let usage = c.usage.as_ref().filter(|u| u.ephemeral)?;
            let refusal = ephemeral_refusal(pod, &c.name).filter(|r| !r.refuser.is_quota())?;
            let maker = Maker::Ephemeral {
                ns: pod.namespace,
                pod: pod.name,
                volume: &usage.volume,
            };
            Some(explain(ctx, pod.object(), &maker, &refusal))
        })
        .collect()
}

fn explain(ctx: &Ctx, subject: ObjectRef, maker: &Maker, refusal: &Refusal) -> Cause {
    let ns = match maker {
        Maker::StatefulSet { ns, .. } | Maker::Ephemeral { ns, .. } => *ns,
    };
    let by = match &refusal.refuser {
        Refuser::Webhook(hook) => format!("admission webhook {hook} refuses it"),
        Refuser::WebhookUnreachable(hook) => {
            format!("the API server cannot call admission webhook {hook}, which must approve it")
        }
        Refuser::MultipleDefaultClasses => {
            "the API server refuses it while more than one StorageClass is marked default"
                .to_string()
        }
        Refuser::Invalid => "the claim its template makes is not valid".to_string(),
        Refuser::NamespaceTerminating => {
            format!("namespace {ns} is being deleted, and takes no new objects")
        }
        Refuser::NotAllowed => format!("the {} may not create claims", maker.controller()),
        _ => "the API server refuses it".to_string(),
    };
    let mut cause = Cause::new(&RULE, maker.summary(refusal.claim, &by))
        .object(subject)
        .evidence(events::quote(refusal.event, ctx.snap.now));
    if let Some(c) = refusal.claim {
        cause = cause.object(ObjectRef::claim(ns, c));
    }
    let template = maker.template();
    cause = match &refusal.refuser {
        Refuser::Webhook(hook) => cause
            .fix(format!("find the webhook and its owner: kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o custom-columns=NAME:.metadata.name,WEBHOOKS:.webhooks[*].name | grep {hook}"))
            .fix(format!("change {template} to what the policy allows (its answer above says what), or ask the policy's owners for an exception"))
            .fix(maker.change_template()),
        Refuser::WebhookUnreachable(hook) => cause
            .fix(format!("the webhook's failurePolicy is Fail and its endpoint does not answer: find its service with kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o yaml | grep -B5 -A15 {hook} and check that service's pods"))
            .fix("it refuses every object it covers, not only this claim: bring its pods back, or (if its owners agree) set failurePolicy: Ignore until they are"),
        Refuser::MultipleDefaultClasses => {
            let defaults: Vec<&str> = ctx
                .snap
                .default_classes()
                .iter()
                .filter_map(|c| c.metadata.name.as_deref())
                .collect();
            if defaults.len() > 1 {
                cause = cause.evidence(format!(
                    "StorageClasses marked default: {}",
                    defaults.join(", ")
                ));
                for d in &defaults {
                    cause = cause.object(ObjectRef::cluster("StorageClass", d));
                }
            }
            cause
                .fix("keep one default: kubectl annotate storageclass <name> storageclass.kubernetes.io/is-default-class- (and the beta annotation) on each of the others")
                .fix(format!("or name a class in {template} (storageClassName); {}", maker.change_template()))
        }
        Refuser::Invalid => cause
            .fix(format!("the answer above names the field: correct it in {template}"))
            .fix(maker.change_template()),
        Refuser::NamespaceTerminating => cause
            .fix(format!("kubectl get namespace {ns} -o yaml: its deletionTimestamp, and the conditions and finalizers that hold it"))
            .fix("if the deletion is wanted, nothing is wrong with the workload; if not, the namespace cannot be saved: recreate the workload elsewhere once it is gone (DATA RISK: claims deleted with the namespace take volumes with reclaimPolicy Delete with them)"),
        Refuser::NotAllowed => cause
            .fix(format!(
                "kubectl auth can-i create persistentvolumeclaims {} --as=system:serviceaccount:kube-system:{}",
                if ns.is_empty() { String::new() } else { format!("-n {ns}") },
                maker.controller()
            ))
            .fix(format!("restore the controller's bootstrap role system:controller:{} (kubectl auth reconcile, or restart kube-apiserver, which recreates the bootstrap roles)", maker.controller())),
        _ => cause
            .confidence(Confidence::Medium)
            .fix("the answer above is the API server's own: act on it"),
    };
    cause.fix(maker.retries())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn refused(message: &str, fill: impl FnOnce(&mut crate::snapshot::Objects)) -> Vec<Cause> {
        let snap = snapshot(|o| {
            o.stateful_sets.push(crate::api::StatefulSet {
                metadata: meta("web", Some("default")),
                ..Default::default()
            });
            o.events
                .push(event("FailedCreate", message).warning().about(
                    "StatefulSet",
                    "default",
                    "web",
                ));
            fill(o);
        });
        causes(&RULE, &snap)
    }

    #[test]
    fn a_webhook_refusal_names_the_webhook_and_the_template_change() {
        let c = refused("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: admission webhook \"validate.kyverno.svc-fail\" denied the request: resource PersistentVolumeClaim/default/data-web-0 was blocked due to the following policies: restrict-storage-class", |_| {});
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary
                .contains("admission webhook validate.kyverno.svc-fail refuses it"),
            "{}",
            c[0].summary
        );
        let all = text(&c[0]);
        assert!(all.contains("--cascade=orphan"), "{all}");
        assert!(c[0]
            .objects
            .contains(&ObjectRef::claim("default", "data-web-0")));
    }

    #[test]
    fn two_default_classes_are_named() {
        let c = refused("create Pod web-0 in StatefulSet web failed error: failed to create PVC data-web-0: Internal error occurred: 2 default StorageClasses were found", |o| {
            o.classes.push(class("gp2", "ebs.csi.aws.com").default_class());
            o.classes.push(class("gp3", "ebs.csi.aws.com").default_class());
        });
        assert_eq!(c.len(), 1);
        let all = text(&c[0]);
        assert!(all.contains("StorageClasses marked default: "), "{all}");
        assert!(all.contains("gp2") && all.contains("gp3"), "{all}");
    }

    #[test]
    fn quota_refusals_and_created_claims_are_not_this_rule() {
        let quota = refused("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: persistentvolumeclaims \"data-web-0\" is forbidden: exceeded quota: storage, requested: requests.storage=10Gi, used: requests.storage=45Gi, limited: requests.storage=50Gi", |_| {});
        assert!(quota.is_empty());
        let created = refused("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: etcdserver: request timed out", |o| {
            o.claims.push(pvc("data-web-0"));
        });
        assert!(created.is_empty());
        let other = refused("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: etcdserver: request timed out", |_| {});
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].confidence, Confidence::Medium);
    }

    #[test]
    fn a_pod_refused_for_a_reason_of_its_own_is_not_storage() {
        let c = refused("create Pod web-0 in StatefulSet web failed error: pods \"web-0\" is forbidden: error looking up service account default/web: serviceaccount \"web\" not found", |_| {});
        assert!(c.is_empty());
    }

    #[test]
    fn an_ephemeral_claim_refused_by_an_unreachable_webhook_names_it() {
        let snap = snapshot(|o| {
            o.pods.push(pod("etl-0").ephemeral("scratch").unschedulable(
                "0/3 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim \"etl-0-scratch\".",
            ));
            o.events.push(
                event("FailedBinding", "ephemeral volume scratch: create PVC etl-0-scratch: Internal error occurred: failed calling webhook \"validate.kyverno.svc-fail\": failed to call webhook: Post \"https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s\": dial tcp 10.96.0.12:443: connect: connection refused")
                    .warning()
                    .about("Pod", "default", "etl-0"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary
                .contains("the claim \"etl-0-scratch\" of ephemeral volume \"scratch\"")
                && c[0]
                    .summary
                    .contains("cannot call admission webhook validate.kyverno.svc-fail"),
            "{}",
            c[0].summary
        );
        assert!(text(&c[0]).contains("failurePolicy"));
    }
}
