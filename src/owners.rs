//! Which workload a pod belongs to, through the owner references of the
//! pod and of the ReplicaSet or Job between them.

use crate::api::{Pod, ReplicaSet};
use crate::model::ObjectRef;
use crate::scope::WorkloadKind;
use crate::snapshot::Snapshot;

/// The pod's workload, following a ReplicaSet up to its Deployment.
pub fn owner_of(snap: &Snapshot, pod: &Pod) -> Option<ObjectRef> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let owner = pod
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))?;
    if owner.kind == "ReplicaSet" {
        let rs = snap.objects.replica_sets.iter().find(|rs| {
            rs.metadata.namespace.as_deref() == Some(ns)
                && rs.metadata.name.as_deref() == Some(&owner.name)
        });
        let deployment = match rs {
            Some(rs) => rs
                .metadata
                .owner_references
                .as_ref()
                .and_then(|o| o.iter().find(|o| o.kind == "Deployment"))
                .map(|o| o.name.clone()),
            // Without the ReplicaSet, its name still tells: <deployment>-<pod-template-hash>.
            None => pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
                .and_then(|hash| owner.name.strip_suffix(&format!("-{hash}")))
                .map(str::to_string),
        };
        if let Some(d) = deployment {
            return Some(ObjectRef::namespaced("Deployment", ns, &d));
        }
    }
    Some(ObjectRef::namespaced(&owner.kind, ns, &owner.name))
}

/// The ReplicaSets a Deployment controls: by its uid when both sides carry
/// one, else by its name.
pub fn replica_sets_of<'a>(
    snap: &'a Snapshot,
    ns: &'a str,
    deployment: &'a str,
    uid: Option<&'a str>,
) -> impl Iterator<Item = &'a ReplicaSet> + 'a {
    snap.objects.replica_sets.iter().filter(move |rs| {
        rs.metadata.namespace.as_deref() == Some(ns)
            && rs.metadata.owner_references.iter().flatten().any(|o| {
                o.controller == Some(true)
                    && o.kind == "Deployment"
                    && match uid {
                        Some(uid) if !o.uid.is_empty() => o.uid == uid,
                        _ => o.name == deployment,
                    }
            })
    })
}

/// Whether the pod belongs to the workload: its controller, a Deployment
/// above its ReplicaSet, or a CronJob above its Job.
pub fn belongs_to(snap: &Snapshot, pod: &Pod, kind: WorkloadKind, name: &str) -> bool {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return false;
    };
    match kind {
        WorkloadKind::Deployment => {
            owner_of(snap, pod) == Some(ObjectRef::namespaced("Deployment", ns, name))
        }
        WorkloadKind::CronJob if owner.kind == "Job" => snap
            .objects
            .jobs
            .iter()
            .find(|j| {
                j.metadata.namespace.as_deref() == Some(ns)
                    && j.metadata.name.as_deref() == Some(&owner.name)
            })
            .and_then(|j| j.metadata.owner_references.as_ref())
            .is_some_and(|refs| refs.iter().any(|r| r.kind == "CronJob" && r.name == name)),
        _ => owner.kind == kind.as_str() && owner.name == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn owner_follows_replica_set_to_deployment() {
        let p = pod("vllm-7d9c8b6f5-x2x9z")
            .owned_by("ReplicaSet", "vllm-7d9c8b6f5")
            .label("pod-template-hash", "7d9c8b6f5");
        let snap = snapshot(|o| o.pods.push(p.clone()));
        assert_eq!(
            owner_of(&snap, &p).unwrap().to_string(),
            "Deployment/default/vllm"
        );
    }
}
