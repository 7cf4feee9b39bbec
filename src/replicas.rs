//! One finding for the replicas of a workload that fail the same way: a
//! Deployment of ten pods that all miss their claim is one problem, not
//! ten. Findings are alike when their pods have the same owner, the same
//! state and the same causes once the pod's own name, ages and event
//! counts are set aside (a StatefulSet's `data-web-0` and `data-web-1`
//! differ only by the pod's name).

use crate::report::{Finding, Replicas};
use std::collections::HashMap;

/// Merges the findings of pods that `owner` gives a workload and that are
/// alike into the first of them (in report order), which then lists them
/// all. A pod alone keeps no `replicas`.
pub fn group(
    findings: Vec<Finding>,
    owner: impl Fn(&Finding) -> Option<crate::model::ObjectRef>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut first_of: HashMap<(crate::model::ObjectRef, String), usize> = HashMap::new();
    for mut f in findings {
        let Some(owner) = owner(&f) else {
            out.push(f);
            continue;
        };
        match first_of.entry((owner.clone(), likeness(&f))) {
            std::collections::hash_map::Entry::Occupied(e) => {
                let kept = &mut out[*e.get()];
                let replicas = kept.replicas.get_or_insert_with(|| Replicas {
                    owner,
                    count: 1,
                    pods: vec![kept.subject.name.clone()],
                });
                replicas.pods.push(f.subject.name);
                replicas.count = replicas.pods.len();
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                f.replicas = None;
                out.push(f);
            }
        }
    }
    out
}

/// What two findings of one workload's pods must share to be one: the
/// severity, the state and every cause, each without the pod's name, ages
/// and event counts.
fn likeness(f: &Finding) -> String {
    let pod = f.subject.name.as_str();
    let mut key = vec![
        f.severity.as_str().to_string(),
        f.status.split_whitespace().next().unwrap_or("").to_string(),
    ];
    for c in &f.causes {
        key.extend(
            [
                c.rule,
                c.link.as_str(),
                c.severity.as_str(),
                c.confidence.as_str(),
            ]
            .map(String::from),
        );
        key.extend(c.objects.iter().map(ToString::to_string));
        key.push(c.summary.clone());
        key.extend(c.evidence.iter().chain(&c.fix).cloned());
    }
    key.iter()
        .map(|text| without_ages_and_counts(&text.replace(pod, "\u{1}")))
        .collect::<Vec<_>>()
        .join("\u{0}")
}

/// The text with every age (`87s`, `9m45s`, `3h4m`) and event count
/// (`×17`) replaced by `·`.
fn without_ages_and_counts(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let core = word.trim_matches(|c: char| "\"()[],;:".contains(c));
            if !core.is_empty() && (is_age(core) || is_count(core)) {
                word.replacen(core, "·", 1)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `45s`, `12m`, `3h4m`, `5d0h`: digits and units, as ages are printed.
fn is_age(word: &str) -> bool {
    let mut digits = false;
    let mut units = 0;
    for c in word.chars() {
        match c {
            '0'..='9' => digits = true,
            's' | 'm' | 'h' | 'd' if digits => {
                digits = false;
                units += 1;
            }
            _ => return false,
        }
    }
    !digits && units > 0
}

/// `×17`: how often an event was seen.
fn is_count(word: &str) -> bool {
    word.strip_prefix('×')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_counts_are_set_aside_and_nothing_else() {
        assert_eq!(
            without_ages_and_counts(
                "event Warning X (×17, 87s ago, by y): Pending for 9m45s, 10Gi of 3h4m"
            ),
            "event Warning X (·, · ago, by y): Pending for ·, 10Gi of ·"
        );
        assert_eq!(without_ages_and_counts("web-0 ×a 5 ms"), "web-0 ×a 5 ms");
    }
}
