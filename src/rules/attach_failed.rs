//! `attach-failed`: the attacher reports an error, or nothing attaches the
//! volume (no external-attacher running for the driver).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::evidence::attach_slots;
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

/// What an attach error is about, for the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttachError {
    /// The instance has no attach slot left.
    Limit,
    /// The disk is attached to another instance.
    InUseElsewhere,
    /// The controller's identity may not attach.
    Permission,
    /// The storage system's volume is not in a state to attach.
    BackendNotReady,
    Timeout,
    Other,
}

fn classify(message: &str) -> AttachError {
    let lower = message.to_ascii_lowercase();
    if [
        "max number of volumes",
        "maximum number of data disks",
        "disks count should be less than",
        "attachmentlimitexceeded",
        "attachment limit",
        "volume limit",
        "too many volumes",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || (lower.contains("resourceexhausted") && lower.contains("attach"))
    {
        AttachError::Limit
    } else if [
        "volumeinuse",
        "already attached to an instance",
        "is already attached",
        "attached to another",
        "in use by another",
        "already being used",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        AttachError::InUseElsewhere
    } else if provisioner_errors::classify(message) == provisioner_errors::ErrorKind::Permission {
        AttachError::Permission
    } else if lower.contains("not ready for workloads")
        || lower.contains("volume is not ready")
        || lower.contains("is not in available state")
        || lower.contains("faulted")
    {
        AttachError::BackendNotReady
    } else if provisioner_errors::is_timeout(&lower) {
        AttachError::Timeout
    } else {
        AttachError::Other
    }
}

/// The attach/detach controller's failure events: `FailedAttachVolume`,
/// and before 1.9 `FailedMount` with `Failed to attach volume ...`.
fn is_attach_failure(e: &crate::api::Event) -> bool {
    let message = events::message(e);
    match events::reason(e) {
        "FailedAttachVolume" => true,
        "FailedMount" => {
            message.starts_with("Failed to attach volume")
                || message.starts_with("AttachVolume.Attach failed")
        }
        _ => false,
    }
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let timeline = Timeline::new(&pod.events);
    let failures: Vec<_> = timeline
        .current_all("FailedAttachVolume")
        .chain(timeline.current_all("FailedMount"))
        .filter(|e| is_attach_failure(e) && !explained_elsewhere(events::message(e)))
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
        let driver = c.volume_driver().unwrap_or("");
        let driver_word = if driver.is_empty() {
            "csi"
        } else {
            provisioner_errors::short_name(driver)
        };
        let summary = if no_attacher {
            format!(
                "volume {pv_name} (claim {}/{}) is not being attached to node {node}: no external-attacher of {} answers",
                c.namespace,
                c.name,
                if driver.is_empty() { "its driver" } else { driver }
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
        let csi_driver = Some(driver)
            .filter(|d| !d.is_empty())
            .and_then(|d| ctx.snap.csi_driver(d));
        let error = va_error.unwrap_or_else(|| attach_error_of(message));
        let kind = classify(error);
        if kind == AttachError::Limit && !driver.is_empty() {
            if let Some(line) = slots_line(ctx, node, driver) {
                cause = cause.evidence(line);
            }
        }
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
                    driver_word
                ))
                .fix(format!(
                    "if the driver needs no attach step, its CSIDriver object must say attachRequired: false (without a CSIDriver object Kubernetes assumes attach is required; the field cannot be edited, so delete and recreate the CSIDriver){}",
                    if csi_driver.is_none() { " — there is none for this driver" } else { "" }
                ))
        } else {
            let fix = match kind {
                AttachError::Limit => format!("node {node} has no attach slot left, though the scheduler counted one free: the limit the driver reports in its CSINode (allocatable.count) is higher than the instance allows, or disks attached outside Kubernetes take slots; set the driver's attach limit to what the instance type allows (aws-ebs: --volume-attach-limit or --reserved-volume-attachments), and move a pod with volumes off {node}"),
                AttachError::InUseElsewhere => "the disk is still attached to another instance: find it in the cloud's console or CLI (aws ec2 describe-volumes --volume-ids <id>), make sure no pod uses it there, and detach it; look for a VolumeAttachment or node that still holds it (kubectl get volumeattachment | grep <pv>)".to_string(),
                AttachError::Permission => "the driver's controller may not attach disks with its identity: give the action the error names to the IAM role (or service account) of the controller, then restart it".to_string(),
                AttachError::BackendNotReady => format!("the storage system's own volume is not ready to attach (faulted, degraded or still being built): look at it in the storage system (for Longhorn: kubectl -n longhorn-system get volumes.longhorn.io {pv_name} -o yaml, its replicas and their nodes)"),
                AttachError::Timeout => "the attach call timed out: the cloud or storage API is slow or unreachable from the controller; the csi-attacher's log shows the calls".to_string(),
                AttachError::Other => "fix what the driver's error says (permissions of the controller's cloud identity, the disk's zone versus the node's, a disk still attached elsewhere, the instance's attach limit)".to_string(),
            };
            let log = if driver.is_empty() {
                "an in-tree volume is attached by kube-controller-manager's attach/detach controller: its log (on a managed cluster, the control plane's logs) has the cloud API's whole answer".to_string()
            } else {
                format!("read the attacher's log: kubectl get pods -A | grep -i {driver_word}, then kubectl logs <controller-pod> -c csi-attacher")
            };
            cause
                .fix(format!(
                    "{fix}; the attach/detach controller retries by itself"
                ))
                .fix(log)
        };
        out.push(cause);
    }
    out
}

