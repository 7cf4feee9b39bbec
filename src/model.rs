//! Shared vocabulary of the diagnosis: object references, severities, links.

use serde::Serialize;
use std::fmt;

/// A reference to one Kubernetes object, as it appears in the JSON report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn namespaced(kind: &str, namespace: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }

    pub fn cluster(kind: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: None,
            name: name.to_string(),
        }
    }

    pub fn pod(namespace: &str, name: &str) -> Self {
        Self::namespaced("Pod", namespace, name)
    }

    pub fn claim(namespace: &str, name: &str) -> Self {
        Self::namespaced("PersistentVolumeClaim", namespace, name)
    }

    pub fn volume(name: &str) -> Self {
        Self::cluster("PersistentVolume", name)
    }

    pub fn class(name: &str) -> Self {
        Self::cluster("StorageClass", name)
    }

    pub fn node(name: &str) -> Self {
        Self::cluster("Node", name)
    }

    pub fn volume_snapshot(namespace: &str, name: &str) -> Self {
        Self::namespaced("VolumeSnapshot", namespace, name)
    }

    pub fn snapshot_content(name: &str) -> Self {
        Self::cluster("VolumeSnapshotContent", name)
    }

    pub fn snapshot_class(name: &str) -> Self {
        Self::cluster("VolumeSnapshotClass", name)
    }

    /// The short form kubectl accepts, e.g. `pvc/ckpt`.
    pub fn kubectl_name(&self) -> String {
        let short = match self.kind.as_str() {
            "Pod" => "pod",
            "PersistentVolumeClaim" => "pvc",
            "PersistentVolume" => "pv",
            "StorageClass" => "storageclass",
            "Node" => "node",
            "VolumeAttachment" => "volumeattachment",
            "CSIDriver" => "csidriver",
            "CSINode" => "csinode",
            "StatefulSet" => "statefulset",
            "Deployment" => "deployment",
            "ReplicaSet" => "replicaset",
            "DaemonSet" => "daemonset",
            "Job" => "job",
            "CronJob" => "cronjob",
            "VolumeSnapshot" => "volumesnapshot",
            "VolumeSnapshotContent" => "volumesnapshotcontent",
            "VolumeSnapshotClass" => "volumesnapshotclass",
            other => return format!("{}/{}", other.to_lowercase(), self.name),
        };
        format!("{short}/{}", self.name)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// How bad a finding is; ordered from least to most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Normal waiting or advice.
    Info,
    /// Degraded, or will break.
    Warning,
    /// Blocked.
    Error,
    /// Data at risk.
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }

    /// A broken link: what makes the exit code 1.
    pub fn is_broken(self) -> bool {
        self >= Severity::Error
    }
}

/// How sure a rule is that its cause is the real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }

    /// One step less sure, used when data a rule needed was not readable.
    pub fn lowered(self) -> Self {
        match self {
            Confidence::High => Confidence::Medium,
            _ => Confidence::Low,
        }
    }
}

/// The link of the storage chain a cause breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    PodToClaim,
    /// A volume of the pod that is not a claim: ConfigMap, Secret, hostPath ...
    PodToVolume,
    ClaimToClass,
    ClaimToVolume,
    /// The claim's data source: a snapshot, a claim to clone, a populator.
    ClaimToSource,
    ClassToProvisioner,
    VolumeToNode,
    PodToNode,
    Attach,
    Mount,
}

impl Link {
    /// Every link, in the order of the chain; the report schema lists their names.
    pub const ALL: [Link; 10] = [
        Link::PodToClaim,
        Link::PodToVolume,
        Link::ClaimToClass,
        Link::ClaimToVolume,
        Link::ClaimToSource,
        Link::ClassToProvisioner,
        Link::VolumeToNode,
        Link::PodToNode,
        Link::Attach,
        Link::Mount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Link::PodToClaim => "Pod→PersistentVolumeClaim",
            Link::PodToVolume => "Pod→Volume",
            Link::ClaimToClass => "PersistentVolumeClaim→StorageClass",
            Link::ClaimToVolume => "PersistentVolumeClaim→PersistentVolume",
            Link::ClaimToSource => "PersistentVolumeClaim→DataSource",
            Link::ClassToProvisioner => "StorageClass→CSIDriver",
            Link::VolumeToNode => "PersistentVolume→Node",
            Link::PodToNode => "Pod→Node",
            Link::Attach => "Node→VolumeAttachment",
            Link::Mount => "VolumeAttachment→Mount",
        }
    }
}

impl Serialize for Link {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A duration as kubectl prints ages: `45s`, `12m`, `3h4m`, `5d`.
pub fn age(since: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let secs = (now.as_second() - since.as_second()).max(0);
    let (m, h, d) = (secs / 60, secs / 3600, secs / 86400);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{m}m{}s", s % 60),
        s if s < 3 * 3600 => format!("{m}m"),
        s if s < 8 * 3600 => format!("{h}h{}m", m % 60),
        s if s < 48 * 3600 => format!("{h}h"),
        s if s < 8 * 86400 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

#[cfg(test)]
mod tests {
    use super::{age, Link};

    #[test]
    fn every_link_is_listed_once() {
        // A new variant fails to compile here until it is placed in ALL.
        let index = |l: Link| match l {
            Link::PodToClaim => 0,
            Link::PodToVolume => 1,
            Link::ClaimToClass => 2,
            Link::ClaimToVolume => 3,
            Link::ClaimToSource => 4,
            Link::ClassToProvisioner => 5,
            Link::VolumeToNode => 6,
            Link::PodToNode => 7,
            Link::Attach => 8,
            Link::Mount => 9,
        };
        for (i, l) in Link::ALL.into_iter().enumerate() {
            assert_eq!(index(l), i, "{}", l.as_str());
        }
    }

    #[test]
    fn ages_read_like_kubectl() {
        let t = |s: i64| jiff::Timestamp::from_second(s).unwrap();
        assert_eq!(age(t(0), t(45)), "45s");
        assert_eq!(age(t(0), t(12 * 60)), "12m");
        assert_eq!(age(t(0), t(3 * 3600 + 4 * 60)), "3h4m");
        assert_eq!(age(t(0), t(5 * 86400)), "5d0h");
        assert_eq!(age(t(0), t(30 * 86400)), "30d");
        assert_eq!(age(t(100), t(0)), "0s");
    }
}
