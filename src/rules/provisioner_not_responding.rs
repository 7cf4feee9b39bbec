//! `provisioner-not-responding`: the claim was handed to an external
//! provisioner that never picked it up (not running, or the class names a
//! driver that does not exist).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::components::named_like_controller;
use super::support::evidence::{claim_state_line, confidence_given, scheduler_says};
use super::support::in_tree::handed_to_missing_driver;
use super::support::names::closest;
use super::support::provisioner_errors::short_name;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "provisioner-not-responding",
    title: "no provisioner picks up the claim: its controller is not running or the class names an unknown driver",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[NormalEvent::about_claims("ExternalProvisioning"), NormalEvent::about_claims("Provisioning")],
    runbook: include_str!("../../docs/runbooks/provisioner-not-responding.md"),
};

/// Claims younger than this may simply not have been provisioned yet.
const GRACE_SECONDS: i64 = 60;

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let class = c.class?;
    if !c.is_pending() || c.volume.is_some() || c.pre_bound().is_some() {
        return None;
    }
    let annotated = c.storage_provisioner();
    let provisioner = annotated.unwrap_or(class.provisioner.as_str());
    if provisioner == "kubernetes.io/no-provisioner"
        || ctx.drivers.get(provisioner).is_some_and(|d| d.static_only)
    {
        return None;
    }
    // An in-tree class handed to a CSI driver that is not installed:
    // in-tree-driver-missing says why nothing answers.
    if handed_to_missing_driver(ctx, c).is_some() {
        return None;
    }
    let timeline = Timeline::new(&c.events);
    // The provisioner answered: another rule explains what it said.
    if timeline.current("ProvisioningFailed").is_some() || timeline.latest("Provisioning").is_some()
    {
        return None;
    }
    let waiting: Vec<_> = timeline.current_all("ExternalProvisioning").collect();
    let immediate = !c.is_wait_for_first_consumer();
    let selected = c.annotation("volume.kubernetes.io/selected-node");
    // A WaitForFirstConsumer claim is handed over only once a node is selected.
    if !immediate && selected.is_none() && annotated.is_none() {
        return None;
    }
    let age = c
        .claim
        .and_then(|x| x.metadata.creation_timestamp.as_ref())
        .map(|t| ctx.snap.now.as_second() - t.0.as_second())
        .unwrap_or(0);
    let repeats: i32 = waiting.iter().map(|e| events::count(e)).sum();
    if waiting.is_empty() && annotated.is_none() && age < 5 * 60 {
        return None;
    }
    if age < GRACE_SECONDS && repeats < 3 {
        return None;
    }
    let ns = c.namespace;
    let class_name = class.metadata.name.as_deref().unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "no provisioner is acting on claim {ns}/{}: it waits for \"{provisioner}\" (StorageClass \"{class_name}\"), which has not answered",
            c.name
        ),
    )
    .object(c.object())
    .object(ObjectRef::class(class_name))
    .evidence(claim_state_line(ctx, c));
    if let Some(a) = annotated {
        cause = cause.evidence(format!(
            "the PV controller handed the claim to \"{a}\" (annotation volume.kubernetes.io/storage-provisioner)"
        ));
    }
    if let Some(node) = selected {
        cause = cause.evidence(format!(
            "node {node} was selected for it (WaitForFirstConsumer)"
        ));
    }
    if let Some(e) = waiting.first() {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    cause = cause.evidence(
        "no Provisioning, ProvisioningFailed or ProvisioningSucceeded event from the provisioner",
    );
    if let Some(line) = scheduler_says(pod, |k| {
        matches!(
            k,
            ReasonKind::UnboundImmediateClaims | ReasonKind::VolumeBindingError
        )
    }) {
        cause = cause.evidence(line);
    }
    let csi_driver = ctx.snap.csi_driver(provisioner);
    let registered_nodes = ctx
        .snap
        .objects
        .csi_nodes
        .iter()
        .filter(|n| n.spec.drivers.iter().any(|d| d.name == provisioner))
        .count();
    let short = short_name(provisioner);
    let controller_pods = named_like_controller(ctx, provisioner);
    if ctx.snap.has("csidrivers") {
        cause = cause.evidence(match csi_driver {
            Some(_) => format!("CSIDriver \"{provisioner}\" exists"),
            None => format!("there is no CSIDriver object named \"{provisioner}\""),
        });
    }
    if ctx.snap.has("csinodes") && !ctx.snap.objects.csi_nodes.is_empty() {
        cause = cause.evidence(format!(
            "{registered_nodes} of {} CSINodes list the driver",
            ctx.snap.objects.csi_nodes.len()
        ));
    }
    if controller_pods.is_empty() {
        cause = cause.evidence(format!(
            "no pod in the input looks like a controller of \"{provisioner}\""
        ));
    } else {
        cause = cause.evidence(format!(
            "pods that look like its controller: {}",
            controller_pods.join(", ")
        ));
    }
    let driver_names: Vec<&str> = ctx
        .snap
        .objects
        .csi_drivers
        .iter()
        .filter_map(|d| d.metadata.name.as_deref())
        .collect();
    if csi_driver.is_none() {
        if let Some(similar) = closest(provisioner, driver_names.iter().copied()) {
            cause = cause
                .evidence(format!(
                    "a driver named \"{similar}\" is registered: the class's provisioner is probably misspelled"
                ))
                .fix(format!(
                    "a StorageClass cannot be edited: kubectl get sc {class_name} -o yaml > sc.yaml, set provisioner: {similar}, kubectl replace --force -f sc.yaml; then recreate the claim (it keeps the old provisioner annotation)"
                ));
        }
    }
    cause = cause
        .fix(format!(
            "find the driver's controller and its csi-provisioner sidecar: kubectl get pods -A | grep -i {short}; kubectl -n <namespace> logs <controller-pod> -c csi-provisioner"
        ))
        .fix(format!(
            "if no controller runs, install or repair the {provisioner} CSI driver (its controller Deployment runs the external-provisioner); the claim is provisioned as soon as it runs"
        ));
    let missing_data = ["csidrivers", "events"];
    cause.confidence = if repeats >= 2 || age >= 5 * 60 {
        confidence_given(ctx, &missing_data, Confidence::High)
    } else {
        Confidence::Medium
    };
    if waiting.is_empty() {
        cause = cause.evidence("no ExternalProvisioning event in the input: diagnosed from the claim's state (events expire after an hour)");
    }
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn waiting_event(count: i32) -> crate::api::Event {
        event(
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external provisioner 'hostpath.csi.k8s.io' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
        )
        .count(count)
        .about("PersistentVolumeClaim", "default", "ckpt")
    }

    #[test]
    fn repeating_external_provisioning_without_answer() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("csi-hostpath-fast", "hostpath.csi.k8s.io"));
            o.claims.push(
                pvc("ckpt")
                    .class("csi-hostpath-fast")
                    .provisioner("hostpath.csi.k8s.io"),
            );
            o.events.push(waiting_event(42));
            o.csi_nodes.push(csi_node("node-1", &["ebs.csi.aws.com"]));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        let t = text(&c[0]);
        assert!(t.contains("0 of 1 CSINodes list the driver"), "{t}");
        assert!(t.contains("×42"), "{t}");
        assert!(
            t.contains("no pod in the input looks like a controller"),
            "{t}"
        );
    }

    #[test]
    fn a_provisioner_that_answered_is_not_this_rule() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("csi-hostpath-fast", "hostpath.csi.k8s.io"));
            o.claims.push(
                pvc("ckpt")
                    .class("csi-hostpath-fast")
                    .provisioner("hostpath.csi.k8s.io"),
            );
            o.events.push(waiting_event(3));
            o.events.push(
                event("ProvisioningFailed", "rpc error: code = Internal desc = x")
                    .warning()
                    .at("2026-11-20T10:20:00Z")
                    .about("PersistentVolumeClaim", "default", "ckpt"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn misspelled_provisioner_is_pointed_out() {
        let snap = snapshot(|o| {
            o.classes.push(class("nfs", "nfs.csi.k8s.oi"));
            o.csi_drivers.push(csi_driver("nfs.csi.k8s.io"));
            o.claims
                .push(pvc("ckpt").class("nfs").provisioner("nfs.csi.k8s.oi"));
            o.events.push(waiting_event(5));
        });
        let t = text(&causes(&RULE, &snap)[0]);
        assert!(t.contains("set provisioner: nfs.csi.k8s.io"), "{t}");
    }

    #[test]
    fn migrated_in_tree_class_without_its_driver_is_left_to_in_tree_driver_missing() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp2", "kubernetes.io/aws-ebs"));
            o.claims
                .push(pvc("ckpt").class("gp2").provisioner("ebs.csi.aws.com"));
            o.events.push(waiting_event(42));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn wffc_claim_without_selected_node_is_not_handed_over_yet() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").wait_for_consumer());
            o.claims.push(pvc("ckpt").class("gp3"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
