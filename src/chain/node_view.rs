//! For a pod the scheduler has not placed: every node, whether the pod's
//! volumes allow it (the volume's node affinity, the class's
//! allowedTopologies, the driver's registration, attach limit and node
//! plugin there) and what else rules it out (its own placement rules, the
//! node's cordon, taints and readiness, and what only the scheduler counts:
//! resources, ports, inter-pod rules).

use super::driver::{self, why_not_on, KeptOff};
use super::{ClaimChain, PodChain};
use crate::api::DaemonSet;
use crate::drivers::Drivers;
use crate::model::ObjectRef;
use crate::nodes::{self, Exclusion};
use crate::scheduler::ReasonKind;
use crate::snapshot::Snapshot;
use k8s_openapi::api::core::v1::{Node, NodeSelectorTerm, TopologySelectorTerm};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// What a blocker is, which decides which rule speaks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockerKind {
    /// The pod's own nodeSelector or required node affinity.
    PodPlacement,
    /// The node is cordoned, tainted or NotReady.
    NodeState,
    /// What only the scheduler sees: resources, ports, inter-pod rules.
    Scheduler,
    /// A storage reason with a rule of its own: a ReadWriteOncePod holder,
    /// the attach limit, capacity, a claim that is missing or unbound.
    Storage,
}

/// One thing that rules a node out besides the pod's volumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub kind: BlockerKind,
    /// Shared: the scheduler's reasons apply to many nodes at once.
    pub text: Rc<str>,
    /// The node exclusion behind it, when the state shows it.
    pub exclusion: Option<Exclusion>,
}

/// One node's verdict.
#[derive(Debug, Clone)]
pub struct NodeCheck {
    pub name: String,
    /// Why the pod's volumes do not allow the node; empty when they do.
    pub volumes: Vec<String>,
    pub ruled_out: Vec<Blocker>,
}

impl NodeCheck {
    pub fn volumes_allow(&self) -> bool {
        self.volumes.is_empty()
    }

    /// Same verdict and reasons: shown as one row.
    fn same_as(&self, other: &NodeCheck) -> bool {
        self.volumes == other.volumes && self.ruled_out == other.ruled_out
    }
}

/// What one claim's volume requires of a node.
#[derive(Debug, Clone)]
pub struct Pin {
    pub claim: ObjectRef,
    pub claim_name: String,
    /// The bound volume, when it is the volume that pins.
    pub volume: Option<String>,
    /// `volume pv-1 needs kubernetes.io/hostname in [worker-2]`.
    pub text: String,
}

/// Every node's verdict for one pod, sorted by node name.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub nodes: Vec<NodeCheck>,
    /// The claims whose volumes (or classes) pin the pod to some nodes.
    pub pins: Vec<Pin>,
}

/// Nodes with the same verdict and reasons.
#[derive(Debug, Clone)]
pub struct NodeGroup<'v> {
    pub names: Vec<&'v str>,
    pub check: &'v NodeCheck,
}

impl NodeView {
    /// The nodes the pod's volumes allow.
    pub fn allowed(&self) -> impl Iterator<Item = &NodeCheck> {
        self.nodes.iter().filter(|n| n.volumes_allow())
    }

    /// Whether the volumes leave some nodes out, and allow at least one:
    /// then whatever rules out the allowed ones is the cause.
    pub fn volumes_narrow(&self) -> bool {
        let allowed = self.allowed().count();
        allowed > 0 && allowed < self.nodes.len()
    }

    /// The nodes the volumes allow are all ruled out, each by at least one
    /// thing that is neither the pod's own placement rules (a conflict
    /// with the volume) nor a storage reason with a rule of its own; and
    /// the volumes matter: they leave other nodes out, or pin the pod to
    /// nodes whose own state (taint, cordon, NotReady) keeps it off.
    pub fn allowed_nodes_blocked_elsewhere(&self) -> bool {
        let has = |n: &NodeCheck, kind: BlockerKind| n.ruled_out.iter().any(|b| b.kind == kind);
        let blocked = self.allowed().all(|n| {
            (has(n, BlockerKind::NodeState) || has(n, BlockerKind::Scheduler))
                && !has(n, BlockerKind::Storage)
        });
        let pinned_to_unusable_nodes =
            !self.pins.is_empty() && self.allowed().all(|n| has(n, BlockerKind::NodeState));
        self.allowed_nodes_ruled_out_by_others()
            && blocked
            && (self.volumes_narrow() || pinned_to_unusable_nodes)
    }

