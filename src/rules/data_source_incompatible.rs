//! `data-source-incompatible`: the source exists but cannot become this
//! claim: the claim asks for less than the snapshot's restoreSize or the
//! source claim's size, another volumeMode, or another class or driver.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::data_source::{failure_saying, waiting_source};
use super::support::evidence::claim_state_line;
use crate::chain::{ClaimChain, PodChain};
use crate::events;
use crate::events::NormalEvent;
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::quantity;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;

pub const RULE: Rule = Rule {
    id: "data-source-incompatible",
    title: "the claim's data source cannot become this claim (size, volume mode, class or driver)",
    severity: Severity::Error,
    link: Link::ClaimToSource,
    check: Check::Claim(check),
    normal_events: &[NormalEvent::all_about("VolumeSnapshot")],
    runbook: include_str!("../../docs/runbooks/data-source-incompatible.md"),
};

/// The provisioner's words for each mismatch, newest and older releases.
const SIZE_WORDINGS: &[&str] = &[
    "is less than the size",
    "must be greater than or equal in size",
];
const MODE_WORDINGS: &[&str] = &[
    "must have the same volume mode",
    "modifies the mode of the source volume",
];
const CLASS_WORDINGS: &[&str] = &[
    "must be in the same storage class",
    "storageclass cannot be empty",
];
/// external-provisioner's refusals for a driver without the capability.
const RESTORE_WORDINGS: &[&str] = &[
    "does not support snapshot restore",
    "CREATE_DELETE_SNAPSHOT capability is not reported",
];
const CLONE_WORDINGS: &[&str] = &[
    "does not support clone operations",
    "CLONE_VOLUME capability is not reported",
];

fn gib(bytes: f64) -> String {
    let g = bytes / (1024.0 * 1024.0 * 1024.0);
    if g >= 1.0 && (g - g.round()).abs() < 1e-9 {
        format!("{}Gi", g.round())
    } else {
        format!("{bytes} bytes")
    }
}

/// The error without external-provisioner's `error getting handle for
/// DataSource Type X by Name y: ` wrapper.
fn inner_error(m: &str) -> &str {
    match m.strip_prefix("error getting handle for DataSource Type ") {
        Some(rest) => rest.split_once(": ").map_or(m, |(_, inner)| inner),
        None => m,
    }
}

fn claim_size(c: &PersistentVolumeClaim) -> Option<f64> {
    let status = c
        .status
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|m| m.get("storage"));
    let request = c
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"));
    quantity::bytes(status).or_else(|| quantity::bytes(request))
}

