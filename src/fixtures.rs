//! Builders for hand-made objects in unit tests:
//! `pvc("ckpt").class("fast-ssd")`, `pod("web").claim("ckpt").pending("...")`.

use crate::snapshot::{Objects, Snapshot};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStateWaiting, ContainerStatus, EphemeralVolumeSource,
    Event, EventSeries, EventSource, Node, NodeCondition, NodeSpec, NodeStatus, ObjectReference,
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, PersistentVolumeClaimTemplate, PersistentVolumeClaimVolumeSource,
    PersistentVolumeSpec, PersistentVolumeStatus, Pod, PodCondition, PodSpec, PodStatus, Taint,
    Volume, VolumeResourceRequirements,
};
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSIDriverSpec, CSINode, CSINodeDriver, CSINodeSpec, StorageClass, VolumeAttachment,
    VolumeAttachmentSource, VolumeAttachmentSpec, VolumeAttachmentStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference, Time};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Events need distinct names, or the snapshot keeps one of them.
static NEXT_EVENT: AtomicUsize = AtomicUsize::new(0);

/// The moment every fixture object is created, unless said otherwise.
pub const CREATED: &str = "2026-11-20T10:00:00Z";
/// The default moment of events, after creation.
pub const OBSERVED: &str = "2026-11-20T10:10:00Z";

pub fn time(s: &str) -> Time {
    Time(s.parse::<Timestamp>().expect("fixture timestamp"))
}

fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(Into::into),
        uid: Some(format!("uid-{name}")),
        creation_timestamp: Some(time(CREATED)),
        ..Default::default()
    }
}

pub fn snapshot(fill: impl FnOnce(&mut Objects)) -> Snapshot {
    let mut o = Objects::default();
    fill(&mut o);
    Snapshot::new(o, Vec::new(), None)
}

// ---- pods

pub fn pod(name: &str) -> Pod {
    Pod {
        metadata: meta(name, Some("default")),
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: Some("busybox".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some("Pending".into()),
            ..Default::default()
        }),
    }
}

pub trait PodExt: Sized {
    fn claim(self, claim: &str) -> Self;
    fn ephemeral(self, volume: &str) -> Self;
    fn phase(self, phase: &str) -> Self;
    fn running(self) -> Self;
    fn on_node(self, node: &str) -> Self;
    fn unschedulable(self, message: &str) -> Self;
    fn waiting(self, reason: &str) -> Self;
    fn owned_by(self, kind: &str, name: &str) -> Self;
    fn label(self, key: &str, value: &str) -> Self;
    fn node_selector(self, key: &str, value: &str) -> Self;
}

