//! What `collect` leaves out of a ticket file by default: values that are
//! credentials or may hold them. Names stay, so the file still shows what
//! was set; only values go. Nothing the diagnosis reads is touched.
//!
//! - every container's (init and ephemeral too) `env[].value`, in pods and
//!   in the pod templates of Deployments, ReplicaSets, StatefulSets,
//!   DaemonSets, Jobs and CronJobs (`valueFrom` references stay);
//! - in `command` and `args`: the value of a flag whose name says key,
//!   token, password or secret (`--api-key=…`, or the next argument after
//!   `--api-key`), and the user and password of a URL (`scheme://user:pass@host`);
//! - the `kubectl.kubernetes.io/last-applied-configuration` annotation,
//!   which repeats the whole object as it was applied;
//! - StorageClass `parameters` and PersistentVolume `spec.csi.volumeAttributes`
//!   whose key names a secret, password, token or key.

use serde_json::Value;

/// What a redacted value is replaced with.
pub const REDACTED: &str = "REDACTED";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

use crate::text::names_a_credential;

/// Redacts one object of a `collect` list (with its `kind`); returns how
/// many values were replaced.
pub fn object(item: &mut Value) -> usize {
    let mut n = 0;
    if let Some(annotations) = item
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        if annotations.remove(LAST_APPLIED).is_some() {
            n += 1;
        }
    }
    let kind = item
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let pod_spec = match kind.as_str() {
        "Pod" => "/spec",
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        "StorageClass" => return n + credential_values(item.get_mut("parameters")),
        "PersistentVolume" => {
            return n + credential_values(item.pointer_mut("/spec/csi/volumeAttributes"))
        }
        _ => return n,
    };
    if let Some(spec) = item.pointer_mut(pod_spec) {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else {
                continue;
            };
            for container in containers {
                n += container_values(container);
            }
        }
    }
    n
}

/// The values of a string map whose keys name credentials.
fn credential_values(map: Option<&mut Value>) -> usize {
    let Some(map) = map.and_then(Value::as_object_mut) else {
        return 0;
    };
    let mut n = 0;
    for (key, value) in map.iter_mut() {
        if names_a_credential(key) && value.as_str() != Some(REDACTED) {
            *value = Value::from(REDACTED);
            n += 1;
        }
    }
    n
}

fn container_values(container: &mut Value) -> usize {
    let mut n = 0;
    if let Some(env) = container.get_mut("env").and_then(Value::as_array_mut) {
        for var in env {
            if let Some(value) = var.get_mut("value") {
                if value
                    .as_str()
                    .is_some_and(|v| !v.is_empty() && v != REDACTED)
                {
                    *value = Value::from(REDACTED);
                    n += 1;
                }
            }
        }
    }
    for list in ["command", "args"] {
        if let Some(args) = container.get_mut(list).and_then(Value::as_array_mut) {
            n += arguments(args);
        }
    }
    n
}

/// `command` or `args`: flag values that are credentials, and URL userinfo.
fn arguments(args: &mut [Value]) -> usize {
    let mut n = 0;
    let mut value_follows = false;
    for arg in args.iter_mut() {
        let Some(text) = arg.as_str() else {
            value_follows = false;
            continue;
        };
        let redacted = if value_follows && !text.starts_with('-') {
            REDACTED.to_string()
        } else {
            words(text)
        };
        value_follows = is_bare_credential_flag(text);
        if redacted != text {
            *arg = Value::from(redacted);
            n += 1;
        }
    }
    n
}

/// `--api-key` (no `=`): its value is the next argument.
fn is_bare_credential_flag(text: &str) -> bool {
    text.starts_with('-')
        && !text.contains('=')
        && !text.contains(char::is_whitespace)
        && names_a_credential(text)
}

/// Each whitespace-separated word of an argument (a shell script passed to
/// `sh -c` holds many): credential flags with `=` and URL userinfo
/// redacted, a bare credential flag's next word too; the spacing kept.
fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut value_follows = false;
    let mut rest = text;
    while !rest.is_empty() {
        let space = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        if word.is_empty() {
            continue;
        }
        if value_follows && !word.starts_with('-') {
            out.push_str(REDACTED);
            value_follows = false;
            continue;
        }
        value_follows = is_bare_credential_flag(word);
        out.push_str(&word_redacted(word));
    }
    out
}

fn word_redacted(word: &str) -> String {
    if let Some((flag, _)) = word.split_once('=') {
        if flag.starts_with('-') && names_a_credential(flag) {
            return format!("{flag}={REDACTED}");
        }
    }
    crate::text::url_userinfo_redacted(word, REDACTED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_values_and_annotations_go_names_stay() {
        let mut pod = json!({
            "kind": "Pod",
            "metadata": {"name": "p", "annotations": {LAST_APPLIED: "{\"spec\":{}}", "team": "ml"}},
            "spec": {"containers": [{
                "name": "c",
                "env": [{"name": "DB_PASS", "value": "hunter2"}, {"name": "REF", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                "command": ["server", "--api-key=abc123", "--token", "t0k3n", "--verbose", "--db", "postgres://admin:pw@db:5432/x"],
                "args": ["sh", "-c", "run --password=p4ss && curl https://u:secretpw@h/x"]
            }], "initContainers": [{"name": "i", "env": [{"name": "X", "value": "y"}]}]}
        });
        let n = object(&mut pod);
        let text = pod.to_string();
        for leaked in [
            "hunter2",
            "abc123",
            "t0k3n",
            "admin:pw",
            "p4ss",
            "secretpw",
            "last-applied",
            "\"y\"",
        ] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        for kept in [
            "DB_PASS",
            "secretKeyRef",
            "--api-key=REDACTED",
            "--verbose",
            "postgres://REDACTED@db:5432/x",
            "team",
            "https://REDACTED@h/x",
        ] {
            assert!(text.contains(kept), "{kept} not in {text}");
        }
        assert_eq!(n, 7, "{text}");
        // Twice is the same as once.
        let again = pod.clone();
        object(&mut pod);
        assert_eq!(pod, again);
    }

    #[test]
    fn templates_classes_and_volumes() {
        let mut cj = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "env": [{"name": "A", "value": "b"}]}]}}}}}});
        assert_eq!(object(&mut cj), 1);
        let mut sc = json!({"kind": "StorageClass", "parameters": {"type": "gp3", "kmsKeyId": "arn:x", "csi.storage.k8s.io/provisioner-secret-name": "s"}});
        assert_eq!(object(&mut sc), 2);
        assert_eq!(sc["parameters"]["type"], "gp3");
        let mut pv = json!({"kind": "PersistentVolume", "spec": {"csi": {"driver": "d", "volumeHandle": "h", "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": "1", "authToken": "x"}}}});
        assert_eq!(object(&mut pv), 1);
        assert_eq!(pv["spec"]["csi"]["volumeAttributes"]["authToken"], REDACTED);
    }
}
