//! Who a container runs as and what group its volumes get: the pod's and
//! the container's securityContext, and whether the kubelet applies
//! `fsGroup` to a volume at all (it does not for NFS and hostPath, nor for
//! a CSI volume its CSIDriver keeps out of it).

use crate::api::{PersistentVolume, Pod};
use crate::chain::{ClaimChain, PodChain, PodVolume};
use crate::rules::rule::Ctx;

/// The identity a container runs with, container settings over the pod's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    pub run_as_user: Option<i64>,
    pub run_as_group: Option<i64>,
    pub run_as_non_root: Option<bool>,
    pub fs_group: Option<i64>,
    pub fs_group_change_policy: Option<&'a str>,
}

impl Identity<'_> {
    /// The group the volume should belong to: `runAsGroup`, else the
    /// user's id, which images commonly use as their group too.
    pub fn wanted_group(&self) -> Option<i64> {
        self.run_as_group.or(self.run_as_user)
    }

    /// `OnRootMismatch` is set: ownership is changed only when the root of
    /// the volume does not match.
    pub fn on_root_mismatch(&self) -> bool {
        self.fs_group_change_policy == Some("OnRootMismatch")
    }

    /// The settings as one evidence line.
    pub fn describe(&self, container: Option<&str>) -> String {
        let opt = |v: Option<i64>| v.map_or("unset".to_string(), |v| v.to_string());
        format!(
            "securityContext{}: runAsUser {}, runAsGroup {}, runAsNonRoot {}, fsGroup {}, fsGroupChangePolicy {}",
            container
                .map(|c| format!(" of container {c} (pod settings under its own)"))
                .unwrap_or_default(),
            opt(self.run_as_user),
            opt(self.run_as_group),
            self.run_as_non_root
                .map_or("unset".to_string(), |v| v.to_string()),
            opt(self.fs_group),
            self.fs_group_change_policy.unwrap_or("unset (Always)"),
        )
    }
}

/// The identity of `container` (init containers included), or of the pod
/// when it has no such container.
pub fn identity<'a>(pod: &'a Pod, container: Option<&str>) -> Identity<'a> {
    let Some(spec) = pod.spec.as_ref() else {
        return Identity::default();
    };
    let p = spec.security_context.as_ref();
    let c = container
        .and_then(|name| {
            spec.init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .find(|c| c.name == name)
        })
        .and_then(|c| c.security_context.as_ref());
    Identity {
        run_as_user: c
            .and_then(|c| c.run_as_user)
            .or(p.and_then(|p| p.run_as_user)),
        run_as_group: c
            .and_then(|c| c.run_as_group)
            .or(p.and_then(|p| p.run_as_group)),
        run_as_non_root: c
            .and_then(|c| c.run_as_non_root)
            .or(p.and_then(|p| p.run_as_non_root)),
        fs_group: p.and_then(|p| p.fs_group),
        fs_group_change_policy: p.and_then(|p| p.fs_group_change_policy.as_deref()),
    }
}

/// Whether the kubelet gives a volume the pod's `fsGroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsGroup {
    Applied(String),
    /// Never applied, and why.
    Ignored {
        why: String,
        kind: Ignoring,
    },
    /// Not known: the volume behind the claim could not be read.
    Unknown(String),
}

/// What keeps `fsGroup` off a volume, so the fix can fit it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignoring {
    Nfs,
    HostPath,
    /// A CSI driver whose CSIDriver keeps fsGroup off this volume.
    CsiDriver(String),
    /// Another in-tree type that the kubelet does not chown.
    Other,
}

/// The claim chain a pod volume refers to.
pub fn claim_of<'c, 'a>(
    volume: &PodVolume,
    claims: &'c [ClaimChain<'a>],
) -> Option<&'c ClaimChain<'a>> {
    claims
        .iter()
        .find(|c| c.usage.as_ref().is_some_and(|u| u.volume == volume.name))
}

