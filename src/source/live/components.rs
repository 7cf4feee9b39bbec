//! The CSI drivers' own components outside the namespace in scope: the
//! provisioner and the node plugin a pod depends on usually run in
//! kube-system or the driver's namespace. Their workloads are found by the
//! sidecars they run, and their pods by each workload's selector.

use super::read::{Mentions, Outcome};
use super::{Connection, LiveError};
use crate::api::{
    Container, DaemonSet, Deployment, Event, Pod, PodTemplateSpec, ReplicaSet, StatefulSet,
};
use crate::csi_sidecars::{
    image_markers, is_registrar, labels_name, lease_name, runs_csi_component, sidecar_of,
    spec_names, SIDECARS,
};
use crate::snapshot::{Gap, Objects};
use futures::future::{join, join3, join_all};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, ListParams};
use std::collections::BTreeSet;

/// Where a driver's workloads usually run when no Lease says otherwise.
const SYSTEM_NAMESPACE: &str = "kube-system";

/// The components read, and what could not be read.
#[derive(Default)]
pub(super) struct DriverComponents {
    pub daemon_sets: Vec<DaemonSet>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub pods: Vec<Pod>,
    /// For a workload with no pods: a Deployment's ReplicaSets, and the
    /// events that say why its pods are not created.
    pub replica_sets: Vec<ReplicaSet>,
    pub events: Vec<Event>,
    pub gap: Option<Gap>,
}

impl DriverComponents {
    /// The items of a request, or nothing and the first gap, kept once
    /// under a name of its own: the kinds themselves were read in the scope.
    fn take<T>(&mut self, outcome: Result<Outcome<T>, LiveError>) -> Result<Vec<T>, LiveError> {
        Ok(match outcome? {
            Outcome::Items(items) => items,
            Outcome::Gap(g) => {
                self.gap.get_or_insert_with(|| Gap {
                    resource: "csi driver components".to_string(),
                    reason: g.reason,
                    message: format!(
                        "the CSI drivers' controllers and node plugins outside the namespace could not be read ({}: {})",
                        g.resource, g.message
                    ),
                });
                Vec::new()
            }
        })
    }

    /// Whether a Deployment or StatefulSet found runs `driver`'s controller.
    fn has_controller(&self, driver: &str) -> bool {
        let deployments = self
            .deployments
            .iter()
            .map(|d| (&d.metadata, d.spec.as_ref().map(|s| &s.template)));
        let stateful_sets = self
            .stateful_sets
            .iter()
            .map(|s| (&s.metadata, s.spec.as_ref().map(|s| &s.template)));
        deployments
            .chain(stateful_sets)
            .any(|(meta, t)| serves(meta, t, driver, |c| sidecar_of(c).is_some()))
    }

    /// Whether a DaemonSet found runs `driver`'s node plugin.
    fn has_node_plugin(&self, driver: &str) -> bool {
        self.daemon_sets.iter().any(|d| {
            serves(
                &d.metadata,
                d.spec.as_ref().map(|s| &s.template),
                driver,
                is_registrar,
            )
        })
    }
}

/// Whether a workload's template runs a component (`runs`) of `driver`:
/// one that names the driver, or whose labels do, as the chain tells them.
fn serves(
    meta: &ObjectMeta,
    template: Option<&PodTemplateSpec>,
    driver: &str,
    runs: impl Fn(&Container) -> bool,
) -> bool {
    let Some(t) = template else {
        return false;
    };
    let labels = t
        .metadata
        .as_ref()
        .and_then(|m| m.labels.as_ref())
        .or(meta.labels.as_ref());
    t.spec.as_ref().is_some_and(|spec| {
        spec.containers.iter().any(&runs)
            && (spec_names(spec, driver) || labels_name(labels, driver))
    })
}

/// The workloads worth parsing in a cluster-wide LIST: those whose text
/// names a CSI component's image.
fn running_components() -> Mentions {
    Mentions::OneOf(image_markers().map(String::from).collect())
}

impl Objects {
    /// Adds the components read elsewhere; their gap, if any, to `gaps`.
    pub(super) fn add_components(&mut self, found: DriverComponents, gaps: &mut Vec<Gap>) {
        self.daemon_sets.extend(found.daemon_sets);
        self.deployments.extend(found.deployments);
        self.stateful_sets.extend(found.stateful_sets);
        self.pods.extend(found.pods);
        self.replica_sets.extend(found.replica_sets);
        self.events.extend(found.events);
        gaps.extend(found.gap);
    }
}

