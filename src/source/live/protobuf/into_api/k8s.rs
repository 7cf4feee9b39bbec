//! k8s-openapi's types, from k8s-pb's of the same name.

use super::{oa, omitempty, pb, IntoApi};

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
        container!(c => oa::EphemeralContainer {
            target_container_name: self.target_container_name.into_api(),
        })
    }
}

convert!(PersistentVolumeClaim => PersistentVolumeClaim { metadata, spec, status });
convert!(Node => Node { metadata, spec, status });

required!(LabelSelector => LabelSelector);

convert!(SecretReference => SecretReference { name, namespace });
required!(SecretReference => SecretReference);
