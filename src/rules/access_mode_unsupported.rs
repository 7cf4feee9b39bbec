//! `access-mode-unsupported`: the claim asks for an access mode its class's
//! driver cannot give (RWX/ROX from a block-disk driver, RWOP mixed with
//! other modes). Known from the driver table even before any event.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::classes::suggest;
use super::support::commands::kubectl_ns;
use super::support::provisioner_errors::refuses_access_mode;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "access-mode-unsupported",
    title: "the claim asks for an access mode its StorageClass's driver cannot give",
    severity: Severity::Error,
    link: Link::ClaimToClass,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("ExternalProvisioning"),
        NormalEvent::about_claims("Provisioning"),
    ],
    runbook: include_str!("../../docs/runbooks/access-mode-unsupported.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    if c.claim.is_none() || c.is_bound() || c.pre_bound().is_some() {
        return None;
    }
    let ns = c.namespace;
    let modes = c.access_modes();
    let volume_mode = c.volume_mode();
    let event = Timeline::new(&c.events)
        .current("ProvisioningFailed")
        .filter(|e| refuses_access_mode(events::message(e), &modes));
    let mixed_rwop = modes.contains(&"ReadWriteOncePod") && modes.len() > 1;
    let provisioner = c.class.map(|sc| sc.provisioner.as_str());
    let driver = provisioner.and_then(|p| ctx.drivers.get(p));
    let unsupported: Vec<&str> = match driver {
        // A driver with no Block support at all: a volume mode problem,
        // which provisioning-failed explains from the driver's own error.
        Some(d) if volume_mode == "Block" && d.block.is_empty() => Vec::new(),
        Some(d) if !d.static_only => {
            let can = d.modes(Some(volume_mode));
            modes
                .iter()
                .copied()
                .filter(|m| !can.iter().any(|c| c == m))
                .collect()
        }
        _ => Vec::new(),
    };
    if unsupported.is_empty() && event.is_none() && !mixed_rwop {
        return None;
    }
    let class = c.class_name().unwrap_or("");
    let same_volume =
        event.is_some_and(|e| events::message(e).contains("on the same PersistentVolume"));
    let what = if mixed_rwop {
        "ReadWriteOncePod together with other access modes".to_string()
    } else if same_volume {
        format!("{} together on one volume", modes.join(" and "))
    } else if unsupported.is_empty() {
        // Known only from the driver's refusal: every driver serves
        // ReadWriteOnce, so the modes beyond it are the refused ones.
        let beyond: Vec<&str> = modes
            .iter()
            .copied()
            .filter(|m| *m != "ReadWriteOnce")
            .collect();
        if beyond.is_empty() {
            modes.join(", ")
        } else {
            beyond.join(", ")
        }
    } else {
        unsupported.join(", ")
    };
    let driver_name = provisioner.unwrap_or("its provisioner");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} asks for {what}, which {driver_name} (StorageClass \"{class}\") cannot provide for volumeMode {volume_mode}",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::class(class))
    .evidence(format!(
        "claim {ns}/{} requests accessModes [{}], volumeMode {volume_mode}",
        c.name,
        modes.join(", ")
    ));
    if let Some(pod) = pod {
        cause = cause.object(pod.object());
    }
    match driver {
        Some(d) => {
            cause = cause.evidence(format!(
                "{} serves [{}] for volumeMode {volume_mode} (driver table){}",
                d.name,
                d.modes(Some(volume_mode)).join(", "),
                d.note.as_deref().map(|n| format!("; {n}")).unwrap_or_default()
            ))
        }
        None => {
            cause = cause
                .evidence(format!(
                    "{driver_name} is not in the driver table, so its capabilities are known only from its error"
                ))
                .confidence(Confidence::Medium)
        }
    }
    if mixed_rwop {
        cause = cause
            .evidence("ReadWriteOncePod cannot be combined with other access modes on one claim");
    }
    match event {
        Some(e) => {
            cause = cause
                .evidence(events::quote(e, ctx.snap.now))
                .confidence(Confidence::High)
        }
        None => {
            cause = cause.evidence(
                "no ProvisioningFailed event yet: known from the driver's capabilities alone",
            )
        }
    }
    if same_volume {
        cause = cause.fix(format!(
            "the driver cannot give one volume several of these modes: recreate the claim with a single access mode ({}); it is not bound, so nothing is lost",
            modes.join(" or ")
        ));
    }
    let wanted: Vec<&str> = if mixed_rwop {
        vec!["ReadWriteOncePod"]
    } else {
        modes.clone()
    };
    let serving: Vec<String> = suggest(ctx, &wanted, volume_mode, c.class_name(), true)
        .iter()
        .map(|s| s.describe())
        .collect();
    let recreate = format!(
        "the claim is not bound, so recreating it loses nothing: {k} get pvc {n} -o yaml > {n}.yaml, edit, {k} delete pvc {n}, {k} apply -f {n}.yaml",
        k = kubectl_ns(ns),
        n = c.name
    );
    let single_node = wanted.iter().all(|m| *m == "ReadWriteOncePod");
    if serving.is_empty() && single_node {
        cause = cause.fix(format!(
            "no StorageClass in this cluster has a known driver that serves ReadWriteOncePod for volumeMode {volume_mode} (it needs the CSI SINGLE_NODE_MULTI_WRITER capability): recreate the claim with ReadWriteOnce (one node at a time; pods on that node share it), or install a driver that supports ReadWriteOncePod and a class for it; {recreate}"
        ));
    } else if serving.is_empty() {
        cause = cause.fix(format!(
            "no StorageClass in this cluster has a known driver that serves [{}] for volumeMode {volume_mode}: install a shared-filesystem driver (NFS, CephFS, a cloud file service) and a class for it, then recreate the claim on it; {recreate}",
            wanted.join(", ")
        ));
    } else {
        cause = cause.fix(format!(
            "recreate the claim on a class that serves [{}]: {}; {recreate}",
            wanted.join(", "),
            serving.join(", ")
        ));
    }
    if !mixed_rwop
        && modes
            .iter()
            .any(|m| *m == "ReadWriteMany" || *m == "ReadOnlyMany")
    {
        cause = cause.fix(
            "or, if only one node needs the volume at a time, recreate the claim with ReadWriteOnce (it is per node: pods on the same node share it)",
        );
    }
    if modes.contains(&"ReadOnlyMany") {
        let has_source = c
            .claim
            .and_then(|x| x.spec.as_ref())
            .is_some_and(|s| s.data_source.is_some() || s.data_source_ref.is_some());
        if !has_source {
            cause = cause.fix(
                "note: a new ReadOnlyMany volume is empty and mounts read-only, so nothing can write data into it: populate it from a snapshot or clone (spec.dataSource), or write it once through a ReadWriteMany claim",
            );
        }
    }
    if mixed_rwop {
        cause = cause.fix(
            "keep only ReadWriteOncePod (single pod) or only ReadWriteOnce (single node) in spec.accessModes when recreating the claim",
        );
    }
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn rwx_on_a_block_disk_driver_without_events() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").default_class());
            o.classes.push(class("efs-sc", "efs.csi.aws.com"));
            o.claims
                .push(pvc("shared").class("gp3").modes(&["ReadWriteMany"]));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        let t = text(&c[0]);
        assert!(t.contains("efs-sc (efs.csi.aws.com)"), "{t}");
        assert!(t.contains("no ProvisioningFailed event yet"), "{t}");
    }

    #[test]
    fn rwx_block_on_ebs_is_allowed() {
        let snap = snapshot(|o| {
            o.classes.push(class("io2", "ebs.csi.aws.com"));
            o.claims
                .push(pvc("shared").class("io2").modes(&["ReadWriteMany"]).block());
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn unknown_driver_known_from_its_error() {
        let snap = snapshot(|o| {
            o.classes.push(class("fancy", "fancy.example.com"));
            o.claims
                .push(pvc("d").class("fancy").modes(&["ReadWriteMany"]));
            o.events.push(
                event("ProvisioningFailed", "rpc error: code = InvalidArgument desc = Volume capabilities MULTI_NODE_MULTI_WRITER not supported")
                    .warning()
                    .about("PersistentVolumeClaim", "default", "d"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(text(&c[0]).contains("not in the driver table"));
    }

    #[test]
    fn unknown_driver_without_error_is_not_guessed() {
        let snap = snapshot(|o| {
            o.classes.push(class("fancy", "fancy.example.com"));
            o.claims
                .push(pvc("d").class("fancy").modes(&["ReadWriteMany"]));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn read_only_many_warns_that_the_volume_starts_empty() {
        let snap = snapshot(|o| {
            o.classes.push(class("premium-rwx", "disk.csi.azure.com"));
            o.classes.push(class("azurefile-csi", "file.csi.azure.com"));
            o.claims.push(
                pvc("model-weights-pvc")
                    .class("premium-rwx")
                    .modes(&["ReadOnlyMany"]),
            );
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(t.contains("azurefile-csi"), "{t}");
        assert!(t.contains("empty"), "{t}");
    }
}
