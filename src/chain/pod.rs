//! A pod, its node and its scheduling state, and what kubectl would say
//! about a pod.

use super::volumes::{pod_volumes, PodVolume};
use crate::api::{Event, Pod};
use crate::model::ObjectRef;
use crate::scheduler::{self, Reason, ReasonKind, Verdict};
use crate::snapshot::Snapshot;
use k8s_openapi::api::core::v1::Node;

/// Where the scheduler's verdict was read from.
#[derive(Debug, Clone)]
pub struct Scheduling {
    pub verdict: Verdict,
    /// `PodScheduled condition` or the event quoted.
    pub source: String,
}

/// A pod and its scheduling state.
#[derive(Debug, Clone)]
pub struct PodChain<'a> {
    pub pod: &'a Pod,
    /// Running and Ready ([`is_healthy`]), read once: every rule asks.
    pub healthy: bool,
    pub namespace: &'a str,
    pub name: &'a str,
    pub node: Option<&'a Node>,
    pub node_name: Option<&'a str>,
    pub events: Vec<&'a Event>,
    pub scheduling: Option<Scheduling>,
    /// Every volume of the pod, claims included, with its mounts.
    pub volumes: Vec<PodVolume<'a>>,
    /// The previous run's log tails of its failing containers (`--logs`).
    pub logs: Vec<&'a crate::snapshot::ContainerLog>,
}

impl<'a> PodChain<'a> {
    pub fn resolve(snap: &'a Snapshot, pod: &'a Pod) -> Self {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let name = pod.metadata.name.as_deref().unwrap_or("");
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty());
        let events = snap.events_for("Pod", namespace, name, pod.metadata.uid.as_deref());
        let scheduling = scheduling_of(pod, &events);
        PodChain {
            pod,
            healthy: is_healthy(pod),
            node: node_name.and_then(|n| snap.node(n)),
            namespace,
            name,
            node_name,
            events,
            scheduling,
            volumes: pod_volumes(pod),
            logs: snap.logs_of(namespace, name).collect(),
        }
    }

    pub fn phase(&self) -> &'a str {
        self.pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending")
    }

    pub fn object(&self) -> ObjectRef {
        ObjectRef::pod(self.namespace, self.name)
    }
}

/// Whether the pod is Running and Ready.
pub fn is_healthy(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    running && ready
}

/// Whether any volume of the pod is a claim (direct or generic ephemeral),
/// without building the list.
pub(super) fn uses_claims(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|v| {
            v.iter()
                .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
        })
}

/// Whether the pod has finished (Succeeded or Failed) and so holds nothing up.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Pod failure reasons set because of volumes (1.34+: the attach limit).
const STORAGE_FAILURE_REASONS: &[&str] = &["VolumeAttachmentLimitExceeded"];

/// Why the scheduler has not placed the pod: its PodScheduled condition,
/// else its current FailedScheduling event while it has no node.
pub fn scheduling_of(pod: &Pod, events: &[&Event]) -> Option<Scheduling> {
    let condition = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        });
    let from_condition = condition
        .and_then(|c| c.message.as_deref())
        .filter(|m| !m.trim().is_empty())
        .map(|m| Scheduling {
            verdict: scheduler::parse(m),
            source: "PodScheduled condition".to_string(),
        });
    let has_node = pod
        .spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty());
    from_condition.or_else(|| {
        if has_node {
            return None;
        }
        crate::events::Timeline::new(events)
            .current("FailedScheduling")
            .map(|e| Scheduling {
                verdict: scheduler::parse(crate::events::message(e)),
                source: "FailedScheduling event".to_string(),
            })
    })
}

/// The taint the node lifecycle controller puts on a node under DiskPressure.
pub const DISK_PRESSURE_TAINT: &str = "node.kubernetes.io/disk-pressure";

/// Whether a node is short of disk: its DiskPressure condition, or the
/// taint that keeps pods off it.
pub fn under_disk_pressure(node: &Node) -> bool {
    let condition = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "DiskPressure" && c.status == "True")
        });
    has_disk_pressure_taint(node) || condition
}

pub fn has_disk_pressure_taint(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|t| t.iter().any(|t| t.key == DISK_PRESSURE_TAINT))
}

/// The scheduler's reason that keeps the pod off nodes for their disk:
/// disk pressure, too little ephemeral storage, or, in the wording that
/// names no taint (`node(s) had taints that the pod didn't tolerate`), a
/// taint while some node is under disk pressure.
pub fn node_disk_block<'s>(snap: &Snapshot, scheduling: &'s Scheduling) -> Option<&'s Reason> {
    scheduling
        .verdict
        .has(|k| {
            matches!(
                k,
                ReasonKind::NodeDiskPressure | ReasonKind::InsufficientEphemeralStorage
            )
        })
        .or_else(|| {
            let pressured = snap.objects.nodes.iter().any(under_disk_pressure);
            scheduling.verdict.reasons.iter().find(|r| {
                pressured
                    && r.kind == ReasonKind::Other
                    && r.text.contains("taints that the pod didn't tolerate")
            })
        })
}

/// A finished pod that storage killed is still worth a diagnosis: over the
/// node's volume limit, or evicted for the node's disk or its own
/// ephemeral-storage limit.
pub fn failed_for_storage(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let reason = status.and_then(|s| s.reason.as_deref());
    status.and_then(|s| s.phase.as_deref()) == Some("Failed")
        && (reason.is_some_and(|r| STORAGE_FAILURE_REASONS.contains(&r))
            || disk_eviction_of(pod).is_some())
}

/// Why the kubelet evicted the pod for disk, from its status.
pub fn disk_eviction_of(pod: &Pod) -> Option<crate::volume_errors::DiskEviction> {
    let status = pod.status.as_ref()?;
    (status.reason.as_deref() == Some("Evicted"))
        .then(|| crate::volume_errors::disk_eviction(status.message.as_deref()?))
        .flatten()
}

/// The state kubectl would show: `Pending`, `ContainerCreating`,
/// `ImagePullBackOff`, `Running`, `Terminating` ...
pub fn pod_state(pod: &Pod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    let waiting = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            status
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
        .find_map(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.clone())
        });
    match (phase, waiting) {
        ("Pending" | "Running", Some(reason)) => reason,
        ("Running", None) if !is_healthy(pod) => "Running (not ready)".into(),
        (phase, _) => phase.into(),
    }
}
