//! `pod-stuck-terminating`: a pod with volumes is past its deletion's grace
//! period and still there, so its volumes are not released (unmounted,
//! detached) and the claim cannot move to another pod or node.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::lost_nodes::{lost, out_of_service_fix};
use crate::api::{Pod, Volume};
use crate::chain::{overdue, storage_volumes, ClaimChain, PodChain};
use crate::events;
use crate::model::{age, Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "pod-stuck-terminating",
    title: "a pod with volumes is past its grace period and still Terminating, so its volumes are not released",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/pod-stuck-terminating.md"),
};

/// What the kubelet and CSI node plugins say when a volume does not come
/// down (any event reason: kubelets and tools post them differently).
const TEARDOWN: &[&str] = &[
    "unmountvolume",
    "unmapvolume",
    "unmapdevice",
    "unmountdevice",
    "teardownat failed",
    "teardown failed",
    "nodeunpublishvolume",
    "nodeunstagevolume",
    "mounted volumes=[",
    "device or resource busy",
    "target is busy",
    "device is busy",
];

/// Teardown errors that mean a process on the node holds the mount.
const BUSY: &[&str] = &[
    "device or resource busy",
    "target is busy",
    "device is busy",
];

fn lower_contains(text: &str, any: &[&str]) -> bool {
    let lower = text.to_lowercase();
    any.iter().any(|w| lower.contains(w))
}

/// The kind of a storage volume, as the pod spec names it.
fn kind(v: &Volume) -> &'static str {
    if v.persistent_volume_claim.is_some() {
        "persistentVolumeClaim"
    } else if v.ephemeral.is_some() {
        "ephemeral"
    } else if v.csi.is_some() {
        "csi"
    } else if v.nfs.is_some() {
        "nfs"
    } else if v.host_path.is_some() {
        "hostPath"
    } else if v.iscsi.is_some() {
        "iscsi"
    } else if v.rbd.is_some() {
        "rbd"
    } else if v.cephfs.is_some() {
        "cephfs"
    } else if v.fc.is_some() {
        "fc"
    } else {
        "volume"
    }
}

