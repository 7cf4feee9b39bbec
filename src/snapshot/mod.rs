//! The captured state of a cluster as plain data, with the indexes the
//! analysis looks things up by. Built once by a source; read-only afterwards.

use crate::api::{Event, PersistentVolume, Pod, VolumeAttachment};
use crate::events::{self, EventFilter};
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeSet;

mod facts;
mod objects;

pub use facts::*;
use objects::{dedup, newest_timestamp};
pub use objects::{ContainerLog, Gap, NodeEvidence, Objects, VolumeUsage};

/// The snapshot's maps are keyed by names from the input: foldhash is
/// several times faster than SipHash on short keys and still seeded per
/// process, so a crafted capture cannot aim for collisions.
type HashMap<K, V> = foldhash::HashMap<K, V>;

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
    /// file must not make every age negative or absurd). Its events are
    /// then kept as `events` says: the moment still counts every event.
    pub fn captured(
        objects: Objects,
        gaps: Vec<Gap>,
        read_at: Timestamp,
        events: Option<&EventFilter>,
    ) -> Self {
        Self::build(objects, gaps, |o| {
            let now = newest_timestamp(o, Some(read_at));
            if let Some(filter) = events {
                o.events.retain(|e| filter.keeps(e));
            }
            now
        })
    }

    fn build(
        mut objects: Objects,
        gaps: Vec<Gap>,
        now: impl FnOnce(&mut Objects) -> Timestamp,
    ) -> Self {
        dedup(&mut objects);
        let now = now(&mut objects);
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

    /// The VolumePopulators that register data sources of `group`/`kind`.
    pub fn populators_of(&self, group: &str, kind: &str) -> Vec<&VolumePopulator> {
        self.objects
            .populators
            .iter()
            .filter(|p| p.registers(group, kind))
            .collect()
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
        let snap = Snapshot::captured(objects, Vec::new(), read_at, None);
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
