//! A LIST answered in Kubernetes' protobuf encoding, for the kinds a large
//! cluster has most of: pods, events, claims, volumes, attachments, nodes
//! and the workloads. Building the JSON of 10,000 pods cost the API server
//! twice the CPU of their protobuf (BENCHMARKS.md), on the machine the
//! on-call engineer is waiting on. The answer is read as it arrives, an
//! item at a time, like the JSON in [`super::page`].

mod into_api;

use crate::api::{Event, Pod};
use crate::source::dump::{Keep, LAST_APPLIED};
use into_api::IntoApi;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use prost::Message;
use std::io::{BufReader, Read};

/// What a LIST of a kind read in protobuf asks for: protobuf, or JSON from
/// a server (or proxy) that cannot give it.
pub(super) const ACCEPT: &str = "application/vnd.kubernetes.protobuf, application/json";

/// The content type of a protobuf answer.
pub(super) const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// The four bytes every protobuf answer of the API server starts with.
const MAGIC: &[u8; 4] = b"k8s\0";

/// How one item of a protobuf LIST becomes the tool's type.
type Decode<K> = fn(&[u8]) -> Result<K, prost::DecodeError>;

/// How a kind is read: in protobuf or as JSON.
pub(super) trait Wire: Sized {
    /// One item of a protobuf LIST as this type; `None` for the kinds read
    /// as JSON (small lists, and the custom resources, which have no
    /// protobuf encoding).
    const PROTOBUF: Option<Decode<Self>> = None;
}

fn decode<P: Message + Default + IntoApi<T>, T>(bytes: &[u8]) -> Result<T, prost::DecodeError> {
    Ok(P::decode(bytes)?.into_api())
}

/// The kinds read in protobuf, with their k8s-pb type.
macro_rules! protobuf {
    ($($kind:ty => $pb:ty),* $(,)?) => {$(
        impl Wire for $kind {
            const PROTOBUF: Option<Decode<Self>> = Some(decode::<$pb, $kind>);
        }
    )*};
}

protobuf!(
    Pod => k8s_pb::api::core::v1::Pod,
    Event => k8s_pb::api::core::v1::Event,
    crate::api::PersistentVolume => k8s_pb::api::core::v1::PersistentVolume,
    k8s_openapi::api::core::v1::PersistentVolumeClaim => k8s_pb::api::core::v1::PersistentVolumeClaim,
    k8s_openapi::api::core::v1::Node => k8s_pb::api::core::v1::Node,
    crate::api::VolumeAttachment => k8s_pb::api::storage::v1::VolumeAttachment,
    crate::api::Deployment => k8s_pb::api::apps::v1::Deployment,
    crate::api::ReplicaSet => k8s_pb::api::apps::v1::ReplicaSet,
    crate::api::StatefulSet => k8s_pb::api::apps::v1::StatefulSet,
    crate::api::DaemonSet => k8s_pb::api::apps::v1::DaemonSet,
);

macro_rules! json {
    ($($kind:ty),* $(,)?) => {$(impl Wire for $kind {})*};
}

json!(
    crate::api::Job,
    crate::api::CronJob,
    crate::volume_snapshot::VolumeSnapshot,
    crate::volume_snapshot::VolumeSnapshotContent,
    crate::volume_snapshot::VolumeSnapshotClass,
    crate::volume_populator::VolumePopulator,
    k8s_openapi::api::core::v1::ResourceQuota,
    k8s_openapi::api::core::v1::LimitRange,
    k8s_openapi::api::storage::v1::StorageClass,
    k8s_openapi::api::storage::v1::CSIDriver,
    k8s_openapi::api::storage::v1::CSINode,
    k8s_openapi::api::storage::v1::CSIStorageCapacity,
    k8s_openapi::api::coordination::v1::Lease,
);

/// A protobuf answer that cannot be read.
fn invalid(why: impl std::fmt::Display) -> serde_json::Error {
    serde::de::Error::custom(format!("not a Kubernetes protobuf list: {why}"))
}

/// The items of one protobuf page read from `reader`, each stripped as
/// [`super::page`] strips JSON items, and its continue token.
pub(super) fn read_page<K: Wire + kube::Resource, R: Read>(
    reader: R,
    keep: Keep,
) -> serde_json::Result<(Vec<K>, Option<String>)> {
    let decode_item = K::PROTOBUF.ok_or_else(|| invalid("this kind is read as JSON"))?;
    let mut wire = Fields::new(BufReader::with_capacity(1 << 16, reader));
    let mut magic = [0u8; 4];
    wire.read
        .read_exact(&mut magic)
        .map_err(serde_json::Error::io)?;
    if &magic != MAGIC {
        return Err(invalid("it does not start with the protobuf prefix"));
    }
    let mut items = Vec::new();
    let mut continue_token = None;
    let mut raw_seen = false;
    // The envelope (runtime.Unknown): 2 is the list's own bytes, 3 its
    // content encoding, which the API server leaves empty.
    while let Some((field, wire_type)) = wire.tag(None)? {
        match (field, wire_type) {
            (2, LEN) => {
                raw_seen = true;
                let end = wire.read_len()? + wire.at;
                // The list: 1 is its ListMeta, 2 each item.
                while let Some((field, wire_type)) = wire.tag(Some(end))? {
                    match (field, wire_type) {
                        (1, LEN) => {
                            let meta = k8s_pb::apimachinery::pkg::apis::meta::v1::ListMeta::decode(
                                wire.read_bytes()?,
                            )
                            .map_err(invalid)?;
                            continue_token = meta.r#continue.filter(|t| !t.is_empty());
                        }
                        (2, LEN) => {
                            let mut item = decode_item(wire.read_bytes()?).map_err(invalid)?;
                            strip(item.meta_mut(), keep);
                            items.push(item);
                        }
                        (_, wire_type) => wire.skip(wire_type)?,
                    }
                }
                if wire.at != end {
                    return Err(invalid("an item runs past the end of the list"));
                }
            }
            (3, LEN) => {
                if !wire.read_bytes()?.is_empty() {
                    return Err(invalid("its content is encoded"));
                }
            }
            (_, wire_type) => wire.skip(wire_type)?,
        }
    }
    if !raw_seen {
        return Err(invalid("it holds no list"));
    }
    items.shrink_to_fit();
    Ok((items, continue_token))
}

