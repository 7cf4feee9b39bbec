//! What a source read: the objects, what it could not read (gaps), and the
//! evidence that is not an object (volume usage, log tails); duplicates
//! dropped and the moment of a capture estimated.

use crate::api::{
    CronJob, DaemonSet, Deployment, Event, Job, PersistentVolume, Pod, ReplicaSet, StatefulSet,
    VolumeAttachment,
};
use crate::events;
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{LimitRange, Node, PersistentVolumeClaim, ResourceQuota};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, CSIStorageCapacity, StorageClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

/// Maps keyed by names from the input (see `Snapshot`).
type HashMap<K, V> = foldhash::HashMap<K, V>;

/// Something the source could not read; rules lower their confidence where
/// they needed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The resource, as the API names it (`storageclasses`).
    pub resource: String,
    /// `Forbidden`, `NotFound`, `NotCaptured`, `InvalidObject`, ...
    pub reason: String,
    pub message: String,
}

/// What the kubelet reports about one pod volume in its `/stats/summary`
/// (`--usage`). Plain numbers; a field the kubelet left out is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeUsage {
    pub node: String,
    pub namespace: String,
    pub pod: String,
    /// The volume's name in the pod spec.
    pub volume: String,
    /// `pvcRef.name`, for a claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    pub used_bytes: Option<u64>,
    pub capacity_bytes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes: Option<u64>,
}

impl VolumeUsage {
    /// The fuller of bytes and inodes, as a fraction of capacity, with
    /// which of the two it is; `None` without both numbers of either.
    pub fn fullest(&self) -> Option<(f64, &'static str)> {
        let ratio = |used: Option<u64>, total: Option<u64>| match (used, total) {
            (Some(u), Some(t)) if t > 0 => Some(u as f64 / t as f64),
            _ => None,
        };
        let bytes = ratio(self.used_bytes, self.capacity_bytes).map(|r| (r, "bytes"));
        let inodes = ratio(self.inodes_used, self.inodes).map(|r| (r, "inodes"));
        match (bytes, inodes) {
            (Some(b), Some(i)) => Some(if i.0 > b.0 { i } else { b }),
            (b, i) => b.or(i),
        }
    }
}

/// The last lines of the previous run of one container (`--logs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLog {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub text: String,
}

/// Evidence that is not an object, read only when asked: `None` when it
/// was not read at all.
#[derive(Debug, Default, Clone)]
pub struct NodeEvidence {
    pub usage: Option<Vec<VolumeUsage>>,
    pub logs: Option<Vec<ContainerLog>>,
}

/// Every object kind the analysis reads.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    pub pods: Vec<Pod>,
    pub claims: Vec<PersistentVolumeClaim>,
    pub volumes: Vec<PersistentVolume>,
    pub classes: Vec<StorageClass>,
    pub csi_drivers: Vec<CSIDriver>,
    pub csi_nodes: Vec<CSINode>,
    pub attachments: Vec<VolumeAttachment>,
    pub capacities: Vec<CSIStorageCapacity>,
    pub nodes: Vec<Node>,
    pub events: Vec<Event>,
    pub quotas: Vec<ResourceQuota>,
    pub limit_ranges: Vec<LimitRange>,
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub stateful_sets: Vec<StatefulSet>,
    pub daemon_sets: Vec<DaemonSet>,
    pub jobs: Vec<Job>,
    pub cron_jobs: Vec<CronJob>,
    /// Leader-election Leases (the CSI sidecars').
    pub leases: Vec<Lease>,
    pub snapshots: Vec<VolumeSnapshot>,
    pub snapshot_contents: Vec<VolumeSnapshotContent>,
    pub snapshot_classes: Vec<VolumeSnapshotClass>,
    /// Registrations of volume populators.
    pub populators: Vec<VolumePopulator>,
}