impl PodExt for Pod {
    fn claim(mut self, claim: &str) -> Self {
        let spec = self.spec.get_or_insert_with(Default::default);
        let n = spec.volumes.as_ref().map_or(0, Vec::len);
        spec.volumes.get_or_insert_with(Vec::new).push(Volume {
            name: format!("vol{n}"),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.into(),
                read_only: None,
            }),
            ..Default::default()
        });
        self
    }

    fn ephemeral(mut self, volume: &str) -> Self {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.volumes.get_or_insert_with(Vec::new).push(Volume {
            name: volume.into(),
            ephemeral: Some(EphemeralVolumeSource {
                volume_claim_template: Some(PersistentVolumeClaimTemplate {
                    metadata: None,
                    spec: PersistentVolumeClaimSpec::default(),
                }),
            }),
            ..Default::default()
        });
        self
    }

    fn phase(mut self, phase: &str) -> Self {
        self.status.get_or_insert_with(Default::default).phase = Some(phase.into());
        self
    }

    fn running(self) -> Self {
        let mut p = self.phase("Running").on_node("node-1");
        let status = p.status.get_or_insert_with(Default::default);
        status.conditions = Some(vec![
            condition("PodScheduled", "True", None),
            condition("Ready", "True", None),
        ]);
        p
    }

    fn on_node(mut self, node: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).node_name = Some(node.into());
        self
    }

    fn unschedulable(mut self, message: &str) -> Self {
        let status = self.status.get_or_insert_with(Default::default);
        status.phase = Some("Pending".into());
        status.conditions = Some(vec![condition("PodScheduled", "False", Some(message))]);
        self
    }

    fn waiting(mut self, reason: &str) -> Self {
        let status = self.status.get_or_insert_with(Default::default);
        status.container_statuses = Some(vec![ContainerStatus {
            name: "main".into(),
            image: "busybox".into(),
            image_id: String::new(),
            ready: false,
            restart_count: 0,
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.into()),
                    message: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        self
    }

    fn owned_by(mut self, kind: &str, name: &str) -> Self {
        self.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        self
    }

    fn label(mut self, key: &str, value: &str) -> Self {
        self.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    fn node_selector(mut self, key: &str, value: &str) -> Self {
        self.spec
            .get_or_insert_with(Default::default)
            .node_selector
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }
}

/// Volumes, mounts, identity and container states of a pod.
pub trait PodVolumeExt: Sized {
    /// Mounts the pod volume `volume` at `path` in container `main`.
    fn mount(self, volume: &str, path: &str) -> Self;
    /// The same, `readOnly: true`.
    fn mount_read_only(self, volume: &str, path: &str) -> Self;
    /// Adds a volume of the spec as given.
    fn volume(self, volume: Volume) -> Self;
    /// Pod securityContext: `runAsUser`, `fsGroup`.
    fn run_as(self, user: Option<i64>, fs_group: Option<i64>) -> Self;
    fn fs_group_change_policy(self, policy: &str) -> Self;
    /// Running, container `main` crash-looping after it terminated with
    /// `message`.
    fn crash_looping(self, message: &str) -> Self;
}

impl PodVolumeExt for Pod {
    fn mount(self, volume: &str, path: &str) -> Self {
        add_mount(self, volume, path, false)
    }

    fn mount_read_only(self, volume: &str, path: &str) -> Self {
        add_mount(self, volume, path, true)
    }

    fn volume(mut self, volume: Volume) -> Self {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.volumes.get_or_insert_with(Vec::new).push(volume);
        self
    }

    fn run_as(mut self, user: Option<i64>, fs_group: Option<i64>) -> Self {
        let spec = self.spec.get_or_insert_with(Default::default);
        let sc = spec.security_context.get_or_insert_with(Default::default);
        sc.run_as_user = user;
        sc.fs_group = fs_group;
        self
    }

    fn fs_group_change_policy(mut self, policy: &str) -> Self {
        let spec = self.spec.get_or_insert_with(Default::default);
        spec.security_context
            .get_or_insert_with(Default::default)
            .fs_group_change_policy = Some(policy.into());
        self
    }

    fn crash_looping(self, message: &str) -> Self {
        use k8s_openapi::api::core::v1::ContainerStateTerminated;
        let mut p = self.phase("Running").on_node("node-1");
        let status = p.status.get_or_insert_with(Default::default);
        status.conditions = Some(vec![
            condition("PodScheduled", "True", None),
            condition("Ready", "False", None),
        ]);
        status.container_statuses = Some(vec![ContainerStatus {
            name: "main".into(),
            image: "busybox".into(),
            ready: false,
            restart_count: 5,
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some("CrashLoopBackOff".into()),
                    message: Some("back-off 2m40s restarting failed container=main".into()),
                }),
                ..Default::default()
            }),
            last_state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 1,
                    reason: Some("Error".into()),
                    message: Some(message.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        p
    }
}

fn add_mount(mut p: Pod, volume: &str, path: &str, read_only: bool) -> Pod {
    let spec = p.spec.get_or_insert_with(Default::default);
    if let Some(c) = spec.containers.first_mut() {
        c.volume_mounts.get_or_insert_with(Vec::new).push(
            k8s_openapi::api::core::v1::VolumeMount {
                name: volume.into(),
                mount_path: path.into(),
                read_only: read_only.then_some(true),
                ..Default::default()
            },
        );
    }
    p
}

fn condition(type_: &str, status: &str, message: Option<&str>) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        reason: message.map(|_| "Unschedulable".into()),
        message: message.map(Into::into),
        ..Default::default()
    }
}

// ---- claims

pub fn pvc(name: &str) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: meta(name, Some("default")),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), Quantity("1Gi".into()))])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: Some(PersistentVolumeClaimStatus {
            phase: Some("Pending".into()),
            ..Default::default()
        }),
    }
}

pub trait ClaimExt: Sized {
    fn class(self, class: &str) -> Self;
    fn modes(self, modes: &[&str]) -> Self;
    fn size(self, size: &str) -> Self;
    fn block(self) -> Self;
    fn bound(self, volume: &str) -> Self;
    fn annotate(self, key: &str, value: &str) -> Self;
    fn provisioner(self, driver: &str) -> Self;
    /// `dataSource` and `dataSourceRef` naming a VolumeSnapshot.
    fn restored_from(self, name: &str) -> Self;
    /// `dataSource` and `dataSourceRef` naming a claim to clone.
    fn clone_of(self, name: &str) -> Self;
    /// `dataSourceRef` naming an object a populator fills from.
    fn populated_from(self, group: &str, kind: &str, name: &str) -> Self;
}

