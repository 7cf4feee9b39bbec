//! Which subjects to look at, and for each the links of its storage chain:
//! pod, claims, classes, volumes, drivers, node, attachments and events.

use crate::model::ObjectRef;
use crate::scheduler::{self, Verdict};
use crate::snapshot::{claim_names, ClaimUse, Snapshot};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Event, Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::{StorageClass, VolumeAttachment};
use std::collections::BTreeSet;

/// The class a claim asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedClass {
    /// `storageClassName: x` (or the legacy beta annotation).
    Named(String),
    /// `storageClassName: ""`: explicitly no class, static binding only.
    Empty,
    /// Field unset: the default class applies, if there is one.
    Unset,
}

/// One claim and everything behind it.
#[derive(Debug, Clone)]
pub struct ClaimChain<'a> {
    pub namespace: &'a str,
    pub name: String,
    /// How the subject pod refers to the claim.
    pub usage: Option<ClaimUse>,
    pub claim: Option<&'a PersistentVolumeClaim>,
    pub requested_class: RequestedClass,
    pub class: Option<&'a StorageClass>,
    pub volume: Option<&'a PersistentVolume>,
    pub attachments: Vec<&'a VolumeAttachment>,
    pub events: Vec<&'a Event>,
    /// Every pod, in any phase, whose volumes reference this claim.
    pub users: Vec<&'a Pod>,
}

/// Where the scheduler's verdict was read from.
#[derive(Debug, Clone)]
pub struct Scheduling {
    pub verdict: Verdict,
    /// `PodScheduled condition` or the event quoted.
    pub source: String,
}

/// A pod and its scheduling state.
#[derive(Debug, Clone)]
pub struct PodChain<'a> {
    pub pod: &'a Pod,
    /// Running and Ready ([`is_healthy`]), read once: every rule asks.
    pub healthy: bool,
    pub namespace: &'a str,
    pub name: &'a str,
    pub node: Option<&'a Node>,
    pub node_name: Option<&'a str>,
    pub events: Vec<&'a Event>,
    pub scheduling: Option<Scheduling>,
}

/// A workload whose pods could not be created, with its events.
#[derive(Debug, Clone)]
pub struct WorkloadChain<'a> {
    pub stateful_set: &'a StatefulSet,
    pub namespace: String,
    pub name: String,
    pub events: Vec<&'a Event>,
}

/// One subject and its resolved links.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    pub subject: ObjectRef,
    pub pod: Option<PodChain<'a>>,
    pub claims: Vec<ClaimChain<'a>>,
    /// The subject itself when it is a PersistentVolume.
    pub volume: Option<&'a PersistentVolume>,
    /// The subject itself when it is a StorageClass.
    pub class: Option<&'a StorageClass>,
    /// The subject itself when it is a workload.
    pub workload: Option<WorkloadChain<'a>>,
}

impl<'a> Chain<'a> {
    /// The subject pod and its node, when it is scheduled but not Running
    /// and Ready: the attach and mount rules look only at such pods.
    pub fn stuck_on_node(&self) -> Option<(&PodChain<'a>, &str)> {
        let pod = self.pod.as_ref()?;
        let node = pod.node_name?;
        (!pod.healthy).then_some((pod, node))
    }
}

impl Chain<'_> {
    /// Pods and claims are counted as subjects even when healthy; volumes,
    /// classes and workloads only when something is wrong with them.
    pub fn counts_when_healthy(&self) -> bool {
        self.volume.is_none() && self.class.is_none() && self.workload.is_none()
    }

    fn of_pod_or_claim(subject: ObjectRef) -> Self {
        Chain {
            subject,
            pod: None,
            claims: Vec::new(),
            volume: None,
            class: None,
            workload: None,
        }
    }
}

