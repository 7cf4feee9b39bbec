//! The captured state of a cluster as plain data, with the indexes the
//! analysis looks things up by. Built once by a source; read-only afterwards.

use crate::events;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Event, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeSet;

/// The snapshot's maps are keyed by names from the input: foldhash is
/// several times faster than SipHash on short keys and still seeded per
/// process, so a crafted capture cannot aim for collisions.
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
}

type ByName = HashMap<String, usize>;
type ByNamespacedName = HashMap<String, HashMap<String, usize>>;

#[derive(Debug, Default)]
struct Index {
    pods: ByNamespacedName,
    claims: ByNamespacedName,
    volumes: ByName,
    volumes_by_claim: ByNamespacedName,
    classes: ByName,
    csi_drivers: ByName,
    snapshots: ByNamespacedName,
    snapshot_contents: ByName,
    snapshot_classes: ByName,
    csi_nodes: ByName,
    nodes: ByName,
    attachments_by_volume: HashMap<String, Vec<usize>>,
    pods_by_claim: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Pods whose name looks like a CSI controller's.
    controller_like_pods: Vec<usize>,
    /// kind → namespace → name → event indexes, newest first.
    events: HashMap<String, ByNamespacedNameMany>,
}

type ByNamespacedNameMany = HashMap<String, HashMap<String, Vec<usize>>>;

/// A read-only view of a cluster at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub objects: Objects,
    pub gaps: Vec<Gap>,
    /// The moment the state was read: now for a live cluster, the newest
    /// timestamp in the input for a capture (so ages read as they did then).
    pub now: Timestamp,
    /// Volume usage and container logs, when `--usage` / `--logs` read them.
    evidence: NodeEvidence,
    index: Index,
}

fn ns_name(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

fn insert_namespaced(map: &mut ByNamespacedName, meta: &ObjectMeta, i: usize) {
    let (ns, name) = ns_name(meta);
    map.entry(ns.to_string())
        .or_default()
        .insert(name.to_string(), i);
}

fn insert_named(map: &mut ByName, meta: &ObjectMeta, i: usize) {
    map.insert(meta.name.clone().unwrap_or_default(), i);
}

fn lookup<'a, T>(items: &'a [T], map: &ByNamespacedName, ns: &str, name: &str) -> Option<&'a T> {
    map.get(ns).and_then(|m| m.get(name)).map(|&i| &items[i])
}

/// Pods that use a claim, from their volumes (direct or generic ephemeral).
pub fn claim_names(pod: &Pod) -> Vec<ClaimUse> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    let Some(volumes) = pod.spec.as_ref().and_then(|s| s.volumes.as_ref()) else {
        return Vec::new();
    };
    volumes
        .iter()
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                Some(ClaimUse {
                    volume: v.name.clone(),
                    claim: pvc.claim_name.clone(),
                    ephemeral: false,
                    read_only: pvc.read_only.unwrap_or(false),
                })
            } else {
                v.ephemeral.as_ref().map(|_| ClaimUse {
                    volume: v.name.clone(),
                    // The ephemeral volume controller names the claim <pod>-<volume>.
                    claim: format!("{pod_name}-{}", v.name),
                    ephemeral: true,
                    read_only: false,
                })
            }
        })
        .collect()
}

/// What a claim asks to be filled from: `spec.dataSourceRef`, or
/// `spec.dataSource` when only that is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource<'a> {
    /// Empty for the core group.
    pub api_group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// Another namespace (cross-namespace data sources); `None`: the claim's.
    pub namespace: Option<&'a str>,
}

