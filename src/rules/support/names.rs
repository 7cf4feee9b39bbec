//! Names rules suggest: the classes that exist, the likely typo.

use crate::snapshot::Snapshot;

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

#[cfg(test)]
mod tests {
    use super::*;

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
