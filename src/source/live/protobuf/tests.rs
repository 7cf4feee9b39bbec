//! Protobuf answers against the JSON the API server writes for them.

use super::*;
use k8s_pb::api::core::v1 as pb;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

/// An answer as the API server writes it: the prefix, then the list
/// in a `runtime.Unknown`.
fn answer(kind: &str, list: &impl Message) -> Vec<u8> {
    let envelope = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s("v1"),
            kind: s(kind),
        }),
        raw: Some(list.encode_to_vec()),
        content_encoding: s(""),
        content_type: s(""),
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend(envelope.encode_to_vec());
    bytes
}

fn time(seconds: i64) -> Option<meta::Time> {
    Some(meta::Time {
        seconds: Some(seconds),
        nanos: Some(0),
    })
}

/// A pod as the API server encodes it: every field that is not a
/// pointer in Go is there, zero or not, and a zero time is an empty
/// message.
fn pod() -> pb::Pod {
    pb::Pod {
        metadata: Some(meta::ObjectMeta {
            name: s("a"),
            namespace: s("n"),
            generate_name: s(""),
            self_link: s(""),
            generation: Some(0),
            creation_timestamp: time(1_700_000_000),
            labels: [("app".to_string(), String::new())].into(),
            annotations: [
                (LAST_APPLIED.to_string(), "{}".to_string()),
                ("keep".to_string(), "me".to_string()),
            ]
            .into(),
            managed_fields: vec![meta::ManagedFieldsEntry {
                manager: s("kubectl"),
                ..Default::default()
            }],
            ..Default::default()
        }),
        spec: Some(pb::PodSpec {
            volumes: vec![
                pb::Volume {
                    name: s("data"),
                    volume_source: Some(pb::VolumeSource {
                        persistent_volume_claim: Some(pb::PersistentVolumeClaimVolumeSource {
                            claim_name: s("data"),
                            read_only: Some(false),
                        }),
                        ..Default::default()
                    }),
                },
                pb::Volume {
                    name: s("scratch"),
                    volume_source: Some(pb::VolumeSource {
                        ephemeral: Some(pb::EphemeralVolumeSource {
                            volume_claim_template: Some(pb::PersistentVolumeClaimTemplate {
                                metadata: Some(meta::ObjectMeta::default()),
                                spec: Some(pb::PersistentVolumeClaimSpec {
                                    access_modes: vec!["ReadWriteOnce".to_string()],
                                    storage_class_name: s(""),
                                    volume_name: s(""),
                                    ..Default::default()
                                }),
                            }),
                        }),
                        ..Default::default()
                    }),
                },
                pb::Volume {
                    name: s("cfg"),
                    volume_source: Some(pb::VolumeSource {
                        config_map: Some(pb::ConfigMapVolumeSource {
                            local_object_reference: Some(pb::LocalObjectReference {
                                name: s("app-config"),
                            }),
                            default_mode: Some(420),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                },
            ],
            containers: vec![pb::Container {
                name: s("c"),
                image: s("busybox"),
                working_dir: s(""),
                volume_mounts: vec![pb::VolumeMount {
                    name: s("data"),
                    mount_path: s("/data"),
                    read_only: Some(false),
                    sub_path: s(""),
                    ..Default::default()
                }],
                liveness_probe: Some(pb::Probe {
                    handler: Some(pb::ProbeHandler {
                        http_get: Some(pb::HttpGetAction {
                            port: Some(IntOrString {
                                r#type: Some(1),
                                int_val: Some(0),
                                str_val: s("http"),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    period_seconds: Some(10),
                    ..Default::default()
                }),
                ports: vec![pb::ContainerPort {
                    container_port: Some(80),
                    host_port: Some(0),
                    protocol: s("TCP"),
                    ..Default::default()
                }],
                resources: Some(pb::ResourceRequirements {
                    requests: [("storage".to_string(), Quantity { string: s("1Gi") })].into(),
                    ..Default::default()
                }),
                stdin: Some(false),
                tty: Some(false),
                ..Default::default()
            }],
            host_network: Some(false),
            automount_service_account_token: Some(false),
            ephemeral_containers: vec![pb::EphemeralContainer {
                ephemeral_container_common: Some(pb::EphemeralContainerCommon {
                    name: s("debug"),
                    image: s("busybox"),
                    security_context: Some(pb::SecurityContext {
                        privileged: Some(true),
                        ..Default::default()
                    }),
                    tty: Some(false),
                    ..Default::default()
                }),
                target_container_name: s("c"),
            }],
            node_name: s(""),
            ..Default::default()
        }),
        status: Some(pb::PodStatus {
            phase: s("Pending"),
            nominated_node_name: s(""),
            conditions: vec![pb::PodCondition {
                r#type: s("PodScheduled"),
                status: s("False"),
                reason: s("Unschedulable"),
                message: s(""),
                last_probe_time: Some(meta::Time::default()),
                last_transition_time: time(1_700_000_001),
                ..Default::default()
            }],
            container_statuses: vec![pb::ContainerStatus {
                name: s("c"),
                ready: Some(false),
                restart_count: Some(0),
                image: s("busybox"),
                image_id: s(""),
                state: Some(pb::ContainerState {
                    waiting: Some(pb::ContainerStateWaiting {
                        reason: s("ContainerCreating"),
                        message: s(""),
                    }),
                    ..Default::default()
                }),
                last_state: Some(pb::ContainerState::default()),
                ..Default::default()
            }],
            ..Default::default()
        }),
    }
}

/// The same pod as the API server writes it in JSON, stripped as a
/// diagnosis reads it.
const POD_JSON: &str = r#"{
    "metadata": {"name": "a", "namespace": "n", "labels": {"app": ""},
                 "annotations": {"keep": "me"},
                 "creationTimestamp": "2023-11-14T22:13:20Z"},
    "spec": {
        "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"metadata": {},
                "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": ""}}}},
            {"name": "cfg", "configMap": {"name": "app-config", "defaultMode": 420}}
        ],
        "containers": [{
            "name": "c", "image": "busybox",
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            "livenessProbe": {"httpGet": {"port": "http"}, "periodSeconds": 10},
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "resources": {"requests": {"storage": "1Gi"}}
        }],
        "automountServiceAccountToken": false,
        "ephemeralContainers": [{"name": "debug", "image": "busybox",
                                 "securityContext": {"privileged": true},
                                 "targetContainerName": "c"}]
    },
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "lastProbeTime": null, "lastTransitionTime": "2023-11-14T22:13:21Z"}],
        "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0,
                               "image": "busybox", "imageID": "",
                               "state": {"waiting": {"reason": "ContainerCreating"}},
                               "lastState": {}}]
    }
}"#;