impl DataSource<'_> {
    pub fn is_snapshot(&self) -> bool {
        self.kind == "VolumeSnapshot" && self.api_group == crate::volume_snapshot::GROUP
    }

    pub fn is_claim(&self) -> bool {
        self.kind == "PersistentVolumeClaim" && self.api_group.is_empty()
    }

    /// Neither a snapshot nor a claim: only a volume populator fills it.
    pub fn is_populated(&self) -> bool {
        !self.is_snapshot() && !self.is_claim()
    }

    /// `VolumeSnapshot snap-1`, `PersistentVolumeClaim pg-data`,
    /// `SampleData.hello.example.com sample`.
    pub fn describe(&self) -> String {
        if self.is_snapshot() || self.is_claim() || self.api_group.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{}.{} {}", self.kind, self.api_group, self.name)
        }
    }
}

/// The data source of a claim, if it names one.
pub fn data_source_of(claim: &PersistentVolumeClaim) -> Option<DataSource<'_>> {
    let spec = claim.spec.as_ref()?;
    let found = if let Some(r) = &spec.data_source_ref {
        DataSource {
            api_group: r.api_group.as_deref().unwrap_or(""),
            kind: &r.kind,
            name: &r.name,
            namespace: r.namespace.as_deref().filter(|n| !n.is_empty()),
        }
    } else {
        let r = spec.data_source.as_ref()?;
        DataSource {
            api_group: r.api_group.as_deref().unwrap_or(""),
            kind: &r.kind,
            name: &r.name,
            namespace: None,
        }
    };
    (!found.kind.is_empty() && !found.name.is_empty()).then_some(found)
}

/// The containers (init containers first) that crash-loop or ended in
/// error: their previous run's log may say what their state does not.
pub fn failing_containers(pod: &Pod) -> Vec<&str> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let failed = |t: Option<&k8s_openapi::api::core::v1::ContainerStateTerminated>| {
        t.is_some_and(|t| t.exit_code != 0)
    };
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter(|s| {
            let state = s.state.as_ref();
            let backoff = state
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                == Some("CrashLoopBackOff");
            backoff
                || failed(state.and_then(|st| st.terminated.as_ref()))
                || (s.restart_count > 0
                    && failed(s.last_state.as_ref().and_then(|st| st.terminated.as_ref())))
        })
        .map(|s| s.name.as_str())
        .collect()
}

/// Whether a container of the pod mounts a volume that holds data (not a
/// view of API objects such as a ConfigMap or the service account token).
pub fn mounts_data_volume(pod: &Pod, container: &str) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let data: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| {
            v.config_map.is_none()
                && v.secret.is_none()
                && v.projected.is_none()
                && v.downward_api.is_none()
        })
        .map(|v| v.name.as_str())
        .collect();
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .filter(|c| c.name == container)
        .any(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| data.contains(&m.name.as_str()))
                || c.volume_devices
                    .iter()
                    .flatten()
                    .any(|d| data.contains(&d.name.as_str()))
        })
}

/// How a pod refers to one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimUse {
    pub volume: String,
    pub claim: String,
    pub ephemeral: bool,
    pub read_only: bool,
}

impl Snapshot {
    /// Builds the indexes over `objects`. `now` is the moment of reading;
    /// `None` takes the newest timestamp found in the objects.
    pub fn new(objects: Objects, gaps: Vec<Gap>, now: Option<Timestamp>) -> Self {
        Self::build(objects, gaps, |o| {
            now.unwrap_or_else(|| newest_timestamp(o, None))
        })
    }

    /// A capture read at `read_at`: its moment is the newest timestamp it
    /// shows, ignoring any later than `read_at` (a broken clock or a forged
    /// file must not make every age negative or absurd).
    pub fn captured(objects: Objects, gaps: Vec<Gap>, read_at: Timestamp) -> Self {
        Self::build(objects, gaps, |o| newest_timestamp(o, Some(read_at)))
    }

