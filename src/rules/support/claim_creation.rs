//! Why a StatefulSet could not create a claim of its volumeClaimTemplates,
//! or the ephemeral volume controller a pod's claim, read from their
//! events. A StatefulSet's `FailedCreate`: `create Claim <claim> for Pod <pod>
//! in StatefulSet <set> failed error: <answer>`, or the pod's twin `create
//! Pod <pod> in StatefulSet <set> failed error: failed to create PVC
//! <claim>: <answer>`.

use crate::api::Event;
use crate::chain::{PodChain, WorkloadChain};
use crate::events::{self, Timeline};
use crate::snapshot::Snapshot;

/// What refused the claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refuser {
    /// A ResourceQuota whose storage is used up.
    Quota,
    /// A ResourceQuota whose usage nothing has counted yet.
    UncountedQuota,
    /// A LimitRange's bounds on one claim's size.
    LimitRange,
    /// A validating or mutating admission webhook said no.
    Webhook(String),
    /// An admission webhook the API server could not ask, under
    /// `failurePolicy: Fail`.
    WebhookUnreachable(String),
    /// More than one default StorageClass (admission before v1.26).
    MultipleDefaultClasses,
    /// The claim the template makes is not valid.
    Invalid,
    /// The namespace is being deleted.
    NamespaceTerminating,
    /// The controller may not create claims (RBAC).
    NotAllowed,
    /// Anything else the API server answered.
    Other,
}

/// A claim that could not be created, and why.
#[derive(Debug, Clone)]
pub struct Refusal<'a> {
    pub event: &'a Event,
    /// The claim's name, when the message names it.
    pub claim: Option<&'a str>,
    /// The API server's answer.
    pub answer: &'a str,
    pub refuser: Refuser,
}

/// The newest current refusal of a claim of the StatefulSet, unless that
/// claim exists by now (a later try created it).
pub fn newest_refusal<'a>(snap: &Snapshot, w: &'a WorkloadChain<'a>) -> Option<Refusal<'a>> {
    let refusal = Timeline::new(&w.events)
        .current_all("FailedCreate")
        .find_map(parse)?;
    let created = refusal
        .claim
        .is_some_and(|c| snap.claim(&w.namespace, c).is_some());
    (!created).then_some(refusal)
}

/// The newest current refusal of the claim of a pod's generic ephemeral
/// volume: the pod's `FailedBinding`, `ephemeral volume <volume>: create
/// PVC <claim>: <answer>`.
pub fn ephemeral_refusal<'a>(pod: &'a PodChain<'a>, claim: &str) -> Option<Refusal<'a>> {
    Timeline::new(&pod.events)
        .current_all("FailedBinding")
        .find_map(|event| {
            let rest = events::message(event).strip_prefix("ephemeral volume ")?;
            let (_, rest) = rest.split_once(": create PVC ")?;
            let (name, answer) = rest.split_once(": ")?;
            (name == claim).then(|| Refusal {
                event,
                claim: Some(name),
                answer,
                refuser: refuser(answer),
            })
        })
}

fn parse(event: &Event) -> Option<Refusal<'_>> {
    let message = events::message(event);
    let (claim, answer) = if let Some(rest) = message.strip_prefix("create Claim ") {
        let claim = rest.split_whitespace().next();
        (claim, rest.split_once(" failed error: ")?.1)
    } else {
        let (_, after) = message.split_once(" failed error: failed to create PVC ")?;
        let (claim, answer) = after.split_once(": ")?;
        (Some(claim), answer)
    };
    Some(Refusal {
        event,
        claim,
        answer,
        refuser: refuser(answer),
    })
}

/// The quoted name after `marker`: `admission webhook "x" denied`.
fn quoted_after(answer: &str, marker: &str) -> Option<String> {
    let (_, rest) = answer.split_once(marker)?;
    let rest = rest.strip_prefix('"')?;
    rest.split_once('"').map(|(name, _)| name.to_string())
}

