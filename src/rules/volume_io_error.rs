//! `volume-io-error`: the mounted volume broke under the workload: I/O
//! errors, a file system the kernel remounted read-only after errors,
//! stale NFS handles, or a FUSE / CSI mount whose daemon went away.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::provisioner_errors::short_name;
use super::support::security::claim_of;
use super::support::workload_errors::{by_volume, hits, objects_of, quote, where_line, Hit};
use crate::chain::{ClaimChain, PodChain, PodVolume};
use crate::model::{Link, Severity};
use crate::volume_errors::FsError;

pub const RULE: Rule = Rule {
    id: "volume-io-error",
    title: "the mounted volume fails under the workload: I/O errors, read-only remount, stale or disconnected mount",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-io-error.md"),
};

/// Most specific first: the one the fix is about.
const WANTED: &[FsError] = &[
    FsError::NotConnected,
    FsError::Stale,
    FsError::Io,
    FsError::ReadOnly,
];

/// A read-only file system on a mount the spec makes writable.
fn meant_writable(hit: &Hit) -> bool {
    hit.volume.is_some_and(|(v, m)| {
        !m.read_only
            && !v.always_read_only()
            && v.spec
                .persistent_volume_claim
                .as_ref()
                .is_none_or(|c| c.read_only != Some(true))
    })
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let found: Vec<Hit> = hits(pod, WANTED)
        .into_iter()
        .filter(|h| h.error != FsError::ReadOnly || meant_writable(h))
        .collect();
    by_volume(&found)
        .into_iter()
        .filter_map(|mut group| {
            group.sort_by_key(|h| WANTED.iter().position(|w| *w == h.error));
            let first = *group.first()?;
            Some(cause(ctx, pod, node, claims, first, &group))
        })
        .collect()
}

/// The CSI driver behind a pod volume, inline or through its claim.
fn driver_of<'a>(volume: &PodVolume<'a>, claims: &[ClaimChain<'a>]) -> Option<&'a str> {
    volume
        .spec
        .csi
        .as_ref()
        .map(|c| c.driver.as_str())
        .or_else(|| claim_of(volume, claims).and_then(|c| c.volume_driver()))
}

/// Pods of the driver on the node that restarted: the daemon behind a
/// FUSE or CSI mount going away leaves `transport endpoint is not
/// connected` behind.
fn restarted_plugin_pods(ctx: &Ctx, node: &str, driver: &str) -> Vec<String> {
    let short = short_name(driver).to_lowercase();
    if short.is_empty() {
        return Vec::new();
    }
    ctx.snap
        .objects
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node))
        .filter(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.to_lowercase().contains(&short))
        })
        .filter_map(|p| {
            let restarts: i32 = p
                .status
                .as_ref()?
                .container_statuses
                .iter()
                .flatten()
                .map(|s| s.restart_count)
                .sum();
            (restarts > 0).then(|| {
                format!(
                    "pod {}/{} of driver {driver} on {node} restarted {restarts} time(s)",
                    p.metadata.namespace.as_deref().unwrap_or(""),
                    p.metadata.name.as_deref().unwrap_or("")
                )
            })
        })
        .collect()
}

