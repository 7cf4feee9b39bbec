//! The kinds the tool reads, in one table: the live source lists them, the
//! dump reader decodes them, `collect` writes them, and the ClusterRole in
//! `examples/rbac.yaml` and README's capture command name them. Names,
//! groups and versions come from k8s-openapi, so they cannot drift.

use crate::api::{
    CronJob, DaemonSet, Deployment, Event, Job, PersistentVolume, Pod, ReplicaSet, StatefulSet,
    VolumeAttachment,
};
use crate::snapshot::Objects;
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{LimitRange, Node, PersistentVolumeClaim, ResourceQuota};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, CSIStorageCapacity, StorageClass};
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// Why one object did not decode, with the path of the offending field.
pub type DecodeError = serde_path_to_error::Error<serde_json::Error>;

/// One kind the tool reads.
pub struct Kind {
    pub kind: &'static str,
    /// The API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    /// The plural resource name, as URLs, RBAC rules and gaps name it.
    pub resource: &'static str,
    pub namespaced: bool,
    /// A CRD that many clusters do not install: not found is no alarm, and
    /// captures get it with a command of its own (`kubectl get` of a
    /// resource the server does not know fails as a whole).
    pub optional: bool,
    /// What the diagnosis loses when the kind cannot be read.
    pub without: &'static str,
    decode: fn(&mut Objects, Value) -> Result<(), DecodeError>,
    encode: fn(&Objects) -> serde_json::Result<Vec<Value>>,
}

impl Kind {
    /// Decodes one object (of any version of the kind: older ones have the
    /// shape of this one) into its list in `objects`.
    pub fn decode_into(&self, objects: &mut Objects, value: Value) -> Result<(), DecodeError> {
        (self.decode)(objects, value)
    }

    /// The objects of this kind in `objects`, as JSON.
    pub fn encode(&self, objects: &Objects) -> serde_json::Result<Vec<Value>> {
        (self.encode)(objects)
    }
}

/// A type of the snapshot's objects and its row of the table.
pub trait Stored: DeserializeOwned + Serialize + Sized {
    const KIND: &'static Kind;
    fn list(objects: &Objects) -> &Vec<Self>;
    fn list_mut(objects: &mut Objects) -> &mut Vec<Self>;
}

trait Scoped {
    const NAMESPACED: bool;
}

impl Scoped for NamespaceResourceScope {
    const NAMESPACED: bool = true;
}

impl Scoped for ClusterResourceScope {
    const NAMESPACED: bool = false;
}

fn decode<K: Stored>(objects: &mut Objects, value: Value) -> Result<(), DecodeError> {
    K::list_mut(objects).push(serde_path_to_error::deserialize(value)?);
    Ok(())
}

fn encode<K: Stored>(objects: &Objects) -> serde_json::Result<Vec<Value>> {
    K::list(objects)
        .iter()
        .map(|o| {
            let mut value = serde_json::to_value(o)?;
            // The CRD types carry no apiVersion and kind of their own.
            if let Value::Object(map) = &mut value {
                let kind = K::KIND;
                let api_version = if kind.group.is_empty() {
                    kind.version.to_string()
                } else {
                    format!("{}/{}", kind.group, kind.version)
                };
                map.entry("apiVersion")
                    .or_insert(Value::String(api_version));
                map.entry("kind").or_insert(Value::String(kind.kind.into()));
            }
            Ok(value)
        })
        .collect()
}

macro_rules! kinds {
    (@optional) => { false };
    (@optional crd) => { true };
    ($($name:ident: $ty:ty => $field:ident $(($crd:ident))?, $without:literal;)*) => {
        $(
            pub const $name: Kind = Kind {
                kind: <$ty as k8s_openapi::Resource>::KIND,
                group: <$ty as k8s_openapi::Resource>::GROUP,
                version: <$ty as k8s_openapi::Resource>::VERSION,
                resource: <$ty as k8s_openapi::Resource>::URL_PATH_SEGMENT,
                namespaced: <<$ty as k8s_openapi::Resource>::Scope as Scoped>::NAMESPACED,
                optional: kinds!(@optional $($crd)?),
                without: $without,
                decode: decode::<$ty>,
                encode: encode::<$ty>,
            };

            impl Stored for $ty {
                const KIND: &'static Kind = &$name;
                fn list(objects: &Objects) -> &Vec<Self> {
                    &objects.$field
                }
                fn list_mut(objects: &mut Objects) -> &mut Vec<Self> {
                    &mut objects.$field
                }
            }
        )*

        /// Every kind, in the order a capture file lists them: what a
        /// claim needs before the claims, the pods, their owners, events last.
        pub const ALL: &[&Kind] = &[$(&$name),*];
    };
}