fn claim_mode(c: &PersistentVolumeClaim) -> &str {
    c.spec
        .as_ref()
        .and_then(|s| s.volume_mode.as_deref())
        .unwrap_or("Filesystem")
}

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let src = waiting_source(c)?;
    let s = &src.source;
    if s.is_populated() {
        return None;
    }
    let ns = c.namespace;
    let requested = c.requested_size().and_then(quantity::parse);
    let mode = c.volume_mode();
    let mut problems: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    let mut objects = vec![ObjectRef::namespaced(s.kind, src.namespace, s.name)];
    let recreate = format!(
        "spec.dataSource and the size of a Pending claim are best changed by recreating it: {k} get pvc {n} -o yaml > pvc.yaml, edit, {k} delete pvc {n}, then apply (a Pending claim holds no data)",
        k = kubectl_ns(ns),
        n = c.name
    );
    // Class of the new claim, and its driver.
    let driver = c.class.map(|sc| sc.provisioner.as_str());
    let unable = driver.and_then(|d| unable(ctx, c, d));
    if let Some(vs) = src.snapshot {
        let restore = vs
            .restore_size()
            .or_else(|| src.content.and_then(|ct| ct.restore_size()));
        if let (Some(req), Some(size)) = (requested, restore) {
            if req + 0.5 < size {
                problems.push(format!(
                    "it requests {} but VolumeSnapshot {} has restoreSize {}",
                    c.requested_size().unwrap_or("?"),
                    s.name,
                    gib(size)
                ));
                fixes.push(format!("request at least the snapshot's restoreSize ({}) in spec.resources.requests.storage", gib(size)));
            }
        }
        if let Some(source_mode) = src.content.and_then(|ct| ct.source_volume_mode()) {
            let allowed = src
                .content
                .and_then(|ct| ct.metadata.annotations.as_ref())
                .and_then(|a| a.get("snapshot.storage.kubernetes.io/allow-volume-mode-change"))
                .is_some_and(|v| v == "true");
            if source_mode != mode && !allowed {
                problems.push(format!(
                    "it asks for volumeMode {mode}, but the snapshot was taken of a {source_mode} volume"
                ));
                fixes.push(format!("use volumeMode {source_mode} in the claim; converting the mode needs the annotation snapshot.storage.kubernetes.io/allow-volume-mode-change: \"true\" on VolumeSnapshotContent {} (set by an administrator who trusts the data)", src.content.and_then(|ct| ct.metadata.name.as_deref()).unwrap_or("")));
            }
        }
        if let (Some(d), Some(sd)) = (driver, src.content.and_then(|ct| ct.driver())) {
            if d != sd {
                problems.push(format!(
                    "the snapshot belongs to driver {sd}, but StorageClass \"{}\" provisions with {d}",
                    c.class_name().unwrap_or("")
                ));
                fixes.push(format!("restore with a StorageClass whose provisioner is {sd}: kubectl get sc -o custom-columns=NAME:.metadata.name,PROVISIONER:.provisioner"));
            }
        }
    } else if let Some(source) = src.claim {
        if let (Some(req), Some(size)) = (requested, claim_size(source)) {
            if req + 0.5 < size {
                problems.push(format!(
                    "it requests {} but its source claim {} is {}",
                    c.requested_size().unwrap_or("?"),
                    s.name,
                    gib(size)
                ));
                fixes.push(format!(
                    "request at least the source claim's size ({}) in spec.resources.requests.storage",
                    gib(size)
                ));
            }
        }
        let source_mode = claim_mode(source);
        if source_mode != mode {
            problems.push(format!(
                "it asks for volumeMode {mode}, but its source claim {} is {source_mode}",
                s.name
            ));
            fixes.push(format!("use volumeMode {source_mode} in the clone"));
        }
        let source_class = source
            .spec
            .as_ref()
            .and_then(|sp| sp.storage_class_name.as_deref());
        let source_driver = source_class
            .and_then(|n| ctx.snap.class(n))
            .map(|sc| sc.provisioner.as_str());
        if let (Some(d), Some(sd)) = (driver, source_driver) {
            if d != sd {
                problems.push(format!(
                    "a clone must use the source's CSI driver: source claim {} is provisioned by {sd} (class {}), the clone's class \"{}\" by {d}",
                    s.name,
                    source_class.unwrap_or(""),
                    c.class_name().unwrap_or("")
                ));
                fixes.push(format!("clone with the source's class (storageClassName: {}), or copy the data instead (a snapshot cannot cross drivers either)", source_class.unwrap_or("")));
                if let Some(sc) = source_class {
                    objects.push(ObjectRef::class(sc));
                }
            }
        }
    }
    let event = failure_saying(c, RESTORE_WORDINGS)
        .or_else(|| failure_saying(c, CLONE_WORDINGS))
        .or_else(|| failure_saying(c, SIZE_WORDINGS))
        .or_else(|| failure_saying(c, MODE_WORDINGS))
        .or_else(|| failure_saying(c, CLASS_WORDINGS));
    // The driver table's verdict leads, unless the provisioner's own words
    // name another reason: they are newer than any table.
    let names_other = event.is_some_and(|e| {
        let m = events::message(e);
        ![RESTORE_WORDINGS, CLONE_WORDINGS]
            .iter()
            .any(|ws| ws.iter().any(|w| m.contains(w)))
    });
    let (mut later, mut later_fixes) = (Vec::new(), Vec::new());
    if let Some((problem, fix)) = unable {
        if names_other {
            later.push(problem);
            later_fixes = fix;
        } else {
            problems.insert(0, problem);
            fixes.splice(0..0, fix);
        }
    }
    if problems.is_empty() && event.is_none() {
        return None;
    }
    if problems.is_empty() {
        let m = event.map(events::message).unwrap_or("");
        if RESTORE_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push(format!(
                "the driver of StorageClass \"{}\" cannot restore snapshots: {}",
                c.class_name().unwrap_or(""),
                other_way(ctx, Capability::Snapshot)
            ));
        } else if CLONE_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push(format!(
                "the driver of StorageClass \"{}\" cannot clone volumes: {}",
                c.class_name().unwrap_or(""),
                other_way(ctx, Capability::Clone)
            ));
        } else if CLASS_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push("this provisioner release clones only within one StorageClass: clone with the source claim's storageClassName (newer external-provisioner releases allow any class of the same driver)".to_string());
        } else if MODE_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push("use the source's volumeMode in the claim".to_string());
        } else {
            fixes.push(
                "request at least the source's size in spec.resources.requests.storage".to_string(),
            );
        }
    }
    fixes.extend(later_fixes);
    let what = s.describe();
    let summary = match problems.first() {
        Some(p) => format!("claim {ns}/{} cannot be filled from {what}: {p}", c.name),
        None => format!(
            "claim {ns}/{} cannot be filled from {what}: {}",
            c.name,
            super::support::provisioner_errors::brief(inner_error(
                super::support::provisioner_errors::underlying(
                    event.map(events::message).unwrap_or("")
                )
            ))
        ),
    };
    let mut cause = Cause::new(&RULE, summary)
        .object(c.object())
        .evidence(claim_state_line(ctx, c));
    for o in objects {
        cause = cause.object(o);
    }
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    } else {
        cause = cause.confidence(Confidence::Medium);
    }
    cause = cause.evidence_all(problems.iter().skip(1).chain(&later).cloned());
    for f in fixes {
        cause = cause.fix(f);
    }
    Some(cause.fix(recreate))
}

