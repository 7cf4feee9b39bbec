//! The pods of each unit, and the Deployments, ReplicaSets and StatefulSets
//! that own them.

use super::objects::{PodDesc, PodState};
use super::{Gen, Placed, Unit};
use crate::rng::hash;
use crate::writer::{Kind, Out};
use crate::Family;
use serde_json::{json, Value};
use std::io::{self, Write};

impl Gen<'_> {
    pub(super) fn pods(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        match u.unit {
            Unit::Web { replicas } | Unit::System { replicas } => {
                let (rs, hash) = self.replica_set_name(u, 0);
                let rs_uid = self.uid(u, 20, 0);
                for i in 0..replicas {
                    let name = self.deploy_pod_name(u, i);
                    let image = if matches!(u.unit, Unit::System { .. }) {
                        "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0"
                    } else {
                        "ghcr.io/acme/web:3.14.1"
                    };
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &name,
                            uid: &self.uid(u, 30, i),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(self.node_of(u, i)),
                            claims: &[],
                            image,
                            created: 86_400 * 3 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Db { replicas } => {
                let sts_uid = self.uid(u, 21, 0);
                for i in 0..replicas {
                    let claim = self.claim_name(u, i);
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.db_pod_name(u, i),
                            uid: &self.uid(u, 30, i),
                            owner: ("StatefulSet", &base, &sts_uid),
                            labels: json!({"app": base, "statefulset.kubernetes.io/pod-name": self.db_pod_name(u, i)}),
                            node: Some(self.node_of(u, i)),
                            claims: &[("data", &claim)],
                            image: "docker.io/library/postgres:16.4",
                            created: 86_400 * 10 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Cms { replicas } => {
                let (rs, hash) = self.replica_set_name(u, 0);
                let rs_uid = self.uid(u, 20, 0);
                let claim = self.claim_name(u, 0);
                for i in 0..replicas {
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.deploy_pod_name(u, i),
                            uid: &self.uid(u, 30, i),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(self.node_of(u, i)),
                            claims: &[("content", &claim)],
                            image: "ghcr.io/acme/cms:5.2.0",
                            created: 86_400 * 2 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Broken(f) => self.broken_pods(u, f, out)?,
            Unit::Spare | Unit::LoosePv => {}
        }
        Ok(())
    }

    fn broken_pods(&self, u: &Placed, f: Family, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let claim = self.broken_claim_name(u);
        let (rs, hash) = self.replica_set_name(u, 0);
        let rs_uid = self.uid(u, 20, 0);
        let labels = json!({"app": base, "pod-template-hash": hash});
        let pod = |name: &str, claims: &[(&str, &str)], node, created, state, out: &mut Out<_>| {
            self.pod(
                &PodDesc {
                    ns,
                    name,
                    uid: &self.uid(u, 30, 0),
                    owner: ("ReplicaSet", &rs, &rs_uid),
                    labels: labels.clone(),
                    node,
                    claims,
                    image: "ghcr.io/acme/app:2.7.4",
                    created,
                    state,
                },
                out,
            )
        };
        let name = self.broken_pod_name(u, 0);
        match f {
            Family::ClaimNotFound => {
                let m =
                    self.scheduler_message(&format!("persistentvolumeclaim \"{claim}\" not found"));
                pod(
                    &name,
                    &[("data", &claim)],
                    None,
                    300,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::StorageClassNotFound | Family::ProvisionerNotResponding => {
                let m = self.scheduler_message("pod has unbound immediate PersistentVolumeClaims");
                pod(
                    &name,
                    &[("data", &claim)],
                    None,
                    2100,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::ClaimLost => {
                let m = self.scheduler_message(&format!(
                    "persistentvolumeclaim \"{claim}\" bound to non-existent persistentvolume \"{}\"",
                    self.volume_name(u, 0)
                ));
                pod(
                    &name,
                    &[("storage", &claim)],
                    None,
                    1700,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::AttachFailed => {
                let node = Some(self.node_of(u, 0));
                pod(
                    &name,
                    &[("storage", &claim)],
                    node,
                    2220,
                    PodState::ContainerCreating,
                    out,
                )?;
            }
            Family::MultiAttach => {
                let (old_rs, old_hash) = self.replica_set_name(u, 0);
                let (new_rs, new_hash) = self.replica_set_name(u, 1);
                let a = self.node_of(u, 0);
                for (i, (rs, hash, node, created, state)) in [
                    (old_rs, old_hash, a, 86_400 * 2, PodState::Running),
                    (
                        new_rs,
                        new_hash,
                        self.neighbour(a),
                        120,
                        PodState::ContainerCreating,
                    ),
                ]
                .into_iter()
                .enumerate()
                {
                    let rs_uid = self.uid(u, 20, i as u32);
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.broken_pod_name(u, i as u32),
                            uid: &self.uid(u, 30, i as u32),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(node),
                            claims: &[("data", &claim)],
                            image: "ghcr.io/acme/api:4.12.0",
                            created,
                            state,
                        },
                        out,
                    )?;
                }
            }
            Family::MountFailed | Family::ExpansionFailed => {
                let sts_uid = self.uid(u, 21, 0);
                let (created, state) = if f == Family::MountFailed {
                    (1800, PodState::ContainerCreating)
                } else {
                    (86_400 * 10, PodState::Running)
                };
                self.pod(
                    &PodDesc {
                        ns,
                        name: &name,
                        uid: &self.uid(u, 30, 0),
                        owner: ("StatefulSet", &base, &sts_uid),
                        labels: json!({"app": base, "statefulset.kubernetes.io/pod-name": name}),
                        node: Some(self.node_of(u, 0)),
                        claims: &[("data", &claim)],
                        image: "docker.gitea.com/gitea:1.22.3-rootless",
                        created,
                        state,
                    },
                    out,
                )?;
            }
            Family::AccessModeUnsupported
            | Family::WaitingForFirstConsumer
            | Family::PvReleasedRetained => {}
        }
        Ok(())
    }

    pub(super) fn workloads(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let meta = |name: &str, uid: &str, owner: Option<(&str, &str, &str)>| {
            let mut m = json!({
                "creationTimestamp": self.ts(86_400 * 30),
                "generation": 1,
                "labels": {"app": base},
                "name": name,
                "namespace": ns,
                "resourceVersion": self.resource_version(hash(uid)),
                "uid": uid
            });
            if let Some((kind, name, uid)) = owner {
                m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": kind, "name": name, "uid": uid}]);
            }
            m
        };
        // A CSI controller runs its driver beside the sidecars that call it,
        // as the EBS and EFS drivers' charts install them.
        let containers = if matches!(u.unit, Unit::System { .. }) {
            json!([
                {"args": ["controller", "--endpoint=unix:///var/lib/csi/sockets/pluginproxy/csi.sock"], "image": "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0", "name": "csi-driver"},
                {"args": ["--csi-address=/var/lib/csi/sockets/pluginproxy/csi.sock", "--leader-election=true"], "image": "public.ecr.aws/eks-distro/kubernetes-csi/external-provisioner:v5.1.0-eks-1-31-7", "name": "csi-provisioner"},
                {"args": ["--csi-address=/var/lib/csi/sockets/pluginproxy/csi.sock", "--leader-election=true"], "image": "public.ecr.aws/eks-distro/kubernetes-csi/external-attacher:v4.7.0-eks-1-31-7", "name": "csi-attacher"},
                {"args": ["--csi-address=/var/lib/csi/sockets/pluginproxy/csi.sock", "--leader-election=true"], "image": "public.ecr.aws/eks-distro/kubernetes-csi/external-resizer:v1.12.0-eks-1-31-7", "name": "csi-resizer"}
            ])
        } else {
            json!([{"image": "ghcr.io/acme/app:2.7.4", "name": "app"}])
        };
        let template = |labels: Value| {
            json!({
                "metadata": {"labels": labels},
                "spec": {"containers": containers}
            })
        };
        let (deployment, revisions, replicas) = match u.unit {
            Unit::Web { replicas } | Unit::Cms { replicas } | Unit::System { replicas } => {
                (true, 1, replicas)
            }
            Unit::Broken(Family::MultiAttach) => (true, 2, 1),
            Unit::Broken(
                Family::ClaimNotFound
                | Family::StorageClassNotFound
                | Family::ProvisionerNotResponding
                | Family::AttachFailed
                | Family::ClaimLost,
            ) => (true, 1, 1),
            Unit::Db { replicas } => (false, 0, replicas),
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => (false, 0, 1),
            _ => return Ok(()),
        };
        if deployment {
            let d_uid = self.uid(u, 22, 0);
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": meta(&base, &d_uid, None),
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": base}},
                        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                        "template": template(json!({"app": base}))
                    },
                    "status": {"observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}
                }),
            )?;
            for rev in 0..revisions {
                let (rs, hash) = self.replica_set_name(u, rev);
                let rs_uid = self.uid(u, 20, rev);
                out.item(
                    Kind::Other,
                    &json!({
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": meta(&rs, &rs_uid, Some(("Deployment", &base, &d_uid))),
                        "spec": {
                            "replicas": replicas,
                            "selector": {"matchLabels": {"app": base, "pod-template-hash": hash}},
                            "template": template(json!({"app": base, "pod-template-hash": hash}))
                        },
                        "status": {"fullyLabeledReplicas": replicas, "observedGeneration": 1, "replicas": replicas}
                    }),
                )?;
            }
        } else {
            let sts_uid = self.uid(u, 21, 0);
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": meta(&base, &sts_uid, None),
                    "spec": {
                        "podManagementPolicy": "OrderedReady",
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": base}},
                        "serviceName": base,
                        "template": template(json!({"app": base})),
                        "volumeClaimTemplates": [{
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}, "storageClassName": "gp3", "volumeMode": "Filesystem"}
                        }]
                    },
                    "status": {"availableReplicas": replicas, "currentReplicas": replicas, "observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}
                }),
            )?;
        }
        Ok(())
    }
}
