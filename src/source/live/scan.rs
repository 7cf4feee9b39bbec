//! A scan: every kind a diagnosis of the scope reads, one LIST each (the
//! events in a few field-selected LISTs), all concurrent.

use super::read::{something_read, Collected, Reading, ScanScope};
use super::{Connection, LiveError};
use crate::api::{
    CronJob, DaemonSet, Deployment, Job, PersistentVolume, Pod, ReplicaSet, StatefulSet,
    VolumeAttachment,
};
use crate::events::EventFilter;
use crate::snapshot::{Objects, Snapshot};
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use futures::future::{join, join3, join4};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{LimitRange, Node, PersistentVolumeClaim, ResourceQuota};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, CSIStorageCapacity, StorageClass};

impl Connection {
    /// Reads everything a diagnosis of the scope needs.
    pub async fn scan(
        &self,
        scope: &ScanScope,
        filter: &EventFilter,
    ) -> Result<Collected, LiveError> {
        let ns = scope.namespace.as_deref();
        let sel = scope.selector.as_deref();
        let version = async {
            tokio::time::timeout(self.request_timeout, self.client.apiserver_version()).await
        };
        let core = join4(
            self.namespaced::<Pod>(ns, sel, None),
            // Claims unfiltered: a selected pod's claim need not carry its labels.
            self.namespaced::<PersistentVolumeClaim>(ns, None, None),
            self.events(ns, filter),
            join(self.cluster::<PersistentVolume>(), self.cluster::<Node>()),
        );
        let storage = join4(
            self.cluster::<StorageClass>(),
            self.cluster::<CSIDriver>(),
            self.cluster::<CSINode>(),
            join(
                self.cluster::<VolumeAttachment>(),
                self.namespaced::<CSIStorageCapacity>(ns, None, None),
            ),
        );
        let workloads = join4(
            self.namespaced::<ResourceQuota>(ns, None, None),
            self.namespaced::<LimitRange>(ns, None, None),
            join3(
                self.namespaced::<Deployment>(ns, None, None),
                self.namespaced::<ReplicaSet>(ns, None, None),
                // Every namespace: the CSI sidecars' leader Leases live
                // beside the driver, not beside the workload.
                self.cluster::<Lease>(),
            ),
            join4(
                self.namespaced::<StatefulSet>(ns, None, None),
                self.namespaced::<DaemonSet>(ns, None, None),
                self.namespaced::<Job>(ns, None, None),
                self.namespaced::<CronJob>(ns, None, None),
            ),
        );
        let snapshots = join4(
            self.namespaced::<VolumeSnapshot>(ns, None, None),
            self.cluster::<VolumeSnapshotContent>(),
            self.cluster::<VolumeSnapshotClass>(),
            self.cluster::<VolumePopulator>(),
        );
        // In one namespace, the drivers' components elsewhere.
        let components = async {
            match ns {
                Some(n) => Some(self.driver_components(n).await),
                None => None,
            }
        };
        let (version, ((core, storage, workloads, snapshots), components)) = join(
            version,
            join(join4(core, storage, workloads, snapshots), components),
        )
        .await;
        let server_version = self.version_of(version)?;
        let (pods, claims, events, (volumes, nodes)) = core;
        let (classes, csi_drivers, csi_nodes, (attachments, capacities)) = storage;
        let (
            quotas,
            limit_ranges,
            (deployments, replica_sets, leases),
            (stateful_sets, daemon_sets, jobs, cron_jobs),
        ) = workloads;
        let (snapshots, snapshot_contents, snapshot_classes, populators) = snapshots;
        let mut r = Reading::default();
        let mut objects = Objects {
            pods: r.take(pods)?,
            claims: r.take(claims)?,
            events: r.take(events)?,
            volumes: r.take(volumes)?,
            nodes: r.take(nodes)?,
            classes: r.take(classes)?,
            csi_drivers: r.take(csi_drivers)?,
            csi_nodes: r.take(csi_nodes)?,
            attachments: r.take(attachments)?,
            capacities: r.take(capacities)?,
            quotas: r.take(quotas)?,
            limit_ranges: r.take(limit_ranges)?,
            deployments: r.take(deployments)?,
            replica_sets: r.take(replica_sets)?,
            stateful_sets: r.take(stateful_sets)?,
            daemon_sets: r.take(daemon_sets)?,
            jobs: r.take(jobs)?,
            cron_jobs: r.take(cron_jobs)?,
            leases: r.take(leases)?,
            snapshots: r.take_optional(snapshots)?,
            snapshot_contents: r.take_optional(snapshot_contents)?,
            snapshot_classes: r.take_optional(snapshot_classes)?,
            populators: r.take_optional(populators)?,
        };
        r.quiet_uninstalled();
        something_read(&self.server, &r)?;
        objects.events.retain(|e| filter.keeps(e));
        if let Some(components) = components.transpose()? {
            objects.add_components(components, &mut r.gaps);
        }
        Ok(Collected {
            snapshot: Snapshot::new(objects, r.gaps, Some(jiff::Timestamp::now())),
            server_version,
        })
    }
}
