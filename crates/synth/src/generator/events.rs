//! Events: the routine ones of healthy pods and claims, and storms.

use super::objects::EventDesc;
use super::{Gen, Placed, StormKind, Unit};
use crate::writer::Out;
use std::io::{self, Write};

impl Gen<'_> {
    pub(super) fn events(
        &self,
        index: usize,
        u: &Placed,
        out: &mut Out<impl Write>,
    ) -> io::Result<()> {
        self.routine_events(u, out)?;
        if let Unit::Broken(f) = u.unit {
            self.broken_events(u, f, out)?;
        }
        for (_, kind) in self.storms.iter().filter(|(i, _)| *i == index) {
            self.storm(u, *kind, out)?;
        }
        Ok(())
    }

    /// How many routine events the unit's fill object `k` (global index) gets.
    fn fill_for(&self, k: u64) -> u64 {
        if self.fill_objects == 0 {
            return 0;
        }
        self.fill_events / self.fill_objects + u64::from(k < self.fill_events % self.fill_objects)
    }

    fn routine_events(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let mut k = u.first_fill;
        let mut pod = |name: &str,
                       uid: &str,
                       node: usize,
                       attach: Option<&str>,
                       out: &mut Out<_>|
         -> io::Result<()> {
            let n = self.fill_for(k);
            k += 1;
            let node_name = self.node_name(node);
            for j in 0..n {
                // Newest first: Started, Created, Pulled, Pulling, SuccessfulAttachVolume, Scheduled, then older repeats.
                let step = j % 6;
                let (reason, message, component, host) = match step {
                    0 => ("Started", "Started container app".to_string(), "kubelet", Some(node_name.as_str())),
                    1 => ("Created", "Created container app".to_string(), "kubelet", Some(node_name.as_str())),
                    2 => ("Pulled", "Successfully pulled image \"ghcr.io/acme/app:2.7.4\" in 1.204s (1.204s including waiting). Image size: 98113201 bytes.".to_string(), "kubelet", Some(node_name.as_str())),
                    3 => ("Pulling", "Pulling image \"ghcr.io/acme/app:2.7.4\"".to_string(), "kubelet", Some(node_name.as_str())),
                    4 => match attach {
                        Some(pv) => ("SuccessfulAttachVolume", format!("AttachVolume.Attach succeeded for volume \"{pv}\" "), "attachdetach-controller", None),
                        None => ("Pulled", "Container image \"ghcr.io/acme/sidecar:1.0.3\" already present on machine".to_string(), "kubelet", Some(node_name.as_str())),
                    },
                    _ => ("Scheduled", format!("Successfully assigned {ns}/{name} to {node_name}"), "default-scheduler", None),
                };
                let at = 3000 - 60 * (j as i64 / 6) - (6 - step as i64) * 5;
                self.event(
                    &EventDesc {
                        ns,
                        about: ("v1", "Pod", name, uid),
                        reason,
                        message: &message,
                        warning: false,
                        component,
                        host,
                        count: 1,
                        first: at,
                        last: at,
                        n: j,
                    },
                    out,
                )?;
            }
            Ok(())
        };
        match u.unit {
            Unit::Web { replicas } | Unit::System { replicas } | Unit::Cms { replicas } => {
                for i in 0..replicas {
                    pod(
                        &self.deploy_pod_name(u, i),
                        &self.uid(u, 30, i),
                        self.node_of(u, i),
                        None,
                        out,
                    )?;
                }
            }
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    let pv = self.volume_name(u, i);
                    pod(
                        &self.db_pod_name(u, i),
                        &self.uid(u, 30, i),
                        self.node_of(u, i),
                        Some(&pv),
                        out,
                    )?;
                }
            }
            _ => {}
        }
        // Claims: the provisioning that led to the bound volume, newest first.
        let claims: u32 = match u.unit {
            Unit::Db { replicas } => replicas,
            Unit::Cms { .. } | Unit::Spare => 1,
            _ => 0,
        };
        for i in 0..claims {
            let n = self.fill_for(k);
            k += 1;
            let name = self.claim_name(u, i);
            let uid = self.claim_uid(u, i);
            let pv = self.volume_name(u, i);
            let driver = if matches!(u.unit, Unit::Cms { .. }) {
                "efs.csi.aws.com"
            } else {
                "ebs.csi.aws.com"
            };
            for j in 0..n {
                let step = j % 3;
                let (reason, message, component) = match step {
                    0 => ("ProvisioningSucceeded", format!("Successfully provisioned volume {pv}"), format!("{driver}_{driver}-controller-7d9c8b6f5-x2x9z_{}", &uid[..8])),
                    1 => ("Provisioning", format!("External provisioner is provisioning volume for claim \"{ns}/{name}\""), format!("{driver}_{driver}-controller-7d9c8b6f5-x2x9z_{}", &uid[..8])),
                    _ => ("ExternalProvisioning", format!("Waiting for a volume to be created either by the external provisioner '{driver}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."), "persistentvolume-controller".to_string()),
                };
                let at = 3300 - 60 * (j as i64 / 3) - (3 - step as i64) * 2;
                self.event(
                    &EventDesc {
                        ns,
                        about: ("v1", "PersistentVolumeClaim", &name, &uid),
                        reason,
                        message: &message,
                        warning: false,
                        component: &component,
                        host: None,
                        count: 1,
                        first: at,
                        last: at,
                        n: j,
                    },
                    out,
                )?;
            }
        }
        Ok(())
    }

    fn storm(&self, u: &Placed, kind: StormKind, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let node = self.node_name(self.node_of(u, 0));
        let (pod, pod_uid) = match kind {
            StormKind::MultiAttach => (self.broken_pod_name(u, 1), self.uid(u, 30, 1)),
            StormKind::Probe => (self.db_pod_name(u, 0), self.uid(u, 30, 0)),
            _ => (self.broken_pod_name(u, 0), self.uid(u, 30, 0)),
        };
        let claim = self.broken_claim_name(u);
        let claim_uid = self.claim_uid(u, 0);
        let (about, reason, message, warning, component, host) = match kind {
            StormKind::Mount => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "FailedMount",
                self.mount_error(u),
                true,
                "kubelet",
                Some(node.as_str()),
            ),
            StormKind::MultiAttach => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "FailedAttachVolume",
                format!(
                    "Multi-Attach error for volume \"{}\" Volume is already used by pod(s) {}",
                    self.volume_name(u, 0),
                    self.broken_pod_name(u, 0)
                ),
                true,
                "attachdetach-controller",
                None,
            ),
            StormKind::Provisioning => (
                ("v1", "PersistentVolumeClaim", claim.as_str(), claim_uid.as_str()),
                "ExternalProvisioning",
                "waiting for a volume to be created, either by external provisioner \"nfs.csi.k8s.io\" or manually created by system administrator".to_string(),
                false,
                "persistentvolume-controller",
                None,
            ),
            StormKind::Probe => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string(),
                true,
                "kubelet",
                Some(node.as_str()),
            ),
        };
        // Spread over the last hour, the newest a few seconds before capture.
        let n = self.storm_events as i64;
        for j in 0..n {
            let at = 5 + j * 3595 / n.max(1);
            self.event(
                &EventDesc {
                    ns,
                    about,
                    reason,
                    message: &message,
                    warning,
                    component,
                    host,
                    count: 1 + (j % 5) as u32,
                    first: at + 30,
                    last: at,
                    n: 100_000 + j as u64,
                },
                out,
            )?;
        }
        Ok(())
    }
}
