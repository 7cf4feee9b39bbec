//! `in-tree-driver-missing`: the class names an in-tree provisioner that the
//! cluster migrated to CSI, the claim was handed to the CSI driver, and that
//! driver is not installed.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::components::named_like_controller;
use super::support::evidence::{claim_state_line, confidence_given, gap_lines};
use super::support::in_tree::{handed_to_missing_driver, install_hint, migrated_driver, Handed};
use crate::chain::{ClaimChain, PodChain};
use crate::events;
use crate::events::NormalEvent;
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "in-tree-driver-missing",
    title: "the class's in-tree plugin was migrated to a CSI driver that is not installed",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("ExternalProvisioning"),
        NormalEvent::about_claims("Provisioning"),
    ],
    runbook: include_str!("../../docs/runbooks/in-tree-driver-missing.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, _pod: Option<&PodChain>) -> Option<Cause> {
    let class = c.class?;
    let in_tree = class.provisioner.as_str();
    let expected = migrated_driver(in_tree)?;
    let Handed {
        driver,
        source,
        event: waiting,
    } = handed_to_missing_driver(ctx, c)?;
    let ns = c.namespace;
    let class_name = class.metadata.name.as_deref().unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} uses StorageClass \"{class_name}\" with the in-tree provisioner {in_tree}; the cluster migrated it to the CSI driver {driver}, which is not installed",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::class(class_name))
    .object(ObjectRef::cluster("CSIDriver", driver))
    .evidence(claim_state_line(ctx, c))
    .evidence(format!(
        "StorageClass \"{class_name}\" has provisioner: {in_tree}"
    ))
    .evidence(format!(
        "the PV controller handed the claim to {driver} ({source}): CSI migration of {in_tree}"
    ));
    if let Some(e) = waiting {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if ctx.snap.has("csidrivers") {
        cause = cause.evidence(format!("there is no CSIDriver object named {driver}"));
    }
    if ctx.snap.has("csinodes") && !ctx.snap.objects.csi_nodes.is_empty() {
        cause = cause.evidence(format!(
            "none of the {} CSINodes lists {driver}",
            ctx.snap.objects.csi_nodes.len()
        ));
    }
    let lookalikes = named_like_controller(ctx, driver);
    let mut confidence = Confidence::High;
    if lookalikes.is_empty() {
        cause = cause.evidence(format!(
            "no pod in the input looks like a controller of {driver}"
        ));
    } else {
        confidence = Confidence::Medium;
        cause = cause.evidence(format!(
            "pods that look like parts of {driver}, yet it registered nowhere: {}",
            lookalikes.join(", ")
        ));
    }
    cause = cause.evidence_all(gap_lines(ctx, &["csidrivers", "csinodes"]));
    cause.confidence = confidence_given(ctx, &["csidrivers", "csinodes"], confidence);
    if driver != expected {
        cause = cause.evidence(format!(
            "{in_tree} is normally migrated to {expected}; the claim names {driver}"
        ));
    }
    if let Some(hint) = install_hint(driver) {
        cause = cause.fix(format!(
            "install the CSI driver {driver}: {hint}; the claim is provisioned once it runs"
        ));
    } else {
        cause = cause.fix(format!(
            "install the CSI driver {driver}; the claim is provisioned once it runs"
        ));
    }
    cause.fix(format!(
        "or create a StorageClass with provisioner: {driver} (same parameters, checked against the driver's documentation) and recreate the claim with it: a claim's class cannot be changed. The in-tree plugin {in_tree} no longer provisions by itself since CSI migration: existing volumes of the class also attach and mount through {driver}"
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn waiting(driver: &str) -> crate::api::Event {
        event(
            "ExternalProvisioning",
            &format!("Waiting for a volume to be created either by the external provisioner '{driver}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."),
        )
        .count(12)
        .about("PersistentVolumeClaim", "default", "data")
    }

    #[test]
    fn migrated_class_without_the_driver() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp2", "kubernetes.io/aws-ebs"));
            o.claims
                .push(pvc("data").class("gp2").provisioner("ebs.csi.aws.com"));
            o.csi_nodes.push(csi_node("node-1", &[]));
            o.events.push(waiting("ebs.csi.aws.com"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        let t = text(&c[0]);
        assert!(t.contains("aws-ebs-csi-driver"), "{t}");
        assert!(
            t.contains("no CSIDriver object named ebs.csi.aws.com"),
            "{t}"
        );
        assert!(t.contains("provisioner: ebs.csi.aws.com"), "{t}");
    }

    #[test]
    fn event_alone_names_the_driver_old_wording() {
        let snap = snapshot(|o| {
            o.classes.push(class("standard", "kubernetes.io/gce-pd"));
            o.claims.push(pvc("data").class("standard"));
            o.events.push(
                event(
                    "ExternalProvisioning",
                    "waiting for a volume to be created, either by external provisioner \"pd.csi.storage.gke.io\" or manually created by system administrator",
                )
                .about("PersistentVolumeClaim", "default", "data"),
            );
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(t.contains("GcePersistentDiskCsiDriver=ENABLED"), "{t}");
    }

    #[test]
    fn installed_driver_is_not_this_rule() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp2", "kubernetes.io/aws-ebs"));
            o.claims
                .push(pvc("data").class("gp2").provisioner("ebs.csi.aws.com"));
            o.csi_drivers.push(csi_driver("ebs.csi.aws.com"));
        });
        assert!(causes(&RULE, &snap).is_empty());
        let registered = snapshot(|o| {
            o.classes.push(class("gp2", "kubernetes.io/aws-ebs"));
            o.claims
                .push(pvc("data").class("gp2").provisioner("ebs.csi.aws.com"));
            o.csi_nodes.push(csi_node("n", &["ebs.csi.aws.com"]));
        });
        assert!(causes(&RULE, &registered).is_empty());
    }

    #[test]
    fn not_migrated_or_csi_class_is_not_this_rule() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp2", "kubernetes.io/aws-ebs"));
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.claims.push(
                pvc("data")
                    .class("gp2")
                    .provisioner("kubernetes.io/aws-ebs"),
            );
            o.claims
                .push(pvc("other").class("gp3").provisioner("ebs.csi.aws.com"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
