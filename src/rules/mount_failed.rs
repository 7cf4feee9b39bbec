//! `mount-failed`: the kubelet cannot mount or map the volume. The error is
//! classified so the fix fits it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use crate::api::Event;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, Severity};
use crate::volume_errors::{missing_source, named_volume};

pub const RULE: Rule = Rule {
    id: "mount-failed",
    title: "the kubelet cannot mount or map the volume",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/mount-failed.md"),
};

/// What a mount error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountError {
    Permission,
    Filesystem,
    NfsUnreachable,
    Timeout,
    MissingSecret,
    Busy,
    /// The node plugin refuses the volume's own parameters.
    Rejected,
    /// The node's own disk is full.
    NodeDiskFull,
    /// The node lacks the mount helper or initiator the volume type needs.
    MissingHelper,
    /// The volume's CSI driver is not installed (no CSIDriver object).
    DriverMissing,
    /// The Secrets Store CSI driver cannot reach its provider plugin.
    ProviderMissing,
    Other,
}

impl MountError {
    pub fn as_str(self) -> &'static str {
        match self {
            MountError::Permission => "permission denied",
            MountError::Filesystem => "file system type or corruption",
            MountError::NfsUnreachable => "NFS server unreachable",
            MountError::Timeout => "timed out",
            MountError::MissingSecret => "missing secret",
            MountError::Busy => "device busy or already mounted",
            MountError::Rejected => "parameters rejected",
            MountError::NodeDiskFull => "node disk full",
            MountError::MissingHelper => "node lacks a mount helper",
            MountError::DriverMissing => "driver not installed",
            MountError::ProviderMissing => "secrets provider not reachable",
            MountError::Other => "other",
        }
    }
}

pub fn classify(message: &str) -> MountError {
    let m = message.to_ascii_lowercase();
    let nfs = m.contains("nfs");
    if m.contains("permission denied")
        || m.contains("access denied")
        || m.contains("operation not permitted")
    {
        MountError::Permission
    } else if missing_network_fs_helper(&m) {
        MountError::MissingHelper
    } else if m.contains("wrong fs type")
        || m.contains("bad superblock")
        || m.contains("can't read superblock")
        || m.contains("unknown filesystem type")
        || (m.contains("format of disk") && m.contains("failed"))
        || m.contains("structure needs cleaning")
        || m.contains("fsck")
        || m.contains("corrupt")
    {
        MountError::Filesystem
    } else if nfs
        && (m.contains("connection timed out")
            || m.contains("no route to host")
            || m.contains("connection refused")
            || m.contains("network is unreachable")
            || m.contains("server is not responding"))
    {
        MountError::NfsUnreachable
    } else if m.contains("no space left on device") {
        MountError::NodeDiskFull
    } else if m.contains("mount.nfs: not found")
        || m.contains("mount.cifs: not found")
        || m.contains("iscsiadm: not found")
        || m.contains("iscsi driver not found")
        || (m.contains("executable file not found")
            && (m.contains("mount") || m.contains("iscsiadm")))
    {
        MountError::MissingHelper
    } else if m.contains("no csidriver object") {
        MountError::DriverMissing
    } else if m.contains("error connecting to provider") {
        MountError::ProviderMissing
    } else if (m.contains("secret \"") || m.contains("secrets \"")) && m.contains("not found") {
        MountError::MissingSecret
    } else if m.contains("already mounted")
        || m.contains("mount point busy")
        || m.contains("device or resource busy")
    {
        MountError::Busy
    } else if m.contains("code = invalidargument") {
        MountError::Rejected
    } else if m.contains("deadlineexceeded")
        || m.contains("deadline exceeded")
        || m.contains("timed out")
    {
        MountError::Timeout
    } else {
        MountError::Other
    }
}

