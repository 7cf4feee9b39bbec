//! The kubectl commands fixes give.

use crate::chain::{owner_of, PodChain};
use crate::rules::rule::Ctx;

/// `-n ns` for kubectl commands.
pub fn kubectl_ns(ns: &str) -> String {
    format!("kubectl -n {ns}")
}

/// How the workload of a pod is edited, or how a bare pod is replaced.
pub fn edit_pod_spec_hint(ctx: &Ctx, pod: &PodChain, change: &str) -> String {
    match owner_of(ctx.snap, pod.pod) {
        Some(owner) if owner.kind != "Node" => format!(
            "{} edit {} and {change} in the pod template; the controller replaces the pod",
            kubectl_ns(pod.namespace),
            owner.kubectl_name()
        ),
        _ => format!(
            "pod volumes cannot be changed in place: {ns} get pod {p} -o yaml > {p}.yaml, {change} in {p}.yaml, then {ns} replace --force -f {p}.yaml",
            ns = kubectl_ns(pod.namespace),
            p = pod.name
        ),
    }
}
