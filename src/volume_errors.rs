//! What the kubelet and the workload say about a volume, read from their
//! messages: which volume a kubelet event is about, a volume source that
//! does not exist, a subPath that cannot be prepared, and the errors a
//! process meets on a mounted file system (Go's lower-case and glibc's
//! capitalised errno texts, and the forms databases and runtimes print);
//! and whether the API server refused a pod because of its volumes.

/// An error a process met on a file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FsError {
    PermissionDenied,
    ReadOnly,
    NoSpace,
    Quota,
    Io,
    Stale,
    NotConnected,
}

impl FsError {
    pub fn as_str(self) -> &'static str {
        match self {
            FsError::PermissionDenied => "permission denied",
            FsError::ReadOnly => "read-only file system",
            FsError::NoSpace => "no space left on device",
            FsError::Quota => "disk quota exceeded",
            FsError::Io => "input/output error",
            FsError::Stale => "stale file handle",
            FsError::NotConnected => "transport endpoint is not connected",
        }
    }
}

/// Texts of each error, lower-case; `EXXX` names as runtimes print them.
const FS_ERROR_TEXTS: &[(FsError, &[&str])] = &[
    (
        FsError::PermissionDenied,
        &[
            "permission denied",
            "operation not permitted",
            "eacces",
            "eperm",
            "accessdeniedexception",
            // InnoDB: `Operating system error number 13 in a file operation.`
            "error number 13",
            "errcode: 13",
            // MongoDB turns EACCES on its lock file into this.
            "attempted to create a lock file on a read-only directory",
        ],
    ),
    (FsError::ReadOnly, &["read-only file system", "erofs"]),
    (
        FsError::NoSpace,
        &[
            "no space left on device",
            "enospc",
            "disk full",
            "disk is full",
            // InnoDB: `Operating system error number 28 in a file operation.`
            "error number 28",
            "errno 28",
            "errcode: 28",
            // Elasticsearch marks its indices read-only past this.
            "flood stage disk watermark",
        ],
    ),
    (
        FsError::Quota,
        &["disk quota exceeded", "disc quota exceeded", "edquot"],
    ),
    (
        FsError::Io,
        &["input/output error", "eio:", "(eio)", "errno 5)"],
    ),
    (
        FsError::Stale,
        &["stale file handle", "stale nfs file handle", "estale"],
    ),
    (
        FsError::NotConnected,
        &["transport endpoint is not connected", "enotconn"],
    ),
];

/// Words, lowercase, of a pod refusal (`FailedCreate`: `Error creating:
/// pods "x" is forbidden: ...`) that is about the pod's volumes: a
/// PodSecurity level, PodSecurityPolicy or policy engine that forbids
/// hostPath or a volume type (`spec.volumes[0]`, Gatekeeper's `Volume type
/// csi is not allowed`, `allowedHostPaths`), an ephemeral-storage quota or
/// limit, a policy on claims or emptyDir size.
const VOLUME_REFUSAL_WORDS: &[&str] = &["volume", "hostpath", "ephemeral-storage", "emptydir"];

pub fn refuses_volumes(answer: &str) -> bool {
    let answer = answer.to_lowercase();
    VOLUME_REFUSAL_WORDS.iter().any(|w| answer.contains(w))
}

/// Why the kubelet evicted a pod for its disk (`status.reason: Evicted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskEviction {
    /// The node ran low on ephemeral storage or inodes (DiskPressure).
    NodeLowOnDisk,
    /// A container wrote past its `limits.ephemeral-storage`.
    ContainerLimit,
    /// The pod's containers together wrote past the sum of their limits.
    PodLimit,
    /// An emptyDir grew past its `sizeLimit`.
    EmptyDirLimit,
}

/// The disk eviction a kubelet message reports, in the wordings of 1.8 to
/// 1.34: `The node was low on resource: ephemeral-storage.` (also
/// `inodes`, `nodefs`, `imagefs` and the old `[DiskPressure]`), `Container
/// x exceeded its local ephemeral storage limit "1Gi".`, `Pod ephemeral
/// local storage usage exceeds the total limit of containers 1073741824.`,
/// `Usage of EmptyDir volume "x" exceeds the limit "1Gi".`
pub fn disk_eviction(message: &str) -> Option<DiskEviction> {
    let m = message.to_ascii_lowercase();
    if let Some((_, rest)) = m.split_once("low on resource:") {
        let resource = rest.trim_start().trim_start_matches('[');
        return [
            "ephemeral-storage",
            "inodes",
            "nodefs",
            "imagefs",
            "diskpressure",
        ]
        .iter()
        .any(|r| resource.starts_with(r))
        .then_some(DiskEviction::NodeLowOnDisk);
    }
    if m.contains("exceeded its local ephemeral storage limit") {
        Some(DiskEviction::ContainerLimit)
    } else if m.contains("ephemeral local storage usage exceeds the total limit") {
        Some(DiskEviction::PodLimit)
    } else if m.contains("usage of emptydir volume") && m.contains("exceeds the limit") {
        Some(DiskEviction::EmptyDirLimit)
    } else {
        None
    }
}

