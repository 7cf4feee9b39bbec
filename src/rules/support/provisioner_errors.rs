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
    } else if m.contains("MULTI_NODE_MULTI_WRITER")
        || m.contains("MULTI_NODE_READER_ONLY")
        || m.contains("MULTI_NODE_SINGLE_WRITER")
        || m.contains("only supports ReadWriteOnce")
        || m.contains("does not support ReadOnlyMany and ReadWriteOnce")
        || lower.contains("access mode")
        || lower.contains("accessmode")
        || lower.contains("volume capability not supported")
        || lower.contains("volume capabilities not supported")
    {
        ErrorKind::AccessMode
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
    } else {
        ErrorKind::Other
    }
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
    if gist.chars().count() <= 160 {
        return gist;
    }
    let cut: String = gist.chars().take(160).collect();
    format!("{}…", cut.trim_end())
}

/// `ebs.csi.aws.com` → `ebs`, to find a driver's pods by name.
pub fn short_name(driver: &str) -> &str {
    let last = driver.rsplit('/').next().unwrap_or(driver);
    last.split('.').next().unwrap_or(last)
}