#[derive(Clone, Copy)]
enum Capability {
    Snapshot,
    Clone,
}

/// Whether a driver can do it: the driver table, else for snapshots
/// whether any VolumeSnapshotClass names it; `None`: unknown.
fn can(ctx: &Ctx, driver: &str, what: Capability) -> Option<bool> {
    let known = ctx.drivers.get(driver).and_then(|d| match what {
        Capability::Snapshot => d.snapshot,
        Capability::Clone => d.clone,
    });
    let has_class = matches!(what, Capability::Snapshot)
        && ctx
            .snap
            .objects
            .snapshot_classes
            .iter()
            .any(|vsc| vsc.driver == driver);
    known.or(has_class.then_some(true))
}

/// The classes whose driver can do it, and the other way to get the data.
fn other_way(ctx: &Ctx, what: Capability) -> String {
    let mut able: Vec<&str> = ctx
        .snap
        .objects
        .classes
        .iter()
        .filter(|sc| can(ctx, &sc.provisioner, what) == Some(true))
        .filter_map(|sc| sc.metadata.name.as_deref())
        .collect();
    able.sort_unstable();
    let (verb, job) = match what {
        Capability::Snapshot => ("restore snapshots", "restore"),
        Capability::Clone => ("clone", "clone"),
    };
    let classes = match able.as_slice() {
        [] => format!("use a StorageClass whose driver can {verb} (none of this cluster's classes is known to)"),
        some => format!("use a StorageClass whose driver can {verb} ({})", some.iter().take(3).copied().collect::<Vec<_>>().join(", ")),
    };
    format!("{classes}, or copy the data another way instead of a {job}: a Job that mounts the source and the new claim and copies with rsync or tar, or a backup tool's file-level restore")
}