fn container_states(pod: &Pod) -> Vec<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
        .map(|c| c.name.clone())
        .collect()
}

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let node = pod.node_name;
    let lost_node = node.and_then(|n| lost(ctx, n));
    let late = overdue(pod.pod, ctx.snap.now);
    // On a lost node the deletion never finishes, however young it is.
    let deleted_on_lost = pod
        .pod
        .metadata
        .deletion_timestamp
        .as_ref()
        .filter(|_| lost_node.is_some());
    if late.is_none() && deleted_on_lost.is_none() {
        return Vec::new();
    }
    let volumes: Vec<&Volume> = storage_volumes(pod.pod).collect();
    if volumes.is_empty() {
        return Vec::new();
    }
    let ns = pod.namespace;
    let now = ctx.snap.now;
    let names: Vec<&str> = volumes.iter().map(|v| v.name.as_str()).collect();
    let mut cause = match (&late, deleted_on_lost, &lost_node) {
        (Some(late), _, _) => {
            let requested = late.requested();
            Cause::new(
                &RULE,
                format!(
                    "pod {ns}/{} has been Terminating for {}, {} past its {}s grace period: its volumes ({}) are not released",
                    pod.name,
                    age(requested, now),
                    age(late.due, now),
                    late.grace_seconds,
                    names.join(", ")
                ),
            )
            .evidence(format!(
                "deletion requested at {requested} with a {}s grace period: deletionTimestamp {} is {} ago (phase {})",
                late.grace_seconds,
                late.due,
                age(late.due, now),
                pod.phase()
            ))
        }
        (None, Some(due), Some(l)) => Cause::new(
            &RULE,
            format!(
                "pod {ns}/{} is being deleted on node {}, which is {}: its kubelet cannot stop it or release its volumes ({}), so it stays Terminating",
                pod.name,
                l.name,
                l.state,
                names.join(", ")
            ),
        )
        .evidence(format!(
            "deletionTimestamp {} (phase {})",
            due.0,
            pod.phase()
        )),
        _ => return Vec::new(),
    }
    .object(pod.object());
    // State first: the volumes, their attachments, the node, the containers.
    let mut rwo = Vec::new();
    for v in &volumes {
        let claim = claims
            .iter()
            .find(|c| c.usage.as_ref().is_some_and(|u| u.volume == v.name));
        match claim {
            Some(c) => {
                cause = cause.object(c.object());
                let modes = c.access_modes();
                if !modes
                    .iter()
                    .any(|m| *m == "ReadWriteMany" || *m == "ReadOnlyMany")
                {
                    rwo.push(c.name.clone());
                }
                let pv = c.volume.and_then(|p| p.metadata.name.as_deref());
                cause = cause.evidence(format!(
                    "volume {} is claim {ns}/{} ({}{})",
                    v.name,
                    c.name,
                    pv.map_or("no volume bound".to_string(), |p| format!("volume {p}")),
                    if modes.is_empty() {
                        String::new()
                    } else {
                        format!(", {}", modes.join(","))
                    }
                ));
                for va in c
                    .attachments
                    .iter()
                    .filter(|va| va.status.as_ref().is_some_and(|s| s.attached))
                {
                    cause = cause.evidence(format!(
                        "VolumeAttachment {} still attaches {} to node {} (attached: true)",
                        va.metadata.name.as_deref().unwrap_or(""),
                        pv.unwrap_or(""),
                        va.spec.node_name
                    ));
                }
            }
            None => {
                cause = cause.evidence(format!("volume {} ({})", v.name, kind(v)));
            }
        }
    }
    match (&lost_node, node) {
        (Some(l), _) => {
            cause = cause
                .object(ObjectRef::node(l.name))
                .evidence_all(l.evidence.clone())
                .evidence(format!(
                    "node {} is {}: its kubelet cannot stop the containers, unmount the volumes or confirm the deletion",
                    l.name, l.state
                ));
        }
        (None, Some(n)) if ctx.snap.node(n).is_some() => {
            cause = cause.evidence(format!(
                "node {n} is Ready: its kubelet runs but has not finished the pod"
            ));
        }
        (None, Some(n)) => {
            cause = cause.evidence(format!("the state of node {n} is not in the input"));
        }
        (None, None) => {
            cause = cause.evidence("the pod was never scheduled to a node");
        }
    }
    let running = container_states(pod.pod);
    if !running.is_empty() {
        cause = cause.evidence(format!(
            "containers still reported running: {}",
            running.join(", ")
        ));
    }
    // Events second: what the kubelet or the node plugin said.
    let teardown: Vec<_> = pod
        .events
        .iter()
        .copied()
        .filter(|e| lower_contains(events::message(e), TEARDOWN))
        .collect();
    for e in teardown.iter().take(3) {
        cause = cause.evidence(events::quote(e, now));
    }
    let busy = teardown
        .iter()
        .any(|e| lower_contains(events::message(e), BUSY));
    let finalizers: Vec<&str> = pod
        .pod
        .metadata
        .finalizers
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !finalizers.is_empty() {
        cause = cause.evidence(format!(
            "the pod has finalizers [{}]: the API server keeps it until they are removed",
            finalizers.join(", ")
        ));
    }
    let explained = lost_node.is_some() || !teardown.is_empty() || !finalizers.is_empty();
    if !explained {
        cause = cause
            .severity(Severity::Warning)
            .confidence(Confidence::Medium);
    }
    // Fixes, the likeliest first.
    let uid = pod.pod.metadata.uid.as_deref().unwrap_or("<pod-uid>");
    let on = node.unwrap_or("<node>");
    if let Some(l) = &lost_node {
        cause = cause.fix(format!(
            "the kubelet on node {} cannot finish the pod: {}",
            l.name,
            out_of_service_fix(l)
        ));
    }
    if busy {
        cause = cause.fix(format!(
            "a process on node {on} still holds the mount: on the node, findmnt -rn | grep {uid} lists the pod's mounts, and fuser -vm <mount> (or lsof +f -- <mount>) names the process holding it (a leftover container process, a backup or monitoring agent, a shell inside the directory); stop it and the kubelet retries the unmount (every 2 minutes at most)"
        ));
    } else if !teardown.is_empty() {
        cause = cause.fix(format!(
            "the volume's teardown fails: read the CSI node plugin's log on node {on} (NodeUnpublishVolume / NodeUnstageVolume) and the kubelet's: journalctl -u kubelet | grep {uid}"
        ));
    }
    if lost_node.is_none() && teardown.is_empty() {
        cause = cause.fix(format!(
            "read the kubelet log on node {on} for the pod: journalctl -u kubelet | grep {uid} (`mounted volumes=[...]` means a volume does not come down; `Orphaned pod ... volume paths are still present on disk` means its directories could not be removed)"
        ));
    }
    if !finalizers.is_empty() {
        cause = cause.fix(format!(
            "the finalizers [{}] are removed by the controller that set them; only if that controller is gone: {} patch pod {} --type=merge -p '{{\"metadata\":{{\"finalizers\":null}}}}'",
            finalizers.join(", "),
            kubectl_ns(ns),
            pod.name
        ));
    }
    let risk = if rwo.is_empty() {
        "the volumes may still be mounted there".to_string()
    } else {
        format!(
            "DATA RISK for the ReadWriteOnce claim(s) {}: if node {on} is still alive its containers may keep writing while a replacement pod mounts the same volume elsewhere, two writers",
            rwo.join(", ")
        )
    };
    cause = cause.fix(format!(
        "{} delete pod {} --grace-period=0 --force removes only the API object, not the containers or mounts on the node: {risk}. Use it only once the node is confirmed off, and then prefer the out-of-service taint, which also detaches the volumes",
        kubectl_ns(ns),
        pod.name
    ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn terminating(p: Pod, due: &str, grace: i64) -> Pod {
        let mut p = p;
        p.metadata.deletion_timestamp = Some(time(due));
        p.metadata.deletion_grace_period_seconds = Some(grace);
        p
    }

    fn fill(o: &mut crate::snapshot::Objects, node: k8s_openapi::api::core::v1::Node, due: &str) {
        o.nodes.push(node);
        o.claims.push(pvc("data").bound("pv-1"));
        o.volumes.push(pv("pv-1").bound_to("default", "data"));
        o.attachments.push(attachment("pv-1", "node-a", true));
        o.pods.push(terminating(
            pod("db-0").claim("data").on_node("node-a").phase("Running"),
            due,
            30,
        ));
        o.events
            .push(event("Killing", "Stopping container main").at("2026-11-20T10:10:00Z"));
    }

    #[test]
    fn lost_node_gets_the_taint_and_force_delete_is_data_risk() {
        let snap = snapshot(|o| fill(o, node("node-a").not_ready(), "2026-11-20T10:00:30Z"));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Error);
        let t = text(&c[0]);
        assert!(t.contains("9m30s past its 30s grace period"), "{t}");
        assert!(
            t.contains("VolumeAttachment csi-pv-1-node-a still attaches pv-1"),
            "{t}"
        );
        assert!(t.contains("out-of-service=nodeshutdown:NoExecute"), "{t}");
        assert!(t.contains("--grace-period=0 --force"), "{t}");
        assert!(
            t.contains("DATA RISK for the ReadWriteOnce claim(s) data"),
            "{t}"
        );
    }

    #[test]
    fn busy_mount_points_at_the_process_on_the_node() {
        let snap = snapshot(|o| {
            fill(o, node("node-a"), "2026-11-20T10:00:30Z");
            o.events.push(
                event(
                    "FailedMount",
                    "UnmountVolume.TearDown failed for volume \"data\" (UniqueName: \"kubernetes.io/csi/ebs.csi.aws.com^vol-1\") pod \"uid-db-0\" (UID: \"uid-db-0\") : kubernetes.io/csi: Unmounter.TearDownAt failed: rpc error: code = Internal desc = umount failed: exit status 32 Output: umount: /var/lib/kubelet/pods/uid-db-0/volumes/kubernetes.io~csi/pv-1/mount: target is busy.",
                )
                .warning()
                .about("Pod", "default", "db-0"),
            );
        });
        let c = causes(&RULE, &snap);
        let t = text(&c[0]);
        assert_eq!(c[0].severity, Severity::Error);
        assert!(t.contains("fuser -vm"), "{t}");
        assert!(t.contains("target is busy"), "{t}");
    }

    #[test]
    fn ready_node_without_evidence_is_a_warning() {
        let snap = snapshot(|o| fill(o, node("node-a"), "2026-11-20T10:00:30Z"));
        let c = causes(&RULE, &snap);
        assert_eq!(c[0].severity, Severity::Warning);
        assert!(text(&c[0]).contains("journalctl -u kubelet"));
    }

    #[test]
    fn within_the_grace_period_it_is_not_stuck_unless_its_node_is_lost() {
        let snap = snapshot(|o| fill(o, node("node-a"), "2026-11-20T10:10:20Z"));
        assert!(causes(&RULE, &snap).is_empty());
        let snap = snapshot(|o| fill(o, node("node-a").not_ready(), "2026-11-20T10:10:20Z"));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary
                .contains("is being deleted on node node-a, which is NotReady"),
            "{}",
            c[0].summary
        );
    }

    #[test]
    fn finished_pod_held_by_a_finalizer_is_a_subject() {
        let snap = snapshot(|o| {
            o.nodes.push(node("node-a"));
            let mut p = terminating(
                pod("job-1")
                    .claim("data")
                    .on_node("node-a")
                    .phase("Succeeded"),
                "2026-11-20T09:00:00Z",
                30,
            );
            p.metadata.finalizers = Some(vec!["example.com/backup".into()]);
            o.pods.push(p);
            o.claims.push(pvc("data").bound("pv-1"));
            o.events.push(event("X", "y").at("2026-11-20T10:10:00Z"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("finalizers [example.com/backup]"), "{t}");
        assert!(t.contains("--type=merge"), "{t}");
    }
}
