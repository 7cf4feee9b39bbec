//! Findings by subject and their rank-1 causes.

use serde_json::Value;
use std::collections::BTreeMap;

/// `Kind/namespace/name`, or `Kind/name` for a subject without a namespace.
pub fn subject_key(subject: &Value) -> String {
    let kind = subject["kind"].as_str().unwrap_or("");
    let name = subject["name"].as_str().unwrap_or("");
    match subject["namespace"].as_str() {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// The rule of a finding's rank-1 cause, `""` when it has none.
pub fn rank_one_rule(finding: &Value) -> &str {
    finding["causes"][0]["rule"].as_str().unwrap_or("")
}

/// The rule of the first finding's rank-1 cause.
pub fn first_rank_one(report: &Value) -> Option<&str> {
    report["findings"][0]["causes"][0]["rule"].as_str()
}

/// The rank-1 rule and severity of each finding, by `Kind/namespace/name`.
pub fn rank_one(report: &Value) -> BTreeMap<String, (String, String)> {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let rule = rank_one_rule(f).to_string();
            let severity = f["severity"].as_str().unwrap_or("").to_string();
            (subject_key(&f["subject"]), (rule, severity))
        })
        .collect()
}
