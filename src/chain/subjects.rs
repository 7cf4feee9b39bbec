//! The subjects of a run: the pods, claims, volumes, classes and workloads
//! the scope names or, without targets, everything in scope that has a
//! claim or a problem of its own.

use super::pod::{disk_eviction_of, node_disk_block, scheduling_of, uses_claims};
use super::volumes::container_messages;
use super::workload::{short_workload, workload_chain};
use super::{
    data_source_of, failed_for_storage, is_finished, is_healthy, overdue, storage_volumes, Chain,
    ClaimChain, PodChain,
};
use crate::api::Pod;
use crate::model::ObjectRef;
use crate::owners::belongs_to;
use crate::scope::{Scope, Target, TargetNotFound, WorkloadKind};
use crate::snapshot::{claim_names, Snapshot};
use crate::volume_errors::{fs_errors, refuses_volumes, subpath_failure};
use crate::volume_snapshot::VolumeSnapshot;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeSet;

/// What was found so far: the subject pods and claims, and the subjects a
/// target names that are resolved when found.
#[derive(Default)]
struct Found<'a> {
    pods: Vec<&'a Pod>,
    claims: Vec<&'a PersistentVolumeClaim>,
    /// Volumes, classes and workloads.
    resolved: Vec<Chain<'a>>,
}

/// Borrowed keys: cloning both names on every comparison dominated at scale.
fn key(meta: &ObjectMeta) -> (&str, &str) {
    (
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
    )
}

/// Whether a pod still holds its claims, or storage is why it failed, or
/// its deletion is overdue (it may still hold its volumes).
fn is_active(snap: &Snapshot, pod: &Pod) -> bool {
    !is_finished(pod) || failed_for_storage(pod) || overdue(pod, snap.now).is_some()
}

/// A pod past its deletion's grace period that still has storage volumes
/// (claims or others): stuck, and maybe holding them.
fn stuck_with_storage(snap: &Snapshot, pod: &Pod) -> bool {
    overdue(pod, snap.now).is_some() && storage_volumes(pod).next().is_some()
}

/// Kubelet events about a pod's volumes, other than claims'.
const VOLUME_TROUBLE_REASONS: &[&str] = &[
    "FailedMount",
    "FailedMapVolume",
    "VolumePermissionChangeInProgress",
];

/// A pod without claims is a subject only when it is not Running and
/// Ready and its volumes show trouble: a kubelet volume event, or a
/// container that reports a file-system or subPath error.
fn shows_volume_trouble(snap: &Snapshot, pod: &Pod) -> bool {
    if is_healthy(pod) {
        return false;
    }
    let meta = &pod.metadata;
    let events = snap.events_for(
        "Pod",
        meta.namespace.as_deref().unwrap_or(""),
        meta.name.as_deref().unwrap_or(""),
        meta.uid.as_deref(),
    );
    let kept_off_by_disk =
        || scheduling_of(pod, &events).is_some_and(|s| node_disk_block(snap, &s).is_some());
    disk_eviction_of(pod).is_some()
        || kept_off_by_disk()
        || events.iter().any(|e| {
            crate::events::is_warning(e)
                && VOLUME_TROUBLE_REASONS.contains(&crate::events::reason(e))
        })
        || container_messages(pod)
            .iter()
            .any(|c| !fs_errors(c.message).is_empty() || subpath_failure(c.message).is_some())
}

/// The subjects of the scope, sorted as the report lists them.
pub fn find_subjects<'a>(
    snap: &'a Snapshot,
    scope: &Scope,
) -> Result<Vec<Subject<'a>>, TargetNotFound> {
    let pods: Vec<&Pod> = snap
        .objects
        .pods
        .iter()
        .filter(|p| scope.selects(&p.metadata))
        .collect();
    let claims: Vec<&PersistentVolumeClaim> = snap
        .objects
        .claims
        .iter()
        .filter(|c| scope.selects(&c.metadata))
        .collect();
    let mut found = Found::default();
    if scope.targets.is_empty() {
        found.pods = pods
            .into_iter()
            .filter(|p| {
                (is_active(snap, p) && (uses_claims(p) || shows_volume_trouble(snap, p)))
                    || stuck_with_storage(snap, p)
            })
            .collect();
        found.claims = unused_claims(snap, scope, &claims);
        if scope.selector.is_none() {
            found.resolved = cluster_subjects(snap, scope);
        }
    } else {
        for target in &scope.targets {
            if !add_target(snap, scope, &pods, &claims, target, &mut found) {
                return Err(TargetNotFound {
                    target: target.to_string(),
                    where_: scope.searched(target),
                });
            }
        }
    }
    Ok(in_report_order(found))
}

