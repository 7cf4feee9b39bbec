//! `volume-full`: the workload ran out of space or quota on a mounted
//! volume (ENOSPC / EDQUOT). The fix grows the claim when its class
//! allows it, and says what to do otherwise.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use super::support::security::claim_of;
use super::support::workload_errors::{by_volume, hits, objects_of, quote, where_line, Hit};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, Severity};
use crate::volume_errors::FsError;

pub const RULE: Rule = Rule {
    id: "volume-full",
    title: "the mounted volume is out of space or over its quota",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    runbook: include_str!("../../docs/runbooks/volume-full.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let found = hits(pod, &[FsError::NoSpace, FsError::Quota]);
    by_volume(&found)
        .into_iter()
        .filter_map(|group| group.first().map(|h| cause(ctx, pod, node, claims, h)))
        .collect()
}

/// Twice a quantity, in its own unit: `10Gi` → `20Gi`, `1.5T` → `3T`.
pub fn doubled(size: &str) -> Option<String> {
    let size = size.trim();
    crate::quantity::parse(size)?;
    let split = size
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(size.len());
    let (number, unit) = size.split_at(split);
    let n: f64 = number.parse().ok()?;
    if unit.starts_with(['e', 'E']) || n <= 0.0 {
        return None;
    }
    Some(format!("{}{unit}", n * 2.0))
}

/// The claim's size now: its status capacity, else the PV's, else the
/// request.
fn capacity<'a>(c: &ClaimChain<'a>) -> Option<&'a str> {
    c.claim
        .and_then(|c| c.status.as_ref())
        .and_then(|s| s.capacity.as_ref())
        .and_then(|m| m.get("storage"))
        .map(|q| q.0.as_str())
        .or_else(|| {
            c.volume
                .and_then(|v| v.spec.as_ref())
                .and_then(|s| s.capacity.as_ref())
                .and_then(|m| m.get("storage"))
                .map(|q| q.0.as_str())
        })
        .or_else(|| c.requested_size())
}

