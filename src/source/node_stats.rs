//! The kubelet's `/stats/summary` document, as far as the diagnosis reads
//! it: each pod's volumes and their fill. Read through the API server's
//! node proxy (`--usage`) or from a capture (`kind: NodeStatsSummary`).
//! Lenient: unknown fields are ignored, missing ones are `None`, and a
//! number that does not fit is dropped rather than failing the document.

use crate::snapshot::VolumeUsage;
use serde::{Deserialize, Deserializer};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(default)]
    pub node: NodeRef,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub pods: Vec<PodStats>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRef {
    #[serde(default)]
    pub node_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStats {
    #[serde(default)]
    pub pod_ref: ObjectRef,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub volume: Vec<VolumeStats>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ObjectRef {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeStats {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "count")]
    pub used_bytes: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub capacity_bytes: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub inodes_used: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    pub inodes: Option<u64>,
    #[serde(default)]
    pub pvc_ref: Option<ObjectRef>,
}

/// A count: a non-negative integer, else nothing.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_u64())
}

/// A list whose odd items (of another shape) are skipped, not fatal. Only
/// objects are items: serde would read `["data", 99, 100]` as a struct's
/// fields in order, a fill the kubelet never reported.
fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(match v {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter(serde_json::Value::is_object)
            .filter_map(|i| serde_json::from_value(i).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// Parses a stats summary document; `None` when it is not one at all.
pub fn parse(value: serde_json::Value) -> Option<Summary> {
    if !value.is_object() {
        return None;
    }
    serde_json::from_value(value).ok()
}

/// Every pod volume the summary reports, as read on `node`.
pub fn volumes(node: &str, summary: &Summary) -> Vec<VolumeUsage> {
    let mut out = Vec::new();
    for pod in &summary.pods {
        let (Some(ns), Some(name)) = (&pod.pod_ref.namespace, &pod.pod_ref.name) else {
            continue;
        };
        for v in &pod.volume {
            let Some(volume) = v.name.clone().filter(|n| !n.is_empty()) else {
                continue;
            };
            out.push(VolumeUsage {
                node: node.to_string(),
                namespace: ns.clone(),
                pod: name.clone(),
                volume,
                claim: v.pvc_ref.as_ref().and_then(|r| r.name.clone()),
                used_bytes: v.used_bytes,
                capacity_bytes: v.capacity_bytes,
                inodes_used: v.inodes_used,
                inodes: v.inodes,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pod_volumes_and_skips_odd_data() {
        let doc = serde_json::json!({
            "node": {"nodeName": "node-1"},
            "pods": [
                {"podRef": {"name": "db-0", "namespace": "shop"},
                 "volume": [
                    {"name": "data", "usedBytes": 98, "capacityBytes": 100, "inodesUsed": 5, "inodes": 1000,
                     "pvcRef": {"name": "data-db-0", "namespace": "shop"}},
                    {"name": "odd", "usedBytes": -1, "capacityBytes": "lots"},
                    {"usedBytes": 1},
                    "not an object",
                    ["listed", 99, 100]
                 ]},
                {"podRef": {"name": "nameless"}},
                42
            ]
        });
        let s = parse(doc).unwrap();
        let v = volumes("node-1", &s);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].claim.as_deref(), Some("data-db-0"));
        assert_eq!(v[0].fullest(), Some((0.98, "bytes")));
        assert_eq!(v[1].used_bytes, None);
        assert_eq!(v[1].fullest(), None);
        assert!(parse(serde_json::json!("x")).is_none());
        assert!(parse(serde_json::json!({"pods": "x"}))
            .unwrap()
            .pods
            .is_empty());
    }
}
