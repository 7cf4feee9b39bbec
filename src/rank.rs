//! Ordering: within a subject the root cause first (the cause that would
//! still block after the others were fixed), then severity, then
//! confidence; findings most urgent first.

use crate::report::{Finding, RankedCause};
use crate::rules::{self, Cause};

/// Orders a subject's causes and numbers them from 1.
pub fn order(mut causes: Vec<Cause>) -> Vec<RankedCause> {
    causes.sort_by_key(rules::rank_key);
    causes
        .into_iter()
        .enumerate()
        .map(|(i, c)| RankedCause {
            rank: i + 1,
            rule: c.rule,
            link: c.link,
            severity: c.severity,
            confidence: c.confidence,
            objects: c.objects,
            summary: c.summary,
            evidence: c.evidence,
            fix: c.fix,
        })
        .collect()
}

/// Most urgent first; then by the rank-1 rule's place in the chain; then by name.
pub fn order_findings(findings: &mut [Finding]) {
    let precedence = |f: &Finding| {
        f.causes
            .first()
            .map_or(usize::MAX, |c| rules::precedence(c.rule))
    };
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| precedence(a).cmp(&precedence(b)))
            .then_with(|| a.subject.cmp(&b.subject))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Confidence, Severity};
    use crate::rules::{
        access_mode_unsupported, provisioner_not_responding, waiting_for_first_consumer,
    };

    #[test]
    fn the_cause_that_still_blocks_after_the_others_comes_first() {
        let down = Cause::new(&provisioner_not_responding::RULE, "down");
        let mode =
            Cause::new(&access_mode_unsupported::RULE, "mode").confidence(Confidence::Medium);
        let info = Cause::new(&waiting_for_first_consumer::RULE, "wait");
        let ranked = order(vec![info, down, mode]);
        let rules: Vec<&str> = ranked.iter().map(|c| c.rule).collect();
        assert_eq!(
            rules,
            [
                "access-mode-unsupported",
                "provisioner-not-responding",
                "waiting-for-first-consumer"
            ]
        );
        assert_eq!(ranked[0].rank, 1);
        assert_eq!(ranked[2].severity, Severity::Info);
    }
}
