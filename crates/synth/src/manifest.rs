//! What a generation reports: the broken subjects, the healthy pods, the counts.

use crate::Family;

/// A subject broken on purpose, and how the diagnosis must report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// As the report's subject prints: `Pod/ns/name`, `PersistentVolume/name`.
    pub subject: String,
    pub family: Family,
}

impl Injected {
    pub fn rule(&self) -> &'static str {
        self.family.rule()
    }

    pub fn severity(&self) -> &'static str {
        self.family.severity()
    }
}

/// Objects written, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pods: usize,
    pub claims: usize,
    pub volumes: usize,
    pub nodes: usize,
    pub events: usize,
    pub attachments: usize,
    /// Classes, CSI drivers, CSINodes, Deployments, ReplicaSets, StatefulSets.
    pub other: usize,
    /// Bytes written.
    pub bytes: u64,
}

impl Counts {
    pub fn objects(&self) -> usize {
        self.pods
            + self.claims
            + self.volumes
            + self.nodes
            + self.events
            + self.attachments
            + self.other
    }
}

/// What was generated: the broken subjects and the healthy pods.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub injected: Vec<Injected>,
    /// Pods with claims generated Running and Ready with everything bound,
    /// attached and mounted: subjects of the analysis with no finding.
    pub healthy_pods: Vec<String>,
    pub counts: Counts,
}
