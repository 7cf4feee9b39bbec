//! The pure middle of the pipeline: subjects → chains → rules → ranked
//! findings. No I/O.

use crate::chain::{self, Chain};
use crate::drivers::Drivers;
use crate::model::{age, ObjectRef, Severity};
use crate::rank;
use crate::report::{
    ChainLink, Finding, NodeRow, Report, ScopeInfo, SourceInfo, Summary, Usage, VolumeInfo,
    API_VERSION,
};
use crate::rules::{self, Ctx};
use crate::scope::{Scope, TargetNotFound};
use crate::snapshot::Snapshot;

/// Findings of a run, most urgent first, with the subject counts.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Pods and claims with nothing wrong.
    pub healthy: Vec<ObjectRef>,
}

pub fn analyze(
    snap: &Snapshot,
    drivers: &Drivers,
    scope: &Scope,
) -> Result<Analysis, TargetNotFound> {
    let ctx = Ctx::new(snap, drivers);
    let mut findings = Vec::new();
    let mut healthy = Vec::new();
    let mut counted = 0;
    // One chain at a time: built, diagnosed and dropped while its objects
    // are still in the cache.
    for subject in chain::find_subjects(snap, scope)? {
        let c = subject.resolve(snap);
        let counts = c.counts_when_healthy();
        counted += usize::from(counts);
        let causes = rank::order(rules::diagnose(&ctx, &c));
        if !causes.is_empty() {
            findings.push(finding(&ctx, &c, causes));
        } else if counts {
            healthy.push(c.subject);
        }
    }
    rank::order_findings(&mut findings);
    let count = |pred: fn(Severity) -> bool| findings.iter().filter(|f| pred(f.severity)).count();
    let subjects = counted
        + findings
            .iter()
            .filter(|f| !matches!(f.subject.kind.as_str(), "Pod" | "PersistentVolumeClaim"))
            .count();
    let summary = Summary {
        subjects,
        broken: count(Severity::is_broken),
        warnings: count(|s| s == Severity::Warning),
        info: count(|s| s == Severity::Info),
        healthy: subjects - findings.len(),
    };
    // Counted per pod above; reported once per workload.
    let findings = crate::replicas::group(findings, |f| {
        let pod = snap
            .pod(f.subject.namespace.as_deref()?, &f.subject.name)
            .filter(|_| f.subject.kind == "Pod")?;
        chain::owner_of(snap, pod)
    });
    Ok(Analysis {
        findings,
        summary,
        healthy,
    })
}

impl Analysis {
    /// The report of this analysis of `snap` over `scope`, read from `source`.
    pub fn into_report(
        self,
        snap: &Snapshot,
        source: SourceInfo,
        scope: &Scope,
        show_healthy: bool,
    ) -> Report {
        Report {
            api_version: API_VERSION,
            source,
            scope: ScopeInfo {
                all_namespaces: scope.namespaces.is_none(),
                namespaces: scope
                    .namespaces
                    .clone()
                    .unwrap_or_else(|| snap.namespaces())
                    .into_iter()
                    .collect(),
                targets: scope.targets.iter().map(ToString::to_string).collect(),
            },
            summary: self.summary,
            gaps: snap.gaps.clone(),
            findings: self.findings,
            healthy: show_healthy.then_some(self.healthy),
        }
    }
}

fn finding(ctx: &Ctx, c: &Chain, causes: Vec<crate::report::RankedCause>) -> Finding {
    let snap = ctx.snap;
    let (nodes, nodes_omitted) = node_rows(ctx, c);
    let severity = causes
        .iter()
        .map(|c| c.severity)
        .max()
        .unwrap_or(Severity::Info);
    Finding {
        subject: c.subject.clone(),
        severity,
        status: status(snap, c),
        chain: links(
            c,
            causes.first().map(|c| c.objects.as_slice()).unwrap_or(&[]),
        ),
        causes,
        volumes: volumes(snap, c),
        replicas: None,
        nodes,
        nodes_omitted,
    }
}

/// Rows of the per-node view shown at most; on a 5,000-node cluster the
/// nodes fall into few distinct verdicts, and the rest are counted.
const NODE_ROWS: usize = 12;
/// Node names shown per row besides its first.
const NODE_SAMPLES: usize = 4;

