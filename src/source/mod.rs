//! Sources: the only code that reads files or talks to a cluster. Each turns
//! what it reads into a [`Snapshot`]; [`read`] and [`Source`] are the one
//! way in: the scope the command line gives, read from captured files or a
//! live cluster, and where the state came from.

pub mod collect;
pub mod drivers_file;
pub mod dump;
pub mod error_text;
pub mod live;
pub mod node_stats;
pub mod redact;
pub mod request_log;
pub mod wire;

use crate::events::EventFilter;
use crate::scope::Target;
use crate::snapshot::{claim_names, failing_containers, mounts_data_volume, Snapshot};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::Read;
use tokio::runtime::Runtime;

/// Where the state came from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// `live` or `dump`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// For a dump: the files and folders read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// For a dump: the newest moment it shows, taken as the time of capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
}

impl SourceInfo {
    /// A capture read from `paths`, as of the newest moment it shows.
    pub fn capture(paths: Vec<String>, captured_at: String) -> Self {
        SourceInfo {
            kind: "dump".into(),
            context: None,
            server: None,
            server_version: None,
            paths,
            captured_at: Some(captured_at),
        }
    }
}

/// What to read, as the command line says it, before any default.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub targets: &'a [Target],
    /// `-n`.
    pub namespace: Option<&'a str>,
    /// `-A`.
    pub all_namespaces: bool,
    /// `-l`, as given: the live source passes it to the API server.
    pub selector: Option<&'a str>,
    /// Opt-in reads beyond objects (`--usage`, `--logs`).
    pub extra: Extra,
    /// The events the diagnosis reads, from the rule registry.
    pub events: &'a EventFilter,
    /// What is kept of each object read from files: `collect` writes more
    /// than a diagnosis reads.
    pub keep: dump::Keep,
}

/// Evidence read only when asked, because it needs more than reading
/// objects: `--usage` (`get nodes/proxy`) and `--logs` (`get pods/log`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extra {
    pub usage: bool,
    pub logs: bool,
}

/// Where to read from.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// `--from`: files, folders, or `-` for standard input, and how many
    /// bytes they may hold together (`--max-input-bytes`).
    Dump {
        paths: Vec<String>,
        max_bytes: u64,
    },
    Live(live::LiveOptions),
}

/// The state to diagnose, where it came from, and the namespaces in scope.
pub struct Input {
    pub snapshot: Snapshot,
    pub source: SourceInfo,
    /// `None`: every namespace.
    pub namespaces: Option<BTreeSet<String>>,
}

/// An opened source. A live one keeps its client, so that reading again
/// (`--watch`) neither reconnects nor runs an exec credential plugin each
/// time: kube's client refreshes expiring credentials itself.
pub enum Source<'rt> {
    Dump {
        paths: Vec<String>,
        max_bytes: u64,
    },
    Live {
        runtime: &'rt Runtime,
        conn: Box<live::Connection>,
        options: live::LiveOptions,
    },
}

/// The runtime live reads run on.
pub fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the I/O runtime")
}

impl<'rt> Source<'rt> {
    /// Opens the source: connects to a live cluster on `runtime`; files are
    /// read only by [`Source::read`].
    pub fn open(spec: &SourceSpec, runtime: &'rt Runtime) -> Result<Self> {
        Ok(match spec {
            SourceSpec::Dump { paths, max_bytes } => Source::Dump {
                paths: paths.clone(),
                max_bytes: *max_bytes,
            },
            SourceSpec::Live(options) => Source::Live {
                runtime,
                conn: Box::new(runtime.block_on(live::connect(options))?),
                options: options.clone(),
            },
        })
    }

    /// Connects again when the exec plugin's credentials expire within a
    /// minute (`--watch`), so the plugin runs between reads, never during
    /// one.
    pub fn renew_expiring_credentials(&mut self) -> Result<()> {
        if let Source::Live {
            runtime,
            conn,
            options,
        } = self
        {
            let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60);
            if conn.credentials_expire.is_some_and(|t| t <= soon) {
                **conn = runtime.block_on(live::connect(options))?;
            }
        }
        Ok(())
    }

    /// Reads the scope: every file again, or the cluster through the same client.
    pub fn read(&self, request: &Request, stdin: &mut dyn Read) -> Result<Input> {
        match self {
            Source::Dump { paths, max_bytes } => read_dump(paths, *max_bytes, request, stdin),
            Source::Live { runtime, conn, .. } => Ok(runtime.block_on(read_live(conn, request))?),
        }
    }
}

