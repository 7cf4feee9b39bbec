//! Shared facts about a claim's resize: what was asked and what it has.

use crate::chain::ClaimChain;
use crate::quantity;

/// (requested, current capacity) when the claim asks for more than it has.
pub fn growing<'a>(c: &ClaimChain<'a>) -> Option<(&'a str, &'a str)> {
    let want = c.requested_size()?;
    let have = c
        .claim?
        .status
        .as_ref()?
        .capacity
        .as_ref()?
        .get("storage")?
        .0
        .as_str();
    (quantity::parse(want)? > quantity::parse(have)?).then_some((want, have))
}

/// A condition of the claim by type: (reason, message, age in seconds).
pub fn condition<'a>(
    c: &ClaimChain<'a>,
    type_: &str,
) -> Option<&'a k8s_openapi::api::core::v1::PersistentVolumeClaimCondition> {
    c.claim?
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|x| x.type_ == type_ && x.status == "True")
}

/// The subject pod's name, or the claim when no pod uses it.
pub fn user_or_claim(pod: Option<&crate::chain::PodChain>, c: &ClaimChain) -> String {
    match pod {
        Some(p) => format!("pod {}/{} (claim {})", p.namespace, p.name, c.name),
        None => format!("claim {}/{}", c.namespace, c.name),
    }
}