    fn build(
        mut objects: Objects,
        gaps: Vec<Gap>,
        now: impl FnOnce(&Objects) -> Timestamp,
    ) -> Self {
        dedup(&mut objects);
        let now = now(&objects);
        let mut index = Index::default();
        let o = &objects;
        for (i, pod) in o.pods.iter().enumerate() {
            insert_namespaced(&mut index.pods, &pod.metadata, i);
            let name = pod.metadata.name.as_deref().unwrap_or("");
            if name.contains("csi") || name.contains("provisioner") || name.contains("controller") {
                index.controller_like_pods.push(i);
            }
            let (ns, _) = ns_name(&pod.metadata);
            for used in claim_names(pod) {
                index
                    .pods_by_claim
                    .entry(ns.to_string())
                    .or_default()
                    .entry(used.claim)
                    .or_default()
                    .push(i);
            }
        }
        // By name, so that what lists them does not follow the input order.
        index
            .controller_like_pods
            .sort_by(|&a, &b| ns_name(&o.pods[a].metadata).cmp(&ns_name(&o.pods[b].metadata)));
        for users in index
            .pods_by_claim
            .values_mut()
            .flat_map(|m| m.values_mut())
        {
            users.sort_by(|&a, &b| ns_name(&o.pods[a].metadata).cmp(&ns_name(&o.pods[b].metadata)));
        }
        for (i, c) in o.claims.iter().enumerate() {
            insert_namespaced(&mut index.claims, &c.metadata, i);
        }
        for (i, pv) in o.volumes.iter().enumerate() {
            insert_named(&mut index.volumes, &pv.metadata, i);
            if let Some(r) = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) {
                index
                    .volumes_by_claim
                    .entry(r.namespace.clone().unwrap_or_default())
                    .or_default()
                    .insert(r.name.clone().unwrap_or_default(), i);
            }
        }
        for (i, sc) in o.classes.iter().enumerate() {
            insert_named(&mut index.classes, &sc.metadata, i);
        }
        for (i, s) in o.snapshots.iter().enumerate() {
            insert_namespaced(&mut index.snapshots, &s.metadata, i);
        }
        for (i, c) in o.snapshot_contents.iter().enumerate() {
            insert_named(&mut index.snapshot_contents, &c.metadata, i);
        }
        for (i, c) in o.snapshot_classes.iter().enumerate() {
            insert_named(&mut index.snapshot_classes, &c.metadata, i);
        }
        for (i, d) in o.csi_drivers.iter().enumerate() {
            insert_named(&mut index.csi_drivers, &d.metadata, i);
        }
        for (i, n) in o.csi_nodes.iter().enumerate() {
            insert_named(&mut index.csi_nodes, &n.metadata, i);
        }
        for (i, n) in o.nodes.iter().enumerate() {
            insert_named(&mut index.nodes, &n.metadata, i);
        }
        for (i, va) in o.attachments.iter().enumerate() {
            if let Some(pv) = &va.spec.source.persistent_volume_name {
                index
                    .attachments_by_volume
                    .entry(pv.clone())
                    .or_default()
                    .push(i);
            }
        }
        for (i, e) in o.events.iter().enumerate() {
            let r = &e.involved_object;
            index
                .events
                .entry(r.kind.clone().unwrap_or_default())
                .or_default()
                .entry(r.namespace.clone().unwrap_or_default())
                .or_default()
                .entry(r.name.clone().unwrap_or_default())
                .or_default()
                .push(i);
        }
        for by_ns in index.events.values_mut() {
            for by_name in by_ns.values_mut() {
                for list in by_name.values_mut() {
                    list.sort_by_key(|&i| std::cmp::Reverse(events::last_seen(&o.events[i])));
                }
            }
        }
        Snapshot {
            objects,
            gaps,
            now,
            evidence: NodeEvidence::default(),
            index,
        }
    }

    /// Adds what the kubelet and the logs said (`--usage`, `--logs`).
    pub fn with_evidence(mut self, mut evidence: NodeEvidence) -> Self {
        let key = |u: &VolumeUsage| {
            (
                u.namespace.clone(),
                u.pod.clone(),
                u.volume.clone(),
                u.node.clone(),
            )
        };
        if let Some(usage) = evidence.usage.as_mut() {
            usage.sort_by_key(key);
            usage.dedup_by_key(|u| key(u));
        }
        if let Some(logs) = evidence.logs.as_mut() {
            logs.sort_by(|a, b| {
                (&a.namespace, &a.pod, &a.container).cmp(&(&b.namespace, &b.pod, &b.container))
            });
        }
        self.evidence = evidence;
        self
    }

    /// Whether volume usage was read (`--usage`).
    pub fn usage_read(&self) -> bool {
        self.evidence.usage.is_some()
    }

    /// Whether container logs were read (`--logs`).
    pub fn logs_read(&self) -> bool {
        self.evidence.logs.is_some()
    }

    /// Every volume usage read, by namespace, pod and volume.
    pub fn usage(&self) -> &[VolumeUsage] {
        self.evidence.usage.as_deref().unwrap_or(&[])
    }

    /// What the kubelet reports about one volume of a pod.
    pub fn usage_of(&self, ns: &str, pod: &str, volume: &str) -> Option<&VolumeUsage> {
        let usage = self.evidence.usage.as_deref()?;
        let start = usage.partition_point(|u| {
            (u.namespace.as_str(), u.pod.as_str(), u.volume.as_str()) < (ns, pod, volume)
        });
        usage.get(start).filter(|u| {
            (u.namespace.as_str(), u.pod.as_str(), u.volume.as_str()) == (ns, pod, volume)
        })
    }

    /// Every log read.
    pub fn logs(&self) -> &[ContainerLog] {
        self.evidence.logs.as_deref().unwrap_or(&[])
    }

    /// The logs read of a pod's containers, by container.
    pub fn logs_of<'s>(
        &'s self,
        ns: &'s str,
        pod: &'s str,
    ) -> impl Iterator<Item = &'s ContainerLog> {
        self.logs()
            .iter()
            .filter(move |l| l.namespace == ns && l.pod == pod)
    }

    pub fn pod(&self, ns: &str, name: &str) -> Option<&Pod> {
        lookup(&self.objects.pods, &self.index.pods, ns, name)
    }

    pub fn claim(&self, ns: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        lookup(&self.objects.claims, &self.index.claims, ns, name)
    }

    pub fn volume(&self, name: &str) -> Option<&PersistentVolume> {
        self.index
            .volumes
            .get(name)
            .map(|&i| &self.objects.volumes[i])
    }

    /// The PV whose `claimRef` points at this claim.
    pub fn volume_claimed_by(&self, ns: &str, name: &str) -> Option<&PersistentVolume> {
        lookup(
            &self.objects.volumes,
            &self.index.volumes_by_claim,
            ns,
            name,
        )
    }

    pub fn class(&self, name: &str) -> Option<&StorageClass> {
        self.index
            .classes
            .get(name)
            .map(|&i| &self.objects.classes[i])
    }

    pub fn volume_snapshot(&self, ns: &str, name: &str) -> Option<&VolumeSnapshot> {
        lookup(&self.objects.snapshots, &self.index.snapshots, ns, name)
    }

    pub fn snapshot_content(&self, name: &str) -> Option<&VolumeSnapshotContent> {
        self.index
            .snapshot_contents
            .get(name)
            .map(|&i| &self.objects.snapshot_contents[i])
    }

    pub fn snapshot_class(&self, name: &str) -> Option<&VolumeSnapshotClass> {
        self.index
            .snapshot_classes
            .get(name)
            .map(|&i| &self.objects.snapshot_classes[i])
    }

    /// The VolumeSnapshotClasses marked default for a driver, by name.
    pub fn default_snapshot_classes(&self, driver: &str) -> Vec<&VolumeSnapshotClass> {
        let mut found: Vec<&VolumeSnapshotClass> = self
            .objects
            .snapshot_classes
            .iter()
            .filter(|c| c.is_default() && c.driver == driver)
            .collect();
        found.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        found
    }

    pub fn csi_driver(&self, name: &str) -> Option<&CSIDriver> {
        self.index
            .csi_drivers
            .get(name)
            .map(|&i| &self.objects.csi_drivers[i])
    }

    pub fn csi_node(&self, name: &str) -> Option<&CSINode> {
        self.index
            .csi_nodes
            .get(name)
            .map(|&i| &self.objects.csi_nodes[i])
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.index.nodes.get(name).map(|&i| &self.objects.nodes[i])
    }

    pub fn attachments_of(&self, volume: &str) -> impl Iterator<Item = &VolumeAttachment> {
        self.index
            .attachments_by_volume
            .get(volume)
            .into_iter()
            .flatten()
            .map(|&i| &self.objects.attachments[i])
    }

    /// Pods whose name holds `csi`, `provisioner` or `controller`, by
    /// namespace and name.
    pub fn controller_like_pods(&self) -> impl Iterator<Item = &Pod> {
        self.index
            .controller_like_pods
            .iter()
            .map(|&i| &self.objects.pods[i])
    }

    /// Names of the claims of a namespace, sorted: the report must not
    /// depend on the order of the input.
    pub fn claim_names_in(&self, ns: &str) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .index
            .claims
            .get(ns)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
            .collect();
        found.sort_unstable();
        found
    }

    /// Namespaces that hold a claim of this name, sorted.
    pub fn namespaces_with_claim(&self, name: &str) -> Vec<&str> {
        let mut found: Vec<&str> = self
            .index
            .claims
            .iter()
            .filter(|(_, m)| m.contains_key(name))
            .map(|(ns, _)| ns.as_str())
            .collect();
        found.sort_unstable();
        found
    }

    /// Pods (any phase) whose volumes reference the claim, by name.
    pub fn pods_using(&self, ns: &str, claim: &str) -> impl Iterator<Item = &Pod> {
        self.index
            .pods_by_claim
            .get(ns)
            .and_then(|m| m.get(claim))
            .into_iter()
            .flatten()
            .map(|&i| &self.objects.pods[i])
    }

    /// Events about one object, newest first. Events that carry a uid
    /// different from the object's are about an earlier object of the same
    /// name and are left out.
    pub fn events_for(&self, kind: &str, ns: &str, name: &str, uid: Option<&str>) -> Vec<&Event> {
        let Some(list) = self
            .index
            .events
            .get(kind)
            .and_then(|m| m.get(ns))
            .and_then(|m| m.get(name))
        else {
            return Vec::new();
        };
        list.iter()
            .map(|&i| &self.objects.events[i])
            .filter(|e| match (uid, e.involved_object.uid.as_deref()) {
                (Some(want), Some(got)) if !want.is_empty() && !got.is_empty() => want == got,
                _ => true,
            })
            .collect()
    }

    /// Classes marked default, newest first, then by name: the one
    /// Kubernetes ≥1.26 picks comes first.
    pub fn default_classes(&self) -> Vec<&StorageClass> {
        let mut defaults: Vec<&StorageClass> = self
            .objects
            .classes
            .iter()
            .filter(|sc| is_default_class(sc))
            .collect();
        defaults.sort_by_key(|sc| {
            (
                std::cmp::Reverse(sc.metadata.creation_timestamp.as_ref().map(|t| t.0)),
                sc.metadata.name.as_deref(),
            )
        });
        defaults
    }

    /// Whether objects of this resource could be read (no gap recorded).
    pub fn has(&self, resource: &str) -> bool {
        // One gap may name several resources (`a,b`).
        !self
            .gaps
            .iter()
            .any(|g| g.resource.split(',').any(|r| r == resource))
    }

    /// Namespaces that hold a pod or a claim.
    pub fn namespaces(&self) -> BTreeSet<String> {
        // The keys of the name indexes: one per namespace, not per object.
        self.index
            .pods
            .keys()
            .chain(self.index.claims.keys())
            .filter(|ns| !ns.is_empty())
            .cloned()
            .collect()
    }
}

