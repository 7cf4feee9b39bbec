//! A claim and everything behind it: the class it asks for, its volume,
//! the volume's attachments, its events and the pods using it.

use crate::model::ObjectRef;
use crate::snapshot::{ClaimUse, Snapshot};
use k8s_openapi::api::core::v1::{Event, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{StorageClass, VolumeAttachment};

/// The class a claim asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedClass {
    /// `storageClassName: x` (or the legacy beta annotation).
    Named(String),
    /// `storageClassName: ""`: explicitly no class, static binding only.
    Empty,
    /// Field unset: the default class applies, if there is one.
    Unset,
}

/// One claim and everything behind it.
#[derive(Debug, Clone)]
pub struct ClaimChain<'a> {
    pub namespace: &'a str,
    pub name: String,
    /// How the subject pod refers to the claim.
    pub usage: Option<ClaimUse>,
    pub claim: Option<&'a PersistentVolumeClaim>,
    pub requested_class: RequestedClass,
    pub class: Option<&'a StorageClass>,
    pub volume: Option<&'a PersistentVolume>,
    pub attachments: Vec<&'a VolumeAttachment>,
    pub events: Vec<&'a Event>,
    /// Every pod, in any phase, whose volumes reference this claim.
    pub users: Vec<&'a Pod>,
}

impl<'a> ClaimChain<'a> {
    pub fn resolve(snap: &'a Snapshot, ns: &'a str, name: &str, usage: Option<ClaimUse>) -> Self {
        let claim = snap.claim(ns, name);
        let spec = claim.and_then(|c| c.spec.as_ref());
        let requested_class = match spec.and_then(|s| s.storage_class_name.as_deref()) {
            Some("") => RequestedClass::Empty,
            Some(n) => RequestedClass::Named(n.to_string()),
            None => match claim
                .and_then(|c| c.metadata.annotations.as_ref())
                .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
            {
                Some(n) if n.is_empty() => RequestedClass::Empty,
                Some(n) => RequestedClass::Named(n.clone()),
                None => RequestedClass::Unset,
            },
        };
        let class = match &requested_class {
            RequestedClass::Named(n) => snap.class(n),
            _ => None,
        };
        let volume = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
            .and_then(|v| snap.volume(v))
            .or_else(|| {
                // A volume that already points at this claim (binding in progress).
                snap.volume_claimed_by(ns, name).filter(|pv| {
                    let uid = pv
                        .spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|r| r.uid.as_deref());
                    let claim_uid = claim.and_then(|c| c.metadata.uid.as_deref());
                    claim.is_some() && (uid.is_none() || uid == claim_uid)
                })
            });
        let attachments = volume
            .and_then(|v| v.metadata.name.as_deref())
            .map(|v| snap.attachments_of(v).collect())
            .unwrap_or_default();
        let events = snap.events_for(
            "PersistentVolumeClaim",
            ns,
            name,
            claim.and_then(|c| c.metadata.uid.as_deref()),
        );
        ClaimChain {
            namespace: ns,
            name: name.to_string(),
            usage,
            claim,
            requested_class,
            class,
            volume,
            attachments,
            events,
            users: snap.pods_using(ns, name).collect(),
        }
    }

    pub fn phase(&self) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.status.as_ref())
            .and_then(|s| s.phase.as_deref())
    }

    pub fn is_bound(&self) -> bool {
        self.phase() == Some("Bound")
    }

    pub fn is_pending(&self) -> bool {
        self.claim.is_some() && matches!(self.phase(), None | Some("Pending"))
    }

    pub fn access_modes(&self) -> Vec<&'a str> {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.access_modes.as_ref())
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn volume_mode(&self) -> &'a str {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.volume_mode.as_deref())
            .unwrap_or("Filesystem")
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.metadata.annotations.as_ref())
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// The provisioner the PV controller handed the claim to, if any.
    pub fn storage_provisioner(&self) -> Option<&'a str> {
        self.annotation("volume.kubernetes.io/storage-provisioner")
            .or_else(|| self.annotation("volume.beta.kubernetes.io/storage-provisioner"))
            .filter(|p| !p.is_empty())
    }

    pub fn requested_size(&self) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.as_str())
    }

    /// The volume the claim was pre-bound to with `spec.volumeName`, while
    /// still unbound: such a claim is never provisioned.
    pub fn pre_bound(&self) -> Option<&'a str> {
        if self.is_bound() {
            return None;
        }
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
    }

    pub fn is_wait_for_first_consumer(&self) -> bool {
        self.class.and_then(|c| c.volume_binding_mode.as_deref()) == Some("WaitForFirstConsumer")
    }

    pub fn class_name(&self) -> Option<&str> {
        match &self.requested_class {
            RequestedClass::Named(n) => Some(n),
            _ => None,
        }
    }

    /// The kubectl reference `-n ns pvc/name`.
    pub fn object(&self) -> ObjectRef {
        ObjectRef::claim(self.namespace, &self.name)
    }

    /// The CSI driver serving the bound volume.
    pub fn volume_driver(&self) -> Option<&'a str> {
        self.volume
            .and_then(|v| v.spec.as_ref())
            .and_then(|s| s.csi.as_ref())
            .map(|c| c.driver.as_str())
    }
}
