//! Rules: pure functions from a resolved chain to causes, one module per
//! rule id of the failure catalog. [`RULES`] is the registry: every rule, in
//! the order causes rank.

pub mod rule;
pub mod support;

pub mod access_mode_unsupported;
pub mod attach_failed;
pub mod claim_create_refused;
pub mod claim_lost;
pub mod claim_misbound;
pub mod claim_not_found;
pub mod claim_terminating;
pub mod csi_controller_unhealthy;
pub mod csi_driver_not_registered;
pub mod csi_node_plugin_unhealthy;
pub mod csidriver_missing;
pub mod data_source_incompatible;
pub mod data_source_not_found;
pub mod ephemeral_claim_not_owned;
pub mod ephemeral_storage_exhausted;
pub mod expansion_failed;
pub mod expansion_not_allowed;
pub mod filesystem_resize_pending;
pub mod fsgroup_slow_mount;
pub mod in_tree_driver_missing;
pub mod insufficient_capacity;
pub mod modify_volume_failed;
pub mod mount_failed;
pub mod multi_attach;
pub mod multiple_default_storageclasses;
pub mod no_matching_pv;
pub mod no_storageclass_no_pv;
pub mod node_volume_limit;
pub mod not_storage;
pub mod pod_create_refused;
pub mod pod_stuck_terminating;
pub mod populator_missing;
pub mod provisioner_not_responding;
pub mod provisioning_failed;
pub mod pv_reclaim_failed;
pub mod pv_released_retained;
pub mod rwop_conflict;
pub mod snapshot_not_ready;
pub mod storage_quota_exceeded;
pub mod storage_unexplained;
pub mod storageclass_not_found;
pub mod subpath_failed;
pub mod topology_mismatch;
pub mod volume_full;
pub mod volume_held_by_lost_node;
pub mod volume_io_error;
pub mod volume_mismatch;
pub mod volume_node_affinity_conflict;
pub mod volume_node_unavailable;
pub mod volume_permission_denied;
pub mod volume_source_missing;
pub mod waiting_for_first_consumer;
pub mod wffc_node_name_bypass;

pub use rule::{Cause, Check, Ctx, Rule};

use crate::chain::Chain;
use crate::events::{EventFilter, FLOW_ENDINGS};
use crate::model::{Confidence, Severity};
use std::cmp::Reverse;

/// Every rule, the root cause first: when several causes block one chain,
/// the cause that would still block after the others were fixed comes
/// before them.
pub const RULES: &[&Rule] = &[
    &claim_lost::RULE,
    &storage_quota_exceeded::RULE,
    &claim_create_refused::RULE,
    &pod_create_refused::RULE,
    &claim_not_found::RULE,
    &ephemeral_claim_not_owned::RULE,
    &claim_terminating::RULE,
    &claim_misbound::RULE,
    &pv_released_retained::RULE,
    &volume_mismatch::RULE,
    &storageclass_not_found::RULE,
    &wffc_node_name_bypass::RULE,
    &no_storageclass_no_pv::RULE,
    &access_mode_unsupported::RULE,
    &no_matching_pv::RULE,
    &volume_node_unavailable::RULE,
    &topology_mismatch::RULE,
    &volume_node_affinity_conflict::RULE,
    &insufficient_capacity::RULE,
    &node_volume_limit::RULE,
    &rwop_conflict::RULE,
    &data_source_not_found::RULE,
    &snapshot_not_ready::RULE,
    &data_source_incompatible::RULE,
    &populator_missing::RULE,
    &provisioning_failed::RULE,
    &in_tree_driver_missing::RULE,
    // The driver's own pods, before the waits they explain.
    &csi_controller_unhealthy::RULE,
    &csi_node_plugin_unhealthy::RULE,
    &provisioner_not_responding::RULE,
    &csi_driver_not_registered::RULE,
    &volume_held_by_lost_node::RULE,
    &pod_stuck_terminating::RULE,
    &multi_attach::RULE,
    &attach_failed::RULE,
    &volume_source_missing::RULE,
    &mount_failed::RULE,
    &subpath_failed::RULE,
    &expansion_failed::RULE,
    &modify_volume_failed::RULE,
    &pv_reclaim_failed::RULE,
    &expansion_not_allowed::RULE,
    &multiple_default_storageclasses::RULE,
    &filesystem_resize_pending::RULE,
    &waiting_for_first_consumer::RULE,
    &volume_permission_denied::RULE,
    &ephemeral_storage_exhausted::RULE,
    &volume_full::RULE,
    &volume_io_error::RULE,
    &fsgroup_slow_mount::RULE,
    &not_storage::RULE,
    &csidriver_missing::RULE,
    &storage_unexplained::RULE,
];

