use super::*;
use k8s_openapi::api::storage::v1 as storage;
use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Records the JSON field names a type's `Deserialize` asks for, without
/// decoding anything.
struct FieldNames<'a>(&'a mut BTreeSet<&'static str>);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.extend(fields);
        Err(de::Error::custom("names recorded"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        enum identifier ignored_any
    }
}

fn field_names<'de, T: Deserialize<'de>>() -> BTreeSet<&'static str> {
    let mut names = BTreeSet::new();
    let _ = T::deserialize(FieldNames(&mut names));
    names
}

#[test]
fn every_type_reads_the_fields_of_its_kubernetes_type() {
    macro_rules! same_fields {
        ($($ours:ty => $theirs:ty),* $(,)?) => {$(
            let mut theirs = field_names::<$theirs>();
            // Top-level kinds: the source checks these before decoding.
            theirs.remove("apiVersion");
            theirs.remove("kind");
            assert!(!theirs.is_empty(), "{} has fields", stringify!($theirs));
            assert_eq!(field_names::<$ours>(), theirs, "{}", stringify!($ours));
        )*};
    }
    same_fields!(
        Pod => core::Pod,
        PodStatus => core::PodStatus,
        Event => core::Event,
        ContainerStatus => core::ContainerStatus,
        ContainerState => core::ContainerState,
        PodSpec => core::PodSpec,
        PodTemplateSpec => core::PodTemplateSpec,
        Container => core::Container,
        Volume => core::Volume,
        ProjectedVolumeSource => core::ProjectedVolumeSource,
        VolumeProjection => core::VolumeProjection,
        PersistentVolume => core::PersistentVolume,
        PersistentVolumeSpec => core::PersistentVolumeSpec,
        VolumeAttachment => storage::VolumeAttachment,
        VolumeAttachmentSpec => storage::VolumeAttachmentSpec,
        VolumeAttachmentSource => storage::VolumeAttachmentSource,
        Deployment => apps::Deployment,
        DeploymentSpec => apps::DeploymentSpec,
        ReplicaSet => apps::ReplicaSet,
        ReplicaSetSpec => apps::ReplicaSetSpec,
        StatefulSet => apps::StatefulSet,
        StatefulSetSpec => apps::StatefulSetSpec,
        DaemonSet => apps::DaemonSet,
        DaemonSetSpec => apps::DaemonSetSpec,
        Job => batch::Job,
        JobSpec => batch::JobSpec,
        JobTemplateSpec => batch::JobTemplateSpec,
        CronJob => batch::CronJob,
        CronJobSpec => batch::CronJobSpec,
    );
}

/// The object decoded and written by our type and by k8s-openapi's:
/// the same JSON, but for the apiVersion and kind k8s-openapi writes.
fn round_trip<Ours, Theirs>(object: &Value)
where
    Ours: DeserializeOwned + Serialize,
    Theirs: DeserializeOwned + Serialize,
{
    let ours = serde_json::to_value(serde_json::from_value::<Ours>(object.clone()).unwrap());
    let mut theirs =
        serde_json::to_value(serde_json::from_value::<Theirs>(object.clone()).unwrap()).unwrap();
    if let Value::Object(map) = &mut theirs {
        map.remove("apiVersion");
        map.remove("kind");
    }
    assert_eq!(ours.unwrap(), theirs, "{object}");
}