/// What a diagnosis never reads: the last-applied annotation, a copy of
/// the object (managedFields are never converted).
pub(super) fn strip(meta: &mut ObjectMeta, keep: Keep) {
    if keep == Keep::Diagnosis {
        if let Some(annotations) = &mut meta.annotations {
            annotations.remove(LAST_APPLIED);
        }
    }
}

/// Protobuf's length-delimited wire type.
const LEN: u8 = 2;

/// The fields of a protobuf message read from a stream, with the offset
/// read so far.
struct Fields<R> {
    read: R,
    at: usize,
    buf: Vec<u8>,
}

impl<R: Read> Fields<R> {
    fn new(read: R) -> Self {
        Fields {
            read,
            at: 4,
            buf: Vec::new(),
        }
    }

    fn byte(&mut self) -> serde_json::Result<Option<u8>> {
        let mut b = [0u8; 1];
        loop {
            return match self.read.read(&mut b) {
                Ok(0) => Ok(None),
                Ok(_) => {
                    self.at += 1;
                    Ok(Some(b[0]))
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(serde_json::Error::io(e)),
            };
        }
    }

    fn varint(&mut self) -> serde_json::Result<Option<u64>> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            match self.byte()? {
                None if shift == 0 => return Ok(None),
                None => return Err(invalid("it ends inside a number")),
                Some(b) => {
                    value |= u64::from(b & 0x7f) << shift;
                    if b & 0x80 == 0 {
                        return Ok(Some(value));
                    }
                }
            }
        }
        Err(invalid("a number is too long"))
    }

    /// The next field's number and wire type; `None` at the end of the
    /// stream, or at `end` within it.
    fn tag(&mut self, end: Option<usize>) -> serde_json::Result<Option<(u64, u8)>> {
        if end.is_some_and(|end| self.at >= end) {
            return Ok(None);
        }
        match self.varint()? {
            None if end.is_none() => Ok(None),
            None => Err(invalid("it ends early")),
            // The wire type is the low three bits.
            Some(tag) => Ok(Some((tag >> 3, (tag & 7) as u8))),
        }
    }

    fn read_len(&mut self) -> serde_json::Result<usize> {
        let len = self.varint()?.ok_or_else(|| invalid("it ends early"))?;
        usize::try_from(len).map_err(|_| invalid("a length is too large"))
    }

    /// The bytes of a length-delimited field, valid until the next read.
    fn read_bytes(&mut self) -> serde_json::Result<&[u8]> {
        let len = self.read_len()?;
        self.buf.clear();
        let got = (&mut self.read)
            .take(len as u64)
            .read_to_end(&mut self.buf)
            .map_err(serde_json::Error::io)?;
        if got != len {
            return Err(invalid("it ends early"));
        }
        self.at += len;
        Ok(&self.buf)
    }

    fn skip(&mut self, wire_type: u8) -> serde_json::Result<()> {
        let len = match wire_type {
            0 => {
                self.varint()?.ok_or_else(|| invalid("it ends early"))?;
                return Ok(());
            }
            1 => 8,
            LEN => self.read_len()?,
            5 => 4,
            _ => return Err(invalid(format!("unknown wire type {wire_type}"))),
        };
        let skipped = std::io::copy(&mut (&mut self.read).take(len as u64), &mut std::io::sink())
            .map_err(serde_json::Error::io)?;
        if skipped != len as u64 {
            return Err(invalid("it ends early"));
        }
        self.at += len;
        Ok(())
    }
}

/// The Status of an error answered in protobuf.
pub(super) fn status(bytes: &[u8]) -> Option<kube::core::Status> {
    let envelope =
        k8s_pb::apimachinery::pkg::runtime::Unknown::decode(bytes.strip_prefix(MAGIC)?).ok()?;
    let status =
        k8s_pb::apimachinery::pkg::apis::meta::v1::Status::decode(envelope.raw?.as_slice()).ok()?;
    let code = u16::try_from(status.code?).ok()?;
    Some(
        kube::core::Status::failure(
            &status.message.unwrap_or_default(),
            &status.reason.unwrap_or_default(),
        )
        .with_code(code),
    )
}

#[cfg(test)]
mod tests {
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
            "automountServiceAccountToken": false
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
}
