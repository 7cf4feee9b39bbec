//! A claim and everything behind it: the class it asks for, its volume,
//! the volume's attachments, its events and the pods using it.

use crate::api::{Event, PersistentVolume, Pod, VolumeAttachment};
use crate::model::ObjectRef;
use crate::snapshot::{data_source_of, ClaimUse, DataSource, Snapshot};
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;

/// A claim's data source and what it resolves to.
#[derive(Debug, Clone)]
pub struct SourceChain<'a> {
    pub source: DataSource<'a>,
    /// The namespace the source is looked up in.
    pub namespace: &'a str,
    pub snapshot: Option<&'a VolumeSnapshot>,
    pub content: Option<&'a VolumeSnapshotContent>,
    /// The snapshot's class: the one it names, or its driver's default.
    pub snapshot_class: Option<&'a VolumeSnapshotClass>,
    /// The source claim of a clone.
    pub claim: Option<&'a PersistentVolumeClaim>,
    /// Whether the source's kind could be read: a source not found is then
    /// missing, else unknown.
    pub readable: bool,
}

impl<'a> SourceChain<'a> {
    fn resolve(snap: &'a Snapshot, claim: &'a PersistentVolumeClaim, ns: &'a str) -> Option<Self> {
        let source = data_source_of(claim)?;
        let namespace = source.namespace.unwrap_or(ns);
        let mut chain = SourceChain {
            source: source.clone(),
            namespace,
            snapshot: None,
            content: None,
            snapshot_class: None,
            claim: None,
            readable: if source.is_snapshot() {
                snap.has("volumesnapshots")
            } else {
                snap.has("persistentvolumeclaims")
            },
        };
        if source.is_snapshot() {
            chain.snapshot = snap.volume_snapshot(namespace, source.name);
            chain.content = chain
                .snapshot
                .and_then(|s| s.content_name())
                .and_then(|n| snap.snapshot_content(n));
            chain.snapshot_class = chain.snapshot.and_then(|s| match s.class_name() {
                Some(n) => snap.snapshot_class(n),
                None => {
                    let driver = chain.content.and_then(|c| c.driver())?;
                    snap.default_snapshot_classes(driver).into_iter().next()
                }
            });
        } else if source.is_claim() {
            chain.claim = snap.claim(namespace, source.name);
        }
        Some(chain)
    }

    /// The state the report's chain line shows.
    pub fn state(&self) -> (String, bool) {
        if self.source.is_snapshot() {
            match self.snapshot {
                None if !self.readable => ("not read".to_string(), false),
                None => ("missing".to_string(), false),
                Some(s) if s.metadata.deletion_timestamp.is_some() => {
                    ("Terminating".to_string(), false)
                }
                Some(s) => match s.ready() {
                    Some(true) => ("ready".to_string(), true),
                    _ => ("not ready".to_string(), false),
                },
            }
        } else if self.source.is_claim() {
            match self.claim {
                None if !self.readable => ("not read".to_string(), false),
                None => ("missing".to_string(), false),
                Some(c) => {
                    let phase = c
                        .status
                        .as_ref()
                        .and_then(|s| s.phase.as_deref())
                        .unwrap_or("Pending");
                    (phase.to_string(), phase == "Bound")
                }
            }
        } else {
            ("populator".to_string(), true)
        }
    }
}

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
    /// What the claim is filled from (`dataSource` / `dataSourceRef`).
    pub source: Option<SourceChain<'a>>,
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
            source: claim.and_then(|c| SourceChain::resolve(snap, c, ns)),
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

    /// The CSI driver serving the bound volume: its `csi` source, or for an
    /// in-tree volume that CSI migration hands to a driver, the driver the PV
    /// controller marked it migrated to or the one attaching it.
    pub fn volume_driver(&self) -> Option<&'a str> {
        let pv = self.volume?;
        if let Some(csi) = pv.spec.as_ref().and_then(|s| s.csi.as_ref()) {
            return Some(csi.driver.as_str());
        }
        pv.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("pv.kubernetes.io/migrated-to"))
            .map(String::as_str)
            .or_else(|| {
                self.attachments
                    .iter()
                    .map(|va| va.spec.attacher.as_str())
                    .find(|a| !a.is_empty() && !a.starts_with("kubernetes.io/"))
            })
            .filter(|d| !d.is_empty())
    }
}
