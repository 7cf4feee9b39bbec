//! Arbitrary text as the scheduler's message (a FailedScheduling event or
//! the PodScheduled condition): parsed into reasons, never a panic, and
//! everything the verdict quotes comes from the message.

#![no_main]

use kubectl_storage_doctor::scheduler::{self, ReasonKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let verdict = scheduler::parse(text);
    assert_eq!(verdict.message, text.trim());
    assert_eq!(
        verdict.storage_reasons().count() + verdict.other_reasons().count(),
        verdict.reasons.len()
    );
    for reason in &verdict.reasons {
        assert!(verdict.message.contains(&reason.text), "{reason:?}");
        match &reason.kind {
            ReasonKind::ClaimNotFound(claim)
            | ReasonKind::ClaimBeingDeleted(claim)
            | ReasonKind::EphemeralClaimNotCreated(claim) => {
                assert!(reason.text.contains(claim.as_str()), "{reason:?}");
            }
            _ => {}
        }
    }
});
