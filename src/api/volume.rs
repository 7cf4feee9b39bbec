//! A pod's Volume, PersistentVolume and VolumeAttachment, with every volume
//! source boxed: one is set of the thirty.

use k8s_openapi::api::core::v1::{
    AWSElasticBlockStoreVolumeSource, AzureDiskVolumeSource, AzureFilePersistentVolumeSource,
    AzureFileVolumeSource, CSIPersistentVolumeSource, CSIVolumeSource,
    CephFSPersistentVolumeSource, CephFSVolumeSource, CinderPersistentVolumeSource,
    CinderVolumeSource, ClusterTrustBundleProjection, ConfigMapProjection, ConfigMapVolumeSource,
    DownwardAPIProjection, DownwardAPIVolumeSource, EmptyDirVolumeSource, EphemeralVolumeSource,
    FCVolumeSource, FlexPersistentVolumeSource, FlexVolumeSource, FlockerVolumeSource,
    GCEPersistentDiskVolumeSource, GitRepoVolumeSource, GlusterfsPersistentVolumeSource,
    GlusterfsVolumeSource, HostPathVolumeSource, ISCSIPersistentVolumeSource, ISCSIVolumeSource,
    ImageVolumeSource, LocalVolumeSource, NFSVolumeSource, ObjectReference,
    PersistentVolumeClaimVolumeSource, PersistentVolumeStatus, PhotonPersistentDiskVolumeSource,
    PodCertificateProjection, PortworxVolumeSource, QuobyteVolumeSource, RBDPersistentVolumeSource,
    RBDVolumeSource, ScaleIOPersistentVolumeSource, ScaleIOVolumeSource, SecretProjection,
    SecretVolumeSource, ServiceAccountTokenProjection, StorageOSPersistentVolumeSource,
    StorageOSVolumeSource, VolumeNodeAffinity, VsphereVirtualDiskVolumeSource,
};
use k8s_openapi::api::storage::v1::VolumeAttachmentStatus;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pod volume.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Volume {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_elastic_block_store: Option<Box<AWSElasticBlockStoreVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_disk: Option<Box<AzureDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_file: Option<Box<AzureFileVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cephfs: Option<Box<CephFSVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cinder: Option<Box<CinderVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map: Option<Box<ConfigMapVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csi: Option<Box<CSIVolumeSource>>,
    #[serde(rename = "downwardAPI", skip_serializing_if = "Option::is_none")]
    pub downward_api: Option<Box<DownwardAPIVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<Box<EmptyDirVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ephemeral: Option<Box<EphemeralVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fc: Option<Box<FCVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flex_volume: Option<Box<FlexVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flocker: Option<Box<FlockerVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gce_persistent_disk: Option<Box<GCEPersistentDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_repo: Option<Box<GitRepoVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glusterfs: Option<Box<GlusterfsVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<Box<HostPathVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Box<ImageVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscsi: Option<Box<ISCSIVolumeSource>>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nfs: Option<Box<NFSVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_claim: Option<Box<PersistentVolumeClaimVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photon_persistent_disk: Option<Box<PhotonPersistentDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portworx_volume: Option<Box<PortworxVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<Box<ProjectedVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quobyte: Option<Box<QuobyteVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbd: Option<Box<RBDVolumeSource>>,
    #[serde(rename = "scaleIO", skip_serializing_if = "Option::is_none")]
    pub scale_io: Option<Box<ScaleIOVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<Box<SecretVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storageos: Option<Box<StorageOSVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vsphere_volume: Option<Box<VsphereVirtualDiskVolumeSource>>,
}

/// A projected volume: nearly every pod has one, the service account token's.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectedVolumeSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_mode: Option<i32>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub sources: Option<Vec<VolumeProjection>>,
}

/// One source of a projected volume, its kinds boxed: one is set of the six.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeProjection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_trust_bundle: Option<Box<ClusterTrustBundleProjection>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub config_map: Option<Box<ConfigMapProjection>>,
    #[serde(
        rename = "downwardAPI",
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub downward_api: Option<Box<DownwardAPIProjection>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_certificate: Option<Box<PodCertificateProjection>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub secret: Option<Box<SecretProjection>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_token: Option<Box<ServiceAccountTokenProjection>>,
}

/// A PersistentVolume with a slim spec.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersistentVolume {
    #[serde(deserialize_with = "super::null_as_default")]
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<PersistentVolumeSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PersistentVolumeStatus>,
}

/// A PersistentVolume's spec, its volume sources boxed.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PersistentVolumeSpec {
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_modes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_elastic_block_store: Option<Box<AWSElasticBlockStoreVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_disk: Option<Box<AzureDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub azure_file: Option<Box<AzureFilePersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<BTreeMap<String, Quantity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cephfs: Option<Box<CephFSPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cinder: Option<Box<CinderPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_ref: Option<ObjectReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csi: Option<Box<CSIPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fc: Option<Box<FCVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flex_volume: Option<Box<FlexPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flocker: Option<Box<FlockerVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gce_persistent_disk: Option<Box<GCEPersistentDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub glusterfs: Option<Box<GlusterfsPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_path: Option<Box<HostPathVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iscsi: Option<Box<ISCSIPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<Box<LocalVolumeSource>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub mount_options: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nfs: Option<Box<NFSVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_affinity: Option<VolumeNodeAffinity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_reclaim_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photon_persistent_disk: Option<Box<PhotonPersistentDiskVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub portworx_volume: Option<Box<PortworxVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quobyte: Option<Box<QuobyteVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rbd: Option<Box<RBDPersistentVolumeSource>>,
    #[serde(rename = "scaleIO", skip_serializing_if = "Option::is_none")]
    pub scale_io: Option<Box<ScaleIOPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storageos: Option<Box<StorageOSPersistentVolumeSource>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_attributes_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vsphere_volume: Option<Box<VsphereVirtualDiskVolumeSource>>,
}

/// A VolumeAttachment with a slim spec.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeAttachment {
    #[serde(deserialize_with = "super::null_as_default")]
    pub metadata: ObjectMeta,
    #[serde(deserialize_with = "super::null_as_default")]
    pub spec: VolumeAttachmentSpec,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<VolumeAttachmentStatus>,
}

/// What a VolumeAttachment attaches, and where.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeAttachmentSpec {
    #[serde(deserialize_with = "super::null_as_default")]
    pub attacher: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub node_name: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub source: VolumeAttachmentSource,
}

/// The volume of a VolumeAttachment: a PersistentVolume's name, or an
/// inline volume's spec (boxed: rarely set).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VolumeAttachmentSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inline_volume_spec: Option<Box<PersistentVolumeSpec>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistent_volume_name: Option<String>,
}
