//! The VolumePopulator kind (`populator.storage.k8s.io`): how a volume
//! populator registers the kind of data source it fills claims from. A CRD
//! that only clusters with the volume-data-source-validator install, so
//! k8s-openapi has no type for it; every field is optional.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ClusterResourceScope;
use serde::{Deserialize, Serialize};

/// The API group of the kind.
pub const GROUP: &str = "populator.storage.k8s.io";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumePopulator {
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The group and kind of the data sources this populator fills from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<SourceKind>,
}

/// `sourceKind`: a GroupKind; the group is empty for the core group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
}

impl k8s_openapi::Resource for VolumePopulator {
    const API_VERSION: &'static str = "populator.storage.k8s.io/v1beta1";
    const GROUP: &'static str = GROUP;
    const KIND: &'static str = "VolumePopulator";
    const VERSION: &'static str = "v1beta1";
    const URL_PATH_SEGMENT: &'static str = "volumepopulators";
    type Scope = ClusterResourceScope;
}

impl k8s_openapi::ListableResource for VolumePopulator {
    const LIST_KIND: &'static str = "VolumePopulatorList";
}

impl k8s_openapi::Metadata for VolumePopulator {
    type Ty = ObjectMeta;
    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl VolumePopulator {
    /// Whether this populator registers data sources of `group`/`kind`.
    pub fn registers(&self, group: &str, kind: &str) -> bool {
        self.source_kind
            .as_ref()
            .is_some_and(|s| s.group == group && s.kind == kind)
    }

    /// `Kind.group` (or `Kind` for the core group), as the rules name it.
    pub fn source_kind_name(&self) -> Option<String> {
        let s = self.source_kind.as_ref().filter(|s| !s.kind.is_empty())?;
        Some(if s.group.is_empty() {
            s.kind.clone()
        } else {
            format!("{}.{}", s.kind, s.group)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_names_its_group_and_kind() {
        let p: VolumePopulator = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "hello"},
            "sourceKind": {"group": "hello.example.com", "kind": "Hello"}
        }))
        .unwrap();
        assert!(p.registers("hello.example.com", "Hello"));
        assert!(!p.registers("", "Hello"));
        assert_eq!(
            p.source_kind_name().as_deref(),
            Some("Hello.hello.example.com")
        );
        let odd: VolumePopulator = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "odd"}
        }))
        .unwrap();
        assert!(!odd.registers("", ""));
        assert_eq!(odd.source_kind_name(), None);
    }
}
