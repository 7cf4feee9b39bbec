//! The live source: reads a cluster the way kubectl does (kubeconfig,
//! contexts, exec plugins), with one paginated LIST per kind, all issued
//! concurrently. A kind the user may not read, or the server does not
//! serve, becomes a gap; the diagnosis goes on without it. Read-only: only
//! get and list requests are made.

use super::request_log::RequestLog;
use crate::kinds::Stored;
use crate::scope::Target;
use crate::snapshot::claim_names;
use crate::snapshot::{Gap, Objects, Snapshot};
use futures::future::{join, join3, join4, join5, join_all};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Event, LimitRange, Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota,
};
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
};
use k8s_openapi::NamespaceResourceScope;
use kube::api::{Api, ListParams};
use kube::client::ClientBuilder;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, Resource};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

/// Page size of every LIST: large enough for few round trips, small enough
/// not to load the API server.
const PAGE: u32 = 500;

/// How to reach the cluster (kubectl's flags).
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Duration,
    /// `-v`: log each request on stderr.
    pub verbose: bool,
}

/// A client for one context.
pub struct Connection {
    pub client: Client,
    pub context: Option<String>,
    pub server: String,
    pub default_namespace: String,
    pub request_timeout: Duration,
    pub log: Option<RequestLog>,
}

/// Why the cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the cluster at {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error("the cluster at {server} did not answer within {seconds}s (--request-timeout)")]
    Timeout { server: String, seconds: u64 },
    #[error("cannot get credentials for the cluster at {server}: {message}")]
    Credentials { server: String, message: String },
    #[error("the cluster at {server} refused the credentials ({code}): {message}")]
    Unauthorized {
        server: String,
        code: u16,
        message: String,
    },
    #[error("nothing could be read from the cluster at {server}: {resource}: {reason}: {message}")]
    NothingRead {
        server: String,
        resource: String,
        reason: String,
        message: String,
    },
}

pub async fn connect(opts: &LiveOptions) -> Result<Connection, LiveError> {
    let kubeconfig = match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    }
    .map_err(|e| LiveError::Kubeconfig(kubeconfig_error_text(&e)))?;
    let context = opts
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone());
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| LiveError::Kubeconfig(kubeconfig_error_text(&e)))?;
    config.connect_timeout = Some(opts.request_timeout);
    config.read_timeout = Some(opts.request_timeout);
    config.write_timeout = Some(opts.request_timeout);
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let default_namespace = config.default_namespace.clone();
    let log = opts.verbose.then(RequestLog::new);
    if let Some(log) = &log {
        log.note(format_args!(
            "context {}, server {server}, credentials: {}, namespace {default_namespace}",
            context.as_deref().unwrap_or("(none)"),
            credential_kind(&config.auth_info),
        ));
    }
    let builder = ClientBuilder::try_from(config).map_err(|e| {
        let message = safe_error_text(&e);
        if is_credential_error(&e) {
            LiveError::Credentials {
                server: server.clone(),
                message,
            }
        } else {
            LiveError::Unreachable {
                server: server.clone(),
                message,
            }
        }
    })?;
    let client = match &log {
        Some(log) => builder.with_layer(log).build(),
        None => builder.build(),
    };
    Ok(Connection {
        client,
        context,
        server,
        default_namespace,
        request_timeout: opts.request_timeout,
        log,
    })
}

/// What kind of credentials the context uses, never their value.
fn credential_kind(user: &AuthInfo) -> String {
    if let Some(exec) = &user.exec {
        format!(
            "exec plugin `{}`",
            exec.command.as_deref().unwrap_or("(no command)")
        )
    } else if let Some(provider) = &user.auth_provider {
        format!("auth provider {}", provider.name)
    } else if user.token.is_some() {
        "bearer token".to_string()
    } else if let Some(file) = &user.token_file {
        format!("bearer token from {file}")
    } else if user.client_certificate.is_some() || user.client_certificate_data.is_some() {
        "client certificate".to_string()
    } else if user.username.is_some() {
        "basic auth".to_string()
    } else {
        "none".to_string()
    }
}

/// What a scan reads: every namespace, or one.
#[derive(Debug, Clone)]
pub struct ScanScope {
    pub namespace: Option<String>,
    /// `-l`: applies to pods (claims are filtered after reading).
    pub selector: Option<String>,
}

/// The result of reading the cluster.
pub struct Collected {
    pub snapshot: Snapshot,
    pub server_version: Option<String>,
}

