//! Reading the cluster: a scan of the whole scope, or the chain of one
//! target, each LIST paginated and all of them concurrent.

use super::{Connection, LiveError};
use crate::kinds::Stored;
use crate::scope::Target;
use crate::snapshot::{claim_names, Gap, Objects, Snapshot};
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use futures::future::{join, join3, join4, join5, join_all};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    Event, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, ListParams};
use kube::Resource;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// Page size of every LIST: large enough for few round trips, small enough
/// not to load the API server.
const PAGE: u32 = 500;

/// What a scan reads: every namespace, or one.
#[derive(Debug, Clone)]
pub struct ScanScope {
    pub namespace: Option<String>,
    /// `-l`: applies to pods (claims are filtered after reading).
    pub selector: Option<String>,
}

/// The result of reading the cluster.
pub struct Collected {
    pub snapshot: Snapshot,
    pub server_version: Option<String>,
}

enum Outcome<T> {
    Items(Vec<T>),
    Gap(Gap),
}

fn gap_of(resource: &str, err: &kube::Error) -> Option<Gap> {
    let kube::Error::Api(status) = err else {
        return None;
    };
    let reason = match status.code {
        403 => "Forbidden",
        404 => "NotFound",
        401 => return None,
        _ => {
            if status.reason.is_empty() {
                "Error"
            } else {
                status.reason.as_str()
            }
        }
    };
    Some(Gap {
        resource: resource.to_string(),
        reason: reason.to_string(),
        message: status.message.clone(),
    })
}

impl Connection {
    /// Every page of one LIST; a gap for an API error the diagnosis can
    /// live without, an error for anything that means the cluster is out of
    /// reach.
    async fn list<K>(&self, api: Api<K>, params: ListParams) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut restarted = false;
        loop {
            let mut page_params = params.clone().limit(PAGE);
            if let Some(t) = &token {
                page_params = page_params.continue_token(t);
            }
            let page =
                match tokio::time::timeout(self.request_timeout, api.list(&page_params)).await {
                    Err(_) => {
                        return Err(LiveError::Timeout {
                            server: self.server.clone(),
                            after: self.request_timeout,
                        })
                    }
                    // The continue token expired (410) while paging a large
                    // list: read the list again from the start, once.
                    Ok(Err(kube::Error::Api(status)))
                        if status.code == 410 && token.is_some() && !restarted =>
                    {
                        restarted = true;
                        token = None;
                        items.clear();
                        continue;
                    }
                    Ok(Err(e)) => match gap_of(K::KIND.resource, &e) {
                        Some(gap) => return Ok(Outcome::Gap(gap)),
                        None => return Err(self.fatal(e)),
                    },
                    Ok(Ok(page)) => page,
                };
            items.extend(page.items.into_iter().map(|mut o| {
                // Large and never read.
                o.meta_mut().managed_fields = None;
                o
            }));
            match page.metadata.continue_ {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(Outcome::Items(items))
    }

    async fn namespaced<K>(
        &self,
        scope: &ScanScope,
        selector: Option<&str>,
    ) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let api = match &scope.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let mut params = ListParams::default();
        if let Some(s) = selector {
            params = params.labels(s);
        }
        self.list(api, params).await
    }

    async fn cluster<K>(&self) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        self.list(Api::all(self.client.clone()), ListParams::default())
            .await
    }

    /// Reads everything a diagnosis of the scope needs.
    pub async fn scan(&self, scope: &ScanScope) -> Result<Collected, LiveError> {
        let sel = scope.selector.as_deref();
        let version = async {
            tokio::time::timeout(self.request_timeout, self.client.apiserver_version()).await
        };
        let core = join4(
            self.namespaced::<Pod>(scope, sel),
            // Claims unfiltered: a selected pod's claim need not carry its labels.
            self.namespaced::<PersistentVolumeClaim>(scope, None),
            self.namespaced::<Event>(scope, None),
            join(self.cluster::<PersistentVolume>(), self.cluster::<Node>()),
        );
        let storage = join4(
            self.cluster::<StorageClass>(),
            self.cluster::<CSIDriver>(),
            self.cluster::<CSINode>(),
            join(
                self.cluster::<VolumeAttachment>(),
                self.namespaced::<CSIStorageCapacity>(scope, None),
            ),
        );
        let workloads = join4(
            self.namespaced::<ResourceQuota>(scope, None),
            self.namespaced::<LimitRange>(scope, None),
            join3(
                self.namespaced::<Deployment>(scope, None),
                self.namespaced::<ReplicaSet>(scope, None),
                // Every namespace: the CSI sidecars' leader Leases live
                // beside the driver, not beside the workload.
                self.cluster::<Lease>(),
            ),
            join4(
                self.namespaced::<StatefulSet>(scope, None),
                self.namespaced::<DaemonSet>(scope, None),
                self.namespaced::<Job>(scope, None),
                self.namespaced::<CronJob>(scope, None),
            ),
        );
        let snapshots = join4(
            self.namespaced::<VolumeSnapshot>(scope, None),
            self.cluster::<VolumeSnapshotContent>(),
            self.cluster::<VolumeSnapshotClass>(),
            self.cluster::<VolumePopulator>(),
        );
        let (version, (core, storage, workloads, snapshots)) =
            join(version, join4(core, storage, workloads, snapshots)).await;
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
        let objects = Objects {
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
        Ok(Collected {
            snapshot: Snapshot::new(objects, r.gaps, Some(jiff::Timestamp::now())),
            server_version,
        })
    }
}

