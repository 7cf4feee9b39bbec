//! `volume-full`: the workload ran out of space or quota on a mounted
//! volume (ENOSPC / EDQUOT), or, with `--usage`, the kubelet reports a
//! volume at least 90 % full in bytes or inodes (97 %: an error). The fix
//! grows the claim when its class allows it, and says what to do
//! otherwise.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use super::support::security::claim_of;
use super::support::workload_errors::{
    by_volume, hits, objects_of, quote, volume_description, where_line, Hit,
};
use crate::chain::{ClaimChain, PodChain, PodVolume};
use crate::model::{Link, Severity};
use crate::quantity::binary;
use crate::snapshot::VolumeUsage;
use crate::volume_errors::FsError;

pub const RULE: Rule = Rule {
    id: "volume-full",
    title: "the mounted volume is out of space or over its quota",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-full.md"),
};

/// From this fill on, a volume is reported (a warning)...
const WARN_AT: f64 = 0.90;
/// ... and from this one, an error: the next write may fail.
const ERROR_AT: f64 = 0.97;

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let mut out: Vec<Cause> = Vec::new();
    let mut named: Vec<String> = Vec::new();
    // What the workload said: only while it is not Running and Ready.
    if let (Some(node), false) = (pod.node_name, pod.healthy) {
        let found = hits(pod, &[FsError::NoSpace, FsError::Quota]);
        for group in by_volume(&found) {
            let Some(h) = group.first() else { continue };
            let mut cause = cause(ctx, pod, node, claims, h);
            if let Some(u) = h
                .volume_name()
                .and_then(|v| ctx.snap.usage_of(pod.namespace, pod.name, v))
            {
                cause = cause.evidence(fill_line(u));
            }
            named.extend(h.volume_name().map(str::to_string));
            out.push(cause);
        }
    }
    // What the kubelet measured (`--usage`).
    for volume in &pod.volumes {
        // Unmounted, or a raw block device: no file system to fill.
        if volume.mounts.is_empty() || named.iter().any(|n| n == volume.name) {
            continue;
        }
        let Some(u) = ctx.snap.usage_of(pod.namespace, pod.name, volume.name) else {
            continue;
        };
        let Some((fill, _)) = u.fullest() else {
            continue;
        };
        if fill >= WARN_AT {
            out.push(usage_cause(ctx, pod, claims, volume, u, fill));
        }
    }
    out
}

/// A percentage, floored: 97.9 % is not yet 98 %.
fn percent(used: u64, total: u64) -> String {
    let p = (used as f64 / total as f64 * 1000.0 + 1e-6).floor() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// What the kubelet reports: bytes and inodes used of the capacity.
fn fill_line(u: &VolumeUsage) -> String {
    let mut parts = Vec::new();
    if let (Some(used), Some(cap)) = (u.used_bytes, u.capacity_bytes.filter(|c| *c > 0)) {
        parts.push(format!(
            "{} of {} used ({})",
            binary(used),
            binary(cap),
            percent(used, cap)
        ));
    }
    if let (Some(used), Some(all)) = (u.inodes_used, u.inodes.filter(|c| *c > 0)) {
        parts.push(format!("{used} of {all} inodes ({})", percent(used, all)));
    }
    format!(
        "the kubelet on node {} reports volume \"{}\": {}",
        u.node,
        u.volume,
        parts.join(", ")
    )
}

fn usage_cause(
    ctx: &Ctx,
    pod: &PodChain,
    claims: &[ClaimChain],
    volume: &PodVolume,
    u: &VolumeUsage,
    fill: f64,
) -> Cause {
    let ns = pod.namespace;
    let (_, what) = u.fullest().unwrap_or((fill, "bytes"));
    let (used, total) = if what == "inodes" {
        (u.inodes_used, u.inodes)
    } else {
        (u.used_bytes, u.capacity_bytes)
    };
    let shown = percent(used.unwrap_or(0), total.unwrap_or(1).max(1));
    let mounts: Vec<String> = volume
        .mounts
        .iter()
        .map(|m| format!("{} in container {}", m.path, m.container))
        .collect();
    let at = if mounts.is_empty() {
        String::new()
    } else {
        format!(", mounted at {}", mounts.join(", "))
    };
    let of = if what == "inodes" {
        "of its inodes "
    } else {
        ""
    };
    let comma = if at.is_empty() { "" } else { "," };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "volume \"{}\" of pod {ns}/{}{at}{comma} is {shown} full {of}and {}",
            volume.name,
            pod.name,
            if fill >= ERROR_AT {
                "the next writes may fail with no space left on device"
            } else {
                "will run out if it keeps growing"
            }
        ),
    )
    .severity(if fill >= ERROR_AT {
        Severity::Error
    } else {
        Severity::Warning
    })
    .evidence(fill_line(u))
    .evidence(format!(
        "volume \"{}\": {}",
        volume.name,
        volume_description(volume, claims)
    ));
    if what == "inodes" {
        cause = cause.evidence(
            "the inodes run out before the bytes: many small files (caches, sessions, queue segments); growing the volume adds inodes on most file systems",
        );
    }
    for o in objects_of(Some(volume), pod, claims) {
        cause = cause.object(o);
    }
    let Some(mount) = volume.mounts.first() else {
        return cause.fix("free space on the storage behind the volume, or give it more");
    };
    let measure = format!(
        "see what fills it: {} exec {} -c {} -- du -xsh {path}/* (and df -i {path} for inodes)",
        kubectl_ns(ns),
        pod.name,
        mount.container,
        path = mount.path
    );
    match claim_of(volume, claims) {
        Some(claim) => claim_fix(cause, ns, claim).fix(measure),
        None => {
            let _ = ctx;
            cause
                .fix(measure)
                .fix("free space on it, or move the data to a claim of its own size")
        }
    }
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