enum Outcome<T> {
    Items(Vec<T>),
    Gap(Gap),
}

fn gap_of(resource: &str, err: &kube::Error) -> Option<Gap> {
    let kube::Error::Api(status) = err else {
        return None;
    };
    let reason = match status.code {
        403 => "Forbidden",
        404 => "NotFound",
        401 => return None,
        _ => {
            if status.reason.is_empty() {
                "Error"
            } else {
                status.reason.as_str()
            }
        }
    };
    Some(Gap {
        resource: resource.to_string(),
        reason: reason.to_string(),
        message: status.message.clone(),
    })
}

impl Connection {
    fn fatal(&self, err: kube::Error) -> LiveError {
        match &err {
            kube::Error::Api(s) if s.code == 401 => LiveError::Unauthorized {
                server: self.server.clone(),
                code: s.code,
                message: s.message.clone(),
            },
            _ if is_credential_error(&err) => LiveError::Credentials {
                server: self.server.clone(),
                message: safe_error_text(&err),
            },
            _ => {
                let text = safe_error_text(&err);
                if text.contains("timed out")
                    || text.contains("deadline")
                    || text.contains("Timeout")
                {
                    LiveError::Timeout {
                        server: self.server.clone(),
                        seconds: self.request_timeout.as_secs(),
                    }
                } else {
                    LiveError::Unreachable {
                        server: self.server.clone(),
                        message: text,
                    }
                }
            }
        }
    }

    /// Every page of one LIST; a gap for an API error the diagnosis can
    /// live without, an error for anything that means the cluster is out of
    /// reach.
    async fn list<K>(&self, api: Api<K>, params: ListParams) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut restarted = false;
        loop {
            let mut page_params = params.clone().limit(PAGE);
            if let Some(t) = &token {
                page_params = page_params.continue_token(t);
            }
            let page =
                match tokio::time::timeout(self.request_timeout, api.list(&page_params)).await {
                    Err(_) => {
                        return Err(LiveError::Timeout {
                            server: self.server.clone(),
                            seconds: self.request_timeout.as_secs(),
                        })
                    }
                    // The continue token expired (410) while paging a large
                    // list: read the list again from the start, once.
                    Ok(Err(kube::Error::Api(status)))
                        if status.code == 410 && token.is_some() && !restarted =>
                    {
                        restarted = true;
                        token = None;
                        items.clear();
                        continue;
                    }
                    Ok(Err(e)) => match gap_of(K::KIND.resource, &e) {
                        Some(gap) => return Ok(Outcome::Gap(gap)),
                        None => return Err(self.fatal(e)),
                    },
                    Ok(Ok(page)) => page,
                };
            items.extend(page.items.into_iter().map(|mut o| {
                // Large and never read.
                o.meta_mut().managed_fields = None;
                o
            }));
            match page.metadata.continue_ {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(Outcome::Items(items))
    }

    async fn namespaced<K>(
        &self,
        scope: &ScanScope,
        selector: Option<&str>,
    ) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let api = match &scope.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let mut params = ListParams::default();
        if let Some(s) = selector {
            params = params.labels(s);
        }
        self.list(api, params).await
    }

