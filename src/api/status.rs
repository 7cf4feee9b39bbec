//! A pod's status and its containers' statuses. Every container status
//! holds two container states (the kubelet writes `lastState: {}` even
//! for a container that never restarted), and k8s-openapi's state holds a
//! terminated state inline whichever is set: 752 B per container. Here
//! the terminated state and the rarely set parts are boxed.

use k8s_openapi::api::core::v1::{
    ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting, ContainerUser, HostIP,
    PodCondition, PodExtendedResourceClaimStatus, PodIP, PodResourceClaimStatus,
    ResourceRequirements, ResourceStatus, VolumeMountStatus,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A pod's status, its lists without spare room.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodStatus {
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub conditions: Option<Vec<PodCondition>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub ephemeral_container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_resource_claim_status: Option<Box<PodExtendedResourceClaimStatus>>,
    #[serde(rename = "hostIP", skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    #[serde(
        rename = "hostIPs",
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub host_ips: Option<Vec<HostIP>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub init_container_statuses: Option<Vec<ContainerStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nominated_node_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(rename = "podIP", skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    #[serde(
        rename = "podIPs",
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub pod_ips: Option<Vec<PodIP>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qos_class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resize: Option<String>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_claim_statuses: Option<Vec<PodResourceClaimStatus>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
}

/// One container's status.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerStatus {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_resources: Option<Box<BTreeMap<String, Quantity>>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub allocated_resources_status: Option<Vec<ResourceStatus>>,
    #[serde(rename = "containerID", skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub image: String,
    #[serde(rename = "imageID", deserialize_with = "super::null_as_default")]
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_state: Option<ContainerState>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "super::null_as_default")]
    pub ready: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<Box<ResourceRequirements>>,
    #[serde(deserialize_with = "super::null_as_default")]
    pub restart_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<ContainerState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Box<ContainerUser>>,
    #[serde(
        deserialize_with = "super::compact",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_mounts: Option<Vec<VolumeMountStatus>>,
}

/// A container's state: one of the three is set, most often not the
/// terminated one, which is the largest.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running: Option<ContainerStateRunning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminated: Option<Box<ContainerStateTerminated>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<ContainerStateWaiting>,
}
