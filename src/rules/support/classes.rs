//! Which StorageClass a fix suggests when a claim needs another class: one
//! choice, shared by every rule that recreates a claim on another class.

use crate::events;
use crate::rules::rule::Ctx;
use crate::snapshot::is_default_class;
use k8s_openapi::api::storage::v1::StorageClass;

/// A class a fix may suggest.
#[derive(Debug, Clone, Copy)]
pub struct Suggested<'a> {
    pub class: &'a StorageClass,
    pub name: &'a str,
    pub default: bool,
    /// The driver table knows the class's driver serves the claim's modes
    /// (otherwise its driver is not in the table).
    pub known: bool,
}

impl Suggested<'_> {
    /// `name (provisioner)`, with `, default` for the default class.
    pub fn describe(&self) -> String {
        format!(
            "{} ({}{})",
            self.name,
            self.class.provisioner,
            if self.default { ", default" } else { "" }
        )
    }
}

/// Claims younger than this with no answer from the provisioner may just be
/// early; older ones (or ones the PV controller handed over three times)
/// show a provisioner that is not running.
const SILENT_SECONDS: i64 = 5 * 60;

/// Whether the class is broken in this snapshot: its CSI provisioner has no
/// CSIDriver object and no node registers it, or some claim of the class
/// waits for a provisioner that never answers.
pub fn is_broken(ctx: &Ctx, sc: &StorageClass) -> bool {
    let p = sc.provisioner.as_str();
    let csi_like = !p.starts_with("kubernetes.io/") && p.to_ascii_lowercase().contains("csi");
    let snap = ctx.snap;
    let driver_missing = csi_like
        && snap.has("csidrivers")
        && !snap.objects.csi_drivers.is_empty()
        && snap.csi_driver(p).is_none()
        && !snap
            .objects
            .csi_nodes
            .iter()
            .any(|n| n.spec.drivers.iter().any(|d| d.name == p));
    driver_missing || provisioner_silent(ctx, sc)
}

/// A Pending claim of the class was handed to its external provisioner,
/// which never answered (no Provisioning, ProvisioningFailed or
/// ProvisioningSucceeded event).
fn provisioner_silent(ctx: &Ctx, sc: &StorageClass) -> bool {
    let Some(name) = sc.metadata.name.as_deref() else {
        return false;
    };
    let now = ctx.snap.now.as_second();
    ctx.snap.objects.claims.iter().any(|c| {
        let spec = c.spec.as_ref();
        let pending = matches!(
            c.status.as_ref().and_then(|s| s.phase.as_deref()),
            None | Some("Pending")
        );
        if !pending
            || spec.and_then(|s| s.storage_class_name.as_deref()) != Some(name)
            || spec
                .and_then(|s| s.volume_name.as_deref())
                .is_some_and(|v| !v.is_empty())
        {
            return false;
        }
        let list = ctx.snap.events_for(
            "PersistentVolumeClaim",
            c.metadata.namespace.as_deref().unwrap_or(""),
            c.metadata.name.as_deref().unwrap_or(""),
            c.metadata.uid.as_deref(),
        );
        let answered = list.iter().any(|e| {
            matches!(
                e.reason.as_deref(),
                Some("Provisioning" | "ProvisioningFailed" | "ProvisioningSucceeded")
            )
        });
        let waiting: i32 = list
            .iter()
            .filter(|e| e.reason.as_deref() == Some("ExternalProvisioning"))
            .map(|e| events::count(e))
            .sum();
        let age = c
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| now - t.0.as_second())
            .unwrap_or(0);
        !answered && waiting > 0 && (waiting >= 3 || age >= SILENT_SECONDS)
    })
}

/// Classes to recreate a claim on, best first: the default class, then
/// classes whose driver the table knows to serve `modes` for
/// `volume_mode`, then (unless `known_only`) classes whose driver the table
/// does not know. Never `exclude`, a static class, a class whose driver is
/// known not to serve the modes, or a class broken in this snapshot.
pub fn suggest<'a>(
    ctx: &Ctx<'a>,
    modes: &[&str],
    volume_mode: &str,
    exclude: Option<&str>,
    known_only: bool,
) -> Vec<Suggested<'a>> {
    let mut found: Vec<Suggested<'a>> = ctx
        .snap
        .objects
        .classes
        .iter()
        .filter_map(|sc| {
            let name = sc.metadata.name.as_deref()?;
            if Some(name) == exclude || sc.provisioner == "kubernetes.io/no-provisioner" {
                return None;
            }
            let known = match ctx.drivers.get(&sc.provisioner) {
                Some(d) if d.static_only => return None,
                Some(d) => {
                    let can = d.modes(Some(volume_mode));
                    if !modes.iter().all(|m| can.iter().any(|c| c == m)) {
                        return None;
                    }
                    true
                }
                None if known_only => return None,
                None => false,
            };
            if is_broken(ctx, sc) {
                return None;
            }
            Some(Suggested {
                class: sc,
                name,
                default: is_default_class(sc),
                known,
            })
        })
        .collect();
    found.sort_by_key(|s| (!s.default, !s.known, s.name));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::Drivers;
    use crate::fixtures::*;

    fn names(ctx: &Ctx, modes: &[&str], known_only: bool) -> Vec<String> {
        suggest(ctx, modes, "Filesystem", None, known_only)
            .iter()
            .map(|s| s.name.to_string())
            .collect()
    }

    #[test]
    fn default_first_then_serving_classes_never_broken_ones() {
        let snap = snapshot(|o| {
            o.classes.push(class("zz-nfs", "nfs.csi.k8s.io"));
            o.classes.push(class("efs", "efs.csi.aws.com"));
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").default_class());
            o.classes.push(class("vendor", "vendor.example.com"));
            o.classes
                .push(class("local", "kubernetes.io/no-provisioner"));
            o.csi_drivers.push(csi_driver("nfs.csi.k8s.io"));
            o.csi_drivers.push(csi_driver("ebs.csi.aws.com"));
        });
        let drivers = Drivers::built_in();
        let ctx = Ctx::new(&snap, &drivers);
        // efs.csi.aws.com has no CSIDriver and no node registers it.
        assert_eq!(
            names(&ctx, &["ReadWriteOnce"], false),
            ["gp3", "zz-nfs", "vendor"]
        );
        assert_eq!(names(&ctx, &["ReadWriteMany"], true), ["zz-nfs"]);
    }

    #[test]
    fn a_class_whose_provisioner_never_answers_is_not_suggested() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("fast", "fast.example.com").default_class());
            o.classes.push(class("slow", "slow.example.com"));
            o.claims.push(pvc("waiting").class("fast"));
            o.events.push(
                event("ExternalProvisioning", "Waiting for a volume to be created either by the external provisioner 'fast.example.com' or manually by the system administrator.")
                    .count(12)
                    .about("PersistentVolumeClaim", "default", "waiting"),
            );
        });
        let drivers = Drivers::built_in();
        let ctx = Ctx::new(&snap, &drivers);
        assert_eq!(names(&ctx, &["ReadWriteOnce"], false), ["slow"]);
    }
}
