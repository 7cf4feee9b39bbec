//! One pod or one claim: its chain read by GETs and field-selected events,
//! about what `kubectl describe` reads, instead of a scan. The namespace's
//! other pods are listed only when a rule may need them: holders of the
//! claims (ReadWriteOncePod, Multi-Attach, a claim being deleted) or the
//! users of a target claim; its other claims only when one is missing, to
//! suggest the name meant. A pod whose claim is not bound, or whose mount
//! or attach fails, also reads its drivers' components wherever they run.

use super::read::{something_read, Collected, Mentions, Outcome, Reading};
use super::{Connection, LiveError};
use crate::api::{PersistentVolume, Pod, ReplicaSet, VolumeAttachment};
use crate::csi_migration::migrated_driver;
use crate::events::EventFilter;
use crate::scope::Target;
use crate::snapshot::{claim_names, data_source_of, is_default_class, Objects, Snapshot};
use crate::volume_populator::VolumePopulator;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use futures::future::{join, join3, join4, join5, join_all};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass};
use kube::api::{Api, ListParams};

/// The provisioner of classes whose volumes are made by hand.
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// Pods that may hold a volume: a finished pod holds none.
const UNFINISHED_PODS: &str = "status.phase!=Succeeded,status.phase!=Failed";

impl Connection {
    /// Reads only the chains of one pod, or of one claim and the pods using it.
    pub async fn target_chain(
        &self,
        ns: &str,
        target: &Target,
        filter: &EventFilter,
    ) -> Result<Collected, LiveError> {
        let c = &self.client;
        let version =
            async { tokio::time::timeout(self.request_timeout, c.apiserver_version()).await };
        let pods_api = || Api::<Pod>::namespaced(c.clone(), ns);
        let claims_api = || Api::<PersistentVolumeClaim>::namespaced(c.clone(), ns);
        // The target itself (a claim with the namespace's pods, among them
        // its users), and the classes and drivers: few and small, and the
        // default class and the other classes a fix may suggest.
        let subject = async {
            match target {
                Target::Pod(name) => (Some(self.get(pods_api(), name).await), None),
                Target::Claim(name) => {
                    let (claim, pods) = join(
                        self.get(claims_api(), name),
                        self.list(pods_api(), ListParams::default()),
                    )
                    .await;
                    (Some(pods), Some(claim))
                }
                _ => (None, None),
            }
        };
        let (version, (subject, classes, csi_drivers)) = join(
            version,
            join3(
                subject,
                self.cluster::<StorageClass>(),
                self.cluster::<CSIDriver>(),
            ),
        )
        .await;
        let server_version = self.version_of(version)?;
        let mut r = Reading::default();
        let (pods_read, target_claim) = subject;
        let pods_read = pods_read
            .map(|p| r.take(p))
            .transpose()?
            .unwrap_or_default();
        // The pods whose chains matter; the others were read as users.
        let (pods, listed): (Vec<Pod>, Vec<Pod>) = match target {
            Target::Claim(name) => pods_read
                .into_iter()
                .partition(|p| claim_names(p).iter().any(|u| &u.claim == name)),
            _ => (pods_read, Vec::new()),
        };
        let target_claim = target_claim
            .map(|cl| r.take(cl))
            .transpose()?
            .unwrap_or_default();
        let classes = r.take(classes)?;
        let csi_drivers = r.take(csi_drivers)?;
        something_read(&self.server, &r)?;

        let mut wanted: Vec<String> = pods
            .iter()
            .flat_map(|p| claim_names(p).into_iter().map(|u| u.claim))
            .collect();
        wanted.sort();
        wanted.dedup();
        let fetch: Vec<&String> = wanted
            .iter()
            .filter(|w| {
                !target_claim
                    .iter()
                    .any(|t| t.metadata.name.as_ref() == Some(w))
            })
            .collect();
        let claims = join_all(fetch.iter().map(|n| self.get(claims_api(), n)));
        let pod_events = join_all(pods.iter().filter_map(|p| {
            let name = p.metadata.name.as_deref()?;
            Some(self.events_about(ns, "Pod", name))
        }));
        let owners: Vec<String> = pods
            .iter()
            .flat_map(|p| p.metadata.owner_references.iter().flatten())
            .filter(|o| o.kind == "ReplicaSet")
            .map(|o| o.name.clone())
            .collect();
        let replica_sets = join_all(
            owners
                .iter()
                .map(|rs| self.get(Api::<ReplicaSet>::namespaced(c.clone(), ns), rs)),
        );
        let (claims, pod_events, replica_sets) = join3(claims, pod_events, replica_sets).await;
        let mut found_claims = target_claim;
        for cl in claims {
            found_claims.extend(r.take(cl)?);
        }
        let mut events = Vec::new();
        for e in pod_events {
            events.extend(r.take(e)?);
        }
        let replica_sets = replica_sets
            .into_iter()
            .map(|rs| r.take(rs))
            .collect::<Result<Vec<_>, _>>()?
            .concat();

        // What follows from the claims: their events, volumes, users or
        // holders, the snapshots they restore from; and from the pod: its
        // node, or every node when it waits for one.
        let claim_names_read: Vec<String> = found_claims
            .iter()
            .filter_map(|cl| cl.metadata.name.clone())
            .collect();
        // A target or a claim that does not exist: the namespace's names,
        // for the error to suggest the one meant.
        let missing_claim = wanted.iter().any(|w| !claim_names_read.contains(w))
            || matches!(target, Target::Claim(_)) && claim_names_read.is_empty();
        let missing_pod = matches!(target, Target::Pod(_)) && pods.is_empty();
        let needs_pods = matches!(target, Target::Pod(_))
            && pods.iter().any(|p| !running_and_ready(p))
            && found_claims.iter().any(may_be_held_elsewhere);
        let volume_names: Vec<String> = found_claims
            .iter()
            .filter_map(|cl| cl.spec.as_ref()?.volume_name.clone())
            .filter(|v| !v.is_empty())
            .collect();
        let mut node_names: Vec<String> = pods
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        node_names.sort();
        node_names.dedup();
        let unscheduled = pods
            .iter()
            .any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none());
        let restores = found_claims
            .iter()
            .any(|cl| data_source_of(cl).is_some_and(|d| d.is_snapshot()));
        // A claim a volume populator fills: the populators' registrations.
        let populated = found_claims
            .iter()
            .any(|cl| data_source_of(cl).is_some_and(|d| d.is_populated()));

