//! What the data source rules share: the provisioner's data source error
//! for a claim, and what is wrong with a VolumeSnapshot.

use crate::api::Event;
use crate::chain::{ClaimChain, SourceChain};
use crate::events::{self, Timeline};
use crate::model::{age, ObjectRef};
use crate::rules::rule::Ctx;
use crate::rules::support::commands::kubectl_ns;
use crate::volume_snapshot::{VolumeSnapshot, VolumeSnapshotClass, VolumeSnapshotContent};

/// How long a snapshot may take to be cut before "not ready" is a fault.
pub const SNAPSHOT_GRACE_SECONDS: i64 = crate::chain::SNAPSHOT_GRACE_SECONDS;

/// A claim that still waits for its volume, with the source it names.
pub fn waiting_source<'c, 'a>(c: &'c ClaimChain<'a>) -> Option<&'c SourceChain<'a>> {
    if c.claim.is_none() || c.is_bound() {
        return None;
    }
    c.source.as_ref()
}

/// The provisioner's newest data source failure about the claim, not
/// superseded by a success: `ProvisioningFailed` whose message names the
/// data source.
pub fn provisioning_failure<'a>(c: &'a ClaimChain<'a>) -> Option<&'a Event> {
    let e = Timeline::new(&c.events).current("ProvisioningFailed")?;
    let m = events::message(e);
    let about_source = m.contains("DataSource")
        || m.contains("dataSource")
        || m.contains("data source")
        || m.contains("snapshot")
        || m.contains("PVC")
        || m.contains("cloning")
        || m.contains("clone operations")
        || m.contains("CLONE_VOLUME");
    about_source.then_some(e)
}

/// The failure's message when it contains any of `needles`.
pub fn failure_saying<'a>(c: &'a ClaimChain<'a>, needles: &[&str]) -> Option<&'a Event> {
    provisioning_failure(c).filter(|e| {
        let m = events::message(e);
        needles.iter().any(|n| m.contains(n))
    })
}

/// What is wrong with a snapshot, in the words of a finding.
#[derive(Debug, Default)]
pub struct SnapshotTrouble {
    /// Short, for the summary: `failed: <error>`, `not ready for 22m` ...
    pub state: String,
    pub evidence: Vec<String>,
    pub fix: Vec<String>,
    pub objects: Vec<ObjectRef>,
    /// Whether something is clearly wrong (an error, a missing content or
    /// class, a deletion), not only slow.
    pub fault: bool,
}

/// The snapshot's class: the one it names (and whether it exists), or its
/// driver's default.
fn class_line(ctx: &Ctx, vs: &VolumeSnapshot, driver: Option<&str>) -> Option<(String, String)> {
    if !ctx.snap.has("volumesnapshotclasses") {
        return None;
    }
    let ns = vs.metadata.namespace.as_deref().unwrap_or("");
    let name = vs.metadata.name.as_deref().unwrap_or("");
    match vs.class_name() {
        Some(class) if ctx.snap.snapshot_class(class).is_none() => Some((
            format!("VolumeSnapshot {ns}/{name} names VolumeSnapshotClass \"{class}\", which does not exist"),
            format!("create VolumeSnapshotClass \"{class}\" for the volume's CSI driver, or recreate the snapshot naming an existing class (kubectl get volumesnapshotclass); a VolumeSnapshot's spec cannot be changed"),
        )),
        Some(_) => None,
        None => {
            let defaults: Vec<&VolumeSnapshotClass> = match driver {
                Some(d) => ctx.snap.default_snapshot_classes(d),
                None => ctx
                    .snap
                    .objects
                    .snapshot_classes
                    .iter()
                    .filter(|c| c.is_default())
                    .collect(),
            };
            if !defaults.is_empty() {
                return None;
            }
            let for_driver = driver.map(|d| format!(" for driver {d}")).unwrap_or_default();
            Some((
                format!("VolumeSnapshot {ns}/{name} names no VolumeSnapshotClass and there is no default one{for_driver}"),
                format!("create a VolumeSnapshotClass{for_driver} with the annotation snapshot.storage.kubernetes.io/is-default-class: \"true\", or recreate the snapshot with spec.volumeSnapshotClassName set"),
            ))
        }
    }
}

