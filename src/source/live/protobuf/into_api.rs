//! Kubernetes' protobuf types (k8s-pb) into the ones the tool reads: the
//! same fields under the same names, only the wire format differs. An
//! empty list or map is absent, as in the JSON the API server writes, and a
//! `Time` keeps whole seconds, as JSON's does.

use crate::api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// k8s-pb's types of the groups read in protobuf.
mod pb {
    pub use k8s_pb::api::apps::v1::*;
    pub use k8s_pb::api::core::v1::*;
    pub use k8s_pb::api::storage::v1::*;
    pub use k8s_pb::apimachinery::pkg::apis::meta::v1::*;
}

/// k8s-openapi's types of the groups read in protobuf.
mod oa {
    pub use k8s_openapi::api::apps::v1::*;
    pub use k8s_openapi::api::core::v1::*;
    pub use k8s_openapi::api::storage::v1::*;
    pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::*;
}

/// A value of a protobuf type as the tool's type `T`.
pub(super) trait IntoApi<T> {
    fn into_api(self) -> T;
}

/// Required scalars: an absent one is its zero.
macro_rules! scalar {
    ($($t:ty),*) => {$(
        impl IntoApi<$t> for Option<$t> {
            fn into_api(self) -> $t {
                self.unwrap_or_default()
            }
        }
    )*};
}
scalar!(String, bool, i32, i64);

/// An item of a list or map is kept as it is: an empty label value is one.
macro_rules! item {
    ($($t:ty),*) => {$(
        impl IntoApi<$t> for $t {
            fn into_api(self) -> $t {
                self
            }
        }
    )*};
}
item!(String, i64);

/// Optional scalars. The API server's protobuf carries every field that
/// is not a pointer in Go, zero or not, where its JSON leaves out a zero
/// value: an empty string is absent, as in JSON. A zero number or `false`
/// is kept, since a pointer field's zero means something (`runAsUser: 0`,
/// `automountServiceAccountToken: false`); where a zero one is left out of
/// JSON and read as absent, the type's own conversion says so.
impl IntoApi<Option<String>> for Option<String> {
    fn into_api(self) -> Option<String> {
        self.filter(|s| !s.is_empty())
    }
}

macro_rules! kept {
    ($($t:ty),*) => {$(
        impl IntoApi<Option<$t>> for Option<$t> {
            fn into_api(self) -> Option<$t> {
                self
            }
        }
    )*};
}
kept!(bool, i32, i64);

/// A field that is not a pointer in Go: JSON leaves it out when zero.
fn omitempty<T: Default + PartialEq>(value: Option<T>) -> Option<T> {
    value.filter(|v| *v != T::default())
}

/// The optional form of a message type's conversion.
macro_rules! optional {
    ($($pb:ty => $api:ty),* $(,)?) => {$(
        impl IntoApi<Option<$api>> for Option<$pb> {
            fn into_api(self) -> Option<$api> {
                self.map(IntoApi::into_api)
            }
        }
    )*};
}

impl<P: IntoApi<T>, T> IntoApi<Vec<T>> for Vec<P> {
    fn into_api(self) -> Vec<T> {
        let mut items: Vec<T> = self.into_iter().map(IntoApi::into_api).collect();
        items.shrink_to_fit();
        items
    }
}

impl<P: IntoApi<T>, T> IntoApi<Option<Vec<T>>> for Vec<P> {
    fn into_api(self) -> Option<Vec<T>> {
        (!self.is_empty()).then(|| self.into_api())
    }
}

impl<P: IntoApi<T>, T> IntoApi<Option<BTreeMap<String, T>>> for BTreeMap<String, P> {
    fn into_api(self) -> Option<BTreeMap<String, T>> {
        (!self.is_empty()).then(|| self.into_iter().map(|(k, v)| (k, v.into_api())).collect())
    }
}

/// A boxed part of the tool's own types.
fn boxed<P: IntoApi<T>, T>(part: Option<P>) -> Option<Box<T>> {
    part.map(|p| Box::new(p.into_api()))
}

impl IntoApi<Quantity> for k8s_pb::apimachinery::pkg::api::resource::Quantity {
    fn into_api(self) -> Quantity {
        Quantity(self.string.unwrap_or_default())
    }
}

impl IntoApi<IntOrString> for k8s_pb::apimachinery::pkg::util::intstr::IntOrString {
    fn into_api(self) -> IntOrString {
        // Type 1 is a string, 0 (or none) an integer.
        match self.r#type {
            Some(1) => IntOrString::String(self.str_val.unwrap_or_default()),
            _ => IntOrString::Int(self.int_val.unwrap_or_default()),
        }
    }
}

optional!(
    k8s_pb::apimachinery::pkg::api::resource::Quantity => Quantity,
    k8s_pb::apimachinery::pkg::util::intstr::IntOrString => IntOrString,
);

impl IntoApi<IntOrString> for Option<k8s_pb::apimachinery::pkg::util::intstr::IntOrString> {
    fn into_api(self) -> IntOrString {
        self.map(IntoApi::into_api).unwrap_or(IntOrString::Int(0))
    }
}

/// A time; Go's zero time, which JSON writes as `null`, is an empty
/// message in protobuf.
fn timestamp(seconds: Option<i64>, nanos: Option<i32>) -> Option<jiff::Timestamp> {
    if seconds.unwrap_or_default() == 0 && nanos.unwrap_or_default() == 0 {
        return None;
    }
    jiff::Timestamp::new(seconds.unwrap_or_default(), nanos.unwrap_or_default()).ok()
}

impl IntoApi<Option<Time>> for Option<pb::Time> {
    fn into_api(self) -> Option<Time> {
        // JSON keeps whole seconds.
        self.and_then(|t| timestamp(t.seconds, None)).map(Time)
    }
}