/// A restore or a clone asked of a driver that cannot do it: known from the
/// driver table, or for a restore from state (no VolumeSnapshotClass names
/// the driver, and the restore has waited past the grace period).
fn unable(ctx: &Ctx, c: &ClaimChain, driver: &str) -> Option<(String, Vec<String>)> {
    let src = c.source.as_ref()?;
    let class = c.class_name().unwrap_or("");
    if src.source.is_snapshot() {
        let table = ctx.drivers.get(driver).and_then(|d| d.snapshot);
        let problem = match table {
            Some(false) => format!("StorageClass \"{class}\" provisions with {driver}, which cannot restore from snapshots (driver table)"),
            Some(true) => return None,
            None => {
                let no_class = ctx.snap.has("volumesnapshotclasses")
                    && !ctx.snap.objects.snapshot_classes.iter().any(|vsc| vsc.driver == driver);
                // Only a restore the provisioner was asked for and that
                // still waits, from a snapshot that is ready.
                let asked = !c.is_wait_for_first_consumer()
                    || c.annotation("volume.kubernetes.io/selected-node").is_some();
                let waited = c
                    .claim
                    .and_then(|x| x.metadata.creation_timestamp.as_ref())
                    .is_some_and(|t| ctx.snap.now.duration_since(t.0).as_secs() > RESTORE_GRACE_SECONDS);
                let ready = src.snapshot.is_some_and(|vs| vs.ready() == Some(true));
                // The provisioner took the claim up and never finished:
                // not a provisioner that is down.
                let timeline = crate::events::Timeline::new(&c.events);
                let tried = timeline.latest("Provisioning").is_some()
                    && timeline.latest("ProvisioningSucceeded").is_none();
                if !(no_class && asked && waited && ready && tried) {
                    return None;
                }
                format!("no VolumeSnapshotClass names {driver}, the driver of StorageClass \"{class}\": snapshots are not set up for it on this cluster, and the restore into it waits")
            }
        };
        return Some((problem, vec![other_way(ctx, Capability::Snapshot)]));
    }
    if !src.source.is_claim() || ctx.drivers.get(driver).and_then(|d| d.clone) != Some(false) {
        return None;
    }
    let mut fixes = Vec::new();
    if can(ctx, driver, Capability::Snapshot) == Some(true) {
        fixes.push(format!("{driver} can snapshot but not clone: take a VolumeSnapshot of claim {} and restore this claim from it (dataSource kind VolumeSnapshot, apiGroup snapshot.storage.k8s.io)", src.source.name));
    }
    fixes.push(other_way(ctx, Capability::Clone));
    Some((
        format!("StorageClass \"{class}\" provisions with {driver}, which cannot clone volumes (driver table)"),
        fixes,
    ))
}