fn with_source(
    mut c: PersistentVolumeClaim,
    group: Option<&str>,
    kind: &str,
    name: &str,
    both: bool,
) -> PersistentVolumeClaim {
    use k8s_openapi::api::core::v1::{TypedLocalObjectReference, TypedObjectReference};
    let spec = c.spec.get_or_insert_with(Default::default);
    if both {
        spec.data_source = Some(TypedLocalObjectReference {
            api_group: group.map(Into::into),
            kind: kind.into(),
            name: name.into(),
        });
    }
    spec.data_source_ref = Some(TypedObjectReference {
        api_group: group.map(Into::into),
        kind: kind.into(),
        name: name.into(),
        namespace: None,
    });
    c
}

impl ClaimExt for PersistentVolumeClaim {
    fn class(mut self, class: &str) -> Self {
        self.spec
            .get_or_insert_with(Default::default)
            .storage_class_name = Some(class.into());
        self
    }

    fn modes(mut self, modes: &[&str]) -> Self {
        self.spec.get_or_insert_with(Default::default).access_modes =
            Some(modes.iter().map(|m| m.to_string()).collect());
        self
    }

    fn size(mut self, size: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).resources =
            Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".into(), Quantity(size.into()))])),
                ..Default::default()
            });
        self
    }

    fn block(mut self) -> Self {
        self.spec.get_or_insert_with(Default::default).volume_mode = Some("Block".into());
        self
    }

    fn bound(mut self, volume: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).volume_name = Some(volume.into());
        self.status.get_or_insert_with(Default::default).phase = Some("Bound".into());
        self
    }

    fn annotate(mut self, key: &str, value: &str) -> Self {
        self.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    fn provisioner(self, driver: &str) -> Self {
        self.annotate("volume.kubernetes.io/storage-provisioner", driver)
    }

    fn restored_from(self, name: &str) -> Self {
        with_source(
            self,
            Some("snapshot.storage.k8s.io"),
            "VolumeSnapshot",
            name,
            true,
        )
    }

    fn clone_of(self, name: &str) -> Self {
        with_source(self, None, "PersistentVolumeClaim", name, true)
    }

    fn populated_from(self, group: &str, kind: &str, name: &str) -> Self {
        with_source(self, Some(group), kind, name, false)
    }
}

// ---- snapshots

pub fn volume_snapshot(name: &str, ready: bool) -> crate::volume_snapshot::VolumeSnapshot {
    use crate::volume_snapshot::*;
    VolumeSnapshot {
        metadata: meta(name, Some("default")),
        spec: Some(VolumeSnapshotSpec {
            source: Some(VolumeSnapshotSource {
                persistent_volume_claim_name: Some("data".into()),
                volume_snapshot_content_name: None,
            }),
            volume_snapshot_class_name: Some("csi-snap".into()),
        }),
        status: Some(VolumeSnapshotStatus {
            bound_volume_snapshot_content_name: Some(format!("snapcontent-{name}")),
            ready_to_use: Some(ready),
            restore_size: Some(serde_json::json!("1Gi")),
            ..Default::default()
        }),
    }
}

pub fn snapshot_content(
    snapshot: &str,
    driver: &str,
    ready: bool,
) -> crate::volume_snapshot::VolumeSnapshotContent {
    use crate::volume_snapshot::*;
    VolumeSnapshotContent {
        metadata: meta(&format!("snapcontent-{snapshot}"), None),
        spec: Some(VolumeSnapshotContentSpec {
            driver: Some(driver.into()),
            source_volume_mode: Some("Filesystem".into()),
            volume_snapshot_class_name: Some("csi-snap".into()),
            ..Default::default()
        }),
        status: Some(VolumeSnapshotContentStatus {
            ready_to_use: Some(ready),
            restore_size: Some(serde_json::json!(1073741824u64)),
            ..Default::default()
        }),
    }
}

pub fn snapshot_class(name: &str, driver: &str) -> crate::volume_snapshot::VolumeSnapshotClass {
    crate::volume_snapshot::VolumeSnapshotClass {
        metadata: meta(name, None),
        driver: driver.into(),
        deletion_policy: Some("Delete".into()),
        parameters: None,
    }
}

