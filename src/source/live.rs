//! The live source: reads a cluster the way kubectl does (kubeconfig,
//! contexts, exec plugins), with one paginated LIST per kind, all issued
//! concurrently. A kind the user may not read, or the server does not
//! serve, becomes a gap; the diagnosis goes on without it. Read-only: only
//! get and list requests are made.
//!
//! This module connects and classifies what goes wrong; [`read`] lists.

mod kubelet;
mod read;

pub use kubelet::LOG_CONTAINERS;

pub use read::{Collected, ScanScope};

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
}
