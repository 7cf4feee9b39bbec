//! The claims of each unit, their volumes and VolumeAttachments.

use super::objects::{ClaimDesc, VolumeDesc};
use super::{Gen, Placed, Unit};
use crate::rng::{hash, Rng};
use crate::writer::{Kind, Out};
use crate::Family;
use serde_json::json;
use std::io::{self, Write};

impl Gen<'_> {
    pub(super) fn claims(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let rwo: &[&str] = &["ReadWriteOnce"];
        let rwx: &[&str] = &["ReadWriteMany"];
        let ebs = Some("ebs.csi.aws.com");
        let labels = json!({"app": base});
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    self.claim(
                        &ClaimDesc {
                            ns,
                            name: &self.claim_name(u, i),
                            uid: &self.claim_uid(u, i),
                            class: "gp3",
                            modes: rwo,
                            size: "20Gi",
                            created: 86_400 * 40 + i64::from(u.id),
                            bound: Some((&self.volume_name(u, i), Some(self.node_of(u, i)))),
                            provisioner: ebs,
                            labels: labels.clone(),
                        },
                        out,
                    )?;
                }
            }
            Unit::Cms { .. } => self.claim(
                &ClaimDesc {
                    ns,
                    name: &self.claim_name(u, 0),
                    uid: &self.claim_uid(u, 0),
                    class: "efs-sc",
                    modes: rwx,
                    size: "5Gi",
                    created: 86_400 * 30 + i64::from(u.id),
                    bound: Some((&self.volume_name(u, 0), None)),
                    provisioner: Some("efs.csi.aws.com"),
                    labels,
                },
                out,
            )?,
            Unit::Spare => self.claim(
                &ClaimDesc {
                    ns,
                    name: &self.claim_name(u, 0),
                    uid: &self.claim_uid(u, 0),
                    class: "gp3-retain",
                    modes: rwo,
                    size: "50Gi",
                    created: 86_400 * 20 + i64::from(u.id),
                    bound: Some((&self.volume_name(u, 0), Some(self.node_of(u, 0)))),
                    provisioner: ebs,
                    labels,
                },
                out,
            )?,
            Unit::Broken(f) => {
                let name = self.broken_claim_name(u);
                let uid = self.claim_uid(u, 0);
                let volume = self.volume_name(u, 0);
                let node = Some(self.node_of(u, 0));
                let mut c = ClaimDesc {
                    ns,
                    name: &name,
                    uid: &uid,
                    class: "gp3",
                    modes: rwo,
                    size: "20Gi",
                    created: 86_400 * 30,
                    bound: Some((&volume, node)),
                    provisioner: ebs,
                    labels,
                };
                match f {
                    Family::ClaimNotFound | Family::PvReleasedRetained => return Ok(()),
                    Family::StorageClassNotFound => {
                        c.class = "fast-ssd";
                        c.size = "500Gi";
                        c.created = 2101;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::AccessModeUnsupported => {
                        c.modes = rwx;
                        c.size = "100Gi";
                        c.created = 600;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::ProvisionerNotResponding => {
                        c.class = "nfs-csi";
                        c.modes = rwx;
                        c.size = "50Gi";
                        c.created = 2101;
                        c.bound = None;
                        c.provisioner = Some("nfs.csi.k8s.io");
                    }
                    Family::WaitingForFirstConsumer => {
                        c.size = "100Gi";
                        c.created = 1200;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::MountFailed => {
                        c.class = "efs-sc";
                        c.modes = rwx;
                        c.size = "20Gi";
                        c.bound = Some((&volume, None));
                        c.provisioner = Some("efs.csi.aws.com");
                    }
                    Family::ClaimLost => {
                        let mut v = self.claim_value(&c);
                        v["status"] = json!({"phase": "Lost"});
                        return out.item(Kind::Claim, &v);
                    }
                    Family::ExpansionFailed => {
                        // Raised from 100Gi to 200Gi; the resizer is refused.
                        c.size = "100Gi";
                        let mut v = self.claim_value(&c);
                        v["spec"]["resources"]["requests"]["storage"] = json!("200Gi");
                        let message = self.resize_error(u);
                        v["status"]["allocatedResourceStatuses"] =
                            json!({"storage": "ControllerResizeInProgress"});
                        v["status"]["allocatedResources"] = json!({"storage": "200Gi"});
                        v["status"]["conditions"] = json!([{
                            "lastProbeTime": null,
                            "lastTransitionTime": self.ts(1380),
                            "message": message,
                            "status": "True",
                            "type": "ControllerResizeError"
                        }]);
                        return out.item(Kind::Claim, &v);
                    }
                    Family::MultiAttach | Family::AttachFailed => {}
                }
                self.claim(&c, out)?;
            }
            Unit::Web { .. } | Unit::System { .. } | Unit::LoosePv => {}
        }
        Ok(())
    }

    pub(super) fn resize_error(&self, u: &Placed) -> String {
        let mut rng = self.rng(u, 40, 0);
        let vol = format!(
            "vol-0{}",
            Rng::new(self.cfg.seed ^ hash(&self.volume_name(u, 0))).hex(16)
        );
        format!(
            "resize volume \"{pv}\" by resizer \"ebs.csi.aws.com\" failed: rpc error: code = Internal desc = Could not resize volume \"{vol}\": rpc error: code = Internal desc = Could not modify volume \"{vol}\": operation error EC2: ModifyVolume, https response error StatusCode: 400, RequestID: {rid}, api error VolumeModificationRateExceeded: You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.",
            pv = self.volume_name(u, 0),
            rid = rng.uuid()
        )
    }

    pub(super) fn volumes(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let rwo: &[&str] = &["ReadWriteOnce"];
        let rwx: &[&str] = &["ReadWriteMany"];
        let ebs_volume = |i: u32, size, class, reclaim, out: &mut Out<_>| {
            let claim = self.claim_name(u, i);
            let uid = self.claim_uid(u, i);
            self.volume(
                &VolumeDesc {
                    name: &self.volume_name(u, i),
                    class,
                    driver: "ebs.csi.aws.com",
                    modes: rwo,
                    size,
                    claim: Some((ns, &claim, &uid)),
                    zone: Some(self.node_of(u, i) % 3),
                    reclaim,
                    phase: "Bound",
                    created: 86_400 * 20,
                },
                out,
            )
        };
        let efs_volume = |out: &mut Out<_>| {
            let claim = self.claim_name(u, 0);
            let uid = self.claim_uid(u, 0);
            self.volume(
                &VolumeDesc {
                    name: &self.volume_name(u, 0),
                    class: "efs-sc",
                    driver: "efs.csi.aws.com",
                    modes: rwx,
                    size: if matches!(u.unit, Unit::Cms { .. }) {
                        "5Gi"
                    } else {
                        "20Gi"
                    },
                    claim: Some((ns, &claim, &uid)),
                    zone: None,
                    reclaim: "Delete",
                    phase: "Bound",
                    created: 86_400 * 20,
                },
                out,
            )
        };
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    ebs_volume(i, "20Gi", "gp3", "Delete", out)?;
                }
            }
            Unit::Spare => ebs_volume(0, "50Gi", "gp3-retain", "Retain", out)?,
            Unit::Cms { .. } | Unit::Broken(Family::MountFailed) => efs_volume(out)?,
            Unit::Broken(Family::MultiAttach | Family::AttachFailed) => {
                ebs_volume(0, "20Gi", "gp3", "Delete", out)?
            }
            Unit::Broken(Family::ExpansionFailed) => ebs_volume(0, "100Gi", "gp3", "Delete", out)?,
            Unit::Broken(Family::PvReleasedRetained) => {
                let claim = format!("{}-data", self.base_name(u));
                let uid = self.claim_uid(u, 0);
                self.volume(
                    &VolumeDesc {
                        name: &self.volume_name(u, 0),
                        class: "gp3-retain",
                        driver: "ebs.csi.aws.com",
                        modes: rwo,
                        size: "200Gi",
                        claim: Some((ns, &claim, &uid)),
                        zone: Some(self.node_of(u, 0) % 3),
                        reclaim: "Retain",
                        phase: "Released",
                        created: 86_400 * 200,
                    },
                    out,
                )?;
            }
            Unit::LoosePv => {
                self.volume(
                    &VolumeDesc {
                        name: &self.volume_name(u, 0),
                        class: "gp3-retain",
                        driver: "ebs.csi.aws.com",
                        modes: rwo,
                        size: "100Gi",
                        claim: None,
                        zone: Some(self.node_of(u, 0) % 3),
                        reclaim: "Retain",
                        phase: "Available",
                        created: 86_400 * 60,
                    },
                    out,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn attachments(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    self.attachment(
                        &self.volume_name(u, i),
                        self.node_of(u, i),
                        86_400 * 10,
                        None,
                        out,
                    )?;
                }
            }
            Unit::Broken(Family::MultiAttach | Family::ExpansionFailed) => {
                self.attachment(
                    &self.volume_name(u, 0),
                    self.node_of(u, 0),
                    86_400 * 2,
                    None,
                    out,
                )?;
            }
            Unit::Broken(Family::AttachFailed) => {
                let message = self.attach_error(u);
                self.attachment(
                    &self.volume_name(u, 0),
                    self.node_of(u, 0),
                    2219,
                    Some((&message, 720)),
                    out,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    pub(super) fn attach_error(&self, u: &Placed) -> String {
        let vol = format!(
            "vol-0{}",
            Rng::new(self.cfg.seed ^ hash(&self.volume_name(u, 0))).hex(16)
        );
        format!(
            "rpc error: code = Internal desc = Could not attach volume \"{vol}\" to node \"{}\": attachment of disk \"{vol}\" failed, expected device to be attached but was attaching",
            self.instance_id(self.node_of(u, 0))
        )
    }
}