/// The driver's attach slots on the node: its CSINode limit and the
/// volumes attached there.
fn slots_line(ctx: &Ctx, node: &str, driver: &str) -> Option<String> {
    let (limit, attached) = attach_slots(ctx, node, driver)?;
    Some(format!(
        "node {node}: {attached} {driver} volumes attached, CSINode allocatable.count {limit}"
    ))
}

/// `AttachVolume.Attach failed for volume "x" : <err>` → `<err>`.
/// Before 1.9: `Failed to attach volume "x" on node "n" with: <err>`.
fn attach_error_of(message: &str) -> &str {
    message
        .split_once("\" : ")
        .or_else(|| message.split_once("\" with: "))
        .map_or(message, |(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn attach_errors_by_what_they_are_about() {
        for (m, want) in [
            ("rpc error: code = ResourceExhausted desc = max number of volumes (8) already attached to instance", AttachError::Limit),
            ("Attach volume x to instance y failed with Retriable: false, RawError: The maximum number of data disks allowed to be attached to a VM of this size is 4.", AttachError::Limit),
            ("rpc error: code = Internal desc = Maximum hyperdisk-balanced disks count should be less than or equal to [16], Requested : [17]", AttachError::Limit),
            ("Error attaching EBS volume \"vol-1\" to instance \"i-1\": VolumeInUse: vol-1 is already attached to an instance", AttachError::InUseElsewhere),
            ("rpc error: code = Internal desc = could not attach volume \"vol-1\" to node \"i-1\": UnauthorizedOperation: You are not authorized to perform this operation.", AttachError::Permission),
            ("rpc error: code = Aborted desc = volume pvc-1 is not ready for workloads", AttachError::BackendNotReady),
            ("rpc error: code = DeadlineExceeded desc = context deadline exceeded", AttachError::Timeout),
            ("rpc error: code = Internal desc = something else", AttachError::Other),
        ] {
            assert_eq!(classify(m), want, "{m}");
        }
    }

    #[test]
    fn the_pre_1_9_wording_is_an_attach_failure() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("db")
                    .claim("data")
                    .on_node("node-1")
                    .waiting("ContainerCreating"),
            );
            o.events.push(
                event("FailedMount", "Failed to attach volume \"pv-1\" on node \"node-1\" with: Error attaching EBS volume \"vol-1\" to instance \"i-1\": VolumeInUse: vol-1 is already attached to an instance")
                    .warning()
                    .about("Pod", "default", "db"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            c[0].summary
                .ends_with("VolumeInUse: vol-1 is already attached to an instance"),
            "{t}"
        );
        assert!(t.contains("still attached to another instance"), "{t}");
        assert!(t.contains("kube-controller-manager"), "{t}");
        assert!(causes(&crate::rules::mount_failed::RULE, &snap).is_empty());
    }

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