impl<'a> ClaimChain<'a> {
    pub fn resolve(snap: &'a Snapshot, ns: &'a str, name: &str, usage: Option<ClaimUse>) -> Self {
        let claim = snap.claim(ns, name);
        let spec = claim.and_then(|c| c.spec.as_ref());
        let requested_class = match spec.and_then(|s| s.storage_class_name.as_deref()) {
            Some("") => RequestedClass::Empty,
            Some(n) => RequestedClass::Named(n.to_string()),
            None => match claim
                .and_then(|c| c.metadata.annotations.as_ref())
                .and_then(|a| a.get("volume.beta.kubernetes.io/storage-class"))
            {
                Some(n) if n.is_empty() => RequestedClass::Empty,
                Some(n) => RequestedClass::Named(n.clone()),
                None => RequestedClass::Unset,
            },
        };
        let class = match &requested_class {
            RequestedClass::Named(n) => snap.class(n),
            _ => None,
        };
        let volume = spec
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
            .and_then(|v| snap.volume(v))
            .or_else(|| {
                // A volume that already points at this claim (binding in progress).
                snap.volume_claimed_by(ns, name).filter(|pv| {
                    let uid = pv
                        .spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|r| r.uid.as_deref());
                    let claim_uid = claim.and_then(|c| c.metadata.uid.as_deref());
                    claim.is_some() && (uid.is_none() || uid == claim_uid)
                })
            });
        let attachments = volume
            .and_then(|v| v.metadata.name.as_deref())
            .map(|v| snap.attachments_of(v).collect())
            .unwrap_or_default();
        let events = snap.events_for(
            "PersistentVolumeClaim",
            ns,
            name,
            claim.and_then(|c| c.metadata.uid.as_deref()),
        );
        ClaimChain {
            namespace: ns,
            name: name.to_string(),
            usage,
            claim,
            requested_class,
            class,
            volume,
            attachments,
            events,
            users: snap.pods_using(ns, name).collect(),
        }
    }

    pub fn phase(&self) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.status.as_ref())
            .and_then(|s| s.phase.as_deref())
    }

    pub fn is_bound(&self) -> bool {
        self.phase() == Some("Bound")
    }

    pub fn is_pending(&self) -> bool {
        self.claim.is_some() && matches!(self.phase(), None | Some("Pending"))
    }

    pub fn access_modes(&self) -> Vec<&'a str> {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.access_modes.as_ref())
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    pub fn volume_mode(&self) -> &'a str {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.volume_mode.as_deref())
            .unwrap_or("Filesystem")
    }

    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.metadata.annotations.as_ref())
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// The provisioner the PV controller handed the claim to, if any.
    pub fn storage_provisioner(&self) -> Option<&'a str> {
        self.annotation("volume.kubernetes.io/storage-provisioner")
            .or_else(|| self.annotation("volume.beta.kubernetes.io/storage-provisioner"))
            .filter(|p| !p.is_empty())
    }

    pub fn requested_size(&self) -> Option<&'a str> {
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.resources.as_ref())
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.as_str())
    }

    /// The volume the claim was pre-bound to with `spec.volumeName`, while
    /// still unbound: such a claim is never provisioned.
    pub fn pre_bound(&self) -> Option<&'a str> {
        if self.is_bound() {
            return None;
        }
        self.claim
            .and_then(|c| c.spec.as_ref())
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty())
    }

    pub fn is_wait_for_first_consumer(&self) -> bool {
        self.class.and_then(|c| c.volume_binding_mode.as_deref()) == Some("WaitForFirstConsumer")
    }

    pub fn class_name(&self) -> Option<&str> {
        match &self.requested_class {
            RequestedClass::Named(n) => Some(n),
            _ => None,
        }
    }

    /// The kubectl reference `-n ns pvc/name`.
    pub fn object(&self) -> ObjectRef {
        ObjectRef::claim(self.namespace, &self.name)
    }

    /// The CSI driver serving the bound volume.
    pub fn volume_driver(&self) -> Option<&'a str> {
        self.volume
            .and_then(|v| v.spec.as_ref())
            .and_then(|s| s.csi.as_ref())
            .map(|c| c.driver.as_str())
    }
}

impl<'a> PodChain<'a> {
    pub fn resolve(snap: &'a Snapshot, pod: &'a Pod) -> Self {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("");
        let name = pod.metadata.name.as_deref().unwrap_or("");
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .filter(|n| !n.is_empty());
        let events = snap.events_for("Pod", namespace, name, pod.metadata.uid.as_deref());
        let condition = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| {
                c.iter()
                    .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            });
        let from_condition = condition
            .and_then(|c| c.message.as_deref())
            .filter(|m| !m.trim().is_empty())
            .map(|m| Scheduling {
                verdict: scheduler::parse(m),
                source: "PodScheduled condition".to_string(),
            });
        let scheduling = from_condition.or_else(|| {
            if node_name.is_some() {
                return None;
            }
            crate::events::Timeline::new(&events)
                .current("FailedScheduling")
                .map(|e| Scheduling {
                    verdict: scheduler::parse(crate::events::message(e)),
                    source: "FailedScheduling event".to_string(),
                })
        });
        PodChain {
            pod,
            healthy: is_healthy(pod),
            node: node_name.and_then(|n| snap.node(n)),
            namespace,
            name,
            node_name,
            events,
            scheduling,
        }
    }

    pub fn phase(&self) -> &'a str {
        self.pod
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending")
    }

    pub fn object(&self) -> ObjectRef {
        ObjectRef::pod(self.namespace, self.name)
    }
}