/// How long a restore may take before a driver without snapshot classes is
/// named as the reason.
const RESTORE_GRACE_SECONDS: i64 = 5 * 60;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn a_restore_smaller_than_the_snapshot() {
        let mut vs = volume_snapshot("nightly", true);
        vs.status.as_mut().unwrap().restore_size = Some(serde_json::json!("100Gi"));
        let snap = snapshot(|o| {
            o.claims
                .push(pvc("restored").restored_from("nightly").size("50Gi"));
            o.snapshots.push(vs);
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("restoreSize 100Gi"),
            "{}",
            c[0].summary
        );
        assert_eq!(c[0].confidence, Confidence::Medium);
    }

    #[test]
    fn a_clone_across_drivers_and_modes() {
        let snap = snapshot(|o| {
            o.classes.push(class("a", "a.csi.io"));
            o.classes.push(class("b", "b.csi.io"));
            o.claims.push(pvc("orig").class("a").bound("pv-1").block());
            o.claims.push(pvc("copy").class("b").clone_of("orig"));
        });
        let c = causes(&RULE, &snap);
        let t = text(&c[0]);
        assert!(t.contains("volumeMode Filesystem"), "{t}");
        assert!(t.contains("provisioned by a.csi.io"), "{t}");
    }

    #[test]
    fn a_fitting_source_is_no_finding() {
        let snap = snapshot(|o| {
            o.classes.push(class("a", "a.csi.io"));
            o.claims.push(pvc("orig").class("a").bound("pv-1"));
            o.claims
                .push(pvc("copy").class("a").clone_of("orig").size("2Gi"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_clone_asked_of_a_driver_that_cannot_clone_offers_a_snapshot() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.classes.push(class("pd", "pd.csi.storage.gke.io"));
            o.claims.push(pvc("orig").class("gp3").bound("pv-1"));
            o.claims.push(pvc("copy").class("gp3").clone_of("orig"));
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary
                .contains("provisions with ebs.csi.aws.com, which cannot clone volumes"),
            "{}",
            c[0].summary
        );
        let t = text(&c[0]);
        assert!(t.contains("take a VolumeSnapshot of claim orig"), "{t}");
        assert!(t.contains("whose driver can clone (pd)"), "{t}");
    }

    #[test]
    fn a_driver_that_can_clone_or_is_unknown_is_no_finding() {
        for driver in ["pd.csi.storage.gke.io", "unknown.csi.io"] {
            let snap = snapshot(|o| {
                o.classes.push(class("a", driver));
                o.claims.push(pvc("orig").class("a").bound("pv-1"));
                o.claims.push(pvc("copy").class("a").clone_of("orig"));
            });
            assert!(causes(&RULE, &snap).is_empty(), "{driver}");
        }
    }

    #[test]
    fn a_restore_into_a_driver_without_snapshots() {
        // Known from the table.
        let snap = snapshot(|o| {
            o.classes.push(class("efs", "efs.csi.aws.com"));
            o.claims
                .push(pvc("restored").class("efs").restored_from("nightly"));
            o.snapshots.push(volume_snapshot("nightly", true));
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary
                .contains("efs.csi.aws.com, which cannot restore from snapshots"),
            "{}",
            c[0].summary
        );
        // From state: no VolumeSnapshotClass names the driver and the
        // restore from a ready snapshot has waited.
        let restore = |classes: Vec<crate::volume_snapshot::VolumeSnapshotClass>| {
            snapshot(|o| {
                o.classes.push(class("fast", "fast.csi.io"));
                o.claims
                    .push(pvc("restored").class("fast").restored_from("nightly"));
                o.snapshots.push(volume_snapshot("nightly", true));
                o.snapshot_classes.extend(classes);
                o.events.push(
                    event("Provisioning", "External provisioner is provisioning volume for claim \"default/restored\"")
                        .at("2026-11-20T10:25:00Z")
                        .about("PersistentVolumeClaim", "default", "restored"),
                );
                o.events.push(
                    event("ExternalProvisioning", "waiting")
                        .at("2026-11-20T10:20:00Z")
                        .about("PersistentVolumeClaim", "default", "restored"),
                );
            })
        };
        let c = causes(
            &RULE,
            &restore(vec![snapshot_class("other", "other.csi.io")]),
        );
        assert!(
            text(&c[0]).contains("no VolumeSnapshotClass names fast.csi.io"),
            "{}",
            text(&c[0])
        );
        assert_eq!(c[0].confidence, Confidence::Medium);
        assert!(causes(
            &RULE,
            &restore(vec![snapshot_class("csi-snap", "fast.csi.io")])
        )
        .is_empty());
    }

    #[test]
    fn the_provisioners_capability_refusals() {
        for (source, message) in [
            ("nightly", "failed to provision volume with StorageClass \"x\": CSI driver does not support snapshot restore: controller CREATE_DELETE_SNAPSHOT capability is not reported"),
            ("orig", "CSI driver does not support clone operations: controller CLONE_VOLUME capability is not reported"),
        ] {
            let snap = snapshot(|o| {
                o.classes.push(class("x", "x.csi.io"));
                let claim = pvc("new").class("x");
                o.claims.push(if source == "orig" { claim.clone_of("orig") } else { claim.restored_from("nightly") });
                o.claims.push(pvc("orig").class("x").bound("pv-1"));
                o.snapshots.push(volume_snapshot("nightly", true));
                o.events.push(event("ProvisioningFailed", message).warning().about("PersistentVolumeClaim", "default", "new"));
            });
            let c = causes(&RULE, &snap);
            assert_eq!(c.len(), 1, "{message}");
            assert_eq!(c[0].confidence, Confidence::High);
            assert!(text(&c[0]).contains("use a StorageClass whose driver can"), "{}", text(&c[0]));
        }
    }

    #[test]
    fn the_older_same_class_wording_alone_is_enough() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("copy").class("b").clone_of("orig"));
            o.events.push(event("ProvisioningFailed", "failed to provision volume with StorageClass \"b\": error getting handle for DataSource Type PersistentVolumeClaim by Name orig: the source PVC and destination PVCs must be in the same storage class for cloning.  Source is in a, but new PVC is in b").warning().about("PersistentVolumeClaim", "default", "copy"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(text(&c[0]).contains("same storage class"));
    }
}
