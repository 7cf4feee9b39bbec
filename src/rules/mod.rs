//! Rules: pure functions from a resolved chain to causes. One module per
//! rule id of the failure catalog; [`RULES`] lists them all.

use crate::chain::{Chain, ClaimChain, PodChain};
use crate::drivers::Drivers;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;
use crate::snapshot::Snapshot;

pub mod access_mode_unsupported;
pub mod attach_failed;
pub mod claim_lost;
pub mod claim_misbound;
pub mod claim_not_found;
pub mod claim_terminating;
pub mod csi_driver_not_registered;
pub mod csidriver_missing;
pub mod expansion;
pub mod expansion_failed;
pub mod expansion_not_allowed;
pub mod filesystem_resize_pending;
pub mod insufficient_capacity;
pub mod matching;
pub mod modify_volume_failed;
pub mod mount_failed;
pub mod multi_attach;
pub mod multiple_default_storageclasses;
pub mod no_matching_pv;
pub mod no_storageclass_no_pv;
pub mod node_volume_limit;
pub mod not_storage;
pub mod provisioner_not_responding;
pub mod provisioning_failed;
pub mod pv_reclaim_failed;
pub mod pv_released_retained;
pub mod rwop_conflict;
pub mod storage_quota_exceeded;
pub mod storage_unexplained;
pub mod storageclass_not_found;
pub mod topology_mismatch;
pub mod volume_mismatch;
pub mod volume_node_affinity_conflict;
pub mod waiting_for_first_consumer;
pub mod wffc_node_name_bypass;

/// What rules read besides the chain.
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub drivers: &'a Drivers,
}

/// A rule of the catalog.
pub struct Rule {
    pub id: &'static str,
    /// One line: what the rule means.
    pub title: &'static str,
    pub severity: Severity,
    pub link: Link,
    /// Lower comes first when several causes block one chain: the cause
    /// that would still block after the others were fixed.
    pub precedence: u16,
    /// Runs only when no other rule found a cause for the subject.
    pub fallback: bool,
    pub check: fn(&Ctx, &Chain) -> Vec<Cause>,
}

/// Every rule, in catalog order.
pub const RULES: &[&Rule] = &[
    &claim_not_found::RULE,
    &claim_terminating::RULE,
    &claim_lost::RULE,
    &claim_misbound::RULE,
    &storageclass_not_found::RULE,
    &no_storageclass_no_pv::RULE,
    &multiple_default_storageclasses::RULE,
    &access_mode_unsupported::RULE,
    &provisioner_not_responding::RULE,
    &provisioning_failed::RULE,
    &no_matching_pv::RULE,
    &waiting_for_first_consumer::RULE,
    &wffc_node_name_bypass::RULE,
    &storage_quota_exceeded::RULE,
    &volume_mismatch::RULE,
    &pv_released_retained::RULE,
    &pv_reclaim_failed::RULE,
    &volume_node_affinity_conflict::RULE,
    &topology_mismatch::RULE,
    &insufficient_capacity::RULE,
    &node_volume_limit::RULE,
    &rwop_conflict::RULE,
    &multi_attach::RULE,
    &attach_failed::RULE,
    &csi_driver_not_registered::RULE,
    &csidriver_missing::RULE,
    &mount_failed::RULE,
    &expansion_not_allowed::RULE,
    &expansion_failed::RULE,
    &filesystem_resize_pending::RULE,
    &modify_volume_failed::RULE,
    &not_storage::RULE,
    &storage_unexplained::RULE,
];

/// One explanation of why a chain is broken, with its evidence and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub rule: &'static str,
    pub severity: Severity,
    pub link: Link,
    pub confidence: Confidence,
    pub precedence: u16,
    pub objects: Vec<ObjectRef>,
    pub summary: String,
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
}