    async fn cluster<K>(&self) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        self.list(Api::all(self.client.clone()), ListParams::default())
            .await
    }

    /// Reads everything a diagnosis of the scope needs.
    pub async fn scan(&self, scope: &ScanScope) -> Result<Collected, LiveError> {
        let sel = scope.selector.as_deref();
        let version = async {
            tokio::time::timeout(self.request_timeout, self.client.apiserver_version()).await
        };
        let core = join4(
            self.namespaced::<Pod>(scope, sel),
            // Claims unfiltered: a selected pod's claim need not carry its labels.
            self.namespaced::<PersistentVolumeClaim>(scope, None),
            self.namespaced::<Event>(scope, None),
            join(self.cluster::<PersistentVolume>(), self.cluster::<Node>()),
        );
        let storage = join4(
            self.cluster::<StorageClass>(),
            self.cluster::<CSIDriver>(),
            self.cluster::<CSINode>(),
            join(
                self.cluster::<VolumeAttachment>(),
                self.namespaced::<CSIStorageCapacity>(scope, None),
            ),
        );
        let workloads = join4(
            self.namespaced::<ResourceQuota>(scope, None),
            self.namespaced::<LimitRange>(scope, None),
            join(
                self.namespaced::<Deployment>(scope, None),
                self.namespaced::<ReplicaSet>(scope, None),
            ),
            join4(
                self.namespaced::<StatefulSet>(scope, None),
                self.namespaced::<DaemonSet>(scope, None),
                self.namespaced::<Job>(scope, None),
                self.namespaced::<CronJob>(scope, None),
            ),
        );
        let (version, (core, storage, workloads)) =
            join(version, join3(core, storage, workloads)).await;
        let server_version = self.version_of(version)?;
        let (pods, claims, events, (volumes, nodes)) = core;
        let (classes, csi_drivers, csi_nodes, (attachments, capacities)) = storage;
        let (
            quotas,
            limit_ranges,
            (deployments, replica_sets),
            (stateful_sets, daemon_sets, jobs, cron_jobs),
        ) = workloads;
        let mut r = Reading::default();
        let objects = Objects {
            pods: r.take(pods)?,
            claims: r.take(claims)?,
            events: r.take(events)?,
            volumes: r.take(volumes)?,
            nodes: r.take(nodes)?,
            classes: r.take(classes)?,
            csi_drivers: r.take(csi_drivers)?,
            csi_nodes: r.take(csi_nodes)?,
            attachments: r.take(attachments)?,
            capacities: r.take(capacities)?,
            quotas: r.take(quotas)?,
            limit_ranges: r.take(limit_ranges)?,
            deployments: r.take(deployments)?,
            replica_sets: r.take(replica_sets)?,
            stateful_sets: r.take(stateful_sets)?,
            daemon_sets: r.take(daemon_sets)?,
            jobs: r.take(jobs)?,
            cron_jobs: r.take(cron_jobs)?,
        };
        something_read(&self.server, &r)?;
        Ok(Collected {
            snapshot: Snapshot::new(objects, r.gaps, Some(jiff::Timestamp::now())),
            server_version,
        })
    }
}