/// The pods whose volumes and logs may be read: every pod read when no
/// target is named (the read is already limited to the namespace and
/// selector), else only the pods of the targets.
fn pods_in_scope<'s>(snapshot: &'s Snapshot, targets: &[Target]) -> Vec<&'s crate::api::Pod> {
    let claim_of =
        |pod: &crate::api::Pod,
         wanted: &dyn Fn(&k8s_openapi::api::core::v1::PersistentVolumeClaim) -> bool| {
            let ns = pod.metadata.namespace.as_deref().unwrap_or("");
            claim_names(pod)
                .iter()
                .filter_map(|u| snapshot.claim(ns, &u.claim))
                .any(wanted)
        };
    snapshot
        .objects
        .pods
        .iter()
        .filter(|p| {
            targets.is_empty()
                || targets.iter().any(|t| match t {
                    Target::Pod(name) => p.metadata.name.as_deref() == Some(name.as_str()),
                    Target::Claim(name) => claim_names(p).iter().any(|u| &u.claim == name),
                    Target::Workload(kind, name) => {
                        crate::owners::belongs_to(snapshot, p, *kind, name)
                    }
                    Target::Class(name) => claim_of(p, &|c| {
                        c.spec
                            .as_ref()
                            .and_then(|s| s.storage_class_name.as_deref())
                            == Some(name.as_str())
                    }),
                    Target::Node(name) => {
                        p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
                    }
                    Target::Volume(name) => claim_of(p, &|c| {
                        c.spec.as_ref().and_then(|s| s.volume_name.as_deref())
                            == Some(name.as_str())
                    }),
                    Target::Snapshot(name) => claim_of(p, &|c| {
                        crate::snapshot::data_source_of(c)
                            .is_some_and(|d| d.is_snapshot() && d.name == name)
                    }),
                })
        })
        .collect()
}

/// `--usage` and `--logs`: read after the objects, because what they read
/// follows from the pods found.
async fn read_extra(
    conn: &live::Connection,
    request: &Request<'_>,
    snapshot: Snapshot,
) -> Snapshot {
    let extra = request.extra;
    if !extra.usage && !extra.logs {
        return snapshot;
    }
    let pods = pods_in_scope(&snapshot, request.targets);
    let mut nodes: Vec<String> = pods
        .iter()
        .filter(|p| {
            let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
            !matches!(phase, Some("Succeeded" | "Failed"))
        })
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .filter(|n| !n.is_empty())
        .collect();
    nodes.sort();
    nodes.dedup();
    let mut containers: Vec<(String, String, String)> = pods
        .iter()
        .flat_map(|p| {
            let ns = p.metadata.namespace.clone().unwrap_or_default();
            let name = p.metadata.name.clone().unwrap_or_default();
            failing_containers(p)
                .into_iter()
                .filter(|c| mounts_data_volume(p, c))
                .map(move |c| (ns.clone(), name.clone(), c.to_string()))
        })
        .collect();
    containers.sort();
    containers.dedup();
    let mut gaps = Vec::new();
    if containers.len() > live::LOG_CONTAINERS {
        gaps.push(crate::snapshot::Gap {
            resource: "pods/log".into(),
            reason: "Limited".into(),
            message: format!(
                "logs of {} failing container(s) not read: at most {} are read per run; narrow the scope (-n, -l, pod/NAME)",
                containers.len() - live::LOG_CONTAINERS,
                live::LOG_CONTAINERS
            ),
        });
        containers.truncate(live::LOG_CONTAINERS);
    }
    let usage = async {
        if extra.usage {
            Some(conn.read_usage(&nodes).await)
        } else {
            None
        }
    };
    let logs = async {
        if extra.logs {
            Some(conn.read_logs(&containers).await)
        } else {
            None
        }
    };
    let (usage, logs) = futures::future::join(usage, logs).await;
    let mut evidence = crate::snapshot::NodeEvidence::default();
    if let Some((u, g)) = usage {
        evidence.usage = Some(u);
        gaps.extend(g);
    }
    if let Some((l, g)) = logs {
        evidence.logs = Some(l);
        gaps.extend(g);
    }
    let mut snapshot = snapshot.with_evidence(evidence);
    snapshot.gaps.extend(gaps);
    snapshot
}

fn read_dump(
    paths: &[String],
    max_bytes: u64,
    request: &Request,
    stdin: &mut dyn Read,
) -> Result<Input> {
    let inputs: Vec<dump::Input> = paths.iter().map(|p| dump::Input::parse(p)).collect();
    let loaded = dump::load_with_limit(
        &inputs,
        stdin,
        max_bytes,
        request.keep,
        Some(request.events),
    )?;
    if let Some(ns) = request.namespace {
        let known = namespaces_of(&loaded.snapshot.objects);
        if !known.contains(ns) {
            anyhow::bail!("{}", unknown_namespace(ns, &known));
        }
    }
    let captured_at = loaded.snapshot.now.to_string();
    Ok(Input {
        snapshot: loaded.snapshot,
        source: SourceInfo::capture(paths.to_vec(), captured_at),
        namespaces: request.namespace.map(|ns| BTreeSet::from([ns.to_string()])),
    })
}

