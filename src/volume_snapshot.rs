//! The CSI snapshot kinds (`snapshot.storage.k8s.io`): VolumeSnapshot,
//! VolumeSnapshotContent and VolumeSnapshotClass. They are CRDs, so
//! k8s-openapi has no types for them: these hold the metadata and the spec
//! and status fields the diagnosis reads, and nothing else. Every field is
//! optional and loosely typed (sizes are a quantity in one kind and a byte
//! count in another), so odd objects decode instead of failing.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The API group of the three kinds.
pub const GROUP: &str = "snapshot.storage.k8s.io";

/// The annotation that marks a VolumeSnapshotClass as the default of its driver.
pub const DEFAULT_CLASS_ANNOTATION: &str = "snapshot.storage.kubernetes.io/is-default-class";

macro_rules! resource {
    ($ty:ty, $kind:literal, $plural:literal, $scope:ty) => {
        impl k8s_openapi::Resource for $ty {
            const API_VERSION: &'static str = "snapshot.storage.k8s.io/v1";
            const GROUP: &'static str = GROUP;
            const KIND: &'static str = $kind;
            const VERSION: &'static str = "v1";
            const URL_PATH_SEGMENT: &'static str = $plural;
            type Scope = $scope;
        }

        impl k8s_openapi::ListableResource for $ty {
            const LIST_KIND: &'static str = concat!($kind, "List");
        }

        impl k8s_openapi::Metadata for $ty {
            type Ty = ObjectMeta;
            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

resource!(
    VolumeSnapshot,
    "VolumeSnapshot",
    "volumesnapshots",
    NamespaceResourceScope
);
resource!(
    VolumeSnapshotContent,
    "VolumeSnapshotContent",
    "volumesnapshotcontents",
    ClusterResourceScope
);
resource!(
    VolumeSnapshotClass,
    "VolumeSnapshotClass",
    "volumesnapshotclasses",
    ClusterResourceScope
);

/// `status.error` of a snapshot or its content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeSnapshot {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<VolumeSnapshotSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VolumeSnapshotStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<VolumeSnapshotSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_class_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_content_name: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_volume_snapshot_content_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_to_use: Option<bool>,
    /// A quantity (`10Gi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SnapshotError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VolumeSnapshotContent {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<VolumeSnapshotContentSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<VolumeSnapshotContentStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotContentSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_volume_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_snapshot_ref: Option<BTreeMap<String, Value>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotContentStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_to_use: Option<bool>,
    /// Bytes, as a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_size: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_handle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SnapshotError>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSnapshotClass {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub driver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<BTreeMap<String, Value>>,
}

impl VolumeSnapshotClass {
    pub fn is_default(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
            .map(String::as_str)
            == Some("true")
    }
}

/// A size as either kind writes it: a quantity string (`10Gi`) or a byte
/// count; in bytes.
pub fn size_bytes(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::quantity::parse(s),
        _ => None,
    }
    .filter(|b| b.is_finite() && *b >= 0.0)
}

impl VolumeSnapshot {
    pub fn ready(&self) -> Option<bool> {
        self.status.as_ref().and_then(|s| s.ready_to_use)
    }

    pub fn class_name(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .and_then(|s| s.volume_snapshot_class_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    pub fn content_name(&self) -> Option<&str> {
        let status = self
            .status
            .as_ref()
            .and_then(|s| s.bound_volume_snapshot_content_name.as_deref());
        let spec = self
            .spec
            .as_ref()
            .and_then(|s| s.source.as_ref())
            .and_then(|s| s.volume_snapshot_content_name.as_deref());
        status.or(spec).filter(|n| !n.is_empty())
    }

    pub fn source_claim(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .and_then(|s| s.source.as_ref())
            .and_then(|s| s.persistent_volume_claim_name.as_deref())
            .filter(|n| !n.is_empty())
    }

    pub fn error_message(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.error.as_ref())
            .and_then(|e| e.message.as_deref())
            .filter(|m| !m.is_empty())
    }

    pub fn restore_size(&self) -> Option<f64> {
        size_bytes(self.status.as_ref().and_then(|s| s.restore_size.as_ref()))
    }
}

impl VolumeSnapshotContent {
    pub fn driver(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .and_then(|s| s.driver.as_deref())
            .filter(|d| !d.is_empty())
    }

    pub fn ready(&self) -> Option<bool> {
        self.status.as_ref().and_then(|s| s.ready_to_use)
    }

    pub fn error_message(&self) -> Option<&str> {
        self.status
            .as_ref()
            .and_then(|s| s.error.as_ref())
            .and_then(|e| e.message.as_deref())
            .filter(|m| !m.is_empty())
    }

    pub fn restore_size(&self) -> Option<f64> {
        size_bytes(self.status.as_ref().and_then(|s| s.restore_size.as_ref()))
    }

    pub fn source_volume_mode(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .and_then(|s| s.source_volume_mode.as_deref())
            .filter(|m| !m.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_objects_decode_and_sizes_read_either_way() {
        let vs: VolumeSnapshot = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s"},
            "status": {"readyToUse": false, "restoreSize": "10Gi", "error": {"message": "boom"}, "creationTime": 5}
        }))
        .unwrap();
        assert_eq!(vs.ready(), Some(false));
        assert_eq!(vs.restore_size(), Some(10.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(vs.error_message(), Some("boom"));
        let content: VolumeSnapshotContent = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "c"},
            "status": {"restoreSize": 1024, "creationTime": "not a number"}
        }))
        .unwrap();
        assert_eq!(content.restore_size(), Some(1024.0));
        assert_eq!(size_bytes(Some(&serde_json::json!([1]))), None);
        let empty: VolumeSnapshotClass = serde_json::from_value(serde_json::json!({})).unwrap();
        assert!(!empty.is_default());
    }
}