    /// Nodes the volumes allow exist, and each is ruled out by something
    /// other than the pod's own placement rules: then the volume does not
    /// conflict with the pod, and the rule of that something speaks.
    pub fn allowed_nodes_ruled_out_by_others(&self) -> bool {
        self.allowed().next().is_some()
            && self.allowed().all(|n| {
                !n.ruled_out.is_empty()
                    && n.ruled_out
                        .iter()
                        .all(|b| b.kind != BlockerKind::PodPlacement)
            })
    }

    /// Rows of identical nodes: the nodes the volumes allow first, then the
    /// largest groups.
    pub fn groups(&self) -> Vec<NodeGroup<'_>> {
        let mut groups: Vec<NodeGroup> = Vec::new();
        for n in &self.nodes {
            match groups.iter_mut().find(|g| g.check.same_as(n)) {
                Some(g) => g.names.push(&n.name),
                None => groups.push(NodeGroup {
                    names: vec![&n.name],
                    check: n,
                }),
            }
        }
        groups.sort_by_key(|g| (!g.check.volumes_allow(), std::cmp::Reverse(g.names.len())));
        groups
    }
}

/// Views already worked out: the rules and the report ask for the same
/// pod's view in turn, and a driver's node plugin is looked up once.
///
/// It owns what it keeps, so that it borrows nothing from the snapshot and
/// the rules' context stays free to shorten its lifetime.
#[derive(Default)]
pub struct ViewCache {
    /// The last view, by the addresses of its pod and claims.
    last: RefCell<Option<(ViewKey, Rc<Option<NodeView>>)>>,
    plugins: RefCell<HashMap<String, Rc<Option<Plugin>>>>,
}

/// The addresses of a pod and of the claims a view was worked out for.
type ViewKey = (usize, usize, usize);

/// Nodes with a pod of a driver's node plugin, and its DaemonSets.
type Plugin = (HashSet<String>, Vec<DaemonSet>);

impl ViewCache {
    /// The view for a pod that waits for the scheduler and has claims;
    /// `None` for other pods, for pods the scheduler rejected before judging
    /// any node, or when the nodes were not read.
    pub fn view(
        &self,
        snap: &Snapshot,
        drivers: &Drivers,
        pod: &PodChain,
        claims: &[ClaimChain],
    ) -> Rc<Option<NodeView>> {
        let key = (
            std::ptr::from_ref(pod.pod) as usize,
            claims.as_ptr() as usize,
            claims.len(),
        );
        if let Some((k, view)) = self.last.borrow().as_ref() {
            if *k == key {
                return view.clone();
            }
        }
        let view = Rc::new(self.compute(snap, drivers, pod, claims));
        *self.last.borrow_mut() = Some((key, view.clone()));
        view
    }

    fn plugin(&self, snap: &Snapshot, drivers: &Drivers, driver: &str) -> Rc<Option<Plugin>> {
        if let Some(p) = self.plugins.borrow().get(driver) {
            return p.clone();
        }
        let comps = driver::components(snap, drivers, driver);
        let plugin = Rc::new((!comps.node_plugins.is_empty()).then(|| {
            let on: HashSet<String> = comps
                .node_plugin_pods
                .iter()
                .filter_map(|p| p.spec.as_ref()?.node_name.clone())
                .collect();
            (on, comps.node_plugins.into_iter().cloned().collect())
        }));
        self.plugins
            .borrow_mut()
            .insert(driver.to_string(), plugin.clone());
        plugin
    }

