//! `volume-permission-denied`: the volume is mounted, but the container's
//! process may not read or write it: EACCES / EPERM on a path under a
//! mount, or a write to a mount the pod spec makes read-only. The cause is
//! read against the pod's identity (`runAsUser`, `fsGroup`) and whether
//! the kubelet applies `fsGroup` to that type of volume at all.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::edit_pod_spec_hint;
use super::support::security::{fs_group_support, identity, FsGroup, Identity, Ignoring};
use super::support::workload_errors::{by_volume, hits, objects_of, quote, where_line, Hit};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, Severity};
use crate::volume_errors::FsError;

pub const RULE: Rule = Rule {
    id: "volume-permission-denied",
    title: "the container's process may not read or write its mounted volume",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-permission-denied.md"),
};

/// Whether the error is on a mount the pod spec makes read-only.
fn on_read_only_mount(hit: &Hit) -> bool {
    hit.volume.is_some_and(|(v, m)| {
        m.read_only
            || v.always_read_only()
            || v.spec
                .persistent_volume_claim
                .as_ref()
                .is_some_and(|c| c.read_only == Some(true))
    })
}

fn check(ctx: &Ctx, pod: &PodChain, _node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let found: Vec<Hit> = hits(pod, &[FsError::PermissionDenied, FsError::ReadOnly])
        .into_iter()
        .filter(|h| h.error == FsError::PermissionDenied || on_read_only_mount(h))
        .collect();
    by_volume(&found)
        .into_iter()
        .filter_map(|group| group.first().map(|h| cause(ctx, pod, claims, h)))
        .collect()
}

