//! `node-volume-limit`: the node's attach limit for the driver is used up.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::evidence::{attach_slots, scheduler_says};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "node-volume-limit",
    title: "the node's limit of attached volumes for the driver is used up",
    severity: Severity::Error,
    link: Link::Attach,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/node-volume-limit.md"),
};

/// The highest attach limit any node has for the driver.
fn largest_limit(ctx: &Ctx, driver: &str) -> Option<i32> {
    ctx.snap
        .objects
        .csi_nodes
        .iter()
        .flat_map(|n| n.spec.drivers.iter())
        .filter(|d| d.name == driver)
        .filter_map(|d| d.allocatable.as_ref()?.count)
        .max()
}

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    let status = pod.pod.status.as_ref();
    let failed_reason = status
        .and_then(|s| s.reason.as_deref())
        .filter(|r| *r == "VolumeAttachmentLimitExceeded");
    let said = scheduler_says(Some(pod), |k| *k == ReasonKind::VolumeLimitExceeded);
    if said.is_none() && failed_reason.is_none() {
        return Vec::new();
    }
    let ns = pod.namespace;
    let mut drivers: Vec<&str> = claims
        .iter()
        .filter_map(|c| {
            c.volume_driver()
                .or(c.class.map(|s| s.provisioner.as_str()))
        })
        .collect();
    let needs = |d: &str| drivers.iter().filter(|x| **x == d).count();
    // A pod that needs more of a driver's volumes than any node's limit
    // fits nowhere, however many nodes there are.
    let too_many = drivers.iter().copied().find_map(|d| {
        let most = largest_limit(ctx, d)?;
        (needs(d) > most as usize).then(|| (d, needs(d), most))
    });
    drivers.sort_unstable();
    drivers.dedup();
    let summary = match (too_many, failed_reason) {
        (Some((d, need, most)), _) => format!(
            "pod {ns}/{} needs {need} {d} volumes, more than any node can attach (at most {most}), so no node can ever take it",
            pod.name
        ),
        (None, Some(_)) => format!(
            "pod {ns}/{} failed: its node has no attach slot left for its volume (VolumeAttachmentLimitExceeded)",
            pod.name
        ),
        (None, None) => format!(
            "pod {ns}/{} cannot be placed: the nodes it fits on have reached their limit of attached volumes",
            pod.name
        ),
    };
    let mut cause = Cause::new(&RULE, summary).object(pod.object());
    let scheduler_confirms = said.is_some();
    if let Some(line) = said {
        cause = cause.evidence(line);
    }
    if let Some(r) = failed_reason {
        cause = cause.evidence(format!(
            "pod status: Failed, reason {r}{}",
            status
                .and_then(|s| s.message.as_deref())
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    let mut any_usage = false;
    for n in &ctx.snap.objects.nodes {
        let name = crate::nodes::name(n);
        for d in &drivers {
            if let Some((limit, attached)) = attach_slots(ctx, name, d) {
                any_usage = true;
                cause = cause.evidence(format!(
                    "node {name}: {attached} of {limit} {d} volumes attached (CSINode allocatable.count){}",
                    if attached as i64 >= limit as i64 { " — full" } else { "" }
                ));
                if attached as i64 >= limit as i64 {
                    cause = cause.object(ObjectRef::node(name));
                }
            }
        }
    }
    if !any_usage && !scheduler_confirms {
        cause = cause.confidence(Confidence::Medium);
    }
    if let Some((d, need, most)) = too_many {
        return vec![cause
            .evidence(format!("the pod mounts {need} claims of {d}"))
            .fix(format!("adding nodes does not help: split the data over several pods of at most {most} volumes each, or use fewer, larger volumes"))
            .fix(format!("or run it on an instance type whose {d} limit is at least {need} plus the slots the node itself uses (CSINode allocatable.count shows each node's limit)"))];
    }
    cause = cause
        .fix("spread the volumes: add nodes (or larger instance types, whose limit is higher), or let this pod run on nodes with free slots (check its nodeSelector / affinity)")
        .fix("volumes of finished or deleted pods stay attached until detached: look for stale VolumeAttachments on the full nodes (kubectl get volumeattachment)");
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn full_node_is_named() {
        let mut csinode = csi_node("node-1", &["ebs.csi.aws.com"]);
        csinode.spec.drivers[0].allocatable =
            Some(k8s_openapi::api::storage::v1::VolumeNodeResources { count: Some(2) });
        let snap = snapshot(|o| {
            o.nodes.push(node("node-1"));
            o.csi_nodes.push(csinode);
            o.attachments.push(attachment("pv-a", "node-1", true));
            o.attachments.push(attachment("pv-b", "node-1", true));
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.claims.push(pvc("data").class("gp3").bound("pv-c"));
            o.volumes.push(
                pv("pv-c")
                    .bound_to("default", "data")
                    .csi("ebs.csi.aws.com"),
            );
            o.pods.push(pod("db").claim("data").unschedulable("0/1 nodes are available: 1 node(s) exceed max volume count. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            text(&c[0]).contains("2 of 2 ebs.csi.aws.com volumes attached"),
            "{}",
            text(&c[0])
        );
    }

    #[test]
    fn a_pod_with_more_volumes_than_any_limit_fits_nowhere() {
        let mut csinode = csi_node("node-1", &["ebs.csi.aws.com"]);
        csinode.spec.drivers[0].allocatable =
            Some(k8s_openapi::api::storage::v1::VolumeNodeResources { count: Some(2) });
        let snap = snapshot(|o| {
            o.nodes.push(node("node-1"));
            o.csi_nodes.push(csinode);
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            let mut p = pod("db");
            for i in 0..3 {
                o.claims.push(pvc(&format!("data-{i}")).class("gp3"));
                p = p.claim(&format!("data-{i}"));
            }
            o.pods.push(
                p.unschedulable("0/1 nodes are available: 1 node(s) exceed max volume count."),
            );
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            c[0].summary.contains(
                "needs 3 ebs.csi.aws.com volumes, more than any node can attach (at most 2)"
            ),
            "{t}"
        );
        assert!(t.contains("adding nodes does not help"), "{t}");
    }
}
