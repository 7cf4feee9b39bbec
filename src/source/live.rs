//! The live source: reads a cluster the way kubectl does (kubeconfig,
//! contexts, exec plugins), with one paginated LIST per kind, all issued
//! concurrently. A kind the user may not read, or the server does not
//! serve, becomes a gap; the diagnosis goes on without it. Read-only: only
//! get and list requests are made.
//!
//! This module connects and classifies what goes wrong; [`read`] lists.

mod components;
mod exec;
mod kubelet;
mod names;
mod page;
mod protobuf;
mod read;
mod scan;
mod target;

pub use names::context_names;

pub use kubelet::LOG_CONTAINERS;

pub use read::{Collected, ScanScope};

use super::dump::Keep;
use super::error_text::{is_credential_error, kubeconfig_error_text, safe_error_text};
use super::request_log::RequestLog;
use kube::client::ClientBuilder;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the cluster (kubectl's flags).
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Duration,
    /// `-v`: log each request on stderr.
    pub verbose: bool,
    /// `--consistent`: every LIST from etcd, none from the watch cache.
    pub consistent: bool,
    /// `--disable-compression[=BOOL]`; when not given, compression is off
    /// for a server on this machine and as the kubeconfig says otherwise.
    pub disable_compression: Option<bool>,
    /// Whether an exec credential plugin may prompt on the terminal
    /// (standard input is one, and nothing else reads it).
    pub stdin_is_terminal: bool,
    /// What is kept of each object read: `collect` writes more than a
    /// diagnosis reads.
    pub keep: Keep,
}

/// A client for one context.
pub struct Connection {
    pub client: Client,
    pub context: Option<String>,
    pub server: String,
    pub default_namespace: String,
    pub request_timeout: Duration,
    pub log: Option<RequestLog>,
    /// `--consistent`.
    pub consistent: bool,
    /// What kind of credentials the context uses, for errors: never their value.
    pub credentials: String,
    /// When the exec plugin's credentials expire, if it said.
    pub credentials_expire: Option<jiff::Timestamp>,
    /// Whether a diagnosis (which drops the last-applied annotation) or
    /// `collect` reads.
    pub keep: Keep,
}

/// Why the cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("cannot load kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot reach the cluster at {server}: {message}")]
    Unreachable { server: String, message: String },
    #[error("the cluster at {server} did not answer within {} (--request-timeout)", duration_text(*after))]
    Timeout { server: String, after: Duration },
    #[error("cannot get credentials for the cluster at {server}: {message}")]
    Credentials { server: String, message: String },
    #[error("the cluster at {server} refused the credentials ({code}) {credentials}: {message}")]
    Unauthorized {
        server: String,
        code: u16,
        /// `of the exec plugin …`, `of the bearer token`, or `(none given)`.
        credentials: String,
        message: String,
    },
    #[error("namespace {namespace} not found on the cluster at {server}{suggestion}")]
    NamespaceNotFound {
        server: String,
        namespace: String,
        /// `; did you mean …?`, or nothing.
        suggestion: String,
    },
    #[error("nothing could be read from the cluster at {server}: {resource}: {reason}: {message}")]
    NothingRead {
        server: String,
        resource: String,
        reason: String,
        message: String,
    },
}

/// A duration as the flags take it: `500ms` under a second, `30s`, `1m30s`.
pub fn duration_text(d: Duration) -> String {
    if d.subsec_millis() != 0 || d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

pub async fn connect(opts: &LiveOptions) -> Result<Connection, LiveError> {
    let kubeconfig = load_kubeconfig(opts.kubeconfig.as_deref())?;
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
    // Through a proxy, a loopback address is on the proxy's machine, not this one.
    config.disable_compression = opts.disable_compression.unwrap_or(
        config.disable_compression
            || (config.proxy_url.is_none() && is_loopback(&config.cluster_url)),
    );
    // Printed in -v, in errors and in the report: never its credentials.
    let server =
        crate::text::urls_for_display(config.cluster_url.to_string().trim_end_matches('/'))
            .into_owned();
    let default_namespace = config.default_namespace.clone();
    let credentials = credential_kind(&config.auth_info);
    let log = opts.verbose.then(RequestLog::new);
    if let Some(log) = &log {
        log.note(format_args!(
            "context {}, server {server}, credentials: {credentials}, compression: {}",
            context.as_deref().unwrap_or("(none)"),
            if config.disable_compression {
                "off"
            } else {
                "gzip"
            },
        ));
    }
    let credentials_expire = if exec::uses_plugin(&config.auth_info) {
        exec::run_into(
            &mut config.auth_info,
            opts.request_timeout,
            opts.stdin_is_terminal,
        )
        .await
        .map_err(|message| LiveError::Credentials {
            server: server.clone(),
            message,
        })?
    } else {
        None
    };
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
        consistent: opts.consistent,
        credentials,
        credentials_expire,
        keep: opts.keep,
    })
}