impl Cause {
    pub fn new(rule: &Rule, summary: impl Into<String>) -> Self {
        Cause {
            rule: rule.id,
            severity: rule.severity,
            link: rule.link,
            confidence: Confidence::High,
            precedence: rule.precedence,
            objects: Vec::new(),
            summary: summary.into(),
            evidence: Vec::new(),
            fix: Vec::new(),
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

    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
}

/// Runs every rule on a chain. Fallback rules run only when nothing else
/// explained the subject.
pub fn diagnose(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let mut causes: Vec<Cause> = RULES
        .iter()
        .filter(|r| !r.fallback)
        .flat_map(|r| (r.check)(ctx, chain))
        .collect();
    if causes.is_empty() {
        causes = RULES
            .iter()
            .filter(|r| r.fallback)
            .flat_map(|r| (r.check)(ctx, chain))
            .take(1)
            .collect();
    }
    // "Normal waiting" is no comfort next to a real fault in the same chain.
    if causes.iter().any(|c| c.severity > Severity::Info) {
        causes.retain(|c| c.severity > Severity::Info);
    }
    causes
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

// ---- helpers shared by rules

/// Quotes the scheduler when one of its reasons matches, e.g.
/// `scheduler (FailedScheduling event): 0/3 nodes are available: ...`.
pub fn scheduler_says(
    pod: Option<&PodChain>,
    pred: impl Fn(&ReasonKind) -> bool,
) -> Option<String> {
    let s = pod?.scheduling.as_ref()?;
    s.verdict
        .has(pred)
        .map(|_| format!("scheduler ({}): {}", s.source, s.verdict.message))
}

/// `-n ns` for kubectl commands.
pub fn kubectl_ns(ns: &str) -> String {
    format!("kubectl -n {ns}")
}

/// Names of the classes in the cluster, the default marked: `standard (default), fast`.
pub fn class_list(snap: &Snapshot) -> String {
    let mut names: Vec<String> = snap
        .objects
        .classes
        .iter()
        .map(|sc| {
            let name = sc.metadata.name.clone().unwrap_or_default();
            if crate::snapshot::is_default_class(sc) {
                format!("{name} (default)")
            } else {
                name
            }
        })
        .collect();
    names.sort();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The longest name Kubernetes accepts (a DNS subdomain).
const MAX_NAME_LENGTH: usize = 253;

/// The candidate closest to `name` when it is a plausible typo of it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    // No object name is longer; a forged one must not cost a quadratic
    // comparison with every candidate.
    if length > MAX_NAME_LENGTH {
        return None;
    }
    let limit = (length / 4).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        // The distance is at least the difference in length.
        .filter(|c| c.chars().count().abs_diff(length) <= limit)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// How the workload of a pod is edited, or how a bare pod is replaced.
pub fn edit_pod_spec_hint(ctx: &Ctx, pod: &PodChain, change: &str) -> String {
    match crate::chain::owner_of(ctx.snap, pod.pod) {
        Some(owner) if owner.kind != "Node" => format!(
            "{} edit {} and {change} in the pod template; the controller replaces the pod",
            kubectl_ns(pod.namespace),
            owner.kubectl_name()
        ),
        _ => format!(
            "pod volumes cannot be changed in place: {ns} get pod {p} -o yaml > {p}.yaml, {change} in {p}.yaml, then {ns} replace --force -f {p}.yaml",
            ns = kubectl_ns(pod.namespace),
            p = pod.name
        ),
    }
}

/// The claim's age and phase, as evidence.
pub fn claim_state_line(ctx: &Ctx, c: &ClaimChain) -> String {
    let age = c
        .claim
        .and_then(|c| c.metadata.creation_timestamp.as_ref())
        .map(|t| format!(" for {}", crate::model::age(t.0, ctx.snap.now)))
        .unwrap_or_default();
    format!(
        "claim {}/{} is {}{age}",
        c.namespace,
        c.name,
        c.phase().unwrap_or("Pending")
    )
}

/// Rules that need a kind the source could not read are less sure.
pub fn confidence_given(ctx: &Ctx, resources: &[&str], c: Confidence) -> Confidence {
    if resources.iter().all(|r| ctx.snap.has(r)) {
        c
    } else {
        c.lowered()
    }
}

/// Evidence line naming a gap that weakens a cause.
pub fn gap_lines(ctx: &Ctx, resources: &[&str]) -> Vec<String> {
    ctx.snap
        .gaps
        .iter()
        .filter(|g| resources.contains(&g.resource.as_str()))
        .map(|g| {
            format!(
                "{} could not be read ({}): {}",
                g.resource, g.reason, g.message
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_precedences_distinct() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        let mut prec: Vec<u16> = RULES.iter().map(|r| r.precedence).collect();
        prec.sort();
        prec.dedup();
        assert_eq!(prec.len(), RULES.len());
    }

    #[test]
    fn typos_are_found_but_unrelated_names_are_not() {
        let names = ["checkpoint-pvc", "data", "logs"];
        assert_eq!(closest("checkpoint-pcv", names), Some("checkpoint-pvc"));
        assert_eq!(closest("dta", names), Some("data"));
        assert_eq!(closest("models", names), None);
        // Names no object can have are not compared (quadratic in length).
        let forged = "x".repeat(100_000);
        let near = format!("{forged}y");
        assert_eq!(closest(&forged, [near.as_str()]), None);
    }
}