/// Keeps the workloads that run a CSI component, outside `outside`.
fn keep_components(found: &mut DriverComponents, outside: Option<&str>) {
    let elsewhere = |meta: &ObjectMeta, template: Option<&PodTemplateSpec>| {
        (outside.is_none() || meta.namespace.as_deref() != outside)
            && template
                .and_then(|t| t.spec.as_ref())
                .is_some_and(runs_csi_component)
    };
    found
        .daemon_sets
        .retain(|d| elsewhere(&d.metadata, d.spec.as_ref().map(|s| &s.template)));
    found
        .deployments
        .retain(|d| elsewhere(&d.metadata, d.spec.as_ref().map(|s| &s.template)));
    found
        .stateful_sets
        .retain(|s| elsewhere(&s.metadata, s.spec.as_ref().map(|s| &s.template)));
}

impl Connection {
    /// The workloads outside `outside` that run a CSI sidecar or
    /// node-driver-registrar, and their pods: three LISTs, then one
    /// label-selected LIST of pods per workload.
    pub(super) async fn driver_components(
        &self,
        outside: &str,
    ) -> Result<DriverComponents, LiveError> {
        let components = running_components();
        let (daemon_sets, deployments, stateful_sets) = join3(
            self.cluster_where::<DaemonSet>(&components),
            self.cluster_where::<Deployment>(&components),
            self.cluster_where::<StatefulSet>(&components),
        )
        .await;
        let mut found = DriverComponents::default();
        found.daemon_sets = found.take(daemon_sets)?;
        found.deployments = found.take(deployments)?;
        found.stateful_sets = found.take(stateful_sets)?;
        keep_components(&mut found, Some(outside));
        self.component_pods(found).await
    }

    /// The components of the drivers a single target waits on, read where
    /// they are found without listing every workload of the cluster: the
    /// namespaces of the drivers' leader Leases (each CSI sidecar leads
    /// from its own namespace) and kube-system. A driver whose controller
    /// or node plugin is not there is looked for cluster-wide, so a
    /// component elsewhere is never reported absent.
    pub(super) async fn components_of(
        &self,
        drivers: &[String],
        leases: &[Lease],
    ) -> Result<DriverComponents, LiveError> {
        let lease_names: BTreeSet<String> = drivers
            .iter()
            .flat_map(|d| SIDECARS.iter().filter_map(move |s| lease_name(s, d)))
            .collect();
        let mut namespaces: BTreeSet<&str> = leases
            .iter()
            .filter(|l| {
                l.metadata
                    .name
                    .as_ref()
                    .is_some_and(|n| lease_names.contains(n))
            })
            .filter_map(|l| l.metadata.namespace.as_deref())
            .collect();
        namespaces.insert(SYSTEM_NAMESPACE);
        let near = join_all(namespaces.iter().map(|ns| {
            join3(
                self.namespaced::<DaemonSet>(Some(ns), None, None),
                self.namespaced::<Deployment>(Some(ns), None, None),
                self.namespaced::<StatefulSet>(Some(ns), None, None),
            )
        }))
        .await;
        let mut found = DriverComponents::default();
        for (daemon_sets, deployments, stateful_sets) in near {
            let items = found.take(daemon_sets)?;
            found.daemon_sets.extend(items);
            let items = found.take(deployments)?;
            found.deployments.extend(items);
            let items = found.take(stateful_sets)?;
            found.stateful_sets.extend(items);
        }
        let controllers_elsewhere =
            drivers.is_empty() || drivers.iter().any(|d| !found.has_controller(d));
        let node_plugins_elsewhere =
            drivers.is_empty() || drivers.iter().any(|d| !found.has_node_plugin(d));
        let components = running_components();
        let (daemon_sets, controllers) = join(
            async {
                if node_plugins_elsewhere {
                    Some(self.cluster_where::<DaemonSet>(&components).await)
                } else {
                    None
                }
            },
            async {
                if controllers_elsewhere {
                    Some(
                        join(
                            self.cluster_where::<Deployment>(&components),
                            self.cluster_where::<StatefulSet>(&components),
                        )
                        .await,
                    )
                } else {
                    None
                }
            },
        )
        .await;
        if let Some(all) = daemon_sets {
            found.daemon_sets = found.take(all)?;
        }
        if let Some((deployments, stateful_sets)) = controllers {
            found.deployments = found.take(deployments)?;
            found.stateful_sets = found.take(stateful_sets)?;
        }
        keep_components(&mut found, None);
        self.component_pods(found).await
    }