/// The CSI driver of the snapshot's source: its content's, or the source
/// claim's volume's.
fn snapshot_driver<'a>(
    ctx: &Ctx<'a>,
    vs: &VolumeSnapshot,
    content: Option<&'a VolumeSnapshotContent>,
) -> Option<&'a str> {
    if let Some(d) = content.and_then(|c| c.driver()) {
        return Some(d);
    }
    let ns = vs.metadata.namespace.as_deref().unwrap_or("");
    let claim = ctx.snap.claim(ns, vs.source_claim()?)?;
    let volume = claim.spec.as_ref()?.volume_name.as_deref()?;
    let pv = ctx.snap.volume(volume)?;
    pv.spec.as_ref()?.csi.as_ref().map(|c| c.driver.as_str())
}

/// The provisioner of the snapshot's source claim's class: the driver of a
/// volume that is not CSI (a local path, a static volume).
fn source_provisioner<'a>(ctx: &Ctx<'a>, vs: &VolumeSnapshot) -> Option<&'a str> {
    let ns = vs.metadata.namespace.as_deref().unwrap_or("");
    let claim = ctx.snap.claim(ns, vs.source_claim()?)?;
    let class = claim.spec.as_ref()?.storage_class_name.as_deref()?;
    ctx.snap.class(class).map(|sc| sc.provisioner.as_str())
}