/// util-linux's answer for a network file system without its helper
/// (`mount.nfs`, `mount.cifs`): the same `wrong fs type, bad option, bad
/// superblock` it gives a damaged disk, with a hint; told apart by a
/// network source (`server:/export`, `//server/share`) and no device.
fn missing_network_fs_helper(lower: &str) -> bool {
    lower.contains("you might need a /sbin/mount.")
        && !lower.contains("/dev/")
        && (lower.contains(":/")
            || lower.contains("//")
            || lower.contains("nfs")
            || lower.contains("cifs"))
}

/// Texts other rules explain better.
fn explained_elsewhere(message: &str) -> bool {
    message.contains("not found in the list of registered CSI drivers")
        || crate::rules::expansion_failed::is_node_expand_failure(message)
        || message.starts_with("Failed to attach volume")
        || message.starts_with("AttachVolume.Attach failed")
        || message.contains("is being deleted")
        || message.contains("ReadWriteOncePod access mode")
        || missing_source(message).is_some()
}

/// The pod volumes a kubelet summary lists as not mounted yet:
/// `unmounted volumes=[data cache]` (1.10+), `list of unattached/unmounted
/// volumes=[data]` (older).
fn unmounted(message: &str) -> Option<Vec<&str>> {
    let (_, rest) = message
        .split_once("unmounted volumes=[")
        .or_else(|| message.split_once("unattached/unmounted volumes=["))?;
    let list = &rest[..rest.find(']')?];
    Some(list.split_whitespace().collect())
}

