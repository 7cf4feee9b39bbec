//! File-system errors the workload met, and the volume each is about: read
//! from the containers' states and the pod's events, attributed to a volume
//! by the path the message names or, without a path, by the one volume
//! that holds the container's data.

use crate::chain::{container_messages, mount_of, Mount, PodChain, PodVolume};
use crate::events;
use crate::model::Confidence;
use crate::volume_errors::{fs_errors, paths, FsError};

/// Kubelet events of the mount rules; what they say is not the workload's.
const MOUNT_EVENT_REASONS: &[&str] = &["FailedMount", "FailedMapVolume", "FailedAttachVolume"];

/// One error the workload met on a volume.
#[derive(Debug, Clone)]
pub struct Hit<'p, 'a> {
    pub error: FsError,
    /// The container that said it, when known.
    pub container: Option<&'a str>,
    /// Where it was read: `container app (lastState.terminated, exit code 1)`.
    pub origin: String,
    pub message: &'a str,
    /// The volume and mount the error is about; `None` when the container
    /// holds data on several volumes and the message names no path.
    pub volume: Option<(&'p PodVolume<'a>, &'p Mount<'a>)>,
    /// The path named, when the message names one under a mount.
    pub path: Option<&'a str>,
    /// Volumes that could be meant when the message names no path.
    pub candidates: Vec<&'p PodVolume<'a>>,
    pub confidence: Confidence,
}

/// Every error among `wanted` that the pod's containers or events report
/// on one of its volumes; errors on the container's own file system (a
/// path under no mount) are left out.
pub fn hits<'p, 'a>(pod: &'p PodChain<'a>, wanted: &[FsError]) -> Vec<Hit<'p, 'a>> {
    let mut out = Vec::new();
    for says in container_messages(pod.pod) {
        let exit = says
            .exit_code
            .map(|c| format!(", exit code {c}"))
            .unwrap_or_default();
        let reason = if says.reason.is_empty() {
            String::new()
        } else {
            format!(" {}", says.reason)
        };
        let origin = format!(
            "container {} ({}{reason}{exit}, {} restart(s))",
            says.container, says.origin, says.restarts
        );
        out.extend(attribute(
            pod,
            wanted,
            Some(says.container),
            origin,
            says.message,
        ));
    }
    for e in &pod.events {
        if !events::is_warning(e) || MOUNT_EVENT_REASONS.contains(&events::reason(e)) {
            continue;
        }
        let origin = format!("event {}", events::reason(e));
        out.extend(attribute(pod, wanted, None, origin, events::message(e)));
    }
    out
}

fn attribute<'p, 'a>(
    pod: &'p PodChain<'a>,
    wanted: &[FsError],
    container: Option<&'a str>,
    origin: String,
    message: &'a str,
) -> Vec<Hit<'p, 'a>> {
    let errors: Vec<FsError> = fs_errors(message)
        .into_iter()
        .filter(|e| wanted.contains(e))
        .collect();
    let Some(&error) = errors.first() else {
        return Vec::new();
    };
    let named = paths(message);
    let containers: Vec<&str> = match container {
        Some(c) => vec![c],
        None => pod
            .volumes
            .iter()
            .flat_map(|v| v.mounts.iter().map(|m| m.container))
            .collect(),
    };
    let under_mount = named.iter().find_map(|p| {
        containers
            .iter()
            .find_map(|c| mount_of(&pod.volumes, c, p))
            .map(|vm| (vm, *p))
    });
    let hit = |volume, path, candidates, confidence| Hit {
        error,
        container,
        origin: origin.clone(),
        message,
        volume,
        path,
        candidates,
        confidence,
    };
    if let Some((vm, path)) = under_mount {
        return vec![hit(Some(vm), Some(path), Vec::new(), Confidence::High)];
    }
    if !named.is_empty() {
        // A path under no mount: the container's own file system.
        return Vec::new();
    }
    let data: Vec<(&PodVolume, &Mount)> = pod
        .volumes
        .iter()
        .filter(|v| v.holds_data())
        .flat_map(|v| {
            v.mounts
                .iter()
                .filter(|m| !m.read_only && containers.contains(&m.container))
                .map(move |m| (v, m))
        })
        .collect();
    match data.as_slice() {
        [] => Vec::new(),
        [only] => vec![hit(Some(*only), None, Vec::new(), Confidence::Medium)],
        several => {
            let mut candidates: Vec<&PodVolume> = several.iter().map(|(v, _)| *v).collect();
            candidates.dedup_by_key(|v| v.name);
            vec![hit(None, None, candidates, Confidence::Low)]
        }
    }
}

/// How a hit reads as evidence: where it was said, and the message.
pub fn quote(hit: &Hit) -> String {
    format!("{}: {}", hit.origin, hit.message)
}
