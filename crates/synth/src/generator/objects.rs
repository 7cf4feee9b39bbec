//! Object builders: one Pod, claim, volume, attachment or event from its
//! description.

use super::{Gen, ZONES};
use crate::rng::{hash, splitmix, Rng};
use crate::writer::{Kind, Out};
use serde_json::{json, Value};
use std::io::{self, Write};

/// How a generated pod stands.
pub(super) enum PodState<'a> {
    Running,
    ContainerCreating,
    Unschedulable(&'a str),
}

pub(super) struct PodDesc<'a> {
    pub(super) ns: &'a str,
    pub(super) name: &'a str,
    pub(super) uid: &'a str,
    /// (kind, name, uid) of the controller.
    pub(super) owner: (&'a str, &'a str, &'a str),
    pub(super) labels: Value,
    pub(super) node: Option<usize>,
    /// (pod volume name, claim name).
    pub(super) claims: &'a [(&'a str, &'a str)],
    pub(super) image: &'a str,
    pub(super) created: i64,
    pub(super) state: PodState<'a>,
}

pub(super) struct ClaimDesc<'a> {
    pub(super) ns: &'a str,
    pub(super) name: &'a str,
    pub(super) uid: &'a str,
    pub(super) class: &'a str,
    pub(super) modes: &'a [&'a str],
    pub(super) size: &'a str,
    pub(super) created: i64,
    /// Bound: (volume, node selected for WaitForFirstConsumer).
    pub(super) bound: Option<(&'a str, Option<usize>)>,
    pub(super) provisioner: Option<&'a str>,
    pub(super) labels: Value,
}

pub(super) struct VolumeDesc<'a> {
    pub(super) name: &'a str,
    pub(super) class: &'a str,
    pub(super) driver: &'a str,
    pub(super) modes: &'a [&'a str],
    pub(super) size: &'a str,
    /// (namespace, claim, claim uid).
    pub(super) claim: Option<(&'a str, &'a str, &'a str)>,
    pub(super) zone: Option<usize>,
    pub(super) reclaim: &'a str,
    pub(super) phase: &'a str,
    pub(super) created: i64,
}

pub(super) struct EventDesc<'a> {
    pub(super) ns: &'a str,
    /// (apiVersion, kind, name, uid) of the object it is about.
    pub(super) about: (&'a str, &'a str, &'a str, &'a str),
    pub(super) reason: &'a str,
    pub(super) message: &'a str,
    pub(super) warning: bool,
    pub(super) component: &'a str,
    pub(super) host: Option<&'a str>,
    pub(super) count: u32,
    pub(super) first: i64,
    pub(super) last: i64,
    /// Distinguishes events about the same object.
    pub(super) n: u64,
}