impl Connection {
    /// One GET; `None` when the object does not exist, a gap when it may
    /// not be read.
    async fn get<K>(&self, api: Api<K>, name: &str) -> Result<Outcome<K>, LiveError>
    where
        K: Stored + Resource + Clone + DeserializeOwned + Debug,
    {
        match tokio::time::timeout(self.request_timeout, api.get_opt(name)).await {
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                seconds: self.request_timeout.as_secs(),
            }),
            Ok(Ok(found)) => Ok(Outcome::Items(found.into_iter().collect())),
            Ok(Err(e)) => match gap_of(K::KIND.resource, &e) {
                Some(gap) => Ok(Outcome::Gap(gap)),
                None => Err(self.fatal(e)),
            },
        }
    }

    /// Events about one object, by field selector: what `kubectl describe` reads.
    async fn events_about(
        &self,
        ns: &str,
        kind: &str,
        name: &str,
    ) -> Result<Outcome<Event>, LiveError> {
        let params = ListParams::default().fields(&format!(
            "involvedObject.kind={kind},involvedObject.name={name}"
        ));
        self.list(Api::namespaced(self.client.clone(), ns), params)
            .await
    }

    /// Reads only the chains of one pod, or of one claim and the pods using
    /// it: about what `kubectl describe` reads, instead of a scan.
    pub async fn target_chain(&self, ns: &str, target: &Target) -> Result<Collected, LiveError> {
        let c = &self.client;
        let version =
            async { tokio::time::timeout(self.request_timeout, c.apiserver_version()).await };
        let first = join4(
            self.list::<Pod>(Api::namespaced(c.clone(), ns), ListParams::default()),
            self.list::<PersistentVolumeClaim>(
                Api::namespaced(c.clone(), ns),
                ListParams::default(),
            ),
            self.cluster::<StorageClass>(),
            self.cluster::<CSIDriver>(),
        );
        let (version, (pods, claims, classes, csi_drivers)) = join(version, first).await;
        let server_version = self.version_of(version)?;
        let mut r = Reading::default();
        let pods = r.take(pods)?;
        let claims = r.take(claims)?;
        let classes = r.take(classes)?;
        let csi_drivers = r.take(csi_drivers)?;
        something_read(&self.server, &r)?;

        // The pods whose chains matter, and the claims behind them.
        let subjects: Vec<&Pod> = match target {
            Target::Pod(name) => pods
                .iter()
                .filter(|p| p.metadata.name.as_deref() == Some(name))
                .collect(),
            Target::Claim(name) => pods
                .iter()
                .filter(|p| claim_names(p).iter().any(|u| &u.claim == name))
                .collect(),
            _ => Vec::new(),
        };
        let mut wanted: Vec<String> = subjects
            .iter()
            .flat_map(|p| claim_names(p).into_iter().map(|u| u.claim))
            .collect();
        if let Target::Claim(name) = target {
            wanted.push(name.clone());
        }
        wanted.sort();
        wanted.dedup();
        let volume_names: Vec<String> = claims
            .iter()
            .filter(|cl| {
                cl.metadata
                    .name
                    .as_ref()
                    .is_some_and(|n| wanted.contains(n))
            })
            .filter_map(|cl| cl.spec.as_ref()?.volume_name.clone())
            .filter(|v| !v.is_empty())
            .collect();
        let mut node_names: Vec<String> = subjects
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        node_names.sort();
        node_names.dedup();
        // An unscheduled pod is placed against every node.
        let unscheduled = subjects
            .iter()
            .any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none());
        let owners: Vec<String> = subjects
            .iter()
            .flat_map(|p| p.metadata.owner_references.iter().flatten())
            .filter(|o| o.kind == "ReplicaSet")
            .map(|o| o.name.clone())
            .collect();
        let pod_names: Vec<String> = subjects
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();

        let events = join(
            join_all(pod_names.iter().map(|p| self.events_about(ns, "Pod", p))),
            join_all(
                wanted
                    .iter()
                    .map(|cl| self.events_about(ns, "PersistentVolumeClaim", cl)),
            ),
        );
        let volumes = join_all(
            volume_names
                .iter()
                .map(|v| self.get::<PersistentVolume>(Api::all(c.clone()), v)),
        );
        let nodes = async {
            if unscheduled {
                vec![self.cluster::<Node>().await]
            } else {
                join_all(
                    node_names
                        .iter()
                        .map(|n| self.get::<Node>(Api::all(c.clone()), n)),
                )
                .await
            }
        };
        let csi_nodes = join_all(
            node_names
                .iter()
                .map(|n| self.get::<CSINode>(Api::all(c.clone()), n)),
        );
        let attachments = async {
            if node_names.is_empty() {
                None
            } else {
                Some(self.cluster::<VolumeAttachment>().await)
            }
        };
        let replica_sets = join_all(
            owners
                .iter()
                .map(|rs| self.get::<ReplicaSet>(Api::namespaced(c.clone(), ns), rs)),
        );
        let ((pod_events, claim_events), volumes, nodes, csi_nodes, (attachments, replica_sets)) =
            join5(
                events,
                volumes,
                nodes,
                csi_nodes,
                join(attachments, replica_sets),
            )
            .await;

        let mut objects = Objects {
            pods,
            claims,
            classes,
            csi_drivers,
            attachments: attachments
                .map(|a| r.take(a))
                .transpose()?
                .unwrap_or_default(),
            ..Objects::default()
        };
        for e in pod_events.into_iter().chain(claim_events) {
            objects.events.extend(r.take(e)?);
        }
        for v in volumes {
            objects.volumes.extend(r.take(v)?);
        }
        for n in nodes {
            objects.nodes.extend(r.take(n)?);
        }
        for n in csi_nodes {
            objects.csi_nodes.extend(r.take(n)?);
        }
        for rs in replica_sets {
            objects.replica_sets.extend(r.take(rs)?);
        }
        Ok(Collected {
            snapshot: Snapshot::new(objects, r.gaps, Some(jiff::Timestamp::now())),
            server_version,
        })
    }

    fn version_of(
        &self,
        version: Result<
            kube::Result<k8s_openapi::apimachinery::pkg::version::Info>,
            tokio::time::error::Elapsed,
        >,
    ) -> Result<Option<String>, LiveError> {
        match version {
            Ok(Ok(info)) => Ok(Some(info.git_version)),
            Ok(Err(e)) if gap_of("version", &e).is_some() => Ok(None),
            Ok(Err(e)) => Err(self.fatal(e)),
            Err(_) => Err(LiveError::Timeout {
                server: self.server.clone(),
                seconds: self.request_timeout.as_secs(),
            }),
        }
    }
}

/// What a read gave: its gaps, and whether any request gave objects.
#[derive(Default)]
struct Reading {
    gaps: Vec<Gap>,
    answered: bool,
}

impl Reading {
    /// The items of a request, or nothing and a gap.
    fn take<T>(&mut self, outcome: Result<Outcome<T>, LiveError>) -> Result<Vec<T>, LiveError> {
        Ok(match outcome? {
            Outcome::Items(items) => {
                self.answered = true;
                items
            }
            Outcome::Gap(g) => {
                self.gaps.push(g);
                Vec::new()
            }
        })
    }
}