/// Every file-system error the message names, in the order of [`FsError`].
pub fn fs_errors(message: &str) -> Vec<FsError> {
    let lower = message.to_lowercase();
    FS_ERROR_TEXTS
        .iter()
        .filter(|(_, texts)| texts.iter().any(|t| contains_word(&lower, t)))
        .map(|(e, _)| *e)
        .collect()
}

/// `needle` in `haystack`, not as the middle of a longer word (`eio` in
/// `neio`), so the errno names do not match inside other words.
fn contains_word(haystack: &str, needle: &str) -> bool {
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        let edge = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric());
        edge(before) && (edge(after) || !needle.ends_with(|c: char| c.is_ascii_alphanumeric()))
    })
}

/// Absolute paths a message names, without the quotes and punctuation
/// around them.
pub fn paths(message: &str) -> Vec<&str> {
    message
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | ')' | '[' | ']' | ',' | '=')
        })
        .filter_map(|w| {
            let w = w.trim_end_matches([':', ';', '.', ',']);
            (w.starts_with('/') && w.len() > 1 && !w.starts_with("//")).then_some(w)
        })
        .collect()
}

/// The pod volume a kubelet message is about: `... for volume "cfg" : ...`.
pub fn named_volume(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("for volume \"")?;
    rest.split('"').next().filter(|v| !v.is_empty())
}

/// The volumes a kubelet summary lists: `unmounted volumes=[a b]`.
pub fn listed_volumes<'m>(message: &'m str, list: &str) -> Vec<&'m str> {
    let key = format!("{list}=[");
    message
        .split_once(key.as_str())
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(names, _)| names.split_whitespace().collect())
        .unwrap_or_default()
}

/// What a non-claim volume points at that is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingSource {
    ConfigMap(String),
    Secret(String),
    /// A key the volume's `items` name, of a ConfigMap or Secret.
    Key {
        of: &'static str,
        key: String,
    },
    /// A hostPath that does not exist or is not of the type asked.
    HostPath {
        path: String,
        why: String,
    },
}

/// The quoted name after `prefix` (`configmap "x" not found` → `x`).
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let (_, rest) = message.split_once(prefix)?;
    let (name, after) = rest.strip_prefix('"')?.split_once('"')?;
    after.trim_start().starts_with("not found").then_some(name)
}

/// The word after `prefix`, up to white space.
fn word_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let (_, rest) = message.split_once(prefix)?;
    rest.split_whitespace()
        .next()
        .map(|w| w.trim_end_matches(['.', ',', ';']))
        .filter(|w| !w.is_empty())
}

/// The missing source a kubelet mount error names, in every kubelet's
/// wording (singular resource names since the kubelet's object managers,
/// plural before).
pub fn missing_source(message: &str) -> Option<MissingSource> {
    for prefix in ["configmap ", "configmaps "] {
        if let Some(name) = quoted_after(message, prefix) {
            return Some(MissingSource::ConfigMap(name.to_string()));
        }
    }
    for prefix in ["secret ", "secrets "] {
        if let Some(name) = quoted_after(message, prefix) {
            return Some(MissingSource::Secret(name.to_string()));
        }
    }
    for (of, prefix) in [
        ("ConfigMap", "references non-existent config key:"),
        ("Secret", "references non-existent secret key:"),
    ] {
        if let Some(key) = word_after(message, prefix) {
            return Some(MissingSource::Key {
                of,
                key: key.to_string(),
            });
        }
    }
    if let Some((_, rest)) = message
        .split_once("hostPath type check failed: ")
        .or_else(|| message.split_once("hostPath type check failed, "))
    {
        let path = rest.split_whitespace().next().unwrap_or("").to_string();
        return Some(MissingSource::HostPath {
            why: rest.trim().to_string(),
            path,
        });
    }
    if let Some((_, rest)) = message.split_once("hostPath ") {
        if let Some(path) = rest
            .strip_suffix(" doesn't exist")
            .or_else(|| rest.split_once(" doesn't exist").map(|(p, _)| p))
        {
            return Some(MissingSource::HostPath {
                path: path.to_string(),
                why: format!("{path} doesn't exist"),
            });
        }
    }
    None
}

