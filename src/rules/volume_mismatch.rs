//! `volume-mismatch`: the claim is pre-bound (`spec.volumeName`) to a PV it
//! cannot bind to.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claims::released_retained_for_other;
use super::support::commands::kubectl_ns;
use super::support::matching;
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "volume-mismatch",
    title: "the claim is pre-bound to a PersistentVolume it cannot bind to",
    severity: Severity::Error,
    link: Link::ClaimToVolume,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/volume-mismatch.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let claim = c.claim?;
    if !c.is_pending() {
        return None;
    }
    let Some(wanted) = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .filter(|v| !v.is_empty())
    else {
        return made_for_it(ctx, c, pod);
    };
    let ns = c.namespace;
    let pv = ctx.snap.volume(wanted);
    let event = Timeline::new(&c.events).current("VolumeMismatch");
    let why = match pv {
        None if ctx.snap.has("persistentvolumes") => Some("it does not exist".to_string()),
        None => None,
        // The rule pv-released-retained explains that one.
        Some(pv) if released_retained_for_other(pv, c) => return None,
        Some(pv) => matching::mismatch(c, pv),
    };
    if why.is_none() && event.is_none() {
        return None;
    }
    let mut cause = Cause::new(
        &RULE,
        format!(
            "claim {ns}/{} is pre-bound to volume {wanted} but cannot bind to it: {}",
            c.name,
            why.clone().unwrap_or_else(|| "see the event".to_string())
        ),
    )
    .object(c.object())
    .object(ObjectRef::volume(wanted))
    .evidence(format!(
        "claim {ns}/{} sets spec.volumeName: {wanted}",
        c.name
    ));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    if let Some(w) = &why {
        cause = cause.evidence(format!("PV {wanted}: {w}"));
    }
    match event {
        Some(e) => cause = cause.evidence(events::quote(e, ctx.snap.now)),
        None => {
            cause = cause.evidence(
                "no VolumeMismatch event in the input: diagnosed from the claim and the volume",
            )
        }
    }
    if pv.is_none() && !ctx.snap.has("persistentvolumes") {
        cause = cause.confidence(Confidence::Low);
    }
    cause = match pv {
        None => cause.fix(format!(
            "create PersistentVolume {wanted} (matching the claim's class, size, access modes and volumeMode), or recreate the claim without spec.volumeName so it binds or provisions normally: {k} get pvc {n} -o yaml > {n}.yaml, edit, {k} delete pvc {n}, {k} apply -f {n}.yaml (it is not bound, nothing is lost)",
            k = kubectl_ns(ns),
            n = c.name
        )),
        Some(_) => cause.fix(format!(
            "make the claim fit the volume or pick another volume: spec.volumeName, size, access modes, class and volumeMode cannot be edited on a Pending claim, so recreate it ({k} get pvc {n} -o yaml > {n}.yaml, edit, {k} delete pvc {n}, {k} apply -f {n}.yaml; nothing is lost, it is not bound)",
            k = kubectl_ns(ns),
            n = c.name
        )),
    };
    Some(cause)
}

/// A volume made for the claim (its claimRef names the claim) that the
/// claim cannot bind to: a provisioner made something the claim did not ask
/// for, such as a Filesystem volume for a Block claim.
fn made_for_it(ctx: &Ctx, c: &ClaimChain, pod: Option<&PodChain>) -> Option<Cause> {
    let e = Timeline::new(&c.events).current("VolumeMismatch")?;
    let uid = c.claim.and_then(|cl| cl.metadata.uid.as_deref());
    let pv = ctx.snap.objects.volumes.iter().find(|pv| {
        pv.spec
            .as_ref()
            .and_then(|s| s.claim_ref.as_ref())
            .is_some_and(|r| {
                r.namespace.as_deref() == Some(c.namespace)
                    && r.name.as_deref() == Some(c.name.as_str())
                    && (uid.is_none() || r.uid.as_deref() == uid)
            })
    })?;
    let name = pv.metadata.name.as_deref().unwrap_or("");
    let why = matching::mismatch(c, pv).unwrap_or_else(|| "see the event".to_string());
    let maker = pv
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("pv.kubernetes.io/provisioned-by"))
        .map(String::as_str);
    let ns = c.namespace;
    let mut cause = Cause::new(
        &RULE,
        format!(
            "volume {name} was made for claim {ns}/{}{} but cannot bind to it: {why}",
            c.name,
            maker.map(|m| format!(" by {m}")).unwrap_or_default()
        ),
    )
    .object(c.object())
    .object(ObjectRef::volume(name))
    .evidence(format!("PV {name}: claimRef {ns}/{}, {why}", c.name))
    .evidence(events::quote(e, ctx.snap.now));
    if let Some(p) = pod {
        cause = cause.object(p.object());
    }
    Some(
        cause
            .fix(format!(
                "the provisioner{} cannot make what the claim asks for (volumeMode {}, access modes [{}]): use a class whose provisioner can, or change the claim to what it makes; recreate the claim ({} delete pvc {}; it is not bound, nothing is lost)",
                maker.map(|m| format!(" {m}")).unwrap_or_default(),
                c.volume_mode(),
                c.access_modes().join(", "),
                kubectl_ns(ns),
                c.name
            ))
            .fix(format!(
                "then delete the unused volume {name} (kubectl delete pv {name}); check its reclaimPolicy first if it may hold data"
            )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn too_small_volume() {
        let mut c = pvc("data").size("10Gi");
        c.spec.as_mut().unwrap().volume_name = Some("pv-small".into());
        let snap = snapshot(|o| {
            o.claims.push(c);
            o.volumes.push(pv("pv-small").size("5Gi"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(c[0].summary.contains("too small"), "{}", c[0].summary);
    }

    #[test]
    fn missing_volume() {
        let mut c = pvc("data");
        c.spec.as_mut().unwrap().volume_name = Some("pv-gone".into());
        let snap = snapshot(|o| {
            o.claims.push(c);
            o.volumes.push(pv("other"));
        });
        assert!(causes(&RULE, &snap)[0].summary.contains("does not exist"));
    }
}
