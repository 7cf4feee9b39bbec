//! Which subjects to look at, and for each the links of its storage chain:
//! pod, claims, classes, volumes, drivers, node, attachments and events.

mod claim;
pub mod driver;
pub mod node_view;
mod pod;
mod subjects;
mod terminating;
mod volumes;
mod workload;

pub use crate::owners::{belongs_to, owner_of};
pub use crate::scope::{Scope, Target, TargetNotFound, WorkloadKind};
pub use crate::snapshot::{data_source_of, DataSource};
pub use claim::{ClaimChain, RequestedClass, SourceChain};
pub use pod::{
    disk_eviction_of, failed_for_storage, has_disk_pressure_taint, is_finished, is_healthy,
    node_disk_block, pod_state, under_disk_pressure, PodChain, Scheduling, DISK_PRESSURE_TAINT,
};
pub use subjects::{
    find_subjects, snapshot_content_gone, snapshot_in_trouble, subjects, Subject,
    SNAPSHOT_GRACE_SECONDS,
};
pub use terminating::{overdue, storage_volumes, Overdue, STUCK_MARGIN_SECONDS};
pub use volumes::{
    container_messages, has_failing_container, mount_of, pod_volumes, ContainerSays, Mount,
    PodVolume,
};
pub use workload::WorkloadChain;

use crate::api::PersistentVolume;
use crate::model::ObjectRef;
use crate::volume_snapshot::VolumeSnapshot;
use k8s_openapi::api::storage::v1::StorageClass;

/// One subject and its resolved links.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    pub subject: ObjectRef,
    pub pod: Option<PodChain<'a>>,
    pub claims: Vec<ClaimChain<'a>>,
    /// The subject itself when it is a PersistentVolume.
    pub volume: Option<&'a PersistentVolume>,
    /// The subject itself when it is a StorageClass.
    pub class: Option<&'a StorageClass>,
    /// The subject itself when it is a workload.
    pub workload: Option<WorkloadChain<'a>>,
    /// The subject itself when it is a VolumeSnapshot.
    pub snapshot: Option<&'a VolumeSnapshot>,
}

impl<'a> Chain<'a> {
    /// The subject pod and its node, when it is scheduled but not Running
    /// and Ready: the attach and mount rules look only at such pods.
    pub fn stuck_on_node(&self) -> Option<(&PodChain<'a>, &str)> {
        let pod = self.pod.as_ref()?;
        let node = pod.node_name?;
        (!pod.healthy).then_some((pod, node))
    }
}

impl Chain<'_> {
    /// Pods and claims are counted as subjects even when healthy; volumes,
    /// classes and workloads only when something is wrong with them.
    pub fn counts_when_healthy(&self) -> bool {
        self.volume.is_none()
            && self.class.is_none()
            && self.workload.is_none()
            && self.snapshot.is_none()
    }

    fn of_pod_or_claim(subject: ObjectRef) -> Self {
        Chain {
            subject,
            pod: None,
            claims: Vec::new(),
            volume: None,
            class: None,
            workload: None,
            snapshot: None,
        }
    }
}

impl<'a> Chain<'a> {
    fn with_pod(mut self, pod: PodChain<'a>) -> Self {
        self.pod = Some(pod);
        self
    }
}