#[test]
fn a_generated_cluster_reads_and_writes_as_with_k8s_openapi() {
    let mut cfg = storage_doctor_synth::Config::new(storage_doctor_synth::Size {
        pods: 60,
        claims: 30,
        volumes: 30,
        nodes: 3,
        events: 0,
    });
    cfg.pretty = false;
    let (text, _) = storage_doctor_synth::to_string(&cfg);
    let list: Value = serde_json::from_str(&text).unwrap();
    let mut kinds = BTreeSet::new();
    for item in list["items"].as_array().unwrap() {
        let kind = item["kind"].as_str().unwrap();
        match kind {
            "Pod" => round_trip::<Pod, core::Pod>(item),
            "PersistentVolume" => round_trip::<PersistentVolume, core::PersistentVolume>(item),
            "VolumeAttachment" => round_trip::<VolumeAttachment, storage::VolumeAttachment>(item),
            "Deployment" => round_trip::<Deployment, apps::Deployment>(item),
            "ReplicaSet" => round_trip::<ReplicaSet, apps::ReplicaSet>(item),
            "StatefulSet" => round_trip::<StatefulSet, apps::StatefulSet>(item),
            "DaemonSet" => round_trip::<DaemonSet, apps::DaemonSet>(item),
            "Job" => round_trip::<Job, batch::Job>(item),
            "CronJob" => round_trip::<CronJob, batch::CronJob>(item),
            _ => continue,
        }
        kinds.insert(kind.to_string());
    }
    assert!(kinds.len() >= 5, "kinds checked: {kinds:?}");
}

#[test]
fn every_volume_source_and_renamed_field_round_trips() {
    let volumes = json!([
        {"name": "a", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "x"}}},
        {"name": "b", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "c", "iscsi": {"targetPortal": "t", "iqn": "i", "lun": 0}},
        {"name": "d", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
        ], "defaultMode": 420}},
        {"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}},
        {"name": "f", "vsphereVolume": {"volumePath": "[ds] v.vmdk"}},
    ]);
    let pod = json!({
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {
            "hostIPC": true, "hostPID": false, "setHostnameAsFQDN": true,
            "containers": [{"name": "c", "securityContext": {"privileged": true},
                "livenessProbe": {"exec": {"command": ["true"]}},
                "volumeMounts": [{"name": "a", "mountPath": "/a"}]}],
            "affinity": {"nodeAffinity": {}},
            "volumes": volumes,
        },
        "status": {"phase": "Running"},
    });
    round_trip::<Pod, core::Pod>(&pod);
    let inline = json!({
        "metadata": {"name": "va"},
        "spec": {"attacher": "x.csi.io", "nodeName": "n1", "source": {"inlineVolumeSpec": {
            "csi": {"driver": "x.csi.io", "volumeHandle": "h"}, "accessModes": ["ReadWriteOnce"]}}},
    });
    round_trip::<VolumeAttachment, storage::VolumeAttachment>(&inline);
}

#[test]
fn a_required_field_given_as_null_reads_as_its_default() {
    round_trip::<PodSpec, core::PodSpec>(&json!({"containers": null, "volumes": null}));
    round_trip::<Volume, core::Volume>(&json!({"name": null}));
    round_trip::<Pod, core::Pod>(
        &json!({"metadata": null, "spec": {"containers": [{"name": null}]}}),
    );
}

#[test]
fn the_lists_a_pod_holds_have_no_spare_room() {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "c"}],
            "volumes": [{"name": "t", "projected": {"sources": [
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                {"secret": {"name": "s", "items": [{"key": "k", "path": "k"}]}},
            ]}}],
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": true, "restartCount": 0}],
            "podIPs": [{"ip": "10.0.0.1"}],
        },
    }))
    .unwrap();
    let status = pod.status.unwrap();
    assert_eq!(status.conditions.unwrap().capacity(), 1);
    assert_eq!(status.container_statuses.unwrap().capacity(), 1);
    assert_eq!(status.pod_ips.unwrap().capacity(), 1);
    let volumes = pod.spec.unwrap().volumes.unwrap();
    let sources = volumes[0]
        .projected
        .as_ref()
        .unwrap()
        .sources
        .as_ref()
        .unwrap();
    let items = |p: &VolumeProjection| {
        let lists = [
            p.config_map
                .as_ref()
                .and_then(|c| c.items.as_ref().map(Vec::capacity)),
            p.downward_api
                .as_ref()
                .and_then(|d| d.items.as_ref().map(Vec::capacity)),
            p.secret
                .as_ref()
                .and_then(|s| s.items.as_ref().map(Vec::capacity)),
        ];
        lists.into_iter().flatten().collect::<Vec<_>>()
    };
    assert_eq!(
        sources.iter().flat_map(items).collect::<Vec<_>>(),
        [1, 1, 1]
    );
}