/// Claims no active selected pod uses: subjects of their own (the
/// snapshot's index of pods by claim, instead of a set of owned names).
fn unused_claims<'a>(
    snap: &'a Snapshot,
    scope: &Scope,
    claims: &[&'a PersistentVolumeClaim],
) -> Vec<&'a PersistentVolumeClaim> {
    claims
        .iter()
        .copied()
        .filter(|c| {
            let (ns, name) = key(&c.metadata);
            !snap
                .pods_using(ns, name)
                .any(|p| scope.selects(&p.metadata) && is_active(snap, p))
        })
        .collect()
}

/// Pods first, then claims, each by namespace and name and each once; then
/// the subjects resolved when found.
fn in_report_order(mut found: Found<'_>) -> Vec<Subject<'_>> {
    found
        .pods
        .sort_by(|a, b| key(&a.metadata).cmp(&key(&b.metadata)));
    found
        .pods
        .dedup_by(|a, b| key(&a.metadata) == key(&b.metadata));
    found
        .claims
        .sort_by(|a, b| key(&a.metadata).cmp(&key(&b.metadata)));
    found
        .claims
        .dedup_by(|a, b| key(&a.metadata) == key(&b.metadata));
    let mut subjects: Vec<Subject> = found.pods.into_iter().map(Subject::Pod).collect();
    subjects.extend(found.claims.into_iter().map(Subject::Claim));
    subjects.extend(
        found
            .resolved
            .into_iter()
            .map(|c| Subject::Resolved(Box::new(c))),
    );
    subjects
}

/// Adds the subjects one target names; `false` when it names nothing.
fn add_target<'a>(
    snap: &'a Snapshot,
    scope: &Scope,
    pods: &[&'a Pod],
    claims: &[&'a PersistentVolumeClaim],
    target: &Target,
    found: &mut Found<'a>,
) -> bool {
    match target {
        Target::Pod(name) => {
            let named = pods
                .iter()
                .copied()
                .filter(|p| p.metadata.name.as_deref() == Some(name));
            let before = found.pods.len();
            found.pods.extend(named);
            found.pods.len() > before
        }
        Target::Claim(name) => {
            let named: Vec<&PersistentVolumeClaim> = claims
                .iter()
                .copied()
                .filter(|c| c.metadata.name.as_deref() == Some(name))
                .collect();
            for claim in &named {
                add_claim(snap, claim, found);
            }
            !named.is_empty()
        }
        Target::Workload(kind, name) => {
            let members: Vec<&Pod> = pods
                .iter()
                .copied()
                .filter(|p| is_active(snap, p))
                .filter(|p| belongs_to(snap, p, *kind, name))
                .collect();
            let stuck: Vec<Chain> = if *kind == WorkloadKind::StatefulSet {
                snap.objects
                    .stateful_sets
                    .iter()
                    .filter(|s| {
                        s.metadata.name.as_deref() == Some(name)
                            && scope.includes_namespace(s.metadata.namespace.as_deref())
                    })
                    .filter_map(|s| workload_chain(snap, s))
                    .collect()
            } else {
                Vec::new()
            };
            let exists = !members.is_empty()
                || !stuck.is_empty()
                || workload_exists(snap, scope, *kind, name);
            if stuck.is_empty() {
                found
                    .resolved
                    .extend(short_workload(snap, scope, *kind, name));
            }
            found.pods.extend(members);
            found.resolved.extend(stuck);
            exists
        }
        Target::Class(name) => {
            let class = snap.class(name);
            let named: Vec<&PersistentVolumeClaim> = claims
                .iter()
                .copied()
                .filter(|c| {
                    c.spec
                        .as_ref()
                        .and_then(|s| s.storage_class_name.as_deref())
                        == Some(name.as_str())
                })
                .collect();
            for claim in &named {
                add_claim(snap, claim, found);
            }
            if let Some(sc) = class {
                found.resolved.push(Chain {
                    class: Some(sc),
                    ..Chain::of_pod_or_claim(ObjectRef::class(name))
                });
            }
            class.is_some() || !named.is_empty()
        }
        Target::Node(name) => {
            let on_node = pods
                .iter()
                .copied()
                .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
                .filter(|p| !is_finished(p) && !claim_names(p).is_empty());
            let before = found.pods.len();
            found.pods.extend(on_node);
            found.pods.len() > before || snap.node(name).is_some()
        }
        Target::Snapshot(name) => {
            let named: Vec<&VolumeSnapshot> = snap
                .objects
                .snapshots
                .iter()
                .filter(|s| {
                    s.metadata.name.as_deref() == Some(name)
                        && scope.includes_namespace(s.metadata.namespace.as_deref())
                })
                .collect();
            for vs in &named {
                let (ns, _) = key(&vs.metadata);
                let restores: Vec<&PersistentVolumeClaim> = claims
                    .iter()
                    .copied()
                    .filter(|c| c.metadata.namespace.as_deref() == Some(ns))
                    .filter(|c| {
                        data_source_of(c).is_some_and(|d| {
                            d.is_snapshot() && d.name == name && d.namespace.is_none_or(|n| n == ns)
                        })
                    })
                    .collect();
                for claim in restores {
                    add_claim(snap, claim, found);
                }
                found.resolved.push(snapshot_chain(vs));
            }
            !named.is_empty()
        }
        Target::Volume(name) => {
            let Some(pv) = snap.volume(name) else {
                return false;
            };
            let claim = pv
                .spec
                .as_ref()
                .and_then(|s| s.claim_ref.as_ref())
                .and_then(|r| snap.claim(r.namespace.as_deref()?, r.name.as_deref()?));
            if let Some(c) = claim {
                add_claim(snap, c, found);
            }
            found.resolved.push(Chain {
                volume: Some(pv),
                ..Chain::of_pod_or_claim(ObjectRef::volume(name))
            });
            true
        }
    }
}

/// Every subject of the scope with its chain resolved.
pub fn subjects<'a>(snap: &'a Snapshot, scope: &Scope) -> Result<Vec<Chain<'a>>, TargetNotFound> {
    Ok(find_subjects(snap, scope)?
        .into_iter()
        .map(|s| s.resolve(snap))
        .collect())
}