/// Whether a claim is the pod volume the kubelet names: the pod's volume
/// name, or its PersistentVolume's (the kubelet names a claim's volume
/// by the PV).
fn is_named(c: &ClaimChain, volume: &str) -> bool {
    c.usage.as_ref().is_some_and(|u| u.volume == volume)
        || c.volume
            .and_then(|v| v.metadata.name.as_deref())
            .is_some_and(|pv| pv == volume)
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let timeline = Timeline::new(&pod.events);
    let (explained, failures): (Vec<_>, Vec<_>) = ["FailedMount", "FailedMapVolume"]
        .iter()
        .flat_map(|r| timeline.current_all(r).collect::<Vec<_>>())
        .partition(|e| explained_elsewhere(events::message(e)));
    // 1.10+: `Unable to attach or mount volumes: ...`; before:
    // `Unable to mount volumes for pod "x": timeout expired waiting for
    // volumes to attach/mount ...`.
    let is_summary = |e: &&Event| {
        let m = events::message(e);
        m.starts_with("Unable to attach or mount volumes")
            || m.starts_with("Unable to mount volumes for pod")
    };
    // A specific error older than the newest summary, about a volume that
    // summary no longer lists as unmounted, was overcome.
    let newest_summary = failures
        .iter()
        .copied()
        .filter(is_summary)
        .max_by_key(|e| events::last_seen(e));
    let still_unmounted = newest_summary.and_then(|e| unmounted(events::message(e)));
    let failures: Vec<&Event> = failures
        .into_iter()
        .filter(|e| {
            let (Some(summary), Some(unmounted)) = (newest_summary, &still_unmounted) else {
                return true;
            };
            // The pod volume the error names: by its own name, or by its
            // claim's PersistentVolume.
            let pod_volume = named_volume(events::message(e)).and_then(|named| {
                pod.volumes
                    .iter()
                    .find(|v| v.name == named)
                    .map(|v| v.name)
                    .or_else(|| {
                        claims
                            .iter()
                            .find(|c| is_named(c, named))
                            .and_then(|c| c.usage.as_ref())
                            .map(|u| u.volume.as_str())
                    })
            });
            let Some(volume) = pod_volume else {
                return true;
            };
            is_summary(e)
                || events::last_seen(e) >= events::last_seen(summary)
                || unmounted.contains(&volume)
        })
        .collect();
    // The kubelet's summary only repeats a failure another rule explains.
    if failures.is_empty() || (!explained.is_empty() && failures.iter().all(is_summary)) {
        return Vec::new();
    }
    // The specific error first; the kubelet's summary ("Unable to attach or mount volumes") only when alone.
    let specific = failures
        .iter()
        .find(|e| !is_summary(e))
        .or(failures.first())
        .copied();
    let Some(e) = specific else { return Vec::new() };
    let message = events::message(e);
    let only_summary = is_summary(&e);
    let kind = classify(message);
    let ns = pod.namespace;
    let volume = named_volume(message).unwrap_or("");
    // Blame the volume the kubelet names; its claim when it is one.
    let named_claim = claims.iter().any(|c| is_named(c, volume));
    let other_volume = pod
        .volumes
        .iter()
        .find(|v| v.name == volume && !v.is_claim());
    let mut cause = Cause::new(
        &RULE,
        format!(
            "the kubelet on {} cannot {} {} for pod {ns}/{} ({})",
            node,
            if events::reason(e) == "FailedMapVolume" {
                "map"
            } else {
                "mount"
            },
            if volume.is_empty() {
                "its volume".to_string()
            } else {
                format!("volume {volume}")
            },
            pod.name,
            kind.as_str()
        ),
    )
    .object(pod.object())
    .evidence(events::quote(e, ctx.snap.now))
    .evidence(format!("error class: {}", kind.as_str()));
    for other in failures.iter().filter(|x| !std::ptr::eq(**x, e)).take(2) {
        cause = cause.evidence(events::quote(other, ctx.snap.now));
    }
    if let Some(v) = other_volume {
        cause = cause.evidence(format!(
            "volume \"{}\" is a {} volume, not a claim",
            v.name,
            v.kind()
        ));
    }
    let blamed = claims
        .iter()
        .filter(|c| other_volume.is_none() && (!named_claim || is_named(c, volume)));
    for c in blamed {
        let pv = c
            .volume
            .and_then(|v| v.metadata.name.as_deref())
            .unwrap_or("no volume");
        let pod_volume = c.usage.as_ref().map_or("", |u| u.volume.as_str());
        cause = cause.object(c.object()).evidence(format!(
            "pod volume \"{pod_volume}\" is claim {ns}/{} → PV {pv}{}",
            c.name,
            c.volume_driver()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
    }
    cause = match kind {
        MountError::NfsUnreachable => cause
            .fix(format!("the node cannot reach the NFS server: check the server is up and exports the path, and that {node} can reach it (firewall/security group on port 2049, DNS of the server name)"))
            .fix("for nfs.csi.k8s.io, the server and share are in the PV's volumeAttributes (kubectl get pv <pv> -o yaml)"),
        MountError::Filesystem => cause
            .fix("the disk's file system does not match fsType or is damaged: check the PV's csi.fsType, and run fsck on the device from a debug pod or the node (DATA RISK: repair can lose data; snapshot the disk first)"),
        MountError::Permission => cause
            .fix(format!("the storage server or its credentials refused the mount, before any file was touched, so the pod's securityContext (fsGroup, runAsUser) plays no part: for NFS (access denied by server) the export must allow node {node}'s address; for SMB/CIFS (mount error(13)) check the user and password in the credentials secret the PV or class names (nodeStageSecretRef / nodePublishSecretRef); for a CSI driver, the node plugin's log says which")),
        MountError::NodeDiskFull => cause
            .fix(format!("node {node}'s own disk (where the kubelet keeps pod volumes, /var/lib/kubelet) is full: free it (kubectl describe node {node}; on the node, df -h /var/lib/kubelet, crictl rmi --prune, old logs under /var/log/pods); its eviction thresholds did not catch it if it reports no DiskPressure")),
        MountError::MissingHelper => cause
            .fix(format!("node {node} lacks the client the volume type needs: install it on the node image (NFS: nfs-common or nfs-utils; SMB/CIFS: cifs-utils; iSCSI: open-iscsi with the iscsi_tcp module loaded, modprobe iscsi_tcp and systemctl enable --now iscsid), or run the pod on nodes that have it")),
        MountError::DriverMissing => cause
            .fix("the volume's CSI driver is not installed in the cluster (no CSIDriver object, no registration on the node): install the driver (its Helm chart or manifests create the CSIDriver object and the node plugin DaemonSet); kubectl get csidriver lists what is installed"),
        MountError::ProviderMissing => cause
            .fix(format!("the Secrets Store CSI driver on {node} cannot reach the provider the SecretProviderClass names (its error names it): install that provider's DaemonSet, which runs next to the driver on every node, or check that its pod runs on {node} (kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i provider)")),
        MountError::Rejected => cause
            .fix("the node plugin refuses the volume's own parameters: compare the PV's csi.volumeAttributes, mountOptions and fsType (kubectl get pv <pv> -o yaml) with the keys the driver documents; a PV's source cannot be edited, so recreate the PV without the rejected key (set its reclaimPolicy to Retain first, so the data stays)"),
        MountError::Busy => cause
            .fix(format!("something on {node} already holds the device or the mount point: multipathd claiming the driver's disks (blacklist them in /etc/multipath.conf and restart multipathd), or a mount left from an earlier pod (findmnt | grep <pv> on the node, then unmount it)")),
        MountError::MissingSecret => cause
            .fix(format!("create the secret the volume refers to (nodePublishSecretRef / nodeStageSecretRef in the PV or class) in the namespace it names; {} get secret", kubectl_ns(ns))),
        MountError::Timeout => cause
            .fix(format!("the mount did not finish in time: look at the node plugin's log on {node} (kubectl get pods -A -o wide --field-selector spec.nodeName={node}, then kubectl logs <csi-node-pod> -c <driver container>) and whether the volume is attached (kubectl get volumeattachment | grep <pv>)")),
        MountError::Other if other_volume.is_some() => cause.fix(format!(
            "the kubelet could not set up the {} volume \"{volume}\": the event's error says why; the kubelet's log on {node} has the full text (journalctl -u kubelet | grep {volume})",
            other_volume.map_or("", |v| v.kind())
        )),
        MountError::Other => cause
            .fix(format!("read the node plugin's log on {node}: kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i csi, then kubectl logs <pod> -c <driver container>")),
    };
    cause = cause.fix(format!(
        "the kubelet retries by itself; follow it with {} describe pod {}",
        kubectl_ns(ns),
        pod.name
    ));
    if only_summary {
        cause = cause.symptom();
    }
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn classifies_mount_errors() {
        assert_eq!(classify("MountVolume.SetUp failed for volume \"pv\" : rpc error: code = Internal desc = mount failed: exit status 32\nmount.nfs: Connection timed out"), MountError::NfsUnreachable);
        assert_eq!(classify("MountVolume.MountDevice failed for volume \"pv\" : wrong fs type, bad option, bad superblock on /dev/nvme1n1"), MountError::Filesystem);
        assert_eq!(classify("Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[data], failed to process volumes=[]: timed out waiting for the condition"), MountError::Timeout);
        assert_eq!(
            classify("MountVolume.SetUp failed for volume \"x\" : secret \"smb-creds\" not found"),
            MountError::MissingSecret
        );
        assert_eq!(
            classify("mount failed: permission denied"),
            MountError::Permission
        );
        for corrupt in [
            "MountVolume.MountDevice failed for volume \"pvc-1\" : rpc error: code = Internal desc = error in formatting and mounting volume. Err: mount failed: exit status 32\nOutput: mount: /var/lib/kubelet/plugins/kubernetes.io/csi/pv/pvc-1/globalmount: can't read superblock on /dev/sdi.",
            "MountVolume.MountDevice failed for volume \"pvc-1\" : rpc error: code = Internal desc = format of disk \"/dev/xvdba\" failed: type:(\"ext4\") target:(\"/var/lib/kubelet/plugins/x\")",
        ] {
            assert_eq!(classify(corrupt), MountError::Filesystem, "{corrupt}");
        }
        for (m, want) in [
            ("MountVolume.SetUp failed for volume \"kube-api-access-wfmh2\" : write /var/lib/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access-wfmh2/..2024/namespace: no space left on device", MountError::NodeDiskFull),
            ("MountVolume.SetUp failed for volume \"nfs\" : mount failed: exit status 32\nOutput: mount: wrong fs type, bad option, bad superblock on 10.0.0.5:/export, missing codepage or helper program, or other error\n(for several filesystems (e.g. nfs, cifs) you might need a /sbin/mount.<type> helper program)", MountError::MissingHelper),
            ("MountVolume.MountDevice failed for volume \"pvc-1\" : rpc error: code = Internal desc = iscsiadm: initiator reported error (12 - iSCSI driver not found. Please make sure it is loaded, and retry the operation)", MountError::MissingHelper),
            ("MountVolume.SetUp failed for volume \"secrets-store-inline\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers", MountError::Other),
            ("MountVolume.NewMounter initialization failed for volume \"vault\" : volume mode \"Ephemeral\" not supported by driver secrets-store.csi.k8s.io (no CSIDriver object)", MountError::DriverMissing),
            ("MountVolume.SetUp failed for volume \"secrets\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod default/mypod, err: error connecting to provider \"gcp\": provider not found: provider \"gcp\"", MountError::ProviderMissing),
        ] {
            assert_eq!(classify(m), want, "{m}");
        }
        assert_eq!(
            classify("MountVolume.SetUp failed for volume \"efs-pv\" : rpc error: code = InvalidArgument desc = Volume context property storage.kubernetes.io/csiProvisionerIdentity not supported"),
            MountError::Rejected
        );
        assert_eq!(
            classify("MountVolume.SetUp failed for volume \"pvc-2\" : rpc error: code = Internal desc = mount failed: exit status 32\nOutput: mount: /var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/pvc-2/mount: /dev/longhorn/pvc-2 already mounted or mount point busy."),
            MountError::Busy
        );
        assert_eq!(
            classify("MountVolume.SetUp failed for volume \"nfs\" : mount failed: exit status 32\nOutput: mount.nfs: access denied by server while mounting 10.0.0.5:/exports/data"),
            MountError::Permission
        );
    }

    #[test]
    fn an_error_about_a_volume_mounted_since_is_left_out() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.pods.push(
                pod("web")
                    .claim("data")
                    .volume(crate::api::Volume {
                        name: "app-config".into(),
                        secret: Some(Box::default()),
                        ..Default::default()
                    })
                    .on_node("n1")
                    .waiting("ContainerCreating"),
            );
            o.events.push(event("FailedMount", "MountVolume.SetUp failed for volume \"app-config\" : failed to sync secret cache: timed out waiting for the condition").warning().at("2026-11-20T09:58:00Z").about("Pod", "default", "web"));
            o.events.push(event("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[vol0], unattached volumes=[vol0 app-config]: timed out waiting for the condition").warning().at("2026-11-20T10:08:00Z").about("Pod", "default", "web"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(c[0].symptom, "{}", text(&c[0]));
        assert!(!text(&c[0]).contains("secret cache"), "{}", text(&c[0]));
    }

    #[test]
    fn specific_error_beats_the_summary() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.pods.push(
                pod("web")
                    .claim("data")
                    .on_node("n1")
                    .waiting("ContainerCreating"),
            );
            o.events.push(event("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[vol0], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition").warning().at("2026-11-20T10:09:00Z").about("Pod", "default", "web"));
            o.events.push(event("FailedMount", "MountVolume.SetUp failed for volume \"pv-1\" : mount.nfs: Connection timed out").warning().at("2026-11-20T10:08:00Z").about("Pod", "default", "web"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("NFS server unreachable"),
            "{}",
            c[0].summary
        );
    }
}
