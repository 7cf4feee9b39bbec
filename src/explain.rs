//! `explain`: the runbook page of each rule (`docs/runbooks/<rule>.md`,
//! built into the binary by its rule module), and the list of rules.

use crate::rules::{self, RULES};
use anyhow::{bail, Result};

/// What `explain` prints: one rule's page, or the list of rules by id.
pub fn text(rule: Option<&str>, list: bool) -> Result<String> {
    if list || rule.is_none() {
        let mut sorted: Vec<_> = RULES.iter().collect();
        sorted.sort_by_key(|r| r.id);
        let mut out = String::new();
        for r in sorted {
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
    match rules::find(rule) {
        Some(r) => Ok(r.runbook.to_string()),
        None => {
            let close = crate::text::did_you_mean(rule, RULES.iter().map(|r| r.id));
            match close.as_slice() {
                [] => bail!(
                    "no rule {rule:?}; `kubectl storage-doctor explain --list` shows them all"
                ),
                close => bail!("no rule {rule:?}{}", crate::text::did_you_mean_text(close)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_runbook_page_with_its_sections() {
        for r in RULES {
            let text = r.runbook;
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
    }

    #[test]
    fn unknown_rule_is_an_error_and_list_names_all() {
        assert!(text(Some("nope"), false).is_err());
        let typo = text(Some("multi-atach"), false).unwrap_err().to_string();
        assert_eq!(typo, "no rule \"multi-atach\"; did you mean multi-attach?");
        let list = text(None, true).unwrap();
        assert_eq!(list.lines().count(), RULES.len());
    }
}
