//! What to diagnose: the namespaces, the `TYPE/NAME` targets and the label
//! selector, as the command line gives them and the sources read them.

use crate::selector::Selector;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeSet;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `None`: every namespace.
    pub namespaces: Option<BTreeSet<String>>,
    pub targets: Vec<Target>,
    /// `-l`: only pods and claims whose labels match.
    pub selector: Option<Selector>,
}

impl Scope {
    /// Whether an object in namespace `ns` (`None`: cluster-scoped) is in scope.
    pub fn includes_namespace(&self, ns: Option<&str>) -> bool {
        match (&self.namespaces, ns) {
            (None, _) => true,
            (Some(set), Some(ns)) => set.contains(ns),
            (Some(_), None) => false,
        }
    }

    /// Whether a pod or claim is in scope: its namespace and its labels.
    pub fn selects(&self, meta: &ObjectMeta) -> bool {
        self.includes_namespace(meta.namespace.as_deref())
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(meta.labels.as_ref()))
    }

    /// Where `target` is looked for, as [`TargetNotFound`] says it: the
    /// namespaces in scope, or nothing for a kind outside namespaces.
    pub fn searched(&self, target: &Target) -> String {
        if !target.kind().namespaced {
            return String::new();
        }
        match &self.namespaces {
            None => " in any namespace of the input".to_string(),
            Some(set) => format!(
                " in namespace {}",
                set.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// A workload kind a target can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

/// The target types as completion offers them, kubectl's short names.
pub const TARGET_TYPES: &[&str] = &[
    "pod", "pvc", "pv", "sc", "node", "deploy", "sts", "rs", "ds", "job", "cronjob", "vs",
];

/// A `TYPE/NAME` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Pod(String),
    Claim(String),
    Workload(WorkloadKind, String),
    Class(String),
    Node(String),
    Volume(String),
    /// A VolumeSnapshot.
    Snapshot(String),
}

impl Target {
    /// Parses `pod/x`, `pvc/x`, `deploy/x`, `sts/x`, `sc/x`, `node/x`,
    /// `pv/x` ... with kubectl's aliases.
    /// Also `deployment.apps/x`, as `kubectl get -o name` prints it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, name) = text
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| {
                format!("target {text:?} is not TYPE/NAME (for example pod/trainer or pvc/data)")
            })?;
        Target::from_kind(kind, name)
    }

    /// A target of the type `kind` (kubectl's names and aliases, and
    /// `kind.group` as `kubectl get -o name` prints it: `deployment.apps`).
    pub fn from_kind(kind: &str, name: &str) -> Result<Self, String> {
        let kind = kind.to_ascii_lowercase();
        let (kind, group) = match kind.split_once('.') {
            Some((k, g)) => (k, Some(g)),
            None => (kind.as_str(), None),
        };
        let target = Target::of_kind(kind, name.to_string())?;
        if let Some(group) = group {
            let expected = match &target {
                Target::Pod(_) | Target::Claim(_) | Target::Node(_) | Target::Volume(_) => "",
                Target::Class(_) => "storage.k8s.io",
                Target::Snapshot(_) => "snapshot.storage.k8s.io",
                Target::Workload(WorkloadKind::Job | WorkloadKind::CronJob, _) => "batch",
                Target::Workload(..) => "apps",
            };
            if group != expected {
                return Err(format!(
                    "target type {kind:?} is not in the API group {group:?}{}",
                    if expected.is_empty() {
                        " (it is in the core group: no group)".to_string()
                    } else {
                        format!(" (it is in {expected})")
                    }
                ));
            }
        }
        Ok(target)
    }

    fn of_kind(kind: &str, name: String) -> Result<Self, String> {
        let workload = |k| Ok(Target::Workload(k, name.clone()));
        match kind {
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
            "vs" | "volumesnapshot" | "volumesnapshots" => Ok(Target::Snapshot(name)),
            other => Err(format!(
                "target type {other:?} is not supported: use pod, pvc, deploy, sts, rs, ds, job, cronjob, sc, node, pv or vs"
            )),
        }
    }

    /// Targets that are not in a namespace: their scan covers every namespace.
    pub fn is_cluster_wide(&self) -> bool {
        !self.kind().namespaced
    }

    /// The row of the kinds table of the object the target names.
    pub fn kind(&self) -> &'static crate::kinds::Kind {
        use crate::kinds;
        match self {
            Target::Pod(_) => &kinds::POD,
            Target::Claim(_) => &kinds::PERSISTENT_VOLUME_CLAIM,
            Target::Class(_) => &kinds::STORAGE_CLASS,
            Target::Node(_) => &kinds::NODE,
            Target::Volume(_) => &kinds::PERSISTENT_VOLUME,
            Target::Snapshot(_) => &kinds::VOLUME_SNAPSHOT,
            Target::Workload(kind, _) => match kind {
                WorkloadKind::Deployment => &kinds::DEPLOYMENT,
                WorkloadKind::StatefulSet => &kinds::STATEFUL_SET,
                WorkloadKind::ReplicaSet => &kinds::REPLICA_SET,
                WorkloadKind::DaemonSet => &kinds::DAEMON_SET,
                WorkloadKind::Job => &kinds::JOB,
                WorkloadKind::CronJob => &kinds::CRON_JOB,
            },
        }
    }

    /// The name of the object the target names.
    pub fn name(&self) -> &str {
        match self {
            Target::Pod(n)
            | Target::Claim(n)
            | Target::Class(n)
            | Target::Node(n)
            | Target::Volume(n)
            | Target::Snapshot(n)
            | Target::Workload(_, n) => n,
        }
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
            Target::Snapshot(n) => write!(f, "volumesnapshot/{n}"),
        }
    }
}

/// A target that names nothing in scope.
#[derive(Debug, thiserror::Error)]
#[error("{target} not found{where_}")]
pub struct TargetNotFound {
    pub target: String,
    /// ` in namespace X`, or nothing for a kind outside namespaces.
    pub where_: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_kubectl_get_o_name_prints_them() {
        let w = |k, n: &str| Target::Workload(k, n.into());
        assert_eq!(
            Target::parse("deployment.apps/vllm").unwrap(),
            w(WorkloadKind::Deployment, "vllm")
        );
        assert_eq!(
            Target::parse("statefulset.apps/db").unwrap(),
            w(WorkloadKind::StatefulSet, "db")
        );
        assert_eq!(
            Target::parse("cronjob.batch/b").unwrap(),
            w(WorkloadKind::CronJob, "b")
        );
        assert_eq!(
            Target::parse("persistentvolumeclaim/x").unwrap(),
            Target::Claim("x".into())
        );
        assert_eq!(
            Target::parse("storageclass.storage.k8s.io/f").unwrap(),
            Target::Class("f".into())
        );
        assert!(Target::parse("deployment.batch/x").is_err());
        assert!(Target::parse("pod.apps/x").is_err());
    }

    #[test]
    fn every_type_completion_offers_is_a_target_type() {
        for kind in TARGET_TYPES {
            assert!(Target::from_kind(kind, "x").is_ok(), "{kind}");
        }
    }

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
        assert_eq!(
            Target::parse("vs/nightly").unwrap(),
            Target::Snapshot("nightly".into())
        );
        assert_eq!(
            Target::parse("volumesnapshot/nightly").unwrap().to_string(),
            "volumesnapshot/nightly"
        );
    }
}
