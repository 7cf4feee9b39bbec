//! The events of each broken unit, with the reasons and texts of the
//! captured scenarios.

use super::objects::EventDesc;
use super::{Gen, Placed};
use crate::rng::{hash, Rng};
use crate::writer::Out;
use crate::Family;
use std::io::{self, Write};

impl Gen<'_> {
    pub(super) fn broken_events(
        &self,
        u: &Placed,
        f: Family,
        out: &mut Out<impl Write>,
    ) -> io::Result<()> {
        let ns = self.ns(u);
        let claim = self.broken_claim_name(u);
        let claim_uid = self.claim_uid(u, 0);
        let pod = self.broken_pod_name(u, 0);
        let pod_uid = self.uid(u, 30, 0);
        let on_pod = ("v1", "Pod", pod.as_str(), pod_uid.as_str());
        let on_claim = (
            "v1",
            "PersistentVolumeClaim",
            claim.as_str(),
            claim_uid.as_str(),
        );
        let node = self.node_name(self.node_of(u, 0));
        let ev = |about, reason, message, warning, component, host, count, first, last, n: u64| {
            EventDesc {
                ns,
                about,
                reason,
                message,
                warning,
                component,
                host,
                count,
                first,
                last,
                n: 1000 + n,
            }
        };
        let scheduled =
            |pod: &str, node: &str| format!("Successfully assigned {ns}/{pod} to {node}");
        let sched = "default-scheduler";
        // The scheduler's word for a pod whose claim is not bound yet.
        let unbound_message =
            self.scheduler_message("pod has unbound immediate PersistentVolumeClaims");
        let unbound_claims_event = ev(
            on_pod,
            "FailedScheduling",
            &unbound_message,
            true,
            sched,
            None,
            6,
            2099,
            600,
            1,
        );
        let pvc = "persistentvolume-controller";
        let ad = "attachdetach-controller";
        match f {
            Family::ClaimNotFound => {
                let m =
                    self.scheduler_message(&format!("persistentvolumeclaim \"{claim}\" not found"));
                self.event(
                    &ev(
                        on_pod,
                        "FailedScheduling",
                        &m,
                        true,
                        sched,
                        None,
                        2,
                        299,
                        60,
                        0,
                    ),
                    out,
                )?;
            }
            Family::StorageClassNotFound => {
                let m = "storageclass.storage.k8s.io \"fast-ssd\" not found";
                self.event(
                    &ev(
                        on_claim,
                        "ProvisioningFailed",
                        m,
                        true,
                        pvc,
                        None,
                        141,
                        2100,
                        10,
                        0,
                    ),
                    out,
                )?;
                self.event(&unbound_claims_event, out)?;
            }
            Family::AccessModeUnsupported | Family::WaitingForFirstConsumer => {
                let m = "waiting for first consumer to be created before binding";
                self.event(
                    &ev(
                        on_claim,
                        "WaitForFirstConsumer",
                        m,
                        false,
                        pvc,
                        None,
                        81,
                        1200,
                        5,
                        0,
                    ),
                    out,
                )?;
            }
            Family::ProvisionerNotResponding => {
                let m = "waiting for a volume to be created, either by external provisioner \"nfs.csi.k8s.io\" or manually created by system administrator";
                self.event(
                    &ev(
                        on_claim,
                        "ExternalProvisioning",
                        m,
                        false,
                        pvc,
                        None,
                        141,
                        2100,
                        10,
                        0,
                    ),
                    out,
                )?;
                self.event(&unbound_claims_event, out)?;
            }
            Family::MultiAttach => {
                let old = self.broken_pod_name(u, 0);
                let old_uid = self.uid(u, 30, 0);
                let new = self.broken_pod_name(u, 1);
                let new_uid = self.uid(u, 30, 1);
                let on_new = ("v1", "Pod", new.as_str(), new_uid.as_str());
                let b = self.node_name(self.neighbour(self.node_of(u, 0)));
                self.event(
                    &ev(
                        ("v1", "Pod", &old, &old_uid),
                        "Started",
                        "Started container api",
                        false,
                        "kubelet",
                        Some(&node),
                        1,
                        3500,
                        3500,
                        0,
                    ),
                    out,
                )?;
                let m = scheduled(&new, &b);
                self.event(
                    &ev(on_new, "Scheduled", &m, false, sched, None, 1, 119, 119, 1),
                    out,
                )?;
                let m = format!(
                    "Multi-Attach error for volume \"{}\" Volume is already used by pod(s) {old}",
                    self.volume_name(u, 0)
                );
                self.event(
                    &ev(
                        on_new,
                        "FailedAttachVolume",
                        &m,
                        true,
                        ad,
                        None,
                        1,
                        118,
                        118,
                        2,
                    ),
                    out,
                )?;
            }
            Family::AttachFailed => {
                let m = scheduled(&pod, &node);
                self.event(
                    &ev(
                        on_pod,
                        "Scheduled",
                        &m,
                        false,
                        sched,
                        None,
                        1,
                        2219,
                        2219,
                        0,
                    ),
                    out,
                )?;
                let m = format!(
                    "AttachVolume.Attach failed for volume \"{}\" : {}",
                    self.volume_name(u, 0),
                    self.attach_error(u)
                );
                self.event(
                    &ev(
                        on_pod,
                        "FailedAttachVolume",
                        &m,
                        true,
                        ad,
                        None,
                        12,
                        2100,
                        720,
                        1,
                    ),
                    out,
                )?;
            }
            Family::MountFailed => {
                let m = scheduled(&pod, &node);
                self.event(
                    &ev(
                        on_pod,
                        "Scheduled",
                        &m,
                        false,
                        sched,
                        None,
                        1,
                        1799,
                        1799,
                        0,
                    ),
                    out,
                )?;
                let m = self.mount_error(u);
                self.event(
                    &ev(
                        on_pod,
                        "FailedMount",
                        &m,
                        true,
                        "kubelet",
                        Some(&node),
                        7,
                        1670,
                        480,
                        1,
                    ),
                    out,
                )?;
            }
            Family::ClaimLost => {
                let m = "Bound claim has lost its PersistentVolume. Data on the volume is lost!";
                self.event(
                    &ev(on_claim, "ClaimLost", m, true, pvc, None, 1, 2800, 2800, 0),
                    out,
                )?;
                let m = self.scheduler_message(&format!(
                    "persistentvolumeclaim \"{claim}\" bound to non-existent persistentvolume \"{}\"",
                    self.volume_name(u, 0)
                ));
                self.event(
                    &ev(
                        on_pod,
                        "FailedScheduling",
                        &m,
                        true,
                        sched,
                        None,
                        4,
                        1699,
                        900,
                        1,
                    ),
                    out,
                )?;
            }
            Family::PvReleasedRetained => {}
            Family::ExpansionFailed => {
                let resizer = "external-resizer ebs.csi.aws.com";
                let m = "waiting for an external controller to expand this PVC";
                self.event(
                    &ev(
                        on_claim,
                        "ExternalExpanding",
                        m,
                        true,
                        "volume_expand",
                        None,
                        5,
                        2500,
                        1401,
                        0,
                    ),
                    out,
                )?;
                let m = format!(
                    "External resizer is resizing volume {}",
                    self.volume_name(u, 0)
                );
                self.event(
                    &ev(
                        on_claim, "Resizing", &m, false, resizer, None, 4, 2499, 1401, 1,
                    ),
                    out,
                )?;
                let m = self.resize_error(u);
                self.event(
                    &ev(
                        on_claim,
                        "VolumeResizeFailed",
                        &m,
                        true,
                        resizer,
                        None,
                        1,
                        2498,
                        2498,
                        2,
                    ),
                    out,
                )?;
                self.event(
                    &ev(
                        on_claim,
                        "VolumeResizeFailed",
                        &m,
                        true,
                        resizer,
                        None,
                        1,
                        1400,
                        1400,
                        3,
                    ),
                    out,
                )?;
            }
        }
        Ok(())
    }

    pub(super) fn mount_error(&self, u: &Placed) -> String {
        let pv = self.volume_name(u, 0);
        let fs = format!("fs-0{}", Rng::new(self.cfg.seed ^ hash(&pv)).hex(16));
        format!(
            "MountVolume.SetUp failed for volume \"{pv}\" : rpc error: code = Internal desc = Could not mount \"{fs}:/\" at \"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{pv}/mount\": mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t efs -o tls {fs}:/ /var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{pv}/mount\nOutput: mount.nfs4: Connection timed out\n",
            uid = self.uid(u, 30, 0)
        )
    }
}