/// The per-node view of a pod that waits for the scheduler, and how many
/// nodes the rows left out.
fn node_rows(ctx: &Ctx, c: &Chain) -> (Vec<NodeRow>, usize) {
    let Some(pod) = &c.pod else {
        return (Vec::new(), 0);
    };
    let view = ctx.node_view(pod, &c.claims);
    let Some(view) = view.as_ref() else {
        return (Vec::new(), 0);
    };
    let groups = view.groups();
    let omitted = groups.iter().skip(NODE_ROWS).map(|g| g.names.len()).sum();
    let rows = groups
        .iter()
        .take(NODE_ROWS)
        .map(|g| NodeRow {
            name: g.check.name.clone(),
            count: g.names.len(),
            others: g.names[1..]
                .iter()
                .take(NODE_SAMPLES)
                .map(ToString::to_string)
                .collect(),
            volumes_allow: g.check.volumes_allow(),
            volume_reasons: g.check.volumes.clone(),
            ruled_out_by: g
                .check
                .ruled_out
                .iter()
                .map(|b| b.text.to_string())
                .collect(),
        })
        .collect();
    (rows, omitted)
}

/// The subject pod's volumes, with what `--usage` read.
fn volumes(snap: &Snapshot, c: &Chain) -> Vec<VolumeInfo> {
    let Some(pod) = &c.pod else {
        return Vec::new();
    };
    let devices: Vec<&str> = pod
        .pod
        .spec
        .iter()
        .flat_map(|s| {
            s.init_containers
                .iter()
                .flatten()
                .chain(s.containers.iter())
        })
        .flat_map(|c| c.volume_devices.iter().flatten())
        .map(|d| d.name.as_str())
        .collect();
    pod.volumes
        .iter()
        .map(|v| {
            let claim = c
                .claims
                .iter()
                .find(|cl| cl.usage.as_ref().is_some_and(|u| u.volume == v.name));
            let block = devices.contains(&v.name)
                || claim
                    .and_then(|cl| cl.claim)
                    .and_then(|cl| cl.spec.as_ref())
                    .and_then(|s| s.volume_mode.as_deref())
                    == Some("Block");
            let usage = snap
                .usage_of(pod.namespace, pod.name, v.name)
                .map(|u| Usage {
                    used_bytes: u.used_bytes,
                    capacity_bytes: u.capacity_bytes,
                    inodes_used: u.inodes_used,
                    inodes: u.inodes,
                })
                .filter(|_| !block);
            let api_view = matches!(
                v.kind(),
                "configMap" | "secret" | "projected" | "downwardAPI" | "image"
            );
            let usage_note = (snap.usage_read() && usage.is_none() && !api_view).then(|| {
                if block {
                    "a raw block device has no file-system usage".to_string()
                } else if pod.node_name.is_none() {
                    "not on a node yet".to_string()
                } else {
                    "the kubelet reported none".to_string()
                }
            });
            VolumeInfo {
                name: v.name.to_string(),
                kind: v.kind().to_string(),
                claim: claim.map(|cl| cl.name.clone()),
                mounts: v
                    .mounts
                    .iter()
                    .map(|m| format!("{}:{}", m.container, m.path))
                    .collect(),
                volume_mode: block.then(|| "Block".to_string()),
                usage,
                usage_note,
            }
        })
        .collect()
}

fn status(snap: &Snapshot, c: &Chain) -> String {
    let (state, created) = match (&c.pod, c.claims.first()) {
        (Some(p), _) => (
            chain::pod_state(p.pod),
            p.pod.metadata.creation_timestamp.as_ref(),
        ),
        (None, Some(claim)) => (
            claim_state(claim),
            claim
                .claim
                .and_then(|x| x.metadata.creation_timestamp.as_ref()),
        ),
        (None, None) => match (c.volume, c.class, &c.workload) {
            _ if c.snapshot.is_some() => c.snapshot.map_or(("Unknown".to_string(), None), |vs| {
                (snapshot_state(vs), vs.metadata.creation_timestamp.as_ref())
            }),
            (Some(pv), _, _) => (pv_phase(pv), pv.metadata.creation_timestamp.as_ref()),
            (_, Some(sc), _) => (class_state(sc), sc.metadata.creation_timestamp.as_ref()),
            (_, _, Some(w)) => (workload_state(w), w.meta.creation_timestamp.as_ref()),
            _ => ("Unknown".to_string(), None),
        },
    };
    match created {
        Some(t) => format!("{state} {}", age(t.0, snap.now)),
        None => state,
    }
}

fn pv_phase(pv: &crate::api::PersistentVolume) -> String {
    pv.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".to_string())
}

fn snapshot_state(vs: &crate::volume_snapshot::VolumeSnapshot) -> String {
    if vs.metadata.deletion_timestamp.is_some() {
        return "Terminating".to_string();
    }
    match vs.ready() {
        Some(true) => "ready".to_string(),
        _ if vs.error_message().is_some() => "failed".to_string(),
        _ => "not ready".to_string(),
    }
}

