//! The report: the JSON/YAML contract (`storage-doctor/v1`) and its renderers.

pub mod escape;
pub mod human;
pub mod markdown;
pub mod yaml;

use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::snapshot::Gap;
use serde::Serialize;

/// Where the state came from; the source layer defines it.
pub use crate::source::SourceInfo;

pub const API_VERSION: &str = "storage-doctor/v1";

/// The whole document `-o json` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: &'static str,
    pub source: SourceInfo,
    pub scope: ScopeInfo,
    pub summary: Summary,
    pub gaps: Vec<Gap>,
    pub findings: Vec<Finding>,
    /// Subjects with no finding, with `--show-healthy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthy: Option<Vec<ObjectRef>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeInfo {
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub subjects: usize,
    pub broken: usize,
    pub warnings: usize,
    pub info: usize,
    pub healthy: usize,
}

/// One subject with at least one cause.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub subject: ObjectRef,
    pub severity: Severity,
    pub status: String,
    pub chain: Vec<ChainLink>,
    pub causes: Vec<RankedCause>,
    /// A pod's volumes, healthy ones included, with their fill when
    /// `--usage` read it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeInfo>,
    /// For a pod the scheduler has not placed: every node, whether the
    /// pod's volumes allow it and what else rules it out, one row per
    /// group of identical nodes, the nodes the volumes allow first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeRow>,
    /// Nodes in further rows that were left out to keep `nodes` short.
    #[serde(skip_serializing_if = "is_zero")]
    pub nodes_omitted: usize,
    /// Pods of one workload with this same finding (the same causes but
    /// for the pod's name, ages and event counts), reported once: `subject`
    /// is the first of them, and its chain and evidence stand for all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Replicas>,
}

impl Finding {
    /// How many subjects the finding stands for.
    pub fn subjects(&self) -> usize {
        self.replicas.as_ref().map_or(1, |r| r.count)
    }
}

/// The pods of one workload that a finding stands for.
#[derive(Debug, Clone, Serialize)]
pub struct Replicas {
    /// The workload that owns them: a Deployment (through its
    /// ReplicaSets), StatefulSet, DaemonSet, Job, ReplicaSet ...
    pub owner: ObjectRef,
    /// The number of pods: the length of `pods`.
    pub count: usize,
    /// Their names, in the finding's namespace; `subject`'s first.
    pub pods: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Nodes with the same verdict for a pod that waits for the scheduler.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    /// The first node of the row, by name.
    pub name: String,
    /// How many nodes the row stands for.
    pub count: usize,
    /// A few more nodes of the row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
    /// Whether the pod's volumes may be used on these nodes.
    pub volumes_allow: bool,
    /// Why the volumes do not allow them (node affinity, allowedTopologies,
    /// the driver's registration, attach limit or node plugin).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_reasons: Vec<String>,
    /// What else rules them out: the pod's placement rules, taints, cordon,
    /// NotReady, and what the scheduler counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ruled_out_by: Vec<String>,
}

/// One volume of a pod.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeInfo {
    pub name: String,
    /// As the pod spec names it: `persistentVolumeClaim`, `emptyDir` ...
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// `container:path` of each mount.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<String>,
    /// `Block` for a raw block device, which has no file-system usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    /// What the kubelet reports (`--usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Why there is no usage although `--usage` read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_note: Option<String>,
}

/// A volume's fill as the kubelet's `/stats/summary` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub used_bytes: Option<u64>,
    pub capacity_bytes: Option<u64>,
    pub inodes_used: Option<u64>,
    pub inodes: Option<u64>,
}

/// One object of the chain and whether it is in the state it should be.
#[derive(Debug, Clone, Serialize)]
pub struct ChainLink {
    #[serde(flatten)]
    pub object: ObjectRef,
    pub state: String,
    pub ok: bool,
}

/// Healthy links a text report shows before it counts the rest.
const HEALTHY_LINKS_SHOWN: usize = 8;

/// The links a text report shows: each object once (a pod with many claims
/// of one class names the class once), every broken link, and the healthy
/// ones up to [`HEALTHY_LINKS_SHOWN`]; with how many healthy links are left
/// out. JSON and YAML keep the whole chain.
pub fn chain_shown(chain: &[ChainLink]) -> (Vec<&ChainLink>, usize) {
    let mut shown: Vec<&ChainLink> = Vec::new();
    let mut healthy = 0;
    let mut left_out = 0;
    for link in chain {
        if shown
            .iter()
            .any(|s| s.object == link.object && s.state == link.state)
        {
            continue;
        }
        if link.ok {
            healthy += 1;
            if healthy > HEALTHY_LINKS_SHOWN {
                left_out += 1;
                continue;
            }
        }
        shown.push(link);
    }
    (shown, left_out)
}

#[derive(Debug, Clone, Serialize)]
pub struct RankedCause {
    pub rank: usize,
    pub rule: &'static str,
    pub link: Link,
    pub severity: Severity,
    pub confidence: Confidence,
    pub objects: Vec<ObjectRef>,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
}

impl Report {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("report serializes");
        s.push('\n');
        s
    }

    pub fn to_yaml(&self) -> String {
        yaml::to_string(&serde_yaml_ng::to_value(self).expect("report serializes"))
    }

    /// The same report showing only findings of at least `min`; the
    /// summary still counts every finding.
    pub fn at_least(&self, min: Severity) -> Report {
        let mut r = self.clone();
        r.findings.retain(|f| f.severity >= min);
        r
    }

    /// Findings the summary counts that the report does not show
    /// (`--min-severity`).
    pub fn hidden_findings(&self) -> usize {
        let s = &self.summary;
        let shown: usize = self.findings.iter().map(Finding::subjects).sum();
        (s.broken + s.warnings + s.info).saturating_sub(shown)
    }

    /// Exit code of the run: 1 when any finding is at least `fail_on`
    /// (by default: a broken link).
    pub fn exit_code(&self, fail_on: Severity) -> u8 {
        u8::from(self.findings.iter().any(|f| f.severity >= fail_on))
    }
}