kinds! {
    STORAGE_CLASS: StorageClass => classes,
        "a claim's class cannot be checked: whether it exists, its provisioner, binding mode and expansion";
    CSI_DRIVER: CSIDriver => csi_drivers,
        "whether a CSI driver is installed, and whether it attaches volumes, is unknown";
    CSI_NODE: CSINode => csi_nodes,
        "whether a driver is registered on a node, and the node's volume limit, are unknown";
    NODE: Node => nodes,
        "a node's readiness, taints, labels and topology cannot be checked";
    PERSISTENT_VOLUME: PersistentVolume => volumes,
        "a bound claim's volume, its node affinity and its reclaim state cannot be checked";
    VOLUME_ATTACHMENT: VolumeAttachment => attachments,
        "attach and detach failures and multi-attach conflicts cannot be seen";
    CSI_STORAGE_CAPACITY: CSIStorageCapacity => capacities,
        "whether a topology has room for a new volume is unknown";
    VOLUME_SNAPSHOT_CLASS: VolumeSnapshotClass => snapshot_classes (crd),
        "whether a snapshot has a class (named or default) and its driver cannot be checked";
    VOLUME_SNAPSHOT_CONTENT: VolumeSnapshotContent => snapshot_contents (crd),
        "a snapshot's content, its driver and the error the snapshotter reported cannot be seen";
    VOLUME_SNAPSHOT: VolumeSnapshot => snapshots (crd),
        "a claim restored from a snapshot cannot be followed to it, and failing snapshots are not seen";
    VOLUME_POPULATOR: VolumePopulator => populators (crd),
        "whether a populator is registered for the kind a claim's dataSourceRef names is unknown";
    PERSISTENT_VOLUME_CLAIM: PersistentVolumeClaim => claims,
        "a pod's claims cannot be followed to their volumes";
    POD: Pod => pods,
        "no pod can be diagnosed, and a claim's users are unknown";
    RESOURCE_QUOTA: ResourceQuota => quotas,
        "a storage quota that refuses a claim cannot be named";
    LIMIT_RANGE: LimitRange => limit_ranges,
        "a limit range that refuses a claim's size cannot be named";
    DEPLOYMENT: Deployment => deployments,
        "a pod cannot be traced to its Deployment, and deploy/ targets find no workload without pods";
    REPLICA_SET: ReplicaSet => replica_sets,
        "a pod is traced to its Deployment by its name only";
    STATEFUL_SET: StatefulSet => stateful_sets,
        "a StatefulSet that cannot create its pods is not seen";
    DAEMON_SET: DaemonSet => daemon_sets,
        "ds/ targets find no DaemonSet without pods, and what keeps a CSI node plugin off a node cannot be named";
    JOB: Job => jobs,
        "a pod cannot be traced through its Job to a CronJob";
    CRON_JOB: CronJob => cron_jobs,
        "cronjob/ targets find no CronJob without pods";
    LEASE: Lease => leases,
        "whether a CSI driver's controller still holds its leader Lease is unknown";
    EVENT: Event => events,
        "causes rest on object state alone, without the events that corroborate them";
}

/// The row of a kind in any API group (events.k8s.io's Event is read as
/// the core one).
pub fn by_kind(kind: &str) -> Option<&'static Kind> {
    ALL.iter().copied().find(|k| k.kind == kind)
}