impl Connection {
    /// One GET; `None` when the object does not exist, a gap when it may
    /// not be read.
    async fn get<K>(&self, api: Api<K>, name: &str) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
    {
        match tokio::time::timeout(self.request_timeout, api.get_opt(name)).await {
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                after: self.request_timeout,
            }),
            Ok(Ok(found)) => Ok(Outcome::Items(found.into_iter().collect())),
            Ok(Err(e)) => match gap_of(K::KIND.resource, &e) {
                Some(gap) => Ok(Outcome::Gap(gap)),
                None => Err(self.fatal(e)),
            },
        }
    }

    /// Events about one object, by field selector: what `kubectl describe` reads.
    async fn events_about(
        &self,
        ns: &str,
        kind: &str,
        name: &str,
    ) -> Result<Outcome<Event>, LiveError> {
        let params = ListParams::default().fields(&format!(
            "involvedObject.kind={kind},involvedObject.name={name}"
        ));
        self.list(Api::namespaced(self.client.clone(), ns), params)
            .await
    }

    /// Reads only the chains of one pod, or of one claim and the pods using
    /// it: about what `kubectl describe` reads, instead of a scan.
    pub async fn target_chain(&self, ns: &str, target: &Target) -> Result<Collected, LiveError> {
        let c = &self.client;
        let version =
            async { tokio::time::timeout(self.request_timeout, c.apiserver_version()).await };
        let first = join4(
            self.list::<Pod>(Api::namespaced(c.clone(), ns), ListParams::default()),
            self.list::<PersistentVolumeClaim>(
                Api::namespaced(c.clone(), ns),
                ListParams::default(),
            ),
            self.cluster::<StorageClass>(),
            self.cluster::<CSIDriver>(),
        );
        let (version, (pods, claims, classes, csi_drivers)) = join(version, first).await;
        let server_version = self.version_of(version)?;
        let mut r = Reading::default();
        let pods = r.take(pods)?;
        let claims = r.take(claims)?;
        let classes = r.take(classes)?;
        let csi_drivers = r.take(csi_drivers)?;
        something_read(&self.server, &r)?;

        // The pods whose chains matter, and the claims behind them.
        let subjects: Vec<&Pod> = match target {
            Target::Pod(name) => pods
                .iter()
                .filter(|p| p.metadata.name.as_deref() == Some(name))
                .collect(),
            Target::Claim(name) => pods
                .iter()
                .filter(|p| claim_names(p).iter().any(|u| &u.claim == name))
                .collect(),
            _ => Vec::new(),
        };
        let mut wanted: Vec<String> = subjects
            .iter()
            .flat_map(|p| claim_names(p).into_iter().map(|u| u.claim))
            .collect();
        if let Target::Claim(name) = target {
            wanted.push(name.clone());
        }
        wanted.sort();
        wanted.dedup();
        let volume_names: Vec<String> = claims
            .iter()
            .filter(|cl| {
                cl.metadata
                    .name
                    .as_ref()
                    .is_some_and(|n| wanted.contains(n))
            })
            .filter_map(|cl| cl.spec.as_ref()?.volume_name.clone())
            .filter(|v| !v.is_empty())
            .collect();
        let mut node_names: Vec<String> = subjects
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        node_names.sort();
        node_names.dedup();
        // An unscheduled pod is placed against every node.
        let unscheduled = subjects
            .iter()
            .any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none());
        let owners: Vec<String> = subjects
            .iter()
            .flat_map(|p| p.metadata.owner_references.iter().flatten())
            .filter(|o| o.kind == "ReplicaSet")
            .map(|o| o.name.clone())
            .collect();
        let pod_names: Vec<String> = subjects
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();

        let events = join(
            join_all(pod_names.iter().map(|p| self.events_about(ns, "Pod", p))),
            join_all(
                wanted
                    .iter()
                    .map(|cl| self.events_about(ns, "PersistentVolumeClaim", cl)),
            ),
        );
        let volumes = join_all(
            volume_names
                .iter()
                .map(|v| self.get::<PersistentVolume>(Api::all(c.clone()), v)),
        );
        let nodes = async {
            if unscheduled {
                vec![self.cluster::<Node>().await]
            } else {
                join_all(
                    node_names
                        .iter()
                        .map(|n| self.get::<Node>(Api::all(c.clone()), n)),
                )
                .await
            }
        };
        let csi_nodes = join_all(
            node_names
                .iter()
                .map(|n| self.get::<CSINode>(Api::all(c.clone()), n)),
        );
        let attachments = async {
            if node_names.is_empty() {
                None
            } else {
                Some(self.cluster::<VolumeAttachment>().await)
            }
        };
        // A claim restored from a snapshot: the snapshots of the namespace,
        // their contents and classes.
        let restores = claims.iter().any(|cl| {
            cl.metadata
                .name
                .as_ref()
                .is_some_and(|n| wanted.contains(n))
                && crate::snapshot::data_source_of(cl).is_some_and(|d| d.is_snapshot())
        });
        let snapshots = async {
            if restores {
                Some(
                    join3(
                        self.list::<VolumeSnapshot>(
                            Api::namespaced(c.clone(), ns),
                            ListParams::default(),
                        ),
                        self.cluster::<VolumeSnapshotContent>(),
                        self.cluster::<VolumeSnapshotClass>(),
                    )
                    .await,
                )
            } else {
                None
            }
        };
        // A claim a volume populator fills: the populators' registrations.
        let populated = claims.iter().any(|cl| {
            cl.metadata
                .name
                .as_ref()
                .is_some_and(|n| wanted.contains(n))
                && crate::snapshot::data_source_of(cl).is_some_and(|d| d.is_populated())
        });
        let populators = async {
            if populated {
                Some(self.cluster::<VolumePopulator>().await)
            } else {
                None
            }
        };
        let replica_sets = join_all(
            owners
                .iter()
                .map(|rs| self.get::<ReplicaSet>(Api::namespaced(c.clone(), ns), rs)),
        );
        let (
            (pod_events, claim_events),
            volumes,
            nodes,
            csi_nodes,
            (attachments, replica_sets, snapshots, populators),
        ) = join5(
            events,
            volumes,
            nodes,
            csi_nodes,
            join4(attachments, replica_sets, snapshots, populators),
        )
        .await;

        let mut objects = Objects {
            pods,
            claims,
            classes,
            csi_drivers,
            attachments: attachments
                .map(|a| r.take(a))
                .transpose()?
                .unwrap_or_default(),
            ..Objects::default()
        };
        for e in pod_events.into_iter().chain(claim_events) {
            objects.events.extend(r.take(e)?);
        }
        for v in volumes {
            objects.volumes.extend(r.take(v)?);
        }
        for n in nodes {
            objects.nodes.extend(r.take(n)?);
        }
        for n in csi_nodes {
            objects.csi_nodes.extend(r.take(n)?);
        }
        for rs in replica_sets {
            objects.replica_sets.extend(r.take(rs)?);
        }
        if let Some((snapshots, contents, classes)) = snapshots {
            objects.snapshots = r.take_optional(snapshots)?;
            objects.snapshot_contents = r.take_optional(contents)?;
            objects.snapshot_classes = r.take_optional(classes)?;
        }
        if let Some(populators) = populators {
            objects.populators = r.take_optional(populators)?;
        }
        r.quiet_uninstalled();
        Ok(Collected {
            snapshot: Snapshot::new(objects, r.gaps, Some(jiff::Timestamp::now())),
            server_version,
        })
    }

    fn version_of(
        &self,
        version: Result<
            kube::Result<k8s_openapi::apimachinery::pkg::version::Info>,
            tokio::time::error::Elapsed,
        >,
    ) -> Result<Option<String>, LiveError> {
        match version {
            Ok(Ok(info)) => Ok(Some(info.git_version)),
            Ok(Err(e)) if gap_of("version", &e).is_some() => Ok(None),
            Ok(Err(e)) => Err(self.fatal(e)),
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                after: self.request_timeout,
            }),
        }
    }
}