async fn read_live(
    conn: &live::Connection,
    request: &Request<'_>,
) -> Result<Input, live::LiveError> {
    let targets = request.targets;
    let namespace = match (request.namespace, request.all_namespaces) {
        (Some(ns), _) => Some(ns.to_string()),
        (None, true) => None,
        // Classes, nodes and volumes are not in a namespace: look everywhere.
        (None, false) if !targets.is_empty() && targets.iter().all(Target::is_cluster_wide) => None,
        (None, false) => Some(conn.default_namespace.clone()),
    };
    if let Some(log) = &conn.log {
        // The namespace read, as -n, -A or the context decide it.
        match &namespace {
            Some(ns) => log.note(format_args!("namespace {ns}")),
            None => log.note("all namespaces"),
        }
    }
    let mark = conn.log.as_ref().map(request_log::RequestLog::mark);
    let collected = match (targets, &namespace) {
        // One pod or claim: read just its chain, as `kubectl describe` would.
        ([target @ (Target::Pod(_) | Target::Claim(_))], Some(ns))
            if request.selector.is_none() =>
        {
            conn.target_chain(ns, target, request.events).await?
        }
        _ => {
            conn.scan(
                &live::ScanScope {
                    namespace: namespace.clone(),
                    selector: request.selector.map(str::to_string),
                },
                request.events,
            )
            .await?
        }
    };
    // An explicit -n that found nothing may name no namespace at all.
    if let Some(ns) = request.namespace {
        if !namespaces_of(&collected.snapshot.objects).contains(ns) {
            if let Some(missing) = conn.missing_namespace(ns).await {
                return Err(missing);
            }
        }
    }
    let snapshot = read_extra(conn, request, collected.snapshot).await;
    if let (Some(log), Some(mark)) = (&conn.log, mark) {
        log.note(log.summary_since(mark));
    }
    Ok(Input {
        snapshot,
        source: SourceInfo {
            kind: "live".into(),
            context: conn.context.clone(),
            server: Some(conn.server.clone()),
            server_version: collected.server_version,
            paths: Vec::new(),
            captured_at: None,
        },
        namespaces: namespace.map(|ns| BTreeSet::from([ns])),
    })
}

/// The namespaces a capture's objects are in: the only ones it knows.
pub fn namespaces_of(o: &crate::snapshot::Objects) -> BTreeSet<String> {
    fn add<'a, K: kube::Resource + 'a>(
        set: &mut BTreeSet<String>,
        items: impl IntoIterator<Item = &'a K>,
    ) {
        set.extend(items.into_iter().filter_map(|k| k.meta().namespace.clone()));
    }
    let mut set = BTreeSet::new();
    add(&mut set, &o.pods);
    add(&mut set, &o.claims);
    add(&mut set, &o.events);
    add(&mut set, &o.capacities);
    add(&mut set, &o.quotas);
    add(&mut set, &o.limit_ranges);
    add(&mut set, &o.deployments);
    add(&mut set, &o.replica_sets);
    add(&mut set, &o.stateful_sets);
    add(&mut set, &o.daemon_sets);
    add(&mut set, &o.jobs);
    add(&mut set, &o.cron_jobs);
    set
}

/// `-n` names a namespace the capture holds nothing of: the closest
/// names it does hold, or the first few.
fn unknown_namespace(ns: &str, known: &BTreeSet<String>) -> String {
    let suggestions = crate::text::did_you_mean(ns, known.iter().map(String::as_str));
    if !suggestions.is_empty() {
        return format!(
            "namespace {ns} not found in the capture{}",
            crate::text::did_you_mean_text(&suggestions)
        );
    }
    if known.is_empty() {
        return format!("namespace {ns} not found in the capture: it holds no namespaced objects");
    }
    let some: Vec<&str> = known.iter().take(5).map(String::as_str).collect();
    format!(
        "namespace {ns} not found in the capture, which holds {}{}",
        some.join(", "),
        if known.len() > some.len() {
            ", …"
        } else {
            ""
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn usage_and_logs_are_read_only_for_the_pods_of_the_targets() {
        let snap = snapshot(|o| {
            o.claims.push(pvc("a").class("fast").bound("pv-a"));
            o.claims.push(pvc("b").class("slow").bound("pv-b"));
            o.pods.push(pod("one").claim("a").on_node("node-1"));
            o.pods.push(pod("two").claim("b").on_node("node-2"));
        });
        let names = |targets: &[Target]| -> Vec<String> {
            pods_in_scope(&snap, targets)
                .iter()
                .filter_map(|p| p.metadata.name.clone())
                .collect()
        };
        assert_eq!(names(&[]), ["one", "two"]);
        assert_eq!(names(&[Target::Pod("two".into())]), ["two"]);
        assert_eq!(names(&[Target::Claim("a".into())]), ["one"]);
        assert_eq!(names(&[Target::Class("slow".into())]), ["two"]);
        assert_eq!(names(&[Target::Node("node-1".into())]), ["one"]);
        assert_eq!(names(&[Target::Volume("pv-b".into())]), ["two"]);
        assert!(names(&[Target::Pod("nobody".into())]).is_empty());
    }
}