fn cause(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain], hit: &Hit) -> Cause {
    let ns = pod.namespace;
    let container = hit.container;
    let who = identity(pod.pod, container);
    let target = match hit.volume {
        Some((v, _)) => format!("volume \"{}\"", v.name),
        None => "a volume".to_string(),
    };
    let read_only = hit.error == FsError::ReadOnly;
    let summary = format!(
        "{} of pod {ns}/{} {} {target}: {}",
        container.map_or("a container".to_string(), |c| format!("container {c}")),
        pod.name,
        if read_only {
            "writes to the read-only mount of"
        } else {
            "is denied access to"
        },
        hit.error.as_str()
    );
    let mut cause = Cause::new(&RULE, summary)
        .confidence(hit.confidence)
        .evidence(quote(hit))
        .evidence(where_line(hit, claims));
    for o in objects_of(hit.volume.map(|(v, _)| v), pod, claims) {
        cause = cause.object(o);
    }
    let Some((volume, mount)) = hit.volume else {
        let names: Vec<&str> = hit.candidates.iter().map(|v| v.name).collect();
        return cause
            .evidence(who.describe(container))
            .fix(format!(
                "find which of the volumes ({}) the path is on: {} exec {} -- ls -ln <mount path>",
                names.join(", "),
                super::support::commands::kubectl_ns(ns),
                pod.name
            ))
            .fix(fs_group_fix(ctx, pod, &who));
    };
    if read_only && volume.always_read_only() {
        return cause
            .evidence(format!(
                "volume \"{}\" is a {} volume: the kubelet always mounts it read-only (since Kubernetes 1.9.6 and 1.10), whatever readOnly says",
                volume.name,
                volume.kind()
            ))
            .fix(edit_pod_spec_hint(
                ctx,
                pod,
                &format!(
                    "mount an emptyDir at {} and copy the files into it from an initContainer that mounts \"{}\" elsewhere (cp /src/* {}/)",
                    mount.path,
                    volume.name,
                    mount.path.trim_end_matches('/')
                ),
            ))
            .fix("or point the program's writes (temporary files, rewritten configuration) at a writable path such as an emptyDir");
    }
    if read_only {
        let claim_ro = volume
            .spec
            .persistent_volume_claim
            .as_ref()
            .is_some_and(|c| c.read_only == Some(true));
        let field = if mount.read_only {
            format!(
                "readOnly: true from the volumeMount of \"{}\" at {} in container {}",
                volume.name, mount.path, mount.container
            )
        } else if claim_ro {
            format!(
                "readOnly: true from spec.volumes[name={}].persistentVolumeClaim",
                volume.name
            )
        } else {
            "readOnly: true".to_string()
        };
        return cause
            .evidence(format!(
                "the pod spec mounts volume \"{}\" read-only, so every write on it fails",
                volume.name
            ))
            .fix(format!(
                "if the container must write there: {}",
                edit_pod_spec_hint(ctx, pod, &format!("remove {field}"))
            ))
            .fix("otherwise point the writes at a writable path, such as an emptyDir mounted elsewhere");
    }
    cause = cause.evidence(who.describe(container));
    let support = fs_group_support(ctx, volume, claims);
    cause = cause.evidence(match &support {
        FsGroup::Applied(why) => format!("fsGroup applies to this volume: {why}"),
        FsGroup::Ignored { why, .. } => format!("fsGroup does not apply to this volume: {why}"),
        FsGroup::Unknown(why) => format!("whether fsGroup applies is not known: {why}"),
    });
    let path = mount.path;
    let chown = chown_init_container(&who, volume.name, path);
    let owns = needs_ownership(hit.line);
    if owns {
        cause = cause.evidence(
            "the program changes the mode or checks the owner of the path itself, which only the owner may do: fsGroup gives the group access, not ownership",
        );
    }
    match support {
        FsGroup::Applied(_) | FsGroup::Unknown(_) if who.fs_group.is_none() => {
            let cause = cause.evidence(
                "no fsGroup is set, so the kubelet leaves the volume owned by whoever created it (often root)",
            );
            if owns {
                cause
                    .fix(fs_group_fix_with(
                        ctx,
                        pod,
                        &who,
                        &format!(
                            ", and point the program at a directory it creates below the mount (for the postgres image: env PGDATA={}/pgdata)",
                            path.trim_end_matches('/')
                        ),
                    ))
                    .fix(format!("or keep the path and give it to the container's user: {chown}"))
            } else {
                cause
                    .fix(fs_group_fix(ctx, pod, &who))
                    .fix(format!("or, for an image that needs to own its files: {chown}"))
            }
        }
        FsGroup::Applied(_) | FsGroup::Unknown(_) => {
            let mut cause = cause.evidence(format!(
                "fsGroup {} is set, so the volume's group is {0}; the denied path belongs to another owner, or the program needs to own it (PostgreSQL, for one, refuses a data directory it does not own)",
                who.fs_group.unwrap_or_default()
            ));
            if who.on_root_mismatch() {
                cause = cause.fix(
                    "fsGroupChangePolicy: OnRootMismatch skips the ownership change when the volume's root already matches, leaving files below it as they were: set spec.securityContext.fsGroupChangePolicy: Always for one start",
                );
            }
            cause.fix(format!(
                "give the files to the user the container runs as: {chown}"
            ))
        }
        FsGroup::Ignored { kind, .. } => match kind {
            Ignoring::Nfs => cause
                .fix(format!(
                    "fsGroup cannot fix an NFS volume: on the NFS server, chown the exported directory to {} (or export it with all_squash,anonuid=<uid>,anongid=<gid>)",
                    owner(&who)
                ))
                .fix(format!(
                    "an initContainer that chowns works only when the export has no_root_squash: {chown}"
                )),
            Ignoring::HostPath => cause.fix(format!(
                "the kubelet never chowns a hostPath: chown the directory on the node, or {chown}"
            )),
            Ignoring::CsiDriver(driver) => cause
                .fix(format!(
                    "let the kubelet apply fsGroup to volumes of {driver}: kubectl patch csidriver {driver} --type merge -p '{{\"spec\":{{\"fsGroupPolicy\":\"File\"}}}}' (mutable since Kubernetes 1.29; before, re-create the CSIDriver), then set spec.securityContext.fsGroup: {} and restart the pod",
                    who.wanted_group().map_or("<gid>".to_string(), |g| g.to_string())
                ))
                .fix(format!("or, without changing the driver: {chown}")),
            Ignoring::Other => cause.fix(format!(
                "fix the ownership on the storage side, or {chown}"
            )),
        },
    }
}

