//! `volume-source-missing`: a volume that is not a claim points at
//! something that does not exist (a ConfigMap, a Secret, a key in them, a
//! hostPath of the type asked), so the kubelet cannot set it up and the pod
//! waits in ContainerCreating. Known from the kubelet's words: Secrets are
//! never read.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::{edit_pod_spec_hint, kubectl_ns};
use crate::chain::{ClaimChain, PodChain, PodVolume};
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::volume_errors::{missing_source, named_volume, MissingSource};

pub const RULE: Rule = Rule {
    id: "volume-source-missing",
    title: "a ConfigMap, Secret, key or hostPath that a pod volume needs does not exist",
    severity: Severity::Error,
    link: Link::PodToVolume,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-source-missing.md"),
};

/// The pod volume the missing source belongs to: the one the event names,
/// else the one that refers to that object.
fn volume_of<'p, 'a>(
    pod: &'p PodChain<'a>,
    named: Option<&str>,
    missing: &MissingSource,
) -> Option<&'p PodVolume<'a>> {
    let by_source = |v: &&PodVolume| match missing {
        MissingSource::ConfigMap(name) => v
            .sources()
            .iter()
            .any(|s| s.0 == "ConfigMap" && s.1 == name),
        MissingSource::Secret(name) => v.sources().iter().any(|s| s.0 == "Secret" && s.1 == name),
        MissingSource::HostPath { path, .. } => v
            .spec
            .host_path
            .as_ref()
            .is_some_and(|h| h.path.trim_end_matches('/') == path.trim_end_matches('/')),
        MissingSource::Key { .. } => false,
    };
    pod.volumes
        .iter()
        .filter(|v| !v.is_claim())
        .find(|v| Some(v.name) == named)
        .or_else(|| pod.volumes.iter().filter(|v| !v.is_claim()).find(by_source))
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, _: &[ClaimChain]) -> Vec<Cause> {
    let ns = pod.namespace;
    let timeline = Timeline::new(&pod.events);
    let mut out: Vec<Cause> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for e in timeline.current_all("FailedMount") {
        let message = events::message(e);
        let Some(missing) = missing_source(message) else {
            continue;
        };
        let volume = volume_of(pod, named_volume(message), &missing);
        // An optional source never blocks; an event about one is stale.
        if volume.is_some_and(|v| v.optional()) {
            continue;
        }
        let volume_name = volume
            .map(|v| v.name)
            .or(named_volume(message))
            .unwrap_or("?")
            .to_string();
        if seen.contains(&volume_name) {
            continue;
        }
        seen.push(volume_name.clone());
        let kind = volume.map_or("", |v| v.kind());
        let (what, object) = match &missing {
            MissingSource::ConfigMap(name) => (
                format!("ConfigMap \"{name}\", which does not exist in namespace {ns}"),
                Some(ObjectRef::namespaced("ConfigMap", ns, name)),
            ),
            MissingSource::Secret(name) => (
                format!("Secret \"{name}\", which does not exist in namespace {ns}"),
                Some(ObjectRef::namespaced("Secret", ns, name)),
            ),
            MissingSource::Key { of, key } => {
                let source = volume
                    .and_then(|v| v.sources().into_iter().find(|s| s.0 == *of))
                    .map(|s| s.1);
                match source {
                    Some(name) => (
                        format!("key \"{key}\" of {of} \"{name}\", which has no such key"),
                        None,
                    ),
                    None => (
                        format!("key \"{key}\" of its {of}, which the {of} does not have"),
                        None,
                    ),
                }
            }
            MissingSource::HostPath { path, why } => (
                format!("host path {path} on node {node}, which is not there as asked ({why})"),
                None,
            ),
        };
        let mut cause = Cause::new(
            &RULE,
            format!(
                "pod {ns}/{} cannot start: its volume \"{volume_name}\"{} needs {what}",
                pod.name,
                if kind.is_empty() {
                    String::new()
                } else {
                    format!(" ({kind})")
                },
            ),
        )
        .object(pod.object())
        .evidence(events::quote(e, ctx.snap.now));
        if let Some(o) = object {
            cause = cause.object(o);
        }
        if let Some(v) = volume {
            let mounts: Vec<String> = v
                .mounts
                .iter()
                .map(|m| format!("{} at {}", m.container, m.path))
                .collect();
            if !mounts.is_empty() {
                cause = cause.evidence(format!(
                    "volume \"{}\" is mounted by {}",
                    v.name,
                    mounts.join(", ")
                ));
            }
        }
        cause = cause.evidence(
            "the kubelet sets up every volume before any container starts; a missing source blocks the pod until it exists (the kubelet retries by itself)",
        );
        cause = fixes(ctx, pod, cause, &missing, &volume_name, node);
        out.push(cause);
    }
    out
}

