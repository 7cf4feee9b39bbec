//! What a volume error message says went wrong: the provisioner's and
//! attacher's errors, classified and shortened for evidence.

/// What a provisioning error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The class does not exist (rule `storageclass-not-found`).
    ClassNotFound,
    /// The driver cannot serve the access mode (rule `access-mode-unsupported`).
    AccessMode,
    /// Static class: nothing provisions (rule `no-matching-pv`).
    NoProvisioner,
    Capacity,
    Parameters,
    Topology,
    VolumeMode,
    DataSource,
    /// The driver's identity may not create the volume (cloud IAM, RBAC).
    Permission,
    /// The call to the driver timed out, or is still running from an
    /// earlier timeout (`Aborted`: an operation for the volume already
    /// exists).
    Timeout,
    /// The selected node has no registration of the driver (`no topology
    /// key found on CSINode x`).
    NodeNotRegistered,
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::ClassNotFound => "class not found",
            ErrorKind::AccessMode => "access mode",
            ErrorKind::NoProvisioner => "no provisioner",
            ErrorKind::Capacity => "capacity",
            ErrorKind::Parameters => "parameters",
            ErrorKind::Topology => "topology",
            ErrorKind::VolumeMode => "volume mode",
            ErrorKind::DataSource => "data source",
            ErrorKind::Permission => "permission",
            ErrorKind::Timeout => "timed out",
            ErrorKind::NodeNotRegistered => "driver not on the node",
            ErrorKind::Other => "other",
        }
    }
}

/// The driver's own error, without the wrappers the provisioner adds
/// (`failed to provision volume with StorageClass "x": `, the ≥6.0
/// infeasible prefix).
pub fn underlying(message: &str) -> &str {
    let mut m = message.trim();
    for prefix in ["Volume provisioning failed with infeasible error. Retries will be delayed."] {
        if let Some(rest) = m.strip_prefix(prefix) {
            m = rest.trim();
        }
    }
    for wrapper in [
        "failed to provision volume with StorageClass",
        "Failed to provision volume with StorageClass",
    ] {
        if let Some(rest) = m.strip_prefix(wrapper) {
            if let Some(i) = rest.find("\": ") {
                m = rest[i + 3..].trim();
            }
        }
    }
    m
}

pub fn classify(message: &str) -> ErrorKind {
    let m = underlying(message);
    let lower = m.to_ascii_lowercase();
    if m.starts_with("storageclass.storage.k8s.io") && m.contains("not found") {
        ErrorKind::ClassNotFound
    } else if m.contains("no volume plugin matched") {
        ErrorKind::NoProvisioner
    } else if lower.contains("block volume") || lower.contains("volumemode") {
        ErrorKind::VolumeMode
    } else if m.contains("does not support snapshot restore")
        || m.contains("does not support clone operations")
        || m.contains("CREATE_DELETE_SNAPSHOT capability")
        || m.contains("CLONE_VOLUME capability")
    {
        // external-provisioner's refusal of a restore or a clone: the
        // driver's controller capabilities, not a volume capability.
        ErrorKind::DataSource
    } else if refuses_capability(&description(&lower)) {
        ErrorKind::AccessMode
    } else if lower.contains("no topology key found on csinode")
        || (m.contains("error generating accessibility requirements")
            && lower.contains("csinode")
            && lower.contains("not found"))
    {
        ErrorKind::NodeNotRegistered
    } else if is_permission(m, &lower) {
        ErrorKind::Permission
    } else if m.contains("error generating accessibility requirements")
        || lower.contains("topology")
        || lower.contains("allowed topologies")
    {
        ErrorKind::Topology
    } else if m.contains("DataSource")
        || lower.contains("data source")
        || lower.contains("datasource")
        || (lower.contains("snapshot") && lower.contains("not ready"))
    {
        ErrorKind::DataSource
    } else if m.contains("ResourceExhausted")
        || lower.contains("quota")
        || lower.contains("insufficient capacity")
        || lower.contains("limitexceeded")
        || lower.contains("not enough space")
        || lower.contains("out of capacity")
    {
        ErrorKind::Capacity
    } else if m.contains("InvalidArgument")
        || lower.contains("invalid parameter")
        || lower.contains("invalidparameter")
        || lower.contains("parameter")
    {
        ErrorKind::Parameters
    } else if is_timeout(&lower) || is_in_progress(&lower) {
        ErrorKind::Timeout
    } else {
        ErrorKind::Other
    }
}

