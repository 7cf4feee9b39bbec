//! `expansion-failed`: a resize did not finish: the resizer reported an
//! error or infeasibility, or no resizer is running at all.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::expansion::{condition, growing, user_or_claim};
use super::support::provisioner_errors;
use crate::chain::{ClaimChain, PodChain};
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};

pub const RULE: Rule = Rule {
    id: "expansion-failed",
    title: "resizing the volume failed, or no resizer is acting on it",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[
        NormalEvent::about_claims("ExternalExpanding"),
        NormalEvent::about_claims("Resizing"),
    ],
    runbook: include_str!("../../docs/runbooks/expansion-failed.md"),
};

/// How long only `ExternalExpanding` may repeat before it means no resizer runs.
const NO_RESIZER_SECONDS: i64 = 10 * 60;

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    let status = claim.status.as_ref();
    let infeasible = status
        .and_then(|s| s.allocated_resource_statuses.as_ref())
        .and_then(|m| m.get("storage"))
        .filter(|v| v.ends_with("Infeasible"));
    let error_condition =
        condition(c, "ControllerResizeError").or_else(|| condition(c, "NodeResizeError"));
    let timeline = Timeline::new(&c.events);
    let failed_event = timeline.current("VolumeResizeFailed");
    let node_failure = pod.and_then(|p| node_expand_failure(p, c));
    let expanding = timeline.current("ExternalExpanding");
    let resizing_seen = timeline.latest("Resizing").is_some() || condition(c, "Resizing").is_some();
    let waited = expanding
        .and_then(|e| {
            e.first_timestamp
                .as_ref()
                .map(|t| t.0)
                .or_else(|| events::last_seen(e))
        })
        .map(|t| ctx.snap.now.as_second() - t.as_second())
        .unwrap_or(0);
    let no_resizer = expanding.is_some()
        && !resizing_seen
        && failed_event.is_none()
        && growing(c).is_some()
        && waited >= NO_RESIZER_SECONDS;
    if infeasible.is_none()
        && error_condition.is_none()
        && failed_event.is_none()
        && node_failure.is_none()
        && !no_resizer
    {
        return None;
    }
    let ns = c.namespace;
    let sizes = growing(c)
        .map(|(w, h)| format!(" from {h} to {w}"))
        .unwrap_or_default();
    let who = user_or_claim(pod, c);
    let summary = if no_resizer {
        format!("resizing {who}{sizes} has not started: no resizer acts on it")
    } else if let Some(v) = infeasible {
        format!("resizing {who}{sizes} was refused as infeasible ({v}): it will not be retried")
    } else if let (Some(e), None) = (node_failure, failed_event) {
        let node = pod.and_then(|p| p.node_name).unwrap_or("its node");
        format!(
            "the volume of {who} grew{sizes}, but growing its file system on node {node} fails: {}",
            provisioner_errors::brief(expand_error_of(events::message(e)))
        )
    } else {
        format!("resizing {who}{sizes} failed")
    };
    let mut cause = Cause::new(&RULE, summary).object(c.object());
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(v) = infeasible {
        cause = cause.evidence(format!("status.allocatedResourceStatuses.storage: {v}"));
    }
    if let Some(cond) = error_condition {
        cause = cause.evidence(format!(
            "condition {}: {}",
            cond.type_,
            cond.message.as_deref().unwrap_or("")
        ));
    }
    if let Some(e) = failed_event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(e) = node_failure {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
        let lower = events::message(e).to_ascii_lowercase();
        let refused_by_fs = ["resize2fs", "xfs_growfs", "btrfs"]
            .iter()
            .any(|t| lower.contains(t))
            && [
                "permission denied",
                "superblock",
                "bad geometry",
                "structure needs cleaning",
                "filesystem has errors",
            ]
            .iter()
            .any(|t| lower.contains(t));
        if failed_event.is_none() && !refused_by_fs {
            let node = pod.and_then(|p| p.node_name).unwrap_or("<node>");
            return Some(cause.fix(format!(
                "the node plugin could not grow the file system: its log on node {node} says why (kubectl get pods -A -o wide --field-selector spec.nodeName={node}, then kubectl logs <csi-node-pod> -c <driver container>); the kubelet retries each time a pod mounts the volume"
            )));
        }
        if failed_event.is_none() {
            cause = cause
                .fix("the node plugin's file system grow (resize2fs, xfs_growfs) fails on the node: a file system with errors refuses to grow online (resize2fs: Permission denied to resize filesystem is the kernel's refusal; dmesg on the node shows EXT4-fs errors), and restarting the pod hits the same error")
                .fix(format!(
                    "DATA RISK: stop the pods that use claim {}, snapshot the volume, repair it with fsck (e2fsck -f, xfs_repair) from a debug pod that mounts the claim's device without the file system, then start the pod so the kubelet grows it; follow it with {} describe pvc {}",
                    c.name,
                    kubectl_ns(ns),
                    c.name
                ));
            return Some(cause);
        }
    }
    if no_resizer {
        if let Some(e) = expanding {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        cause = cause.evidence(format!(
            "only ExternalExpanding for {} and no Resizing event: the external-resizer never picked it up",
            crate::model::age(ctx.snap.now - jiff::SignedDuration::from_secs(waited), ctx.snap.now)
        ));
    }
    let driver = c
        .volume_driver()
        .or(c.class.map(|s| s.provisioner.as_str()))
        .unwrap_or("the driver");
    cause = if no_resizer {
        cause.fix(format!(
            "check that the driver's controller runs a csi-resizer sidecar: kubectl get pods -A | grep -i {}; kubectl logs <controller-pod> -c csi-resizer",
            provisioner_errors::short_name(driver)
        ))
    } else {
        cause.fix(format!(
            "fix what the resizer says (backend quota, maximum size of the volume type, a volume type that cannot grow online), and the resizer retries by itself; follow it with {} describe pvc {}",
            kubectl_ns(ns),
            c.name
        ))
    };
    if infeasible.is_some() {
        cause = cause.fix(format!(
            "an infeasible request is not retried: lower spec.resources.requests.storage back to a size the backend accepts (recovery from a failed expansion, Kubernetes ≥1.32; it must stay above the current capacity {})",
            growing(c).map(|(_, h)| h).unwrap_or("the current capacity")
        ));
    }
    Some(cause)
}

