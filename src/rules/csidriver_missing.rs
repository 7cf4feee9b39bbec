//! `csidriver-missing`: a volume uses a CSI driver with no CSIDriver object,
//! so Kubernetes applies defaults (attach required, no capacity tracking).

use super::rule::{Cause, Check, Ctx, Rule};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "csidriver-missing",
    title: "the volume's CSI driver has no CSIDriver object, so Kubernetes falls back to defaults",
    severity: Severity::Warning,
    link: Link::Attach,
    check: Check::PodOnNode(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/csidriver-missing.md"),
};

fn check(ctx: &Ctx, pod: &PodChain, node: &str, claims: &[ClaimChain]) -> Vec<Cause> {
    if !ctx.snap.has("csidrivers") {
        return Vec::new();
    }
    let mut drivers: Vec<&str> = claims.iter().filter_map(|c| c.volume_driver()).collect();
    drivers.sort();
    drivers.dedup();
    drivers
        .into_iter()
        .filter(|d| ctx.snap.csi_driver(d).is_none())
        .map(|d| {
            let attach = ctx
                .drivers
                .get(d)
                .map(|k| if k.attach_required { "needs" } else { "does not need" });
            let mut cause = Cause::new(
                &RULE,
                format!("CSI driver {d} has no CSIDriver object: Kubernetes assumes it needs attaching and does not track its capacity"),
            )
            .object(pod.object())
            .object(ObjectRef::cluster("CSIDriver", d))
            .evidence(format!("no CSIDriver named {d} exists"));
            if let Some(a) = attach {
                cause = cause.evidence(format!("the driver table says {d} {a} an attach step"));
            }
            for c in claims.iter().filter(|c| c.volume_driver() == Some(d)) {
                for va in c.attachments.iter().filter(|va| va.spec.node_name == node) {
                    if !va.status.as_ref().is_some_and(|s| s.attached) {
                        cause = cause.evidence(format!(
                            "VolumeAttachment {} for {} on {node} is not attached: the attach/detach controller waits for an attacher of {d}",
                            va.metadata.name.as_deref().unwrap_or(""),
                            va.spec.source.persistent_volume_name.as_deref().unwrap_or("")
                        ));
                    }
                }
            }
            cause.fix(format!(
                "install the CSIDriver object that ships with {d} (its Helm chart or manifests); with attachRequired: false a driver without an attacher mounts directly"
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn warns_for_a_stuck_pod_only() {
        let fill = |o: &mut crate::snapshot::Objects, running: bool| {
            o.csi_drivers.push(csi_driver("other.csi.io"));
            o.claims.push(pvc("data").bound("pv-1"));
            o.volumes
                .push(pv("pv-1").bound_to("default", "data").csi("nfs.csi.k8s.io"));
            let p = pod("web").claim("data").on_node("n1");
            o.pods.push(if running {
                p.running()
            } else {
                p.waiting("ContainerCreating")
            });
        };
        let stuck = snapshot(|o| fill(o, false));
        let c = causes(&RULE, &stuck);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Warning);
        let fine = snapshot(|o| fill(o, true));
        assert!(causes(&RULE, &fine).is_empty());
    }
}