/// The volumeMount whose subPath could not be prepared, when the message
/// is about a subPath (`""` when it names none).
pub fn subpath_failure(message: &str) -> Option<&str> {
    for prefix in [
        "failed to prepare subPath for volumeMount \"",
        "failed to create subPath directory for volumeMount \"",
    ] {
        if let Some((_, rest)) = message.split_once(prefix) {
            return rest.split('"').next();
        }
    }
    // `unable to provision SubPath`, `SubPath ... must not be an absolute path`.
    message.to_lowercase().contains("subpath").then_some("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_evictions_in_each_kubelet_wording() {
        for (message, want) in [
            ("The node was low on resource: ephemeral-storage. Container app was using 34260Ki, which exceeds its request of 0. ", Some(DiskEviction::NodeLowOnDisk)),
            ("The node was low on resource: ephemeral-storage. Threshold quantity: 4281126156, available: 3966848Ki. Container app was using 2Gi, request is 0, has larger consumption of ephemeral-storage. ", Some(DiskEviction::NodeLowOnDisk)),
            ("The node was low on resource: inodes.", Some(DiskEviction::NodeLowOnDisk)),
            ("The node was low on resource: [DiskPressure].", Some(DiskEviction::NodeLowOnDisk)),
            ("The node was low on resource: memory. Container app was using 3Gi, which exceeds its request of 1Gi.", None),
            ("Container app exceeded its local ephemeral storage limit \"1Gi\". ", Some(DiskEviction::ContainerLimit)),
            ("Pod ephemeral local storage usage exceeds the total limit of containers 1073741824. ", Some(DiskEviction::PodLimit)),
            ("Usage of EmptyDir volume \"cache\" exceeds the limit \"512Mi\". ", Some(DiskEviction::EmptyDirLimit)),
            ("Pod was rejected: Node didn't have enough resource: cpu", None),
        ] {
            assert_eq!(disk_eviction(message), want, "{message}");
        }
    }

    #[test]
    fn a_refusal_is_about_volumes_in_each_admission_wording() {
        for answer in [
            r#"pods "ds-x" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "host")"#,
            r#"pods "web-0" is forbidden: unable to validate against any pod security policy: [spec.volumes[0]: Invalid value: "hostPath": hostPath volumes are not allowed to be used]"#,
            r#"admission webhook "validation.gatekeeper.sh" denied the request: [psp-volume-types] Volume type csi is not allowed, pod: web-0. Allowed volume types: ["configMap", "secret"]"#,
            r#"admission webhook "validate.kyverno.svc-fail" denied the request: policy Deployment/default/web for resource violation: disallow-host-path: HostPath volumes are forbidden. The field spec.volumes[*].hostPath must be unset."#,
            r#"pods "job-x" is forbidden: exceeded quota: compute, requested: requests.ephemeral-storage=20Gi, used: requests.ephemeral-storage=0, limited: requests.ephemeral-storage=10Gi"#,
            r#"pods "x" is forbidden: [maximum ephemeral-storage usage per Container is 5Gi, but limit is 20Gi]"#,
            r#"Pod "x" is invalid: spec.containers[0].volumeMounts[0].name: Not found: "data""#,
            r#"admission webhook "validation.gatekeeper.sh" denied the request: [host-path] HostPath is not allowed, pod: web-0. Allowed path: [{"pathPrefix": "/foo"}]"#,
            r#"admission webhook "validate.kyverno.svc-fail" denied the request: emptyDir sizeLimit must be set"#,
        ] {
            assert!(refuses_volumes(answer), "{answer}");
        }
        for answer in [
            r#"pods "x" is forbidden: error looking up service account ns/sa: serviceaccount "sa" not found"#,
            r#"pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)"#,
            r#"pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=9, limited: requests.cpu=10"#,
        ] {
            assert!(!refuses_volumes(answer), "{answer}");
        }
    }

    #[test]
    fn errno_texts_in_go_glibc_and_runtime_forms() {
        assert_eq!(
            fs_errors("FATAL:  data directory \"/var/lib/postgresql/data/pgdata\" has wrong ownership: could not open: Permission denied"),
            vec![FsError::PermissionDenied]
        );
        assert_eq!(
            fs_errors(
                "PANIC: could not write to file \"pg_wal/xlogtemp.28\": No space left on device"
            ),
            vec![FsError::NoSpace]
        );
        assert_eq!(
            fs_errors("OSError: [Errno 30] Read-only file system: '/data/x'"),
            vec![FsError::ReadOnly]
        );
        assert_eq!(
            fs_errors("open /mnt/share/a: stale NFS file handle"),
            vec![FsError::Stale]
        );
        assert_eq!(
            fs_errors("stat /data: transport endpoint is not connected"),
            vec![FsError::NotConnected]
        );
        assert_eq!(
            fs_errors("write /data/log: input/output error"),
            vec![FsError::Io]
        );
        assert_eq!(
            fs_errors("java.nio.file.AccessDeniedException: /data/a"),
            vec![FsError::PermissionDenied]
        );
        assert!(fs_errors("connection refused; neio; peppermint").is_empty());
        assert!(fs_errors("exec format error").is_empty());
        assert_eq!(
            fs_errors("[ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation."),
            vec![FsError::NoSpace]
        );
        assert_eq!(
            fs_errors("exception in initAndListen: IllegalOperation: Attempted to create a lock file on a read-only directory: /data/db, terminating"),
            vec![FsError::PermissionDenied]
        );
        assert!(fs_errors("Operating system error number 280").is_empty());
    }

    #[test]
    fn paths_without_quotes_and_punctuation() {
        assert_eq!(
            paths("mkdir: cannot create directory '/data/db': Permission denied"),
            vec!["/data/db"]
        );
        assert_eq!(
            paths("open \"/var/lib/mysql/ibdata1\", (OS errno 28 - No space left on device)."),
            vec!["/var/lib/mysql/ibdata1"]
        );
        assert!(paths("a // b / c").is_empty());
    }

    #[test]
    fn the_volume_a_kubelet_event_names() {
        let m = "MountVolume.SetUp failed for volume \"cfg\" : configmap \"app-config\" not found";
        assert_eq!(named_volume(m), Some("cfg"));
        assert_eq!(
            missing_source(m),
            Some(MissingSource::ConfigMap("app-config".into()))
        );
        let summary = "Unable to attach or mount volumes: unmounted volumes=[cfg data], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition";
        assert_eq!(
            listed_volumes(summary, "unmounted volumes"),
            vec!["cfg", "data"]
        );
        assert_eq!(named_volume(summary), None);
    }

    #[test]
    fn every_missing_source_wording() {
        assert_eq!(
            missing_source(
                "MountVolume.SetUp failed for volume \"tls\" : secrets \"tls-cert\" not found"
            ),
            Some(MissingSource::Secret("tls-cert".into()))
        );
        assert_eq!(
            missing_source("MountVolume.SetUp failed for volume \"c\" : configmap references non-existent config key: app.yaml"),
            Some(MissingSource::Key { of: "ConfigMap", key: "app.yaml".into() })
        );
        assert_eq!(
            missing_source("MountVolume.SetUp failed for volume \"s\" : references non-existent secret key: token"),
            Some(MissingSource::Key { of: "Secret", key: "token".into() })
        );
        assert!(matches!(
            missing_source("MountVolume.SetUp failed for volume \"dev\" : hostPath type check failed: /dev/ttyUSB0 is not a character device"),
            Some(MissingSource::HostPath { path, .. }) if path == "/dev/ttyUSB0"
        ));
        assert!(matches!(
            missing_source("MountVolume.SetUp failed for volume \"h\" : hostPath /srv/data doesn't exist"),
            Some(MissingSource::HostPath { path, .. }) if path == "/srv/data"
        ));
        assert_eq!(
            missing_source("rpc error: code = Internal desc = secret store unavailable"),
            None
        );
        assert_eq!(
            missing_source("persistentvolumeclaim \"x\" not found"),
            None
        );
        // A message cut after the opening quote names nothing.
        assert_eq!(missing_source("configmap \""), None);
        assert_eq!(missing_source("secret \"half-a-name"), None);
    }

    #[test]
    fn subpath_failures_name_their_mount() {
        assert_eq!(
            subpath_failure(
                "failed to prepare subPath for volumeMount \"data\" of container \"app\""
            ),
            Some("data")
        );
        assert_eq!(
            subpath_failure(
                "failed to create subPath directory for volumeMount \"logs\" of container \"app\""
            ),
            Some("logs")
        );
        assert_eq!(
            subpath_failure("unable to provision SubPath `../x`: must not contain '..'"),
            Some("")
        );
        assert_eq!(subpath_failure("Back-off pulling image"), None);
    }
}
