//! The kinds a capture does not hold, as gaps: what the diagnosis could not
//! see in it.

use super::*;

/// Kinds the diagnosis needs but the capture holds none of: a capture of
/// only some kinds (cluster-info dump has no claims or classes) must not
/// read as "the claim does not exist".
pub(super) fn uncaptured(o: &Objects) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let mut gap = |kind: &kinds::Kind, why: &str| {
        let resource = kind.resource;
        gaps.push(Gap {
            resource: resource.into(),
            reason: "NotCaptured".into(),
            message: format!("the input holds no {resource}, although {why}"),
        })
    };
    let pods_use_claims = o
        .pods
        .iter()
        .any(|p| !crate::snapshot::claim_names(p).is_empty());
    if o.claims.is_empty() && pods_use_claims {
        gap(&kinds::PERSISTENT_VOLUME_CLAIM, "pods use claims");
    }
    let claims_bound = o.claims.iter().any(|c| {
        c.spec
            .as_ref()
            .and_then(|s| s.volume_name.as_ref())
            .is_some()
    });
    if o.volumes.is_empty() && claims_bound {
        gap(&kinds::PERSISTENT_VOLUME, "claims are bound to volumes");
    }
    let classes_named = o.claims.iter().any(|c| {
        c.spec
            .as_ref()
            .and_then(|s| s.storage_class_name.as_deref())
            .is_some_and(|n| !n.is_empty())
    });
    if o.classes.is_empty() && classes_named {
        gap(&kinds::STORAGE_CLASS, "claims name storage classes");
    }
    let pods_scheduled = o
        .pods
        .iter()
        .any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some());
    let local_volumes = o.volumes.iter().any(|v| {
        v.spec
            .as_ref()
            .and_then(|s| s.node_affinity.as_ref())
            .is_some()
    });
    if o.nodes.is_empty() && (pods_scheduled || local_volumes) {
        gap(&kinds::NODE, "pods or volumes refer to nodes");
    }
    let restores = o
        .claims
        .iter()
        .any(|c| crate::snapshot::data_source_of(c).is_some_and(|d| d.is_snapshot()));
    if o.snapshots.is_empty() && restores {
        gap(
            &kinds::VOLUME_SNAPSHOT,
            "claims are restored from snapshots",
        );
    }
    let bound_contents = o.snapshots.iter().any(|s| {
        s.status
            .as_ref()
            .and_then(|s| s.bound_volume_snapshot_content_name.as_ref())
            .is_some()
    });
    if o.snapshot_contents.is_empty() && bound_contents {
        gap(
            &kinds::VOLUME_SNAPSHOT_CONTENT,
            "snapshots are bound to contents",
        );
    }
    let populated = o
        .claims
        .iter()
        .any(|c| crate::snapshot::data_source_of(c).is_some_and(|d| d.is_populated()));
    if o.populators.is_empty() && populated {
        gap(
            &kinds::VOLUME_POPULATOR,
            "claims are filled by volume populators",
        );
    }
    if o.events.is_empty() {
        gap(
            &kinds::EVENT,
            "events are the corroborating evidence (the diagnosis uses object state only)",
        );
    }
    gaps
}