/// A cloud's or the API server's refusal of the caller's identity: AWS
/// `UnauthorizedOperation` / `AccessDenied`, GCP and gRPC
/// `PermissionDenied` / `Unauthenticated`, Azure `AuthorizationFailed`,
/// HTTP 403, Kubernetes RBAC (`is forbidden: User ... cannot`).
fn is_permission(m: &str, lower: &str) -> bool {
    [
        "UnauthorizedOperation",
        "AccessDenied",
        "PermissionDenied",
        "Unauthenticated",
        "AuthorizationFailed",
        "AuthorizationError",
    ]
    .iter()
    .any(|w| m.contains(w))
        || [
            "access denied",
            "not authorized to perform",
            "does not have authorization",
            "status code: 403",
            "statuscode: 403",
            "403 forbidden",
            "insufficient permission",
        ]
        .iter()
        .any(|w| lower.contains(w))
        || (lower.contains("is forbidden: user") && lower.contains("cannot"))
        || refuses_helper_pod(m)
}

/// Pod security's refusal of a provisioner's helper pod (local-path,
/// OpenEBS hostpath): PodSecurityPolicy or Pod Security admission.
pub fn refuses_helper_pod(message: &str) -> bool {
    message.contains("PodSecurityPolicy")
        || message.contains("violates PodSecurity")
        || message.contains("unable to admit pod")
}

pub fn is_timeout(lower: &str) -> bool {
    lower.contains("deadlineexceeded")
        || lower.contains("deadline exceeded")
        || lower.contains("timed out")
        || lower.contains("timeout")
}

/// The driver's answer to a retry while its first call for the same
/// volume still runs: the sign of an earlier timeout, not a cause.
pub fn is_in_progress(lower: &str) -> bool {
    lower.contains("code = aborted")
        && (lower.contains("already exists")
            || lower.contains("in progress")
            || lower.contains("pending"))
}

/// CSI access modes and the Kubernetes ones, lower case, as drivers name
/// them in their refusals.
const MODE_NAMES: &[&str] = &[
    "multi_node_multi_writer",
    "multi_node_single_writer",
    "multi_node_reader_only",
    "single_node_multi_writer",
    "single_node_single_writer",
    "single_node_reader_only",
    "readwritemany",
    "readonlymany",
    "readwriteoncepod",
    "readwriteonce",
];

