//! `ephemeral-storage-exhausted`: the node's own disk (what containers
//! write to their file system, their logs, emptyDir volumes) or the pod's
//! share of it ran out. The kubelet evicted the pod, or the scheduler finds
//! no node with room for it. The pod may have no claim at all, and a scan
//! that looked only at claims would call it healthy.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use crate::chain::{
    disk_eviction_of, has_disk_pressure_taint, node_disk_block, under_disk_pressure, ClaimChain,
    PodChain,
};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::{Reason, ReasonKind};
use crate::volume_errors::DiskEviction;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

pub const RULE: Rule = Rule {
    id: "ephemeral-storage-exhausted",
    title: "the node's disk or the pod's ephemeral-storage limit ran out: the kubelet evicted the pod, or no node has room for it",
    severity: Severity::Error,
    link: Link::PodToNode,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/ephemeral-storage-exhausted.md"),
};

/// Kubelet events about a node's disk: its eviction manager at work, and
/// image garbage collection that could not free enough.
const NODE_DISK_EVENTS: &[&str] = &[
    "EvictionThresholdMet",
    "FreeDiskSpaceFailed",
    "ImageGCFailed",
];

/// Nodes listed by name before the rest are counted.
const NODES_SHOWN: usize = 5;

fn check(ctx: &Ctx, pod: &PodChain, _claims: &[ClaimChain]) -> Vec<Cause> {
    if let Some(kind) = disk_eviction_of(pod.pod) {
        return vec![evicted(ctx, pod, kind)];
    }
    if pod.node_name.is_some() {
        return Vec::new();
    }
    pod.scheduling
        .as_ref()
        .and_then(|s| Some((s, node_disk_block(ctx.snap, s)?)))
        .map(|(s, reason)| kept_off(ctx, pod, &s.source, &s.verdict.message, reason))
        .into_iter()
        .collect()
}

fn evicted(ctx: &Ctx, pod: &PodChain, kind: DiskEviction) -> Cause {
    let (ns, name) = (pod.namespace, pod.name);
    let node = pod.node_name.unwrap_or("its node");
    let still_pressed = pod.node.is_some_and(under_disk_pressure);
    let summary = match kind {
        DiskEviction::NodeLowOnDisk => format!(
            "node {node} ran low on disk (ephemeral storage) and the kubelet evicted pod {ns}/{name}{}",
            if still_pressed { "; the node is still under DiskPressure" } else { "" }
        ),
        DiskEviction::ContainerLimit => format!(
            "the kubelet evicted pod {ns}/{name}: a container wrote more to node {node}'s disk (its file system, its logs, emptyDir volumes) than its ephemeral-storage limit"
        ),
        DiskEviction::PodLimit => format!(
            "the kubelet evicted pod {ns}/{name}: its containers together wrote more to node {node}'s disk than the sum of their ephemeral-storage limits"
        ),
        DiskEviction::EmptyDirLimit => format!(
            "the kubelet evicted pod {ns}/{name}: an emptyDir volume grew past its sizeLimit"
        ),
    };
    let message = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.message.as_deref())
        .unwrap_or("");
    let mut cause = Cause::new(&RULE, summary)
        .object(pod.object())
        .evidence(format!(
            "pod status: Failed, reason Evicted: {}",
            message.trim()
        ));
    if let Some(e) = Timeline::new(&pod.events).latest("Evicted") {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    if let Some(n) = pod.node {
        cause = cause
            .object(ObjectRef::node(node))
            .evidence(disk_state(n))
            .evidence_all(node_disk_events(ctx, node));
    }
    cause = cause.evidence_all(ephemeral_resources(pod));
    cause = match kind {
        DiskEviction::NodeLowOnDisk => {
            if !still_pressed && pod.node.is_some() {
                cause = cause.severity(Severity::Warning);
            }
            free_disk_fixes(cause, &[node])
                .fix(edit_pod_spec_hint(
                    ctx,
                    pod,
                    "give each container resources.requests.ephemeral-storage near what it writes (and a limit): under disk pressure the kubelet evicts first the pods that use more than they requested",
                ))
                .fix("data that grows belongs on a PersistentVolumeClaim, not in the container's file system or an emptyDir")
        }
        DiskEviction::ContainerLimit | DiskEviction::PodLimit => cause
            .fix(edit_pod_spec_hint(
                ctx,
                pod,
                "raise resources.limits.ephemeral-storage of the container that writes",
            ))
            .fix("or stop the growth: what it logs to stdout, files in its own file system and its emptyDir volumes all count; data that must grow belongs on a PersistentVolumeClaim"),
        DiskEviction::EmptyDirLimit => cause
            .fix(edit_pod_spec_hint(ctx, pod, "raise the emptyDir's sizeLimit"))
            .fix("or keep the data on a PersistentVolumeClaim, whose size the kubelet does not police"),
    };
    cause.fix(format!(
        "the evicted pod stays as a record until deleted: {} delete pod {name} (its controller, if any, already made a new one)",
        kubectl_ns(ns)
    ))
}

