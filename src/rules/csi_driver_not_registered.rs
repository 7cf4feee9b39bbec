//! `csi-driver-not-registered`: the node has no registration for the
//! volume's CSI driver (node plugin missing or not ready there).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::provisioner_errors;
use crate::chain::driver::{components, trouble};
use crate::chain::{ClaimChain, PodChain};
use crate::events;
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "csi-driver-not-registered",
    title: "the node has no registration for the volume's CSI driver",
    severity: Severity::Error,
    link: Link::Mount,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/csi-driver-not-registered.md"),
};

const TEXTS: &[&str] = &[
    "not found in the list of registered CSI drivers",
    "does not contain driver",
];

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    let event = pod
        .events
        .iter()
        .find(|e| TEXTS.iter().any(|t| events::message(e).contains(t)));
    let csinode = ctx.snap.csi_node(node);
    let mut out = Vec::new();
    let mut drivers: Vec<&str> = claims.iter().filter_map(|c| c.volume_driver()).collect();
    drivers.sort_unstable();
    drivers.dedup();
    for driver in drivers {
        let registered = csinode.map(|n| n.spec.drivers.iter().any(|d| d.name == driver));
        let named_in_event = event.filter(|e| events::message(e).contains(driver));
        let state_says = registered == Some(false);
        if named_in_event.is_none() && !state_says {
            continue;
        }
        let mut elsewhere: Vec<&str> = ctx
            .snap
            .objects
            .csi_nodes
            .iter()
            .filter(|n| n.spec.drivers.iter().any(|d| d.name == driver))
            .filter_map(|n| n.metadata.name.as_deref())
            .collect();
        elsewhere.sort_unstable();
        let mut cause = Cause::new(
            &RULE,
            format!(
                "node {node} has no registration for CSI driver {driver}, so pod {}/{} cannot mount its volume there",
                pod.namespace, pod.name
            ),
        )
        .object(pod.object())
        .object(ObjectRef::node(node))
        .object(ObjectRef::cluster("CSINode", node));
        match csinode {
            Some(n) => {
                let listed: Vec<&str> = n.spec.drivers.iter().map(|d| d.name.as_str()).collect();
                cause = cause.evidence(format!("CSINode {node} lists [{}]", listed.join(", ")));
            }
            None if ctx.snap.has("csinodes") => {
                cause = cause.evidence(format!("there is no CSINode object for {node}: no CSI node plugin has registered there"));
            }
            None => cause = cause.confidence(Confidence::Medium),
        }
        if !elsewhere.is_empty() {
            cause = cause.evidence(format!(
                "{driver} is registered on {}",
                elsewhere
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(e) = named_in_event {
            cause = cause.evidence(events::quote(e, ctx.snap.now));
        }
        let short = provisioner_errors::short_name(driver);
        // A node plugin that runs and is Ready but never registered: the
        // registrar could not reach the kubelet's registration socket.
        let ready_plugin = components(ctx.snap, ctx.drivers, driver)
            .node_plugin_pods_on(node)
            .into_iter()
            .find(|p| trouble(p).is_none());
        cause = match ready_plugin {
            Some(p) => {
                let (pns, pname) = (
                    p.metadata.namespace.as_deref().unwrap_or(""),
                    p.metadata.name.as_deref().unwrap_or(""),
                );
                cause
                    .object(ObjectRef::pod(pns, pname))
                    .evidence(format!(
                        "node plugin pod {pns}/{pname} runs and is Ready on {node}, yet the kubelet has no registration for {driver}"
                    ))
                    .fix(format!(
                        "the registrar did not register through the kubelet: read kubectl -n {pns} logs {pname} -c node-driver-registrar; its --kubelet-registration-path must be under the kubelet's root directory (default /var/lib/kubelet; k0s, MicroK8s and some distributions use another), and the pod must mount the kubelet's plugins_registry directory; then delete the pod so it registers again"
                    ))
            }
            None => cause.fix(format!(
                "check the driver's node plugin on {node}: kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i {short} (its DaemonSet may not tolerate the node's taints, or its pod may be crashing: kubectl logs <pod> -c node-driver-registrar)"
            )),
        }
        .fix("once the node plugin registers, the kubelet retries the mount by itself");
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn node_without_the_driver() {
        let snap = snapshot(|o| {
            o.csi_nodes.push(csi_node("node-c", &["ebs.csi.aws.com"]));
            o.csi_nodes.push(csi_node("node-a", &["ebs.csi.aws.com"]));
            o.csi_nodes.push(csi_node("node-b", &[]));
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes.push(
                pv("pv-1")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.pods.push(
                pod("db")
                    .claim("data")
                    .on_node("node-b")
                    .waiting("ContainerCreating"),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            text(&c[0]).contains("registered on node-a, node-c"),
            "{}",
            text(&c[0])
        );
    }
}
