//! File-system errors the workload met, and the volume each is about: read
//! from the containers' states, the previous run's log tails (`--logs`)
//! and the pod's events, attributed to a volume
//! by the path the line of the error names or, without a path, by the one
//! volume that holds the container's data.

use crate::chain::{container_messages, mount_of, ClaimChain, Mount, PodChain, PodVolume};
use crate::events;
use crate::model::{Confidence, ObjectRef};
use crate::volume_errors::{fs_errors, named_volume, paths, FsError};

/// Kubelet events of the mount rules; what they say is not the workload's.
const MOUNT_EVENT_REASONS: &[&str] = &["FailedMount", "FailedMapVolume", "FailedAttachVolume"];

/// Quoted lines are cut here: a log tail can hold long lines.
const LINE_LIMIT: usize = 400;

/// One error the workload met on a volume.
#[derive(Debug, Clone)]
pub struct Hit<'p, 'a> {
    pub error: FsError,
    /// The container that said it, when known.
    pub container: Option<&'a str>,
    /// Where it was read: `container app (lastState.terminated, exit code 1)`.
    pub origin: String,
    pub message: &'a str,
    /// The line of the message that names the error.
    pub line: &'a str,
    /// For a log: the line next to it (the one after, else the one
    /// before), quoted with it; a log's other lines are not.
    pub neighbour: Option<&'a str>,
    /// The volume and mount the error is about; `None` when the container
    /// holds data on several volumes and the message names no path.
    pub volume: Option<(&'p PodVolume<'a>, &'p Mount<'a>)>,
    /// The path named, when the line names one under a mount.
    pub path: Option<&'a str>,
    /// Volumes that could be meant when the message names no path.
    pub candidates: Vec<&'p PodVolume<'a>>,
    pub confidence: Confidence,
}

impl Hit<'_, '_> {
    /// The name of the volume the error is about, when known.
    pub fn volume_name(&self) -> Option<&str> {
        self.volume.map(|(v, _)| v.name)
    }
}

/// Every error among `wanted` that the pod's containers or events report
/// on one of its volumes, at most one per error and message; errors on the
/// container's own file system (a path under no mount) are left out, and
/// so are events that name neither a path under a mount nor a volume: the
/// runtime's own errors (an image pull on a full node disk) read alike.
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
            &origin,
            says.message,
            false,
        ));
    }
    for log in &pod.logs {
        let origin = format!("log of container {} (previous run)", log.container);
        out.extend(attribute(
            pod,
            wanted,
            Some(log.container.as_str()),
            &origin,
            log.text.as_str(),
            true,
        ));
    }
    for e in &pod.events {
        if !events::is_warning(e) || MOUNT_EVENT_REASONS.contains(&events::reason(e)) {
            continue;
        }
        let origin = format!("event {}", events::reason(e));
        out.extend(attribute(
            pod,
            wanted,
            None,
            &origin,
            events::message(e),
            false,
        ));
    }
    out
}

fn attribute<'p, 'a>(
    pod: &'p PodChain<'a>,
    wanted: &[FsError],
    container: Option<&'a str>,
    origin: &str,
    message: &'a str,
    log: bool,
) -> Vec<Hit<'p, 'a>> {
    let containers: Vec<&str> = match container {
        Some(c) => vec![c],
        None => pod
            .volumes
            .iter()
            .flat_map(|v| v.mounts.iter().map(|m| m.container))
            .collect(),
    };
    let mut out = Vec::new();
    for &error in wanted {
        let lines: Vec<&str> = message.lines().collect();
        let found = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| fs_errors(l).contains(&error))
            .find_map(|(i, line)| {
                on_line(pod, &containers, container.is_none(), line).map(|a| (i, *line, a))
            });
        if let Some((i, line, (volume, path, candidates, confidence))) = found {
            let neighbour = log
                .then(|| {
                    let after = lines.get(i + 1).map(|l| l.trim()).filter(|l| !l.is_empty());
                    let before = i
                        .checked_sub(1)
                        .and_then(|j| lines.get(j))
                        .map(|l| l.trim())
                        .filter(|l| !l.is_empty());
                    after.or(before)
                })
                .flatten();
            out.push(Hit {
                error,
                container,
                origin: origin.to_string(),
                message,
                line: line.trim(),
                neighbour,
                volume,
                path,
                candidates,
                confidence,
            });
        }
    }
    out
}

type Attribution<'p, 'a> = (
    Option<(&'p PodVolume<'a>, &'p Mount<'a>)>,
    Option<&'a str>,
    Vec<&'p PodVolume<'a>>,
    Confidence,
);

/// The volume one line of a message is about, if any.
fn on_line<'p, 'a>(
    pod: &'p PodChain<'a>,
    containers: &[&str],
    event: bool,
    line: &'a str,
) -> Option<Attribution<'p, 'a>> {
    let named = paths(line);
    let under_mount = named.iter().find_map(|p| {
        containers
            .iter()
            .find_map(|c| mount_of(&pod.volumes, c, p))
            .map(|vm| (vm, *p))
    });
    if let Some((vm, path)) = under_mount {
        return Some((Some(vm), Some(path), Vec::new(), Confidence::High));
    }
    if !named.is_empty() {
        // A path under no mount: the container's own file system.
        return None;
    }
    if event {
        let name = named_volume(line)?;
        let v = pod.volumes.iter().find(|v| v.name == name)?;
        let m = v.mounts.first()?;
        return Some((Some((v, m)), None, Vec::new(), Confidence::Medium));
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
        [] => None,
        [only] => Some((Some(*only), None, Vec::new(), Confidence::Medium)),
        several => {
            let mut candidates: Vec<&PodVolume> = several.iter().map(|(v, _)| *v).collect();
            candidates.dedup_by_key(|v| v.name);
            Some((None, None, candidates, Confidence::Low))
        }
    }
}