/// Whether the pod is Running and Ready.
pub fn is_healthy(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    running && ready
}

/// Whether any volume of the pod is a claim (direct or generic ephemeral),
/// without building the list.
fn uses_claims(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .is_some_and(|v| {
            v.iter()
                .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
        })
}

/// Whether the pod has finished (Succeeded or Failed) and so holds nothing up.
pub fn is_finished(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded" | "Failed")
    )
}

/// Pod failure reasons set because of volumes (1.34+: the attach limit).
const STORAGE_FAILURE_REASONS: &[&str] = &["VolumeAttachmentLimitExceeded"];

/// A finished pod that storage killed is still worth a diagnosis.
pub fn failed_for_storage(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    status.and_then(|s| s.phase.as_deref()) == Some("Failed")
        && status
            .and_then(|s| s.reason.as_deref())
            .is_some_and(|r| STORAGE_FAILURE_REASONS.contains(&r))
}

/// The state kubectl would show: `Pending`, `ContainerCreating`,
/// `ImagePullBackOff`, `Running`, `Terminating` ...
pub fn pod_state(pod: &Pod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    let waiting = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            status
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
        .find_map(|c| {
            c.state
                .as_ref()
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.clone())
        });
    match (phase, waiting) {
        ("Pending" | "Running", Some(reason)) => reason,
        ("Running", None) if !is_healthy(pod) => "Running (not ready)".into(),
        (phase, _) => phase.into(),
    }
}

/// The pod's workload, following a ReplicaSet up to its Deployment.
pub fn owner_of(snap: &Snapshot, pod: &Pod) -> Option<ObjectRef> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let owner = pod
        .metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))?;
    if owner.kind == "ReplicaSet" {
        let rs = snap.objects.replica_sets.iter().find(|rs| {
            rs.metadata.namespace.as_deref() == Some(ns)
                && rs.metadata.name.as_deref() == Some(&owner.name)
        });
        let deployment = match rs {
            Some(rs) => rs
                .metadata
                .owner_references
                .as_ref()
                .and_then(|o| o.iter().find(|o| o.kind == "Deployment"))
                .map(|o| o.name.clone()),
            // Without the ReplicaSet, its name still tells: <deployment>-<pod-template-hash>.
            None => pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
                .and_then(|hash| owner.name.strip_suffix(&format!("-{hash}")))
                .map(str::to_string),
        };
        if let Some(d) = deployment {
            return Some(ObjectRef::namespaced("Deployment", ns, &d));
        }
    }
    Some(ObjectRef::namespaced(&owner.kind, ns, &owner.name))
}

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `None`: every namespace.
    pub namespaces: Option<BTreeSet<String>>,
    pub targets: Vec<Target>,
    /// `-l`: only pods and claims whose labels match.
    pub selector: Option<crate::selector::Selector>,
}

/// A workload kind a target can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    ReplicaSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }
}

/// A `TYPE/NAME` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    Claim(String),
    Workload(WorkloadKind, String),
    Class(String),
    Node(String),
    Volume(String),
}

