//! `not-storage`: the pod is Pending or not ready for reasons outside its
//! volumes while its storage chain is healthy. Quotes the real reason and
//! invents no storage cause.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claims::{claim_ok, VOLUME_EVENT_REASONS};
use super::support::commands::kubectl_ns;
use crate::chain::{container_messages, has_failing_container, pod_state, Chain, PodChain};
use crate::events::Timeline;
use crate::model::{Confidence, Link, Severity};
use crate::volume_errors::fs_errors;

pub const RULE: Rule = Rule {
    id: "not-storage",
    title: "the pod is blocked by something other than its storage",
    severity: Severity::Warning,
    link: Link::PodToNode,
    check: Check::Fallback(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/not-storage.md"),
};

/// What could still hide a storage cause: each line says what was not
/// checked. Only a pod whose every volume was checked earns high confidence.
fn not_checked(ctx: &Ctx, pod: &PodChain) -> Vec<String> {
    let mut lines = Vec::new();
    let data: Vec<&str> = pod
        .volumes
        .iter()
        .filter(|v| v.holds_data())
        .map(|v| v.name)
        .collect();
    if has_failing_container(pod.pod) && !data.is_empty() {
        let (logs, usage) = (ctx.snap.logs_read(), ctx.snap.usage_read());
        let how = format!(
            "a crash on a full or unwritable volume shows only there (kubectl -n {} logs {} --previous)",
            pod.namespace, pod.name
        );
        let volumes = data.join(", ");
        match (logs, usage) {
            (true, true) => {}
            (false, false) => lines.push(format!(
                "not checked: the logs of the failing container(s) and how full volume(s) {volumes} are; {how}; --logs and --usage read them"
            )),
            (false, true) => lines.push(format!(
                "not checked: the logs of the failing container(s); {how}; --logs reads them"
            )),
            (true, false) => lines.push(format!(
                "not checked: how full volume(s) {volumes} are; --usage reads it"
            )),
        }
    }
    for says in container_messages(pod.pod) {
        let errors = fs_errors(says.message);
        if let Some(e) = errors.first() {
            lines.push(format!(
                "container {} reports \"{}\" ({}: {}), on no volume this tool could name",
                says.container,
                e.as_str(),
                says.origin,
                says.message
            ));
        }
    }
    // A runtime that takes too long to create a container: it may be
    // relabelling (SELinux) or chowning every file of a large volume.
    let creation_times_out = container_messages(pod.pod).iter().any(|says| {
        says.reason == "CreateContainerError"
            && (says.message.contains("context deadline exceeded")
                || says.message.contains("is reserved for"))
    }) || pod.events.iter().any(|e| {
        let m = crate::events::message(e);
        crate::events::reason(e) == "Failed"
            && (m.contains("failed to reserve container name")
                || m.contains("context deadline exceeded"))
    });
    if creation_times_out && !data.is_empty() {
        let selinux = pod.pod.spec.as_ref().is_some_and(|s| {
            s.security_context
                .as_ref()
                .is_some_and(|c| c.se_linux_options.is_some())
                || s.containers.iter().any(|c| {
                    c.security_context
                        .as_ref()
                        .is_some_and(|c| c.se_linux_options.is_some())
                })
        });
        lines.push(format!(
            "not checked: creating the container times out on a pod with data volume(s) {}; a runtime that relabels every file of a large volume for SELinux{} or changes its ownership for fsGroup takes that long (the runtime's log on the node shows it; mount-time labels, CSIDriver seLinuxMount with a ReadWriteOncePod claim, avoid the relabel)",
            data.join(", "),
            if selinux { " (the pod sets seLinuxOptions)" } else { "" }
        ));
    }
    if pod.node_name.is_some() && !ctx.snap.has("events") {
        lines.push("not checked: the kubelet's events, which could not be read".to_string());
    }
    lines
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let Some(pod) = &chain.pod else {
        return Vec::new();
    };
    if pod.healthy {
        return Vec::new();
    }
    let scheduled = pod.node_name.is_some();
    if !chain.claims.iter().all(|c| claim_ok(c, scheduled)) {
        return Vec::new();
    }
    if let Some(s) = &pod.scheduling {
        if s.verdict.storage_reasons().next().is_some() {
            return Vec::new();
        }
    }
    let timeline = Timeline::new(&pod.events);
    if VOLUME_EVENT_REASONS
        .iter()
        .any(|r| timeline.current(r).is_some())
    {
        return Vec::new();
    }
    let ns = pod.namespace;
    let state = pod_state(pod.pod);
    let other: Vec<String> = pod
        .scheduling
        .as_ref()
        .map(|s| {
            s.verdict
                .other_reasons()
                .map(|r| match r.nodes {
                    Some(n) => format!("{} ({n} node(s))", r.text),
                    None => r.text.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let summary = if !other.is_empty() {
        format!(
            "pod {ns}/{} is {state} for reasons outside its storage: {}",
            pod.name,
            other.join("; ")
        )
    } else {
        format!(
            "pod {ns}/{} is {state}, which is not a storage problem: its claims and volumes show no error",
            pod.name
        )
    };
    let mut cause = Cause::new(&RULE, summary).object(pod.object());
    if let Some(s) = &pod.scheduling {
        cause = cause.evidence(format!("scheduler ({}): {}", s.source, s.verdict.message));
    }
    for c in &chain.claims {
        cause = cause.evidence(if c.is_bound() {
            format!(
                "claim {ns}/{} is Bound{}",
                c.name,
                c.volume
                    .and_then(|v| v.metadata.name.as_deref())
                    .map(|v| format!(" to {v}"))
                    .unwrap_or_default()
            )
        } else {
            format!(
                "claim {ns}/{} waits for this pod to be scheduled (WaitForFirstConsumer) and binds once the pod fits a node",
                c.name
            )
        });
    }
    if let Some(waiting) = pod
        .pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| {
            c.state
                .as_ref()?
                .waiting
                .as_ref()
                .map(|w| (c.name.clone(), w.clone()))
        })
    {
        let (name, w) = waiting;
        cause = cause.evidence(format!(
            "container {name} is waiting: {}{}",
            w.reason.unwrap_or_default(),
            w.message.map(|m| format!(": {m}")).unwrap_or_default()
        ));
    }
    let unchecked = not_checked(ctx, pod);
    if !unchecked.is_empty() {
        cause = cause.confidence(Confidence::Medium).evidence_all(unchecked);
    }
    cause = cause.fix(format!(
        "storage is not what blocks this pod; read the scheduler's and kubelet's reasons: {} describe pod {}",
        kubectl_ns(ns),
        pod.name
    ));
    let all = other.join(" ").to_lowercase();
    if all.contains("insufficient") {
        cause = cause
            .fix("free capacity on the nodes (or add nodes), or lower the pod's resource requests");
    }
    if all.contains("node.kubernetes.io/") {
        cause = cause.fix("a node.kubernetes.io/ taint (not-ready, unreachable, memory-pressure, pid-pressure, unschedulable) reflects the node's state and goes once the node is fixed: kubectl describe node <node>; tolerating or removing it puts the pod on a node that cannot run it");
    } else if all.contains("taint") {
        cause = cause.fix("add a matching toleration to the pod, or remove the taint from the nodes it should use");
    }
    if all.contains("affinity") || all.contains("selector") {
        cause = cause.fix("check the pod's nodeSelector and affinity against the nodes' labels (kubectl get nodes --show-labels)");
    }
    if state.contains("ImagePull") || state == "ErrImagePull" || state == "InvalidImageName" {
        cause = cause
            .fix("check the image name and tag, and the registry credentials (imagePullSecrets)");
    }
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn pending_for_cpu_with_a_wffc_claim() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").wait_for_consumer());
            o.claims.push(pvc("data").class("gp3"));
            o.pods.push(pod("trainer").claim("data").unschedulable(
                "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
            ));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Warning);
        assert!(
            c[0].summary.contains("Insufficient cpu (2 node(s))"),
            "{}",
            c[0].summary
        );
        assert!(text(&c[0]).contains("waits for this pod to be scheduled"));
    }

    #[test]
    fn image_pull_on_a_bound_claim() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("web")
                    .claim("data")
                    .phase("Pending")
                    .on_node("n1")
                    .waiting("ImagePullBackOff"),
            );
        });
        let c = causes(&RULE, &snap);
        assert!(
            c[0].summary.contains("ImagePullBackOff"),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn storage_trouble_is_not_this_rule() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").class("gone"));
            o.pods.push(pod("web").claim("data"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn the_not_checked_line_goes_once_logs_and_usage_were_read() {
        let build = |evidence: crate::snapshot::NodeEvidence| {
            snapshot(|o| {
                o.claims.push(pvc("data").bound("pv-1"));
                o.volumes.push(pv("pv-1").bound_to("default", "data"));
                o.pods.push(
                    pod("web")
                        .claim("data")
                        .mount("vol0", "/data")
                        .crash_looping("exec format error"),
                );
            })
            .with_evidence(evidence)
        };
        let said = |snap: &crate::snapshot::Snapshot| {
            causes(&RULE, snap)
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let none = said(&build(Default::default()));
        assert!(none.contains("not checked: the logs"), "{none}");
        let read = said(&build(crate::snapshot::NodeEvidence {
            usage: Some(Vec::new()),
            logs: Some(Vec::new()),
        }));
        assert!(!read.contains("not checked"), "{read}");
        let usage_only = said(&build(crate::snapshot::NodeEvidence {
            usage: Some(Vec::new()),
            logs: None,
        }));
        assert!(usage_only.contains("--logs reads them"), "{usage_only}");
    }
}