    fn compute(
        &self,
        snap: &Snapshot,
        drivers: &Drivers,
        pod: &PodChain,
        claims: &[ClaimChain],
    ) -> Option<NodeView> {
        let waiting = pod.node_name.is_none()
            && pod.pod.metadata.deletion_timestamp.is_none()
            && !super::is_finished(pod.pod);
        if !waiting || claims.is_empty() || !snap.has("nodes") || snap.objects.nodes.is_empty() {
            return None;
        }
        // When the scheduler rejected the pod before judging any node, every
        // node would show the same reason: no view, and no cost for it.
        let reasons = pod.scheduling.as_ref().map(|s| &s.verdict.reasons);
        if reasons.is_some_and(|r| !r.is_empty() && r.iter().all(|r| r.kind.is_pod_wide())) {
            return None;
        }
        let checks: Vec<VolumeCheck> = claims
            .iter()
            .map(|c| VolumeCheck::new(snap, c, |d| self.plugin(snap, drivers, d)))
            .collect();
        let attached = attached_per_node(snap, &checks);
        let pins = claims
            .iter()
            .zip(&checks)
            .filter_map(|(claim, check)| {
                check.pin_text().map(|text| Pin {
                    claim: claim.object(),
                    claim_name: claim.name.clone(),
                    volume: claim.volume.and_then(|v| v.metadata.name.clone()),
                    text,
                })
            })
            .collect();
        // What the scheduler counted and the state cannot show applies to
        // the nodes the volumes allow that nothing else rules out.
        let unseen = scheduler_only(pod);
        let mut nodes: Vec<NodeCheck> = snap
            .objects
            .nodes
            .iter()
            .map(|n| {
                let volumes: Vec<String> = checks
                    .iter()
                    .flat_map(|c| c.refusals(snap, n, &attached))
                    .collect();
                let mut ruled_out: Vec<Blocker> = nodes::exclusions(pod.pod, n)
                    .into_iter()
                    .map(|e| Blocker {
                        kind: match e {
                            Exclusion::PodPlacement(_) => BlockerKind::PodPlacement,
                            _ => BlockerKind::NodeState,
                        },
                        text: e.describe().into(),
                        exclusion: Some(e),
                    })
                    .collect();
                if volumes.is_empty() && ruled_out.is_empty() {
                    ruled_out.clone_from(&unseen);
                }
                NodeCheck {
                    name: nodes::name(n).to_string(),
                    volumes,
                    ruled_out,
                }
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Some(NodeView { nodes, pins })
    }
}

/// The scheduler's reasons that neither the pod's volumes nor the nodes'
/// state explain.
fn scheduler_only(pod: &PodChain) -> Vec<Blocker> {
    let Some(s) = &pod.scheduling else {
        return Vec::new();
    };
    let total = s.verdict.total_nodes;
    s.verdict
        .reasons
        .iter()
        .filter_map(|r| {
            let kind = match &r.kind {
                ReasonKind::VolumeNodeAffinityConflict
                | ReasonKind::NoVolumeZone
                | ReasonKind::NoVolumeToBind => return None,
                ReasonKind::Other if crate::scheduler::shown_by_node_state(&r.text) => return None,
                ReasonKind::Other => BlockerKind::Scheduler,
                _ => BlockerKind::Storage,
            };
            let count = match (r.nodes, total) {
                (Some(n), Some(t)) => format!(", {n} of {t} nodes"),
                (Some(n), None) => format!(", {n} nodes"),
                _ => String::new(),
            };
            Some(Blocker {
                kind,
                text: format!("{} (scheduler{count})", r.text).into(),
                exclusion: None,
            })
        })
        .collect()
}

/// What one claim needs of a node.
struct VolumeCheck<'a, 'c> {
    claim: &'c ClaimChain<'a>,
    /// The bound volume's required node affinity.
    affinity: Option<(&'a str, &'a [NodeSelectorTerm])>,
    /// The class's allowedTopologies, while the claim waits for a node.
    topology: Option<(&'a str, &'a [TopologySelectorTerm])>,
    /// The CSI driver that must serve the volume on the node.
    driver: Option<&'a str>,
    /// Nodes with a pod of the driver's node plugin, and its DaemonSets,
    /// when a node plugin was identified.
    plugin: Rc<Option<Plugin>>,
}

impl<'a, 'c> VolumeCheck<'a, 'c> {
    fn new(
        snap: &'a Snapshot,
        c: &'c ClaimChain<'a>,
        plugin_of: impl Fn(&'a str) -> Rc<Option<Plugin>>,
    ) -> Self {
        let affinity = c.volume.and_then(|pv| {
            let terms = pv
                .spec
                .as_ref()?
                .node_affinity
                .as_ref()?
                .required
                .as_ref()?;
            Some((
                pv.metadata.name.as_deref().unwrap_or(""),
                terms.node_selector_terms.as_slice(),
            ))
        });
        let waits = c.volume.is_none() && c.is_pending() && c.is_wait_for_first_consumer();
        let topology = c.class.filter(|_| waits).and_then(|sc| {
            let terms = sc.allowed_topologies.as_deref().filter(|t| !t.is_empty())?;
            Some((sc.metadata.name.as_deref().unwrap_or(""), terms))
        });
        // A class's provisioner is a CSI driver when the cluster knows it as one.
        let driver = c.volume_driver().or_else(|| {
            c.class
                .filter(|_| waits)
                .map(|sc| sc.provisioner.as_str())
                .filter(|p| {
                    snap.csi_driver(p).is_some()
                        || snap
                            .objects
                            .csi_nodes
                            .iter()
                            .any(|n| n.spec.drivers.iter().any(|d| d.name == *p))
                })
        });
        let plugin = driver.map_or_else(|| Rc::new(None), plugin_of);
        VolumeCheck {
            claim: c,
            affinity,
            topology,
            driver,
            plugin,
        }
    }

    /// What the claim's volume or class requires, when it pins the pod.
    fn pin_text(&self) -> Option<String> {
        if let Some((pv, terms)) = self.affinity {
            return Some(format!("volume {pv} needs {}", describe_terms(terms)));
        }
        self.topology.map(|(sc, terms)| {
            format!(
                "class {sc} provisions only where {}",
                terms
                    .iter()
                    .map(nodes::describe_topology_term)
                    .collect::<Vec<_>>()
                    .join(" or ")
            )
        })
    }

    /// Why the volume cannot be used on the node; empty when it can.
    fn refusals(
        &self,
        snap: &Snapshot,
        node: &Node,
        attached: &HashMap<(&str, &str), usize>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let name = nodes::name(node);
        if let Some((_, terms)) = self.affinity {
            if nodes::terms_match(terms, node).is_err() {
                out.extend(self.pin_text());
            }
        }
        if let Some((_, terms)) = self.topology {
            if !terms.iter().any(|t| nodes::topology_term_matches(t, node)) {
                out.extend(self.pin_text());
            }
        }
        let Some(driver) = self.driver else {
            return out;
        };
        if let Some(csinode) = snap.csi_node(name) {
            match csinode.spec.drivers.iter().find(|d| d.name == driver) {
                None => out.push(format!(
                    "driver {driver} is not registered on the node (CSINode)"
                )),
                Some(d) => {
                    let limit = d.allocatable.as_ref().and_then(|a| a.count);
                    let used = attached.get(&(name, driver)).copied().unwrap_or(0);
                    let here = self
                        .claim
                        .attachments
                        .iter()
                        .any(|va| va.spec.node_name == name);
                    if let Some(limit) = limit.filter(|l| used as i64 >= i64::from(*l) && !here) {
                        out.push(format!(
                            "driver {driver}'s attach limit is reached ({used} of {limit})"
                        ));
                    }
                }
            }
        }
        if let Some((on, daemonsets)) = self.plugin.as_ref() {
            if !on.contains(name) {
                let why = daemonsets
                    .iter()
                    .find_map(|ds| why_not_on(ds, node))
                    .map(|k| match k {
                        KeptOff::Taint(t) => format!(
                            ": it does not tolerate the taint {}{}:{}",
                            t.key,
                            t.value
                                .as_deref()
                                .map(|v| format!("={v}"))
                                .unwrap_or_default(),
                            t.effect
                        ),
                        KeptOff::NodeSelector(k, v, _) => format!(": its nodeSelector {k}={v}"),
                        KeptOff::Affinity => ": its node affinity".to_string(),
                    })
                    .unwrap_or_default();
                out.push(format!("no pod of {driver}'s node plugin runs here{why}"));
            }
        }
        out
    }
}

fn describe_terms(terms: &[NodeSelectorTerm]) -> String {
    terms
        .iter()
        .map(nodes::describe_term)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// VolumeAttachments per (node, driver), for the drivers with a CSINode
/// attach limit; counted once per view.
fn attached_per_node<'s>(
    snap: &'s Snapshot,
    checks: &[VolumeCheck],
) -> HashMap<(&'s str, &'s str), usize> {
    let wanted: HashSet<&str> = checks.iter().filter_map(|c| c.driver).collect();
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    for va in &snap.objects.attachments {
        if wanted.contains(va.spec.attacher.as_str()) {
            *out.entry((va.spec.node_name.as_str(), va.spec.attacher.as_str()))
                .or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::PodChain;
    use crate::fixtures::*;

    fn view_of(snap: &Snapshot, drivers: &Drivers) -> Vec<(usize, bool, Vec<String>, Vec<String>)> {
        let pod = PodChain::resolve(snap, snap.pod("default", "db").unwrap());
        let claims = vec![ClaimChain::resolve(snap, "default", "data", None)];
        let cache = ViewCache::default();
        let view = cache.view(snap, drivers, &pod, &claims);
        let view = view.as_ref().as_ref().unwrap();
        view.groups()
            .iter()
            .map(|g| {
                (
                    g.names.len(),
                    g.check.volumes_allow(),
                    g.check.volumes.clone(),
                    g.check
                        .ruled_out
                        .iter()
                        .map(|b| b.text.to_string())
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn identical_nodes_are_one_row_and_the_allowed_come_first() {
        let snap = snapshot(|o| {
            for i in 0..50 {
                o.nodes.push(node(&format!("worker-{i:02}")));
            }
            o.nodes
                .push(node("pinned").taint("dedicated", "NoSchedule"));
            o.nodes
                .push(node("cordoned-1").taint("other", "NoSchedule"));
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .node_affinity("kubernetes.io/hostname", &["pinned"]),
            );
            o.pods.push(pod("db").claim("data"));
        });
        let drivers = Drivers::default();
        let rows = view_of(&snap, &drivers);
        let needs = "volume pv-1 needs kubernetes.io/hostname in [pinned]".to_string();
        assert_eq!(
            rows,
            vec![
                (
                    1,
                    true,
                    vec![],
                    vec!["it has the untolerated taint dedicated:NoSchedule".to_string()]
                ),
                (50, false, vec![needs.clone()], vec![]),
                (
                    1,
                    false,
                    vec![needs],
                    vec!["it has the untolerated taint other:NoSchedule".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn the_drivers_registration_and_attach_limit_decide_for_the_volume() {
        let snap = snapshot(|o| {
            o.nodes.push(node("a"));
            o.nodes.push(node("b"));
            o.nodes.push(node("c"));
            let mut full = csi_node("b", &["ebs.csi.aws.com"]);
            full.spec.drivers[0].allocatable =
                Some(k8s_openapi::api::storage::v1::VolumeNodeResources { count: Some(1) });
            o.csi_nodes.push(csi_node("a", &["efs.csi.aws.com"]));
            o.csi_nodes.push(full);
            o.attachments.push(attachment("other-pv", "b", true));
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.pods.push(pod("db").claim("data"));
        });
        let drivers = Drivers::default();
        let rows = view_of(&snap, &drivers);
        let reasons: Vec<&Vec<String>> = rows.iter().map(|r| &r.2).collect();
        assert!(reasons.contains(&&vec![
            "driver ebs.csi.aws.com is not registered on the node (CSINode)".to_string()
        ]));
        assert!(reasons.contains(&&vec![
            "driver ebs.csi.aws.com's attach limit is reached (1 of 1)".to_string()
        ]));
        // c has no CSINode: nothing is known against it.
        assert!(rows.iter().any(|r| r.0 == 1 && r.1));
    }
}
