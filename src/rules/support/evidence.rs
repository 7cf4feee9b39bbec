//! Evidence lines several rules quote, and how sure a rule can be when the
//! source could not read everything.

use crate::chain::{ClaimChain, PodChain};
use crate::model::Confidence;
use crate::rules::rule::Ctx;
use crate::scheduler::ReasonKind;

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
        // One gap may name several resources (`a,b`).
        .filter(|g| g.resource.split(',').any(|r| resources.contains(&r)))
        .map(|g| {
            format!(
                "{} could not be read ({}): {}",
                g.resource, g.reason, g.message
            )
        })
        .collect()
}

/// (limit, attached) of a driver on a node: its CSINode's
/// `allocatable.count` and the driver's volumes attached there.
pub fn attach_slots(ctx: &Ctx, node: &str, driver: &str) -> Option<(i32, usize)> {
    let csinode = ctx.snap.csi_node(node)?;
    let d = csinode.spec.drivers.iter().find(|d| d.name == driver)?;
    let limit = d.allocatable.as_ref()?.count?;
    let attached = ctx
        .snap
        .objects
        .attachments
        .iter()
        .filter(|va| va.spec.node_name == node && va.spec.attacher == driver)
        .filter(|va| va.status.as_ref().is_some_and(|s| s.attached))
        .count();
    Some((limit, attached))
}