fn kept_off(ctx: &Ctx, pod: &PodChain, source: &str, message: &str, reason: &Reason) -> Cause {
    let (ns, name) = (pod.namespace, pod.name);
    let pressed: Vec<&Node> = ctx
        .snap
        .objects
        .nodes
        .iter()
        .filter(|n| under_disk_pressure(n))
        .collect();
    let counted = reason
        .nodes
        .map(|n| format!("{n} node(s)"))
        .unwrap_or_else(|| "nodes".to_string());
    let mut cause = if reason.kind == ReasonKind::InsufficientEphemeralStorage {
        Cause::new(
            &RULE,
            format!(
                "pod {ns}/{name} asks for more ephemeral storage than {counted} can still give, so the scheduler places it nowhere"
            ),
        )
    } else {
        Cause::new(
            &RULE,
            format!(
                "{counted} refuse pod {ns}/{name} because their disk is full (DiskPressure)"
            ),
        )
    }
    .object(pod.object())
    .evidence(format!("{source}: {message}"));
    if reason.kind == ReasonKind::Other {
        cause = cause.confidence(Confidence::Medium).evidence(format!(
            "the scheduler names no taint; {} node(s) carry node.kubernetes.io/disk-pressure, other taints may also apply",
            pressed.len()
        ));
    }
    for n in pressed.iter().take(NODES_SHOWN) {
        let node = n.metadata.name.as_deref().unwrap_or("");
        cause = cause
            .object(ObjectRef::node(node))
            .evidence(disk_state(n))
            .evidence_all(node_disk_events(ctx, node));
    }
    if pressed.len() > NODES_SHOWN {
        cause = cause.evidence(format!(
            "and {} more node(s) under DiskPressure",
            pressed.len() - NODES_SHOWN
        ));
    }
    cause = cause.evidence_all(ephemeral_resources(pod));
    if reason.kind == ReasonKind::InsufficientEphemeralStorage {
        return cause
            .fix(edit_pod_spec_hint(
                ctx,
                pod,
                "lower resources.requests.ephemeral-storage to what the pod writes",
            ))
            .fix("or add nodes with larger disks: kubectl describe nodes shows each node's Allocatable ephemeral-storage and what its pods already requested (Allocated resources)");
    }
    let names: Vec<&str> = pressed
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    free_disk_fixes(cause, &names).fix(
        "do not tolerate node.kubernetes.io/disk-pressure: the kubelet would evict the pod again; the taint goes by itself once the node's disk is below the eviction threshold",
    )
}

fn free_disk_fixes(cause: Cause, nodes: &[&str]) -> Cause {
    let (which, node) = match nodes {
        [one] => (format!("node {one}"), *one),
        _ => (format!("the {} nodes", nodes.len()), "<node>"),
    };
    cause.fix(format!(
        "free disk on {which}: kubectl describe node {node} (Conditions, Allocatable, Events); on the node, crictl rmi --prune removes unused images, and du -sh /var/log/pods/* /var/lib/kubelet/pods/* /var/lib/containerd shows what grew (container logs, emptyDir volumes, writable layers)"
    ))
}

/// The node's DiskPressure condition and taint, as one line.
fn disk_state(n: &Node) -> String {
    let name = n.metadata.name.as_deref().unwrap_or("");
    let condition = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "DiskPressure"));
    let mut line = match condition {
        Some(c) => format!(
            "node {name}: DiskPressure {}{}",
            c.status,
            c.message
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ),
        None => format!("node {name}: no DiskPressure condition reported"),
    };
    if has_disk_pressure_taint(n) {
        line.push_str(", taint node.kubernetes.io/disk-pressure");
    }
    line
}

/// The newest kubelet events about the node's disk.
fn node_disk_events(ctx: &Ctx, node: &str) -> Vec<String> {
    let events = ctx.snap.events_for("Node", "", node, None);
    let timeline = Timeline::new(&events);
    NODE_DISK_EVENTS
        .iter()
        .filter_map(|r| timeline.latest(r))
        .map(|e| events::quote(e, ctx.snap.now))
        .collect()
}

