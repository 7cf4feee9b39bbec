//! `explain`: the runbook page of each rule (`docs/runbooks/<rule>.md`,
//! built into the binary), and the list of rules.

use crate::rules::{self, RULES};
use anyhow::{bail, Result};

/// The runbook page of every rule, by id.
const PAGES: &[(&str, &str)] = &[
    (
        "claim-not-found",
        include_str!("../../docs/runbooks/claim-not-found.md"),
    ),
    (
        "claim-terminating",
        include_str!("../../docs/runbooks/claim-terminating.md"),
    ),
    (
        "claim-lost",
        include_str!("../../docs/runbooks/claim-lost.md"),
    ),
    (
        "claim-misbound",
        include_str!("../../docs/runbooks/claim-misbound.md"),
    ),
    (
        "storageclass-not-found",
        include_str!("../../docs/runbooks/storageclass-not-found.md"),
    ),
    (
        "no-storageclass-no-pv",
        include_str!("../../docs/runbooks/no-storageclass-no-pv.md"),
    ),
    (
        "multiple-default-storageclasses",
        include_str!("../../docs/runbooks/multiple-default-storageclasses.md"),
    ),
    (
        "access-mode-unsupported",
        include_str!("../../docs/runbooks/access-mode-unsupported.md"),
    ),
    (
        "provisioner-not-responding",
        include_str!("../../docs/runbooks/provisioner-not-responding.md"),
    ),
    (
        "provisioning-failed",
        include_str!("../../docs/runbooks/provisioning-failed.md"),
    ),
    (
        "no-matching-pv",
        include_str!("../../docs/runbooks/no-matching-pv.md"),
    ),
    (
        "waiting-for-first-consumer",
        include_str!("../../docs/runbooks/waiting-for-first-consumer.md"),
    ),
    (
        "wffc-node-name-bypass",
        include_str!("../../docs/runbooks/wffc-node-name-bypass.md"),
    ),
    (
        "storage-quota-exceeded",
        include_str!("../../docs/runbooks/storage-quota-exceeded.md"),
    ),
    (
        "volume-mismatch",
        include_str!("../../docs/runbooks/volume-mismatch.md"),
    ),
    (
        "pv-released-retained",
        include_str!("../../docs/runbooks/pv-released-retained.md"),
    ),
    (
        "pv-reclaim-failed",
        include_str!("../../docs/runbooks/pv-reclaim-failed.md"),
    ),
    (
        "volume-node-affinity-conflict",
        include_str!("../../docs/runbooks/volume-node-affinity-conflict.md"),
    ),
    (
        "topology-mismatch",
        include_str!("../../docs/runbooks/topology-mismatch.md"),
    ),
    (
        "insufficient-capacity",
        include_str!("../../docs/runbooks/insufficient-capacity.md"),
    ),
    (
        "node-volume-limit",
        include_str!("../../docs/runbooks/node-volume-limit.md"),
    ),
    (
        "rwop-conflict",
        include_str!("../../docs/runbooks/rwop-conflict.md"),
    ),
    (
        "multi-attach",
        include_str!("../../docs/runbooks/multi-attach.md"),
    ),
    (
        "attach-failed",
        include_str!("../../docs/runbooks/attach-failed.md"),
    ),
    (
        "csi-driver-not-registered",
        include_str!("../../docs/runbooks/csi-driver-not-registered.md"),
    ),
    (
        "csidriver-missing",
        include_str!("../../docs/runbooks/csidriver-missing.md"),
    ),
    (
        "mount-failed",
        include_str!("../../docs/runbooks/mount-failed.md"),
    ),
    (
        "expansion-not-allowed",
        include_str!("../../docs/runbooks/expansion-not-allowed.md"),
    ),
    (
        "expansion-failed",
        include_str!("../../docs/runbooks/expansion-failed.md"),
    ),
    (
        "filesystem-resize-pending",
        include_str!("../../docs/runbooks/filesystem-resize-pending.md"),
    ),
    (
        "modify-volume-failed",
        include_str!("../../docs/runbooks/modify-volume-failed.md"),
    ),
    (
        "not-storage",
        include_str!("../../docs/runbooks/not-storage.md"),
    ),
    (
        "storage-unexplained",
        include_str!("../../docs/runbooks/storage-unexplained.md"),
    ),
];

/// The page of one rule.
pub fn page(rule: &str) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|(id, _)| *id == rule)
        .map(|(_, text)| *text)
}

/// What `explain` prints: one rule's page, or the list of rules.
pub fn text(rule: Option<&str>, list: bool) -> Result<String> {
    if list || rule.is_none() {
        let mut out = String::new();
        for r in RULES {
            out.push_str(&format!(
                "{:<34} {:<8} {}\n",
                r.id,
                r.severity.as_str(),
                r.title
            ));
        }
        return Ok(out);
    }
    let rule = rule.unwrap_or_default();
    match (page(rule), rules::find(rule)) {
        (Some(text), Some(_)) => Ok(text.to_string()),
        _ => bail!("no rule {rule:?}; `kubectl storage-doctor explain --list` shows them all"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_runbook_page_with_its_sections() {
        for r in RULES {
            let text = page(r.id).unwrap_or_else(|| panic!("no page for {}", r.id));
            assert!(text.starts_with(&format!("# {}\n", r.id)), "{}", r.id);
            for section in [
                "## How it shows",
                "## Confirm by hand",
                "## Fix",
                "## Data risk",
            ] {
                assert!(text.contains(section), "{} lacks {section}", r.id);
            }
        }
        assert_eq!(PAGES.len(), RULES.len());
    }

    #[test]
    fn unknown_rule_is_an_error_and_list_names_all() {
        assert!(text(Some("nope"), false).is_err());
        let list = text(None, true).unwrap();
        assert_eq!(list.lines().count(), RULES.len());
    }
}