impl Gen<'_> {
    pub(super) fn pod(&self, p: &PodDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(p.uid));
        let token = format!("kube-api-access-{}", rng.kname(5));
        let mut volumes: Vec<Value> = p
            .claims
            .iter()
            .map(|(v, c)| json!({"name": v, "persistentVolumeClaim": {"claimName": c}}))
            .collect();
        volumes.push(json!({
            "name": token,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
                ]
            }
        }));
        let mut mounts: Vec<Value> = p
            .claims
            .iter()
            .map(|(v, _)| json!({"mountPath": format!("/var/lib/{v}"), "name": v}))
            .collect();
        mounts.push(json!({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": true}));
        let container = p.owner.1.split('-').next().unwrap_or("app");
        let mut spec = json!({
            "containers": [{
                "image": p.image,
                "imagePullPolicy": "IfNotPresent",
                "name": container,
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": mounts
            }],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "serviceAccount": "default",
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ],
            "volumes": volumes
        });
        let started = p.created - 1;
        let ready_at = p.created - 20;
        let cond = |t: &str, ok: bool, at: i64| json!({"lastProbeTime": null, "lastTransitionTime": self.ts(at), "status": if ok {"True"} else {"False"}, "type": t});
        let host_ip = |n: usize| format!("10.0.{}.{}", (n % 3) * 64 + n / 750, n % 250 + 4);
        let status = match (&p.state, p.node) {
            (PodState::Running, Some(n)) => {
                let pod_ip = format!("10.0.{}.{}", rng.below(192), rng.below(250) + 4);
                json!({
                    "conditions": [
                        cond("PodReadyToStartContainers", true, ready_at),
                        cond("Initialized", true, started),
                        cond("Ready", true, ready_at),
                        cond("ContainersReady", true, ready_at),
                        cond("PodScheduled", true, started)
                    ],
                    "containerStatuses": [{
                        "containerID": format!("containerd://{}", rng.hex(64)),
                        "image": p.image,
                        "imageID": format!("{}@sha256:{}", p.image.split(':').next().unwrap_or(""), rng.hex(64)),
                        "lastState": {},
                        "name": container,
                        "ready": true,
                        "restartCount": 0,
                        "started": true,
                        "state": {"running": {"startedAt": self.ts(ready_at)}}
                    }],
                    "hostIP": host_ip(n),
                    "hostIPs": [{"ip": host_ip(n)}],
                    "phase": "Running",
                    "podIP": pod_ip,
                    "podIPs": [{"ip": pod_ip}],
                    "qosClass": "Burstable",
                    "startTime": self.ts(started)
                })
            }
            (PodState::ContainerCreating, Some(n)) => {
                let mut not_ready = cond("Ready", false, started);
                not_ready["message"] =
                    json!(format!("containers with unready status: [{container}]"));
                not_ready["reason"] = json!("ContainersNotReady");
                let mut containers_not_ready = not_ready.clone();
                containers_not_ready["type"] = json!("ContainersReady");
                json!({
                    "conditions": [
                        cond("PodReadyToStartContainers", false, started),
                        cond("Initialized", true, started),
                        not_ready,
                        containers_not_ready,
                        cond("PodScheduled", true, started)
                    ],
                    "containerStatuses": [{
                        "image": p.image,
                        "imageID": "",
                        "lastState": {},
                        "name": container,
                        "ready": false,
                        "restartCount": 0,
                        "started": false,
                        "state": {"waiting": {"reason": "ContainerCreating"}}
                    }],
                    "hostIP": host_ip(n),
                    "hostIPs": [{"ip": host_ip(n)}],
                    "phase": "Pending",
                    "qosClass": "Burstable",
                    "startTime": self.ts(started)
                })
            }
            (PodState::Unschedulable(message), _) => {
                let mut c = cond("PodScheduled", false, started);
                c["message"] = json!(message);
                c["reason"] = json!("Unschedulable");
                json!({"conditions": [c], "phase": "Pending", "qosClass": "Burstable"})
            }
            (_, None) => json!({"phase": "Pending", "qosClass": "Burstable"}),
        };
        if let (Some(n), false) = (p.node, matches!(p.state, PodState::Unschedulable(_))) {
            spec["nodeName"] = json!(self.node_name(n));
        }
        let mut meta = json!({
            "creationTimestamp": self.ts(p.created),
            "labels": p.labels,
            "name": p.name,
            "namespace": p.ns,
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": p.owner.0,
                "name": p.owner.1,
                "uid": p.owner.2
            }],
            "resourceVersion": self.resource_version(hash(p.uid)),
            "uid": p.uid
        });
        if p.owner.0 == "ReplicaSet" {
            meta["generateName"] = json!(format!("{}-", p.owner.1));
        }
        self.with_managed_fields(&mut meta, &self.pod_mf, p.created);
        out.item(
            Kind::Pod,
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}),
        )
    }

    pub(super) fn claim(&self, c: &ClaimDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut annotations = serde_json::Map::new();
        if let Some(p) = c.provisioner {
            annotations.insert(
                "volume.beta.kubernetes.io/storage-provisioner".into(),
                json!(p),
            );
            annotations.insert("volume.kubernetes.io/storage-provisioner".into(), json!(p));
        }
        let mut spec = json!({
            "accessModes": c.modes,
            "resources": {"requests": {"storage": c.size}},
            "storageClassName": c.class,
            "volumeMode": "Filesystem"
        });
        let status = match c.bound {
            Some((volume, node)) => {
                annotations.insert("pv.kubernetes.io/bind-completed".into(), json!("yes"));
                annotations.insert("pv.kubernetes.io/bound-by-controller".into(), json!("yes"));
                if let Some(n) = node {
                    annotations.insert(
                        "volume.kubernetes.io/selected-node".into(),
                        json!(self.node_name(n)),
                    );
                }
                spec["volumeName"] = json!(volume);
                json!({"accessModes": c.modes, "capacity": {"storage": c.size}, "phase": "Bound"})
            }
            None => json!({"phase": "Pending"}),
        };
        let mut meta = json!({
            "annotations": annotations,
            "creationTimestamp": self.ts(c.created),
            "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": c.labels,
            "name": c.name,
            "namespace": c.ns,
            "resourceVersion": self.resource_version(hash(c.uid)),
            "uid": c.uid
        });
        self.with_managed_fields(&mut meta, &self.claim_mf, c.created);
        out.item(
            Kind::Claim,
            &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec, "status": status}),
        )
    }

    pub(super) fn claim_value(&self, c: &ClaimDesc) -> Value {
        let mut bytes = Vec::new();
        let mut out = Out::new(&mut bytes, false);
        self.claim(c, &mut out).expect("in memory");
        serde_json::from_slice(&bytes).expect("valid JSON")
    }

    pub(super) fn volume(&self, v: &VolumeDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(v.name));
        let csi = match v.driver {
            "efs.csi.aws.com" => json!({
                "driver": v.driver,
                "volumeHandle": format!("fs-0{}::fsap-0{}", rng.hex(16), rng.hex(16))
            }),
            _ => json!({
                "driver": v.driver,
                "fsType": "ext4",
                "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": format!("1762214771093-9245-{}", v.driver)},
                "volumeHandle": format!("vol-0{}", rng.hex(16))
            }),
        };
        let mut spec = json!({
            "accessModes": v.modes,
            "capacity": {"storage": v.size},
            "csi": csi,
            "persistentVolumeReclaimPolicy": v.reclaim,
            "storageClassName": v.class,
            "volumeMode": "Filesystem"
        });
        if let Some((ns, name, uid)) = v.claim {
            spec["claimRef"] = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": name,
                "namespace": ns,
                "resourceVersion": self.resource_version(hash(uid) ^ 1),
                "uid": uid
            });
        }
        if let Some(z) = v.zone {
            spec["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONES[z % 3]]}
            ]}]}});
        }
        let uid = rng.uuid();
        let mut meta = json!({
            "annotations": {
                "pv.kubernetes.io/provisioned-by": v.driver,
                "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""
            },
            "creationTimestamp": self.ts(v.created),
            "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
            "name": v.name,
            "resourceVersion": self.resource_version(hash(v.name)),
            "uid": uid
        });
        self.with_managed_fields(&mut meta, &self.volume_mf, v.created);
        out.item(
            Kind::Volume,
            &json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": meta,
                "spec": spec,
                "status": {"lastPhaseTransitionTime": self.ts(v.created), "phase": v.phase}
            }),
        )
    }

    pub(super) fn attachment(
        &self,
        volume: &str,
        node: usize,
        created: i64,
        error: Option<(&str, i64)>,
        out: &mut Out<impl Write>,
    ) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(volume) ^ node as u64);
        let status = match error {
            None => json!({"attached": true, "attachmentMetadata": {"devicePath": "/dev/xvdaa"}}),
            Some((message, at)) => json!({
                "attachError": {"message": message, "time": self.ts(at)},
                "attached": false
            }),
        };
        out.item(
            Kind::Attachment,
            &json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "VolumeAttachment",
                "metadata": {
                    "annotations": {"csi.alpha.kubernetes.io/node-id": self.instance_id(node)},
                    "creationTimestamp": self.ts(created),
                    "finalizers": ["external-attacher/ebs-csi-aws-com"],
                    "name": format!("csi-{}", rng.hex(64)),
                    "resourceVersion": self.resource_version(rng.next()),
                    "uid": rng.uuid()
                },
                "spec": {
                    "attacher": "ebs.csi.aws.com",
                    "nodeName": self.node_name(node),
                    "source": {"persistentVolumeName": volume}
                },
                "status": status
            }),
        )
    }

    pub(super) fn event(&self, e: &EventDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let salt = hash(e.about.3) ^ splitmix(e.n);
        let mut rng = Rng::new(self.cfg.seed ^ salt);
        let name = format!("{}.{}", e.about.2, rng.hex(16));
        let mut source = json!({"component": e.component});
        if let Some(h) = e.host {
            source["host"] = json!(h);
        }
        let mut meta = json!({
            "creationTimestamp": self.ts(e.first),
            "name": name,
            "namespace": e.ns,
            "resourceVersion": self.resource_version(salt),
            "uid": rng.uuid()
        });
        self.with_managed_fields(&mut meta, &self.event_mf, e.first);
        let mut v = json!({
            "apiVersion": "v1",
            "involvedObject": {
                "apiVersion": e.about.0,
                "kind": e.about.1,
                "name": e.about.2,
                "namespace": e.ns,
                "resourceVersion": self.resource_version(hash(e.about.3)),
                "uid": e.about.3
            },
            "kind": "Event",
            "message": e.message,
            "metadata": meta,
            "reason": e.reason,
            "reportingComponent": e.component,
            "reportingInstance": e.host.unwrap_or(""),
            "source": source,
            "type": if e.warning { "Warning" } else { "Normal" }
        });
        if e.component == "default-scheduler" {
            // The scheduler posts events.k8s.io events: eventTime and series.
            v["action"] = json!(if e.reason == "Scheduled" {
                "Binding"
            } else {
                "Scheduling"
            });
            v["eventTime"] = json!(self.micro_ts(e.first, salt));
            v["firstTimestamp"] = Value::Null;
            v["lastTimestamp"] = Value::Null;
            v["reportingInstance"] = json!("default-scheduler-ip-172-16-51-208.ec2.internal");
            v["source"] = json!({});
            if e.count > 1 {
                v["series"] =
                    json!({"count": e.count, "lastObservedTime": self.micro_ts(e.last, salt ^ 1)});
            }
        } else {
            v["count"] = json!(e.count);
            v["eventTime"] = Value::Null;
            v["firstTimestamp"] = json!(self.ts(e.first));
            v["lastTimestamp"] = json!(self.ts(e.last));
        }
        out.item(Kind::Event, &v)
    }
}
