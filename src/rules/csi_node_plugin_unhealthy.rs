//! `csi-node-plugin-unhealthy`: a pod cannot mount its volume on a node
//! where the driver's node plugin does not run: its DaemonSet places no pod
//! there (a taint it does not tolerate, a nodeSelector or affinity that
//! leaves the node out), or its pod there is Pending, crash-looping or not
//! Ready. Ranked above `csi-driver-not-registered` and mount failures.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::components::{
    cite_refusals, pod_fixes, pods_refused, trouble_line, PodsRefused,
};
use crate::api::DaemonSet;
use crate::chain::driver::{components, trouble, why_not_on, KeptOff};
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "csi-node-plugin-unhealthy",
    title: "the CSI driver's node plugin does not run on the node that needs it, or its pod there is not Ready",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/csi-node-plugin-unhealthy.md"),
};

const NOT_REGISTERED: &[&str] = &[
    "not found in the list of registered CSI drivers",
    "does not contain driver",
];

/// What on this node shows the driver is missing or failing, if anything.
fn symptom(ctx: &Ctx, pod: &PodChain, node: &str, c: &ClaimChain, driver: &str) -> Option<String> {
    if let Some(e) = pod.events.iter().find(|e| {
        let m = events::message(e);
        NOT_REGISTERED.iter().any(|t| m.contains(t)) && m.contains(driver)
    }) {
        return Some(events::quote(e, ctx.snap.now));
    }
    match ctx.snap.csi_node(node) {
        Some(n) if !n.spec.drivers.iter().any(|d| d.name == driver) => {
            let listed: Vec<&str> = n.spec.drivers.iter().map(|d| d.name.as_str()).collect();
            return Some(format!(
                "CSINode {node} lists [{}], not {driver}",
                listed.join(", ")
            ));
        }
        None if ctx.snap.has("csinodes") && !ctx.snap.objects.csi_nodes.is_empty() => {
            return Some(format!(
                "there is no CSINode object for {node}: no CSI node plugin has registered there"
            ));
        }
        _ => {}
    }
    let pv = c.volume?.metadata.name.as_deref()?;
    Timeline::new(&pod.events)
        .current_all("FailedMount")
        .find(|e| events::message(e).contains(pv))
        .map(|e| events::quote(e, ctx.snap.now))
}