fn refuser(answer: &str) -> Refuser {
    let lower = answer.to_ascii_lowercase();
    if lower.contains("status unknown for quota") {
        Refuser::UncountedQuota
    } else if lower.contains("exceeded quota") {
        Refuser::Quota
    } else if answer.contains("storage usage per PersistentVolumeClaim") {
        Refuser::LimitRange
    } else if let Some(name) =
        quoted_after(answer, "admission webhook ").filter(|_| answer.contains("denied the request"))
    {
        Refuser::Webhook(name)
    } else if let Some(name) = quoted_after(answer, "failed calling webhook ") {
        Refuser::WebhookUnreachable(name)
    } else if answer.contains("default StorageClasses were found") {
        Refuser::MultipleDefaultClasses
    } else if answer.contains("because it is being terminated") {
        Refuser::NamespaceTerminating
    } else if answer.contains("cannot create resource \"persistentvolumeclaims\"") {
        Refuser::NotAllowed
    } else if answer.contains(" is invalid: ") {
        Refuser::Invalid
    } else {
        Refuser::Other
    }
}

impl Refuser {
    /// A quota or a LimitRange: the `storage-quota-exceeded` rule's.
    pub fn is_quota(&self) -> bool {
        matches!(
            self,
            Refuser::Quota | Refuser::UncountedQuota | Refuser::LimitRange
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn refusal_of(message: &str) -> (Option<String>, String, Refuser) {
        let e = event("FailedCreate", message).warning();
        let r = parse(&e).expect("a claim refusal");
        (r.claim.map(String::from), r.answer.to_string(), r.refuser)
    }

    #[test]
    fn reads_the_claim_event_and_its_pod_twin() {
        let (claim, answer, refuser) = refusal_of("create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: persistentvolumeclaims \"data-web-0\" is forbidden: exceeded quota: storage, requested: requests.storage=10Gi, used: requests.storage=95Gi, limited: requests.storage=100Gi");
        assert_eq!(claim.as_deref(), Some("data-web-0"));
        assert!(answer.starts_with("persistentvolumeclaims \"data-web-0\" is forbidden"));
        assert_eq!(refuser, Refuser::Quota);
        let (claim, answer, refuser) = refusal_of("create Pod web-0 in StatefulSet web failed error: failed to create PVC data-web-0: Internal error occurred: 2 default StorageClasses were found");
        assert_eq!(claim.as_deref(), Some("data-web-0"));
        assert_eq!(
            answer,
            "Internal error occurred: 2 default StorageClasses were found"
        );
        assert_eq!(refuser, Refuser::MultipleDefaultClasses);
    }

    #[test]
    fn tells_each_refuser_by_its_wording() {
        let of = |answer: &str| {
            refusal_of(&format!(
                "create Claim d-0 for Pod p-0 in StatefulSet p failed error: {answer}"
            ))
            .2
        };
        assert_eq!(of("persistentvolumeclaims \"d-0\" is forbidden: Exceeded quota: q, requested: requests.storage=1Gi"), Refuser::Quota);
        assert_eq!(
            of("persistentvolumeclaims \"d-0\" is forbidden: status unknown for quota: q, resources: requests.storage"),
            Refuser::UncountedQuota
        );
        assert_eq!(of("persistentvolumeclaims \"d-0\" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi, but request is 10Gi"), Refuser::LimitRange);
        assert_eq!(
            of("admission webhook \"validate.kyverno.svc-fail\" denied the request: resource PersistentVolumeClaim/shop/d-0 was blocked"),
            Refuser::Webhook("validate.kyverno.svc-fail".into())
        );
        assert_eq!(
            of("Internal error occurred: failed calling webhook \"pvc.policy.example.com\": Post \"https://policy.svc:443/validate\": dial tcp 10.96.0.12:443: connect: connection refused"),
            Refuser::WebhookUnreachable("pvc.policy.example.com".into())
        );
        assert_eq!(
            of("persistentvolumeclaims \"d-0\" is forbidden: unable to create new content in namespace shop because it is being terminated"),
            Refuser::NamespaceTerminating
        );
        assert_eq!(
            of("persistentvolumeclaims is forbidden: User \"system:serviceaccount:kube-system:statefulset-controller\" cannot create resource \"persistentvolumeclaims\" in API group \"\" in the namespace \"shop\""),
            Refuser::NotAllowed
        );
        assert_eq!(
            of("PersistentVolumeClaim \"d-0\" is invalid: spec.resources[storage]: Required value"),
            Refuser::Invalid
        );
        assert_eq!(of("etcdserver: request timed out"), Refuser::Other);
    }

    #[test]
    fn a_pod_refused_for_another_reason_is_no_claim_refusal() {
        let e = event(
            "FailedCreate",
            "create Pod web-0 in StatefulSet web failed error: pods \"web-0\" is forbidden: error looking up service account shop/web: serviceaccount \"web\" not found",
        );
        assert!(parse(&e).is_none());
    }
}