/// The same object read twice (overlapping captures) is kept once: the copy
/// with the higher resourceVersion, or the later one read.
pub(super) fn dedup(o: &mut Objects) {
    fn keep_newest<T>(items: &mut Vec<T>, meta: impl Fn(&T) -> &ObjectMeta) {
        // Keys borrow the names: this runs when every object read is held.
        let mut seen: HashMap<(&str, &str), usize> = HashMap::default();
        let mut keep = vec![true; items.len()];
        for (i, item) in items.iter().enumerate() {
            let m = meta(item);
            let key = (
                m.namespace.as_deref().unwrap_or_default(),
                m.name.as_deref().unwrap_or_default(),
            );
            if let Some(&prev) = seen.get(&key) {
                let version = |m: &ObjectMeta| {
                    m.resource_version
                        .as_deref()
                        .and_then(|v| v.parse::<u64>().ok())
                };
                let older = version(meta(&items[prev])) > version(m);
                if older {
                    keep[i] = false;
                    continue;
                }
                keep[prev] = false;
            }
            seen.insert(key, i);
        }
        drop(seen);
        let mut flags = keep.into_iter();
        items.retain(|_| flags.next().unwrap_or(true));
    }
    keep_newest(&mut o.pods, |x| &x.metadata);
    keep_newest(&mut o.claims, |x| &x.metadata);
    keep_newest(&mut o.volumes, |x| &x.metadata);
    keep_newest(&mut o.classes, |x| &x.metadata);
    keep_newest(&mut o.csi_drivers, |x| &x.metadata);
    keep_newest(&mut o.csi_nodes, |x| &x.metadata);
    keep_newest(&mut o.attachments, |x| &x.metadata);
    keep_newest(&mut o.capacities, |x| &x.metadata);
    keep_newest(&mut o.nodes, |x| &x.metadata);
    keep_newest(&mut o.events, |x| &x.metadata);
    keep_newest(&mut o.quotas, |x| &x.metadata);
    keep_newest(&mut o.limit_ranges, |x| &x.metadata);
    keep_newest(&mut o.deployments, |x| &x.metadata);
    keep_newest(&mut o.replica_sets, |x| &x.metadata);
    keep_newest(&mut o.stateful_sets, |x| &x.metadata);
    keep_newest(&mut o.daemon_sets, |x| &x.metadata);
    keep_newest(&mut o.jobs, |x| &x.metadata);
    keep_newest(&mut o.cron_jobs, |x| &x.metadata);
    keep_newest(&mut o.leases, |x| &x.metadata);
    keep_newest(&mut o.snapshots, |x| &x.metadata);
    keep_newest(&mut o.snapshot_contents, |x| &x.metadata);
    keep_newest(&mut o.snapshot_classes, |x| &x.metadata);
    keep_newest(&mut o.populators, |x| &x.metadata);
}

/// The newest moment the capture shows, not after `limit`: object
/// creation, event times, node heartbeats and the transition times of pod,
/// node and claim conditions. A capture of a cluster where nothing new was
/// created for hours still shows its nodes' heartbeats of that minute.
pub(super) fn newest_timestamp(o: &Objects, limit: Option<Timestamp>) -> Timestamp {
    fn created(m: &ObjectMeta) -> Option<Timestamp> {
        m.creation_timestamp.as_ref().map(|t| t.0)
    }
    let metas = o
        .pods
        .iter()
        .map(|x| &x.metadata)
        .chain(o.claims.iter().map(|x| &x.metadata))
        .chain(o.volumes.iter().map(|x| &x.metadata))
        .chain(o.attachments.iter().map(|x| &x.metadata))
        .chain(o.nodes.iter().map(|x| &x.metadata))
        .chain(o.classes.iter().map(|x| &x.metadata))
        .chain(o.csi_drivers.iter().map(|x| &x.metadata))
        .chain(o.csi_nodes.iter().map(|x| &x.metadata))
        .chain(o.capacities.iter().map(|x| &x.metadata))
        .chain(o.snapshots.iter().map(|x| &x.metadata));
    let node_times = o
        .nodes
        .iter()
        .filter_map(|n| n.status.as_ref()?.conditions.as_ref())
        .flatten()
        .flat_map(|c| {
            [
                c.last_heartbeat_time.as_ref(),
                c.last_transition_time.as_ref(),
            ]
            .into_iter()
            .flatten()
            .map(|t| t.0)
        });
    let pod_times = o
        .pods
        .iter()
        .filter_map(|p| p.status.as_ref()?.conditions.as_ref())
        .flatten()
        .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0));
    let claim_times = o
        .claims
        .iter()
        .filter_map(|c| c.status.as_ref()?.conditions.as_ref())
        .flatten()
        .filter_map(|c| c.last_transition_time.as_ref().map(|t| t.0));
    metas
        .filter_map(created)
        .chain(o.events.iter().filter_map(events::last_seen))
        .chain(node_times)
        .chain(pod_times)
        .chain(claim_times)
        .filter(|t| limit.is_none_or(|l| *t <= l))
        .max()
        .or(limit)
        .unwrap_or(Timestamp::UNIX_EPOCH)
}