impl Target {
    /// Parses `pod/x`, `pvc/x`, `deploy/x`, `sts/x`, `sc/x`, `node/x`,
    /// `pv/x` ... with kubectl's aliases.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, name) = text
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| {
                format!("target {text:?} is not TYPE/NAME (for example pod/trainer or pvc/data)")
            })?;
        let name = name.to_string();
        let workload = |k| Ok(Target::Workload(k, name.clone()));
        match kind.to_ascii_lowercase().as_str() {
            "pod" | "pods" | "po" => Ok(Target::Pod(name)),
            "pvc" | "pvcs" | "persistentvolumeclaim" | "persistentvolumeclaims" => {
                Ok(Target::Claim(name))
            }
            "deploy" | "deployment" | "deployments" => workload(WorkloadKind::Deployment),
            "sts" | "statefulset" | "statefulsets" => workload(WorkloadKind::StatefulSet),
            "rs" | "replicaset" | "replicasets" => workload(WorkloadKind::ReplicaSet),
            "ds" | "daemonset" | "daemonsets" => workload(WorkloadKind::DaemonSet),
            "job" | "jobs" => workload(WorkloadKind::Job),
            "cj" | "cronjob" | "cronjobs" => workload(WorkloadKind::CronJob),
            "sc" | "storageclass" | "storageclasses" => Ok(Target::Class(name)),
            "no" | "node" | "nodes" => Ok(Target::Node(name)),
            "pv" | "pvs" | "persistentvolume" | "persistentvolumes" => Ok(Target::Volume(name)),
            other => Err(format!(
                "target type {other:?} is not supported: use pod, pvc, deploy, sts, rs, ds, job, cronjob, sc, node or pv"
            )),
        }
    }

    /// Targets that are not in a namespace: their scan covers every namespace.
    pub fn is_cluster_wide(&self) -> bool {
        matches!(self, Target::Class(_) | Target::Node(_) | Target::Volume(_))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Pod(n) => write!(f, "pod/{n}"),
            Target::Claim(n) => write!(f, "pvc/{n}"),
            Target::Workload(k, n) => write!(f, "{}/{n}", k.as_str().to_lowercase()),
            Target::Class(n) => write!(f, "storageclass/{n}"),
            Target::Node(n) => write!(f, "node/{n}"),
            Target::Volume(n) => write!(f, "pv/{n}"),
        }
    }
}

/// Whether the pod belongs to the workload: its controller, a Deployment
/// above its ReplicaSet, or a CronJob above its Job.
pub fn belongs_to(snap: &Snapshot, pod: &Pod, kind: WorkloadKind, name: &str) -> bool {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return false;
    };
    match kind {
        WorkloadKind::Deployment => {
            owner_of(snap, pod) == Some(ObjectRef::namespaced("Deployment", ns, name))
        }
        WorkloadKind::CronJob if owner.kind == "Job" => snap
            .objects
            .jobs
            .iter()
            .find(|j| {
                j.metadata.namespace.as_deref() == Some(ns)
                    && j.metadata.name.as_deref() == Some(&owner.name)
            })
            .and_then(|j| j.metadata.owner_references.as_ref())
            .is_some_and(|refs| refs.iter().any(|r| r.kind == "CronJob" && r.name == name)),
        _ => owner.kind == kind.as_str() && owner.name == name,
    }
}

/// A target that names nothing in scope.
#[derive(Debug, thiserror::Error)]
#[error("{target} not found in {where_}")]
pub struct TargetNotFound {
    pub target: String,
    pub where_: String,
}

fn in_scope(scope: &Scope, ns: Option<&str>) -> bool {
    match (&scope.namespaces, ns) {
        (None, _) => true,
        (Some(set), Some(ns)) => set.contains(ns),
        (Some(_), None) => false,
    }
}