/// The line says the program changes modes or checks ownership, which
/// needs the owner: `chmod`, initdb's `could not change permissions`,
/// postgres' `has wrong ownership`.
fn needs_ownership(line: &str) -> bool {
    let l = line.to_lowercase();
    [
        "chmod",
        "chown",
        "change permissions",
        "changing permissions",
        "wrong ownership",
        "must be owned",
        "changing ownership",
    ]
    .iter()
    .any(|w| l.contains(w))
}

/// `uid:gid` of the container, or placeholders.
fn owner(who: &Identity) -> String {
    let uid = who
        .run_as_user
        .map_or("<uid>".to_string(), |u| u.to_string());
    let gid = who
        .fs_group
        .or(who.wanted_group())
        .map_or("<gid>".to_string(), |g| g.to_string());
    format!("{uid}:{gid}")
}

fn fs_group_fix(ctx: &Ctx, pod: &PodChain, who: &Identity) -> String {
    fs_group_fix_with(ctx, pod, who, "")
}

fn fs_group_fix_with(ctx: &Ctx, pod: &PodChain, who: &Identity, also: &str) -> String {
    let gid = who
        .wanted_group()
        .map_or("<the group id the image runs as>".to_string(), |g| {
            g.to_string()
        });
    edit_pod_spec_hint(
        ctx,
        pod,
        &format!(
            "set spec.securityContext.fsGroup: {gid} (the kubelet then makes the volume group-owned and group-writable; add fsGroupChangePolicy: OnRootMismatch for large volumes){also}"
        ),
    )
}