/// A subject, in report order; pods and claims are resolved into chains
/// only when asked, so that a whole-cluster run builds, diagnoses and drops
/// one chain at a time while its objects are still in the cache.
pub enum Subject<'a> {
    Pod(&'a Pod),
    Claim(&'a PersistentVolumeClaim),
    /// Volumes, classes and workloads: few, resolved when found.
    Resolved(Box<Chain<'a>>),
}

impl<'a> Subject<'a> {
    pub fn resolve(self, snap: &'a Snapshot) -> Chain<'a> {
        match self {
            Subject::Pod(pod) => {
                let pc = PodChain::resolve(snap, pod);
                let claims = claim_names(pod)
                    .into_iter()
                    .map(|u| {
                        let name = u.claim.clone();
                        ClaimChain::resolve(snap, pc.namespace, &name, Some(u))
                    })
                    .collect();
                Chain {
                    claims,
                    ..Chain::of_pod_or_claim(pc.object()).with_pod(pc)
                }
            }
            Subject::Claim(claim) => {
                let ns = claim.metadata.namespace.as_deref().unwrap_or("");
                let name = claim.metadata.name.as_deref().unwrap_or("");
                Chain {
                    claims: vec![ClaimChain::resolve(snap, ns, name, None)],
                    ..Chain::of_pod_or_claim(ObjectRef::claim(ns, name))
                }
            }
            Subject::Resolved(chain) => *chain,
        }
    }
}

/// A claim target: the pods it blocks, or the claim itself when no pod
/// using it is broken.
fn add_claim<'a>(snap: &'a Snapshot, claim: &'a PersistentVolumeClaim, found: &mut Found<'a>) {
    let ns = claim.metadata.namespace.as_deref().unwrap_or("");
    let name = claim.metadata.name.as_deref().unwrap_or("");
    let users: Vec<&Pod> = snap
        .pods_using(ns, name)
        .filter(|p| !is_finished(p))
        .collect();
    if users.iter().any(|p| !is_healthy(p)) {
        found
            .pods
            .extend(users.into_iter().filter(|p| !is_healthy(p)));
    } else {
        found.claims.push(claim);
    }
}

fn workload_exists(snap: &Snapshot, scope: &Scope, kind: WorkloadKind, name: &str) -> bool {
    let o = &snap.objects;
    let metas: Vec<&ObjectMeta> = match kind {
        WorkloadKind::Deployment => o.deployments.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::StatefulSet => o.stateful_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::ReplicaSet => o.replica_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::DaemonSet => o.daemon_sets.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::Job => o.jobs.iter().map(|x| &x.metadata).collect(),
        WorkloadKind::CronJob => o.cron_jobs.iter().map(|x| &x.metadata).collect(),
    };
    metas.iter().any(|m| {
        m.name.as_deref() == Some(name) && scope.includes_namespace(m.namespace.as_deref())
    })
}

/// How long a snapshot may take to become ready before it is a subject
/// of its own: cutting a snapshot of a large volume takes minutes.
pub const SNAPSHOT_GRACE_SECONDS: i64 = 5 * 60;

/// A snapshot that failed, never became ready within the grace period, or
/// whose content is gone.
pub fn snapshot_in_trouble(snap: &Snapshot, vs: &VolumeSnapshot) -> bool {
    if vs.ready() == Some(true) {
        return snapshot_content_gone(snap, vs);
    }
    if vs.error_message().is_some() || snapshot_content_gone(snap, vs) {
        return true;
    }
    vs.metadata
        .creation_timestamp
        .as_ref()
        .is_some_and(|t| snap.now.duration_since(t.0).as_secs() > SNAPSHOT_GRACE_SECONDS)
}

/// The snapshot names a bound content that the capture (which holds
/// contents) does not have.
pub fn snapshot_content_gone(snap: &Snapshot, vs: &VolumeSnapshot) -> bool {
    let Some(name) = vs
        .status
        .as_ref()
        .and_then(|s| s.bound_volume_snapshot_content_name.as_deref())
        .filter(|n| !n.is_empty())
    else {
        return false;
    };
    snap.has("volumesnapshotcontents") && snap.snapshot_content(name).is_none()
}

fn snapshot_chain(vs: &VolumeSnapshot) -> Chain<'_> {
    let (ns, name) = key(&vs.metadata);
    Chain {
        snapshot: Some(vs),
        ..Chain::of_pod_or_claim(ObjectRef::volume_snapshot(ns, name))
    }
}

/// Volumes that outlived their claim, failing snapshots, every class (cluster-wide scans
/// only), and StatefulSets that failed to create pods: subjects that count
/// only when a rule finds something.
fn cluster_subjects<'a>(snap: &'a Snapshot, scope: &Scope) -> Vec<Chain<'a>> {
    let mut out = Vec::new();
    for pv in &snap.objects.volumes {
        let phase = pv.status.as_ref().and_then(|s| s.phase.as_deref());
        if !matches!(phase, Some("Released" | "Failed")) {
            continue;
        }
        let claim_ns = pv
            .spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .and_then(|r| r.namespace.as_deref());
        if scope.namespaces.is_some() && !scope.includes_namespace(claim_ns) {
            continue;
        }
        out.push(Chain {
            volume: Some(pv),
            ..Chain::of_pod_or_claim(ObjectRef::volume(pv.metadata.name.as_deref().unwrap_or("")))
        });
    }
    if scope.namespaces.is_none() {
        for sc in &snap.objects.classes {
            out.push(Chain {
                class: Some(sc),
                ..Chain::of_pod_or_claim(ObjectRef::class(
                    sc.metadata.name.as_deref().unwrap_or(""),
                ))
            });
        }
    }
    out.extend(
        snap.objects
            .snapshots
            .iter()
            .filter(|s| scope.includes_namespace(s.metadata.namespace.as_deref()))
            .filter(|s| snapshot_in_trouble(snap, s))
            .map(snapshot_chain),
    );
    out.extend(
        snap.objects
            .stateful_sets
            .iter()
            .filter(|s| scope.includes_namespace(s.metadata.namespace.as_deref()))
            .filter_map(|s| workload_chain(snap, s)),
    );
    for (kind, name) in refused_for_volumes(snap, scope) {
        out.extend(short_workload(snap, scope, kind, &name));
    }
    out
}