/// The subjects of a run, each resolved into its chain.
/// The subjects of the scope, sorted as the report lists them.
pub fn find_subjects<'a>(
    snap: &'a Snapshot,
    scope: &Scope,
) -> Result<Vec<Subject<'a>>, TargetNotFound> {
    let selected = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        in_scope(scope, m.namespace.as_deref())
            && scope
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(m.labels.as_ref()))
    };
    let pods: Vec<&Pod> = snap
        .objects
        .pods
        .iter()
        .filter(|p| selected(&p.metadata))
        .collect();
    let claims: Vec<&PersistentVolumeClaim> = snap
        .objects
        .claims
        .iter()
        .filter(|c| selected(&c.metadata))
        .collect();

    let mut subject_pods: Vec<&Pod> = Vec::new();
    let mut subject_claims: Vec<&PersistentVolumeClaim> = Vec::new();
    // Volumes, classes and workloads a target names.
    let mut extra: Vec<Chain<'a>> = Vec::new();
    let where_ = || match &scope.namespaces {
        None => "any namespace of the input".to_string(),
        Some(set) => format!(
            "namespace {}",
            set.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    if scope.targets.is_empty() {
        subject_pods = pods
            .iter()
            .copied()
            .filter(|p| (!is_finished(p) || failed_for_storage(p)) && uses_claims(p))
            .collect();
    } else {
        for target in &scope.targets {
            let not_found = || TargetNotFound {
                target: target.to_string(),
                where_: where_(),
            };
            match target {
                Target::Pod(name) => {
                    let found: Vec<&Pod> = pods
                        .iter()
                        .copied()
                        .filter(|p| p.metadata.name.as_deref() == Some(name))
                        .collect();
                    if found.is_empty() {
                        return Err(not_found());
                    }
                    subject_pods.extend(found);
                }
                Target::Claim(name) => {
                    let found: Vec<&PersistentVolumeClaim> = claims
                        .iter()
                        .copied()
                        .filter(|c| c.metadata.name.as_deref() == Some(name))
                        .collect();
                    if found.is_empty() {
                        return Err(not_found());
                    }
                    for claim in found {
                        add_claim(snap, claim, &mut subject_pods, &mut subject_claims);
                    }
                }
                Target::Workload(kind, name) => {
                    let found: Vec<&Pod> = pods
                        .iter()
                        .copied()
                        .filter(|p| !is_finished(p) || failed_for_storage(p))
                        .filter(|p| belongs_to(snap, p, *kind, name))
                        .collect();
                    let stuck = (*kind == WorkloadKind::StatefulSet)
                        .then(|| {
                            snap.objects.stateful_sets.iter().filter(|s| {
                                s.metadata.name.as_deref() == Some(name)
                                    && in_scope(scope, s.metadata.namespace.as_deref())
                            })
                        })
                        .into_iter()
                        .flatten()
                        .filter_map(|s| workload_chain(snap, s))
                        .collect::<Vec<_>>();
                    if found.is_empty()
                        && stuck.is_empty()
                        && !workload_exists(snap, scope, *kind, name)
                    {
                        return Err(not_found());
                    }
                    subject_pods.extend(found);
                    extra.extend(stuck);
                }
                Target::Class(name) => {
                    let class = snap.class(name);
                    let found: Vec<&PersistentVolumeClaim> = claims
                        .iter()
                        .copied()
                        .filter(|c| {
                            c.spec
                                .as_ref()
                                .and_then(|s| s.storage_class_name.as_deref())
                                == Some(name.as_str())
                        })
                        .collect();
                    if class.is_none() && found.is_empty() {
                        return Err(not_found());
                    }
                    for claim in found {
                        add_claim(snap, claim, &mut subject_pods, &mut subject_claims);
                    }
                    if let Some(sc) = class {
                        extra.push(Chain {
                            class: Some(sc),
                            ..Chain::of_pod_or_claim(ObjectRef::class(name))
                        });
                    }
                }
                Target::Node(name) => {
                    let found: Vec<&Pod> = pods
                        .iter()
                        .copied()
                        .filter(|p| {
                            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name)
                        })
                        .filter(|p| !is_finished(p) && !claim_names(p).is_empty())
                        .collect();
                    if found.is_empty() && snap.node(name).is_none() {
                        return Err(not_found());
                    }
                    subject_pods.extend(found);
                }
                Target::Volume(name) => {
                    let Some(pv) = snap.volume(name) else {
                        return Err(not_found());
                    };
                    let claim = pv
                        .spec
                        .as_ref()
                        .and_then(|s| s.claim_ref.as_ref())
                        .and_then(|r| snap.claim(r.namespace.as_deref()?, r.name.as_deref()?));
                    if let Some(c) = claim {
                        add_claim(snap, c, &mut subject_pods, &mut subject_claims);
                    }
                    extra.push(Chain {
                        volume: Some(pv),
                        ..Chain::of_pod_or_claim(ObjectRef::volume(name))
                    });
                }
            }
        }
    }
    // Borrowed keys: cloning both names on every comparison dominated at scale.
    let key = |m: &'a k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        (
            m.namespace.as_deref().unwrap_or(""),
            m.name.as_deref().unwrap_or(""),
        )
    };
    subject_pods.sort_by(|a, b| key(&a.metadata).cmp(&key(&b.metadata)));
    subject_pods.dedup_by(|a, b| key(&a.metadata) == key(&b.metadata));

    if scope.targets.is_empty() {
        // Claims no subject pod uses are subjects of their own (the
        // snapshot's index of pods by claim, instead of a set of owned names).
        subject_claims = claims
            .iter()
            .copied()
            .filter(|c| {
                let (ns, name) = key(&c.metadata);
                !snap
                    .pods_using(ns, name)
                    .any(|p| selected(&p.metadata) && (!is_finished(p) || failed_for_storage(p)))
            })
            .collect();
    }
    subject_claims.sort_by(|a, b| key(&a.metadata).cmp(&key(&b.metadata)));
    subject_claims.dedup_by(|a, b| key(&a.metadata) == key(&b.metadata));

    let mut found: Vec<Subject<'a>> = subject_pods.into_iter().map(Subject::Pod).collect();
    found.extend(subject_claims.into_iter().map(Subject::Claim));
    if scope.targets.is_empty() && scope.selector.is_none() {
        found.extend(
            cluster_subjects(snap, scope)
                .into_iter()
                .map(|c| Subject::Resolved(Box::new(c))),
        );
    }
    found.extend(extra.into_iter().map(|c| Subject::Resolved(Box::new(c))));
    Ok(found)
}

