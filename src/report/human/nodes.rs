//! The per-node view of a pod that waits for the scheduler, as `-o wide`
//! shows it: one line per group of identical nodes.

use crate::report::NodeRow;

/// `worker-1 (+2: worker-3, worker-4): volumes do not allow (volume pv-1
/// needs ...); ruled out by: ...`.
pub fn node_line(n: &NodeRow) -> String {
    let mut who = n.name.clone();
    if n.count > 1 {
        who.push_str(&format!(" (+{}", n.count - 1));
        if !n.others.is_empty() {
            who.push_str(&format!(": {}", n.others.join(", ")));
            if n.count - 1 > n.others.len() {
                who.push_str(", …");
            }
        }
        who.push(')');
    }
    let volumes = if n.volumes_allow {
        "volumes allow".to_string()
    } else {
        format!("volumes do not allow ({})", n.volume_reasons.join("; "))
    };
    if n.ruled_out_by.is_empty() {
        format!("{who}: {volumes}")
    } else {
        format!(
            "{who}: {volumes}; ruled out by: {}",
            n.ruled_out_by.join("; ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_names_its_count_and_samples() {
        let row = NodeRow {
            name: "a".into(),
            count: 4,
            others: vec!["b".into(), "c".into()],
            volumes_allow: false,
            volume_reasons: vec!["volume pv-1 needs zone in [z]".into()],
            ruled_out_by: vec![],
        };
        assert_eq!(
            node_line(&row),
            "a (+3: b, c, …): volumes do not allow (volume pv-1 needs zone in [z])"
        );
        let one = NodeRow {
            name: "d".into(),
            count: 1,
            others: vec![],
            volumes_allow: true,
            volume_reasons: vec![],
            ruled_out_by: vec!["it is NotReady".into()],
        };
        assert_eq!(
            node_line(&one),
            "d: volumes allow; ruled out by: it is NotReady"
        );
    }
}