impl IntoApi<Option<MicroTime>> for Option<pb::MicroTime> {
    fn into_api(self) -> Option<MicroTime> {
        // JSON keeps microseconds.
        self.and_then(|t| timestamp(t.seconds, t.nanos.map(|n| n / 1_000 * 1_000)))
            .map(MicroTime)
    }
}

/// A type whose fields have the same names in both, `a = b` where they do
/// not. The fields after `omitempty` are not pointers in Go: JSON leaves
/// them out when zero, and so does the tool.
macro_rules! convert {
    ($pb:ident => $oa:ident {
        $($field:ident $(= $from:ident)?),* $(,)?
        $(; omitempty $($zero:ident),* $(,)?)?
    }) => {
        impl IntoApi<oa::$oa> for pb::$pb {
            fn into_api(self) -> oa::$oa {
                let p = self;
                oa::$oa {
                    $($field: convert!(@from p $field $($from)?).into_api(),)*
                    $($($zero: omitempty(p.$zero),)*)?
                }
            }
        }
        optional!(pb::$pb => oa::$oa);
    };
    (@from $p:ident $field:ident) => { $p.$field };
    (@from $p:ident $field:ident $from:ident) => { $p.$from };
}

/// A type that names a ConfigMap or Secret: protobuf nests the name in a
/// `LocalObjectReference`, JSON does not.
macro_rules! convert_named {
    ($pb:ident => $oa:ident { $($field:ident),* $(,)? }) => {
        impl IntoApi<oa::$oa> for pb::$pb {
            fn into_api(self) -> oa::$oa {
                let p = self;
                oa::$oa {
                    name: p.local_object_reference.and_then(|r| r.name).unwrap_or_default(),
                    $($field: p.$field.into_api(),)*
                }
            }
        }
        optional!(pb::$pb => oa::$oa);
    };
}

/// A part JSON requires: absent in protobuf, it is its default.
macro_rules! required {
    ($($pb:ident => $oa:ident),* $(,)?) => {$(
        impl IntoApi<oa::$oa> for Option<pb::$pb> {
            fn into_api(self) -> oa::$oa {
                self.map(IntoApi::into_api).unwrap_or_default()
            }
        }
    )*};
}

required!(
    LocalObjectReference => LocalObjectReference,
    NodeSelectorTerm => NodeSelectorTerm,
    ObjectMeta => ObjectMeta,
    ObjectReference => ObjectReference,
    PersistentVolumeClaimSpec => PersistentVolumeClaimSpec,
    PodAffinityTerm => PodAffinityTerm,
);

convert_named!(ConfigMapEnvSource => ConfigMapEnvSource { optional });
convert_named!(ConfigMapKeySelector => ConfigMapKeySelector { key, optional });
convert_named!(ConfigMapProjection => ConfigMapProjection { items, optional });
convert_named!(ConfigMapVolumeSource => ConfigMapVolumeSource { default_mode, items, optional });
convert_named!(SecretEnvSource => SecretEnvSource { optional });
convert_named!(SecretKeySelector => SecretKeySelector { key, optional });
convert_named!(SecretProjection => SecretProjection { items, optional });
convert!(FcVolumeSource => FCVolumeSource { fs_type, lun, target_wwns = target_ww_ns, wwids; omitempty read_only });

impl IntoApi<oa::EnvVarSource> for pb::EnvVarSource {
    fn into_api(self) -> oa::EnvVarSource {
        oa::EnvVarSource {
            config_map_key_ref: self.config_map_key_ref.into_api(),
            field_ref: self.field_ref.into_api(),
            // Newer than the protobuf types: not in them.
            file_key_ref: None,
            resource_field_ref: self.resource_field_ref.into_api(),
            secret_key_ref: self.secret_key_ref.into_api(),
        }
    }
}

impl IntoApi<oa::ObjectMeta> for pb::ObjectMeta {
    fn into_api(self) -> oa::ObjectMeta {
        let p = self;
        oa::ObjectMeta {
            annotations: p.annotations.into_api(),
            creation_timestamp: p.creation_timestamp.into_api(),
            deletion_grace_period_seconds: p.deletion_grace_period_seconds.into_api(),
            deletion_timestamp: p.deletion_timestamp.into_api(),
            finalizers: p.finalizers.into_api(),
            generate_name: p.generate_name.into_api(),
            generation: omitempty(p.generation),
            labels: p.labels.into_api(),
            // Large and never read.
            managed_fields: None,
            name: p.name.into_api(),
            namespace: p.namespace.into_api(),
            owner_references: p.owner_references.into_api(),
            resource_version: p.resource_version.into_api(),
            self_link: p.self_link.into_api(),
            uid: p.uid.into_api(),
        }
    }
}

convert!(OwnerReference => OwnerReference { api_version, block_owner_deletion, controller, kind, name, uid });

impl IntoApi<oa::Probe> for pb::Probe {
    fn into_api(self) -> oa::Probe {
        let p = self;
        let handler = p.handler.unwrap_or_default();
        oa::Probe {
            exec: handler.exec.into_api(),
            failure_threshold: p.failure_threshold.into_api(),
            grpc: handler.grpc.into_api(),
            http_get: handler.http_get.into_api(),
            initial_delay_seconds: p.initial_delay_seconds.into_api(),
            period_seconds: p.period_seconds.into_api(),
            success_threshold: p.success_threshold.into_api(),
            tcp_socket: handler.tcp_socket.into_api(),
            termination_grace_period_seconds: p.termination_grace_period_seconds.into_api(),
            timeout_seconds: p.timeout_seconds.into_api(),
        }
    }
}

convert!(GrpcAction => GRPCAction { port, service });

