//! Error text safe to print: kube's errors and their causes on one line,
//! without the credentials a kubeconfig or an exec plugin can put in them.

/// An error and its causes on one line (kube wraps the transport's error),
/// safe to print: credential errors are described without the text kube
/// puts in them, which can quote an exec plugin's output, and any URL
/// without its user, password or query values.
pub fn safe_error_text(err: &(dyn std::error::Error + 'static)) -> String {
    crate::text::urls_for_display(&chain_text(err)).into_owned()
}

fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    if let Some(auth) = auth_error_in(err) {
        return describe_auth_error(auth);
    }
    // kube's wrapper of transport errors only adds its variant's name
    // ("ServiceError: …"); the transport's own error says what happened.
    if let Some(kube::Error::Service(inner)) = err.downcast_ref::<kube::Error>() {
        return chain_text(inner.as_ref());
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
pub(super) fn kubeconfig_error_text(err: &(dyn std::error::Error + 'static)) -> String {
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

pub(super) fn is_credential_error(err: &(dyn std::error::Error + 'static)) -> bool {
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