fn patch_toleration(ds: &DaemonSet, key: &str, effect: &str) -> String {
    let ns = ds.metadata.namespace.as_deref().unwrap_or("");
    let name = ds.metadata.name.as_deref().unwrap_or("");
    let has = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.tolerations.as_ref())
        .is_some_and(|t| !t.is_empty());
    let value = format!(r#"{{"key":"{key}","operator":"Exists","effect":"{effect}"}}"#);
    let (path, value) = if has {
        ("/spec/template/spec/tolerations/-", value)
    } else {
        ("/spec/template/spec/tolerations", format!("[{value}]"))
    };
    format!(
        "let the node plugin tolerate the taint: kubectl -n {ns} patch daemonset {name} --type json -p '[{{\"op\":\"add\",\"path\":\"{path}\",\"value\":{value}}}]' (if a Helm chart or an add-on installs the driver, set the toleration in its values instead, or the next upgrade removes it)"
    )
}

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for c in claims {
        let Some(driver) = c.volume_driver() else {
            continue;
        };
        if seen.contains(&driver) {
            continue;
        }
        let Some(symptom) = symptom(ctx, pod, node, c, driver) else {
            continue;
        };
        seen.push(driver);
        let comps = components(ctx.snap, ctx.drivers, driver);
        if !comps.node_plugin_identified() {
            continue;
        }
        let here = comps.node_plugin_pods_on(node);
        if here.iter().any(|p| crate::chain::is_healthy(p)) {
            continue;
        }
        let plugins: Vec<String> = comps
            .node_plugins
            .iter()
            .map(|d| {
                format!(
                    "DaemonSet {}/{}",
                    d.metadata.namespace.as_deref().unwrap_or(""),
                    d.metadata.name.as_deref().unwrap_or("")
                )
            })
            .collect();
        let plugin = if plugins.is_empty() {
            "its node plugin".to_string()
        } else {
            plugins.join(", ")
        };
        let node_obj = ctx.snap.node(node);
        let kept_off: Vec<(&DaemonSet, KeptOff)> = if here.is_empty() {
            comps
                .node_plugins
                .iter()
                .filter_map(|d| node_obj.and_then(|n| why_not_on(d, n)).map(|k| (*d, k)))
                .collect()
        } else {
            Vec::new()
        };
        let refused: Vec<(&str, PodsRefused)> = if here.is_empty() && kept_off.is_empty() {
            comps
                .node_plugins
                .iter()
                .filter_map(|d| {
                    let ns = d.metadata.namespace.as_deref().unwrap_or("");
                    let name = d.metadata.name.as_deref().unwrap_or("");
                    pods_refused(ctx, "DaemonSet", ns, name).map(|r| (ns, r))
                })
                .collect()
        } else {
            Vec::new()
        };
        let verdict = match (here.is_empty(), kept_off.first()) {
            (true, Some((_, KeptOff::Taint(t)))) => format!(
                "has no pod on node {node}: it does not tolerate the node's taint {}{}:{}",
                t.key,
                t.value.as_deref().map(|v| format!("={v}")).unwrap_or_default(),
                t.effect
            ),
            (true, Some((_, KeptOff::NodeSelector(k, v, have)))) => format!(
                "has no pod on node {node}: its nodeSelector {k}={v} leaves the node out (the node has {})",
                have.as_deref().map(|h| format!("{k}={h}")).unwrap_or_else(|| format!("no label {k}"))
            ),
            (true, Some((_, KeptOff::Affinity))) => format!(
                "has no pod on node {node}: its required node affinity leaves the node out"
            ),
            (true, None) if !refused.is_empty() => {
                format!("has no pod on node {node}: the API server refuses its pods")
            }
            (true, None) => format!("has no pod on node {node}"),
            (false, _) => {
                let states: Vec<String> = here
                    .iter()
                    .filter_map(|p| trouble(p).map(|t| t.state))
                    .collect();
                format!("is not Ready on node {node} ({})", states.join(", "))
            }
        };
        let mut cause = Cause::new(
            &RULE,
            format!(
                "the node plugin of CSI driver {driver} ({plugin}) {verdict}, so pod {}/{} cannot mount claim {}",
                pod.namespace, pod.name, c.name
            ),
        )
        .object(pod.object())
        .object(ObjectRef::node(node))
        .evidence(symptom);
        for d in &comps.node_plugins {
            let ns = d.metadata.namespace.as_deref().unwrap_or("");
            let name = d.metadata.name.as_deref().unwrap_or("");
            cause = cause.object(ObjectRef::namespaced("DaemonSet", ns, name));
            if let Some(st) = d.status.as_ref() {
                cause = cause.evidence(format!(
                    "DaemonSet {ns}/{name}: {} desired, {} ready",
                    st.desired_number_scheduled, st.number_ready
                ));
            }
        }
        let elsewhere: Vec<&str> = comps
            .node_plugin_pods
            .iter()
            .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()))
            .filter(|n| *n != node)
            .collect();
        if here.is_empty() && !elsewhere.is_empty() {
            let mut nodes = elsewhere;
            nodes.sort_unstable();
            nodes.dedup();
            let n = nodes.len();
            let listed: Vec<&str> = nodes.into_iter().take(5).collect();
            cause = cause.evidence(format!(
                "its pods run on {n} other node{}: {}",
                if n == 1 { "" } else { "s" },
                listed.join(", ")
            ));
        }
        for (d, k) in &kept_off {
            let name = d.metadata.name.as_deref().unwrap_or("");
            match k {
                KeptOff::Taint(t) => {
                    cause = cause
                        .evidence(format!(
                            "node {node} has the taint {}{}:{}, which the pod template of DaemonSet {name} does not tolerate",
                            t.key,
                            t.value.as_deref().map(|v| format!("={v}")).unwrap_or_default(),
                            t.effect
                        ))
                        .fix(patch_toleration(d, &t.key, &t.effect));
                }
                KeptOff::NodeSelector(key, want, _) => {
                    cause = cause.evidence(format!(
                        "the pod template of DaemonSet {name} selects nodes with {key}={want}"
                    ))
                    .fix(format!(
                        "if the driver should serve node {node}: kubectl label node {node} {key}={want}, or widen the DaemonSet's nodeSelector"
                    ));
                }
                KeptOff::Affinity => {
                    cause = cause
                        .evidence(format!(
                            "the required node affinity of DaemonSet {name} does not match node {node}'s labels"
                        ))
                        .fix(format!(
                            "compare: kubectl -n {} get daemonset {name} -o jsonpath='{{.spec.template.spec.affinity}}' with kubectl get node {node} --show-labels",
                            d.metadata.namespace.as_deref().unwrap_or("")
                        ));
                }
            }
        }
        for p in &here {
            if let Some(t) = trouble(p) {
                cause = cause
                    .object(ObjectRef::pod(
                        p.metadata.namespace.as_deref().unwrap_or(""),
                        p.metadata.name.as_deref().unwrap_or(""),
                    ))
                    .evidence(trouble_line(p, &t));
                for f in pod_fixes(p, &t) {
                    cause = cause.fix(f);
                }
            }
        }
        cause = cite_refusals(
            cause,
            &refused,
            "the event above says what refuses the DaemonSet's pods (a PodSecurity level of the namespace: node plugins need privileged; a quota, an admission webhook, a missing service account); fix that and the DaemonSet creates them by itself",
        );
        if refused.is_empty() && here.is_empty() && kept_off.is_empty() {
            for d in &comps.node_plugins {
                cause = cause.fix(format!(
                    "see why the DaemonSet places no pod there: kubectl -n {} describe daemonset {}",
                    d.metadata.namespace.as_deref().unwrap_or(""),
                    d.metadata.name.as_deref().unwrap_or("")
                ));
            }
        }
        cause = cause.fix(
            "once the node plugin runs and registers on the node, the kubelet retries the mount by itself",
        );
        if comps.node_plugins.is_empty() || node_obj.is_none() {
            cause = cause.confidence(Confidence::Medium);
        }
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Container, DaemonSet, DaemonSetSpec, PodSpec, PodTemplateSpec};
    use crate::fixtures::*;
    use k8s_openapi::api::apps::v1::DaemonSetStatus;
    use k8s_openapi::api::core::v1::Toleration;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn registrar() -> Container {
        Container {
            name: "node-driver-registrar".into(),
            image: Some("registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.12.0".into()),
            args: Some(vec![
                "--csi-address=/csi/csi.sock".into(),
                "--kubelet-registration-path=/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock"
                    .into(),
            ]),
            ..Default::default()
        }
    }

    fn node_plugin(tolerations: Vec<Toleration>) -> DaemonSet {
        DaemonSet {
            metadata: ObjectMeta {
                name: Some("ebs-csi-node".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            spec: Some(DaemonSetSpec {
                template: PodTemplateSpec {
                    metadata: None,
                    spec: Some(PodSpec {
                        containers: vec![registrar()],
                        tolerations: Some(tolerations),
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: Some(DaemonSetStatus {
                desired_number_scheduled: 1,
                number_ready: 1,
                ..Default::default()
            }),
        }
    }

    fn plugin_pod(node: &str) -> crate::api::Pod {
        let mut p = pod(&format!("ebs-csi-node-{node}"))
            .owned_by("DaemonSet", "ebs-csi-node")
            .running()
            .on_node(node);
        p.metadata.namespace = Some("kube-system".into());
        p.spec.as_mut().unwrap().containers = vec![registrar()];
        p
    }

    fn setup(o: &mut crate::snapshot::Objects, tolerations: Vec<Toleration>) {
        o.nodes.push(node("node-a"));
        o.nodes
            .push(node("node-gpu").taint("nvidia.com/gpu", "NoSchedule"));
        o.csi_nodes.push(csi_node("node-a", &["ebs.csi.aws.com"]));
        o.csi_nodes.push(csi_node("node-gpu", &[]));
        o.daemon_sets.push(node_plugin(tolerations));
        o.pods.push(plugin_pod("node-a"));
        o.claims.push(pvc("data").bound("pv-1"));
        o.volumes.push(
            pv("pv-1")
                .bound_to("default", "data")
                .csi("ebs.csi.aws.com"),
        );
    }

    #[test]
    fn a_taint_keeps_the_node_plugin_off() {
        let snap = snapshot(|o| {
            setup(o, Vec::new());
            o.pods.push(
                pod("trainer")
                    .claim("data")
                    .on_node("node-gpu")
                    .waiting("ContainerCreating"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            t.contains("does not tolerate the node's taint nvidia.com/gpu:NoSchedule"),
            "{t}"
        );
        assert!(
            t.contains("\"path\":\"/spec/template/spec/tolerations\""),
            "{t}"
        );
        assert!(t.contains("CSINode node-gpu lists []"), "{t}");
    }

    #[test]
    fn a_tolerating_node_plugin_with_a_ready_pod_is_not_blamed() {
        let snap = snapshot(|o| {
            setup(
                o,
                vec![Toleration {
                    operator: Some("Exists".into()),
                    ..Default::default()
                }],
            );
            o.pods.push(plugin_pod("node-gpu"));
            o.pods.push(
                pod("trainer")
                    .claim("data")
                    .on_node("node-gpu")
                    .waiting("ContainerCreating"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn pods_the_api_server_refuses_are_the_reason_there_is_none() {
        let snap = snapshot(|o| {
            setup(
                o,
                vec![Toleration {
                    operator: Some("Exists".into()),
                    ..Default::default()
                }],
            );
            o.events.push(
                event("FailedCreate", "Error creating: pods \"ebs-csi-node-x7k2p\" is forbidden: violates PodSecurity \"restricted:latest\": privileged (container \"node-driver-registrar\" must not set securityContext.privileged=true), hostPath volumes (volumes \"kubelet-dir\", \"plugin-dir\")")
                    .warning()
                    .about("DaemonSet", "kube-system", "ebs-csi-node"),
            );
            o.pods.push(
                pod("trainer")
                    .claim("data")
                    .on_node("node-gpu")
                    .waiting("ContainerCreating"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary
                .contains("has no pod on node node-gpu: the API server refuses its pods"),
            "{}",
            c[0].summary
        );
        let t = text(&c[0]);
        assert!(
            t.contains("DaemonSet kube-system/ebs-csi-node: event Warning FailedCreate"),
            "{t}"
        );
        assert!(t.contains("violates PodSecurity"), "{t}");
        assert!(
            !t.contains("see why the DaemonSet places no pod there"),
            "{t}"
        );
    }

    #[test]
    fn a_node_that_needs_nothing_is_not_blamed() {
        let snap = snapshot(|o| {
            setup(o, Vec::new());
            o.pods
                .push(pod("web").on_node("node-gpu").waiting("ContainerCreating"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn an_unidentified_node_plugin_is_not_blamed() {
        let snap = snapshot(|o| {
            setup(o, Vec::new());
            o.daemon_sets.clear();
            o.pods.retain(|p| {
                !p.metadata
                    .name
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("ebs-csi-node")
            });
            o.pods.push(
                pod("trainer")
                    .claim("data")
                    .on_node("node-gpu")
                    .waiting("ContainerCreating"),
            );
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