/// Runs every rule on a chain. Fallback rules run only when nothing else
/// explained the subject.
pub fn diagnose(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let mut causes: Vec<Cause> = RULES
        .iter()
        .filter(|r| !r.check.is_fallback())
        .flat_map(|r| r.check.run(ctx, chain))
        .collect();
    if causes.is_empty() {
        causes = RULES
            .iter()
            .filter(|r| r.check.is_fallback())
            .flat_map(|r| r.check.run(ctx, chain))
            .take(1)
            .collect();
    }
    // "Normal waiting" is no comfort next to a real fault in the same chain.
    if causes.iter().any(|c| c.severity > Severity::Info) {
        causes.retain(|c| c.severity > Severity::Info);
    }
    fold_symptoms(causes)
}

/// A symptom next to a cause of the same severity or worse is not a cause
/// of its own: its first evidence (the kubelet's event) joins the cause
/// that ranks first.
fn fold_symptoms(causes: Vec<Cause>) -> Vec<Cause> {
    let (symptoms, mut kept): (Vec<_>, Vec<_>) = causes.into_iter().partition(|c| c.symptom);
    let worst_symptom = symptoms.iter().map(|c| c.severity).max();
    let Some(top) = worst_symptom.and_then(|worst| {
        kept.iter_mut()
            .filter(|c| c.severity >= worst)
            .min_by_key(|c| rank_key(c))
    }) else {
        kept.extend(symptoms);
        return kept;
    };
    for line in symptoms
        .into_iter()
        .filter_map(|s| s.evidence.into_iter().next())
    {
        if !top.evidence.contains(&line) {
            top.evidence.push(line);
        }
    }
    kept
}

/// How a subject's causes are ordered: most severe first, then by the
/// rule's place in the chain (the cause that would still block after the
/// others were fixed), then most confident.
pub fn rank_key(c: &Cause) -> (Reverse<Severity>, usize, Reverse<Confidence>) {
    (
        Reverse(c.severity),
        precedence(c.rule),
        Reverse(c.confidence),
    )
}

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// Where a rule's causes rank: its place in [`RULES`]; unknown ids last.
pub fn precedence(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or(RULES.len())
}

/// The events a diagnosis reads: every Warning, the Normal events the
/// rules declare, and those that end a failure's flow. A rule that reads a
/// new Normal reason declares it and the scan reads it.
pub fn event_filter() -> EventFilter {
    EventFilter::new(
        RULES
            .iter()
            .flat_map(|r| r.normal_events.iter().copied())
            .chain(FLOW_ENDINGS.iter().copied()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_filter_reads_what_rules_and_flows_need() {
        let filter = event_filter();
        let normal = |kind: &str, reason: &str| {
            let mut e = crate::api::Event {
                reason: Some(reason.to_string()),
                type_: Some("Normal".to_string()),
                ..Default::default()
            };
            e.involved_object.kind = Some(kind.to_string());
            e
        };
        let claim = "PersistentVolumeClaim";
        for (kind, reason) in [
            (claim, "WaitForFirstConsumer"),
            (claim, "ExternalProvisioning"),
            (claim, "FailedBinding"),
            (claim, "ProvisioningSucceeded"),
            ("Pod", "Scheduled"),
            ("Pod", "SuccessfulAttachVolume"),
            ("ReplicaSet", "SuccessfulCreate"),
            ("VolumeSnapshot", "SnapshotCreated"),
        ] {
            assert!(filter.keeps(&normal(kind, reason)), "{kind} {reason}");
        }
        for (kind, reason) in [("Pod", "Pulled"), ("Pod", "Started"), (claim, "Pulled")] {
            assert!(!filter.keeps(&normal(kind, reason)), "{kind} {reason}");
        }
        // No noise reason the server leaves out is one a rule reads.
        let normal = &filter.field_selector();
        for w in RULES
            .iter()
            .flat_map(|r| r.normal_events)
            .chain(FLOW_ENDINGS)
        {
            if let Some(reason) = w.reason() {
                assert!(!normal.contains(&format!("reason!={reason},")), "{reason}");
                assert!(!normal.ends_with(&format!("reason!={reason}")), "{reason}");
            }
        }
    }

    #[test]
    fn rule_ids_are_unique_and_name_their_runbook_page() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for r in RULES {
            assert!(r.runbook.starts_with(&format!("# {}\n", r.id)), "{}", r.id);
        }
    }
}
