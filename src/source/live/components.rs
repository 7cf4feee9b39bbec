//! The CSI drivers' own components outside the namespace in scope: the
//! provisioner and the node plugin a pod depends on usually run in
//! kube-system or the driver's namespace. Their workloads are found by the
//! sidecars they run, and their pods by each workload's selector.

use super::read::Outcome;
use super::{Connection, LiveError};
use crate::api::{DaemonSet, Deployment, Pod, PodTemplateSpec, StatefulSet};
use crate::csi_sidecars::runs_csi_component;
use crate::snapshot::{Gap, Objects};
use futures::future::{join3, join_all};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, ListParams};

/// The components read, and what could not be read.
#[derive(Default)]
pub(super) struct DriverComponents {
    pub daemon_sets: Vec<DaemonSet>,
    pub deployments: Vec<Deployment>,
    pub stateful_sets: Vec<StatefulSet>,
    pub pods: Vec<Pod>,
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
}

impl Objects {
    /// Adds the components read elsewhere; their gap, if any, to `gaps`.
    pub(super) fn add_components(&mut self, found: DriverComponents, gaps: &mut Vec<Gap>) {
        self.daemon_sets.extend(found.daemon_sets);
        self.deployments.extend(found.deployments);
        self.stateful_sets.extend(found.stateful_sets);
        self.pods.extend(found.pods);
        gaps.extend(found.gap);
    }
}

impl Connection {
    /// The workloads outside `outside` that run a CSI sidecar or
    /// node-driver-registrar, and their pods: three LISTs, then one
    /// label-selected LIST of pods per workload.
    pub(super) async fn driver_components(
        &self,
        outside: &str,
    ) -> Result<DriverComponents, LiveError> {
        let c = &self.client;
        let (daemon_sets, deployments, stateful_sets) = join3(
            self.cluster::<DaemonSet>(),
            self.cluster::<Deployment>(),
            self.cluster::<StatefulSet>(),
        )
        .await;
        let mut found = DriverComponents::default();
        let elsewhere = |meta: &ObjectMeta, template: Option<&PodTemplateSpec>| {
            meta.namespace.as_deref() != Some(outside)
                && template
                    .and_then(|t| t.spec.as_ref())
                    .is_some_and(runs_csi_component)
        };
        found.daemon_sets = found
            .take(daemon_sets)?
            .into_iter()
            .filter(|d| elsewhere(&d.metadata, d.spec.as_ref().map(|s| &s.template)))
            .collect();
        found.deployments = found
            .take(deployments)?
            .into_iter()
            .filter(|d| elsewhere(&d.metadata, d.spec.as_ref().map(|s| &s.template)))
            .collect();
        found.stateful_sets = found
            .take(stateful_sets)?
            .into_iter()
            .filter(|s| elsewhere(&s.metadata, s.spec.as_ref().map(|s| &s.template)))
            .collect();

        let mut selected: Vec<(String, String)> = found
            .daemon_sets
            .iter()
            .map(|d| (&d.metadata, d.spec.as_ref().map(|s| &s.selector)))
            .chain(
                found
                    .deployments
                    .iter()
                    .map(|d| (&d.metadata, d.spec.as_ref().map(|s| &s.selector))),
            )
            .chain(
                found
                    .stateful_sets
                    .iter()
                    .map(|s| (&s.metadata, s.spec.as_ref().map(|s| &s.selector))),
            )
            .filter_map(|(meta, selector)| {
                Some((meta.namespace.clone()?, label_selector(selector?)?))
            })
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
        for p in pods {
            let items = found.take(p)?;
            found.pods.extend(items);
        }
        Ok(found)
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
