//! Every volume of a pod, where its containers mount it, and what the
//! containers last said: the links of the chain past the claims.

use crate::api::{ContainerStatus, Pod, Volume};

/// One volume of the pod spec and its mounts.
#[derive(Debug, Clone)]
pub struct PodVolume<'a> {
    pub name: &'a str,
    pub spec: &'a Volume,
    pub mounts: Vec<Mount<'a>>,
}

/// Where one container mounts a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount<'a> {
    pub container: &'a str,
    pub path: &'a str,
    pub sub_path: Option<&'a str>,
    pub read_only: bool,
}

impl<'a> PodVolume<'a> {
    /// The volume's type as the pod spec names it (`configMap`, `csi` ...).
    pub fn kind(&self) -> &'static str {
        let v = self.spec;
        if v.persistent_volume_claim.is_some() {
            "persistentVolumeClaim"
        } else if v.ephemeral.is_some() {
            "ephemeral"
        } else if v.config_map.is_some() {
            "configMap"
        } else if v.secret.is_some() {
            "secret"
        } else if v.projected.is_some() {
            "projected"
        } else if v.downward_api.is_some() {
            "downwardAPI"
        } else if v.host_path.is_some() {
            "hostPath"
        } else if v.empty_dir.is_some() {
            "emptyDir"
        } else if v.csi.is_some() {
            "csi"
        } else if v.nfs.is_some() {
            "nfs"
        } else if v.image.is_some() {
            "image"
        } else {
            "other"
        }
    }

    /// A claim (direct or generic ephemeral): the claim chain covers it.
    pub fn is_claim(&self) -> bool {
        self.spec.persistent_volume_claim.is_some() || self.spec.ephemeral.is_some()
    }

    /// Whether every object the volume refers to may be missing
    /// (`optional: true`): such a volume never blocks the pod.
    pub fn optional(&self) -> bool {
        let v = self.spec;
        if let Some(c) = &v.config_map {
            return c.optional == Some(true);
        }
        if let Some(s) = &v.secret {
            return s.optional == Some(true);
        }
        if let Some(p) = &v.projected {
            return p.sources.iter().flatten().all(|s| {
                s.config_map
                    .as_ref()
                    .is_none_or(|c| c.optional == Some(true))
                    && s.secret.as_ref().is_none_or(|c| c.optional == Some(true))
            });
        }
        false
    }

    /// The ConfigMaps and Secrets the volume refers to, as `(kind, name,
    /// optional)`.
    pub fn sources(&self) -> Vec<(&'static str, &'a str, bool)> {
        let v = self.spec;
        let mut out = Vec::new();
        if let Some(c) = &v.config_map {
            out.push(("ConfigMap", c.name.as_str(), c.optional == Some(true)));
        }
        if let Some(s) = &v.secret {
            let name = s.secret_name.as_deref().unwrap_or("");
            out.push(("Secret", name, s.optional == Some(true)));
        }
        for s in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(c) = &s.config_map {
                out.push(("ConfigMap", c.name.as_str(), c.optional == Some(true)));
            }
            if let Some(c) = &s.secret {
                out.push(("Secret", c.name.as_str(), c.optional == Some(true)));
            }
        }
        out
    }

    /// Mounted writable by at least one container, on a type that holds
    /// the workload's data (not a view of API objects).
    /// The kubelet mounts these read-only whatever the pod spec says
    /// (since 1.9.6 and 1.10): their files come from the API server.
    pub fn always_read_only(&self) -> bool {
        matches!(
            self.kind(),
            "configMap" | "secret" | "projected" | "downwardAPI"
        )
    }

    pub fn holds_data(&self) -> bool {
        !matches!(
            self.kind(),
            "configMap" | "secret" | "projected" | "downwardAPI" | "image"
        ) && self.mounts.iter().any(|m| !m.read_only)
    }
}

/// Every volume of the pod with the mounts of its containers (init
/// containers included), in spec order.
pub fn pod_volumes(pod: &Pod) -> Vec<PodVolume<'_>> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let containers: Vec<_> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .collect();
    spec.volumes
        .iter()
        .flatten()
        .map(|v| PodVolume {
            name: v.name.as_str(),
            spec: v,
            mounts: containers
                .iter()
                .flat_map(|c| {
                    c.volume_mounts
                        .iter()
                        .flatten()
                        .filter(|m| m.name == v.name)
                        .map(|m| Mount {
                            container: c.name.as_str(),
                            path: m.mount_path.as_str(),
                            sub_path: m
                                .sub_path
                                .as_deref()
                                .or(m.sub_path_expr.as_deref())
                                .filter(|s| !s.is_empty()),
                            read_only: m.read_only == Some(true),
                        })
                })
                .collect(),
        })
        .collect()
}

/// The volume and mount a path of a container falls under: the longest
/// mount path that contains it.
pub fn mount_of<'v, 'a>(
    volumes: &'v [PodVolume<'a>],
    container: &str,
    path: &str,
) -> Option<(&'v PodVolume<'a>, &'v Mount<'a>)> {
    volumes
        .iter()
        .flat_map(|v| v.mounts.iter().map(move |m| (v, m)))
        .filter(|(_, m)| m.container == container && under(path, m.path))
        .max_by_key(|(_, m)| m.path.len())
}

/// `path` is `base` or below it, component by component.
fn under(path: &str, base: &str) -> bool {
    let base = base.trim_end_matches('/');
    base.is_empty()
        || path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// What a container last said: its waiting state, its current or last
/// termination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSays<'a> {
    pub container: &'a str,
    /// `state.waiting`, `state.terminated` or `lastState.terminated`.
    pub origin: &'static str,
    pub reason: &'a str,
    pub message: &'a str,
    pub exit_code: Option<i32>,
    pub restarts: i32,
}

fn says<'a>(
    status: &'a ContainerStatus,
    origin: &'static str,
    reason: &'a Option<String>,
    message: &'a Option<String>,
    exit_code: Option<i32>,
) -> Option<ContainerSays<'a>> {
    let message = message.as_deref().unwrap_or("").trim();
    (!message.is_empty()).then(|| ContainerSays {
        container: status.name.as_str(),
        origin,
        reason: reason.as_deref().unwrap_or(""),
        message,
        exit_code,
        restarts: status.restart_count,
    })
}

/// Every message the pod's containers (init containers first) carry in
/// their states, those without a message left out.
pub fn container_messages(pod: &Pod) -> Vec<ContainerSays<'_>> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let statuses: Vec<&ContainerStatus> = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .collect();
    let mut out = Vec::new();
    for s in statuses {
        let state = s.state.as_ref();
        if let Some(w) = state.and_then(|st| st.waiting.as_ref()) {
            out.extend(says(s, "state.waiting", &w.reason, &w.message, None));
        }
        if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
            out.extend(says(
                s,
                "state.terminated",
                &t.reason,
                &t.message,
                Some(t.exit_code),
            ));
        }
        if let Some(t) = s.last_state.as_ref().and_then(|st| st.terminated.as_ref()) {
            out.extend(says(
                s,
                "lastState.terminated",
                &t.reason,
                &t.message,
                Some(t.exit_code),
            ));
        }
    }
    out
}

/// Whether a container of the pod is crash-looping or ended in error:
/// its logs could hold what its state does not.
pub fn has_failing_container(pod: &Pod) -> bool {
    !crate::snapshot::failing_containers(pod).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_paths_match_by_component() {
        assert!(under("/data/db", "/data"));
        assert!(under("/data", "/data/"));
        assert!(!under("/database", "/data"));
        assert!(under("/anything", "/"));
    }
}
