//! Exec credential plugins (`users[].user.exec`), run here rather than by
//! kube, for three reasons kube's own runner does not meet: the plugin is
//! bounded by `--request-timeout` and killed past it; it may read the
//! terminal only as kubectl lets it (`interactiveMode`: Never, IfAvailable,
//! Always); and it runs once per connection, before any request, so a
//! plugin that prompts is never drawn over by the spinner and is not run
//! again after the server refuses what it printed (kube would run it once
//! for the TLS identity and once for the token, and again for each request
//! while its token is about to expire).

use base64::Engine;
use jiff::Timestamp;
use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use serde::Deserialize;
use std::process::Stdio;
use std::time::Duration;

/// What an ExecCredential's `status` holds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
    expiration_timestamp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExecCredential {
    status: Option<Status>,
}

/// Whether the plugin's credentials are the ones kube would use: an exec
/// entry with nothing that takes precedence over it in kube's order.
pub fn uses_plugin(user: &AuthInfo) -> bool {
    user.exec.is_some()
        && user.auth_provider.is_none()
        && user.token.is_none()
        && user.token_file.is_none()
        && !(user.username.is_some() && user.password.is_some())
}

/// The plugin's name as errors and `-v` show it.
pub fn plugin_name(exec: &ExecConfig) -> String {
    format!(
        "exec credential plugin `{}`",
        exec.command.as_deref().unwrap_or("(no command)")
    )
}

/// Whether the plugin may use the terminal, as kubectl decides it: never
/// with `Never`; with `IfAvailable` (the default) when standard input is a
/// terminal; `Always` needs one.
fn interactive(exec: &ExecConfig, stdin_is_terminal: bool) -> Result<bool, String> {
    match exec.interactive_mode {
        Some(ExecInteractiveMode::Never) => Ok(false),
        Some(ExecInteractiveMode::Always) if !stdin_is_terminal => Err(format!(
            "{} needs a terminal (interactiveMode: Always), and standard input is not one",
            plugin_name(exec)
        )),
        Some(ExecInteractiveMode::Always) => Ok(true),
        Some(ExecInteractiveMode::IfAvailable) | None => Ok(stdin_is_terminal),
    }
}

/// Runs the plugin once and puts what it printed into `user` in place of
/// the exec entry, so kube never runs it. Returns when the credentials
/// expire, if the plugin said. The error is one line without the plugin's
/// output, which may hold credentials.
pub async fn run_into(
    user: &mut AuthInfo,
    timeout: Duration,
    stdin_is_terminal: bool,
) -> Result<Option<Timestamp>, String> {
    let Some(exec) = user.exec.take() else {
        return Ok(None);
    };
    let name = plugin_name(&exec);
    let interactive = interactive(&exec, stdin_is_terminal)?;
    let command = exec
        .command
        .as_deref()
        .ok_or_else(|| "the kubeconfig's exec entry has no command".to_string())?;
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for var in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (var.get("name"), var.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info {
        if let Some(cluster) = &exec.cluster {
            spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
        }
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version.as_deref().unwrap_or("client.authentication.k8s.io/v1beta1"),
        "kind": "ExecCredential",
        "spec": spec,
    });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    if interactive {
        // Its prompts on stderr, the answer from the terminal.
        cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
    } else {
        // Its stderr may hold what it was given: never shown.
        cmd.stdin(Stdio::null()).stderr(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => {
            return Err(format!(
                "{name} did not finish within {} (--request-timeout) and was stopped{}",
                super::duration_text(timeout),
                if interactive {
                    "; a plugin that waits for you to log in may need a longer one, e.g. --request-timeout 2m"
                } else {
                    ""
                }
            ))
        }
        Ok(Err(e)) => return Err(format!("{name} failed: {e}")),
        Ok(Ok(out)) => out,
    };
    if !out.status.success() {
        return Err(format!("{name} failed ({})", out.status));
    }
    let status = serde_yaml_ng::from_slice::<ExecCredential>(&out.stdout)
        .ok()
        .and_then(|c| c.status)
        .ok_or_else(|| format!("{name} did not print an ExecCredential with a status"))?;
    let expires = status
        .expiration_timestamp
        .as_deref()
        .map(|t| {
            t.parse::<Timestamp>()
                .map_err(|_| format!("{name} printed an expirationTimestamp that is not a time"))
        })
        .transpose()?;
    let encode = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    match (
        status.client_certificate_data,
        status.client_key_data,
        status.token,
    ) {
        (Some(cert), Some(key), token) => {
            user.client_certificate_data = Some(encode(&cert));
            user.client_key_data = Some(encode(&key).into());
            user.token = token.map(Into::into);
        }
        (_, _, Some(token)) => user.token = Some(token.into()),
        _ => {
            return Err(format!(
                "{name} printed neither a token nor a client certificate"
            ))
        }
    }
    Ok(expires)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec(mode: Option<ExecInteractiveMode>) -> ExecConfig {
        serde_json::from_value::<ExecConfig>(serde_json::json!({"command": "get-token"}))
            .map(|mut e| {
                e.interactive_mode = mode;
                e
            })
            .unwrap()
    }

    #[test]
    fn interactive_mode_follows_kubectl() {
        use ExecInteractiveMode::*;
        assert_eq!(interactive(&exec(Some(Never)), true), Ok(false));
        assert_eq!(interactive(&exec(Some(IfAvailable)), true), Ok(true));
        assert_eq!(interactive(&exec(Some(IfAvailable)), false), Ok(false));
        assert_eq!(interactive(&exec(None), true), Ok(true));
        assert_eq!(interactive(&exec(Some(Always)), true), Ok(true));
        let refused = interactive(&exec(Some(Always)), false).unwrap_err();
        assert!(refused.contains("exec credential plugin `get-token` needs a terminal"));
    }
}