fn cause(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain], hit: &Hit) -> Cause {
    let ns = pod.namespace;
    let target = match hit.volume {
        Some((v, _)) => format!("volume \"{}\"", v.name),
        None => "a volume".to_string(),
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "{} of pod {ns}/{} ran out of room on {target}: {}",
            hit.container
                .map_or("a container".to_string(), |c| format!("container {c}")),
            pod.name,
            hit.error.as_str()
        ),
    )
    .confidence(hit.confidence)
    .evidence(quote(hit))
    .evidence(where_line(hit, claims));
    for o in objects_of(hit.volume.map(|(v, _)| v), pod, claims) {
        cause = cause.object(o);
    }
    let Some((volume, mount)) = hit.volume else {
        return cause.fix(format!(
            "see which volume is full: {} exec {} -- df -h; df -i",
            kubectl_ns(ns),
            pod.name
        ));
    };
    let measure = format!(
        "measure it while the container runs: {} exec {} -c {} -- df -h {path}; df -i {path} (inodes can run out with space left)",
        kubectl_ns(ns),
        pod.name,
        mount.container,
        path = mount.path
    );
    if hit.error == FsError::Quota {
        cause = cause.evidence(
            "disk quota exceeded: a quota on the backing file system (an NFS export, a CephFS subvolume, an XFS project quota) is used up, not necessarily the disk",
        );
    }
    if let Some(claim) = claim_of(volume, claims) {
        let size = capacity(claim);
        let class = claim.class;
        let class_name = claim.class_name().unwrap_or("");
        let expandable = class.and_then(|c| c.allow_volume_expansion) == Some(true);
        cause = cause.evidence(format!(
            "claim {ns}/{} is {}; {}",
            claim.name,
            size.map_or("of unknown size".to_string(), |s| s.to_string()),
            match (class, expandable) {
                (Some(_), true) => format!("its StorageClass {class_name} allows volume expansion"),
                (Some(_), false) =>
                    format!("its StorageClass {class_name} does not allow volume expansion"),
                (None, _) if class_name.is_empty() => "it has no StorageClass".to_string(),
                (None, _) => format!("its StorageClass {class_name} could not be read"),
            }
        ));
        cause = cause.fix(measure);
        if expandable {
            let new = size
                .and_then(doubled)
                .unwrap_or_else(|| "<new size>".to_string());
            cause = cause
                .fix(format!(
                    "grow the claim: {} patch pvc {} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{new}\"}}}}}}}}'",
                    kubectl_ns(ns),
                    claim.name
                ))
                .fix("the driver grows the volume and the kubelet the file system, most drivers online; a claim of a StatefulSet's volumeClaimTemplates is patched one by one (the template itself cannot change)");
        } else {
            cause = cause.fix(format!(
                "the claim cannot grow: free space on it (old logs, WAL, dumps), or move the data to a larger claim (a Job mounting both claims copies it), or, if the driver can expand, set allowVolumeExpansion: true on StorageClass {}",
                if class_name.is_empty() { "<class>" } else { class_name }
            ));
        }
        return cause;
    }
    cause = cause.fix(measure);
    match volume.kind() {
        "emptyDir" => {
            let ed = volume.spec.empty_dir.as_ref();
            let memory = ed.and_then(|e| e.medium.as_deref()) == Some("Memory");
            let limit = ed.and_then(|e| e.size_limit.as_ref()).map(|q| q.0.as_str());
            if memory {
                cause = cause.evidence(format!(
                    "emptyDir \"{}\" is in memory (tmpfs){}",
                    volume.name,
                    limit.map(|l| format!(" sized by sizeLimit {l}")).unwrap_or_default()
                ));
                let new = limit.and_then(doubled).unwrap_or_else(|| "<size>".into());
                cause.fix(edit_pod_spec_hint(
                    ctx,
                    pod,
                    &format!(
                        "raise spec.volumes[name={}].emptyDir.sizeLimit to {new} (and the container's memory limit, which it counts against)",
                        volume.name
                    ),
                ))
            } else {
                cause
                    .evidence(format!(
                        "emptyDir \"{}\" lives on node {node}'s disk{}",
                        volume.name,
                        limit
                            .map(|l| format!("; its sizeLimit {l} evicts the pod when passed"))
                            .unwrap_or_default()
                    ))
                    .fix(format!(
                        "node {node}'s disk (the kubelet's root, /var/lib/kubelet) is full: free it or move the data to a claim; kubectl describe node {node} shows DiskPressure"
                    ))
            }
        }
        "hostPath" => cause.fix(format!(
            "the node's file system behind the hostPath is full: free space on {node} (kubectl debug node/{node} -it --image=busybox, then df -h /host<path>)"
        )),
        _ => cause.fix("free space on the storage behind the volume, or give it more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn doubles_in_the_same_unit() {
        assert_eq!(doubled("10Gi").as_deref(), Some("20Gi"));
        assert_eq!(doubled("1.5T").as_deref(), Some("3T"));
        assert_eq!(doubled("500").as_deref(), Some("1000"));
        assert_eq!(doubled("lots"), None);
        assert_eq!(doubled(""), None);
        assert_eq!(doubled("5e3"), None);
    }

    fn mysql(expandable: bool, message: &str) -> crate::snapshot::Snapshot {
        let message = message.to_string();
        snapshot(move |o| {
            let mut sc = class("gp3", "ebs.csi.aws.com");
            sc.allow_volume_expansion = Some(expandable);
            o.classes.push(sc);
            o.claims
                .push(pvc("data").class("gp3").size("10Gi").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com")
                    .size("10Gi"),
            );
            o.pods.push(
                pod("mysql")
                    .claim("data")
                    .mount("vol0", "/var/lib/mysql")
                    .crash_looping(&message),
            );
        })
    }

    #[test]
    fn expandable_claim_gets_the_patch() {
        let snap = mysql(true, "2026-11-20T10:00:00Z 0 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation.\n2026-11-20T10:00:00Z 0 [ERROR] [MY-012596] [InnoDB] Error number 28 means 'No space left on device'");
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            t.contains("patch pvc data -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"20Gi\"}}}}'"),
            "{t}"
        );
    }

    #[test]
    fn fixed_class_says_clean_up_or_migrate() {
        let snap = mysql(
            false,
            "OSError: [Errno 28] No space left on device: '/var/lib/mysql/x'",
        );
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("cannot grow"), "{t}");
        assert!(!t.contains("patch pvc"), "{t}");
    }

    #[test]
    fn runtime_errors_about_the_node_disk_are_not_the_volume() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("web")
                    .claim("data")
                    .mount("vol0", "/data")
                    .crash_looping("ok"),
            );
            o.events.push(
                event("Failed", "Failed to pull image \"nginx\": failed to register layer: write /var/lib/containerd/x: no space left on device")
                    .warning()
                    .about("Pod", "default", "web"),
            );
            o.events.push(
                event(
                    "Failed",
                    "Error: failed to create containerd task: no space left on device",
                )
                .warning()
                .about("Pod", "default", "web"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