pub fn is_default_class(sc: &StorageClass) -> bool {
    let annotations = sc.metadata.annotations.as_ref();
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|key| annotations.and_then(|a| a.get(*key)).map(String::as_str) == Some("true"))
}

/// The same object read twice (overlapping captures) is kept once: the copy
/// with the higher resourceVersion, or the later one read.
fn dedup(o: &mut Objects) {
    fn keep_newest<T>(items: &mut Vec<T>, meta: impl Fn(&T) -> &ObjectMeta) {
        let mut seen: HashMap<(String, String), usize> = HashMap::default();
        let mut keep = vec![true; items.len()];
        for (i, item) in items.iter().enumerate() {
            let m = meta(item);
            let key = (
                m.namespace.clone().unwrap_or_default(),
                m.name.clone().unwrap_or_default(),
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
}

/// The newest moment the capture shows, not after `limit`: object
/// creation, event times, node heartbeats and the transition times of pod,
/// node and claim conditions. A capture of a cluster where nothing new was
/// created for hours still shows its nodes' heartbeats of that minute.
fn newest_timestamp(o: &Objects, limit: Option<Timestamp>) -> Timestamp {
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

#[cfg(test)]
mod tests {
    use crate::fixtures::*;

    #[test]
    fn the_same_object_twice_is_kept_once_newest_first() {
        let mut old = pvc("data");
        old.metadata.resource_version = Some("10".into());
        let mut new = pvc("data").bound("pv-1");
        new.metadata.resource_version = Some("20".into());
        let snap = snapshot(|o| {
            o.claims.push(new);
            o.claims.push(old);
        });
        assert_eq!(snap.objects.claims.len(), 1);
        assert!(snap
            .claim("default", "data")
            .unwrap()
            .spec
            .as_ref()
            .unwrap()
            .volume_name
            .is_some());
    }

    #[test]
    fn of_two_defaults_created_together_the_first_by_name_wins_in_any_order() {
        for order in [["b-default", "a-default"], ["a-default", "b-default"]] {
            let snap = snapshot(|o| {
                for name in order {
                    let mut sc = class(name, "x").default_class();
                    sc.metadata.creation_timestamp = Some(time("2026-01-01T00:00:00Z"));
                    o.classes.push(sc);
                }
            });
            let first = snap.default_classes()[0].metadata.name.as_deref();
            assert_eq!(first, Some("a-default"), "{order:?}");
        }
    }

    #[test]
    fn now_of_a_capture_is_its_newest_heartbeat_or_transition() {
        use crate::snapshot::{Objects, Snapshot};
        use k8s_openapi::api::core::v1::{NodeCondition, NodeStatus};
        let mut n = node("worker-1");
        n.status = Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: Some(time("2026-11-20T13:00:00Z")),
                last_transition_time: Some(time("2026-11-01T00:00:00Z")),
                ..Default::default()
            }]),
            ..Default::default()
        });
        // A forged heartbeat from the future is ignored.
        let mut future = node("worker-2");
        future.status = Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: Some(time("2099-01-01T00:00:00Z")),
                ..Default::default()
            }]),
            ..Default::default()
        });
        let objects = Objects {
            nodes: vec![n, future],
            claims: vec![pvc("data")],
            ..Default::default()
        };
        let read_at = time("2026-11-21T00:00:00Z").0;
        let snap = Snapshot::captured(objects, Vec::new(), read_at);
        assert_eq!(snap.now, time("2026-11-20T13:00:00Z").0);
    }

    #[test]
    fn claim_names_are_listed_by_name_not_input_order() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("zeta"));
            o.claims.push(pvc("alpha"));
        });
        assert_eq!(snap.claim_names_in("default"), ["alpha", "zeta"]);
        assert_eq!(snap.namespaces_with_claim("zeta"), ["default"]);
    }
}
