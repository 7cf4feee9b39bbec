//! What a rule is and what it returns: the types every rule module and the
//! registry share.

use crate::chain::node_view::{NodeView, ViewCache};
use crate::chain::{Chain, ClaimChain, PodChain};
use crate::drivers::Drivers;
use crate::events::NormalEvent;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::snapshot::Snapshot;
use std::rc::Rc;

/// What rules read besides the chain.
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub drivers: &'a Drivers,
    /// Per-node views, worked out once per pod for the rules and the report.
    pub views: ViewCache,
}

impl<'a> Ctx<'a> {
    pub fn new(snap: &'a Snapshot, drivers: &'a Drivers) -> Self {
        Ctx {
            snap,
            drivers,
            views: ViewCache::default(),
        }
    }

    /// Every node's verdict for a pod that waits for the scheduler.
    pub fn node_view(&self, pod: &PodChain, claims: &[ClaimChain]) -> Rc<Option<NodeView>> {
        self.views.view(self.snap, self.drivers, pod, claims)
    }
}

/// A rule of the catalog. Where it ranks is its place in
/// [`crate::rules::RULES`].
pub struct Rule {
    pub id: &'static str,
    /// One line: what the rule means.
    pub title: &'static str,
    pub severity: Severity,
    pub link: Link,
    pub check: Check,
    /// The Normal events it reads: a diagnosis, live or from a capture,
    /// keeps every Warning event and of the Normal ones only those a rule
    /// declares.
    pub normal_events: &'static [NormalEvent],
    /// Its runbook page (`docs/runbooks/<id>.md`), shown by `explain`.
    pub runbook: &'static str,
}

/// What a rule looks at, and so when it runs.
#[derive(Clone, Copy)]
pub enum Check {
    /// Each claim of the chain, with the subject pod when there is one.
    Claim(fn(&Ctx, &ClaimChain, Option<&PodChain>) -> Option<Cause>),
    /// The subject pod, with its claims.
    Pod(fn(&Ctx, &PodChain, &[ClaimChain]) -> Vec<Cause>),
    /// The subject pod while it is scheduled to a node but not Running and
    /// Ready, with the node's name and its claims: attach and mount.
    PodOnNode(fn(&Ctx, &PodChain, &str, &[ClaimChain]) -> Vec<Cause>),
    /// The whole chain: volumes, classes and workloads as subjects.
    Subject(fn(&Ctx, &Chain) -> Vec<Cause>),
    /// The whole chain, only when no other rule found a cause for it.
    Fallback(fn(&Ctx, &Chain) -> Vec<Cause>),
}

impl Check {
    pub fn run(&self, ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
        match self {
            Check::Claim(check) => chain
                .claims
                .iter()
                .filter_map(|c| check(ctx, c, chain.pod.as_ref()))
                .collect(),
            Check::Pod(check) => chain
                .pod
                .as_ref()
                .map(|pod| check(ctx, pod, &chain.claims))
                .unwrap_or_default(),
            Check::PodOnNode(check) => chain
                .stuck_on_node()
                .map(|(pod, node)| check(ctx, pod, node, &chain.claims))
                .unwrap_or_default(),
            Check::Subject(check) | Check::Fallback(check) => check(ctx, chain),
        }
    }

    pub fn is_fallback(&self) -> bool {
        matches!(self, Check::Fallback(_))
    }
}

/// One explanation of why a chain is broken, with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub rule: &'static str,
    pub severity: Severity,
    pub link: Link,
    pub confidence: Confidence,
    pub objects: Vec<ObjectRef>,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
    /// Only the kubelet's summary of a failure (`Unable to attach or mount
    /// volumes: ... timed out`): with another cause for the subject it is
    /// that cause's consequence, and becomes its evidence.
    pub symptom: bool,
}

impl Cause {
    pub fn new(rule: &Rule, summary: impl Into<String>) -> Self {
        Cause {
            rule: rule.id,
            severity: rule.severity,
            link: rule.link,
            confidence: Confidence::High,
            objects: Vec::new(),
            summary: summary.into(),
            evidence: Vec::new(),
            fix: Vec::new(),
            symptom: false,
        }
    }

    pub fn object(mut self, o: ObjectRef) -> Self {
        if !self.objects.contains(&o) {
            self.objects.push(o);
        }
        self
    }

    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        let line = line.into();
        if !self.evidence.contains(&line) {
            self.evidence.push(line);
        }
        self
    }

    pub fn evidence_all(mut self, lines: impl IntoIterator<Item = String>) -> Self {
        for l in lines {
            self = self.evidence(l);
        }
        self
    }

    pub fn fix(mut self, line: impl Into<String>) -> Self {
        self.fix.push(line.into());
        self
    }

    pub fn confidence(mut self, c: Confidence) -> Self {
        self.confidence = c;
        self
    }

    pub fn symptom(mut self) -> Self {
        self.symptom = true;
        self
    }

    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
}
