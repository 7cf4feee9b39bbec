//! The tool's own types (`crate::api`), from k8s-pb's.

use super::{oa, omitempty, pb, IntoApi};
use crate::api;

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
            affinity: p.affinity.into_api(),
            automount_service_account_token: p.automount_service_account_token.into_api(),
            containers: p.containers.into_api(),
            dns_config: p.dns_config.into_api(),
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
            resources: p.resources.into_api(),
            restart_policy: p.restart_policy.into_api(),
            runtime_class_name: p.runtime_class_name.into_api(),
            scheduler_name: p.scheduler_name.into_api(),
            scheduling_gates: p.scheduling_gates.into_api(),
            security_context: p.security_context.into_api(),
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
        container!(c => api::Container {})
    }
}

impl IntoApi<api::Volume> for pb::Volume {
    fn into_api(self) -> api::Volume {
        let s = self.volume_source.unwrap_or_default();
        api::Volume {
            aws_elastic_block_store: s.aws_elastic_block_store.into_api(),
            azure_disk: s.azure_disk.into_api(),
            azure_file: s.azure_file.into_api(),
            cephfs: s.cephfs.into_api(),
            cinder: s.cinder.into_api(),
            config_map: s.config_map.into_api(),
            csi: s.csi.into_api(),
            downward_api: s.downward_api.into_api(),
            empty_dir: s.empty_dir.into_api(),
            ephemeral: s.ephemeral.into_api(),
            fc: s.fc.into_api(),
            flex_volume: s.flex_volume.into_api(),
            flocker: s.flocker.into_api(),
            gce_persistent_disk: s.gce_persistent_disk.into_api(),
            git_repo: s.git_repo.into_api(),
            glusterfs: s.glusterfs.into_api(),
            host_path: s.host_path.into_api(),
            image: s.image.into_api(),
            iscsi: s.iscsi.into_api(),
            name: self.name.into_api(),
            nfs: s.nfs.into_api(),
            persistent_volume_claim: s.persistent_volume_claim.into_api(),
            photon_persistent_disk: s.photon_persistent_disk.into_api(),
            portworx_volume: s.portworx_volume.into_api(),
            projected: s.projected.into_api(),
            quobyte: s.quobyte.into_api(),
            rbd: s.rbd.into_api(),
            scale_io: s.scale_io.into_api(),
            secret: s.secret.into_api(),
            storageos: s.storageos.into_api(),
            vsphere_volume: s.vsphere_volume.into_api(),
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
            cluster_trust_bundle: self.cluster_trust_bundle.into_api(),
            config_map: self.config_map.into_api(),
            downward_api: self.downward_api.into_api(),
            // Newer than the protobuf types: not in them.
            pod_certificate: None,
            secret: self.secret.into_api(),
            service_account_token: self.service_account_token.into_api(),
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
            resources: s.resources.into_api(),
            restart_count: s.restart_count.into_api(),
            started: s.started.into_api(),
            state: s.state.into_api(),
            stop_signal: s.stop_signal.into_api(),
            user: s.user.into_api(),
            volume_mounts: s.volume_mounts.into_api(),
        }
    }
}

impl IntoApi<api::ContainerState> for pb::ContainerState {
    fn into_api(self) -> api::ContainerState {
        api::ContainerState {
            running: self.running.into_api(),
            terminated: self.terminated.into_api(),
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
            related: e.related.into_api(),
            // Written to JSON even when empty.
            reporting_component: e.reporting_component,
            reporting_instance: e.reporting_instance,
            series: e.series.into_api(),
            source: e.source.into_api(),
            type_: e.r#type.into_api(),
        }
    }
}

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
            aws_elastic_block_store: s.aws_elastic_block_store.into_api(),
            azure_disk: s.azure_disk.into_api(),
            azure_file: s.azure_file.into_api(),
            capacity: p.capacity.into_api(),
            cephfs: s.cephfs.into_api(),
            cinder: s.cinder.into_api(),
            claim_ref: p.claim_ref.into_api(),
            csi: s.csi.into_api(),
            fc: s.fc.into_api(),
            flex_volume: s.flex_volume.into_api(),
            flocker: s.flocker.into_api(),
            gce_persistent_disk: s.gce_persistent_disk.into_api(),
            glusterfs: s.glusterfs.into_api(),
            host_path: s.host_path.into_api(),
            iscsi: s.iscsi.into_api(),
            local: s.local.into_api(),
            mount_options: p.mount_options.into_api(),
            nfs: s.nfs.into_api(),
            node_affinity: p.node_affinity.into_api(),
            persistent_volume_reclaim_policy: p.persistent_volume_reclaim_policy.into_api(),
            photon_persistent_disk: s.photon_persistent_disk.into_api(),
            portworx_volume: s.portworx_volume.into_api(),
            quobyte: s.quobyte.into_api(),
            rbd: s.rbd.into_api(),
            scale_io: s.scale_io.into_api(),
            storage_class_name: p.storage_class_name.into_api(),
            storageos: s.storageos.into_api(),
            volume_attributes_class_name: p.volume_attributes_class_name.into_api(),
            volume_mode: p.volume_mode.into_api(),
            vsphere_volume: s.vsphere_volume.into_api(),
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
                    inline_volume_spec: source.inline_volume_spec.into_api(),
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
