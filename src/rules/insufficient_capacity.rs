//! `insufficient-capacity`: the driver tracks storage capacity and no
//! CSIStorageCapacity covers the request on any node the pod may use.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::evidence::{gap_lines, scheduler_says};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::quantity;
use crate::scheduler::ReasonKind;

pub const RULE: Rule = Rule {
    id: "insufficient-capacity",
    title: "no node has enough free storage for the claim (CSI storage capacity tracking)",
    severity: Severity::Error,
    link: Link::VolumeToNode,
    check: Check::Pod(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/insufficient-capacity.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, claims: &[ClaimChain]) -> Vec<Cause> {
    if pod.node_name.is_some() {
        return Vec::new();
    }
    let said = scheduler_says(Some(pod), |k| *k == ReasonKind::NotEnoughStorage);
    let mut out = Vec::new();
    for c in claims {
        let Some(class) = c.class else { continue };
        if !c.is_pending() || c.volume.is_some() {
            continue;
        }
        let tracks = ctx
            .snap
            .csi_driver(&class.provisioner)
            .and_then(|d| d.spec.storage_capacity)
            == Some(true);
        if !tracks && said.is_none() {
            continue;
        }
        let class_name = class.metadata.name.as_deref().unwrap_or("");
        let want = c.requested_size().and_then(quantity::parse);
        let capacities: Vec<_> = ctx
            .snap
            .objects
            .capacities
            .iter()
            .filter(|cap| cap.storage_class_name == class_name)
            .collect();
        let fits = |cap: &&k8s_openapi::api::storage::v1::CSIStorageCapacity| {
            let limit = cap
                .maximum_volume_size
                .as_ref()
                .or(cap.capacity.as_ref())
                .and_then(|q| quantity::parse(&q.0));
            matches!((want, limit), (Some(w), Some(l)) if l >= w)
        };
        let any_fits = capacities.iter().any(fits);
        let state_says = tracks && ctx.snap.has("csistoragecapacities") && !any_fits;
        if said.is_none() && !state_says {
            continue;
        }
        let ns = c.namespace;
        let mut cause = Cause::new(
            &RULE,
            format!(
                "no node has {} free for claim {ns}/{} of class \"{class_name}\" ({} reports capacity per node)",
                c.requested_size().unwrap_or("the requested size"),
                c.name,
                class.provisioner
            ),
        )
        .object(pod.object())
        .object(c.object())
        .object(ObjectRef::class(class_name));
        if let Some(line) = &said {
            cause = cause.evidence(line.clone());
        }
        if tracks {
            cause = cause.evidence(format!(
                "CSIDriver {} has storageCapacity: true",
                class.provisioner
            ));
        }
        if capacities.is_empty() {
            cause = cause.evidence(format!(
                "no CSIStorageCapacity objects exist for class {class_name}"
            ));
        }
        for cap in capacities.iter().take(8) {
            let where_ = cap
                .node_topology
                .as_ref()
                .and_then(|t| t.match_labels.as_ref())
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_else(|| "all nodes".to_string());
            cause = cause.evidence(format!(
                "CSIStorageCapacity {} ({where_}): capacity {}{}",
                cap.metadata.name.as_deref().unwrap_or(""),
                cap.capacity.as_ref().map_or("unknown", |q| q.0.as_str()),
                cap.maximum_volume_size
                    .as_ref()
                    .map(|q| format!(", maximumVolumeSize {}", q.0))
                    .unwrap_or_default()
            ));
        }
        if !ctx.snap.has("csistoragecapacities") {
            cause = cause
                .confidence(Confidence::Medium)
                .evidence_all(gap_lines(ctx, &["csistoragecapacities"]));
        }
        cause = cause
            .fix("free space on the nodes' storage (delete unused volumes of this class — DATA RISK: their data goes with them), or add disks / nodes to the pool the driver provisions from")
            .fix("or request less storage: the claim is not bound, so it can be recreated with a smaller size without losing anything");
        out.push(cause);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use k8s_openapi::api::storage::v1::CSIStorageCapacity;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    #[test]
    fn every_node_too_small() {
        let mut driver = csi_driver("topolvm.io");
        driver.spec.storage_capacity = Some(true);
        let cap = CSIStorageCapacity {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("csisc-1".into()),
                namespace: Some("kube-system".into()),
                ..Default::default()
            },
            storage_class_name: "topolvm".into(),
            capacity: Some(Quantity("100Gi".into())),
            ..Default::default()
        };
        let snap = snapshot(|o| {
            o.csi_drivers.push(driver);
            o.capacities.push(cap);
            o.classes
                .push(class("topolvm", "topolvm.io").wait_for_consumer());
            o.claims.push(pvc("data").class("topolvm").size("500Gi"));
            o.pods.push(pod("db").claim("data"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(text(&c[0]).contains("capacity 100Gi"), "{}", text(&c[0]));
    }
}