fn cause(
    ctx: &Ctx,
    pod: &PodChain,
    node: &str,
    claims: &[ClaimChain],
    hit: &Hit,
    all: &[&Hit],
) -> Cause {
    let ns = pod.namespace;
    let target = match hit.volume {
        Some((v, _)) => format!("volume \"{}\"", v.name),
        None => "a volume".to_string(),
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "{} of pod {ns}/{} fails on {target}: {}",
            hit.container
                .map_or("a container".to_string(), |c| format!("container {c}")),
            pod.name,
            hit.error.as_str()
        ),
    )
    .confidence(hit.confidence);
    for h in all {
        cause = cause.evidence(quote(h));
    }
    cause = cause.evidence(where_line(hit, claims));
    for o in objects_of(hit.volume.map(|(v, _)| v), pod, claims) {
        cause = cause.object(o);
    }
    let driver = hit.volume.and_then(|(v, _)| driver_of(v, claims));
    let restart = format!(
        "restart the pod so the kubelet mounts the volume afresh: {} delete pod {} (its controller re-creates it)",
        kubectl_ns(ns),
        pod.name
    );
    match hit.error {
        FsError::NotConnected => {
            cause = cause.evidence(
                "transport endpoint is not connected: the process serving the mount (a FUSE daemon, a CSI node plugin) went away and the mount point is dead",
            );
            if let Some(d) = driver {
                cause = cause.evidence_all(restarted_plugin_pods(ctx, node, d));
            }
            cause
                .fix(restart)
                .fix(format!(
                    "find why the mount's daemon stopped: the node plugin's restarts and log on {node}: kubectl get pods -A -o wide --field-selector spec.nodeName={node}{}, then kubectl logs <pod> -c <driver container> --previous (an OOM-killed or upgraded node plugin takes FUSE mounts down with it)",
                    driver
                        .map(|d| format!(" | grep -i {}", short_name(d)))
                        .unwrap_or_default()
                ))
        }
        FsError::Stale => cause
            .evidence(
                "stale file handle: the directory or file the client holds was removed or replaced on the NFS server (the export changed under the client)",
            )
            .fix(restart)
            .fix(format!(
                "check the NFS server: was the export re-created, moved or failed over? The node {node} keeps stale handles until it remounts"
            )),
        _ => {
            let read_only = hit.error == FsError::ReadOnly;
            cause = cause.evidence(if read_only {
                "read-only file system on a mount the pod spec makes writable: the kernel remounts a file system read-only after errors (ext4 errors=remount-ro), or the disk went read-only"
            } else {
                "input/output error: the disk or the file system under the mount failed"
            });
            cause
                .fix(format!(
                    "look at the node's kernel log for the device's errors: kubectl debug node/{node} -it --image=busybox -- chroot /host dmesg | grep -iE 'I/O error|EXT4-fs error|XFS|remount'"
                ))
                .fix(format!(
                    "check the disk's health where it lives{}: the cloud volume's status and events, the array or SAN for a local disk",
                    driver.map(|d| format!(" ({d})")).unwrap_or_default()
                ))
                .fix(format!(
                    "repair with fsck from a debug pod on {node} while no pod mounts the volume (scale the workload to 0), then start it again; DATA RISK: snapshot the volume first, fsck can drop damaged files"
                ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn app(message: &str, read_only: bool) -> crate::snapshot::Snapshot {
        let message = message.to_string();
        snapshot(move |o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes
                .push(pv("pv-1").bound_to("default", "data").csi("s3.csi.aws.com"));
            let p = pod("app").claim("data");
            let p = if read_only {
                p.mount_read_only("vol0", "/data")
            } else {
                p.mount("vol0", "/data")
            };
            o.pods.push(p.crash_looping(&message));
            let mut plugin = pod("s3-csi-node-x7k2p").running();
            if let Some(s) = plugin
                .status
                .as_mut()
                .and_then(|s| s.container_statuses.as_mut())
            {
                s.clear();
            }
            plugin
                .status
                .get_or_insert_with(Default::default)
                .container_statuses = Some(vec![crate::api::ContainerStatus {
                name: "s3-plugin".into(),
                restart_count: 3,
                ..Default::default()
            }]);
            o.pods.push(plugin);
        })
    }

    #[test]
    fn disconnected_fuse_mount_names_the_plugin() {
        let snap = app(
            "ls: cannot access '/data/input': Transport endpoint is not connected",
            false,
        );
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("s3-csi-node-x7k2p"), "{t}");
        assert!(t.contains("delete pod app"), "{t}");
    }

    #[test]
    fn read_only_remount_of_a_writable_mount() {
        let snap = app(
            "OSError: [Errno 30] Read-only file system: '/data/out'",
            false,
        );
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(text(&c[0]).contains("DATA RISK"), "{}", text(&c[0]));
        // On a readOnly mount it is the pod spec's doing, not a failure.
        let snap = app(
            "OSError: [Errno 30] Read-only file system: '/data/out'",
            true,
        );
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn stale_handle_and_eio() {
        let snap = app("open /data/a: stale NFS file handle", false);
        assert!(text(&causes(&RULE, &snap)[0]).contains("NFS server"));
        let snap = app("write /data/log: input/output error", false);
        assert!(text(&causes(&RULE, &snap)[0]).contains("kernel log"));
        let snap = app("write /tmp/log: input/output error", false);
        assert!(causes(&RULE, &snap).is_empty());
    }
}