        let claim_events = join_all(
            claim_names_read
                .iter()
                .map(|cl| self.events_about(ns, "PersistentVolumeClaim", cl)),
        );
        let nodes = async {
            if unscheduled {
                vec![self.cluster::<Node>().await]
            } else {
                join_all(
                    node_names
                        .iter()
                        .map(|n| self.get(Api::<Node>::all(c.clone()), n)),
                )
                .await
            }
        };
        let csi_nodes = join_all(
            node_names
                .iter()
                .map(|n| self.get(Api::<CSINode>::all(c.clone()), n)),
        );
        let attachments = async {
            if node_names.is_empty() {
                None
            } else {
                // Those of the pod's volumes, wherever attached, and
                // every one on its nodes (their attach limits).
                let quoted = |n: &String| format!("\"{n}\"");
                let wanted =
                    Mentions::OneOf(volume_names.iter().chain(&node_names).map(quoted).collect());
                Some(self.cluster_where::<VolumeAttachment>(&wanted).await)
            }
        };
        let others = async {
            let pods = async {
                if missing_pod {
                    Some(self.list(pods_api(), ListParams::default()).await)
                } else if needs_pods {
                    Some(
                        self.list(pods_api(), ListParams::default().fields(UNFINISHED_PODS))
                            .await,
                    )
                } else {
                    None
                }
            };
            let claims = async {
                if missing_claim {
                    Some(self.list(claims_api(), ListParams::default()).await)
                } else {
                    None
                }
            };
            join(pods, claims).await
        };
        let populators = async {
            if populated {
                Some(self.cluster::<VolumePopulator>().await)
            } else {
                None
            }
        };
        let snapshots = async {
            if restores {
                Some(
                    join3(
                        self.list(
                            Api::<VolumeSnapshot>::namespaced(c.clone(), ns),
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
        // A volume that waits on its driver (a claim not yet bound, a
        // mount or attach failing): the driver's components and the
        // sidecars' leader Leases, wherever they run.
        let volume_trouble = events.iter().any(|e| {
            matches!(
                crate::events::reason(e),
                "FailedMount" | "FailedAttachVolume" | "FailedMapVolume"
            )
        });
        let unbound = found_claims
            .iter()
            .any(|cl| cl.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Bound"));
        let needs_drivers = pods.iter().any(|p| !running_and_ready(p))
            && (unbound || volume_trouble)
            || matches!(target, Target::Claim(_)) && unbound;
        // The volumes first, for the drivers they name; the Leases, for
        // where those drivers' components run.
        let volumes_and_drivers = async {
            let volumes = join_all(
                volume_names
                    .iter()
                    .map(|v| self.get(Api::<PersistentVolume>::all(c.clone()), v)),
            );
            let leases = async {
                if needs_drivers {
                    Some(self.cluster::<Lease>().await)
                } else {
                    None
                }
            };
            let (volumes, leases) = join(volumes, leases).await;
            let Some(leases) = leases else {
                return (volumes, None);
            };
            let read: Vec<&PersistentVolume> = volumes
                .iter()
                .filter_map(|v| match v {
                    Ok(Outcome::Items(items)) => Some(items),
                    _ => None,
                })
                .flatten()
                .collect();
            let wanted = drivers_of(&found_claims, &classes, &read);
            let known = match &leases {
                Ok(Outcome::Items(items)) => items.as_slice(),
                _ => &[],
            };
            let components = self.components_of(&wanted, known).await;
            (volumes, Some((components, leases)))
        };
        let (
            claim_events,
            (volumes, drivers),
            nodes,
            csi_nodes,
            (attachments, others, snapshots, populators),
        ) = join5(
            claim_events,
            volumes_and_drivers,
            nodes,
            csi_nodes,
            join4(attachments, others, snapshots, populators),
        )
        .await;

        let mut objects = Objects {
            pods: pods.into_iter().chain(listed).collect(),
            claims: found_claims,
            classes,
            csi_drivers,
            replica_sets,
            attachments: attachments
                .map(|a| r.take(a))
                .transpose()?
                .unwrap_or_default(),
            ..Objects::default()
        };
        let (other_pods, other_claims) = others;
        if let Some(p) = other_pods {
            objects.pods.extend(r.take(p)?);
        }
        if let Some(cl) = other_claims {
            objects.claims.extend(r.take(cl)?);
        }
        for e in claim_events {
            events.extend(r.take(e)?);
        }
        events.retain(|e| filter.keeps(e));
        objects.events = events;
        for v in volumes {
            objects.volumes.extend(r.take(v)?);
        }
        for n in csi_nodes {
            objects.csi_nodes.extend(r.take(n)?);
        }
        for n in nodes {
            objects.nodes.extend(r.take(n)?);
        }
        if let Some((components, leases)) = drivers {
            objects.add_components(components?, &mut r.gaps);
            objects.leases = r.take(leases)?;
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
}

fn running_and_ready(p: &Pod) -> bool {
    let status = p.status.as_ref();
    status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// A claim another pod may hold: one that is not shared by design
/// (ReadWriteOnce, ReadWriteOncePod), or one being deleted while in use.
fn may_be_held_elsewhere(claim: &PersistentVolumeClaim) -> bool {
    let shared = claim
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .is_some_and(|m| {
            !m.is_empty()
                && m.iter()
                    .all(|m| m == "ReadWriteMany" || m == "ReadOnlyMany")
        });
    !shared || claim.metadata.deletion_timestamp.is_some()
}

/// The CSI drivers the target's volumes depend on: each claim's class (an
/// in-tree one by the driver it migrated to; no class, the default one)
/// and each volume's CSI source.
fn drivers_of(
    claims: &[PersistentVolumeClaim],
    classes: &[StorageClass],
    volumes: &[&PersistentVolume],
) -> Vec<String> {
    let class_named = |name: Option<&str>| {
        classes.iter().find(|sc| match name {
            Some(n) => sc.metadata.name.as_deref() == Some(n),
            None => is_default_class(sc),
        })
    };
    let mut drivers: Vec<String> = claims
        .iter()
        .filter_map(|cl| class_named(cl.spec.as_ref()?.storage_class_name.as_deref()))
        .map(|sc| sc.provisioner.as_str())
        .filter(|p| *p != NO_PROVISIONER)
        .map(|p| migrated_driver(p).unwrap_or(p).to_string())
        .chain(
            volumes
                .iter()
                .filter_map(|v| Some(v.spec.as_ref()?.csi.as_ref()?.driver.clone())),
        )
        .collect();
    drivers.sort();
    drivers.dedup();
    drivers
}