// ---- volumes, classes, drivers, nodes

pub fn pv(name: &str) -> PersistentVolume {
    PersistentVolume {
        metadata: meta(name, None),
        spec: Some(PersistentVolumeSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            capacity: Some(BTreeMap::from([("storage".into(), Quantity("1Gi".into()))])),
            persistent_volume_reclaim_policy: Some("Delete".into()),
            ..Default::default()
        }),
        status: Some(PersistentVolumeStatus {
            phase: Some("Available".into()),
            ..Default::default()
        }),
    }
}

pub trait VolumeExt: Sized {
    fn bound_to(self, ns: &str, claim: &str) -> Self;
    fn class(self, class: &str) -> Self;
    fn csi(self, driver: &str) -> Self;
    fn size(self, size: &str) -> Self;
    fn modes(self, modes: &[&str]) -> Self;
    fn node_affinity(self, key: &str, values: &[&str]) -> Self;
}

impl VolumeExt for PersistentVolume {
    fn bound_to(mut self, ns: &str, claim: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).claim_ref = Some(ObjectReference {
            kind: Some("PersistentVolumeClaim".into()),
            namespace: Some(ns.into()),
            name: Some(claim.into()),
            uid: Some(format!("uid-{claim}")),
            ..Default::default()
        });
        self.status.get_or_insert_with(Default::default).phase = Some("Bound".into());
        self
    }

    fn class(mut self, class: &str) -> Self {
        self.spec
            .get_or_insert_with(Default::default)
            .storage_class_name = Some(class.into());
        self
    }

    fn csi(mut self, driver: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).csi =
            Some(k8s_openapi::api::core::v1::CSIPersistentVolumeSource {
                driver: driver.into(),
                volume_handle: format!("handle-{}", self.metadata.name.clone().unwrap_or_default()),
                ..Default::default()
            });
        self
    }

    fn size(mut self, size: &str) -> Self {
        self.spec.get_or_insert_with(Default::default).capacity =
            Some(BTreeMap::from([("storage".into(), Quantity(size.into()))]));
        self
    }

    fn modes(mut self, modes: &[&str]) -> Self {
        self.spec.get_or_insert_with(Default::default).access_modes =
            Some(modes.iter().map(|m| m.to_string()).collect());
        self
    }

    fn node_affinity(mut self, key: &str, values: &[&str]) -> Self {
        use k8s_openapi::api::core::v1::{
            NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, VolumeNodeAffinity,
        };
        self.spec.get_or_insert_with(Default::default).node_affinity = Some(VolumeNodeAffinity {
            required: Some(NodeSelector {
                node_selector_terms: vec![NodeSelectorTerm {
                    match_expressions: Some(vec![NodeSelectorRequirement {
                        key: key.into(),
                        operator: "In".into(),
                        values: Some(values.iter().map(|v| v.to_string()).collect()),
                    }]),
                    match_fields: None,
                }],
            }),
        });
        self
    }
}

pub fn class(name: &str, provisioner: &str) -> StorageClass {
    StorageClass {
        metadata: meta(name, None),
        provisioner: provisioner.into(),
        reclaim_policy: Some("Delete".into()),
        volume_binding_mode: Some("Immediate".into()),
        ..Default::default()
    }
}

pub trait ClassExt: Sized {
    fn wait_for_consumer(self) -> Self;
    fn default_class(self) -> Self;
}

impl ClassExt for StorageClass {
    fn wait_for_consumer(mut self) -> Self {
        self.volume_binding_mode = Some("WaitForFirstConsumer".into());
        self
    }

    fn default_class(mut self) -> Self {
        self.metadata
            .annotations
            .get_or_insert_with(BTreeMap::new)
            .insert(
                "storageclass.kubernetes.io/is-default-class".into(),
                "true".into(),
            );
        self
    }
}

pub fn csi_driver(name: &str) -> CSIDriver {
    CSIDriver {
        metadata: meta(name, None),
        spec: CSIDriverSpec {
            attach_required: Some(true),
            ..Default::default()
        },
    }
}

pub fn csi_node(node: &str, drivers: &[&str]) -> CSINode {
    CSINode {
        metadata: meta(node, None),
        spec: CSINodeSpec {
            drivers: drivers
                .iter()
                .map(|d| CSINodeDriver {
                    name: d.to_string(),
                    node_id: node.into(),
                    ..Default::default()
                })
                .collect(),
        },
    }
}