/// Whether the kubelet applies `fsGroup` to a pod volume, with the reason.
pub fn fs_group_support(ctx: &Ctx, volume: &PodVolume, claims: &[ClaimChain]) -> FsGroup {
    let v = volume.spec;
    if v.nfs.is_some() {
        return FsGroup::Ignored {
            why: "an nfs volume: the kubelet never changes its ownership".into(),
            kind: Ignoring::Nfs,
        };
    }
    if v.host_path.is_some() {
        return FsGroup::Ignored {
            why: "a hostPath volume: the kubelet never changes its ownership".into(),
            kind: Ignoring::HostPath,
        };
    }
    if let Some(csi) = &v.csi {
        return csi_policy(ctx, &csi.driver, csi.fs_type.as_deref(), None, true);
    }
    if !volume.is_claim() {
        return FsGroup::Applied(format!("a {} volume, which gets fsGroup", volume.kind()));
    }
    let Some(claim) = claim_of(volume, claims) else {
        return FsGroup::Unknown("its claim is not part of the chain".into());
    };
    let Some(pv) = claim.volume else {
        return FsGroup::Unknown(format!(
            "the PersistentVolume of claim {}/{} could not be read",
            claim.namespace, claim.name
        ));
    };
    pv_support(ctx, pv)
}

fn pv_support(ctx: &Ctx, pv: &PersistentVolume) -> FsGroup {
    let name = pv.metadata.name.as_deref().unwrap_or("");
    let Some(spec) = pv.spec.as_ref() else {
        return FsGroup::Unknown(format!("PV {name} has no spec"));
    };
    if spec.nfs.is_some() {
        return FsGroup::Ignored {
            why: format!("PV {name} is an nfs volume: the kubelet never changes its ownership"),
            kind: Ignoring::Nfs,
        };
    }
    if spec.host_path.is_some() {
        return FsGroup::Ignored {
            why: format!("PV {name} is a hostPath volume: the kubelet never changes its ownership"),
            kind: Ignoring::HostPath,
        };
    }
    if spec.cephfs.is_some() || spec.glusterfs.is_some() {
        return FsGroup::Ignored {
            why: format!("PV {name} is a shared file system the kubelet does not chown"),
            kind: Ignoring::Other,
        };
    }
    if let Some(csi) = &spec.csi {
        let modes: Vec<&str> = spec
            .access_modes
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        return csi_policy(
            ctx,
            &csi.driver,
            csi.fs_type.as_deref(),
            Some(&modes),
            false,
        );
    }
    FsGroup::Applied(format!(
        "PV {name} is a block-backed volume, which gets fsGroup"
    ))
}

/// The CSIDriver's `fsGroupPolicy` applied to one volume, as the kubelet
/// does: `File` always, `None` never, `ReadWriteOnceWithFSType` (the
/// default) only with an fsType and a ReadWriteOnce(Pod) access mode.
fn csi_policy(
    ctx: &Ctx,
    driver: &str,
    fs_type: Option<&str>,
    modes: Option<&[&str]>,
    inline: bool,
) -> FsGroup {
    let object = ctx.snap.csi_driver(driver);
    let policy = object
        .and_then(|d| d.spec.fs_group_policy.as_deref())
        .unwrap_or("ReadWriteOnceWithFSType");
    let source = if object.is_some() {
        format!("CSIDriver {driver} has fsGroupPolicy {policy}")
    } else if ctx.snap.has("csidrivers") {
        format!("driver {driver} has no CSIDriver object, so fsGroupPolicy is the default {policy}")
    } else {
        format!("CSIDrivers could not be read; the default fsGroupPolicy of {driver} is {policy}")
    };
    let ignored = |why: String| FsGroup::Ignored {
        why,
        kind: Ignoring::CsiDriver(driver.to_string()),
    };
    match policy {
        "File" => FsGroup::Applied(format!("{source}: fsGroup is always applied")),
        "None" => ignored(format!("{source}: the kubelet never applies fsGroup")),
        _ => {
            let fs_type = fs_type.unwrap_or("");
            if fs_type.is_empty() {
                return ignored(format!(
                    "{source}, and the volume has no fsType: the kubelet skips fsGroup"
                ));
            }
            let rwo = inline
                || modes.is_some_and(|m| {
                    m.iter()
                        .any(|m| *m == "ReadWriteOnce" || *m == "ReadWriteOncePod")
                });
            if rwo {
                FsGroup::Applied(format!(
                    "{source}, and the volume has fsType {fs_type}: fsGroup is applied"
                ))
            } else {
                ignored(format!(
                    "{source}, and the volume is not ReadWriteOnce: the kubelet skips fsGroup"
                ))
            }
        }
    }
}

/// The pod's volumes that are claims mounted by a container.
pub fn mounted_claims<'p, 'a>(pod: &'p PodChain<'a>) -> impl Iterator<Item = &'p PodVolume<'a>> {
    pod.volumes
        .iter()
        .filter(|v| v.is_claim() && !v.mounts.is_empty())
}
