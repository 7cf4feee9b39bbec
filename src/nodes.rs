//! Whether a node satisfies a volume's node affinity or a pod's placement
//! constraints, with the reason when it does not.

use crate::api::{PersistentVolume, Pod};
use crate::snapshot::Snapshot;
use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, NodeSelectorTerm};

pub fn name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or("")
}

fn label<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(key))
        .map(String::as_str)
}

pub fn is_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// `key in [a, b]`, as people read a requirement.
pub fn describe_requirement(r: &NodeSelectorRequirement) -> String {
    let values = r.values.clone().unwrap_or_default().join(", ");
    match r.operator.as_str() {
        "In" => format!("{} in [{values}]", r.key),
        "NotIn" => format!("{} not in [{values}]", r.key),
        "Exists" => format!("{} exists", r.key),
        "DoesNotExist" => format!("{} does not exist", r.key),
        "Gt" => format!("{} > {values}", r.key),
        "Lt" => format!("{} < {values}", r.key),
        op => format!("{} {op} [{values}]", r.key),
    }
}

pub fn describe_term(term: &NodeSelectorTerm) -> String {
    let parts: Vec<String> = term
        .match_expressions
        .iter()
        .flatten()
        .chain(term.match_fields.iter().flatten())
        .map(describe_requirement)
        .collect();
    parts.join(" and ")
}

fn requirement_holds(value: Option<&str>, r: &NodeSelectorRequirement) -> bool {
    let values = r.values.as_deref().unwrap_or_default();
    let number = |s: &str| s.parse::<i64>().ok();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => {
            matches!((value.and_then(number), values.first().and_then(|x| number(x))), (Some(v), Some(x)) if v > x)
        }
        "Lt" => {
            matches!((value.and_then(number), values.first().and_then(|x| number(x))), (Some(v), Some(x)) if v < x)
        }
        _ => false,
    }
}

/// Checks one term (its requirements are ANDed); `Err` names the first that fails.
pub fn term_matches(term: &NodeSelectorTerm, node: &Node) -> Result<(), String> {
    for r in term.match_expressions.iter().flatten() {
        let value = label(node, &r.key);
        if !requirement_holds(value, r) {
            let has = value.map_or("no such label".to_string(), |v| format!("{}={v}", r.key));
            return Err(format!("{has}, needs {}", describe_requirement(r)));
        }
    }
    for r in term.match_fields.iter().flatten() {
        let value = (r.key == "metadata.name").then(|| name(node));
        if !requirement_holds(value, r) {
            return Err(format!("needs {}", describe_requirement(r)));
        }
    }
    Ok(())
}