convert!(AwsElasticBlockStoreVolumeSource => AWSElasticBlockStoreVolumeSource { fs_type, volume_id; omitempty read_only, partition });
convert!(Affinity => Affinity { node_affinity, pod_affinity, pod_anti_affinity });
convert!(AppArmorProfile => AppArmorProfile { localhost_profile, type_ = r#type });
convert!(AzureDiskVolumeSource => AzureDiskVolumeSource { caching_mode, disk_name, disk_uri, fs_type, kind, read_only });
convert!(AzureFileVolumeSource => AzureFileVolumeSource { secret_name, share_name; omitempty read_only });
convert!(CSIVolumeSource => CSIVolumeSource { driver, fs_type, node_publish_secret_ref, read_only, volume_attributes });
convert!(Capabilities => Capabilities { add, drop });
convert!(CephFsVolumeSource => CephFSVolumeSource { monitors, path, secret_file, secret_ref, user; omitempty read_only });
convert!(CinderVolumeSource => CinderVolumeSource { fs_type, secret_ref, volume_id; omitempty read_only });
convert!(ClusterTrustBundleProjection => ClusterTrustBundleProjection { label_selector, name, optional, path, signer_name });
convert!(ContainerPort => ContainerPort { container_port, host_ip, name, protocol; omitempty host_port });
convert!(ContainerResizePolicy => ContainerResizePolicy { resource_name, restart_policy });
convert!(ContainerStateRunning => ContainerStateRunning { started_at });
convert!(ContainerStateTerminated => ContainerStateTerminated { container_id, exit_code, finished_at, message, reason, signal, started_at });
convert!(ContainerStateWaiting => ContainerStateWaiting { message, reason });
convert!(ContainerUser => ContainerUser { linux });
convert!(DownwardAPIProjection => DownwardAPIProjection { items });
convert!(DownwardAPIVolumeFile => DownwardAPIVolumeFile { field_ref, mode, path, resource_field_ref });
convert!(DownwardAPIVolumeSource => DownwardAPIVolumeSource { default_mode, items });
convert!(EmptyDirVolumeSource => EmptyDirVolumeSource { medium, size_limit });
convert!(EnvFromSource => EnvFromSource { config_map_ref, prefix, secret_ref });
convert!(EnvVar => EnvVar { name, value, value_from });
convert!(EphemeralVolumeSource => EphemeralVolumeSource { volume_claim_template });
convert!(EventSeries => EventSeries { count, last_observed_time });
convert!(EventSource => EventSource { component, host });
convert!(ExecAction => ExecAction { command });
convert!(FlexVolumeSource => FlexVolumeSource { driver, fs_type, options, secret_ref; omitempty read_only });
convert!(FlockerVolumeSource => FlockerVolumeSource { dataset_name, dataset_uuid });
convert!(GcePersistentDiskVolumeSource => GCEPersistentDiskVolumeSource { fs_type, pd_name; omitempty read_only, partition });
convert!(GitRepoVolumeSource => GitRepoVolumeSource { directory, repository, revision });
convert!(GlusterfsVolumeSource => GlusterfsVolumeSource { endpoints, path; omitempty read_only });
convert!(HttpGetAction => HTTPGetAction { host, http_headers, path, port, scheme });
convert!(HttpHeader => HTTPHeader { name, value });
convert!(HostAlias => HostAlias { hostnames, ip });
convert!(HostIp => HostIP { ip });
convert!(HostPathVolumeSource => HostPathVolumeSource { path, type_ = r#type });
convert!(IscsiVolumeSource => ISCSIVolumeSource { chap_auth_discovery, chap_auth_session, fs_type, initiator_name, iqn, iscsi_interface, lun, portals, secret_ref, target_portal; omitempty read_only });
convert!(ImageVolumeSource => ImageVolumeSource { pull_policy, reference });
convert!(KeyToPath => KeyToPath { key, mode, path });
convert!(LabelSelector => LabelSelector { match_expressions, match_labels });
convert!(LabelSelectorRequirement => LabelSelectorRequirement { key, operator, values });
convert!(Lifecycle => Lifecycle { post_start, pre_stop, stop_signal });
convert!(LifecycleHandler => LifecycleHandler { exec, http_get, sleep, tcp_socket });
convert!(LinuxContainerUser => LinuxContainerUser { gid, supplemental_groups, uid });
convert!(LocalObjectReference => LocalObjectReference { name });
convert!(NfsVolumeSource => NFSVolumeSource { path, server; omitempty read_only });
convert!(NodeAffinity => NodeAffinity { preferred_during_scheduling_ignored_during_execution, required_during_scheduling_ignored_during_execution });
convert!(NodeSelector => NodeSelector { node_selector_terms });
convert!(NodeSelectorRequirement => NodeSelectorRequirement { key, operator, values });
convert!(NodeSelectorTerm => NodeSelectorTerm { match_expressions, match_fields });
convert!(ObjectFieldSelector => ObjectFieldSelector { api_version, field_path });
convert!(ObjectReference => ObjectReference { api_version, field_path, kind, name, namespace, resource_version, uid });

impl IntoApi<oa::PersistentVolumeClaimSpec> for pb::PersistentVolumeClaimSpec {
    fn into_api(self) -> oa::PersistentVolumeClaimSpec {
        let p = self;
        oa::PersistentVolumeClaimSpec {
            access_modes: p.access_modes.into_api(),
            data_source: p.data_source.into_api(),
            data_source_ref: p.data_source_ref.into_api(),
            resources: p.resources.into_api(),
            selector: p.selector.into_api(),
            // Pointers in Go, and an empty class is one: no dynamic
            // provisioning.
            storage_class_name: p.storage_class_name,
            volume_attributes_class_name: p.volume_attributes_class_name,
            volume_mode: p.volume_mode.into_api(),
            volume_name: p.volume_name.into_api(),
        }
    }
}
optional!(pb::PersistentVolumeClaimSpec => oa::PersistentVolumeClaimSpec);
convert!(PersistentVolumeClaimTemplate => PersistentVolumeClaimTemplate { metadata, spec });
convert!(PersistentVolumeClaimVolumeSource => PersistentVolumeClaimVolumeSource { claim_name; omitempty read_only });
convert!(PhotonPersistentDiskVolumeSource => PhotonPersistentDiskVolumeSource { fs_type, pd_id });
convert!(PodAffinity => PodAffinity { preferred_during_scheduling_ignored_during_execution, required_during_scheduling_ignored_during_execution });
convert!(PodAffinityTerm => PodAffinityTerm { label_selector, match_label_keys, mismatch_label_keys, namespace_selector, namespaces, topology_key });
convert!(PodAntiAffinity => PodAntiAffinity { preferred_during_scheduling_ignored_during_execution, required_during_scheduling_ignored_during_execution });
convert!(PodCondition => PodCondition { last_probe_time, last_transition_time, message, observed_generation, reason, status, type_ = r#type });
convert!(PodDnsConfig => PodDNSConfig { nameservers, options, searches });
convert!(PodDnsConfigOption => PodDNSConfigOption { name, value });
convert!(PodIp => PodIP { ip });
convert!(PodOs => PodOS { name });
convert!(PodReadinessGate => PodReadinessGate { condition_type });
convert!(PodResourceClaim => PodResourceClaim { name, resource_claim_name, resource_claim_template_name });
convert!(PodResourceClaimStatus => PodResourceClaimStatus { name, resource_claim_name });
convert!(PodSchedulingGate => PodSchedulingGate { name });
convert!(PodSecurityContext => PodSecurityContext { app_armor_profile, fs_group, fs_group_change_policy, run_as_group, run_as_non_root, run_as_user, se_linux_change_policy, se_linux_options, seccomp_profile, supplemental_groups, supplemental_groups_policy, sysctls, windows_options });
convert!(PortworxVolumeSource => PortworxVolumeSource { fs_type, volume_id; omitempty read_only });
convert!(PreferredSchedulingTerm => PreferredSchedulingTerm { preference, weight });
convert!(QuobyteVolumeSource => QuobyteVolumeSource { group, registry, tenant, user, volume; omitempty read_only });
convert!(RbdVolumeSource => RBDVolumeSource { fs_type, image, keyring, monitors, pool, secret_ref, user; omitempty read_only });
convert!(ResourceClaim => ResourceClaim { name, request });
convert!(ResourceFieldSelector => ResourceFieldSelector { container_name, divisor, resource });
convert!(ResourceHealth => ResourceHealth { health, resource_id });
convert!(ResourceRequirements => ResourceRequirements { claims, limits, requests });
convert!(ResourceStatus => ResourceStatus { name, resources });
convert!(SeLinuxOptions => SELinuxOptions { level, role, type_ = r#type, user });
convert!(ScaleIoVolumeSource => ScaleIOVolumeSource { fs_type, gateway, protection_domain, secret_ref, ssl_enabled, storage_mode, storage_pool, system, volume_name; omitempty read_only });
convert!(SeccompProfile => SeccompProfile { localhost_profile, type_ = r#type });
convert!(SecretVolumeSource => SecretVolumeSource { default_mode, items, optional, secret_name });
convert!(SecurityContext => SecurityContext { allow_privilege_escalation, app_armor_profile, capabilities, privileged, proc_mount, read_only_root_filesystem, run_as_group, run_as_non_root, run_as_user, se_linux_options, seccomp_profile, windows_options });
convert!(ServiceAccountTokenProjection => ServiceAccountTokenProjection { audience, expiration_seconds, path });
convert!(SleepAction => SleepAction { seconds });
convert!(StorageOsVolumeSource => StorageOSVolumeSource { fs_type, secret_ref, volume_name, volume_namespace; omitempty read_only });
convert!(Sysctl => Sysctl { name, value });
convert!(TcpSocketAction => TCPSocketAction { host, port });
convert!(Toleration => Toleration { effect, key, operator, toleration_seconds, value });
convert!(TopologySpreadConstraint => TopologySpreadConstraint { label_selector, match_label_keys, max_skew, min_domains, node_affinity_policy, node_taints_policy, topology_key, when_unsatisfiable });
convert!(TypedLocalObjectReference => TypedLocalObjectReference { api_group, kind, name });
convert!(TypedObjectReference => TypedObjectReference { api_group, kind, name, namespace });
convert!(VolumeDevice => VolumeDevice { device_path, name });
convert!(VolumeMount => VolumeMount { mount_path, mount_propagation, name, recursive_read_only, sub_path, sub_path_expr; omitempty read_only });
convert!(VolumeMountStatus => VolumeMountStatus { mount_path, name, read_only, recursive_read_only });
convert!(VolumeResourceRequirements => VolumeResourceRequirements { limits, requests });
convert!(VsphereVirtualDiskVolumeSource => VsphereVirtualDiskVolumeSource { fs_type, storage_policy_id, storage_policy_name, volume_path });
convert!(WeightedPodAffinityTerm => WeightedPodAffinityTerm { pod_affinity_term, weight });
convert!(WindowsSecurityContextOptions => WindowsSecurityContextOptions { gmsa_credential_spec, gmsa_credential_spec_name, host_process, run_as_user_name });

convert!(AttachedVolume => AttachedVolume { device_path, name });
convert!(AzureFilePersistentVolumeSource => AzureFilePersistentVolumeSource { secret_name, secret_namespace, share_name; omitempty read_only });
convert!(CSIPersistentVolumeSource => CSIPersistentVolumeSource { controller_expand_secret_ref, controller_publish_secret_ref, driver, fs_type, node_expand_secret_ref, node_publish_secret_ref, node_stage_secret_ref, volume_attributes, volume_handle; omitempty read_only });
convert!(CephFsPersistentVolumeSource => CephFSPersistentVolumeSource { monitors, path, secret_file, secret_ref, user; omitempty read_only });
convert!(CinderPersistentVolumeSource => CinderPersistentVolumeSource { fs_type, secret_ref, volume_id; omitempty read_only });
convert!(ConfigMapNodeConfigSource => ConfigMapNodeConfigSource { kubelet_config_key, name, namespace, resource_version, uid });
convert!(ContainerImage => ContainerImage { names, size_bytes });
convert!(DaemonEndpoint => DaemonEndpoint { port });
convert!(DaemonSetCondition => DaemonSetCondition { last_transition_time, message, reason, status, type_ = r#type });
convert!(DaemonSetStatus => DaemonSetStatus { collision_count, conditions, current_number_scheduled, desired_number_scheduled, number_misscheduled, number_ready; omitempty number_available, number_unavailable, observed_generation, updated_number_scheduled });
convert!(DaemonSetUpdateStrategy => DaemonSetUpdateStrategy { rolling_update, type_ = r#type });
convert!(DeploymentCondition => DeploymentCondition { last_transition_time, last_update_time, message, reason, status, type_ = r#type });
convert!(DeploymentStatus => DeploymentStatus { collision_count, conditions, terminating_replicas; omitempty available_replicas, observed_generation, ready_replicas, replicas, unavailable_replicas, updated_replicas });
convert!(DeploymentStrategy => DeploymentStrategy { rolling_update, type_ = r#type });
convert!(FlexPersistentVolumeSource => FlexPersistentVolumeSource { driver, fs_type, options, secret_ref; omitempty read_only });
convert!(GlusterfsPersistentVolumeSource => GlusterfsPersistentVolumeSource { endpoints, endpoints_namespace, path; omitempty read_only });
convert!(IscsiPersistentVolumeSource => ISCSIPersistentVolumeSource { chap_auth_discovery, chap_auth_session, fs_type, initiator_name, iqn, iscsi_interface, lun, portals, secret_ref, target_portal; omitempty read_only });
convert!(LocalVolumeSource => LocalVolumeSource { fs_type, path });
convert!(ModifyVolumeStatus => ModifyVolumeStatus { status, target_volume_attributes_class_name });
convert!(NodeAddress => NodeAddress { address, type_ = r#type });
convert!(NodeCondition => NodeCondition { last_heartbeat_time, last_transition_time, message, reason, status, type_ = r#type });
convert!(NodeConfigSource => NodeConfigSource { config_map });
convert!(NodeConfigStatus => NodeConfigStatus { active, assigned, error, last_known_good });
convert!(NodeDaemonEndpoints => NodeDaemonEndpoints { kubelet_endpoint });
convert!(NodeFeatures => NodeFeatures { supplemental_groups_policy });
convert!(NodeRuntimeHandler => NodeRuntimeHandler { features, name });
convert!(NodeRuntimeHandlerFeatures => NodeRuntimeHandlerFeatures { recursive_read_only_mounts, user_namespaces });
convert!(NodeSpec => NodeSpec { config_source, external_id, pod_cidr, pod_cidrs = pod_cid_rs, provider_id, taints; omitempty unschedulable });
convert!(NodeStatus => NodeStatus { addresses, allocatable, capacity, conditions, config, daemon_endpoints, features, images, node_info, phase, runtime_handlers, volumes_attached, volumes_in_use });
convert!(NodeSwapStatus => NodeSwapStatus { capacity });
convert!(NodeSystemInfo => NodeSystemInfo { architecture, boot_id, container_runtime_version, kernel_version, kube_proxy_version, kubelet_version, machine_id, operating_system, os_image, swap, system_uuid });
convert!(PersistentVolumeClaimCondition => PersistentVolumeClaimCondition { last_probe_time, last_transition_time, message, reason, status, type_ = r#type });
convert!(PersistentVolumeClaimStatus => PersistentVolumeClaimStatus { access_modes, allocated_resource_statuses, allocated_resources, capacity, conditions, current_volume_attributes_class_name, modify_volume_status, phase });
convert!(PersistentVolumeStatus => PersistentVolumeStatus { last_phase_transition_time, message, phase, reason });
convert!(RbdPersistentVolumeSource => RBDPersistentVolumeSource { fs_type, image, keyring, monitors, pool, secret_ref, user; omitempty read_only });
convert!(ReplicaSetCondition => ReplicaSetCondition { last_transition_time, message, reason, status, type_ = r#type });
convert!(ReplicaSetStatus => ReplicaSetStatus { conditions, replicas, terminating_replicas; omitempty available_replicas, fully_labeled_replicas, observed_generation, ready_replicas });
convert!(RollingUpdateDaemonSet => RollingUpdateDaemonSet { max_surge, max_unavailable });
convert!(RollingUpdateDeployment => RollingUpdateDeployment { max_surge, max_unavailable });
convert!(RollingUpdateStatefulSetStrategy => RollingUpdateStatefulSetStrategy { max_unavailable, partition });
convert!(StatefulSetCondition => StatefulSetCondition { last_transition_time, message, reason, status, type_ = r#type });
convert!(StatefulSetOrdinals => StatefulSetOrdinals { start });
convert!(StatefulSetPersistentVolumeClaimRetentionPolicy => StatefulSetPersistentVolumeClaimRetentionPolicy { when_deleted, when_scaled });
convert!(StatefulSetStatus => StatefulSetStatus { available_replicas, collision_count, conditions, current_revision, replicas, update_revision; omitempty current_replicas, observed_generation, ready_replicas, updated_replicas });
convert!(StatefulSetUpdateStrategy => StatefulSetUpdateStrategy { rolling_update, type_ = r#type });
convert!(StorageOsPersistentVolumeSource => StorageOSPersistentVolumeSource { fs_type, secret_ref, volume_name, volume_namespace; omitempty read_only });
convert!(Taint => Taint { effect, key, time_added, value });
convert!(VolumeAttachmentStatus => VolumeAttachmentStatus { attach_error, attached, attachment_metadata, detach_error });
convert!(VolumeError => VolumeError { error_code, message, time });
convert!(VolumeNodeAffinity => VolumeNodeAffinity { required });
convert!(ScaleIoPersistentVolumeSource => ScaleIOPersistentVolumeSource { fs_type, gateway, protection_domain, secret_ref, ssl_enabled, storage_mode, storage_pool, system, volume_name; omitempty read_only });

impl IntoApi<oa::EphemeralContainer> for pb::EphemeralContainer {
    fn into_api(self) -> oa::EphemeralContainer {
        let c = self.ephemeral_container_common.unwrap_or_default();
        oa::EphemeralContainer {
            args: c.args.into_api(),
            command: c.command.into_api(),
            env: c.env.into_api(),
            env_from: c.env_from.into_api(),
            image: c.image.into_api(),
            image_pull_policy: c.image_pull_policy.into_api(),
            lifecycle: c.lifecycle.into_api(),
            liveness_probe: c.liveness_probe.into_api(),
            name: c.name.into_api(),
            ports: c.ports.into_api(),
            readiness_probe: c.readiness_probe.into_api(),
            resize_policy: c.resize_policy.into_api(),
            resources: c.resources.into_api(),
            restart_policy: c.restart_policy.into_api(),
            restart_policy_rules: None,
            security_context: c.security_context.into_api(),
            startup_probe: c.startup_probe.into_api(),
            stdin: omitempty(c.stdin),
            stdin_once: omitempty(c.stdin_once),
            target_container_name: self.target_container_name.into_api(),
            termination_message_path: c.termination_message_path.into_api(),
            termination_message_policy: c.termination_message_policy.into_api(),
            tty: omitempty(c.tty),
            volume_devices: c.volume_devices.into_api(),
            volume_mounts: c.volume_mounts.into_api(),
            working_dir: c.working_dir.into_api(),
        }
    }
}

optional!(
    pb::PersistentVolumeSpec => api::PersistentVolumeSpec,
    pb::ObjectMeta => oa::ObjectMeta,
    pb::Probe => oa::Probe,
    pb::EnvVarSource => oa::EnvVarSource,
    pb::PodSpec => api::PodSpec,
    pb::PodStatus => api::PodStatus,
    pb::ContainerState => api::ContainerState,
);

impl IntoApi<api::Pod> for pb::Pod {
    fn into_api(self) -> api::Pod {
        api::Pod {
            metadata: self.metadata.into_api(),
            spec: self.spec.into_api(),
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::PodSpec> for pb::PodSpec {
    fn into_api(self) -> api::PodSpec {
        let p = self;
        api::PodSpec {
            active_deadline_seconds: p.active_deadline_seconds.into_api(),
            affinity: boxed(p.affinity),
            automount_service_account_token: p.automount_service_account_token.into_api(),
            containers: p.containers.into_api(),
            dns_config: boxed(p.dns_config),
            dns_policy: p.dns_policy.into_api(),
            enable_service_links: p.enable_service_links.into_api(),
            ephemeral_containers: p.ephemeral_containers.into_api(),
            host_aliases: p.host_aliases.into_api(),
            host_ipc: omitempty(p.host_ipc),
            host_network: omitempty(p.host_network),
            host_pid: omitempty(p.host_pid),
            host_users: p.host_users.into_api(),
            hostname: p.hostname.into_api(),
            // Newer than the protobuf types: not in them.
            hostname_override: None,
            image_pull_secrets: p.image_pull_secrets.into_api(),
            init_containers: p.init_containers.into_api(),
            node_name: p.node_name.into_api(),
            node_selector: p.node_selector.into_api(),
            os: p.os.into_api(),
            overhead: p.overhead.into_api(),
            preemption_policy: p.preemption_policy.into_api(),
            priority: p.priority.into_api(),
            priority_class_name: p.priority_class_name.into_api(),
            readiness_gates: p.readiness_gates.into_api(),
            resource_claims: p.resource_claims.into_api(),
            resources: boxed(p.resources),
            restart_policy: p.restart_policy.into_api(),
            runtime_class_name: p.runtime_class_name.into_api(),
            scheduler_name: p.scheduler_name.into_api(),
            scheduling_gates: p.scheduling_gates.into_api(),
            security_context: boxed(p.security_context),
            service_account: p.service_account.into_api(),
            service_account_name: p.service_account_name.into_api(),
            set_hostname_as_fqdn: p.set_hostname_as_fqdn.into_api(),
            share_process_namespace: p.share_process_namespace.into_api(),
            subdomain: p.subdomain.into_api(),
            termination_grace_period_seconds: p.termination_grace_period_seconds.into_api(),
            tolerations: p.tolerations.into_api(),
            topology_spread_constraints: p.topology_spread_constraints.into_api(),
            volumes: p.volumes.into_api(),
        }
    }
}

impl IntoApi<api::Container> for pb::Container {
    fn into_api(self) -> api::Container {
        let c = self;
        api::Container {
            args: c.args.into_api(),
            command: c.command.into_api(),
            env: c.env.into_api(),
            env_from: c.env_from.into_api(),
            image: c.image.into_api(),
            image_pull_policy: c.image_pull_policy.into_api(),
            lifecycle: boxed(c.lifecycle),
            liveness_probe: boxed(c.liveness_probe),
            name: c.name.into_api(),
            ports: c.ports.into_api(),
            readiness_probe: boxed(c.readiness_probe),
            resize_policy: c.resize_policy.into_api(),
            resources: c.resources.into_api(),
            restart_policy: c.restart_policy.into_api(),
            restart_policy_rules: None,
            security_context: boxed(c.security_context),
            startup_probe: boxed(c.startup_probe),
            stdin: omitempty(c.stdin),
            stdin_once: omitempty(c.stdin_once),
            termination_message_path: c.termination_message_path.into_api(),
            termination_message_policy: c.termination_message_policy.into_api(),
            tty: omitempty(c.tty),
            volume_devices: c.volume_devices.into_api(),
            volume_mounts: c.volume_mounts.into_api(),
            working_dir: c.working_dir.into_api(),
        }
    }
}

impl IntoApi<api::Volume> for pb::Volume {
    fn into_api(self) -> api::Volume {
        let s = self.volume_source.unwrap_or_default();
        api::Volume {
            aws_elastic_block_store: boxed(s.aws_elastic_block_store),
            azure_disk: boxed(s.azure_disk),
            azure_file: boxed(s.azure_file),
            cephfs: boxed(s.cephfs),
            cinder: boxed(s.cinder),
            config_map: boxed(s.config_map),
            csi: boxed(s.csi),
            downward_api: boxed(s.downward_api),
            empty_dir: boxed(s.empty_dir),
            ephemeral: boxed(s.ephemeral),
            fc: boxed(s.fc),
            flex_volume: boxed(s.flex_volume),
            flocker: boxed(s.flocker),
            gce_persistent_disk: boxed(s.gce_persistent_disk),
            git_repo: boxed(s.git_repo),
            glusterfs: boxed(s.glusterfs),
            host_path: boxed(s.host_path),
            image: boxed(s.image),
            iscsi: boxed(s.iscsi),
            name: self.name.into_api(),
            nfs: boxed(s.nfs),
            persistent_volume_claim: boxed(s.persistent_volume_claim),
            photon_persistent_disk: boxed(s.photon_persistent_disk),
            portworx_volume: boxed(s.portworx_volume),
            projected: boxed(s.projected),
            quobyte: boxed(s.quobyte),
            rbd: boxed(s.rbd),
            scale_io: boxed(s.scale_io),
            secret: boxed(s.secret),
            storageos: boxed(s.storageos),
            vsphere_volume: boxed(s.vsphere_volume),
        }
    }
}

impl IntoApi<api::ProjectedVolumeSource> for pb::ProjectedVolumeSource {
    fn into_api(self) -> api::ProjectedVolumeSource {
        api::ProjectedVolumeSource {
            default_mode: self.default_mode.into_api(),
            sources: self.sources.into_api(),
        }
    }
}

impl IntoApi<api::VolumeProjection> for pb::VolumeProjection {
    fn into_api(self) -> api::VolumeProjection {
        api::VolumeProjection {
            cluster_trust_bundle: boxed(self.cluster_trust_bundle),
            config_map: boxed(self.config_map),
            downward_api: boxed(self.downward_api),
            // Newer than the protobuf types: not in them.
            pod_certificate: None,
            secret: boxed(self.secret),
            service_account_token: boxed(self.service_account_token),
        }
    }
}

impl IntoApi<api::PodStatus> for pb::PodStatus {
    fn into_api(self) -> api::PodStatus {
        let s = self;
        api::PodStatus {
            conditions: s.conditions.into_api(),
            container_statuses: s.container_statuses.into_api(),
            ephemeral_container_statuses: s.ephemeral_container_statuses.into_api(),
            // Newer than the protobuf types: not in them.
            extended_resource_claim_status: None,
            host_ip: s.host_ip.into_api(),
            host_ips: s.host_ips.into_api(),
            init_container_statuses: s.init_container_statuses.into_api(),
            message: s.message.into_api(),
            nominated_node_name: s.nominated_node_name.into_api(),
            observed_generation: s.observed_generation.into_api(),
            phase: s.phase.into_api(),
            pod_ip: s.pod_ip.into_api(),
            pod_ips: s.pod_ips.into_api(),
            qos_class: s.qos_class.into_api(),
            reason: s.reason.into_api(),
            resize: s.resize.into_api(),
            resource_claim_statuses: s.resource_claim_statuses.into_api(),
            start_time: s.start_time.into_api(),
        }
    }
}

impl IntoApi<api::ContainerStatus> for pb::ContainerStatus {
    fn into_api(self) -> api::ContainerStatus {
        let s = self;
        api::ContainerStatus {
            allocated_resources: s.allocated_resources.into_api().map(Box::new),
            allocated_resources_status: s.allocated_resources_status.into_api(),
            container_id: s.container_id.into_api(),
            image: s.image.into_api(),
            image_id: s.image_id.into_api(),
            last_state: s.last_state.into_api(),
            name: s.name.into_api(),
            ready: s.ready.into_api(),
            resources: boxed(s.resources),
            restart_count: s.restart_count.into_api(),
            started: s.started.into_api(),
            state: s.state.into_api(),
            stop_signal: s.stop_signal.into_api(),
            user: boxed(s.user),
            volume_mounts: s.volume_mounts.into_api(),
        }
    }
}

impl IntoApi<api::ContainerState> for pb::ContainerState {
    fn into_api(self) -> api::ContainerState {
        api::ContainerState {
            running: self.running.into_api(),
            terminated: boxed(self.terminated),
            waiting: self.waiting.into_api(),
        }
    }
}

impl IntoApi<api::Event> for pb::Event {
    fn into_api(self) -> api::Event {
        let e = self;
        api::Event {
            action: e.action.into_api(),
            count: omitempty(e.count),
            event_time: e.event_time.into_api(),
            first_timestamp: e.first_timestamp.into_api(),
            involved_object: e.involved_object.into_api(),
            last_timestamp: e.last_timestamp.into_api(),
            message: e.message.into_api(),
            metadata: e.metadata.into_api(),
            reason: e.reason.into_api(),
            related: boxed(e.related),
            // Written to JSON even when empty.
            reporting_component: e.reporting_component,
            reporting_instance: e.reporting_instance,
            series: boxed(e.series),
            source: e.source.into_api(),
            type_: e.r#type.into_api(),
        }
    }
}

convert!(PersistentVolumeClaim => PersistentVolumeClaim { metadata, spec, status });
convert!(Node => Node { metadata, spec, status });

required!(LabelSelector => LabelSelector);

impl IntoApi<api::PodTemplateSpec> for pb::PodTemplateSpec {
    fn into_api(self) -> api::PodTemplateSpec {
        api::PodTemplateSpec {
            metadata: self.metadata.into_api(),
            spec: self.spec.into_api(),
        }
    }
}
optional!(pb::PodTemplateSpec => api::PodTemplateSpec);

impl IntoApi<api::PodTemplateSpec> for Option<pb::PodTemplateSpec> {
    fn into_api(self) -> api::PodTemplateSpec {
        self.map(IntoApi::into_api).unwrap_or_default()
    }
}

impl IntoApi<api::PersistentVolume> for pb::PersistentVolume {
    fn into_api(self) -> api::PersistentVolume {
        api::PersistentVolume {
            metadata: self.metadata.into_api(),
            spec: self.spec.into_api(),
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::PersistentVolumeSpec> for pb::PersistentVolumeSpec {
    fn into_api(self) -> api::PersistentVolumeSpec {
        let p = self;
        let s = p.persistent_volume_source.unwrap_or_default();
        api::PersistentVolumeSpec {
            access_modes: p.access_modes.into_api(),
            aws_elastic_block_store: boxed(s.aws_elastic_block_store),
            azure_disk: boxed(s.azure_disk),
            azure_file: boxed(s.azure_file),
            capacity: p.capacity.into_api(),
            cephfs: boxed(s.cephfs),
            cinder: boxed(s.cinder),
            claim_ref: p.claim_ref.into_api(),
            csi: boxed(s.csi),
            fc: boxed(s.fc),
            flex_volume: boxed(s.flex_volume),
            flocker: boxed(s.flocker),
            gce_persistent_disk: boxed(s.gce_persistent_disk),
            glusterfs: boxed(s.glusterfs),
            host_path: boxed(s.host_path),
            iscsi: boxed(s.iscsi),
            local: boxed(s.local),
            mount_options: p.mount_options.into_api(),
            nfs: boxed(s.nfs),
            node_affinity: p.node_affinity.into_api(),
            persistent_volume_reclaim_policy: p.persistent_volume_reclaim_policy.into_api(),
            photon_persistent_disk: boxed(s.photon_persistent_disk),
            portworx_volume: boxed(s.portworx_volume),
            quobyte: boxed(s.quobyte),
            rbd: boxed(s.rbd),
            scale_io: boxed(s.scale_io),
            storage_class_name: p.storage_class_name.into_api(),
            storageos: boxed(s.storageos),
            volume_attributes_class_name: p.volume_attributes_class_name.into_api(),
            volume_mode: p.volume_mode.into_api(),
            vsphere_volume: boxed(s.vsphere_volume),
        }
    }
}

impl IntoApi<api::VolumeAttachment> for pb::VolumeAttachment {
    fn into_api(self) -> api::VolumeAttachment {
        let spec = self.spec.unwrap_or_default();
        let source = spec.source.unwrap_or_default();
        api::VolumeAttachment {
            metadata: self.metadata.into_api(),
            spec: api::VolumeAttachmentSpec {
                attacher: spec.attacher.into_api(),
                node_name: spec.node_name.into_api(),
                source: api::VolumeAttachmentSource {
                    inline_volume_spec: boxed(source.inline_volume_spec),
                    persistent_volume_name: source.persistent_volume_name.into_api(),
                },
            },
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::Deployment> for pb::Deployment {
    fn into_api(self) -> api::Deployment {
        api::Deployment {
            metadata: self.metadata.into_api(),
            spec: self.spec.map(|s| api::DeploymentSpec {
                min_ready_seconds: omitempty(s.min_ready_seconds),
                paused: omitempty(s.paused),
                progress_deadline_seconds: s.progress_deadline_seconds,
                replicas: s.replicas,
                revision_history_limit: s.revision_history_limit,
                selector: s.selector.into_api(),
                strategy: s.strategy.into_api(),
                template: s.template.into_api(),
            }),
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::ReplicaSet> for pb::ReplicaSet {
    fn into_api(self) -> api::ReplicaSet {
        api::ReplicaSet {
            metadata: self.metadata.into_api(),
            spec: self.spec.map(|s| api::ReplicaSetSpec {
                min_ready_seconds: omitempty(s.min_ready_seconds),
                replicas: s.replicas,
                selector: s.selector.into_api(),
                template: s.template.into_api(),
            }),
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::StatefulSet> for pb::StatefulSet {
    fn into_api(self) -> api::StatefulSet {
        api::StatefulSet {
            metadata: self.metadata.into_api(),
            spec: self.spec.map(|s| api::StatefulSetSpec {
                min_ready_seconds: omitempty(s.min_ready_seconds),
                ordinals: s.ordinals.into_api(),
                persistent_volume_claim_retention_policy: s
                    .persistent_volume_claim_retention_policy
                    .into_api(),
                pod_management_policy: s.pod_management_policy.into_api(),
                replicas: s.replicas,
                revision_history_limit: s.revision_history_limit,
                selector: s.selector.into_api(),
                service_name: s.service_name.into_api(),
                template: s.template.into_api(),
                update_strategy: s.update_strategy.into_api(),
                volume_claim_templates: s.volume_claim_templates.into_api(),
            }),
            status: self.status.into_api(),
        }
    }
}

impl IntoApi<api::DaemonSet> for pb::DaemonSet {
    fn into_api(self) -> api::DaemonSet {
        api::DaemonSet {
            metadata: self.metadata.into_api(),
            spec: self.spec.map(|s| api::DaemonSetSpec {
                min_ready_seconds: omitempty(s.min_ready_seconds),
                revision_history_limit: s.revision_history_limit,
                selector: s.selector.into_api(),
                template: s.template.into_api(),
                update_strategy: s.update_strategy.into_api(),
            }),
            status: self.status.into_api(),
        }
    }
}

convert!(SecretReference => SecretReference { name, namespace });
required!(SecretReference => SecretReference);
