//! In-tree volume plugins that CSI migration hands to a CSI driver, and how
//! each driver is installed.

use crate::api::Event;
use crate::chain::ClaimChain;
use crate::events::{self, Timeline};
use crate::rules::rule::Ctx;

pub use crate::csi_migration::{install_hint, migrated_driver};

/// The provisioner an `ExternalProvisioning` event waits for:
/// `... external provisioner 'x' ...` (1.28+) or `"x"` (older).
fn waited_for(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("external provisioner ")?;
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[quote.len_utf8()..];
    let end = rest.find(quote)?;
    Some(&rest[..end]).filter(|s| !s.is_empty())
}

/// A pending claim of a migrated in-tree class, handed to a CSI driver
/// that is not installed.
pub struct Handed<'a> {
    pub driver: &'a str,
    /// What says the claim was handed over.
    pub source: &'static str,
    pub event: Option<&'a Event>,
}

/// The CSI driver a pending claim of an in-tree class was handed to, when
/// no CSIDriver object and no CSINode shows it installed. State first (the
/// PV controller's annotations), then the `ExternalProvisioning` event.
pub fn handed_to_missing_driver<'b>(ctx: &Ctx, c: &'b ClaimChain) -> Option<Handed<'b>> {
    let class = c.class?;
    let in_tree = class.provisioner.as_str();
    migrated_driver(in_tree)?;
    if !c.is_pending() || c.volume.is_some() || c.pre_bound().is_some() {
        return None;
    }
    let timeline = Timeline::new(&c.events);
    // The driver answered: it is installed, and other rules read what it said.
    if timeline.current("ProvisioningFailed").is_some() || timeline.latest("Provisioning").is_some()
    {
        return None;
    }
    let annotated = c
        .storage_provisioner()
        .filter(|p| *p != in_tree)
        .map(|p| (p, "annotation volume.kubernetes.io/storage-provisioner"))
        .or_else(|| {
            c.annotation("pv.kubernetes.io/migrated-to")
                .filter(|p| !p.is_empty())
                .map(|p| (p, "annotation pv.kubernetes.io/migrated-to"))
        });
    let event = timeline
        .current_all("ExternalProvisioning")
        .find(|e| waited_for(events::message(e)).is_some_and(|p| p != in_tree));
    let (driver, source) = match (annotated, event) {
        (Some(a), _) => a,
        (None, Some(e)) => (
            waited_for(events::message(e))?,
            "the ExternalProvisioning event",
        ),
        (None, None) => return None,
    };
    if ctx.snap.csi_driver(driver).is_some() {
        return None;
    }
    let registered = ctx
        .snap
        .objects
        .csi_nodes
        .iter()
        .any(|n| n.spec.drivers.iter().any(|d| d.name == driver));
    (!registered).then_some(Handed {
        driver,
        source,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waited_for_reads_both_quotes() {
        assert_eq!(
            waited_for("by the external provisioner 'a.b' or"),
            Some("a.b")
        );
        assert_eq!(
            waited_for("by external provisioner \"c.d\" or"),
            Some("c.d")
        );
        assert_eq!(waited_for("by external provisioner x"), None);
        assert_eq!(waited_for("external provisioner '"), None);
    }
}
