//! Pods whose deletion is overdue: `deletionTimestamp` is the moment the
//! API server expects the pod gone (the delete request plus its grace
//! period), so a pod still there well after it is stuck.

use crate::api::{Pod, Volume};
use jiff::Timestamp;

/// Time the kubelet gets after the grace period to stop containers and
/// tear volumes down before the pod counts as stuck.
pub const STUCK_MARGIN_SECONDS: i64 = 120;

/// A deletion that is taking longer than its grace period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overdue {
    /// `metadata.deletionTimestamp`: when the pod should have been gone.
    pub due: Timestamp,
    /// The grace period, from `deletionGracePeriodSeconds` or the spec.
    pub grace_seconds: i64,
    /// How long past `due` it is.
    pub overdue_seconds: i64,
}

impl Overdue {
    /// When the deletion was asked for.
    pub fn requested(&self) -> Timestamp {
        self.due
            .checked_sub(jiff::SignedDuration::from_secs(self.grace_seconds))
            .unwrap_or(self.due)
    }
}

/// The deletion of the pod, when it is overdue by more than the margin.
pub fn overdue(pod: &Pod, now: Timestamp) -> Option<Overdue> {
    let due = pod.metadata.deletion_timestamp.as_ref()?.0;
    let grace_seconds = pod
        .metadata
        .deletion_grace_period_seconds
        .or_else(|| {
            pod.spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
        })
        .unwrap_or(30)
        .clamp(0, 10 * 365 * 86400);
    let overdue_seconds = now.as_second().saturating_sub(due.as_second());
    (overdue_seconds > STUCK_MARGIN_SECONDS).then_some(Overdue {
        due,
        grace_seconds,
        overdue_seconds,
    })
}

/// Volumes every pod gets from the kubelet's own data (tokens, config,
/// scratch): not storage a stuck deletion is about, unless an error names them.
fn is_pod_local(v: &Volume) -> bool {
    v.projected.is_some()
        || v.config_map.is_some()
        || v.secret.is_some()
        || v.downward_api.is_some()
        || v.empty_dir.is_some()
}

/// Volumes of the pod that live outside it: claims, inline CSI, NFS,
/// host paths ...
pub fn storage_volumes(pod: &Pod) -> impl Iterator<Item = &Volume> {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter(|v| !is_pod_local(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn deleted(mut p: Pod, due: &str, grace: i64) -> Pod {
        p.metadata.deletion_timestamp = Some(Time(due.parse().unwrap()));
        p.metadata.deletion_grace_period_seconds = Some(grace);
        p
    }

    #[test]
    fn overdue_counts_from_the_deletion_timestamp() {
        let now: Timestamp = "2026-11-20T10:10:00Z".parse().unwrap();
        let fresh = deleted(pod("a"), "2026-11-20T10:10:20Z", 30);
        assert_eq!(overdue(&fresh, now), None);
        let margin = deleted(pod("b"), "2026-11-20T10:09:00Z", 30);
        assert_eq!(overdue(&margin, now), None);
        let stuck = deleted(pod("c"), "2026-11-20T10:00:00Z", 30);
        let o = overdue(&stuck, now).unwrap();
        assert_eq!(o.overdue_seconds, 600);
        assert_eq!(o.requested().to_string(), "2026-11-20T09:59:30Z");
        assert_eq!(overdue(&pod("d"), now), None);
    }

    #[test]
    fn absurd_grace_periods_do_not_panic() {
        let now: Timestamp = "2026-11-20T10:10:00Z".parse().unwrap();
        let p = deleted(pod("x"), "2026-11-20T10:00:00Z", i64::MAX);
        let o = overdue(&p, now).unwrap();
        let _ = o.requested();
        let p = deleted(pod("y"), "2026-11-20T10:00:00Z", i64::MIN);
        assert_eq!(overdue(&p, now).unwrap().grace_seconds, 0);
    }

    #[test]
    fn claims_count_as_storage_tokens_do_not() {
        let p = pod("x").claim("data");
        assert_eq!(storage_volumes(&p).count(), 1);
        assert_eq!(storage_volumes(&pod("y")).count(), 0);
    }
}
