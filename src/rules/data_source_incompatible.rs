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
    let event = failure_saying(c, SIZE_WORDINGS)
        .or_else(|| failure_saying(c, MODE_WORDINGS))
        .or_else(|| failure_saying(c, CLASS_WORDINGS));
    if problems.is_empty() && event.is_none() {
        return None;
    }
    if problems.is_empty() {
        let m = event.map(events::message).unwrap_or("");
        if CLASS_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push("this provisioner release clones only within one StorageClass: clone with the source claim's storageClassName (newer external-provisioner releases allow any class of the same driver)".to_string());
        } else if MODE_WORDINGS.iter().any(|w| m.contains(w)) {
            fixes.push("use the source's volumeMode in the claim".to_string());
        } else {
            fixes.push(
                "request at least the source's size in spec.resources.requests.storage".to_string(),
            );
        }
    }
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
    cause = cause.evidence_all(problems.iter().skip(1).cloned());
    for f in fixes {
        cause = cause.fix(f);
    }
    Some(cause.fix(recreate))
}

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
