//! The opt-in reads beyond objects: volume usage from each node's kubelet
//! (`--usage`, `GET /api/v1/nodes/N/proxy/stats/summary`, which needs `get
//! nodes/proxy`) and the previous run's log tail of failing containers
//! (`--logs`, `GET .../pods/P/log?previous=true`, which needs `get
//! pods/log`). Bounded: a few requests at a time, a cap on logs, a tail and
//! a byte limit on each. Anything refused or unanswered is a gap; nothing
//! here ever ends the run.

use super::Connection;
use crate::snapshot::{ContainerLog, Gap, VolumeUsage};
use crate::source::node_stats;
use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use std::collections::BTreeMap;

/// Requests in flight at once, per kind of read.
const PARALLEL: usize = 4;
/// Containers whose logs one run reads at most.
pub const LOG_CONTAINERS: usize = 50;
/// Lines and bytes of each log tail.
const TAIL_LINES: i64 = 100;
const LOG_BYTES: i64 = 64 * 1024;

/// One read that failed: the reason for the gap, and its message.
struct Failure {
    reason: String,
    message: String,
}

impl Connection {
    fn failure(&self, err: Result<kube::Error, tokio::time::error::Elapsed>) -> Failure {
        match err {
            Err(_) => Failure {
                reason: "Timeout".into(),
                message: format!("no answer within {}s", self.request_timeout.as_secs()),
            },
            Ok(kube::Error::Api(s)) => Failure {
                reason: match s.code {
                    403 => "Forbidden".to_string(),
                    404 => "NotFound".to_string(),
                    // The API server could not reach the kubelet.
                    500 | 502 | 503 | 504 => "Unavailable".to_string(),
                    _ if !s.reason.is_empty() => s.reason.clone(),
                    code => format!("HTTP{code}"),
                },
                message: s.message.clone(),
            },
            Ok(e) => Failure {
                reason: "Unavailable".into(),
                message: super::super::error_text::safe_error_text(&e),
            },
        }
    }

    /// The kubelet's stats summary of each node, a few at a time.
    pub async fn read_usage(&self, nodes: &[String]) -> (Vec<VolumeUsage>, Vec<Gap>) {
        let results: Vec<(String, Result<node_stats::Summary, Failure>)> =
            stream::iter(nodes.iter().cloned())
                .map(|node| async move {
                    let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
                    let req = http::Request::get(&path).body(Vec::new());
                    let result = match req {
                        Err(e) => Err(Failure {
                            reason: "Invalid".into(),
                            message: e.to_string(),
                        }),
                        Ok(req) => match tokio::time::timeout(
                            self.request_timeout,
                            self.client.request::<serde_json::Value>(req),
                        )
                        .await
                        {
                            Ok(Ok(doc)) => node_stats::parse(doc).ok_or(Failure {
                                reason: "InvalidObject".into(),
                                message: "the answer is not a stats summary".into(),
                            }),
                            Ok(Err(e)) => Err(self.failure(Ok(e))),
                            Err(t) => Err(self.failure(Err(t))),
                        },
                    };
                    (node, result)
                })
                .buffer_unordered(PARALLEL)
                .collect()
                .await;
        let mut usage = Vec::new();
        let mut failed: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
        for (node, result) in results {
            match result {
                Ok(summary) => usage.extend(node_stats::volumes(&node, &summary)),
                Err(f) => {
                    let entry = failed.entry(f.reason).or_insert((Vec::new(), f.message));
                    entry.0.push(node);
                }
            }
        }
        let gaps = failed
            .into_iter()
            .map(|(reason, (mut nodes, message))| {
                nodes.sort();
                let help = if reason == "Forbidden" {
                    "; --usage needs `get nodes/proxy` (see examples/rbac.yaml)"
                } else {
                    ""
                };
                Gap {
                    resource: "nodes/proxy".into(),
                    message: format!(
                        "volume usage not read from node(s) {}: {message}{help}",
                        nodes.join(", ")
                    ),
                    reason,
                }
            })
            .collect();
        (usage, gaps)
    }

    /// The previous run's last lines of each container, a few at a time.
    pub async fn read_logs(
        &self,
        containers: &[(String, String, String)],
    ) -> (Vec<ContainerLog>, Vec<Gap>) {
        let results: Vec<_> = stream::iter(containers.iter().cloned())
            .map(|(ns, pod, container)| async move {
                let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
                let params = LogParams {
                    container: Some(container.clone()),
                    previous: true,
                    tail_lines: Some(TAIL_LINES),
                    limit_bytes: Some(LOG_BYTES),
                    ..LogParams::default()
                };
                // Bytes, not text: a log may hold anything, and one odd
                // byte must not cost the whole tail.
                let read = async {
                    use futures::AsyncReadExt;
                    let stream = api.log_stream(&pod, &params).await?;
                    let mut bytes = Vec::new();
                    stream
                        .take(LOG_BYTES as u64)
                        .read_to_end(&mut bytes)
                        .await
                        .map_err(kube::Error::ReadEvents)?;
                    Ok::<_, kube::Error>(String::from_utf8_lossy(&bytes).into_owned())
                };
                let result = match tokio::time::timeout(self.request_timeout, read).await {
                    Ok(Ok(text)) => Ok(text),
                    Ok(Err(e)) => Err(self.failure(Ok(e))),
                    Err(t) => Err(self.failure(Err(t))),
                };
                (ns, pod, container, result)
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let mut logs = Vec::new();
        let mut failed: BTreeMap<String, (Vec<String>, String)> = BTreeMap::new();
        for (namespace, pod, container, result) in results {
            match result {
                Ok(text) => logs.push(ContainerLog {
                    namespace,
                    pod,
                    container,
                    text,
                }),
                // No previous run (the container has not restarted yet):
                // nothing to read, not a gap.
                Err(f)
                    if f.reason == "BadRequest"
                        && f.message.contains("previous terminated container") => {}
                Err(f) => {
                    let entry = failed.entry(f.reason).or_insert((Vec::new(), f.message));
                    entry.0.push(format!("{namespace}/{pod} ({container})"));
                }
            }
        }
        let gaps = failed
            .into_iter()
            .map(|(reason, (mut which, message))| {
                which.sort();
                let help = if reason == "Forbidden" {
                    "; --logs needs `get pods/log`"
                } else {
                    ""
                };
                Gap {
                    resource: "pods/log".into(),
                    message: format!("logs not read of {}: {message}{help}", which.join(", ")),
                    reason,
                }
            })
            .collect();
        (logs, gaps)
    }
}
