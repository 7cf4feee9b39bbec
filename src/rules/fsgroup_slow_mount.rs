//! `fsgroup-slow-mount`: the kubelet spends minutes changing the ownership
//! of every file of a large volume to the pod's `fsGroup` before the
//! containers may start. Seen from the kubelet's
//! `VolumePermissionChangeInProgress` events, or from state: a pod long in
//! ContainerCreating with `fsGroup` and the default change policy on a
//! mounted claim, and no mount or attach error.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::edit_pod_spec_hint;
use super::support::security::{claim_of, fs_group_support, identity, mounted_claims, FsGroup};
use super::support::workload_errors::volume_description;
use crate::api::Pod;
use crate::chain::{ClaimChain, PodChain, PodVolume};
use crate::events::{self, Timeline};
use crate::model::{age, Confidence, Link, Severity};

pub const RULE: Rule = Rule {
    id: "fsgroup-slow-mount",
    title:
        "the kubelet spends minutes changing the ownership of a large volume to the pod's fsGroup",
    severity: Severity::Warning,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/fsgroup-slow-mount.md"),
};

const REASON: &str = "VolumePermissionChangeInProgress";

/// Waiting this long in ContainerCreating with the ownership change due is
/// suspicious without the kubelet's event.
const SLOW_SECONDS: i64 = 120;

/// Kubelet events that would explain a pod in ContainerCreating instead.
const MOUNT_TROUBLE: &[&str] = &[
    "FailedMount",
    "FailedMapVolume",
    "FailedAttachVolume",
    "FailedCreatePodSandBox",
];

/// No container of the pod has started yet: volumes are still being set up.
fn not_started(pod: &Pod) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return true;
    };
    status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .all(|s| {
            let state = s.state.as_ref();
            let waiting = state.is_none_or(|st| st.running.is_none() && st.terminated.is_none());
            let reason = state
                .and_then(|st| st.waiting.as_ref())
                .and_then(|w| w.reason.as_deref());
            waiting
                && s.last_state.as_ref().is_none_or(|l| l.terminated.is_none())
                && matches!(reason, None | Some("ContainerCreating" | "PodInitializing"))
        })
}

/// The volume an ownership event names: `<uid>/volumes/<plugin>/<name>[/mount]`,
/// where `<name>` is the PV for a claim and the pod volume otherwise.
fn event_volume<'p, 'a>(
    message: &str,
    pod: &'p PodChain<'a>,
    claims: &[ClaimChain],
) -> Option<&'p PodVolume<'a>> {
    let (_, rest) = message.split_once("/volumes/")?;
    let name = rest.split('/').nth(1)?;
    let name = name.split([',', ' ']).next()?;
    pod.volumes.iter().find(|v| {
        v.name == name
            || claim_of(v, claims)
                .and_then(|c| c.volume)
                .and_then(|pv| pv.metadata.name.as_deref())
                == Some(name)
    })
}

/// `processed 123456 files` → 123456.
fn processed(message: &str) -> Option<u64> {
    let (_, rest) = message.split_once("processed ")?;
    rest.split_whitespace().next()?.parse().ok()
}

fn check(ctx: &Ctx, pod: &PodChain, _node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    if !not_started(pod.pod) {
        return Vec::new();
    }
    let who = identity(pod.pod, None);
    let ns = pod.namespace;
    let timeline = Timeline::new(&pod.events);
    let event = timeline
        .latest(REASON)
        .filter(|e| events::message(e).contains("Setting volume ownership for"));
    let mut cause = if let Some(e) = event {
        let message = events::message(e);
        let volume = event_volume(message, pod, claims);
        let mut cause = Cause::new(
            &RULE,
            format!(
                "the kubelet is still changing the ownership of {} of pod {ns}/{} to fsGroup {}; the containers start once it is done",
                volume.map_or("a volume".to_string(), |v| format!("volume \"{}\"", v.name)),
                pod.name,
                who.fs_group.map_or("(unset)".to_string(), |g| g.to_string())
            ),
        )
        .evidence(events::quote(e, ctx.snap.now));
        if let Some(since) = scheduled_at(pod.pod) {
            cause = cause.evidence(format!(
                "scheduled {} ago, no container started yet",
                age(since, ctx.snap.now)
            ));
        }
        if let Some(n) = processed(message) {
            cause = cause.evidence(format!("{n} files processed so far"));
        }
        if let Some(v) = volume {
            cause = cause.evidence(format!(
                "volume \"{}\": {}",
                v.name,
                volume_description(v, claims)
            ));
        }
        cause
    } else {
        let Some(group) = who.fs_group else {
            return Vec::new();
        };
        if who.on_root_mismatch() {
            return Vec::new();
        }
        if MOUNT_TROUBLE.iter().any(|r| timeline.latest(r).is_some()) {
            return Vec::new();
        }
        let chowned: Vec<&PodVolume> = mounted_claims(pod)
            .filter(|v| {
                claim_of(v, claims).is_some_and(|c| c.is_bound())
                    && matches!(fs_group_support(ctx, v, claims), FsGroup::Applied(_))
            })
            .collect();
        if chowned.is_empty() {
            return Vec::new();
        }
        let Some(since) = scheduled_at(pod.pod) else {
            return Vec::new();
        };
        if ctx.snap.now.as_second() - since.as_second() < SLOW_SECONDS {
            return Vec::new();
        }
        let names: Vec<String> = chowned.iter().map(|v| format!("\"{}\"", v.name)).collect();
        let mut cause = Cause::new(
            &RULE,
            format!(
                "pod {ns}/{} has waited in ContainerCreating for {} with fsGroup {group} and no mount error: the kubelet is likely changing the ownership of every file of volume {}",
                pod.name,
                age(since, ctx.snap.now),
                names.join(", ")
            ),
        )
        .confidence(Confidence::Medium)
        .evidence(format!(
            "scheduled {} ago, no container started, no FailedMount or FailedAttachVolume event",
            age(since, ctx.snap.now)
        ));
        for v in &chowned {
            cause = cause.evidence(format!(
                "volume \"{}\": {}",
                v.name,
                volume_description(v, claims)
            ));
        }
        cause
    };
    cause = cause.object(pod.object()).evidence(who.describe(None));
    for c in claims {
        cause = cause.object(c.object());
    }
    if who.on_root_mismatch() {
        return vec![cause.fix(
            "fsGroupChangePolicy is already OnRootMismatch: the volume's root does not match fsGroup, so this start walks every file once; later starts skip it. For a volume whose ownership is set on the storage side, the CSIDriver's fsGroupPolicy: None stops the walk for all volumes of that driver",
        )];
    }
    vec![cause
        .fix(edit_pod_spec_hint(
            ctx,
            pod,
            "set spec.securityContext.fsGroupChangePolicy: OnRootMismatch (the kubelet then skips the walk when the volume's root already has the fsGroup and permissions)",
        ))
        .fix("the start under way finishes by itself; the next start with OnRootMismatch skips the walk once the root matches")
        .fix("when ownership is handled on the storage side, the CSIDriver's fsGroupPolicy: None stops the walk for every volume of the driver (mutable since Kubernetes 1.29)")]
}

