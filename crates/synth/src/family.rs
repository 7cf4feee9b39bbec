//! The rule families a broken unit is generated for, and what each costs.

/// The rule families a broken unit is generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// A pod mounts a claim that does not exist.
    ClaimNotFound,
    /// A claim names a StorageClass that does not exist.
    StorageClassNotFound,
    /// A ReadWriteMany claim on a block-disk driver (EBS), no pod yet.
    AccessModeUnsupported,
    /// A claim waits for a provisioner that is not installed.
    ProvisionerNotResponding,
    /// A WaitForFirstConsumer claim nothing uses yet (info).
    WaitingForFirstConsumer,
    /// A rolling update puts a second pod of a RWO claim on another node.
    MultiAttach,
    /// The attacher reports an error.
    AttachFailed,
    /// The kubelet cannot mount an EFS volume (NFS server unreachable).
    MountFailed,
    /// A bound claim whose volume was deleted.
    ClaimLost,
    /// A volume Released under Retain, its claim deleted.
    PvReleasedRetained,
    /// The resizer refuses an expansion.
    ExpansionFailed,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::ClaimNotFound,
        Family::StorageClassNotFound,
        Family::AccessModeUnsupported,
        Family::ProvisionerNotResponding,
        Family::WaitingForFirstConsumer,
        Family::MultiAttach,
        Family::AttachFailed,
        Family::MountFailed,
        Family::ClaimLost,
        Family::PvReleasedRetained,
        Family::ExpansionFailed,
    ];

    /// The rule id that must explain the subject (rank 1).
    pub fn rule(self) -> &'static str {
        match self {
            Family::ClaimNotFound => "claim-not-found",
            Family::StorageClassNotFound => "storageclass-not-found",
            Family::AccessModeUnsupported => "access-mode-unsupported",
            Family::ProvisionerNotResponding => "provisioner-not-responding",
            Family::WaitingForFirstConsumer => "waiting-for-first-consumer",
            Family::MultiAttach => "multi-attach",
            Family::AttachFailed => "attach-failed",
            Family::MountFailed => "mount-failed",
            Family::ClaimLost => "claim-lost",
            Family::PvReleasedRetained => "pv-released-retained",
            Family::ExpansionFailed => "expansion-failed",
        }
    }

    /// The severity of the subject's finding.
    pub fn severity(self) -> &'static str {
        match self {
            Family::WaitingForFirstConsumer => "info",
            Family::PvReleasedRetained => "warning",
            Family::ClaimLost => "critical",
            _ => "error",
        }
    }

    /// (pods, claims, volumes) one unit of the family creates.
    pub(crate) fn objects(self) -> (usize, usize, usize) {
        match self {
            Family::ClaimNotFound => (1, 0, 0),
            Family::StorageClassNotFound => (1, 1, 0),
            Family::AccessModeUnsupported => (0, 1, 0),
            Family::ProvisionerNotResponding => (1, 1, 0),
            Family::WaitingForFirstConsumer => (0, 1, 0),
            Family::MultiAttach => (2, 1, 1),
            Family::AttachFailed => (1, 1, 1),
            Family::MountFailed => (1, 1, 1),
            Family::ClaimLost => (1, 1, 0),
            Family::PvReleasedRetained => (0, 0, 1),
            Family::ExpansionFailed => (1, 1, 1),
        }
    }

    /// Events one unit of the family carries (storms aside).
    pub(crate) fn events(self) -> usize {
        match self {
            Family::ClaimNotFound
            | Family::AccessModeUnsupported
            | Family::WaitingForFirstConsumer => 1,
            Family::PvReleasedRetained => 0,
            Family::MultiAttach => 3,
            Family::ExpansionFailed => 4,
            _ => 2,
        }
    }
}
