//! Names, uids and placement: derived from the unit alone, so every pass
//! finds the same ones.

use super::{Gen, Placed, Unit};
use crate::rng::{splitmix, Rng};
use crate::Family;

impl Gen<'_> {
    pub(super) fn rng(&self, u: &Placed, role: u64, i: u32) -> Rng {
        Rng::new(
            self.cfg.seed
                ^ splitmix(u64::from(u.id))
                ^ splitmix(role.wrapping_mul(0x1_0000) + u64::from(i)),
        )
    }

    pub(super) fn uid(&self, u: &Placed, role: u64, i: u32) -> String {
        self.rng(u, role, i).uuid()
    }

    pub(super) fn ns(&self, u: &Placed) -> &str {
        &self.namespaces[u.ns as usize]
    }

    pub(super) fn node_of(&self, u: &Placed, i: u32) -> usize {
        (self.rng(u, 7, i).next() % self.nodes as u64) as usize
    }

    /// Another node in the zone of node `a` when there is one (a rolling
    /// update lands the new pod elsewhere in the volume's zone).
    pub(super) fn neighbour(&self, a: usize) -> usize {
        if a + 3 < self.nodes {
            a + 3
        } else if a >= 3 {
            a - 3
        } else {
            (a + 1) % self.nodes
        }
    }

    pub(super) fn node_name(&self, n: usize) -> String {
        let zone = n % 3;
        format!(
            "ip-10-0-{}-{}.ec2.internal",
            zone * 64 + (n / 3) / 250,
            (n / 3) % 250 + 4
        )
    }

    pub(super) fn instance_id(&self, n: usize) -> String {
        format!("i-0{}", Rng::new(self.cfg.seed ^ 0x1d ^ n as u64).hex(16))
    }

    pub(super) fn base_name(&self, u: &Placed) -> String {
        let word = match u.unit {
            Unit::Web { .. } => "web",
            Unit::Db { .. } => "db",
            Unit::Cms { .. } => "cms",
            Unit::Spare => "backup",
            Unit::LoosePv => "static",
            Unit::System { .. } => {
                return if u.id == 0 {
                    "ebs-csi-controller".into()
                } else {
                    "efs-csi-controller".into()
                }
            }
            Unit::Broken(f) => match f {
                Family::ClaimNotFound => "checkout",
                Family::StorageClassNotFound => "trainer",
                Family::AccessModeUnsupported => "shared-assets",
                Family::ProvisionerNotResponding => "docs-site",
                Family::WaitingForFirstConsumer => "model-cache",
                Family::MultiAttach => "api",
                Family::AttachFailed => "grafana",
                Family::MountFailed => "gitea",
                Family::ClaimLost => "metrics",
                Family::PvReleasedRetained => "clickhouse",
                Family::ExpansionFailed => "billing-db",
            },
        };
        format!("{word}-{}", u.id)
    }

    /// `<deployment>-<pod-template-hash>` of revision `rev`.
    pub(super) fn replica_set_name(&self, u: &Placed, rev: u32) -> (String, String) {
        let hash = self.rng(u, 2, rev).kname(9);
        (format!("{}-{hash}", self.base_name(u)), hash)
    }

    pub(super) fn deploy_pod_name(&self, u: &Placed, i: u32) -> String {
        self.deploy_pod_name_rev(u, 0, i)
    }

    pub(super) fn deploy_pod_name_rev(&self, u: &Placed, rev: u32, i: u32) -> String {
        let (rs, _) = self.replica_set_name(u, rev);
        format!("{rs}-{}", self.rng(u, 3, rev * 1000 + i).kname(5))
    }

    pub(super) fn db_pod_name(&self, u: &Placed, i: u32) -> String {
        format!("{}-{i}", self.base_name(u))
    }

    /// The pod a broken unit is about; `i` 1 is the new pod of a rolling update.
    pub(super) fn broken_pod_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => self.db_pod_name(u, 0),
            Unit::Broken(Family::MultiAttach) => self.deploy_pod_name_rev(u, i, 0),
            _ => self.deploy_pod_name(u, 0),
        }
    }

    pub(super) fn broken_claim_name(&self, u: &Placed) -> String {
        let base = self.base_name(u);
        match u.unit {
            Unit::Broken(Family::ClaimNotFound) => format!("{base}-date"),
            Unit::Broken(Family::StorageClassNotFound) => format!("{base}-checkpoints"),
            Unit::Broken(Family::ProvisionerNotResponding) => format!("{base}-content"),
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => {
                format!("data-{base}-0")
            }
            Unit::Broken(Family::ClaimLost | Family::MultiAttach) => format!("{base}-data"),
            _ => base,
        }
    }

    /// Claim `i` of a unit: `data-<sts>-<i>` for StatefulSets.
    pub(super) fn claim_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::Db { .. } => format!("data-{}-{i}", self.base_name(u)),
            Unit::Cms { .. } => format!("{}-shared", self.base_name(u)),
            Unit::Spare => format!("{}-snapshots", self.base_name(u)),
            _ => self.broken_claim_name(u),
        }
    }

    pub(super) fn claim_uid(&self, u: &Placed, i: u32) -> String {
        self.uid(u, 10, i)
    }

    /// Dynamically provisioned volumes are named after their claim's uid.
    pub(super) fn volume_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::LoosePv => format!("{}-{}", self.base_name(u), self.rng(u, 11, i).hex(6)),
            Unit::Broken(Family::PvReleasedRetained | Family::ClaimLost) => {
                format!("pvc-{}", self.uid(u, 12, i))
            }
            _ => format!("pvc-{}", self.claim_uid(u, i)),
        }
    }

    pub(super) fn ts(&self, ago: i64) -> String {
        jiff::Timestamp::from_second(self.now - ago.max(0))
            .expect("in range")
            .to_string()
    }

    /// A `MicroTime` as the API server writes it: always six fractional
    /// digits (kube-apiserver rejects fewer in an object it is given).
    pub(super) fn micro_ts(&self, ago: i64, salt: u64) -> String {
        let micros = (self.now - ago.max(1)) * 1_000_000 + (splitmix(salt) % 1_000_000) as i64;
        jiff::Timestamp::from_microsecond(micros)
            .expect("in range")
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    }

    pub(super) fn resource_version(&self, salt: u64) -> String {
        (40_000_000 + splitmix(self.cfg.seed ^ salt) % 30_000_000).to_string()
    }

    pub(super) fn scheduler_message(&self, reason: &str) -> String {
        let n = self.nodes;
        format!(
            "0/{n} nodes are available: {reason}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
        )
    }
}
