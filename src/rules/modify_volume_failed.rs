//! `modify-volume-failed`: changing the claim's VolumeAttributesClass failed.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::expansion::{condition, user_or_claim};
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};

pub const RULE: Rule = Rule {
    id: "modify-volume-failed",
    title: "changing the volume's VolumeAttributesClass failed",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/modify-volume-failed.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    let status = claim.status.as_ref();
    let modify = status.and_then(|s| s.modify_volume_status.as_ref());
    let infeasible = modify.filter(|m| m.status == "Infeasible");
    let cond = condition(c, "ModifyVolumeError");
    let event = Timeline::new(&c.events).latest("VolumeModifyFailed");
    if infeasible.is_none() && cond.is_none() && event.is_none() {
        return None;
    }
    let target = modify
        .and_then(|m| m.target_volume_attributes_class_name.as_deref())
        .or_else(|| {
            claim
                .spec
                .as_ref()
                .and_then(|s| s.volume_attributes_class_name.as_deref())
        })
        .unwrap_or("?");
    let current = status.and_then(|s| s.current_volume_attributes_class_name.as_deref());
    let ns = c.namespace;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "changing {} to VolumeAttributesClass \"{target}\" failed{}; it keeps {}",
            user_or_claim(pod, c),
            if infeasible.is_some() {
                " as infeasible"
            } else {
                ""
            },
            current.map_or("its previous attributes".to_string(), |c| format!(
                "class \"{c}\""
            ))
        ),
    )
    .object(c.object())
    .object(crate::model::ObjectRef::cluster(
        "VolumeAttributesClass",
        target,
    ));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(m) = modify {
        cause = cause.evidence(format!(
            "status.modifyVolumeStatus: {} (target {target})",
            m.status
        ));
    }
    if let Some(cond) = cond {
        cause = cause.evidence(format!(
            "condition ModifyVolumeError: {}",
            cond.message.as_deref().unwrap_or("")
        ));
    }
    if let Some(e) = event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    cause = cause
        .fix(format!(
            "check the VolumeAttributesClass parameters against what the driver supports for this volume: kubectl get volumeattributesclass {target} -o yaml"
        ))
        .fix(match current {
            Some(cur) => format!(
                "{}set spec.volumeAttributesClassName back to \"{cur}\" (or to a class the driver accepts): {} patch pvc {} -p '{{\"spec\":{{\"volumeAttributesClassName\":\"{cur}\"}}}}'",
                if infeasible.is_some() { "an infeasible change is not retried: " } else { "to stop the retries, " },
                kubectl_ns(ns),
                c.name
            ),
            None => format!(
                "set spec.volumeAttributesClassName to a class the driver accepts ({} edit pvc {}); clearing the field is refused before Kubernetes 1.34",
                kubectl_ns(ns),
                c.name
            ),
        });
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::ModifyVolumeStatus;

    #[test]
    fn infeasible_modification() {
        let mut c = pvc("data").bound("pv-1");
        c.spec.as_mut().unwrap().volume_attributes_class_name = Some("gold".into());
        c.status.as_mut().unwrap().modify_volume_status = Some(ModifyVolumeStatus {
            status: "Infeasible".into(),
            target_volume_attributes_class_name: Some("gold".into()),
        });
        let snap = snapshot(|o| o.claims.push(c));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("\"gold\" failed as infeasible"),
            "{}",
            c[0].summary
        );
    }
}