/// Every subject of the scope with its chain resolved.
pub fn subjects<'a>(snap: &'a Snapshot, scope: &Scope) -> Result<Vec<Chain<'a>>, TargetNotFound> {
    Ok(find_subjects(snap, scope)?
        .into_iter()
        .map(|s| s.resolve(snap))
        .collect())
}

/// A subject, in report order; pods and claims are resolved into chains
/// only when asked, so that a whole-cluster run builds, diagnoses and drops
/// one chain at a time while its objects are still in the cache.
pub enum Subject<'a> {
    Pod(&'a Pod),
    Claim(&'a PersistentVolumeClaim),
    /// Volumes, classes and workloads: few, resolved when found.
    Resolved(Box<Chain<'a>>),
}

impl<'a> Subject<'a> {
    pub fn resolve(self, snap: &'a Snapshot) -> Chain<'a> {
        match self {
            Subject::Pod(pod) => {
                let pc = PodChain::resolve(snap, pod);
                let claims = claim_names(pod)
                    .into_iter()
                    .map(|u| {
                        let name = u.claim.clone();
                        ClaimChain::resolve(snap, pc.namespace, &name, Some(u))
                    })
                    .collect();
                Chain {
                    claims,
                    ..Chain::of_pod_or_claim(pc.object()).with_pod(pc)
                }
            }
            Subject::Claim(claim) => {
                let ns = claim.metadata.namespace.as_deref().unwrap_or("");
                let name = claim.metadata.name.as_deref().unwrap_or("");
                Chain {
                    claims: vec![ClaimChain::resolve(snap, ns, name, None)],
                    ..Chain::of_pod_or_claim(ObjectRef::claim(ns, name))
                }
            }
            Subject::Resolved(chain) => *chain,
        }
    }
}

/// A claim target: the pods it blocks, or the claim itself when no pod
/// using it is broken.
fn add_claim<'a>(
    snap: &'a Snapshot,
    claim: &'a PersistentVolumeClaim,
    pods: &mut Vec<&'a Pod>,
    claims: &mut Vec<&'a PersistentVolumeClaim>,
) {
    let ns = claim.metadata.namespace.as_deref().unwrap_or("");
    let name = claim.metadata.name.as_deref().unwrap_or("");
    let users: Vec<&Pod> = snap
        .pods_using(ns, name)
        .filter(|p| !is_finished(p))
        .collect();
    if users.iter().any(|p| !is_healthy(p)) {
        pods.extend(users.into_iter().filter(|p| !is_healthy(p)));
    } else {
        claims.push(claim);
    }
}

fn workload_exists(snap: &Snapshot, scope: &Scope, kind: WorkloadKind, name: &str) -> bool {
    let o = &snap.objects;
    let metas: Vec<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta> = match kind {
        WorkloadKind::Deployment => o.deployments.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::StatefulSet => o.stateful_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::ReplicaSet => o.replica_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::DaemonSet => o.daemon_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::Job => o.jobs.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::CronJob => o.cron_jobs.iter().map(|x| &x.metadata).collect(),
    };
    metas
        .iter()
        .any(|m| m.name.as_deref() == Some(name) && in_scope(scope, m.namespace.as_deref()))
}

/// A StatefulSet that failed to create its pods, as a subject.
fn workload_chain<'a>(snap: &'a Snapshot, sts: &'a StatefulSet) -> Option<Chain<'a>> {
    let ns = sts.metadata.namespace.clone().unwrap_or_default();
    let name = sts.metadata.name.clone().unwrap_or_default();
    let events = snap.events_for("StatefulSet", &ns, &name, sts.metadata.uid.as_deref());
    crate::events::Timeline::new(&events).current("FailedCreate")?;
    Some(Chain {
        workload: Some(WorkloadChain {
            stateful_set: sts,
            namespace: ns.clone(),
            name: name.clone(),
            events,
        }),
        ..Chain::of_pod_or_claim(ObjectRef::namespaced("StatefulSet", &ns, &name))
    })
}

impl<'a> Chain<'a> {
    fn with_pod(mut self, pod: PodChain<'a>) -> Self {
        self.pod = Some(pod);
        self
    }
}

/// Volumes that outlived their claim, every class (cluster-wide scans
/// only), and StatefulSets that failed to create pods: subjects that count
/// only when a rule finds something.
fn cluster_subjects<'a>(snap: &'a Snapshot, scope: &Scope) -> Vec<Chain<'a>> {
    let mut out = Vec::new();
    for pv in &snap.objects.volumes {
        let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
        if !matches!(phase, Some("Released" | "Failed")) {
            continue;
        }
        let claim_ns = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .and_then(|r| r.namespace.as_deref());
        if scope.namespaces.is_some() && !in_scope(scope, claim_ns) {
            continue;
        }
        out.push(Chain {
            volume: Some(pv),
            ..Chain::of_pod_or_claim(ObjectRef::volume(pv.metadata.name.as_deref().unwrap_or("")))
        });
    }
    if scope.namespaces.is_none() {
        for sc in &snap.objects.classes {
            out.push(Chain {
                class: Some(sc),
                ..Chain::of_pod_or_claim(ObjectRef::class(
                    sc.metadata.name.as_deref().unwrap_or(""),
                ))
            });
        }
    }
    out.extend(
        snap.objects
            .stateful_sets
            .iter()
            .filter(|s| in_scope(scope, s.metadata.namespace.as_deref()))
            .filter_map(|s| workload_chain(snap, s)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn targets_parse_like_kubectl() {
        assert_eq!(Target::parse("po/x").unwrap(), Target::Pod("x".into()));
        assert_eq!(Target::parse("pods/x").unwrap(), Target::Pod("x".into()));
        assert_eq!(
            Target::parse("persistentvolumeclaim/d").unwrap(),
            Target::Claim("d".into())
        );
        assert!(Target::parse("pod/").is_err());
        assert!(Target::parse("x").is_err());
        assert!(Target::parse("secret/x").is_err());
    }

    #[test]
    fn default_subjects_are_pods_with_claims_and_claims_no_subject_uses() {
        let snap = snapshot(|o| {
            o.pods.push(pod("web").claim("data").running());
            o.pods.push(pod("job").claim("scratch").phase("Succeeded"));
            o.pods.push(pod("plain"));
            o.claims.push(pvc("data").bound("pv-1"));
            o.claims.push(pvc("scratch").bound("pv-2"));
            o.claims.push(pvc("orphan"));
        });
        let chains = subjects(&snap, &Scope::default()).unwrap();
        let names: Vec<String> = chains.iter().map(|c| c.subject.to_string()).collect();
        assert_eq!(
            names,
            [
                "Pod/default/web",
                "PersistentVolumeClaim/default/orphan",
                "PersistentVolumeClaim/default/scratch"
            ]
        );
    }

    #[test]
    fn ephemeral_volume_claims_are_named_after_pod_and_volume() {
        let snap = snapshot(|o| o.pods.push(pod("web-0").ephemeral("scratch")));
        let chains = subjects(&snap, &Scope::default()).unwrap();
        assert_eq!(chains[0].claims[0].name, "web-0-scratch");
        assert!(chains[0].claims[0].claim.is_none());
    }

    #[test]
    fn missing_target_is_an_error() {
        let snap = snapshot(|o| o.pods.push(pod("web")));
        let scope = Scope {
            targets: vec![Target::Pod("nope".into())],
            ..Default::default()
        };
        let err = subjects(&snap, &scope).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod/nope not found in any namespace of the input"
        );
    }

    #[test]
    fn owner_follows_replica_set_to_deployment() {
        let p = pod("vllm-7d9c8b6f5-x2x9z")
            .owned_by("ReplicaSet", "vllm-7d9c8b6f5")
            .label("pod-template-hash", "7d9c8b6f5");
        let snap = snapshot(|o| o.pods.push(p.clone()));
        assert_eq!(
            owner_of(&snap, &p).unwrap().to_string(),
            "Deployment/default/vllm"
        );
    }
}