#[test]
fn a_pod_read_in_protobuf_is_the_pod_read_as_json() {
    let list = pb::PodList {
        metadata: Some(meta::ListMeta {
            r#continue: s("next"),
            ..Default::default()
        }),
        items: vec![pod()],
    };
    let (pods, token): (Vec<Pod>, _) =
        read_page(answer("PodList", &list).as_slice(), Keep::Diagnosis).unwrap();
    let expected: Pod = serde_json::from_str(POD_JSON).unwrap();
    assert_eq!(pods, [expected]);
    assert_eq!(token.as_deref(), Some("next"));
}

#[test]
fn an_event_read_in_protobuf_is_the_event_read_as_json() {
    let event = pb::Event {
        metadata: Some(meta::ObjectMeta {
            name: s("a.1"),
            namespace: s("n"),
            ..Default::default()
        }),
        involved_object: Some(pb::ObjectReference {
            kind: s("Pod"),
            name: s("a"),
            namespace: s("n"),
            uid: s(""),
            field_path: s(""),
            ..Default::default()
        }),
        reason: s("FailedMount"),
        message: s("MountVolume.SetUp failed"),
        source: Some(pb::EventSource {
            component: s("kubelet"),
            host: s(""),
        }),
        first_timestamp: time(1_700_000_000),
        last_timestamp: time(1_700_000_060),
        count: Some(3),
        r#type: s("Warning"),
        event_time: Some(meta::MicroTime::default()),
        action: s(""),
        reporting_component: s(""),
        reporting_instance: s(""),
        ..Default::default()
    };
    let list = pb::EventList {
        metadata: Some(meta::ListMeta::default()),
        items: vec![event],
    };
    let (events, token): (Vec<Event>, _) =
        read_page(answer("EventList", &list).as_slice(), Keep::Diagnosis).unwrap();
    let expected: Event = serde_json::from_str(
        r#"{"metadata": {"name": "a.1", "namespace": "n"},
            "involvedObject": {"kind": "Pod", "name": "a", "namespace": "n"},
            "reason": "FailedMount", "message": "MountVolume.SetUp failed",
            "source": {"component": "kubelet"},
            "firstTimestamp": "2023-11-14T22:13:20Z", "lastTimestamp": "2023-11-14T22:14:20Z",
            "count": 3, "type": "Warning", "eventTime": null,
            "reportingComponent": "", "reportingInstance": ""}"#,
    )
    .unwrap();
    assert_eq!(events, [expected]);
    assert_eq!(token, None);
}

