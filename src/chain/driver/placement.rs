//! Why a DaemonSet has no pod on a node: a taint it does not tolerate, its
//! nodeSelector or its required node affinity.

use crate::api::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Taint, Toleration};

/// What keeps a DaemonSet's pods off a node.
#[derive(Debug, Clone, PartialEq)]
pub enum KeptOff {
    /// A taint the pod template does not tolerate.
    Taint(Taint),
    /// A nodeSelector entry the node's labels do not satisfy: key, wanted
    /// value, the node's value.
    NodeSelector(String, String, Option<String>),
    /// Its required node affinity does not match the node.
    Affinity,
}

/// Taints the DaemonSet controller tolerates for every DaemonSet pod.
const DAEMONSET_TOLERATED: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/network-unavailable",
];

/// Whether one toleration covers a taint.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let key = t.key.as_deref().unwrap_or("");
    let exists = t.operator.as_deref() == Some("Exists");
    let key_ok = (key.is_empty() && exists) || key == taint.key;
    let value_ok =
        exists || t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("");
    let effect_ok = t
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == taint.effect);
    key_ok && value_ok && effect_ok
}

/// Why a DaemonSet places no pod on a node, when its spec says.
pub fn why_not_on(ds: &DaemonSet, node: &Node) -> Option<KeptOff> {
    let spec = ds.spec.as_ref()?.template.spec.as_ref()?;
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    let taints = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[]);
    if let Some(t) = taints.iter().find(|t| {
        matches!(t.effect.as_str(), "NoSchedule" | "NoExecute")
            && !DAEMONSET_TOLERATED.contains(&t.key.as_str())
            && !tolerations.iter().any(|tol| tolerates(tol, t))
    }) {
        return Some(KeptOff::Taint(t.clone()));
    }
    let labels = node.metadata.labels.as_ref();
    for (k, v) in spec.node_selector.iter().flatten() {
        let have = labels.and_then(|l| l.get(k));
        if have != Some(v) {
            return Some(KeptOff::NodeSelector(k.clone(), v.clone(), have.cloned()));
        }
    }
    let terms = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| &r.node_selector_terms);
    if let Some(terms) = terms.filter(|t| !t.is_empty()) {
        let matches = terms.iter().any(|term| {
            term.match_expressions.iter().flatten().all(|e| {
                let have = labels.and_then(|l| l.get(&e.key));
                let values = e.values.as_deref().unwrap_or(&[]);
                match e.operator.as_str() {
                    "In" => have.is_some_and(|h| values.contains(h)),
                    "NotIn" => !have.is_some_and(|h| values.contains(h)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    // Gt, Lt and unknown operators: not judged here.
                    _ => true,
                }
            })
        });
        if !matches {
            return Some(KeptOff::Affinity);
        }
    }
    None
}
