//! Workloads as subjects: a StatefulSet that failed to create its pods,
//! and a workload target that has fewer pods than it wants.

use super::Chain;
use crate::api::{Event, PodSpec, PodTemplateSpec, StatefulSet};
use crate::model::ObjectRef;
use crate::owners::replica_sets_of;
use crate::scope::{Scope, WorkloadKind};
use crate::snapshot::Snapshot;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// A workload whose pods could not be created, with its events.
#[derive(Debug, Clone)]
pub struct WorkloadChain<'a> {
    pub kind: WorkloadKind,
    pub meta: &'a ObjectMeta,
    pub namespace: String,
    pub name: String,
    /// The pods it wants, and the ones that exist.
    pub wanted: i32,
    pub created: i32,
    /// Its pod template's spec.
    pub template: Option<&'a PodSpec>,
    /// Its own events and, for a Deployment, its ReplicaSets'.
    pub events: Vec<&'a Event>,
}

/// A StatefulSet that failed to create its pods, as a subject.
pub(super) fn workload_chain<'a>(snap: &'a Snapshot, sts: &'a StatefulSet) -> Option<Chain<'a>> {
    let ns = sts.metadata.namespace.as_deref().unwrap_or_default();
    let name = sts.metadata.name.as_deref().unwrap_or_default();
    let events = snap.events_for("StatefulSet", ns, name, sts.metadata.uid.as_deref());
    crate::events::Timeline::new(&events).current("FailedCreate")?;
    Some(stateful_set_chain(sts, events))
}

fn stateful_set_chain<'a>(sts: &'a StatefulSet, events: Vec<&'a Event>) -> Chain<'a> {
    WorkloadChain::of(
        WorkloadKind::StatefulSet,
        &sts.metadata,
        sts.spec.as_ref().map(|s| &s.template),
        (
            sts.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            sts.status.as_ref().map_or(0, |s| s.replicas),
        ),
        events,
    )
}

impl<'a> WorkloadChain<'a> {
    fn of(
        kind: WorkloadKind,
        meta: &'a ObjectMeta,
        template: Option<&'a PodTemplateSpec>,
        (wanted, created): (i32, i32),
        events: Vec<&'a Event>,
    ) -> Chain<'a> {
        let ns = meta.namespace.clone().unwrap_or_default();
        let name = meta.name.clone().unwrap_or_default();
        Chain {
            workload: Some(WorkloadChain {
                kind,
                meta,
                namespace: ns.clone(),
                name: name.clone(),
                wanted,
                created,
                template: template.and_then(|t| t.spec.as_ref()),
                events,
            }),
            ..Chain::of_pod_or_claim(ObjectRef::namespaced(kind.as_str(), &ns, &name))
        }
    }
}

/// A workload named as a target that has fewer pods than it wants: what
/// it says about why, as a subject next to its pods (a StatefulSet's
/// failures are [`workload_chain`]'s). It counts only when a rule finds
/// something.
pub(super) fn short_workload<'a>(
    snap: &'a Snapshot,
    scope: &Scope,
    kind: WorkloadKind,
    name: &str,
) -> Vec<Chain<'a>> {
    let o = &snap.objects;
    let named = |m: &ObjectMeta| {
        m.name.as_deref() == Some(name) && scope.includes_namespace(m.namespace.as_deref())
    };
    let key = |m: &'a ObjectMeta| {
        (
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
        )
    };
    let events_of = |kind: &str, m: &'a ObjectMeta| {
        let (ns, name) = key(m);
        snap.events_for(kind, ns, name, m.uid.as_deref())
    };
    let mut out = Vec::new();
    match kind {
        WorkloadKind::Deployment => {
            for d in o.deployments.iter().filter(|d| named(&d.metadata)) {
                let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let created = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
                let mut events = events_of("Deployment", &d.metadata);
                let (ns, name) = key(&d.metadata);
                for rs in replica_sets_of(snap, ns, name, d.metadata.uid.as_deref()) {
                    events.extend(events_of("ReplicaSet", &rs.metadata));
                }
                events.sort_by_key(|e| std::cmp::Reverse(crate::events::last_seen(e)));
                out.push(WorkloadChain::of(
                    kind,
                    &d.metadata,
                    d.spec.as_ref().map(|s| &s.template),
                    (wanted, created),
                    events,
                ));
            }
        }
        WorkloadKind::ReplicaSet => {
            for rs in o.replica_sets.iter().filter(|x| named(&x.metadata)) {
                let wanted = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
                let created = rs.status.as_ref().map_or(0, |s| s.replicas);
                out.push(WorkloadChain::of(
                    kind,
                    &rs.metadata,
                    rs.spec.as_ref().and_then(|s| s.template.as_ref()),
                    (wanted, created),
                    events_of("ReplicaSet", &rs.metadata),
                ));
            }
        }
        WorkloadKind::StatefulSet => {
            for sts in o.stateful_sets.iter().filter(|x| named(&x.metadata)) {
                out.push(stateful_set_chain(
                    sts,
                    events_of("StatefulSet", &sts.metadata),
                ));
            }
        }
        WorkloadKind::DaemonSet => {
            for ds in o.daemon_sets.iter().filter(|x| named(&x.metadata)) {
                let status = ds.status.as_ref();
                let wanted = status.map_or(0, |s| s.desired_number_scheduled);
                let created = status.map_or(0, |s| s.current_number_scheduled);
                out.push(WorkloadChain::of(
                    kind,
                    &ds.metadata,
                    ds.spec.as_ref().map(|s| &s.template),
                    (wanted, created),
                    events_of("DaemonSet", &ds.metadata),
                ));
            }
        }
        WorkloadKind::Job => {
            for job in o.jobs.iter().filter(|x| named(&x.metadata)) {
                let status = job.status.as_ref();
                let finished = status.is_some_and(|s| s.completion_time.is_some())
                    || status.and_then(|s| s.conditions.as_ref()).is_some_and(|c| {
                        c.iter().any(|c| {
                            (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True"
                        })
                    });
                let suspended = job.spec.as_ref().and_then(|s| s.suspend) == Some(true);
                if finished || suspended {
                    continue;
                }
                let wanted = job.spec.as_ref().and_then(|s| s.parallelism).unwrap_or(1);
                let created = status.and_then(|s| s.active).unwrap_or(0);
                out.push(WorkloadChain::of(
                    kind,
                    &job.metadata,
                    job.spec.as_ref().map(|s| &s.template),
                    (wanted, created),
                    events_of("Job", &job.metadata),
                ));
            }
        }
        // A CronJob has no pods between its runs.
        WorkloadKind::CronJob => {}
    }
    out.retain(|c| c.workload.as_ref().is_some_and(|w| w.created < w.wanted));
    out
}
