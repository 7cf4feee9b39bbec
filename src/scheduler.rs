//! The scheduler's aggregated message (`0/3 nodes are available: ...`),
//! parsed into reasons. Handles the pre-1.25 counted form, the 1.25+ inline
//! PreFilter form, the `preemption:` tail, and plugin error prefixes.

/// One reason the scheduler gave, with how many nodes it applied to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub nodes: Option<u32>,
    pub text: String,
    pub kind: ReasonKind,
}

/// What a reason means for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasonKind {
    UnboundImmediateClaims,
    ClaimNotFound(String),
    ClaimBeingDeleted(String),
    EphemeralClaimNotCreated(String),
    /// `PVC ns/x was not created for pod ns/p (pod is not owner)`: the claim.
    EphemeralClaimNotOwned(String),
    ClaimBoundToMissingVolume,
    NoVolumeToBind,
    VolumeNodeAffinityConflict,
    NoVolumeZone,
    NotEnoughStorage,
    VolumeLimitExceeded,
    ReadWriteOncePodInUse,
    /// Nodes under DiskPressure: their disk-pressure taint (or, before
    /// 1.13, the predicate's own `node(s) had disk pressure`).
    NodeDiskPressure,
    /// `Insufficient ephemeral-storage`: the pod's request does not fit.
    InsufficientEphemeralStorage,
    /// A binding or provisioning step of the VolumeBinding plugin failed.
    VolumeBindingError,
    /// Anything not about volumes: cpu, taints, affinity ...
    Other,
}

impl ReasonKind {
    pub fn is_storage(&self) -> bool {
        !matches!(self, ReasonKind::Other)
    }

    /// A reason that holds for the pod whatever the node (a claim missing,
    /// unbound or being deleted; binding failed after a node was chosen):
    /// no node is judged on its own.
    pub fn is_pod_wide(&self) -> bool {
        matches!(
            self,
            ReasonKind::UnboundImmediateClaims
                | ReasonKind::ClaimNotFound(_)
                | ReasonKind::ClaimBeingDeleted(_)
                | ReasonKind::EphemeralClaimNotCreated(_)
                | ReasonKind::EphemeralClaimNotOwned(_)
                | ReasonKind::ClaimBoundToMissingVolume
                | ReasonKind::VolumeBindingError
        )
    }
}

/// A parsed scheduling failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Total nodes considered, when the message says (`0/3`).
    pub total_nodes: Option<u32>,
    pub reasons: Vec<Reason>,
    /// The message as the scheduler wrote it.
    pub message: String,
}

impl Verdict {
    pub fn has(&self, pred: impl Fn(&ReasonKind) -> bool) -> Option<&Reason> {
        self.reasons.iter().find(|r| pred(&r.kind))
    }

    pub fn storage_reasons(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| r.kind.is_storage())
    }

    pub fn other_reasons(&self) -> impl Iterator<Item = &Reason> {
        self.reasons.iter().filter(|r| !r.kind.is_storage())
    }
}

/// Parses a scheduler message. Never fails: text it does not recognise
/// becomes one `Other` reason.
pub fn parse(message: &str) -> Verdict {
    let full = message.trim();
    let mut body = full;
    // Newer schedulers append what preemption would do; it is not a reason.
    if let Some(i) = body.find("preemption:") {
        body = body[..i].trim_end();
    }
    // `error while running "VolumeBinding" prefilter plugin for pod "x": <reason>`
    if let Some(i) = body.find("plugin for pod ") {
        if let Some(j) = body[i..].find(": ") {
            body = &body[i + j + 2..];
        }
    }
    let mut total_nodes = None;
    if let Some((head, rest)) = body.split_once(" nodes are available:") {
        if let Some((_, total)) = head.trim().split_once('/') {
            total_nodes = total.trim().parse().ok();
        }
        body = rest.trim();
    }
    let body = body.trim_end_matches('.').trim();
    let reasons = split_reasons(body)
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|segment| {
            let (nodes, text) = match segment.split_once(' ') {
                Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) => {
                    (n.parse().ok(), rest.trim())
                }
                _ => (None, segment),
            };
            let text = text.trim_end_matches('.').to_string();
            Reason {
                nodes,
                kind: classify(&text),
                text,
            }
        })
        .collect();
    Verdict {
        total_nodes,
        reasons,
        message: full.to_string(),
    }
}

