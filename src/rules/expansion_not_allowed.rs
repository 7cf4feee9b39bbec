//! `expansion-not-allowed`: the claim asks for more space but its class
//! does not allow volume expansion (or it was not dynamically provisioned).

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::expansion::{growing, user_or_claim};
use crate::chain::{ClaimChain, PodChain};
use crate::model::{Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "expansion-not-allowed",
    title: "the claim was resized but its StorageClass does not allow volume expansion",
    severity: Severity::Warning,
    link: Link::ClaimToClass,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/expansion-not-allowed.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    if !c.is_bound() {
        return None;
    }
    let (want, have) = growing(c)?;
    let class_allows = c.class.and_then(|sc| sc.allow_volume_expansion) == Some(true);
    if class_allows {
        return None;
    }
    let class = c.class_name().unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "{} asks for {want} but has {have}: {}, so the volume will not grow",
            user_or_claim(pod, c),
            if class.is_empty() {
                "it has no StorageClass (statically provisioned volumes cannot be resized)"
                    .to_string()
            } else {
                format!("StorageClass \"{class}\" does not set allowVolumeExpansion: true")
            }
        ),
    )
    .object(c.object())
    .evidence(format!(
        "claim {}/{} requests {want}, status.capacity is {have}",
        c.namespace, c.name
    ));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if !class.is_empty() {
        cause = cause.object(ObjectRef::class(class)).evidence(format!(
            "StorageClass {class}: allowVolumeExpansion {}",
            c.class
                .and_then(|sc| sc.allow_volume_expansion)
                .map_or("unset".to_string(), |b| b.to_string())
        ));
    }
    let driver_expands = c
        .class
        .and_then(|sc| ctx.drivers.get(&sc.provisioner))
        .map(|d| d.expansion);
    cause = match driver_expands {
        Some(false) => cause.fix(format!(
            "the driver {} cannot expand volumes: move the data to a new, larger claim (create it, copy with a Job that mounts both, switch the workload)",
            c.class.map(|sc| sc.provisioner.as_str()).unwrap_or("")
        )),
        _ => cause.fix(format!(
            "allow expansion on the class (this field can be changed): kubectl patch storageclass {class} -p '{{\"allowVolumeExpansion\":true}}'; the resize then proceeds by itself"
        )),
    };
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn grown() -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
        let mut c = pvc("data").class("gp3").size("20Gi").bound("pv-1");
        c.status.as_mut().unwrap().capacity = Some(std::collections::BTreeMap::from([(
            "storage".to_string(),
            k8s_openapi::apimachinery::pkg::api::resource::Quantity("10Gi".into()),
        )]));
        c
    }

    #[test]
    fn resize_on_a_class_without_expansion() {
        let snap = snapshot(|o| {
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.claims.push(grown());
            o.pods.push(pod("db").claim("data").running());
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].fix[0].contains("allowVolumeExpansion\":true"),
            "{:?}",
            c[0].fix
        );
    }

    #[test]
    fn expandable_class_is_fine() {
        let mut sc = class("gp3", "ebs.csi.aws.com");
        sc.allow_volume_expansion = Some(true);
        let snap = snapshot(|o| {
            o.classes.push(sc);
            o.claims.push(grown());
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
