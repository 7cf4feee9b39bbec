//! What the units share: StorageClasses, CSIDrivers, CSINodes and Nodes.

use super::{Gen, ZONES};
use crate::rng::{hash, Rng};
use crate::writer::{Kind, Out};
use serde_json::{json, Value};
use std::io::{self, Write};

impl Gen<'_> {
    pub(super) fn classes(&self, out: &mut Out<impl Write>) -> io::Result<()> {
        let class = |name: &str,
                     provisioner: &str,
                     default: bool,
                     reclaim: &str,
                     mode: &str,
                     expand: bool,
                     parameters: Value| {
            let mut meta = json!({
                "creationTimestamp": "2025-10-16T10:30:00Z",
                "name": name,
                "resourceVersion": self.resource_version(hash(name)),
                "uid": Rng::new(self.cfg.seed ^ hash(name)).uuid()
            });
            if default {
                meta["annotations"] =
                    json!({"storageclass.kubernetes.io/is-default-class": "true"});
            }
            json!({
                "allowVolumeExpansion": expand,
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": meta,
                "parameters": parameters,
                "provisioner": provisioner,
                "reclaimPolicy": reclaim,
                "volumeBindingMode": mode
            })
        };
        let wffc = "WaitForFirstConsumer";
        for sc in [
            class(
                "gp2",
                "kubernetes.io/aws-ebs",
                false,
                "Delete",
                wffc,
                false,
                json!({"fsType": "ext4", "type": "gp2"}),
            ),
            class(
                "gp3",
                "ebs.csi.aws.com",
                true,
                "Delete",
                wffc,
                true,
                json!({"encrypted": "true", "fsType": "ext4", "type": "gp3"}),
            ),
            class(
                "gp3-retain",
                "ebs.csi.aws.com",
                false,
                "Retain",
                wffc,
                true,
                json!({"encrypted": "true", "fsType": "ext4", "type": "gp3"}),
            ),
            class(
                "efs-sc",
                "efs.csi.aws.com",
                false,
                "Delete",
                "Immediate",
                false,
                json!({"directoryPerms": "700", "fileSystemId": "fs-0a1b2c3d4e5f60718", "provisioningMode": "efs-ap"}),
            ),
            // Its provisioner (csi-driver-nfs) is not installed: claims wait forever.
            class(
                "nfs-csi",
                "nfs.csi.k8s.io",
                false,
                "Delete",
                "Immediate",
                true,
                json!({"server": "nfs.storage.internal", "share": "/exports/k8s"}),
            ),
        ] {
            out.item(Kind::Other, &sc)?;
        }
        Ok(())
    }

    pub(super) fn csi_drivers(&self, out: &mut Out<impl Write>) -> io::Result<()> {
        for (name, attach) in [("ebs.csi.aws.com", true), ("efs.csi.aws.com", false)] {
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "CSIDriver",
                    "metadata": {
                        "creationTimestamp": "2026-01-24T10:30:00Z",
                        "labels": {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS"},
                        "name": name,
                        "resourceVersion": self.resource_version(hash(name)),
                        "uid": Rng::new(self.cfg.seed ^ hash(name) ^ 1).uuid()
                    },
                    "spec": {
                        "attachRequired": attach,
                        "fsGroupPolicy": if attach { "ReadWriteOnceWithFSType" } else { "File" },
                        "podInfoOnMount": false,
                        "requiresRepublish": false,
                        "seLinuxMount": false,
                        "storageCapacity": false,
                        "volumeLifecycleModes": ["Persistent"]
                    }
                }),
            )?;
        }
        Ok(())
    }

    pub(super) fn csi_node(&self, n: usize, out: &mut Out<impl Write>) -> io::Result<()> {
        let name = self.node_name(n);
        out.item(
            Kind::Other,
            &json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "CSINode",
                "metadata": {
                    "annotations": {"storage.alpha.kubernetes.io/migrated-plugins": "kubernetes.io/aws-ebs,kubernetes.io/azure-disk,kubernetes.io/azure-file,kubernetes.io/cinder,kubernetes.io/gce-pd,kubernetes.io/portworx-volume,kubernetes.io/vsphere-volume"},
                    "creationTimestamp": "2026-11-09T07:30:00Z",
                    "name": name,
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": Rng::new(self.cfg.seed ^ hash(&name)).uuid()}],
                    "resourceVersion": self.resource_version(hash(&name) ^ 2),
                    "uid": Rng::new(self.cfg.seed ^ hash(&name) ^ 2).uuid()
                },
                "spec": {"drivers": [
                    {"allocatable": {"count": 127}, "name": "ebs.csi.aws.com", "nodeID": self.instance_id(n),
                     "topologyKeys": ["kubernetes.io/os", "topology.ebs.csi.aws.com/zone", "topology.kubernetes.io/zone"]},
                    {"name": "efs.csi.aws.com", "nodeID": self.instance_id(n)}
                ]}
            }),
        )
    }

    pub(super) fn node(&self, n: usize, out: &mut Out<impl Write>) -> io::Result<()> {
        let name = self.node_name(n);
        let zone = ZONES[n % 3];
        let mut rng = Rng::new(self.cfg.seed ^ hash(&name));
        let uid = rng.uuid();
        let ip = format!("10.0.{}.{}", (n % 3) * 64 + n / 750, n % 250 + 4);
        let cond = |t: &str, status: &str, reason: &str, message: &str| json!({"lastHeartbeatTime": self.ts(40), "lastTransitionTime": "2026-11-09T07:30:00Z", "message": message, "reason": reason, "status": status, "type": t});
        let images: Vec<Value> = [
            ("docker.io/library/postgres", "16.4", 158_021_339),
            ("ghcr.io/acme/web", "3.14.1", 98_113_201),
            ("ghcr.io/acme/api", "4.12.0", 121_554_120),
            ("public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver", "v1.37.0", 31_250_777),
            ("public.ecr.aws/eks/aws-efs-csi-driver", "v2.0.7", 45_311_019),
        ]
        .into_iter()
        .map(|(image, tag, size)| {
            json!({"names": [format!("{image}@sha256:{}", rng.hex(64)), format!("{image}:{tag}")], "sizeBytes": size})
        })
        .collect();
        let mut meta = json!({
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": ip,
                "csi.volume.kubernetes.io/nodeid": format!("{{\"ebs.csi.aws.com\":\"{}\",\"efs.csi.aws.com\":\"{}\"}}", self.instance_id(n), self.instance_id(n)),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            },
            "creationTimestamp": "2026-11-09T07:30:00Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "m5.4xlarge",
                "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": "general",
                "failure-domain.beta.kubernetes.io/region": "us-east-1",
                "failure-domain.beta.kubernetes.io/zone": zone,
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "m5.4xlarge",
                "topology.ebs.csi.aws.com/zone": zone,
                "topology.kubernetes.io/region": "us-east-1",
                "topology.kubernetes.io/zone": zone
            },
            "name": name,
            "resourceVersion": self.resource_version(hash(&name)),
            "uid": uid
        });
        self.with_managed_fields(&mut meta, &self.node_mf, 86_400 * 11);
        let resources = json!({"cpu": "16", "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "64453796Ki", "pods": "110"});
        out.item(
            Kind::Node,
            &json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": meta,
                "spec": {"providerID": format!("aws:///{zone}/{}", self.instance_id(n))},
                "status": {
                    "addresses": [
                        {"address": ip, "type": "InternalIP"},
                        {"address": name, "type": "InternalDNS"},
                        {"address": name, "type": "Hostname"}
                    ],
                    "allocatable": resources,
                    "capacity": resources,
                    "conditions": [
                        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "images": images,
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": rng.uuid(),
                        "containerRuntimeVersion": "containerd://1.7.22",
                        "kernelVersion": "6.1.109-118.189.amzn2023.x86_64",
                        "kubeProxyVersion": "v1.31.2-eks-94953ac",
                        "kubeletVersion": "v1.31.2-eks-94953ac",
                        "machineID": rng.hex(32),
                        "operatingSystem": "linux",
                        "osImage": "Amazon Linux 2023.5.20240916",
                        "systemUUID": rng.uuid()
                    }
                }
            }),
        )
    }
}