/// The kubelet's failure to grow the claim's file system on the node:
/// `VolumeResizeFailed` (`NodeExpandVolume.NodeExpandVolume failed for
/// volume ...`) or `FailedMount` (`MountVolume.Setup failed while expanding
/// volume ...`) on the pod, about this claim's volume.
fn node_expand_failure<'a>(pod: &'a PodChain<'a>, c: &ClaimChain) -> Option<&'a crate::api::Event> {
    let pv = c.volume.and_then(|v| v.metadata.name.as_deref())?;
    let timeline = Timeline::new(&pod.events);
    let about_this = |e: &&crate::api::Event| events::message(e).contains(&format!("\"{pv}\""));
    timeline
        .current_all("VolumeResizeFailed")
        .chain(
            timeline
                .current_all("FailedMount")
                .filter(|e| is_node_expand_failure(events::message(e))),
        )
        .find(about_this)
}

/// A kubelet message about growing a file system on the node.
pub fn is_node_expand_failure(message: &str) -> bool {
    message.contains("while expanding volume")
        || message.contains("NodeExpandVolume")
        || message.contains("NodeExpand failed")
}

/// The node plugin's own error: its stderr when it quotes the tool's
/// output as JSON (`"stderr":"resize2fs: ..."`), else the text after the
/// last ` : `.
fn expand_error_of(message: &str) -> &str {
    if let Some((_, rest)) = message.split_once("\"stderr\":\"") {
        let err = rest.split('"').next().unwrap_or(rest);
        // The tool's output is quoted as JSON: its line breaks are `\n`.
        let last = err
            .split("\\n")
            .flat_map(str::lines)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .last();
        if let Some(line) = last {
            return line;
        }
    }
    message.rsplit(" : ").next().unwrap_or(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_file_system_the_node_cannot_grow_is_named_with_its_tool() {
        let mut c = pvc("config").size("200Gi").bound("pv-1");
        c.status.as_mut().unwrap().capacity = Some(BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("100Gi".into()),
        )]));
        let message = r#"NodeExpandVolume.NodeExpandVolume failed for volume "pv-1" : Expander.NodeExpand failed to expand the volume : rpc error: code = Internal desc = {"code":1,"stdout":"on-line resizing required\n","stderr":"resize2fs 1.47.0 (5-Feb-2023)\nresize2fs: Permission denied to resize filesystem\n","timeout":false}"#;
        let snap = snapshot(|o| {
            o.claims.push(c);
            o.volumes.push(pv("pv-1").bound_to("default", "config"));
            o.pods
                .push(pod("app").claim("config").on_node("n1").running());
            o.events.push(
                event("VolumeResizeFailed", message)
                    .warning()
                    .about("Pod", "default", "app"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            c[0].summary.ends_with(
                "on node node-1 fails: resize2fs: Permission denied to resize filesystem"
            ),
            "{t}"
        );
        assert!(t.contains("DATA RISK"), "{t}");
    }

    #[test]
    fn infeasible_resize_from_state_alone() {
        let mut c = pvc("data").class("gp3").size("20Ti").bound("pv-1");
        let status = c.status.as_mut().unwrap();
        status.capacity = Some(BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("10Ti".into()),
        )]));
        status.allocated_resource_statuses = Some(BTreeMap::from([(
            "storage".to_string(),
            "ControllerResizeInfeasible".to_string(),
        )]));
        let snap = snapshot(|o| o.claims.push(c));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(c[0].summary.contains("infeasible"), "{}", c[0].summary);
    }

    #[test]
    fn long_external_expanding_means_no_resizer() {
        let mut c = pvc("data").class("gp3").size("20Gi").bound("pv-1");
        c.status.as_mut().unwrap().capacity = Some(BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("10Gi".into()),
        )]));
        let mut waiting = event(
            "ExternalExpanding",
            "waiting for an external controller to expand this PVC",
        )
        .about("PersistentVolumeClaim", "default", "data");
        waiting.first_timestamp = Some(time("2026-11-20T09:20:00Z"));
        let snap = snapshot(|o| {
            o.claims.push(c);
            o.events.push(waiting);
        });
        let c = causes(&RULE, &snap);
        assert!(c[0].summary.contains("no resizer"), "{}", c[0].summary);
    }
}