fn fixes(
    ctx: &Ctx,
    pod: &PodChain,
    cause: Cause,
    missing: &MissingSource,
    volume: &str,
    node: &str,
) -> Cause {
    let ns = pod.namespace;
    let k = kubectl_ns(ns);
    let cause = match missing {
        MissingSource::ConfigMap(name) => cause
            .fix(format!("create it where the pod runs: {k} create configmap {name} --from-file=<file> (or apply the manifest that should have created it: a Helm release or kustomization that failed, or another namespace)"))
            .fix(edit_pod_spec_hint(ctx, pod, &format!("correct the ConfigMap name of volume \"{volume}\" if it is a typo (kubectl -n {ns} get configmaps lists the names)"))),
        MissingSource::Secret(name) => cause
            .fix(format!("create it where the pod runs: {k} create secret generic {name} --from-file=<file> (or let the operator, cert-manager or external-secrets sync that should create it finish: {k} get events --field-selector involvedObject.name={name})"))
            .fix(edit_pod_spec_hint(ctx, pod, &format!("correct the Secret name of volume \"{volume}\" if it is a typo ({k} get secrets lists the names)"))),
        MissingSource::Key { of, key } => cause
            .fix(format!("add the key \"{key}\" to the {of} ({k} edit {} <name>), or correct items[].key of volume \"{volume}\"", of.to_lowercase()))
            .fix(edit_pod_spec_hint(ctx, pod, &format!("drop the items entry for \"{key}\" of volume \"{volume}\", or set optional: true if the pod can run without it"))),
        MissingSource::HostPath { path, .. } => cause
            .fix(format!("create {path} on node {node} with the type the volume asks, or run the pod only on nodes that have it (nodeSelector)"))
            .fix(edit_pod_spec_hint(ctx, pod, &format!("set hostPath.type of volume \"{volume}\" to DirectoryOrCreate (or FileOrCreate) if the kubelet may create it"))),
    };
    let optional = matches!(
        missing,
        MissingSource::ConfigMap(_) | MissingSource::Secret(_)
    );
    if optional {
        cause.fix(format!(
            "if the pod can run without it, mark the source optional: true in volume \"{volume}\"; an optional source never blocks"
        ))
    } else {
        cause
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Pod;
    use crate::fixtures::*;
    use serde_json::json;

    fn pod_with_config(optional: bool) -> Pod {
        let mut p = pod("web")
            .claim("data")
            .on_node("n1")
            .waiting("ContainerCreating");
        let spec = p.spec.as_mut().unwrap();
        spec.volumes.get_or_insert_with(Vec::new).push(
            serde_json::from_value(
                json!({"name": "cfg", "configMap": {"name": "app-config", "optional": optional}}),
            )
            .unwrap(),
        );
        spec.containers[0]
            .volume_mounts
            .get_or_insert_with(Vec::new)
            .push(serde_json::from_value(json!({"name": "cfg", "mountPath": "/etc/app"})).unwrap());
        p
    }

    fn with_event(p: Pod) -> crate::snapshot::Snapshot {
        snapshot(|o| {
            o.pods.push(p);
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(pv("pv-1").bound_to("default", "data"));
            o.events.push(
                event("FailedMount", "MountVolume.SetUp failed for volume \"cfg\" : configmap \"app-config\" not found")
                    .warning()
                    .about("Pod", "default", "web"),
            );
        })
    }

    #[test]
    fn missing_configmap_blames_its_volume_not_the_claim() {
        let found = causes(&RULE, &with_event(pod_with_config(false)));
        assert_eq!(found.len(), 1);
        let c = &found[0];
        assert!(
            c.summary.contains("volume \"cfg\" (configMap)"),
            "{}",
            c.summary
        );
        assert!(c.summary.contains("ConfigMap \"app-config\""));
        assert!(c
            .objects
            .contains(&ObjectRef::namespaced("ConfigMap", "default", "app-config")));
        assert!(!c.objects.iter().any(|o| o.kind == "PersistentVolumeClaim"));
        assert!(text(c).contains("/etc/app"));
    }

    #[test]
    fn optional_source_never_blocks() {
        assert!(causes(&RULE, &with_event(pod_with_config(true))).is_empty());
    }
}
