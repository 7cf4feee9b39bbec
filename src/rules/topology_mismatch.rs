//! `topology-mismatch`: WaitForFirstConsumer provisioning cannot find a
//! node allowed by the class's allowedTopologies, or the selected node is gone.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::evidence::scheduler_says;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::nodes;
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "topology-mismatch",
    title: "no node the pod can use is allowed by the class's allowedTopologies, or the selected node is gone",
    severity: Severity::Error,
    link: Link::VolumeToNode,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/topology-mismatch.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let nodes_known = ctx.snap.has("nodes") && !ctx.snap.objects.nodes.is_empty();
    let class = c.class?;
    if !c.is_pending() || !c.is_wait_for_first_consumer() || c.volume.is_some() {
        return None;
    }
    let ns = c.namespace;
    let class_name = class.metadata.name.as_deref().unwrap_or("");
    let provisioning_event = Timeline::new(&c.events).current("ProvisioningFailed");
    // The selected node no longer exists.
    if let Some(selected) = c.annotation("volume.kubernetes.io/selected-node") {
        if nodes_known && ctx.snap.node(selected).is_none() {
            let mut cause = Cause::new(
                &RULE,
                format!(
                    "claim {ns}/{} was assigned to node {selected} (volume.kubernetes.io/selected-node), which no longer exists, so the volume cannot be provisioned there",
                    c.name
                ),
            )
            .object(c.object())
            .object(ObjectRef::node(selected))
            .evidence(format!("annotation volume.kubernetes.io/selected-node: {selected}"))
            .evidence(format!("no Node named {selected} exists"));
            if let Some(e) = provisioning_event {
                cause = cause.evidence(events::quote(e, ctx.snap.now));
            }
            if let Some(p) = pod {
                cause = cause.object(p.object());
            }
            cause = cause.fix(format!(
                "remove the stale node so the scheduler picks again: {} annotate pvc {} volume.kubernetes.io/selected-node-",
                kubectl_ns(ns),
                c.name
            ));
            return Some(cause);
        }
    }
    let terms = class
        .allowed_topologies
        .as_ref()
        .filter(|t| !t.is_empty())?;
    let pod = pod?;
    if !nodes_known {
        return None;
    }
    let allowed = terms
        .iter()
        .map(nodes::describe_topology_term)
        .collect::<Vec<_>>()
        .join(" or ");
    let mut per_node = Vec::new();
    let mut usable = 0;
    for n in &ctx.snap.objects.nodes {
        let name = nodes::name(n);
        let in_topology = terms.iter().any(|t| nodes::topology_term_matches(t, n));
        match (in_topology, nodes::pod_allows(pod.pod, n)) {
            (true, Ok(())) => usable += 1,
            (true, Err(why)) => {
                per_node.push(format!("node {name} is allowed by the class, but {why}"))
            }
            (false, _) => {
                let keys: Vec<String> = terms
                    .iter()
                    .flat_map(|t| t.match_label_expressions.iter().flatten())
                    .map(|r| {
                        format!(
                            "{}={}",
                            r.key,
                            nodes::label_value(n, &r.key).unwrap_or("<none>")
                        )
                    })
                    .collect();
                per_node.push(format!(
                    "node {name}: {} is outside the class's allowedTopologies",
                    keys.join(", ")
                ))
            }
        }
    }
    if usable > 0 {
        return None;
    }
    // Nodes in the class's topology exist and something else keeps the pod
    // off them: that something is the cause.
    if ctx
        .node_view(pod, std::slice::from_ref(c))
        .as_ref()
        .as_ref()
        .is_some_and(|v| v.allowed_nodes_ruled_out_by_others())
    {
        return None;
    }
    let mut cause = Cause::new(
        &RULE,
        format!(
            "StorageClass \"{class_name}\" may only provision where {allowed}, and pod {ns}/{} cannot run on any such node, so claim {} is never provisioned",
            pod.name,
            c.name
        ),
    )
    .object(pod.object())
    .object(c.object())
    .object(ObjectRef::class(class_name))
    .evidence(format!("StorageClass {class_name} allowedTopologies: {allowed}"))
    .evidence_all(per_node.into_iter().take(8));
    if let Some(line) = scheduler_says(Some(pod), |k| *k == ReasonKind::NoVolumeToBind) {
        cause = cause.evidence(line);
    }
    if let Some(e) = provisioning_event {
        cause = cause.evidence(events::quote(e, ctx.snap.now));
    }
    cause = cause
        .fix(format!("add nodes where {allowed}, or let the pod run there"))
        .fix(format!(
            "or use a class whose allowedTopologies include the zones the nodes are in (classes cannot be edited: kubectl get sc {class_name} -o yaml > sc.yaml, fix allowedTopologies, kubectl replace --force -f sc.yaml), then recreate the claim (it is not bound, nothing is lost)"
        ));
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::{TopologySelectorLabelRequirement, TopologySelectorTerm};

    #[test]
    fn allowed_zone_without_nodes() {
        let mut sc = class("zonal", "ebs.csi.aws.com").wait_for_consumer();
        sc.allowed_topologies = Some(vec![TopologySelectorTerm {
            match_label_expressions: Some(vec![TopologySelectorLabelRequirement {
                key: "topology.kubernetes.io/zone".into(),
                values: vec!["us-east-1c".into()],
            }]),
        }]);
        let snap = snapshot(|o| {
            o.classes.push(sc);
            o.nodes
                .push(node("a").label("topology.kubernetes.io/zone", "us-east-1a"));
            o.claims.push(pvc("data").class("zonal"));
            o.pods.push(pod("web").claim("data"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            text(&c[0]).contains("topology.kubernetes.io/zone=us-east-1a is outside"),
            "{}",
            text(&c[0])
        );
    }

    #[test]
    fn selected_node_that_is_gone() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").wait_for_consumer());
            o.nodes.push(node("a"));
            o.claims.push(
                pvc("data")
                    .class("gp3")
                    .annotate("volume.kubernetes.io/selected-node", "gone-node"),
            );
            o.pods.push(pod("web").claim("data"));
        });
        let c = causes(&RULE, &snap);
        assert!(c[0].summary.contains("gone-node"), "{}", c[0].summary);
    }
}
