//! `attach-failed`: the attacher reports an error, or nothing attaches the
//! volume (no external-attacher running for the driver).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::provisioner_errors;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "attach-failed",
    title: "attaching the volume to the node failed, or no attacher acts on it",
    severity: Severity::Error,
    link: Link::Attach,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/attach-failed.md"),
};

/// FailedAttachVolume texts other rules explain.
fn explained_elsewhere(message: &str) -> bool {
    message.contains("Multi-Attach error")
        || message.contains("not found in the list of registered CSI drivers")
        || message.contains("does not contain driver")
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let failures: Vec<_> = Timeline::new(&pod.events)
        .current_all("FailedAttachVolume")
        .filter(|e| !explained_elsewhere(events::message(e)))
        .collect();
    let mut out = Vec::new();
    for c in claims {
        let Some(pv) = c.volume else { continue };
        let pv_name = pv.metadata.name.as_deref().unwrap_or("");
        let here = c.attachments.iter().find(|va| va.spec.node_name == node);
        let va_error = here
            .and_then(|va| va.status.as_ref())
            .and_then(|s| s.attach_error.as_ref())
            .and_then(|e| e.message.as_deref())
            .filter(|m| !explained_elsewhere(m));
        let event = failures
            .iter()
            .find(|e| events::message(e).contains(&format!("\"{pv_name}\"")))
            .or_else(|| failures.first().filter(|_| claims.len() == 1));
        if va_error.is_none() && event.is_none() {
            continue;
        }
        let message = event.map(|e| events::message(e)).unwrap_or("");
        let no_attacher = message.contains("timed out waiting for external-attacher");
        let driver = c.volume_driver().unwrap_or("its driver");
        let summary = if no_attacher {
            format!(
                "volume {pv_name} (claim {}/{}) is not being attached to node {node}: no external-attacher of {driver} answers",
                c.namespace, c.name
            )
        } else {
            format!(
                "attaching volume {pv_name} (claim {}/{}) to node {node} fails: {}",
                c.namespace,
                c.name,
                provisioner_errors::brief(va_error.unwrap_or_else(|| attach_error_of(message)))
            )
        };
        let mut cause = Cause::new(&RULE, summary)
            .object(pod.object())
            .object(c.object())
            .object(ObjectRef::volume(pv_name));
        if let Some(va) = here {
            let name = va.metadata.name.as_deref().unwrap_or("");
            cause = cause
                .object(ObjectRef::cluster("VolumeAttachment", name))
                .evidence(format!(
                    "VolumeAttachment {name} on node {node}: attached {}{}",
                    va.status.as_ref().is_some_and(|s| s.attached),
                    va_error
                        .map(|e| format!(", attachError: {e}"))
                        .unwrap_or_default()
                ));
        } else if ctx.snap.has("volumeattachments") {
            cause = cause.evidence(format!("no VolumeAttachment for {pv_name} on node {node}"));
        }
        if let Some(e) = event {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        let csi_driver = ctx.snap.csi_driver(driver);
        if let Some(d) = csi_driver {
            cause = cause.evidence(format!(
                "CSIDriver {driver}: attachRequired {}",
                d.spec.attach_required.unwrap_or(true)
            ));
        }
        cause = if no_attacher {
            cause
                .fix(format!(
                    "find the driver's controller and its csi-attacher sidecar: kubectl get pods -A | grep -i {}; kubectl -n <namespace> logs <controller-pod> -c csi-attacher",
                    provisioner_errors::short_name(driver)
                ))
                .fix(format!(
                    "if the driver needs no attach step, its CSIDriver object must say attachRequired: false (without a CSIDriver object Kubernetes assumes attach is required; the field cannot be edited, so delete and recreate the CSIDriver){}",
                    if csi_driver.is_none() { " — there is none for this driver" } else { "" }
                ))
        } else {
            cause
                .fix("fix what the driver's error says (permissions of the controller's cloud identity, the disk's zone versus the node's, a disk still attached elsewhere, the instance's attach limit); the attach/detach controller retries by itself")
                .fix(format!("read the attacher's log: kubectl get pods -A | grep -i {}, then kubectl logs <controller-pod> -c csi-attacher", provisioner_errors::short_name(driver)))
        };
        out.push(cause);
    }
    out
}

/// `AttachVolume.Attach failed for volume "x" : <err>` → `<err>`.
fn attach_error_of(message: &str) -> &str {
    message.split_once("\" : ").map_or(message, |(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn attach_error_from_the_volume_attachment() {
        let mut va = attachment("pv-1", "node-1", false);
        va.status.as_mut().unwrap().attach_error = Some(k8s_openapi::api::storage::v1::VolumeError {
            message: Some("rpc error: code = Internal desc = could not attach volume: UnauthorizedOperation".into()),
            ..Default::default()
        });
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.attachments.push(va);
            o.pods.push(
                pod("db")
                    .claim("data")
                    .on_node("node-1")
                    .waiting("ContainerCreating"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("Internal: could not attach volume"),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn timeout_means_no_attacher() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes
                .push(pv("pv-1").bound_to("default", "data").csi("example.csi.io"));
            o.pods.push(
                pod("db")
                    .claim("data")
                    .on_node("node-1")
                    .waiting("ContainerCreating"),
            );
            o.events.push(
                event("FailedAttachVolume", "AttachVolume.Attach failed for volume \"pv-1\" : timed out waiting for external-attacher of example.csi.io CSI driver to attach volume vol-1")
                    .warning()
                    .about("Pod", "default", "db"),
            );
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("no external-attacher"),
            "{}",
            c[0].summary
        );
    }
}
