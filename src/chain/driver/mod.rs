//! A CSI driver's own components, found by what they serve rather than by
//! one vendor's names: the controller (pods running the `csi-provisioner`,
//! `csi-attacher`, `csi-resizer` or `csi-snapshotter` sidecars, and their
//! Deployment or StatefulSet), the node plugin (DaemonSet pods running
//! `node-driver-registrar`), and the sidecars' leader-election Leases.

use crate::api::{DaemonSet, Pod, PodSpec};
pub use crate::csi_sidecars::lease_name;
use crate::csi_sidecars::{is_registrar, labels_name, sidecar_of, spec_names};
use crate::drivers::Drivers;
use crate::owners::owner_of;
use crate::selector::Selector;
use crate::snapshot::Snapshot;
use std::collections::BTreeMap;

mod health;
mod placement;

pub use health::{leader_lease, stale_after, trouble, LeaseState, PodTrouble};
pub use placement::{tolerates, why_not_on, KeptOff};

/// How strongly a pod spec belongs to a driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Match {
    /// Its labels carry the driver's distinctive word.
    Label,
    /// A container names the driver.
    Named,
    /// The driver table's hint selects it.
    Hinted,
}

struct Matcher<'a> {
    driver: &'a str,
    /// Other installed drivers: a spec naming one of them is theirs.
    others: Vec<&'a str>,
    namespace: Option<&'a str>,
    controller: Option<Selector>,
    node_plugin: Option<Selector>,
}

impl<'a> Matcher<'a> {
    fn new(snap: &'a Snapshot, drivers: &'a Drivers, driver: &'a str) -> Self {
        let hints = drivers.get(driver).and_then(|d| d.components.as_ref());
        let parse = |s: Option<&String>| {
            s.filter(|s| !s.trim().is_empty())
                .and_then(|s| Selector::parse(s).ok())
        };
        Matcher {
            driver,
            others: snap
                .objects
                .csi_drivers
                .iter()
                .filter_map(|d| d.metadata.name.as_deref())
                .filter(|d| *d != driver)
                .collect(),
            namespace: hints.and_then(|h| h.namespace.as_deref()),
            controller: parse(hints.and_then(|h| h.controller.as_ref())),
            node_plugin: parse(hints.and_then(|h| h.node_plugin.as_ref())),
        }
    }

    fn judge(
        &self,
        ns: &str,
        labels: Option<&BTreeMap<String, String>>,
        spec: &PodSpec,
        hint: Option<&Selector>,
    ) -> Option<Match> {
        if self.namespace.is_some_and(|want| want != ns) {
            return None;
        }
        if hint.is_some_and(|s| s.matches(labels)) {
            return Some(Match::Hinted);
        }
        if spec_names(spec, self.driver) {
            return Some(Match::Named);
        }
        if self.others.iter().any(|o| spec_names(spec, o)) {
            return None;
        }
        labels_name(labels, self.driver).then_some(Match::Label)
    }
}

/// Keeps the items of the strongest match only.
fn strongest<T>(found: Vec<(Match, T)>) -> Vec<T> {
    let best = found.iter().map(|(m, _)| *m).max();
    found
        .into_iter()
        .filter(|(m, _)| Some(*m) == best)
        .map(|(_, t)| t)
        .collect()
}

/// A Deployment or StatefulSet that runs a driver's controller.
#[derive(Debug, Clone)]
pub struct ControllerWorkload<'a> {
    pub kind: &'static str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub replicas: Option<i32>,
    pub ready: Option<i32>,
}

/// What the snapshot shows of one driver's components.
#[derive(Debug, Clone, Default)]
pub struct DriverComponents<'a> {
    pub controller_workloads: Vec<ControllerWorkload<'a>>,
    /// Pods of the controller that have not finished, by namespace and name.
    pub controller_pods: Vec<&'a Pod>,
    pub node_plugins: Vec<&'a DaemonSet>,
    /// Pods of the node plugin that have not finished.
    pub node_plugin_pods: Vec<&'a Pod>,
}

impl<'a> DriverComponents<'a> {
    pub fn controller_identified(&self) -> bool {
        !self.controller_workloads.is_empty() || !self.controller_pods.is_empty()
    }

    pub fn node_plugin_identified(&self) -> bool {
        !self.node_plugins.is_empty() || !self.node_plugin_pods.is_empty()
    }

    /// The node plugin's pods scheduled to a node.
    pub fn node_plugin_pods_on(&self, node: &str) -> Vec<&'a Pod> {
        self.node_plugin_pods
            .iter()
            .copied()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
            .collect()
    }

    /// Namespaces of the controller, sorted.
    pub fn controller_namespaces(&self) -> Vec<&'a str> {
        let mut ns: Vec<&str> = self
            .controller_workloads
            .iter()
            .map(|w| w.namespace)
            .chain(
                self.controller_pods
                    .iter()
                    .filter_map(|p| p.metadata.namespace.as_deref()),
            )
            .collect();
        ns.sort_unstable();
        ns.dedup();
        ns
    }
}

