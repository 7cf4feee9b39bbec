//! What each provisioner can do: access modes per volume mode, expansion,
//! node-locality, attach, snapshots and clones. A built-in table, extended or overridden by a user
//! file in the same format. Unknown drivers are never guessed about.

use serde::Deserialize;
use std::collections::BTreeMap;

const BUILT_IN: &str = include_str!("drivers.yaml");

/// Capabilities of one provisioner / CSI driver.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Driver {
    pub name: String,
    /// Access modes for `volumeMode: Filesystem`.
    #[serde(default)]
    pub filesystem: Vec<String>,
    /// Access modes for `volumeMode: Block`; empty if block is unsupported.
    #[serde(default)]
    pub block: Vec<String>,
    #[serde(default)]
    pub expansion: bool,
    #[serde(default)]
    pub node_local: bool,
    #[serde(default)]
    pub attach_required: bool,
    /// Provisions nothing: PVs must be created by hand.
    #[serde(default)]
    pub static_only: bool,
    /// Whether the driver takes snapshots and restores claims from them;
    /// `None`: not known, never guessed.
    #[serde(default)]
    pub snapshot: Option<bool>,
    /// Whether the driver clones a claim into a new one; `None`: not known.
    #[serde(default)]
    pub clone: Option<bool>,
    #[serde(default)]
    pub note: Option<String>,
    /// Where the driver's own pods are, for drivers that neither name
    /// themselves in their containers nor carry their name in their labels.
    #[serde(default)]
    pub components: Option<ComponentHints>,
}

/// How to find a driver's controller and node plugin when nothing generic
/// does. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComponentHints {
    /// The namespace the components run in; others are not looked at.
    #[serde(default)]
    pub namespace: Option<String>,
    /// A label selector (`app=ebs-csi-controller`) of the controller's pods.
    #[serde(default)]
    pub controller: Option<String>,
    /// A label selector of the node plugin's pods.
    #[serde(default)]
    pub node_plugin: Option<String>,
}

impl Driver {
    /// Access modes this driver can serve for a volume mode (`Filesystem` when unset).
    pub fn modes(&self, volume_mode: Option<&str>) -> &[String] {
        if volume_mode == Some("Block") {
            &self.block
        } else {
            &self.filesystem
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DriverFile {
    drivers: Vec<Driver>,
}

/// The driver knowledge base.
#[derive(Debug, Clone)]
pub struct Drivers {
    by_name: BTreeMap<String, Driver>,
}

impl Drivers {
    /// The table that ships with the tool.
    pub fn built_in() -> Self {
        let file: DriverFile =
            serde_yaml_ng::from_str(BUILT_IN).expect("built-in driver table is valid YAML");
        Drivers {
            by_name: file
                .drivers
                .into_iter()
                .map(|d| (d.name.clone(), d))
                .collect(),
        }
    }

    /// Adds or replaces drivers from a user file's text.
    pub fn extend_from_yaml(&mut self, text: &str) -> Result<usize, serde_yaml_ng::Error> {
        let file: DriverFile = serde_yaml_ng::from_str(text)?;
        let n = file.drivers.len();
        for d in file.drivers {
            self.by_name.insert(d.name.clone(), d);
        }
        Ok(n)
    }

    pub fn get(&self, name: &str) -> Option<&Driver> {
        self.by_name.get(name)
    }

    pub fn all(&self) -> impl Iterator<Item = &Driver> {
        self.by_name.values()
    }
}

impl Default for Drivers {
    fn default() -> Self {
        Self::built_in()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_table_has_the_catalog_drivers() {
        let kb = Drivers::built_in();
        for name in [
            "ebs.csi.aws.com",
            "efs.csi.aws.com",
            "pd.csi.storage.gke.io",
            "disk.csi.azure.com",
            "rancher.io/local-path",
            "kubernetes.io/no-provisioner",
            "nfs.csi.k8s.io",
            "openebs.io/local",
        ] {
            assert!(kb.get(name).is_some(), "{name}");
        }
        let ebs = kb.get("ebs.csi.aws.com").unwrap();
        assert!(!ebs.modes(None).contains(&"ReadWriteMany".to_string()));
        assert!(ebs
            .modes(Some("Block"))
            .contains(&"ReadWriteMany".to_string()));
    }

    #[test]
    fn user_file_overrides_and_extends() {
        let mut kb = Drivers::built_in();
        let n = kb
            .extend_from_yaml(
                "drivers:\n  - name: ebs.csi.aws.com\n    filesystem: [ReadWriteMany]\n  - name: my.csi.example.com\n    filesystem: [ReadWriteOnce]\n",
            )
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            kb.get("ebs.csi.aws.com").unwrap().filesystem,
            ["ReadWriteMany"]
        );
        assert!(kb.get("my.csi.example.com").is_some());
    }

    #[test]
    fn component_hints_are_optional() {
        let mut kb = Drivers::built_in();
        kb.extend_from_yaml(
            "drivers:\n  - name: my.csi.example.com\n    components:\n      namespace: storage\n      controller: app=my-controller\n",
        )
        .unwrap();
        let hints = kb
            .get("my.csi.example.com")
            .unwrap()
            .components
            .clone()
            .unwrap();
        assert_eq!(hints.namespace.as_deref(), Some("storage"));
        assert_eq!(hints.node_plugin, None);
    }

    #[test]
    fn snapshot_and_clone_support_is_known_or_left_unknown() {
        let kb = Drivers::built_in();
        let ebs = kb.get("ebs.csi.aws.com").unwrap();
        assert_eq!((ebs.snapshot, ebs.clone), (Some(true), Some(false)));
        let efs = kb.get("efs.csi.aws.com").unwrap();
        assert_eq!((efs.snapshot, efs.clone), (Some(false), Some(false)));
        let pd = kb.get("pd.csi.storage.gke.io").unwrap();
        assert_eq!((pd.snapshot, pd.clone), (Some(true), Some(true)));
        let mut kb = Drivers::built_in();
        kb.extend_from_yaml("drivers:\n  - name: my.csi.example.com\n    snapshot: true\n")
            .unwrap();
        let mine = kb.get("my.csi.example.com").unwrap();
        assert_eq!((mine.snapshot, mine.clone), (Some(true), None));
    }

    #[test]
    fn user_file_with_a_typo_is_an_error() {
        let mut kb = Drivers::built_in();
        assert!(kb
            .extend_from_yaml("drivers:\n  - name: x\n    filesytem: [ReadWriteOnce]\n")
            .is_err());
    }
}