/// Whether the API server is on this machine (kind, minikube, k3d, a local
/// control plane). Compression trades CPU on both ends for bandwidth, and
/// over loopback there is bandwidth to spare: gzip there only slows a large
/// LIST (a scan of 10,000 pods cost the API server about a third more CPU
/// with it), which is why Kubernetes' own components beside the API server
/// ask for none.
fn is_loopback(url: &http::Uri) -> bool {
    let Some(host) = url.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The kubeconfig as kubectl loads it: `--kubeconfig`, else the files
/// `KUBECONFIG` lists that exist (missing ones are skipped, as kubectl
/// does), merged, else `~/.kube/config`. An error names the file.
fn load_kubeconfig(explicit: Option<&std::path::Path>) -> Result<Kubeconfig, LiveError> {
    if let Some(path) = explicit {
        return read_kubeconfig(path);
    }
    let listed: Vec<PathBuf> = std::env::var_os("KUBECONFIG")
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if listed.is_empty() {
        return Kubeconfig::read().map_err(|e| LiveError::Kubeconfig(kubeconfig_error(&e)));
    }
    let present: Vec<&PathBuf> = listed.iter().filter(|p| p.exists()).collect();
    if present.is_empty() {
        let names: Vec<String> = listed.iter().map(|p| p.display().to_string()).collect();
        return Err(LiveError::Kubeconfig(format!(
            "none of the files KUBECONFIG lists exists: {}",
            names.join(", ")
        )));
    }
    let mut merged = Kubeconfig::default();
    for path in present {
        merged = merged.merge(read_kubeconfig(path)?).map_err(|e| {
            LiveError::Kubeconfig(format!("{}: {}", path.display(), kubeconfig_error(&e)))
        })?;
    }
    Ok(merged)
}

fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, LiveError> {
    Kubeconfig::read_from(path).map_err(|e| {
        let reason = match &e {
            // kube's own text quotes the path twice over ('"…"').
            kube::config::KubeconfigError::ReadConfig(io, _) => io.to_string(),
            other => kubeconfig_error_text(other),
        };
        LiveError::Kubeconfig(format!("{}: {reason}", path.display()))
    })
}

/// A kubeconfig error without a path: kube's text, with the path it
/// quotes (if any) shown plainly.
fn kubeconfig_error(e: &kube::config::KubeconfigError) -> String {
    match e {
        kube::config::KubeconfigError::ReadConfig(io, path) => {
            format!("{}: {io}", path.display())
        }
        other => kubeconfig_error_text(other),
    }
}

/// What kind of credentials the context uses, never their value.
fn credential_kind(user: &AuthInfo) -> String {
    if let Some(exec) = user.exec.as_ref().filter(|_| exec::uses_plugin(user)) {
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

impl Connection {
    /// When `-n` found nothing: whether the namespace does not exist (the
    /// server says 404), with the close names of those that do when the
    /// user may list them. Anything else (403, an error) tells nothing:
    /// the read stands as it is.
    pub async fn missing_namespace(&self, ns: &str) -> Option<LiveError> {
        use k8s_openapi::api::core::v1::Namespace;
        let api: kube::Api<Namespace> = kube::Api::all(self.client.clone());
        match tokio::time::timeout(self.request_timeout, api.get_metadata(ns)).await {
            Ok(Err(kube::Error::Api(status))) if status.code == 404 => {}
            _ => return None,
        }
        let params = kube::api::ListParams::default();
        let known: Vec<String> =
            match tokio::time::timeout(self.request_timeout, api.list_metadata(&params)).await {
                Ok(Ok(list)) => list
                    .items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect(),
                _ => Vec::new(),
            };
        let suggestions = crate::text::did_you_mean(ns, known.iter().map(String::as_str));
        Some(LiveError::NamespaceNotFound {
            server: self.server.clone(),
            namespace: ns.to_string(),
            suggestion: crate::text::did_you_mean_text(&suggestions),
        })
    }

    fn fatal(&self, err: kube::Error) -> LiveError {
        match &err {
            kube::Error::Api(s) if s.code == 401 => LiveError::Unauthorized {
                server: self.server.clone(),
                code: s.code,
                credentials: match self.credentials.as_str() {
                    "none" => "(none given)".to_string(),
                    kind => format!("of the {kind}"),
                },
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
                        after: self.request_timeout,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_flags_take_them() {
        assert_eq!(duration_text(Duration::from_millis(1)), "1ms");
        assert_eq!(duration_text(Duration::from_millis(1500)), "1500ms");
        assert_eq!(duration_text(Duration::from_secs(30)), "30s");
        assert_eq!(duration_text(Duration::from_secs(90)), "1m30s");
        assert_eq!(duration_text(Duration::from_secs(120)), "2m");
    }

    #[test]
    fn a_server_on_this_machine_is_one_on_loopback() {
        let on_this_machine = |url: &str| is_loopback(&url.parse().unwrap());
        assert!(on_this_machine("https://127.0.0.1:6443"));
        assert!(on_this_machine("https://127.0.1.1"));
        assert!(on_this_machine("https://localhost:8443/"));
        assert!(on_this_machine("https://LOCALHOST:8443"));
        assert!(on_this_machine("https://[::1]:6443"));
        assert!(!on_this_machine("https://10.0.0.1:6443"));
        assert!(!on_this_machine("https://[fd00::1]:6443"));
        assert!(!on_this_machine("https://api.example.com"));
        assert!(!on_this_machine("https://localhost.example.com"));
    }
}