pub fn node(name: &str) -> Node {
    let mut m = meta(name, None);
    m.labels = Some(BTreeMap::from([(
        "kubernetes.io/hostname".into(),
        name.into(),
    )]));
    Node {
        metadata: m,
        spec: Some(NodeSpec::default()),
        status: Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

pub trait NodeExt: Sized {
    fn label(self, key: &str, value: &str) -> Self;
    fn not_ready(self) -> Self;
    fn taint(self, key: &str, effect: &str) -> Self;
}

impl NodeExt for Node {
    fn label(mut self, key: &str, value: &str) -> Self {
        self.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value.into());
        self
    }

    fn not_ready(mut self) -> Self {
        if let Some(c) = self
            .status
            .as_mut()
            .and_then(|s| s.conditions.as_mut())
            .and_then(|c| c.first_mut())
        {
            c.status = "Unknown".into();
        }
        self
    }

    fn taint(mut self, key: &str, effect: &str) -> Self {
        self.spec
            .get_or_insert_with(Default::default)
            .taints
            .get_or_insert_with(Vec::new)
            .push(Taint {
                key: key.into(),
                effect: effect.into(),
                ..Default::default()
            });
        self
    }
}

pub fn attachment(volume: &str, node: &str, attached: bool) -> VolumeAttachment {
    VolumeAttachment {
        metadata: meta(&format!("csi-{volume}-{node}"), None),
        spec: VolumeAttachmentSpec {
            attacher: "ebs.csi.aws.com".into(),
            node_name: node.into(),
            source: VolumeAttachmentSource {
                persistent_volume_name: Some(volume.into()),
                ..Default::default()
            },
        },
        status: Some(VolumeAttachmentStatus {
            attached,
            ..Default::default()
        }),
    }
}

// ---- events

pub fn event(reason: &str, message: &str) -> Event {
    Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{reason}.{}",
                NEXT_EVENT.fetch_add(1, Ordering::Relaxed)
            )),
            namespace: Some("default".into()),
            ..Default::default()
        },
        involved_object: ObjectReference::default(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some("Normal".into()),
        count: Some(1),
        first_timestamp: Some(time(OBSERVED)),
        last_timestamp: Some(time(OBSERVED)),
        ..Default::default()
    }
}

pub trait EventExt: Sized {
    fn warning(self) -> Self;
    fn at(self, t: &str) -> Self;
    fn series_at(self, t: &str) -> Self;
    fn count(self, n: i32) -> Self;
    fn about(self, kind: &str, ns: &str, name: &str) -> Self;
    fn by(self, component: &str) -> Self;
}

impl EventExt for Event {
    fn warning(mut self) -> Self {
        self.type_ = Some("Warning".into());
        self
    }

    fn at(mut self, t: &str) -> Self {
        self.first_timestamp = Some(time(t));
        self.last_timestamp = Some(time(t));
        self
    }

    fn series_at(mut self, t: &str) -> Self {
        self.series = Some(EventSeries {
            count: Some(2),
            last_observed_time: Some(MicroTime(t.parse().expect("fixture timestamp"))),
        });
        self
    }

    fn count(mut self, n: i32) -> Self {
        self.count = Some(n);
        self
    }

    fn about(mut self, kind: &str, ns: &str, name: &str) -> Self {
        self.involved_object = ObjectReference {
            kind: Some(kind.into()),
            namespace: (!ns.is_empty()).then(|| ns.into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        };
        self.metadata.namespace = (!ns.is_empty()).then(|| ns.into());
        self
    }

    fn by(mut self, component: &str) -> Self {
        self.source = Some(EventSource {
            component: Some(component.into()),
            host: None,
        });
        self
    }
}

/// Runs one rule over every default subject of the snapshot.
pub fn causes(rule: &crate::rules::Rule, snap: &Snapshot) -> Vec<crate::rules::Cause> {
    let drivers = crate::drivers::Drivers::built_in();
    let ctx = crate::rules::Ctx {
        snap,
        drivers: &drivers,
    };
    crate::chain::subjects(snap, &crate::chain::Scope::default())
        .expect("default scope has no targets")
        .iter()
        .flat_map(|chain| rule.check.run(&ctx, chain))
        .collect()
}

/// Everything a cause says, for tests that look for a name in it.
pub fn text(c: &crate::rules::Cause) -> String {
    [c.summary.clone(), c.evidence.join("\n"), c.fix.join("\n")].join("\n")
}
