//! Facts read off one object: the claims a pod uses, what a claim is
//! filled from, the containers that fail, whether a class is the default.

use crate::api::Pod;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::api::storage::v1::StorageClass;

/// Pods that use a claim, from their volumes (direct or generic ephemeral).
pub fn claim_names(pod: &Pod) -> Vec<ClaimUse> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    let Some(volumes) = pod.spec.as_ref().and_then(|s| s.volumes.as_ref()) else {
        return Vec::new();
    };
    volumes
        .iter()
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                Some(ClaimUse {
                    volume: v.name.clone(),
                    claim: pvc.claim_name.clone(),
                    ephemeral: false,
                    read_only: pvc.read_only.unwrap_or(false),
                })
            } else {
                v.ephemeral.as_ref().map(|_| ClaimUse {
                    volume: v.name.clone(),
                    // The ephemeral volume controller names the claim <pod>-<volume>.
                    claim: format!("{pod_name}-{}", v.name),
                    ephemeral: true,
                    read_only: false,
                })
            }
        })
        .collect()
}

/// What a claim asks to be filled from: `spec.dataSourceRef`, or
/// `spec.dataSource` when only that is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource<'a> {
    /// Empty for the core group.
    pub api_group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    /// Another namespace (cross-namespace data sources); `None`: the claim's.
    pub namespace: Option<&'a str>,
}

impl DataSource<'_> {
    pub fn is_snapshot(&self) -> bool {
        self.kind == "VolumeSnapshot" && self.api_group == crate::volume_snapshot::GROUP
    }

    pub fn is_claim(&self) -> bool {
        self.kind == "PersistentVolumeClaim" && self.api_group.is_empty()
    }

    /// Neither a snapshot nor a claim: only a volume populator fills it.
    pub fn is_populated(&self) -> bool {
        !self.is_snapshot() && !self.is_claim()
    }

    /// `VolumeSnapshot snap-1`, `PersistentVolumeClaim pg-data`,
    /// `SampleData.hello.example.com sample`.
    pub fn describe(&self) -> String {
        if self.is_snapshot() || self.is_claim() || self.api_group.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{}.{} {}", self.kind, self.api_group, self.name)
        }
    }
}

/// The data source of a claim, if it names one.
pub fn data_source_of(claim: &PersistentVolumeClaim) -> Option<DataSource<'_>> {
    let spec = claim.spec.as_ref()?;
    let found = if let Some(r) = &spec.data_source_ref {
        DataSource {
            api_group: r.api_group.as_deref().unwrap_or(""),
            kind: &r.kind,
            name: &r.name,
            namespace: r.namespace.as_deref().filter(|n| !n.is_empty()),
        }
    } else {
        let r = spec.data_source.as_ref()?;
        DataSource {
            api_group: r.api_group.as_deref().unwrap_or(""),
            kind: &r.kind,
            name: &r.name,
            namespace: None,
        }
    };
    (!found.kind.is_empty() && !found.name.is_empty()).then_some(found)
}

/// The containers (init containers first) that crash-loop or ended in
/// error: their previous run's log may say what their state does not.
pub fn failing_containers(pod: &Pod) -> Vec<&str> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let failed = |t: Option<&k8s_openapi::api::core::v1::ContainerStateTerminated>| {
        t.is_some_and(|t| t.exit_code != 0)
    };
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .filter(|s| {
            let state = s.state.as_ref();
            let backoff = state
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                == Some("CrashLoopBackOff");
            backoff
                || failed(state.and_then(|st| st.terminated.as_deref()))
                || (s.restart_count > 0
                    && failed(
                        s.last_state
                            .as_ref()
                            .and_then(|st| st.terminated.as_deref()),
                    ))
        })
        .map(|s| s.name.as_str())
        .collect()
}

/// Whether a container of the pod mounts a volume that holds data (not a
/// view of API objects such as a ConfigMap or the service account token).
pub fn mounts_data_volume(pod: &Pod, container: &str) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let data: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| {
            v.config_map.is_none()
                && v.secret.is_none()
                && v.projected.is_none()
                && v.downward_api.is_none()
        })
        .map(|v| v.name.as_str())
        .collect();
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .filter(|c| c.name == container)
        .any(|c| {
            c.volume_mounts
                .iter()
                .flatten()
                .any(|m| data.contains(&m.name.as_str()))
                || c.volume_devices
                    .iter()
                    .flatten()
                    .any(|d| data.contains(&d.name.as_str()))
        })
}

/// How a pod refers to one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimUse {
    pub volume: String,
    pub claim: String,
    pub ephemeral: bool,
    pub read_only: bool,
}

pub fn is_default_class(sc: &StorageClass) -> bool {
    let annotations = sc.metadata.annotations.as_ref();
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|key| annotations.and_then(|a| a.get(*key)).map(String::as_str) == Some("true"))
}