/// How a hit reads as evidence: where it was said, and the line of the
/// error (with how much more the message holds).
pub fn quote(hit: &Hit) -> String {
    let cut = |line: &str| match line.char_indices().nth(LINE_LIMIT) {
        None => line.to_string(),
        Some((cut, _)) => format!("{}…", &line[..cut]),
    };
    let line = cut(hit.line);
    if hit.origin.starts_with("log of ") {
        // A log is the program's own output: only the line and its
        // neighbour, with control characters (colours, cursor moves)
        // shown, not obeyed.
        let line = escape_controls(&line);
        return match hit.neighbour {
            Some(n) => format!("{}: {line} | {}", hit.origin, escape_controls(&cut(n))),
            None => format!("{}: {line}", hit.origin),
        };
    }
    let more = hit.message.lines().filter(|l| !l.trim().is_empty()).count();
    if more > 1 {
        format!("{}: {line} (one line of {more})", hit.origin)
    } else {
        format!("{}: {line}", hit.origin)
    }
}

/// Control characters as `\u{..}` escapes: a log may hold any byte.
pub fn escape_controls(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The hits about each volume, one per volume and error, in the order
/// found; hits without a volume last.
pub fn by_volume<'h, 'p, 'a>(hits: &'h [Hit<'p, 'a>]) -> Vec<Vec<&'h Hit<'p, 'a>>> {
    let mut groups: Vec<Vec<&Hit>> = Vec::new();
    for h in hits.iter().filter(|h| h.volume.is_some()) {
        match groups
            .iter_mut()
            .find(|g| g[0].volume_name() == h.volume_name())
        {
            Some(g) => {
                if !g.iter().any(|x| x.error == h.error) {
                    g.push(h)
                }
            }
            None => groups.push(vec![h]),
        }
    }
    if let Some(h) = hits.iter().find(|h| h.volume.is_none()) {
        groups.push(vec![h]);
    }
    groups
}

/// The volume a hit is about, as evidence: `the path /data/x is under
/// /data, where container app mounts volume "data" (claim ns/c → PV p,
/// driver d)`.
pub fn where_line(hit: &Hit, claims: &[ClaimChain]) -> String {
    let Some((v, m)) = hit.volume else {
        let names: Vec<&str> = hit.candidates.iter().map(|v| v.name).collect();
        return format!(
            "the message names no path; container {} writes to several volumes ({}), any of which can be meant",
            hit.container.unwrap_or("?"),
            names.join(", ")
        );
    };
    let what = volume_description(v, claims);
    let ro = if m.read_only { " read-only" } else { "" };
    match hit.path {
        Some(p) if p.trim_end_matches('/') == m.path.trim_end_matches('/') => format!(
            "the path {p} is where container {} mounts volume \"{}\"{ro} ({what})",
            m.container, v.name
        ),
        Some(p) => format!(
            "the path {p} is under {}, where container {} mounts volume \"{}\"{ro} ({what})",
            m.path, m.container, v.name
        ),
        None if hit.container.is_some() => format!(
            "the message names no absolute path; volume \"{}\" ({what}), mounted{ro} at {} in container {}, is the only volume the container writes to",
            v.name, m.path, m.container
        ),
        None => format!(
            "the event names volume \"{}\" ({what}), mounted{ro} at {} in container {}",
            v.name, m.path, m.container
        ),
    }
}

/// A pod volume's type and, for a claim, its claim, PV and driver.
pub fn volume_description(v: &PodVolume, claims: &[ClaimChain]) -> String {
    let Some(c) = claims
        .iter()
        .find(|c| c.usage.as_ref().is_some_and(|u| u.volume == v.name))
    else {
        return match (&v.spec.csi, &v.spec.nfs, &v.spec.host_path) {
            (Some(csi), _, _) => format!("csi, driver {}", csi.driver),
            (_, Some(nfs), _) => format!("nfs {}:{}", nfs.server, nfs.path),
            (_, _, Some(h)) => format!("hostPath {}", h.path),
            _ => v.kind().to_string(),
        };
    };
    let pv = c
        .volume
        .and_then(|pv| pv.metadata.name.as_deref())
        .map(|n| format!(" → PV {n}"))
        .unwrap_or_default();
    let driver = c
        .volume_driver()
        .map(|d| format!(", driver {d}"))
        .unwrap_or_default();
    format!("claim {}/{}{pv}{driver}", c.namespace, c.name)
}

/// The claim, PV and the pod a hit names, as the objects of a cause.
pub fn objects_of(
    hit_volume: Option<&PodVolume>,
    pod: &PodChain,
    claims: &[ClaimChain],
) -> Vec<ObjectRef> {
    let mut out = vec![pod.object()];
    if let Some(c) = hit_volume.and_then(|v| {
        claims
            .iter()
            .find(|c| c.usage.as_ref().is_some_and(|u| u.volume == v.name))
    }) {
        out.push(c.object());
        if let Some(n) = c.volume.and_then(|pv| pv.metadata.name.as_deref()) {
            out.push(ObjectRef::volume(n));
        }
    }
    out
}
