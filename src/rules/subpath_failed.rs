//! `subpath-failed`: a volumeMount's `subPath` or `subPathExpr` cannot be
//! prepared, so the container is never created. The volume itself mounted.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use crate::chain::{container_messages, ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};
use crate::volume_errors::subpath_failure;

pub const RULE: Rule = Rule {
    id: "subpath-failed",
    title: "a volumeMount's subPath cannot be prepared, so the container is not created",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/subpath-failed.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, node: &str, _: &[ClaimChain]) -> Vec<Cause> {
    let ns = pod.namespace;
    // The container's state first; the kubelet's `Failed` event says the same.
    let from_state = container_messages(pod.pod).into_iter().find_map(|says| {
        subpath_failure(says.message).map(|mount| {
            (
                mount.to_string(),
                Some(says.container),
                format!(
                    "container {} ({} {}): {}",
                    says.container, says.origin, says.reason, says.message
                ),
            )
        })
    });
    let from_event = || {
        Timeline::new(&pod.events)
            .current_all("Failed")
            .find_map(|e| {
                subpath_failure(events::message(e))
                    .map(|m| (m.to_string(), None, events::quote(e, ctx.snap.now)))
            })
    };
    let Some((mount_name, container, quote)) = from_state.or_else(from_event) else {
        return Vec::new();
    };
    // The mount that failed: the one named, else the only one with a subPath.
    let with_subpath: Vec<_> = pod
        .volumes
        .iter()
        .flat_map(|v| v.mounts.iter().map(move |m| (v, m)))
        .filter(|(_, m)| m.sub_path.is_some())
        .filter(|(_, m)| container.is_none_or(|c| m.container == c))
        .collect();
    let mount =
        with_subpath
            .iter()
            .find(|(v, _)| v.name == mount_name)
            .or(match with_subpath.as_slice() {
                [only] => Some(only),
                _ => None,
            });
    let what = match mount {
        Some((v, m)) => format!(
            "subPath \"{}\" of volume \"{}\" ({}) at {} in container {}",
            m.sub_path.unwrap_or(""),
            v.name,
            v.kind(),
            m.path,
            m.container
        ),
        None if !mount_name.is_empty() => format!("the subPath of volumeMount \"{mount_name}\""),
        None => "a subPath".to_string(),
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "pod {ns}/{} cannot create its container: the kubelet on {node} cannot prepare {what}",
            pod.name
        ),
    )
    .object(pod.object())
    .evidence(quote);
    let mut hints = vec![
        "a subPath is a path inside the volume; with subPathExpr it is expanded from the container's environment first, and must stay inside the volume (no '..', not absolute)".to_string(),
    ];
    if let Some((v, m)) = mount {
        for c in pod.pod.spec.iter().flat_map(|s| s.containers.iter()) {
            for vm in c.volume_mounts.iter().flatten() {
                if vm.name == v.name && vm.sub_path_expr.is_some() && c.name == m.container {
                    hints.push(format!(
                        "subPathExpr \"{}\" is expanded from the environment of container {}: an unset variable gives an empty or wrong path",
                        vm.sub_path_expr.as_deref().unwrap_or(""),
                        c.name
                    ));
                }
            }
        }
        match v.kind() {
            "configMap" | "secret" | "projected" => hints.push(format!(
                "volume \"{}\" is a {}: the subPath must be one of its keys (or items[].path), and a subPath mount never sees later updates of it",
                v.name,
                v.kind()
            )),
            "nfs" | "persistentVolumeClaim" | "csi" | "ephemeral" => hints.push(format!(
                "on a network file system the subPath directory may have been removed or the handle gone stale on node {node} (the kubelet's log shows the detail: journalctl -u kubelet | grep subPath)"
            )),
            _ => {}
        }
    }
    cause = cause.evidence_all(hints);
    cause = cause
        .fix(edit_pod_spec_hint(
            ctx,
            pod,
            "correct the volumeMount's subPath (or the variable its subPathExpr uses) so it names a path inside the volume",
        ))
        .fix(format!(
            "or create the directory inside the volume from another pod that mounts it; the kubelet retries by itself ({} describe pod {})",
            kubectl_ns(ns),
            pod.name
        ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ContainerStatus;
    use crate::fixtures::*;
    use serde_json::json;

    #[test]
    fn names_the_mount_and_its_subpath() {
        let mut p = pod("web").on_node("n1");
        let spec = p.spec.as_mut().unwrap();
        spec.volumes.get_or_insert_with(Vec::new).push(
            serde_json::from_value(json!({"name": "cfg", "configMap": {"name": "app"}})).unwrap(),
        );
        spec.containers[0].volume_mounts = Some(vec![serde_json::from_value(
            json!({"name": "cfg", "mountPath": "/etc/app.yaml", "subPath": "app.yaml"}),
        )
        .unwrap()]);
        let status: ContainerStatus = serde_json::from_value(json!({
            "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError",
                "message": "failed to prepare subPath for volumeMount \"cfg\" of container \"main\""}}
        }))
        .unwrap();
        p.status.as_mut().unwrap().container_statuses = Some(vec![status]);
        let snap = snapshot(|o| o.pods.push(p));
        let found = causes(&RULE, &snap);
        assert_eq!(found.len(), 1);
        assert!(
            found[0]
                .summary
                .contains("subPath \"app.yaml\" of volume \"cfg\" (configMap)"),
            "{}",
            found[0].summary
        );
    }

    #[test]
    fn other_config_errors_are_not_subpaths() {
        let mut p = pod("web").on_node("n1");
        let status: ContainerStatus = serde_json::from_value(json!({
            "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"db\" not found"}}
        }))
        .unwrap();
        p.status.as_mut().unwrap().container_statuses = Some(vec![status]);
        assert!(causes(&RULE, &snapshot(|o| o.pods.push(p))).is_empty());
    }
}