/// Each container's ephemeral-storage request and limit.
fn ephemeral_resources(pod: &PodChain) -> Vec<String> {
    let Some(spec) = pod.pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .map(|c| {
            let resources = c.resources.as_ref();
            let get = |which: Option<&BTreeMap<String, Quantity>>| {
                which
                    .and_then(|m| m.get("ephemeral-storage"))
                    .map_or("none".to_string(), |q| q.0.clone())
            };
            format!(
                "container {}: ephemeral-storage request {}, limit {}",
                c.name,
                get(resources.and_then(|r| r.requests.as_ref())),
                get(resources.and_then(|r| r.limits.as_ref()))
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn evicted_pod(message: &str) -> crate::api::Pod {
        let mut p = pod("web").on_node("n1").phase("Failed");
        let status = p.status.get_or_insert_with(Default::default);
        status.reason = Some("Evicted".into());
        status.message = Some(message.into());
        p
    }

    #[test]
    fn a_pod_evicted_for_the_node_disk_is_an_error_while_the_node_is_pressed() {
        let snap = snapshot(|o| {
            o.nodes
                .push(node("n1").taint(crate::chain::DISK_PRESSURE_TAINT, "NoSchedule"));
            o.pods.push(evicted_pod("The node was low on resource: ephemeral-storage. Container web was using 34260Ki, which exceeds its request of 0. "));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Error);
        assert!(
            c[0].summary.contains("still under DiskPressure"),
            "{}",
            c[0].summary
        );
        assert!(c[0].evidence.iter().any(|e| e.contains("34260Ki")));
        assert!(c[0]
            .evidence
            .iter()
            .any(|e| e == "container main: ephemeral-storage request none, limit none"));
    }

    #[test]
    fn a_past_node_eviction_is_a_warning_and_a_limit_eviction_an_error() {
        let node_pressure = snapshot(|o| {
            o.nodes.push(node("n1"));
            o.pods.push(evicted_pod(
                "The node was low on resource: ephemeral-storage.",
            ));
        });
        assert_eq!(causes(&RULE, &node_pressure)[0].severity, Severity::Warning);
        let limit = snapshot(|o| {
            o.nodes.push(node("n1"));
            o.pods.push(evicted_pod("Pod ephemeral local storage usage exceeds the total limit of containers 1073741824. "));
        });
        let c = causes(&RULE, &limit);
        assert_eq!(c[0].severity, Severity::Error);
        assert!(c[0]
            .fix
            .iter()
            .any(|f| f.contains("limits.ephemeral-storage")));
    }

    #[test]
    fn a_memory_eviction_is_not_this_rule() {
        let snap = snapshot(|o| {
            o.nodes.push(node("n1"));
            o.pods.push(evicted_pod("The node was low on resource: memory. Container web was using 3Gi, which exceeds its request of 1Gi."));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_pending_pod_kept_off_nodes_under_disk_pressure() {
        let named = snapshot(|o| {
            o.nodes
                .push(node("n1").taint(crate::chain::DISK_PRESSURE_TAINT, "NoSchedule"));
            o.pods.push(pod("web").unschedulable("0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."));
        });
        let c = causes(&RULE, &named);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::High);
        assert!(c[0].fix.iter().any(|f| f.contains("do not tolerate")));
        let unnamed = snapshot(|o| {
            o.nodes
                .push(node("n1").taint(crate::chain::DISK_PRESSURE_TAINT, "NoSchedule"));
            o.pods.push(pod("web").unschedulable(
                "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.",
            ));
        });
        assert_eq!(causes(&RULE, &unnamed)[0].confidence, Confidence::Medium);
        let other_taint = snapshot(|o| {
            o.nodes.push(node("n1").taint("dedicated", "NoSchedule"));
            o.pods.push(pod("web").unschedulable(
                "0/1 nodes are available: 1 node(s) had taints that the pod didn't tolerate.",
            ));
        });
        assert!(causes(&RULE, &other_taint).is_empty());
    }

    #[test]
    fn a_request_no_node_can_hold() {
        let snap = snapshot(|o| {
            o.nodes.push(node("n1"));
            o.pods.push(
                pod("web")
                    .unschedulable("0/3 nodes are available: 3 Insufficient ephemeral-storage."),
            );
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary
                .contains("more ephemeral storage than 3 node(s)"),
            "{}",
            c[0].summary
        );
        assert!(c[0]
            .fix
            .iter()
            .any(|f| f.contains("requests.ephemeral-storage")));
    }
}