/// A read where every request failed has nothing to diagnose: "no problem
/// found" would mislead, so it is an error naming the first gap.
fn something_read(server: &str, reading: &Reading) -> Result<(), LiveError> {
    match reading.gaps.first() {
        Some(gap) if !reading.answered => Err(LiveError::NothingRead {
            server: server.to_string(),
            resource: gap.resource.clone(),
            reason: gap.reason.clone(),
            message: gap.message.clone(),
        }),
        _ => Ok(()),
    }
}

/// An error and its causes on one line (kube wraps the transport's error),
/// safe to print: credential errors are described without the text kube
/// puts in them, which can quote an exec plugin's output.
pub fn safe_error_text(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(auth) = auth_error_in(err) {
        return describe_auth_error(auth);
    }
    // kube's wrapper of transport errors only adds its variant's name
    // ("ServiceError: …"); the transport's own error says what happened.
    if let Some(kube::Error::Service(inner)) = err.downcast_ref::<kube::Error>() {
        return safe_error_text(inner.as_ref());
    }
    let mut chain = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    let mut parts: Vec<String> = Vec::new();
    for e in chain {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// A kubeconfig that does not parse: the position and the reason, without
/// the excerpt of the file or the values the parser quotes, which can be a
/// token or a key.
fn kubeconfig_error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let text = safe_error_text(err);
    let first_line = text.lines().next().unwrap_or_default();
    let mut out = String::with_capacity(first_line.len());
    for (i, part) in first_line.split('"').enumerate() {
        if i > 0 {
            out.push('"');
        }
        out.push_str(if i % 2 == 1 { "…" } else { part });
    }
    out
}

fn auth_error_in<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a kube::client::AuthError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(auth) = e.downcast_ref::<kube::client::AuthError>() {
            return Some(auth);
        }
        if let Some(kube::Error::Auth(auth)) = e.downcast_ref::<kube::Error>() {
            return Some(auth);
        }
        next = e.source();
    }
    None
}

fn is_credential_error(err: &(dyn std::error::Error + 'static)) -> bool {
    auth_error_in(err).is_some()
}

fn describe_auth_error(err: &kube::client::AuthError) -> String {
    use kube::client::AuthError as A;
    match err {
        // `cmd` is the whole command line with its environment.
        A::AuthExecRun { out, .. } => format!(
            "the kubeconfig's exec credential plugin failed ({}); run it by hand to see its output",
            out.status
        ),
        A::AuthExecParse(_) | A::ExecPluginFailed => {
            "the kubeconfig's exec credential plugin did not print a valid ExecCredential".to_string()
        }
        A::AuthExecStart(e) => {
            format!("cannot start the kubeconfig's exec credential plugin: {e}")
        }
        A::ReadTokenFile(e, path) => {
            format!("cannot read the token file {}: {e}", path.display())
        }
        A::InvalidBearerToken(_) => "the kubeconfig's token is not a valid header value".to_string(),
        A::InvalidBasicAuth(_) => {
            "the kubeconfig's user name or password is not a valid header value".to_string()
        }
        A::MissingCommand => "the kubeconfig's exec credential plugin has no command".to_string(),
        // The rest carry text from a plugin or an identity provider.
        _ => "the kubeconfig's credential plugin or identity provider failed; run `kubectl get --raw /version` with this context to see why".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(resource: &str) -> Result<Outcome<()>, LiveError> {
        Ok(Outcome::Gap(Gap {
            resource: resource.to_string(),
            reason: "Forbidden".to_string(),
            message: format!("{resource} is forbidden"),
        }))
    }

    #[test]
    fn a_read_where_every_request_failed_is_an_error() {
        let mut reading = Reading::default();
        reading.take(gap("pods")).unwrap();
        reading.take(gap("persistentvolumeclaims")).unwrap();
        let err = something_read("https://k8s", &reading).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nothing could be read from the cluster at https://k8s: pods: Forbidden: pods is forbidden"
        );
        reading.take(Ok(Outcome::Items(Vec::<()>::new()))).unwrap();
        assert!(something_read("https://k8s", &reading).is_ok());
        assert_eq!(reading.gaps.len(), 2);
    }

    #[test]
    fn transport_errors_read_without_kubes_wrapper() {
        let err = kube::Error::Service(Box::new(std::io::Error::other(
            "connection closed before message completed",
        )));
        assert_eq!(
            safe_error_text(&err),
            "connection closed before message completed"
        );
    }
}
