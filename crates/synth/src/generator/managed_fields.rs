//! `metadata.managedFields`, as the API server keeps them.

use super::{Gen, NOW};
use serde_json::{json, Value};

impl Gen<'_> {
    pub(super) fn managed_fields_templates(&mut self) {
        if !self.cfg.managed_fields {
            return;
        }
        let entry = |manager: &str, subresource: Option<&str>, fields: Value| {
            let mut e = json!({
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
                "manager": manager,
                "operation": "Update",
                "time": NOW,
            });
            if let Some(s) = subresource {
                e["subresource"] = json!(s);
            }
            e
        };
        let condition = |t: &str| {
            (
                format!("k:{{\"type\":\"{t}\"}}"),
                json!({".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}),
            )
        };
        let conditions: serde_json::Map<String, Value> = [
            "ContainersReady",
            "Initialized",
            "PodReadyToStartContainers",
            "PodScheduled",
            "Ready",
        ]
        .into_iter()
        .map(condition)
        .chain([(".".to_string(), json!({}))])
        .collect();
        let container = json!({
            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
            "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
            "f:resources": {".": {}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
            "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {},
            "f:volumeMounts": {".": {}, "k:{\"mountPath\":\"/var/lib/data\"}": {".": {}, "f:mountPath": {}, "f:name": {}}}
        });
        let spec = json!({
            "f:containers": {"k:{\"name\":\"app\"}": container},
            "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
            "f:securityContext": {}, "f:terminationGracePeriodSeconds": {},
            "f:volumes": {".": {}, "k:{\"name\":\"data\"}": {".": {}, "f:name": {}, "f:persistentVolumeClaim": {".": {}, "f:claimName": {}}}}
        });
        let meta = json!({
            "f:generateName": {},
            "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
            "f:ownerReferences": {".": {}, "k:{\"uid\":\"00000000-0000-0000-0000-000000000000\"}": {}}
        });
        let status = json!({
            "f:conditions": conditions,
            "f:containerStatuses": {}, "f:hostIP": {}, "f:hostIPs": {}, "f:phase": {},
            "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}},
            "f:startTime": {}
        });
        self.pod_mf = json!([
            entry(
                "kube-controller-manager",
                None,
                json!({"f:metadata": meta, "f:spec": spec})
            ),
            entry("kubelet", Some("status"), json!({"f:status": status})),
        ]);
        self.claim_mf = json!([
            entry(
                "kubectl-client-side-apply",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}, "f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:accessModes": {}, "f:resources": {"f:requests": {".": {}, "f:storage": {}}}, "f:storageClassName": {}, "f:volumeMode": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                None,
                json!({
                    "f:metadata": {"f:annotations": {"f:pv.kubernetes.io/bind-completed": {}, "f:pv.kubernetes.io/bound-by-controller": {}, "f:volume.beta.kubernetes.io/storage-provisioner": {}, "f:volume.kubernetes.io/storage-provisioner": {}}},
                    "f:spec": {"f:volumeName": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({
                    "f:status": {"f:accessModes": {}, "f:capacity": {".": {}, "f:storage": {}}, "f:phase": {}}
                })
            ),
        ]);
        self.volume_mf = json!([
            entry(
                "csi-provisioner",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:pv.kubernetes.io/provisioned-by": {}, "f:volume.kubernetes.io/provisioner-deletion-secret-name": {}, "f:volume.kubernetes.io/provisioner-deletion-secret-namespace": {}}},
                    "f:spec": {"f:accessModes": {}, "f:capacity": {".": {}, "f:storage": {}}, "f:claimRef": {".": {}, "f:apiVersion": {}, "f:kind": {}, "f:name": {}, "f:namespace": {}, "f:resourceVersion": {}, "f:uid": {}},
                        "f:csi": {".": {}, "f:driver": {}, "f:fsType": {}, "f:volumeAttributes": {".": {}, "f:storage.kubernetes.io/csiProvisionerIdentity": {}}, "f:volumeHandle": {}},
                        "f:nodeAffinity": {".": {}, "f:required": {}}, "f:persistentVolumeReclaimPolicy": {}, "f:storageClassName": {}, "f:volumeMode": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({"f:status": {"f:phase": {}}})
            ),
        ]);
        let node_condition = |t: &str| {
            (
                format!("k:{{\"type\":\"{t}\"}}"),
                json!({"f:lastHeartbeatTime": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:reason": {}, "f:status": {}}),
            )
        };
        let node_conditions: serde_json::Map<String, Value> =
            ["DiskPressure", "MemoryPressure", "PIDPressure", "Ready"]
                .into_iter()
                .map(node_condition)
                .collect();
        self.node_mf = json!([
            entry(
                "kubelet",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:alpha.kubernetes.io/provided-node-ip": {}, "f:node.alpha.kubernetes.io/ttl": {}, "f:volumes.kubernetes.io/controller-managed-attach-detach": {}},
                        "f:labels": {".": {}, "f:beta.kubernetes.io/arch": {}, "f:beta.kubernetes.io/instance-type": {}, "f:beta.kubernetes.io/os": {}, "f:failure-domain.beta.kubernetes.io/region": {}, "f:failure-domain.beta.kubernetes.io/zone": {}, "f:kubernetes.io/arch": {}, "f:kubernetes.io/hostname": {}, "f:kubernetes.io/os": {}, "f:node.kubernetes.io/instance-type": {}, "f:topology.kubernetes.io/region": {}, "f:topology.kubernetes.io/zone": {}}},
                    "f:spec": {"f:providerID": {}}
                })
            ),
            entry(
                "aws-ebs-csi-driver",
                None,
                json!({
                    "f:metadata": {"f:annotations": {"f:csi.volume.kubernetes.io/nodeid": {}}, "f:labels": {"f:topology.ebs.csi.aws.com/zone": {}}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({
                    "f:status": {"f:volumesAttached": {}}
                })
            ),
            entry(
                "kubelet",
                Some("status"),
                json!({
                    "f:status": {"f:allocatable": {"f:cpu": {}, "f:ephemeral-storage": {}, "f:memory": {}, "f:pods": {}},
                        "f:capacity": {"f:cpu": {}, "f:ephemeral-storage": {}, "f:memory": {}, "f:pods": {}},
                        "f:conditions": node_conditions, "f:images": {}, "f:nodeInfo": {"f:bootID": {}, "f:kernelVersion": {}, "f:osImage": {}}, "f:volumesInUse": {}}
                })
            ),
        ]);
        self.event_mf = json!([entry(
            "kubelet",
            None,
            json!({
                "f:count": {}, "f:firstTimestamp": {}, "f:involvedObject": {}, "f:lastTimestamp": {},
                "f:message": {}, "f:reason": {}, "f:reportingComponent": {}, "f:source": {"f:component": {}, "f:host": {}}, "f:type": {}
            })
        )]);
    }

    pub(super) fn with_managed_fields(&self, meta: &mut Value, template: &Value, created: i64) {
        if !self.cfg.managed_fields {
            return;
        }
        let mut mf = template.clone();
        let time = self.ts(created);
        for e in mf.as_array_mut().into_iter().flatten() {
            e["time"] = json!(time);
        }
        meta["managedFields"] = mf;
    }
}