/// What a read gave: its gaps, and whether any request gave objects.
#[derive(Default)]
struct Reading {
    gaps: Vec<Gap>,
    answered: bool,
    /// Optional CRDs the server does not know (404).
    uninstalled: Vec<String>,
}

impl Reading {
    /// The items of a request, or nothing and a gap.
    fn take<T>(&mut self, outcome: Result<Outcome<T>, LiveError>) -> Result<Vec<T>, LiveError> {
        Ok(match outcome? {
            Outcome::Items(items) => {
                self.answered = true;
                items
            }
            Outcome::Gap(g) => {
                self.gaps.push(g);
                Vec::new()
            }
        })
    }
}

impl Reading {
    /// The items of a request for a CRD many clusters do not install: a
    /// 404 is noted apart, not a gap of its own.
    fn take_optional<T>(
        &mut self,
        outcome: Result<Outcome<T>, LiveError>,
    ) -> Result<Vec<T>, LiveError> {
        match outcome? {
            Outcome::Gap(g) if g.reason == "NotFound" => {
                self.uninstalled.push(g.resource);
                Ok(Vec::new())
            }
            other => self.take(Ok(other)),
        }
    }

    /// One quiet line for the optional CRDs that are not installed: on a
    /// cluster without snapshots that is normal, not a loss.
    fn quiet_uninstalled(&mut self) {
        if self.uninstalled.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.uninstalled);
        let mut groups: Vec<&str> = names
            .iter()
            .filter_map(|r| crate::kinds::ALL.iter().find(|k| k.resource == r))
            .map(|k| k.group)
            .collect();
        groups.dedup();
        self.gaps.push(Gap {
            resource: names.join(","),
            reason: "NotInstalled".to_string(),
            message: format!(
                "the {} CRDs are not installed on this cluster",
                groups.join(" and ")
            ),
        });
    }
}