fn class_state(sc: &k8s_openapi::api::storage::v1::StorageClass) -> String {
    let default = if crate::snapshot::is_default_class(sc) {
        ", default"
    } else {
        ""
    };
    format!("{}{default}", sc.provisioner)
}

fn workload_state(w: &chain::WorkloadChain) -> String {
    format!("{} of {} pods", w.created, w.wanted)
}

fn claim_state(c: &chain::ClaimChain) -> String {
    match c.claim {
        None => "missing".to_string(),
        Some(x) if x.metadata.deletion_timestamp.is_some() => "Terminating".to_string(),
        Some(_) => c.phase().unwrap_or("Pending").to_string(),
    }
}

/// The chain as the report shows it: each object with its state. `blamed`
/// are the objects of the rank-1 cause: a claim normally fine to wait
/// (WaitForFirstConsumer) is marked broken when that cause names it.
fn links(c: &Chain, blamed: &[ObjectRef]) -> Vec<ChainLink> {
    let mut out = Vec::new();
    let subject_state = match (c.volume, c.class, &c.workload) {
        _ if c.snapshot.is_some() => c.snapshot.map(snapshot_state),
        (Some(pv), _, _) => Some(pv_phase(pv)),
        (_, Some(sc), _) => Some(class_state(sc)),
        (_, _, Some(w)) => Some(workload_state(w)),
        _ => None,
    };
    if let Some(state) = subject_state {
        out.push(ChainLink {
            object: c.subject.clone(),
            state,
            ok: false,
        });
    }
    if let Some(p) = &c.pod {
        out.push(ChainLink {
            object: p.object(),
            state: chain::pod_state(p.pod),
            ok: p.healthy,
        });
    }
    let pod_scheduled = c.pod.as_ref().is_some_and(|p| p.node_name.is_some());
    for claim in &c.claims {
        let state = claim_state(claim);
        // A WaitForFirstConsumer claim waiting for an unscheduled pod is where it should be.
        let waiting = state == "Pending"
            && claim.is_wait_for_first_consumer()
            && !pod_scheduled
            && !blamed.contains(&claim.object());
        out.push(ChainLink {
            object: claim.object(),
            ok: state == "Bound" || waiting,
            state,
        });
        if let Some(src) = &claim.source {
            let (state, ok) = src.state();
            let object = ObjectRef::namespaced(src.source.kind, src.namespace, src.source.name);
            out.push(ChainLink {
                // Once bound, the source has done its work.
                ok: (ok || claim.is_bound()) && !blamed.contains(&object),
                object,
                state,
            });
        }
        if let Some(name) = claim.class_name() {
            out.push(ChainLink {
                object: ObjectRef::class(name),
                state: match claim.class {
                    None => "missing".to_string(),
                    Some(sc) => format!(
                        "{} ({})",
                        sc.provisioner,
                        sc.volume_binding_mode.as_deref().unwrap_or("Immediate")
                    ),
                },
                ok: claim.class.is_some(),
            });
        }
        if let Some(pv) = claim.volume {
            let phase = pv
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".to_string());
            out.push(ChainLink {
                object: ObjectRef::volume(pv.metadata.name.as_deref().unwrap_or("")),
                ok: phase == "Bound",
                state: phase,
            });
        } else if let Some(name) = claim
            .claim
            .and_then(|x| x.spec.as_ref())
            .and_then(|s| s.volume_name.as_deref())
            .filter(|n| !n.is_empty())
        {
            out.push(ChainLink {
                object: ObjectRef::volume(name),
                state: "missing".to_string(),
                ok: false,
            });
        }
    }
    // A source of a pod volume blamed as missing (volume-source-missing):
    // the link that breaks between the pod and its volume.
    for o in blamed
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "ConfigMap" | "Secret"))
    {
        out.push(ChainLink {
            object: o.clone(),
            state: "missing".to_string(),
            ok: false,
        });
    }
    if let Some(p) = &c.pod {
        if let Some(name) = &p.node_name {
            let (state, ok) = match p.node {
                None => ("missing".to_string(), false),
                Some(n) if crate::nodes::is_ready(n) && crate::chain::under_disk_pressure(n) => {
                    ("Ready, DiskPressure".to_string(), false)
                }
                Some(n) if crate::nodes::is_ready(n) => ("Ready".to_string(), true),
                Some(_) => ("NotReady".to_string(), false),
            };
            out.push(ChainLink {
                object: ObjectRef::node(name),
                state,
                ok,
            });
        }
    }
    out
}