fn finished(p: &Pod) -> bool {
    matches!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

fn by_ns_name(p: &&Pod) -> (String, String) {
    (
        p.metadata.namespace.clone().unwrap_or_default(),
        p.metadata.name.clone().unwrap_or_default(),
    )
}

/// Finds the components of `driver` in the snapshot.
pub fn components<'a>(
    snap: &'a Snapshot,
    drivers: &'a Drivers,
    driver: &'a str,
) -> DriverComponents<'a> {
    let m = Matcher::new(snap, drivers, driver);
    let o = &snap.objects;
    let ns_of = |meta: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        meta.namespace.as_deref().unwrap_or("")
    };

    let mut controller_pods = Vec::new();
    let mut node_pods = Vec::new();
    for p in &o.pods {
        let Some(spec) = p.spec.as_ref() else {
            continue;
        };
        if finished(p) {
            continue;
        }
        let ns = ns_of(&p.metadata);
        let labels = p.metadata.labels.as_ref();
        if spec.containers.iter().any(|c| sidecar_of(c).is_some()) {
            if let Some(found) = m.judge(ns, labels, spec, m.controller.as_ref()) {
                controller_pods.push((found, p));
            }
        } else if spec.containers.iter().any(is_registrar) {
            if let Some(found) = m.judge(ns, labels, spec, m.node_plugin.as_ref()) {
                node_pods.push((found, p));
            }
        }
    }
    let mut controller_pods = strongest(controller_pods);
    controller_pods.sort_by_key(by_ns_name);
    let mut node_plugin_pods = strongest(node_pods);
    node_plugin_pods.sort_by_key(by_ns_name);

    let template_of = |t: &'a crate::api::PodTemplateSpec| {
        (
            t.metadata.as_ref().and_then(|m| m.labels.as_ref()),
            t.spec.as_ref(),
        )
    };
    let mut workloads = Vec::new();
    let candidates = o
        .deployments
        .iter()
        .filter_map(|d| {
            let s = d.spec.as_ref()?;
            let st = d.status.as_ref();
            Some((
                "Deployment",
                &d.metadata,
                &s.template,
                s.replicas,
                st.and_then(|s| s.ready_replicas),
            ))
        })
        .chain(o.stateful_sets.iter().filter_map(|d| {
            let s = d.spec.as_ref()?;
            let st = d.status.as_ref();
            Some((
                "StatefulSet",
                &d.metadata,
                &s.template,
                s.replicas,
                st.and_then(|s| s.ready_replicas),
            ))
        }));
    for (kind, meta, template, replicas, ready) in candidates {
        let (labels, spec) = template_of(template);
        let Some(spec) = spec else { continue };
        if !spec.containers.iter().any(|c| sidecar_of(c).is_some()) {
            continue;
        }
        let labels = labels.or(meta.labels.as_ref());
        if let Some(found) = m.judge(ns_of(meta), labels, spec, m.controller.as_ref()) {
            workloads.push((
                found,
                ControllerWorkload {
                    kind,
                    namespace: ns_of(meta),
                    name: meta.name.as_deref().unwrap_or(""),
                    replicas: Some(replicas.unwrap_or(1)),
                    ready,
                },
            ));
        }
    }
    // The workloads of the pods found, even when their template alone did
    // not tell (the pods' labels did).
    for p in &controller_pods {
        if let Some(owner) = owner_of(snap, p) {
            let known = workloads.iter().any(|(_, w)| {
                w.kind == owner.kind
                    && Some(w.namespace) == owner.namespace.as_deref()
                    && w.name == owner.name
            });
            if !known && matches!(owner.kind.as_str(), "Deployment" | "StatefulSet") {
                let found = o
                    .deployments
                    .iter()
                    .map(|d| ("Deployment", &d.metadata))
                    .chain(o.stateful_sets.iter().map(|s| ("StatefulSet", &s.metadata)))
                    .find(|(k, meta)| {
                        *k == owner.kind
                            && meta.namespace == owner.namespace
                            && meta.name.as_deref() == Some(owner.name.as_str())
                    });
                if let Some((kind, meta)) = found {
                    workloads.push((
                        Match::Label,
                        ControllerWorkload {
                            kind,
                            namespace: ns_of(meta),
                            name: meta.name.as_deref().unwrap_or(""),
                            replicas: None,
                            ready: None,
                        },
                    ));
                }
            }
        }
    }
    let mut controller_workloads = strongest(workloads);
    controller_workloads.sort_by(|a, b| (a.namespace, a.name).cmp(&(b.namespace, b.name)));

    let mut plugins = Vec::new();
    for ds in &o.daemon_sets {
        let Some(spec) = ds.spec.as_ref() else {
            continue;
        };
        let (labels, pod_spec) = template_of(&spec.template);
        let Some(pod_spec) = pod_spec else { continue };
        if !pod_spec.containers.iter().any(is_registrar) {
            continue;
        }
        let labels = labels.or(ds.metadata.labels.as_ref());
        if let Some(found) = m.judge(
            ns_of(&ds.metadata),
            labels,
            pod_spec,
            m.node_plugin.as_ref(),
        ) {
            plugins.push((found, ds));
        }
    }
    let mut node_plugins = strongest(plugins);
    node_plugins.sort_by_key(|d| (d.metadata.namespace.clone(), d.metadata.name.clone()));

    DriverComponents {
        controller_workloads,
        controller_pods,
        node_plugins,
        node_plugin_pods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_has_a_floor_of_two_minutes() {
        assert_eq!(stale_after(Some(15)), 120);
        assert_eq!(stale_after(Some(137)), 411);
        assert_eq!(stale_after(None), 120);
        assert_eq!(stale_after(Some(-5)), 120);
    }
}