/// Splits `1 Insufficient cpu, 2 node(s) had taint {a: b}` at the commas
/// that start a new counted reason, and inline reasons at `. `.
fn split_reasons(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let sep = if body[i..].starts_with(", ") || body[i..].starts_with(". ") {
            2
        } else {
            0
        };
        if sep > 0 {
            let next = &body[i + sep..];
            let counted = next
                .split_once(' ')
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if counted || body[i..].starts_with(". ") {
                parts.push(body[start..i].trim());
                start = i + sep;
                i = start;
                continue;
            }
        }
        i += body[i..].chars().next().map_or(1, char::len_utf8);
    }
    parts.push(body[start..].trim());
    parts
}

/// Whether a reason the scheduler counts is one the nodes' state and the
/// pod's spec show by themselves: taints, the pod's nodeSelector or node
/// affinity, cordoned and not-ready nodes, in the wordings of 1.18 to 1.33.
pub fn shown_by_node_state(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("taint")
        || t.contains("didn't match node selector")
        || t.contains("didn't match pod's node affinity")
        || t.contains("didn't match node affinity")
        || t.contains("were unschedulable")
        || t.contains("node(s) had unschedulable")
        || t.contains("were not ready")
        || t.contains("node(s) not ready")
}

fn quoted(text: &str, prefix: &str) -> Option<String> {
    let rest = &text[text.find(prefix)? + prefix.len()..];
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

fn classify(text: &str) -> ReasonKind {
    let t = text;
    if t.contains("unbound immediate PersistentVolumeClaims") {
        ReasonKind::UnboundImmediateClaims
    } else if t
        .contains("waiting for ephemeral volume controller to create the persistentvolumeclaim")
    {
        ReasonKind::EphemeralClaimNotCreated(
            quoted(t, "persistentvolumeclaim ").unwrap_or_default(),
        )
    } else if let Some(claim) = t
        .split_once("PVC ")
        .filter(|(_, rest)| rest.contains(" was not created for pod "))
        .and_then(|(_, rest)| rest.split_whitespace().next())
    {
        ReasonKind::EphemeralClaimNotOwned(claim.rsplit('/').next().unwrap_or(claim).to_string())
    } else if t.starts_with("persistentvolumeclaim \"") && t.ends_with("not found") {
        ReasonKind::ClaimNotFound(quoted(t, "persistentvolumeclaim ").unwrap_or_default())
    } else if t.starts_with("persistentvolumeclaim \"") && t.contains("is being deleted") {
        ReasonKind::ClaimBeingDeleted(quoted(t, "persistentvolumeclaim ").unwrap_or_default())
    } else if t.contains("bound to non-existent persistentvolume")
        || t.contains("bound to non-existent pv")
    {
        ReasonKind::ClaimBoundToMissingVolume
    } else if t.contains("didn't find available persistent volumes to bind") {
        ReasonKind::NoVolumeToBind
    } else if t.contains("had volume node affinity conflict")
        || t.contains("didn't match PersistentVolume's node affinity")
    {
        ReasonKind::VolumeNodeAffinityConflict
    } else if t.contains("no available volume zone") {
        ReasonKind::NoVolumeZone
    } else if t.contains("did not have enough free storage") {
        ReasonKind::NotEnoughStorage
    } else if t.contains("exceed max volume count") {
        ReasonKind::VolumeLimitExceeded
    } else if t.contains("ReadWriteOncePod access mode") {
        ReasonKind::ReadWriteOncePodInUse
    } else if t.contains("disk-pressure") || t.contains("had disk pressure") {
        ReasonKind::NodeDiskPressure
    } else if t.contains("Insufficient ephemeral-storage") {
        ReasonKind::InsufficientEphemeralStorage
    } else if t.contains("VolumeBinding") || t.contains("binding volumes:") {
        ReasonKind::VolumeBindingError
    } else {
        ReasonKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(msg: &str) -> Vec<(Option<u32>, ReasonKind)> {
        parse(msg)
            .reasons
            .into_iter()
            .map(|r| (r.nodes, r.kind))
            .collect()
    }

    #[test]
    fn ephemeral_claim_of_another_pod() {
        assert_eq!(
            kinds("0/3 nodes are available: PVC team/web-0-scratch was not created for pod team/web-0 (pod is not owner). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."),
            vec![(None, ReasonKind::EphemeralClaimNotOwned("web-0-scratch".into()))]
        );
    }

    #[test]
    fn inline_prefilter_form_with_preemption_tail() {
        let v = parse("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
        assert_eq!(v.total_nodes, Some(3));
        assert_eq!(v.reasons.len(), 1);
        assert_eq!(v.reasons[0].kind, ReasonKind::UnboundImmediateClaims);
        assert_eq!(v.reasons[0].nodes, None);
    }

    #[test]
    fn counted_form_before_1_25() {
        assert_eq!(
            kinds("0/3 nodes are available: 3 pod has unbound immediate PersistentVolumeClaims."),
            vec![(Some(3), ReasonKind::UnboundImmediateClaims)]
        );
    }

    #[test]
    fn several_counted_reasons() {
        let k = kinds("0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) had volume node affinity conflict. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.");
        assert_eq!(
            k,
            vec![
                (Some(1), ReasonKind::Other),
                (Some(1), ReasonKind::Other),
                (Some(2), ReasonKind::VolumeNodeAffinityConflict),
            ]
        );
    }

    #[test]
    fn claim_names_are_extracted() {
        assert_eq!(
            kinds("0/2 nodes are available: persistentvolumeclaim \"checkpoint-pcv\" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."),
            vec![(None, ReasonKind::ClaimNotFound("checkpoint-pcv".into()))]
        );
        assert_eq!(
            kinds("0/3 nodes are available: 3 persistentvolumeclaim \"data\" not found."),
            vec![(Some(3), ReasonKind::ClaimNotFound("data".into()))]
        );
        assert_eq!(
            kinds("0/1 nodes are available: waiting for ephemeral volume controller to create the persistentvolumeclaim \"web-0-scratch\". preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."),
            vec![(None, ReasonKind::EphemeralClaimNotCreated("web-0-scratch".into()))]
        );
    }

    #[test]
    fn both_node_affinity_wordings() {
        assert_eq!(
            kinds(
                "0/3 nodes are available: 3 node(s) didn't match PersistentVolume's node affinity."
            )[0]
            .1,
            ReasonKind::VolumeNodeAffinityConflict
        );
    }

    #[test]
    fn a_node_disk_in_each_wording() {
        for msg in [
            "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            "0/3 nodes are available: 3 node(s) had taint {node.kubernetes.io/disk-pressure: }, that the pod didn't tolerate.",
            "0/2 nodes are available: 2 node(s) had disk pressure.",
        ] {
            assert_eq!(kinds(msg)[0].1, ReasonKind::NodeDiskPressure, "{msg}");
        }
        assert_eq!(
            kinds("0/4 nodes are available: 4 Insufficient ephemeral-storage.")[0].1,
            ReasonKind::InsufficientEphemeralStorage
        );
    }

    #[test]
    fn both_rwop_wordings() {
        for msg in [
            "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.",
            "0/2 nodes are available: node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
        ] {
            assert_eq!(kinds(msg)[0].1, ReasonKind::ReadWriteOncePodInUse, "{msg}");
        }
    }

    #[test]
    fn plugin_error_prefix() {
        assert_eq!(
            kinds("error while running \"VolumeBinding\" prefilter plugin for pod \"web-0\": pod has unbound immediate PersistentVolumeClaims"),
            vec![(None, ReasonKind::UnboundImmediateClaims)]
        );
    }

    #[test]
    fn reasons_the_nodes_state_shows() {
        for text in [
            "node(s) had taint {dedicated: db}, that the pod didn't tolerate",
            "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",
            "node(s) had taints that the pod didn't tolerate",
            "node(s) didn't match node selector",
            "node(s) didn't match Pod's node affinity/selector",
            "node(s) were unschedulable",
            "node(s) were not ready",
        ] {
            assert!(shown_by_node_state(text), "{text}");
        }
        for text in [
            "Insufficient cpu",
            "Too many pods",
            "node(s) didn't have free ports for the requested pod ports",
            "node(s) didn't match pod anti-affinity rules",
            "node(s) didn't match pod topology spread constraints",
        ] {
            assert!(!shown_by_node_state(text), "{text}");
        }
    }

    #[test]
    fn unknown_text_is_one_other_reason() {
        let v = parse("something new");
        assert_eq!(v.reasons.len(), 1);
        assert_eq!(v.reasons[0].kind, ReasonKind::Other);
        assert!(parse("").reasons.is_empty());
    }
}
