//! Whether a PersistentVolume could bind to a claim, and if not, why: what
//! the PV controller checks for static binding.

use super::claims::{claim_ref_other, OtherClaim};
use crate::api::PersistentVolume;
use crate::chain::{ClaimChain, RequestedClass};
use crate::quantity;
use crate::rules::rule::Ctx;

/// Why `pv` cannot bind to the claim, or `None` if it can.
pub fn mismatch(c: &ClaimChain, pv: &PersistentVolume) -> Option<String> {
    let spec = pv.spec.as_ref()?;
    let phase = pv
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending");
    if let (Some(r), Some(other)) = (&spec.claim_ref, claim_ref_other(pv, c)) {
        let holder = format!(
            "{}/{}",
            r.namespace.as_deref().unwrap_or(""),
            r.name.as_deref().unwrap_or("")
        );
        let uid = r.uid.as_deref().unwrap_or("none");
        return Some(match (phase, other) {
            ("Released", OtherClaim::Other) => format!(
                "Released: still holds claimRef {holder} (a deleted claim) until it is cleared"
            ),
            ("Released", OtherClaim::Earlier) => format!(
                "Released: still holds claimRef {holder} with uid {uid}, a deleted claim of the same name, until it is cleared"
            ),
            (_, OtherClaim::Other) => format!("reserved for claim {holder}"),
            (_, OtherClaim::Earlier) => {
                format!("reserved for an earlier claim {holder} (uid {uid})")
            }
        });
    }
    if !matches!(phase, "Available" | "Pending") && spec.claim_ref.is_none() {
        return Some(format!("phase {phase}"));
    }
    let pv_class = spec.storage_class_name.as_deref().unwrap_or("");
    let wanted = match &c.requested_class {
        RequestedClass::Named(n) => n.as_str(),
        _ => "",
    };
    if pv_class != wanted {
        return Some(format!(
            "storageClassName \"{pv_class}\", the claim wants \"{wanted}\""
        ));
    }
    let want = c.requested_size();
    let have = spec
        .capacity
        .as_ref()
        .and_then(|m| m.get("storage"))
        .map(|q| q.0.as_str());
    if let (Some(w), Some(h)) = (want, have) {
        if let (Some(wb), Some(hb)) = (quantity::parse(w), quantity::parse(h)) {
            if hb < wb {
                return Some(format!("too small: {h}, the claim requests {w}"));
            }
        }
    }
    let pv_modes = spec.access_modes.clone().unwrap_or_default();
    let missing: Vec<&str> = c
        .access_modes()
        .into_iter()
        .filter(|m| !pv_modes.iter().any(|p| p == m))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "access modes [{}], the claim needs {}",
            pv_modes.join(", "),
            missing.join(", ")
        ));
    }
    let pv_mode = spec.volume_mode.as_deref().unwrap_or("Filesystem");
    if pv_mode != c.volume_mode() {
        return Some(format!(
            "volumeMode {pv_mode}, the claim wants {}",
            c.volume_mode()
        ));
    }
    let selector = c
        .claim
        .and_then(|x| x.spec.as_ref())
        .and_then(|s| s.selector.as_ref());
    if let Some(sel) = selector {
        let labels = pv.metadata.labels.clone().unwrap_or_default();
        for (k, v) in sel.match_labels.iter().flatten() {
            if labels.get(k) != Some(v) {
                return Some(format!(
                    "lacks label {k}={v} that the claim's selector requires"
                ));
            }
        }
    }
    None
}

/// The closest PVs of a class and why each does not fit, best first.
pub fn candidates(ctx: &Ctx, c: &ClaimChain, class: &str) -> (Vec<String>, usize) {
    let mut fits = 0;
    let mut lines: Vec<(u8, String)> = ctx
        .snap
        .objects
        .volumes
        .iter()
        .filter(|pv| {
            pv.spec
                .as_ref()
                .and_then(|s| s.storage_class_name.as_deref())
                .unwrap_or("")
                == class
        })
        .filter_map(|pv| {
            let name = pv.metadata.name.as_deref().unwrap_or("");
            match mismatch(c, pv) {
                None => {
                    fits += 1;
                    None
                }
                Some(why) => {
                    // Size and mode mismatches are closer than volumes taken by others.
                    let distance = if why.starts_with("reserved") || why.starts_with("Released") {
                        2
                    } else {
                        1
                    };
                    Some((distance, format!("PV {name}: {why}")))
                }
            }
        })
        .collect();
    lines.sort();
    (lines.into_iter().map(|(_, l)| l).take(5).collect(), fits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::ClaimChain;
    use crate::fixtures::*;

    #[test]
    fn reasons_for_each_mismatch() {
        let snap = snapshot(|o| {
            o.claims.push(
                pvc("data")
                    .class("local")
                    .size("10Gi")
                    .modes(&["ReadWriteOnce"]),
            );
        });
        let c = ClaimChain::resolve(&snap, "default", "data", None);
        assert_eq!(mismatch(&c, &pv("ok").class("local").size("20Gi")), None);
        assert!(mismatch(&c, &pv("small").class("local").size("5Gi"))
            .unwrap()
            .starts_with("too small"));
        assert!(mismatch(&c, &pv("other").class("fast").size("20Gi"))
            .unwrap()
            .contains("storageClassName"));
        assert!(mismatch(
            &c,
            &pv("rox")
                .class("local")
                .size("20Gi")
                .modes(&["ReadOnlyMany"])
        )
        .unwrap()
        .contains("access modes"));
        assert!(mismatch(
            &c,
            &pv("taken").class("local").size("20Gi").bound_to("x", "y")
        )
        .unwrap()
        .contains("reserved for claim x/y"));
    }
}