#[test]
fn a_claim_and_its_volume_read_in_protobuf_are_the_ones_read_as_json() {
    let claim = pb::PersistentVolumeClaim {
        metadata: Some(meta::ObjectMeta {
            name: s("data"),
            namespace: s("n"),
            ..Default::default()
        }),
        spec: Some(pb::PersistentVolumeClaimSpec {
            access_modes: vec!["ReadWriteOnce".to_string()],
            storage_class_name: s(""),
            volume_name: s("pv-1"),
            ..Default::default()
        }),
        status: Some(pb::PersistentVolumeClaimStatus {
            phase: s("Bound"),
            ..Default::default()
        }),
    };
    let list = pb::PersistentVolumeClaimList {
        metadata: Some(meta::ListMeta::default()),
        items: vec![claim],
    };
    let (claims, _): (Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim>, _) = read_page(
        answer("PersistentVolumeClaimList", &list).as_slice(),
        Keep::Diagnosis,
    )
    .unwrap();
    let expected = serde_json::from_str(
        r#"{"metadata": {"name": "data", "namespace": "n"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": "pv-1"},
            "status": {"phase": "Bound"}}"#,
    )
    .unwrap();
    assert_eq!(claims, [expected]);

    let volume = pb::PersistentVolume {
        metadata: Some(meta::ObjectMeta {
            name: s("pv-1"),
            ..Default::default()
        }),
        spec: Some(pb::PersistentVolumeSpec {
            persistent_volume_source: Some(pb::PersistentVolumeSource {
                csi: Some(pb::CSIPersistentVolumeSource {
                    driver: s("ebs.csi.aws.com"),
                    volume_handle: s("vol-1"),
                    read_only: Some(false),
                    fs_type: s(""),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            storage_class_name: s(""),
            claim_ref: Some(pb::ObjectReference {
                kind: s("PersistentVolumeClaim"),
                namespace: s("n"),
                name: s("data"),
                uid: s(""),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: Some(pb::PersistentVolumeStatus {
            phase: s("Bound"),
            message: s(""),
            ..Default::default()
        }),
    };
    let list = pb::PersistentVolumeList {
        metadata: Some(meta::ListMeta::default()),
        items: vec![volume],
    };
    let (volumes, _): (Vec<crate::api::PersistentVolume>, _) = read_page(
        answer("PersistentVolumeList", &list).as_slice(),
        Keep::Diagnosis,
    )
    .unwrap();
    let expected = serde_json::from_str(
        r#"{"metadata": {"name": "pv-1"},
            "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
                     "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "n", "name": "data"}},
            "status": {"phase": "Bound"}}"#,
    )
    .unwrap();
    assert_eq!(volumes, [expected]);
}

/// Hands out its bytes a few at a time, as a connection may.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = 3.min(buf.len()).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn an_answer_read_in_pieces_is_read_whole_and_a_cut_or_foreign_one_is_an_error() {
    let list = pb::PodList {
        metadata: Some(meta::ListMeta::default()),
        items: vec![pod(), pod()],
    };
    let bytes = answer("PodList", &list);
    let (pods, _): (Vec<Pod>, _) = read_page(Trickle(&bytes), Keep::Diagnosis).unwrap();
    assert_eq!(pods.len(), 2);
    for cut in [0, 3, 4, 5, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            read_page::<Pod, _>(&bytes[..cut], Keep::Diagnosis).is_err(),
            "an answer cut at {cut} of {} was read",
            bytes.len()
        );
    }
    let json = br#"{"kind":"PodList","items":[]}"#;
    assert!(read_page::<Pod, _>(&json[..], Keep::Diagnosis).is_err());
    let mut encoded = bytes.clone();
    // The content encoding, 3, set.
    let envelope = Unknown {
        raw: Some(list.encode_to_vec()),
        content_encoding: s("gzip"),
        ..Default::default()
    };
    encoded.truncate(4);
    encoded.extend(envelope.encode_to_vec());
    let error = read_page::<Pod, _>(encoded.as_slice(), Keep::Diagnosis).unwrap_err();
    assert!(error.to_string().contains("encoded"), "{error}");
}

#[test]
fn an_error_answered_in_protobuf_is_its_status() {
    let status = meta::Status {
        status: s("Failure"),
        message: s(r#"pods is forbidden: User "viewer" cannot list resource "pods""#),
        reason: s("Forbidden"),
        code: Some(403),
        ..Default::default()
    };
    let read = super::status(&answer("Status", &status)).unwrap();
    assert_eq!(read.code, 403);
    assert_eq!(read.reason, "Forbidden");
    assert!(read.message.contains("cannot list"));
    assert!(super::status(b"Forbidden").is_none());
}