/// A read where every request failed has nothing to diagnose: "no problem
/// found" would mislead, so it is an error naming the first gap.
fn something_read(server: &str, reading: &Reading) -> Result<(), LiveError> {
    match reading.gaps.first() {
        Some(gap) if !reading.answered => Err(LiveError::NothingRead {
            server: server.to_string(),
            resource: gap.resource.clone(),
            reason: gap.reason.clone(),
            message: gap.message.clone(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(resource: &str) -> Result<Outcome<()>, LiveError> {
        Ok(Outcome::Gap(Gap {
            resource: resource.to_string(),
            reason: "Forbidden".to_string(),
            message: format!("{resource} is forbidden"),
        }))
    }

    #[test]
    fn optional_crds_that_are_not_installed_make_one_quiet_gap() {
        let not_found = |resource: &str| -> Result<Outcome<()>, LiveError> {
            Ok(Outcome::Gap(Gap {
                resource: resource.to_string(),
                reason: "NotFound".to_string(),
                message: "the server could not find the requested resource".to_string(),
            }))
        };
        let mut reading = Reading::default();
        reading.take(Ok(Outcome::Items(vec![()]))).unwrap();
        for r in [
            "volumesnapshots",
            "volumesnapshotcontents",
            "volumesnapshotclasses",
            "volumepopulators",
        ] {
            reading.take_optional(not_found(r)).unwrap();
        }
        reading.quiet_uninstalled();
        assert_eq!(reading.gaps.len(), 1);
        assert_eq!(reading.gaps[0].reason, "NotInstalled");
        assert_eq!(
            reading.gaps[0].message,
            "the snapshot.storage.k8s.io and populator.storage.k8s.io CRDs are not installed on this cluster"
        );
        let snap = Snapshot::new(Objects::default(), reading.gaps, None);
        assert!(!snap.has("volumesnapshotcontents"));
        assert!(snap.has("pods"));
        // Forbidden stays a gap of its own.
        let mut reading = Reading::default();
        reading.take_optional(gap("volumesnapshots")).unwrap();
        reading.quiet_uninstalled();
        assert_eq!(reading.gaps[0].reason, "Forbidden");
    }

    #[test]
    fn a_read_where_every_request_failed_is_an_error() {
        let mut reading = Reading::default();
        reading.take(gap("pods")).unwrap();
        reading.take(gap("persistentvolumeclaims")).unwrap();
        let err = something_read("https://k8s", &reading).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing could be read from the cluster at https://k8s: pods: Forbidden: pods is forbidden"
        );
        reading.take(Ok(Outcome::Items(Vec::<()>::new()))).unwrap();
        assert!(something_read("https://k8s", &reading).is_ok());
        assert_eq!(reading.gaps.len(), 2);
    }
}