/// The row of a kind in a group.
pub fn find(group: &str, kind: &str) -> Option<&'static Kind> {
    ALL.iter()
        .copied()
        .find(|k| k.group == group && k.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn resources(group: Option<&str>) -> BTreeSet<&'static str> {
        ALL.iter()
            .filter(|k| group.is_none_or(|g| k.group == g))
            .map(|k| k.resource)
            .collect()
    }

    fn required_or_optional(optional: bool) -> BTreeSet<&'static str> {
        ALL.iter()
            .filter(|k| k.optional == optional)
            .map(|k| k.resource)
            .collect()
    }

    /// The `resources: [...]` of each `apiGroups: [...]` rule.
    fn role_rules(yaml: &str) -> Vec<(String, BTreeSet<String>)> {
        let list = |line: &str, key: &str| -> Option<Vec<String>> {
            let inner = line.trim().trim_start_matches("- ").strip_prefix(key)?;
            let inner = inner.trim().strip_prefix('[')?.strip_suffix(']')?;
            Some(
                inner
                    .split(',')
                    .map(|s| s.trim().trim_matches('"').to_string())
                    .collect(),
            )
        };
        let mut rules = Vec::new();
        let mut group = None;
        for line in yaml.lines() {
            if let Some(g) = list(line, "apiGroups:") {
                group = g.into_iter().next();
            } else if let Some(r) = list(line, "resources:") {
                rules.push((group.take().unwrap(), r.into_iter().collect()));
            }
        }
        rules
    }

    #[test]
    fn the_cluster_role_grants_exactly_the_kinds_read() {
        // The first ClusterRole; the second holds the opt-in sources.
        let yaml = include_str!("../examples/rbac.yaml");
        let rules = role_rules(yaml.split("\n---\n").next().unwrap());
        let groups: BTreeSet<&str> = ALL.iter().map(|k| k.group).collect();
        assert_eq!(
            rules
                .iter()
                .map(|(g, _)| g.as_str())
                .collect::<BTreeSet<_>>(),
            groups
        );
        for (group, granted) in &rules {
            let granted: BTreeSet<&str> = granted.iter().map(String::as_str).collect();
            assert_eq!(granted, resources(Some(group)), "apiGroup {group:?}");
        }
    }

    #[test]
    fn the_opt_in_role_grants_only_what_usage_and_logs_read() {
        let yaml = include_str!("../examples/rbac.yaml");
        let second = yaml.split("\n---\n").nth(1).expect("an opt-in role");
        assert!(second.contains("name: storage-doctor-opt-in"));
        let rules = role_rules(second);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].0, "");
        assert_eq!(
            rules[0].1,
            BTreeSet::from(["nodes/proxy".to_string(), "pods/log".to_string()])
        );
        assert!(second.contains("verbs: [get]"));
    }

    #[test]
    fn the_readmes_capture_commands_get_exactly_the_kinds_read() {
        let readme = include_str!("../README.md");
        let listed = |file: &str| -> BTreeSet<&str> {
            let command = readme
                .lines()
                .find(|l| l.starts_with("kubectl get ") && l.ends_with(file))
                .expect("README has the capture command");
            command
                .split_whitespace()
                .nth(2)
                .unwrap()
                .split(',')
                .collect()
        };
        assert_eq!(listed("> dump.yaml"), required_or_optional(false));
        // One command per optional API group: each may be missing alone.
        let snapshots = listed("> snapshots.yaml");
        let populators = listed("> populators.yaml");
        assert_eq!(snapshots, resources(Some(crate::volume_snapshot::GROUP)));
        assert_eq!(populators, resources(Some(crate::volume_populator::GROUP)));
        assert_eq!(&snapshots | &populators, required_or_optional(true));
        assert_eq!(resources(None).len(), ALL.len());
    }

    #[test]
    fn the_readme_says_what_each_missing_kind_costs() {
        let readme = include_str!("../README.md");
        for kind in ALL {
            let row = format!("| `{}` | {} |", kind.resource, kind.without);
            assert!(readme.contains(&row), "README lacks the row {row}");
        }
    }

    #[test]
    fn every_kind_has_a_row_and_one_only() {
        let kinds: BTreeSet<(&str, &str)> = ALL.iter().map(|k| (k.group, k.kind)).collect();
        assert_eq!(kinds.len(), ALL.len());
        assert_eq!(find("", "Pod").map(|k| k.resource), Some("pods"));
        assert_eq!(
            by_kind("CSIStorageCapacity").map(|k| (k.resource, k.namespaced)),
            Some(("csistoragecapacities", true))
        );
        assert_eq!(by_kind("Node").map(|k| k.namespaced), Some(false));
    }
}