/// The claim's size and class as evidence, and the fix: the exact patch
/// when the class allows expansion, else free space or migrate.
fn claim_fix(mut cause: Cause, ns: &str, claim: &ClaimChain) -> Cause {
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
    if expandable {
        let new = size
            .and_then(doubled)
            .unwrap_or_else(|| "<new size>".to_string());
        cause
            .fix(format!(
                "grow the claim: {} patch pvc {} -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"{new}\"}}}}}}}}'",
                kubectl_ns(ns),
                claim.name
            ))
            .fix("the driver grows the volume and the kubelet the file system, most drivers online; a claim of a StatefulSet's volumeClaimTemplates is patched one by one (the template itself cannot change)")
    } else {
        cause.fix(format!(
            "the claim cannot grow: free space on it (old logs, WAL, dumps), or move the data to a larger claim (a Job mounting both claims copies it), or, if the driver can expand, set allowVolumeExpansion: true on StorageClass {}",
            if class_name.is_empty() { "<class>" } else { class_name }
        ))
    }
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
        return claim_fix(cause.fix(measure), ns, claim);
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
    use crate::api::Pod;
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

    /// A mysql pod on a 10Gi claim of class gp3, whose expansion is allowed or not.
    fn mysql_on(expandable: bool, mysql: Pod) -> crate::snapshot::Snapshot {
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
            o.pods.push(mysql);
        })
    }

    fn mysql(expandable: bool, message: &str) -> crate::snapshot::Snapshot {
        let pod = pod("mysql")
            .claim("data")
            .mount("vol0", "/var/lib/mysql")
            .crash_looping(message);
        mysql_on(expandable, pod)
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

    fn usage(used: u64, cap: u64, inodes_used: u64) -> crate::snapshot::NodeEvidence {
        crate::snapshot::NodeEvidence {
            usage: Some(vec![VolumeUsage {
                node: "node-1".into(),
                namespace: "default".into(),
                pod: "mysql".into(),
                volume: "vol0".into(),
                claim: Some("data".into()),
                used_bytes: Some(used),
                capacity_bytes: Some(cap),
                inodes_used: Some(inodes_used),
                inodes: Some(1000),
            }]),
            logs: None,
        }
    }

    fn healthy_mysql(
        expandable: bool,
        evidence: crate::snapshot::NodeEvidence,
    ) -> crate::snapshot::Snapshot {
        let pod = pod("mysql")
            .claim("data")
            .mount("vol0", "/var/lib/mysql")
            .running();
        mysql_on(expandable, pod).with_evidence(evidence)
    }

    #[test]
    fn usage_at_98_percent_is_an_error_with_the_patch() {
        let gi = 1024 * 1024 * 1024;
        let snap = healthy_mysql(true, usage(98 * gi / 10, 10 * gi, 10));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Error);
        let t = text(&c[0]);
        assert!(t.contains("volume \"vol0\" of pod default/mysql, mounted at /var/lib/mysql in container main, is 98 % full"), "{t}");
        assert!(t.contains("\"storage\":\"20Gi\""), "{t}");
    }

    #[test]
    fn usage_thresholds_and_inodes() {
        let snap = healthy_mysql(false, usage(91, 100, 10));
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Warning);
        assert!(text(&c[0]).contains("cannot grow"));
        assert!(causes(&RULE, &healthy_mysql(true, usage(89, 100, 10))).is_empty());
        let c = causes(&RULE, &healthy_mysql(true, usage(10, 100, 990)));
        assert_eq!(c[0].severity, Severity::Error);
        assert!(
            c[0].summary.contains("99 % full of its inodes"),
            "{}",
            c[0].summary
        );
        // Odd numbers: no capacity, used beyond capacity.
        assert!(causes(&RULE, &healthy_mysql(true, usage(10, 0, 0))).is_empty());
        let c = causes(&RULE, &healthy_mysql(true, usage(200, 100, 0)));
        assert_eq!(c[0].severity, Severity::Error);
    }
}