    /// The pods of the workloads found: one label-selected LIST per
    /// workload's selector; then, for a workload with none, why.
    async fn component_pods(
        &self,
        mut found: DriverComponents,
    ) -> Result<DriverComponents, LiveError> {
        let c = &self.client;
        let workloads: Vec<(&'static str, String, String, String)> = found
            .daemon_sets
            .iter()
            .map(|d| {
                (
                    "DaemonSet",
                    &d.metadata,
                    d.spec.as_ref().map(|s| &s.selector),
                )
            })
            .chain(found.deployments.iter().map(|d| {
                (
                    "Deployment",
                    &d.metadata,
                    d.spec.as_ref().map(|s| &s.selector),
                )
            }))
            .chain(found.stateful_sets.iter().map(|s| {
                (
                    "StatefulSet",
                    &s.metadata,
                    s.spec.as_ref().map(|s| &s.selector),
                )
            }))
            .filter_map(|(kind, meta, selector)| {
                Some((
                    kind,
                    meta.namespace.clone()?,
                    meta.name.clone()?,
                    label_selector(selector?)?,
                ))
            })
            .collect();
        let mut selected: Vec<(&str, &str)> = workloads
            .iter()
            .map(|(_, ns, _, labels)| (ns.as_str(), labels.as_str()))
            .collect();
        selected.sort();
        selected.dedup();
        let pods = join_all(selected.iter().map(|(ns, labels)| {
            self.list(
                Api::<Pod>::namespaced(c.clone(), ns),
                ListParams::default().labels(labels),
            )
        }))
        .await;
        let mut podless = BTreeSet::new();
        for (p, key) in pods.into_iter().zip(&selected) {
            let items = found.take(p)?;
            if items.is_empty() {
                podless.insert(*key);
            }
            found.pods.extend(items);
        }
        let podless: Vec<_> = workloads
            .iter()
            .filter(|(_, ns, _, labels)| podless.contains(&(ns.as_str(), labels.as_str())))
            .collect();
        self.refusals(&mut found, &podless).await?;
        Ok(found)
    }

    /// Why workloads have no pods: the events about each, and about a
    /// Deployment's ReplicaSets (label-selected by the Deployment's
    /// selector, which its ReplicaSets carry).
    async fn refusals(
        &self,
        found: &mut DriverComponents,
        podless: &[&(&'static str, String, String, String)],
    ) -> Result<(), LiveError> {
        let c = &self.client;
        let replica_sets = join_all(
            podless
                .iter()
                .filter(|(kind, ..)| *kind == "Deployment")
                .map(|(_, ns, _, labels)| {
                    self.list(
                        Api::<ReplicaSet>::namespaced(c.clone(), ns),
                        ListParams::default().labels(labels),
                    )
                }),
        )
        .await;
        for r in replica_sets {
            let items = found.take(r)?;
            found.replica_sets.extend(items);
        }
        let about: Vec<(&str, &str, &str)> = podless
            .iter()
            .map(|(kind, ns, name, _)| (*kind, ns.as_str(), name.as_str()))
            .chain(found.replica_sets.iter().filter_map(|rs| {
                Some((
                    "ReplicaSet",
                    rs.metadata.namespace.as_deref()?,
                    rs.metadata.name.as_deref()?,
                ))
            }))
            .collect();
        let events = join_all(
            about
                .iter()
                .map(|(kind, ns, name)| self.events_about(ns, kind, name)),
        )
        .await;
        let mut read = Vec::new();
        for e in events {
            read.extend(found.take(e)?);
        }
        found.events.extend(read);
        Ok(())
    }
}

/// A workload's `matchLabels` as a label selector; `None` when it has
/// none (its pods are not listed: a whole namespace is not worth it).
fn label_selector(selector: &LabelSelector) -> Option<String> {
    let labels = selector.match_labels.as_ref()?;
    if labels.is_empty() {
        return None;
    }
    Some(
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    )
}