fn chown_init_container(who: &Identity, volume: &str, path: &str) -> String {
    format!(
        "add an initContainer that runs as root and chowns the mount: {{name: fix-ownership, image: busybox, command: [\"sh\", \"-c\", \"chown -R {} {path}\"], securityContext: {{runAsUser: 0, runAsNonRoot: false}}, volumeMounts: [{{name: {volume}, mountPath: {path}}}]}}",
        owner(who)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Volume;
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::NFSVolumeSource;

    fn postgres(message: &str) -> crate::snapshot::Snapshot {
        let message = message.to_string();
        snapshot(move |o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.pods.push(
                pod("db")
                    .claim("data")
                    .mount("vol0", "/var/lib/postgresql/data")
                    .run_as(Some(999), None)
                    .crash_looping(&message),
            );
        })
    }

    #[test]
    fn eperm_under_a_mount_without_fs_group() {
        let snap = postgres("initdb: error: could not change permissions of directory \"/var/lib/postgresql/data\": Operation not permitted");
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("volume \"vol0\""), "{t}");
        assert!(t.contains("runAsUser 999"), "{t}");
        // No fsType on the PV: the default policy skips fsGroup.
        assert!(t.contains("fsGroupPolicy"), "{t}");
        assert!(
            t.contains("chown -R 999:999 /var/lib/postgresql/data"),
            "{t}"
        );
    }

    #[test]
    fn a_write_to_a_config_map_volume_gets_an_empty_dir_copy() {
        let snap = snapshot(|o| {
            o.pods.push(
                pod("fluentd")
                    .on_node("n1")
                    .volume(crate::api::Volume {
                        name: "config".into(),
                        config_map: Some(Box::new(
                            k8s_openapi::api::core::v1::ConfigMapVolumeSource {
                                name: "fluentd-config".into(),
                                ..Default::default()
                            },
                        )),
                        ..Default::default()
                    })
                    .mount("config", "/fluentd/etc")
                    .crash_looping("sed: can't create temp file '/fluentd/etc/fluent.confXXXXXX': Read-only file system"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("always mounts it read-only"), "{t}");
        assert!(t.contains("mount an emptyDir at /fluentd/etc"), "{t}");
        assert!(causes(&crate::rules::volume_io_error::RULE, &snap).is_empty());
    }

    #[test]
    fn relative_path_goes_to_the_only_data_volume() {
        let snap =
            postgres("FATAL:  could not open file \"global/pg_filenode.map\": Permission denied");
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, crate::model::Confidence::Medium);
    }

    #[test]
    fn fs_group_fix_when_the_driver_applies_it() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            let mut v = pv("pv-1")
                .bound_to("default", "data")
                .csi("ebs.csi.aws.com");
            if let Some(csi) = v.spec.as_mut().and_then(|s| s.csi.as_mut()) {
                csi.fs_type = Some("ext4".into());
            }
            o.volumes.push(v);
            o.pods.push(
                pod("es")
                    .claim("data")
                    .mount("vol0", "/usr/share/elasticsearch/data")
                    .run_as(Some(1000), None)
                    .crash_looping("Caused by: java.nio.file.AccessDeniedException: /usr/share/elasticsearch/data/nodes"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("spec.securityContext.fsGroup: 1000"), "{t}");
        assert!(t.contains("fsType ext4"), "{t}");
    }

    #[test]
    fn nfs_points_at_the_export() {
        let snap = snapshot(|o| {
            // A claim too, so the pod is a subject of the default scope.
            o.claims.push(pvc("cache").bound("pv-2"));
            o.volumes.push(pv("pv-2").bound_to("default", "cache"));
            o.pods.push(
                pod("app")
                    .claim("cache")
                    .volume(Volume {
                        name: "share".into(),
                        nfs: Some(Box::new(NFSVolumeSource {
                            server: "nas".into(),
                            path: "/export".into(),
                            read_only: None,
                        })),
                        ..Default::default()
                    })
                    .mount("share", "/srv")
                    .run_as(Some(1000), Some(1000))
                    .crash_looping("PermissionError: [Errno 13] Permission denied: '/srv/out.csv'"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("NFS server"), "{t}");
        assert!(t.contains("no_root_squash"), "{t}");
    }

    #[test]
    fn read_only_mount() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("redis")
                    .claim("data")
                    .mount_read_only("vol0", "/data")
                    .crash_looping("Failed opening the RDB file dump.rdb (in server root dir /data) for saving: Read-only file system"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            text(&c[0]).contains("remove readOnly: true"),
            "{}",
            text(&c[0])
        );
    }

    #[test]
    fn paths_outside_mounts_and_other_errors_are_not_this_rule() {
        let snap = postgres("open /etc/app.conf: permission denied");
        assert!(causes(&RULE, &snap).is_empty());
        let snap = postgres("exec /usr/local/bin/docker-entrypoint.sh: exec format error");
        assert!(causes(&RULE, &snap).is_empty());
        // A writable mount that turned read-only is an I/O failure, not this.
        let snap =
            postgres("could not write \"/var/lib/postgresql/data/x\": Read-only file system");
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_log_line_names_the_denied_path() {
        let log =
            "starting\n\u{1b}[31mopen /data/db/lock: permission denied\u{1b}[0m\nexiting\nmore\n";
        let snap = snapshot(|o| {
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.pods.push(
                pod("db")
                    .claim("data")
                    .mount("vol0", "/data")
                    .crash_looping("exit status 1"),
            );
        })
        .with_evidence(crate::snapshot::NodeEvidence {
            usage: None,
            logs: Some(vec![crate::snapshot::ContainerLog {
                namespace: "default".into(),
                pod: "db".into(),
                container: "main".into(),
                text: log.into(),
            }]),
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let quoted = &c[0].evidence[0];
        assert_eq!(
            quoted,
            "log of container main (previous run): \\u{1b}[31mopen /data/db/lock: permission denied\\u{1b}[0m | exiting"
        );
        assert!(!c[0]
            .evidence
            .iter()
            .any(|e| e.contains("more") || e.contains("starting")));
    }
}