/// Whether a (lower-cased) driver error refuses a volume capability: an
/// access mode, or the capability as a whole. Errors about capabilities
/// that are missing (`volume capabilities not provided`, `... not set`,
/// `... must be provided`) are the provisioner's, not a refusal.
fn refuses_capability(lower: &str) -> bool {
    let refused = [
        "not supported",
        "unsupported",
        "invalid",
        "not valid",
        "not allowed",
        "cannot",
        "only supports",
        "does not support",
        "cannot support",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let multi_node = lower.contains("multi_node_");
    let mode = names_mode(lower);
    let capability = lower.contains("capability") || lower.contains("capabilities");
    multi_node || (refused && (mode || capability))
}

/// The gRPC description without its `rpc error: code = X desc = ` wrapper,
/// so that the code's name (`InvalidArgument`) is not read as the error.
fn description(lower: &str) -> String {
    lower
        .split(" desc = ")
        .skip(usize::from(lower.contains(" desc = ")))
        .collect::<Vec<_>>()
        .join(" desc = ")
}

/// Whether a lower-cased message names an access mode.
fn names_mode(lower: &str) -> bool {
    ["access mode", "access_mode", "accessmode", "access-mode"]
        .iter()
        .any(|w| lower.contains(w))
        || MODE_NAMES.iter().any(|m| lower.contains(m))
}

/// Whether the error names the access mode it refuses, rather than a
/// capability as a whole (`capability at index 0 is not supported`).
pub fn names_access_mode(message: &str) -> bool {
    names_mode(&underlying(message).to_ascii_lowercase())
}

/// Whether a provisioning error refuses the access modes this claim asks
/// for. A refusal that does not name a mode counts only when the claim asks
/// for more than ReadWriteOnce, which every driver serves: for a plain
/// ReadWriteOnce claim the refused capability is something else (mount
/// flags, fsType), which the driver's error itself has to explain.
pub fn refuses_access_mode(message: &str, claim_modes: &[&str]) -> bool {
    classify(message) == ErrorKind::AccessMode
        && (names_access_mode(message) || claim_modes.iter().any(|m| *m != "ReadWriteOnce"))
}

/// The gist of a driver error for a one-line summary: the gRPC description
/// without the code wrapper, cut at a sentence end near 160 characters.
pub fn brief(error: &str) -> String {
    let gist = match error.split_once(" desc = ") {
        Some((head, desc)) => {
            let code = head.rsplit("code = ").next().unwrap_or("").trim();
            format!("{code}: {desc}")
        }
        None => error.to_string(),
    };
    // One line: a cloud's JSON error spreads over several.
    let mut gist = gist.split_whitespace().collect::<Vec<_>>().join(" ");
    // The AWS SDK ends every error with its HTTP status and request id.
    if let Some(i) = gist.rfind(" status code: ") {
        if gist[i..].contains("request id") {
            gist.truncate(i);
        }
    }
    if gist.chars().count() <= 160 {
        return gist;
    }
    // Go wraps an error in its callers' words, so the innermost error, the
    // one that says what went wrong, is at the end; a cloud API's JSON
    // error says it in its "message".
    let head: String = gist.chars().take(60).collect();
    let inner = json_message(&gist).unwrap_or_else(|| {
        let tail: Vec<char> = gist.chars().rev().take(100).collect();
        let tail: String = tail.into_iter().rev().collect();
        // Start at a word.
        match tail.split_once(' ') {
            Some((_, words)) => words.to_string(),
            None => tail,
        }
    });
    let inner: String = inner.chars().take(120).collect();
    format!("{} … {}", head.trim_end(), inner.trim())
}

/// The value of the first `"message": "..."` in a JSON error quoted
/// inside a message.
fn json_message(text: &str) -> Option<String> {
    let start = text.find("\"message\"")? + "\"message\"".len();
    let rest = text[start..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest
        .strip_prefix('"')
        .or_else(|| rest.strip_prefix("\\\""))?;
    let end = rest.find(['"', '\\'])?;
    Some(rest[..end].to_string()).filter(|m| !m.trim().is_empty())
}

/// Labels of a driver's name that say nothing about which driver it is.
const GENERIC_LABELS: &[&str] = &[
    "csi",
    "io",
    "com",
    "org",
    "net",
    "k8s",
    "driver",
    "storage",
    "kubernetes",
    "sigs",
    "x-k8s",
];

/// `ebs.csi.aws.com` → `ebs`, `driver.longhorn.io` → `longhorn`,
/// `io.openebs.csi-mayastor` → `openebs`: a word to find a driver's pods
/// by name.
pub fn short_name(driver: &str) -> &str {
    let last = driver.rsplit('/').next().unwrap_or(driver);
    last.split('.')
        .find(|l| !l.is_empty() && !GENERIC_LABELS.contains(l))
        .unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_keeps_its_innermost_words() {
        let azure = "rpc error: code = Unknown desc = Attach volume /subscriptions/XXXX/resourceGroups/YYY/providers/Microsoft.Compute/disks/pvc-1 to instance aks-1 failed with Retriable: false, RetryAfter: 0s, HTTPStatusCode: 409, RawError: {\r\n  \"error\": {\r\n    \"code\": \"OperationNotAllowed\",\r\n    \"message\": \"The maximum number of data disks allowed to be attached to a VM of this size is 4.\",\r\n    \"target\": \"dataDisks\"\r\n  }\r\n}";
        let b = brief(azure);
        assert!(b.starts_with("Unknown: Attach volume"), "{b}");
        assert!(b.ends_with("The maximum number of data disks allowed to be attached to a VM of this size is 4."), "{b}");
        let gce = format!("rpc error: code = Internal desc = {} Maximum hyperdisk-balanced disks count should be less than or equal to [16], Requested : [17]", "x".repeat(200));
        assert!(brief(&gce).ends_with("Requested : [17]"), "{}", brief(&gce));
        let aws = "Error attaching EBS volume \"vol-112233445566778899\" to instance \"i-112233445566778899\": VolumeInUse: vol-112233445566778899 is already attached to an instance\n\tstatus code: 400, request id: 7f3a9c1e-2b4d-4e6f-8a0b-1c2d3e4f5a6b";
        let b = brief(aws);
        assert!(b.ends_with("is already attached to an instance"), "{b}");
        assert!(!b.contains("request id"), "{b}");
    }

    #[test]
    fn short_names_skip_generic_labels() {
        for (driver, want) in [
            ("ebs.csi.aws.com", "ebs"),
            ("driver.longhorn.io", "longhorn"),
            ("io.openebs.csi-mayastor", "openebs"),
            ("csi.vsphere.vmware.com", "vsphere"),
            ("org.democratic-csi.nfs", "democratic-csi"),
            ("kubernetes.io/aws-ebs", "aws-ebs"),
        ] {
            assert_eq!(short_name(driver), want, "{driver}");
        }
    }

    #[test]
    fn permission_timeout_and_registration_errors() {
        for m in [
            "failed to provision volume with StorageClass \"gp2\": rpc error: code = Internal desc = Could not create volume \"pvc-1\": could not create volume in EC2: UnauthorizedOperation: You are not authorized to perform this operation.\n\tstatus code: 403, request id: 1",
            "rpc error: code = Unauthenticated desc = Access Denied. Please ensure you have the right AWS permissions: Access denied",
            "rpc error: code = Internal desc = AuthorizationFailed: The client 'x' does not have authorization to perform action 'Microsoft.Compute/disks/write'",
        ] {
            assert_eq!(classify(m), ErrorKind::Permission, "{m}");
        }
        for m in [
            "failed to provision volume with StorageClass \"cephfs\": rpc error: code = DeadlineExceeded desc = context deadline exceeded",
            "failed to provision volume with StorageClass \"cephfs\": rpc error: code = Aborted desc = an operation with the given Volume ID pvc-1 already exists",
        ] {
            assert_eq!(classify(m), ErrorKind::Timeout, "{m}");
        }
        assert_eq!(
            classify("failed to provision volume with StorageClass \"csi-hostpath-sc\": error generating accessibility requirements: no topology key found on CSINode k8s-node01"),
            ErrorKind::NodeNotRegistered
        );
    }

    #[test]
    fn capability_refusals_in_every_case_form_are_access_mode() {
        for m in [
            "rpc error: code = InvalidArgument desc = capability at index 0 is not supported",
            "rpc error: code = InvalidArgument desc = Capability at index 1 is not supported",
            "rpc error: code = InvalidArgument desc = CAPABILITY AT INDEX 0 IS NOT SUPPORTED",
            "rpc error: code = InvalidArgument desc = unsupported access mode MULTI_NODE_MULTI_WRITER",
            "rpc error: code = InvalidArgument desc = Unsupported Access Mode: 5",
            "rpc error: code = InvalidArgument desc = access mode ReadWriteMany is not supported",
            "rpc error: code = InvalidArgument desc = Access mode SINGLE_NODE_MULTI_WRITER not supported",
            "rpc error: code = InvalidArgument desc = Volume capability not supported",
            "rpc error: code = InvalidArgument desc = Volume capabilities not supported",
            "rpc error: code = InvalidArgument desc = VOLUME CAPABILITIES NOT SUPPORTED",
            "rpc error: code = InvalidArgument desc = volume capabilities not supported",
            "rpc error: code = InvalidArgument desc = VolumeCapabilities is invalid: specified multi writer with mount access type",
            "rpc error: code = InvalidArgument desc = invalid access mode: ReadOnlyMany",
            "failed to provision volume with StorageClass \"x\": rpc error: code = InvalidArgument desc = volume capabilities multi_node_multi_writer not supported",
            "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1 node) access modes",
            "CSI does not support ReadOnlyMany and ReadWriteOnce on the same PersistentVolume",
            "driver only supports readwriteonce",
        ] {
            assert_eq!(classify(m), ErrorKind::AccessMode, "{m}");
        }
    }

    #[test]
    fn missing_capabilities_and_other_errors_are_not_refusals() {
        for m in [
            "rpc error: code = InvalidArgument desc = Volume capabilities not provided",
            "rpc error: code = InvalidArgument desc = CreateVolume Volume capabilities must be provided",
            "rpc error: code = InvalidArgument desc = volume capabilities not set",
            "rpc error: code = InvalidArgument desc = Invalid parameter iops",
            "rpc error: code = OutOfRange desc = invalid capacity range",
        ] {
            assert_ne!(classify(m), ErrorKind::AccessMode, "{m}");
        }
        assert_eq!(
            classify("rpc error: code = InvalidArgument desc = block volumes are not supported"),
            ErrorKind::VolumeMode
        );
        // A driver without snapshot or clone support: the data source.
        for m in [
            "failed to provision volume with StorageClass \"x\": CSI driver does not support snapshot restore: controller CREATE_DELETE_SNAPSHOT capability is not reported",
            "CSI driver does not support clone operations: controller CLONE_VOLUME capability is not reported",
        ] {
            assert_eq!(classify(m), ErrorKind::DataSource, "{m}");
        }
    }

    #[test]
    fn an_unnamed_capability_refusal_counts_only_for_modes_beyond_read_write_once() {
        let m = "rpc error: code = InvalidArgument desc = capability at index 0 is not supported";
        assert!(refuses_access_mode(m, &["ReadWriteMany"]));
        assert!(refuses_access_mode(m, &["ReadWriteOncePod"]));
        assert!(!refuses_access_mode(m, &["ReadWriteOnce"]));
        let named =
            "rpc error: code = InvalidArgument desc = access mode ReadWriteOnce not supported";
        assert!(refuses_access_mode(named, &["ReadWriteOnce"]));
    }
}
