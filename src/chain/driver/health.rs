//! Whether a driver component is well: a pod's trouble (Pending,
//! crash-looping, not Ready) and its sidecars' leader Lease.

use super::{lease_name, DriverComponents};
use crate::api::Pod;
use crate::snapshot::Snapshot;
use k8s_openapi::api::coordination::v1::Lease;

/// What is wrong with a pod that is not Running and Ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTrouble {
    /// As kubectl shows it: `CrashLoopBackOff`, `Pending`, `Running (not ready)`.
    pub state: String,
    /// The container most at fault.
    pub container: Option<String>,
    pub restarts: i32,
    pub crash_looping: bool,
    /// The last termination of that container: reason, exit code, message.
    pub last_reason: Option<String>,
    pub last_exit_code: Option<i32>,
    pub last_message: Option<String>,
    /// Why an unscheduled pod waits (its PodScheduled condition).
    pub unscheduled: Option<String>,
}

/// Waiting reasons that mean the container does not get going.
const STUCK: &[&str] = &[
    "CrashLoopBackOff",
    "Error",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
    "RunContainerError",
];

/// The trouble of a pod, or `None` when it is Running and Ready.
pub fn trouble(pod: &Pod) -> Option<PodTrouble> {
    if crate::chain::is_healthy(pod) {
        return None;
    }
    let status = pod.status.as_ref();
    let statuses: Vec<_> = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .chain(
            status
                .and_then(|s| s.init_container_statuses.as_ref())
                .into_iter()
                .flatten(),
        )
        .collect();
    let waiting = |c: &crate::api::ContainerStatus| {
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone())
    };
    let worst = statuses
        .iter()
        .copied()
        .filter(|c| !c.ready)
        .max_by_key(|c| {
            (
                waiting(c).is_some_and(|r| STUCK.contains(&r.as_str())),
                c.restart_count,
                std::cmp::Reverse(c.name.clone()),
            )
        });
    let last = worst
        .and_then(|c| c.last_state.as_ref())
        .and_then(|s| s.terminated.as_ref());
    let unscheduled = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| {
            c.iter()
                .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        })
        .map(|c| {
            c.message
                .clone()
                .or_else(|| c.reason.clone())
                .unwrap_or_default()
        });
    Some(PodTrouble {
        state: crate::chain::pod_state(pod),
        container: worst.map(|c| c.name.clone()),
        restarts: worst.map_or(0, |c| c.restart_count),
        crash_looping: worst
            .and_then(waiting)
            .is_some_and(|r| r == "CrashLoopBackOff"),
        last_reason: last.and_then(|t| t.reason.clone()),
        last_exit_code: last.map(|t| t.exit_code),
        last_message: last
            .and_then(|t| t.message.as_deref())
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty()),
        unscheduled,
    })
}

/// The state of one leader-election Lease.
#[derive(Debug, Clone)]
pub struct LeaseState<'a> {
    pub lease: &'a Lease,
    pub namespace: &'a str,
    pub name: &'a str,
    pub holder: Option<&'a str>,
    /// Seconds since `renewTime`; `None` when never renewed.
    pub age_seconds: Option<i64>,
    pub duration_seconds: Option<i32>,
    pub stale: bool,
}

/// How long a Lease may go unrenewed: three lease durations, and never
/// less than two minutes.
pub fn stale_after(duration: Option<i32>) -> i64 {
    (3 * i64::from(duration.unwrap_or(0).max(0))).max(120)
}

/// The leader Lease of one sidecar of `driver`, preferring the controller's
/// namespaces.
pub fn leader_lease<'a>(
    snap: &'a Snapshot,
    comps: &DriverComponents,
    sidecar: &str,
    driver: &str,
) -> Option<LeaseState<'a>> {
    let name = lease_name(sidecar, driver)?;
    let namespaces = comps.controller_namespaces();
    let lease = snap
        .objects
        .leases
        .iter()
        .filter(|l| l.metadata.name.as_deref() == Some(name.as_str()))
        .min_by_key(|l| {
            let ns = l.metadata.namespace.as_deref().unwrap_or("");
            (!namespaces.contains(&ns), ns.to_string())
        })?;
    let spec = lease.spec.as_ref();
    let duration = spec.and_then(|s| s.lease_duration_seconds);
    let age = spec
        .and_then(|s| s.renew_time.as_ref().or(s.acquire_time.as_ref()))
        .map(|t| snap.now.as_second() - t.0.as_second());
    Some(LeaseState {
        lease,
        namespace: lease.metadata.namespace.as_deref().unwrap_or(""),
        name: lease.metadata.name.as_deref().unwrap_or(""),
        holder: spec
            .and_then(|s| s.holder_identity.as_deref())
            .filter(|h| !h.is_empty()),
        age_seconds: age,
        duration_seconds: duration,
        stale: age.is_some_and(|a| a > stale_after(duration)),
    })
}
