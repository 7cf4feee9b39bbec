//! `collect`: the objects a diagnosis read, written as one `kubectl get
//! -o yaml|json` style List for a ticket. Never holds Secrets (they are
//! never read); managedFields were dropped when reading; credentials in
//! environment values, arguments, annotations and class or volume
//! parameters are redacted unless asked not to ([`super::redact`]).

use super::redact;
use crate::kinds;
use crate::snapshot::Snapshot;
use anyhow::Result;

/// What `collect` writes.
pub struct Collected {
    pub text: String,
    /// How many values were redacted.
    pub redacted: usize,
}

/// The snapshot's objects as a `v1` `List`, in YAML or JSON; with `redact`,
/// credentials replaced by `REDACTED`.
pub fn render(snap: &Snapshot, json: bool, redact: bool) -> Result<Collected> {
    let mut items = Vec::new();
    for kind in kinds::ALL {
        items.extend(kind.encode(&snap.objects)?);
    }
    items.extend(evidence_items(snap));
    let mut redacted = 0;
    if redact {
        for item in &mut items {
            redacted += redact::object(item);
        }
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    let text = if json {
        let mut s = serde_json::to_string_pretty(&list)?;
        s.push('\n');
        s
    } else {
        serde_yaml_ng::to_string(&list)?
    };
    Ok(Collected { text, redacted })
}

/// The volume usage, one `NodeStatsSummary` per node in the kubelet's own
/// shape, and one `ContainerLog` per log tail.
fn evidence_items(snap: &Snapshot) -> Vec<serde_json::Value> {
    use super::dump::{EVIDENCE_GROUP, LOG_KIND, STATS_KIND};
    use serde_json::json;
    use std::collections::BTreeMap;
    let api_version = format!("{EVIDENCE_GROUP}/v1");
    let mut nodes: BTreeMap<&str, BTreeMap<(&str, &str), Vec<serde_json::Value>>> = BTreeMap::new();
    for u in snap.usage() {
        let mut volume = json!({"name": u.volume});
        for (key, value) in [
            ("usedBytes", u.used_bytes),
            ("capacityBytes", u.capacity_bytes),
            ("inodesUsed", u.inodes_used),
            ("inodes", u.inodes),
        ] {
            if let Some(v) = value {
                volume[key] = json!(v);
            }
        }
        if let Some(claim) = &u.claim {
            volume["pvcRef"] = json!({"name": claim, "namespace": u.namespace});
        }
        nodes
            .entry(u.node.as_str())
            .or_default()
            .entry((u.namespace.as_str(), u.pod.as_str()))
            .or_default()
            .push(volume);
    }
    let mut items: Vec<serde_json::Value> = nodes
        .into_iter()
        .map(|(node, pods)| {
            let pods: Vec<serde_json::Value> = pods
                .into_iter()
                .map(|((ns, pod), volume)| {
                    json!({"podRef": {"name": pod, "namespace": ns}, "volume": volume})
                })
                .collect();
            json!({
                "apiVersion": api_version,
                "kind": STATS_KIND,
                "metadata": {"name": node},
                "summary": {"node": {"nodeName": node}, "pods": pods},
            })
        })
        .collect();
    items.extend(snap.logs().iter().map(|l| {
        json!({
            "apiVersion": api_version,
            "kind": LOG_KIND,
            "metadata": {"name": l.pod, "namespace": l.namespace},
            "container": l.container,
            "log": l.text,
        })
    }));
    items
}