/// When the pod was scheduled: the PodScheduled condition, else its
/// creation.
fn scheduled_at(pod: &Pod) -> Option<jiff::Timestamp> {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "True")
        })
        .and_then(|c| c.last_transition_time.as_ref())
        .or(pod.metadata.creation_timestamp.as_ref())
        .map(|t| t.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn creating(fs_group: Option<i64>, policy: Option<&str>) -> Pod {
        let p = pod("es-0")
            .claim("data")
            .mount("vol0", "/usr/share/elasticsearch/data")
            .run_as(Some(1000), fs_group)
            .on_node("node-1")
            .waiting("ContainerCreating");
        match policy {
            Some(policy) => p.fs_group_change_policy(policy),
            None => p,
        }
    }

    fn with(p: Pod, events: Vec<crate::api::Event>) -> crate::snapshot::Snapshot {
        snapshot(move |o| {
            o.claims.push(pvc("data").bound("pvc-0a1b"));
            let mut v = pv("pvc-0a1b")
                .bound_to("default", "data")
                .csi("ebs.csi.aws.com");
            if let Some(csi) = v.spec.as_mut().and_then(|s| s.csi.as_mut()) {
                csi.fs_type = Some("ext4".into());
            }
            o.volumes.push(v);
            o.pods.push(p);
            o.events.extend(events);
        })
    }

    #[test]
    fn the_kubelet_event_names_the_volume_and_count() {
        let snap = with(
            creating(Some(1000), None),
            vec![event(REASON, "Setting volume ownership for 172b102d-7f3c-4a53-9d1e-2b0c0e2a9f11/volumes/kubernetes.io~csi/pvc-0a1b/mount, processed 1843200 files.")
                .warning()
                .about("Pod", "default", "es-0")],
        );
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("volume \"vol0\""), "{t}");
        assert!(t.contains("1843200 files"), "{t}");
        assert!(t.contains("fsGroupChangePolicy: OnRootMismatch"), "{t}");
        assert_eq!(c[0].confidence, Confidence::High);
    }

    #[test]
    fn from_state_with_medium_confidence() {
        // Created at 10:00, the snapshot's now is the newest timestamp:
        // an unrelated event at 10:10.
        let clock = event("Scheduled", "Successfully assigned default/es-0 to node-1")
            .about("Pod", "default", "es-0");
        let snap = with(creating(Some(1000), None), vec![clock.clone()]);
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].confidence, Confidence::Medium);
        // OnRootMismatch, no fsGroup, or a mount error: not this rule.
        let snap = with(
            creating(Some(1000), Some("OnRootMismatch")),
            vec![clock.clone()],
        );
        assert!(causes(&RULE, &snap).is_empty());
        let snap = with(creating(None, None), vec![clock.clone()]);
        assert!(causes(&RULE, &snap).is_empty());
        let failed = event(
            "FailedMount",
            "MountVolume.SetUp failed for volume \"pvc-0a1b\" : rpc error",
        )
        .warning()
        .about("Pod", "default", "es-0");
        let snap = with(creating(Some(1000), None), vec![clock, failed]);
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn started_pods_are_past_it() {
        let p = creating(Some(1000), None).crash_looping("boom");
        let snap = with(
            p,
            vec![event(REASON, "Setting volume ownership for x/volumes/kubernetes.io~csi/pvc-0a1b/mount is taking longer than expected, consider using OnRootMismatch - https://kubernetes.io/docs/tasks/configure-pod-container/security-context/#configure-volume-permission-and-ownership-change-policy-for-pods")
                .warning()
                .about("Pod", "default", "es-0")],
        );
        assert!(causes(&RULE, &snap).is_empty());
    }
}