/// Terms are ORed: the node matches when any term does.
pub fn terms_match(terms: &[NodeSelectorTerm], node: &Node) -> Result<(), String> {
    let mut why = Vec::new();
    for t in terms {
        match term_matches(t, node) {
            Ok(()) => return Ok(()),
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; or "))
}

/// One thing that keeps a pod off a node, as the node's state and the pod's
/// spec show it (resources and inter-pod rules need the scheduler's word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exclusion {
    /// The pod's own nodeSelector or required node affinity.
    PodPlacement(String),
    Cordoned,
    /// `key=value:effect` of a taint the pod does not tolerate.
    Taint(String),
    NotReady,
}

impl Exclusion {
    /// As a clause: "it is cordoned (unschedulable)".
    pub fn describe(&self) -> String {
        match self {
            Exclusion::PodPlacement(why) => why.clone(),
            Exclusion::Cordoned => "it is cordoned (unschedulable)".into(),
            Exclusion::Taint(t) => format!("it has the untolerated taint {t}"),
            Exclusion::NotReady => "it is NotReady".into(),
        }
    }
}

fn describe_taint(taint: &k8s_openapi::api::core::v1::Taint) -> String {
    format!(
        "{}{}:{}",
        taint.key,
        taint
            .value
            .as_deref()
            .map(|v| format!("={v}"))
            .unwrap_or_default(),
        taint.effect
    )
}

/// Everything that keeps the pod off the node, ignoring resources: its
/// nodeSelector, required node affinity, cordon, taints and readiness.
pub fn exclusions(pod: &Pod, node: &Node) -> Vec<Exclusion> {
    let mut out = Vec::new();
    let Some(spec) = pod.spec.as_ref() else {
        return out;
    };
    if let Some((key, want)) = spec
        .node_selector
        .iter()
        .flatten()
        .find(|(key, want)| label(node, key) != Some(want.as_str()))
    {
        out.push(Exclusion::PodPlacement(format!(
            "the pod's nodeSelector {key}={want} excludes it ({})",
            label(node, key).map_or("label missing".to_string(), |h| format!("{key}={h}"))
        )));
    }
    if let Some(terms) = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    {
        if let Err(e) = terms_match(&terms.node_selector_terms, node) {
            out.push(Exclusion::PodPlacement(format!(
                "the pod's node affinity excludes it ({e})"
            )));
        }
    }
    let node_spec = node.spec.as_ref();
    if node_spec.and_then(|s| s.unschedulable) == Some(true) {
        out.push(Exclusion::Cordoned);
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or_default();
    for taint in node_spec
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
    {
        if taint.effect == "PreferNoSchedule" {
            continue;
        }
        let tolerated = tolerations.iter().any(|t| {
            let key_ok = t
                .key
                .as_deref()
                .is_none_or(|k| k.is_empty() || k == taint.key);
            let op_exists = t.operator.as_deref() == Some("Exists");
            let value_ok = op_exists
                || t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
            let effect_ok = t
                .effect
                .as_deref()
                .is_none_or(|e| e.is_empty() || e == taint.effect);
            key_ok && value_ok && effect_ok && (op_exists || t.key.is_some())
        });
        if !tolerated {
            out.push(Exclusion::Taint(describe_taint(taint)));
        }
    }
    if !is_ready(node) {
        out.push(Exclusion::NotReady);
    }
    out
}

/// Whether the pod could run on the node, ignoring resources; `Err` says
/// the first thing that keeps it off.
pub fn pod_allows(pod: &Pod, node: &Node) -> Result<(), String> {
    exclusions(pod, node)
        .first()
        .map_or(Ok(()), |e| Err(e.describe()))
}

/// Whether labels satisfy a label selector (matchLabels and matchExpressions).
pub fn selector_matches(
    sel: &k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
    labels: &std::collections::BTreeMap<String, String>,
) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let exprs_ok = sel.match_expressions.iter().flatten().all(|r| {
        let value = labels.get(&r.key);
        let values = r.values.as_deref().unwrap_or_default();
        match r.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

/// Whether a node's labels fit a StorageClass's allowedTopologies term.
pub fn topology_term_matches(
    term: &k8s_openapi::api::core::v1::TopologySelectorTerm,
    node: &Node,
) -> bool {
    term.match_label_expressions
        .iter()
        .flatten()
        .all(|r| label(node, &r.key).is_some_and(|v| r.values.iter().any(|x| x == v)))
}

pub fn describe_topology_term(term: &k8s_openapi::api::core::v1::TopologySelectorTerm) -> String {
    term.match_label_expressions
        .iter()
        .flatten()
        .map(|r| format!("{} in [{}]", r.key, r.values.join(", ")))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The node's value for a label, for evidence lines.
pub fn label_value<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    label(node, key)
}

/// The ids by which a node's `status.volumesAttached` names a volume: the
/// CSI handle (`kubernetes.io/csi/<driver>^<handle>`) or the in-tree
/// plugin's disk id (`kubernetes.io/aws-ebs/aws://zone/vol-x`).
fn attached_ids(pv: &PersistentVolume) -> Vec<&str> {
    let Some(spec) = pv.spec.as_ref() else {
        return Vec::new();
    };
    let csi = spec.csi.as_ref().map(|c| c.volume_handle.as_str());
    let aws = spec
        .aws_elastic_block_store
        .as_ref()
        .map(|v| v.volume_id.as_str());
    let gce = spec
        .gce_persistent_disk
        .as_ref()
        .map(|v| v.pd_name.as_str());
    let azure = spec.azure_disk.as_ref().map(|v| v.disk_name.as_str());
    let cinder = spec.cinder.as_ref().map(|v| v.volume_id.as_str());
    let vsphere = spec.vsphere_volume.as_ref().map(|v| v.volume_path.as_str());
    [csi, aws, gce, azure, cinder, vsphere]
        .into_iter()
        .flatten()
        .filter(|id| !id.is_empty())
        .collect()
}

/// Nodes other than `except` whose status reports the volume attached.
pub fn reporting_attached<'s>(
    snap: &'s Snapshot,
    pv: &PersistentVolume,
    except: &str,
) -> Vec<&'s str> {
    let ids = attached_ids(pv);
    if ids.is_empty() {
        return Vec::new();
    }
    snap.objects
        .nodes
        .iter()
        .filter(|n| name(n) != except)
        .filter(|n| {
            n.status
                .as_ref()
                .and_then(|s| s.volumes_attached.as_ref())
                .is_some_and(|attached| {
                    attached.iter().any(|a| {
                        ids.iter().any(|id| {
                            a.name
                                .strip_suffix(id)
                                .is_some_and(|head| head.is_empty() || head.ends_with(['^', '/']))
                        })
                    })
                })
        })
        .map(name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn zone_term(zone: &str) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: Some(vec![NodeSelectorRequirement {
                key: "topology.kubernetes.io/zone".into(),
                operator: "In".into(),
                values: Some(vec![zone.into()]),
            }]),
            match_fields: None,
        }
    }

    #[test]
    fn term_mismatch_says_what_the_node_has() {
        let n = node("a").label("topology.kubernetes.io/zone", "us-east-1b");
        assert!(term_matches(&zone_term("us-east-1b"), &n).is_ok());
        let err = term_matches(&zone_term("us-east-1a"), &n).unwrap_err();
        assert_eq!(
            err,
            "topology.kubernetes.io/zone=us-east-1b, needs topology.kubernetes.io/zone in [us-east-1a]"
        );
    }

    #[test]
    fn pod_constraints() {
        let n = node("a").label("disk", "hdd");
        let p = pod("p").node_selector("disk", "ssd");
        assert!(pod_allows(&p, &n)
            .unwrap_err()
            .contains("nodeSelector disk=ssd"));
        let tainted = node("b").taint("dedicated", "NoSchedule");
        assert!(pod_allows(&pod("p"), &tainted)
            .unwrap_err()
            .contains("untolerated taint dedicated"));
        assert!(pod_allows(&pod("p"), &node("c").not_ready()).is_err());
        assert!(pod_allows(&pod("p"), &node("d")).is_ok());
    }
}