/// Everything the snapshot's state, content, class and events say is wrong.
pub fn snapshot_trouble(ctx: &Ctx, vs: &VolumeSnapshot) -> SnapshotTrouble {
    let ns = vs.metadata.namespace.as_deref().unwrap_or("");
    let name = vs.metadata.name.as_deref().unwrap_or("");
    let mut t = SnapshotTrouble {
        objects: vec![ObjectRef::volume_snapshot(ns, name)],
        ..Default::default()
    };
    let created = vs.metadata.creation_timestamp.as_ref().map(|c| c.0);
    let for_age = created
        .map(|c| format!(" for {}", age(c, ctx.snap.now)))
        .unwrap_or_default();
    let content_name = vs.content_name();
    let content = content_name.and_then(|n| ctx.snap.snapshot_content(n));
    let ready = vs.ready() == Some(true);
    let mut state_line = format!(
        "VolumeSnapshot {ns}/{name} is {}{for_age}",
        if ready {
            "readyToUse"
        } else {
            "not readyToUse"
        }
    );
    match (content_name, content) {
        (Some(n), Some(c)) => {
            let c_ready = match c.ready() {
                Some(true) => "ready",
                _ => "not ready",
            };
            state_line.push_str(&format!(", content {n} ({c_ready})"));
            t.objects.push(ObjectRef::snapshot_content(n));
        }
        (Some(n), None) => state_line.push_str(&format!(", content {n}")),
        (None, _) => state_line.push_str(", bound to no VolumeSnapshotContent yet"),
    }
    if let Some(pvc) = vs.source_claim() {
        state_line.push_str(&format!(", source claim {pvc}"));
    }
    t.evidence.push(state_line);
    if vs.metadata.deletion_timestamp.is_some() {
        t.fault = true;
        t.state = "being deleted".to_string();
        t.evidence
            .push(format!("VolumeSnapshot {ns}/{name} is being deleted"));
        t.fix.push("a snapshot being deleted cannot be restored from: restore from another snapshot, or take a new one".to_string());
    }
    if let Some(n) = content_name.filter(|_| content.is_none()) {
        if crate::chain::snapshot_content_gone(ctx.snap, vs) {
            t.fault = true;
            t.state = "its content is gone".to_string();
            t.evidence.push(format!(
                "VolumeSnapshot {ns}/{name} is bound to VolumeSnapshotContent {n}, which does not exist"
            ));
            t.fix.push(format!("the content (and, with deletionPolicy Delete, the backend snapshot) is gone: this snapshot cannot be restored; delete it ({} delete volumesnapshot {name}) and take a new one or restore from another", kubectl_ns(ns)));
        }
    }
    if let Some(err) = vs.error_message() {
        t.fault = true;
        t.state = format!("failed: {}", super::provisioner_errors::brief(err));
        t.evidence
            .push(format!("VolumeSnapshot {ns}/{name} status.error: {err}"));
    }
    if let Some(err) = content.and_then(|c| c.error_message()) {
        t.fault = true;
        if t.state.is_empty() {
            t.state = format!("failed: {}", super::provisioner_errors::brief(err));
        }
        t.evidence.push(format!(
            "VolumeSnapshotContent {} status.error: {err}",
            content_name.unwrap_or("")
        ));
    }
    let driver = snapshot_driver(ctx, vs, content);
    if !ready {
        if let Some(d) = driver
            .or_else(|| source_provisioner(ctx, vs))
            .filter(|d| ctx.drivers.get(d).and_then(|x| x.snapshot) == Some(false))
        {
            t.fault = true;
            if t.state.is_empty() {
                t.state = format!("its driver {d} cannot take snapshots");
            }
            t.evidence.push(format!(
                "{d} cannot take snapshots (driver table): this snapshot will never be cut"
            ));
            t.fix.push(format!("a volume of {d} cannot be snapshotted: copy its data another way (a Job that mounts the claim and copies with rsync or tar into a claim of a class whose driver can snapshot, or a backup tool's file-level backup), then delete this snapshot ({} delete volumesnapshot {name})", kubectl_ns(ns)));
        }
    }
    if let Some((line, fix)) = class_line(ctx, vs, driver) {
        // Only a snapshot not yet cut needs its class.
        if content.is_none() {
            t.fault = true;
            if t.state.is_empty() {
                t.state = "it has no VolumeSnapshotClass".to_string();
            }
            t.evidence.push(line);
            t.fix.push(fix);
            if let Some(c) = vs.class_name() {
                t.objects.push(ObjectRef::snapshot_class(c));
            }
        }
    }
    let evs = ctx
        .snap
        .events_for("VolumeSnapshot", ns, name, vs.metadata.uid.as_deref());
    let warnings: Vec<&&Event> = evs.iter().filter(|e| events::is_warning(e)).collect();
    for e in warnings.iter().take(2) {
        t.evidence.push(events::quote(e, ctx.snap.now));
    }
    if warnings.is_empty() && !ready {
        if let Some(e) = evs.first() {
            t.evidence.push(events::quote(e, ctx.snap.now));
        }
    }
    if !warnings.is_empty() {
        t.fault = true;
        if t.state.is_empty() {
            t.state = format!(
                "failed: {}",
                super::provisioner_errors::brief(events::message(warnings[0]))
            );
        }
    }
    if t.state.is_empty() {
        t.state = if ready {
            "ready".to_string()
        } else {
            format!("not ready{for_age}")
        };
    }
    if !ready && t.fix.is_empty() {
        if t.fault {
            t.fix.push(format!("fix what the snapshotter reported above; the snapshot controller retries by itself. If the error is final, recreate the snapshot: {ns} delete volumesnapshot {name}, then apply it again", ns = kubectl_ns(ns)));
        } else {
            t.fix.push(format!("the CSI driver has not finished cutting the snapshot: watch {} get volumesnapshot {name} -w; if it never becomes ready, read the csi-snapshotter sidecar's log in the driver's controller pod and the snapshot-controller's log (kubectl get pods -A | grep snapshot)", kubectl_ns(ns)));
        }
    }
    t
}

/// Whether a snapshot is older than the grace period.
pub fn older_than_grace(ctx: &Ctx, vs: &VolumeSnapshot) -> bool {
    vs.metadata
        .creation_timestamp
        .as_ref()
        .is_some_and(|t| ctx.snap.now.duration_since(t.0).as_secs() > SNAPSHOT_GRACE_SECONDS)
}