/// Workloads (other than StatefulSets, which [`workload_chain`] covers)
/// whose pods the API server refuses because of their volumes, by kind and
/// name: a ReplicaSet's refusal is its Deployment's.
fn refused_for_volumes(snap: &Snapshot, scope: &Scope) -> BTreeSet<(WorkloadKind, String)> {
    snap.objects
        .events
        .iter()
        .filter(|e| {
            crate::events::reason(e) == "FailedCreate"
                && e.type_.as_deref() == Some("Warning")
                && scope.includes_namespace(e.involved_object.namespace.as_deref())
                && refuses_volumes(crate::events::message(e))
        })
        .filter_map(|e| {
            let about = &e.involved_object;
            let (ns, name) = (about.namespace.as_deref()?, about.name.clone()?);
            match about.kind.as_deref()? {
                "DaemonSet" => Some((WorkloadKind::DaemonSet, name)),
                "Job" => Some((WorkloadKind::Job, name)),
                "ReplicaSet" => Some(
                    snap.objects
                        .replica_sets
                        .iter()
                        .find(|rs| {
                            rs.metadata.namespace.as_deref() == Some(ns)
                                && rs.metadata.name.as_deref() == Some(name.as_str())
                        })
                        .and_then(|rs| {
                            rs.metadata
                                .owner_references
                                .iter()
                                .flatten()
                                .find(|o| o.controller == Some(true) && o.kind == "Deployment")
                        })
                        .map_or((WorkloadKind::ReplicaSet, name.clone()), |d| {
                            (WorkloadKind::Deployment, d.name.clone())
                        }),
                ),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn default_subjects_are_pods_with_claims_and_claims_no_subject_uses() {
        let snap = snapshot(|o| {
            o.pods.push(pod("web").claim("data").running());
            o.pods.push(pod("job").claim("scratch").phase("Succeeded"));
            o.pods.push(pod("plain"));
            o.claims.push(pvc("data").bound("pv-1"));
            o.claims.push(pvc("scratch").bound("pv-2"));
            o.claims.push(pvc("orphan"));
        });
        let chains = subjects(&snap, &Scope::default()).unwrap();
        let names: Vec<String> = chains.iter().map(|c| c.subject.to_string()).collect();
        assert_eq!(
            names,
            [
                "Pod/default/web",
                "PersistentVolumeClaim/default/orphan",
                "PersistentVolumeClaim/default/scratch"
            ]
        );
    }

    #[test]
    fn pods_stuck_terminating_with_storage_are_subjects_even_without_claims() {
        use crate::api::Volume;
        use k8s_openapi::api::core::v1::NFSVolumeSource;
        let stuck = |mut p: Pod| {
            p.metadata.deletion_timestamp = Some(time("2026-11-20T09:00:00Z"));
            p
        };
        let mut nfs = stuck(pod("nfs-user"));
        nfs.spec.as_mut().unwrap().volumes = Some(vec![Volume {
            name: "share".into(),
            nfs: Some(Box::new(NFSVolumeSource {
                server: "10.0.0.5".into(),
                path: "/export".into(),
                read_only: None,
            })),
            ..Default::default()
        }]);
        let snap = snapshot(|o| {
            o.pods.push(nfs);
            o.pods.push(stuck(pod("plain")));
            o.pods
                .push(stuck(pod("done").claim("data").phase("Succeeded")));
            o.claims.push(pvc("data").bound("pv-1"));
            o.events.push(event("X", "y").at("2026-11-20T10:00:00Z"));
        });
        let chains = subjects(&snap, &Scope::default()).unwrap();
        let names: Vec<String> = chains.iter().map(|c| c.subject.to_string()).collect();
        assert_eq!(names, ["Pod/default/done", "Pod/default/nfs-user"]);
    }

    #[test]
    fn ephemeral_volume_claims_are_named_after_pod_and_volume() {
        let snap = snapshot(|o| o.pods.push(pod("web-0").ephemeral("scratch")));
        let chains = subjects(&snap, &Scope::default()).unwrap();
        assert_eq!(chains[0].claims[0].name, "web-0-scratch");
        assert!(chains[0].claims[0].claim.is_none());
    }

    #[test]
    fn missing_target_is_an_error() {
        let snap = snapshot(|o| o.pods.push(pod("web")));
        let scope = Scope {
            targets: vec![Target::Pod("nope".into())],
            ..Default::default()
        };
        let err = subjects(&snap, &scope).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pod/nope not found in any namespace of the input"
        );
    }
}
