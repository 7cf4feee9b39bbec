//! `provisioning-failed`: the provisioner tried and failed. The underlying
//! error is classified (capacity, parameters, topology, volume mode, data
//! source) so the fix fits it.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::commands::kubectl_ns;
use super::support::evidence::claim_state_line;
use super::support::provisioner_errors::{
    brief, classify, is_in_progress, is_timeout, refuses_access_mode, refuses_helper_pod,
    short_name, underlying, ErrorKind,
};
use crate::chain::{ClaimChain, PodChain};
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "provisioning-failed",
    title: "the provisioner tried to create the volume and failed",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Claim(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/provisioning-failed.md"),
};

fn check(ctx: &Ctx, c: &ClaimChain, _: Option<&PodChain>) -> Option<Cause> {
    if c.claim.is_none() || c.is_bound() {
        return None;
    }
    let timeline = Timeline::new(&c.events);
    let Some(newest) = timeline.current("ProvisioningFailed") else {
        return hanging(ctx, c, &timeline);
    };
    // A retry refused because the first call still runs says only that the
    // first call timed out: quote the timeout.
    let first_timeout = || {
        timeline
            .current_all("ProvisioningFailed")
            .find(|e| is_timeout(&events::message(e).to_ascii_lowercase()))
    };
    let e = if is_in_progress(&events::message(newest).to_ascii_lowercase()) {
        first_timeout().unwrap_or(newest)
    } else {
        newest
    };
    let message = events::message(e);
    let kind = classify(message);
    if matches!(kind, ErrorKind::ClassNotFound | ErrorKind::NoProvisioner)
        || refuses_access_mode(message, &c.access_modes())
    {
        return None;
    }
    let ns = c.namespace;
    let class = c.class_name().unwrap_or("");
    let who = match events::reporter(e) {
        "" => "the provisioner".to_string(),
        r => r.to_string(),
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "provisioning claim {ns}/{} failed ({}): {}",
            c.name,
            kind.as_str(),
            brief(underlying(message))
        ),
    )
    .object(c.object())
    .evidence(claim_state_line(ctx, c))
    .evidence(events::quote(e, ctx.snap.now))
    .evidence(events::quote(newest, ctx.snap.now))
    .evidence(format!(
        "error class: {} (reported by {who})",
        kind.as_str()
    ));
    if !class.is_empty() {
        cause = cause.object(ObjectRef::class(class));
    }
    let size = c.requested_size().unwrap_or("the requested size");
    let params = c
        .class
        .and_then(|sc| sc.parameters.as_ref())
        .map(|p| {
            p.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    cause = match kind {
        ErrorKind::Capacity => {
            cause = cause.fix(format!("the backend refused {size}: request less (recreate the claim; a Pending claim holds no data), or raise the cloud/backend quota or capacity"));
            if c.is_wait_for_first_consumer() {
                cause = cause.fix("if the limit is per zone, let the pod run in another zone (this WaitForFirstConsumer class provisions where the pod is scheduled)");
            }
            cause
        }
        ErrorKind::Parameters => cause
            .fix(format!("the driver rejected the request: check StorageClass \"{class}\" parameters ({params}) and the claim's size against the driver's documented limits"))
            .fix(format!("StorageClass parameters cannot be edited: kubectl get sc {class} -o yaml > sc.yaml, fix, kubectl replace --force -f sc.yaml (existing volumes are not affected)")),
        ErrorKind::Topology => cause
            .fix(format!("the class's allowedTopologies or the selected node's zone do not fit the driver: compare kubectl get sc {class} -o yaml (allowedTopologies) with kubectl get nodes -L topology.kubernetes.io/zone and the CSINode topology keys"))
            .fix(format!("if the selected node is gone, remove the annotation so the scheduler picks again: {} annotate pvc {} volume.kubernetes.io/selected-node-", kubectl_ns(ns), c.name)),
        ErrorKind::VolumeMode => cause
            .fix(format!("the driver cannot provision volumeMode {}: use volumeMode Filesystem or a class whose driver supports Block (recreate the claim)", c.volume_mode())),
        ErrorKind::DataSource
            if message.contains("could not find the requested resource")
                && c.source.as_ref().is_some_and(|s| s.snapshot.is_some()) =>
        {
            let snapshot = c.source.as_ref().map_or("", |s| s.source.name);
            cause
                .evidence(format!(
                    "VolumeSnapshot {ns}/{snapshot} exists in the input: the API server does not serve the snapshot API version the provisioner asks for"
                ))
                .fix(format!(
                    "csi-provisioner and the snapshot CRDs speak different versions of snapshot.storage.k8s.io: compare the versions served (kubectl get crd volumesnapshots.snapshot.storage.k8s.io -o jsonpath='{{.spec.versions[?(@.served==true)].name}}') with the csi-provisioner image of the driver's controller (kubectl get pods -A | grep -i {}; v1.5 and later read v1beta1, v4 and later read v1), and upgrade csi-provisioner",
                    short_name(provisioner(c, class))
                ))
        }
        ErrorKind::DataSource => cause
            .fix(format!("the claim's dataSource must exist in {ns} and be ready: kubectl -n {ns} get volumesnapshot,pvc; a snapshot must show readyToUse: true, and a cloned claim must use the same driver and be at most the new claim's size")),
        ErrorKind::Permission if refuses_helper_pod(message) => cause
            .fix(format!("the provisioner makes the volume with a helper pod that mounts the node's disk (hostPath), and pod security refuses it in its namespace: allow it there (kubectl label namespace <provisioner namespace> pod-security.kubernetes.io/enforce=privileged --overwrite, or a PodSecurityPolicy with hostPath that the provisioner's service account may use); find it with kubectl get pods -A | grep -i {}", short_name(provisioner(c, class))))
            .fix(format!("the provisioner retries by itself; watch with {} describe pvc {}", kubectl_ns(ns), c.name)),
        ErrorKind::Permission => cause
            .fix(format!("the driver's controller may not create volumes with the identity it runs as; the error names the missing action: give it to the controller's identity (on EKS, the AmazonEBSCSIDriverPolicy or the driver's policy on the IAM role of the controller's service account; on GKE, the node or Workload Identity service account; on AKS, the cluster identity on the node resource group), then restart the controller: kubectl get pods -A | grep -i {}", short_name(provisioner(c, class))))
            .fix(format!("the provisioner retries by itself; watch with {} describe pvc {}", kubectl_ns(ns), c.name)),
        ErrorKind::Timeout => cause
            .fix(format!("the volume was not created in time: the storage backend is slow or unreachable from the provisioner (for Ceph, ceph status and the monitors' reachability; for a cloud, its API's status), the sidecar's --timeout is shorter than the backend needs, or, for a provisioner that makes volumes with helper pods (local-path), its helper pod does not start (kubectl get pods -A | grep -i helper); read the provisioner's log: kubectl get pods -A | grep -i {}", short_name(provisioner(c, class))))
            .fix(if is_in_progress(&events::message(newest).to_ascii_lowercase()) {
                "an Aborted error naming an operation that already exists is the same call still running, not a second problem; the provisioner retries by itself"
            } else {
                "the provisioner retries by itself"
            }),
        ErrorKind::NodeNotRegistered => {
            let node = c.annotation("volume.kubernetes.io/selected-node").unwrap_or("<node>");
            let driver = provisioner(c, class);
            let listed = ctx.snap.csi_node(node).map(|n| {
                n.spec.drivers.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
            });
            if let Some(listed) = listed {
                cause = cause.evidence(format!("CSINode {node} lists [{listed}]"));
            }
            cause
                .fix(format!("the driver's node plugin has not registered on node {node}, the node the scheduler chose: kubectl get pods -A -o wide --field-selector spec.nodeName={node} | grep -i {} (its DaemonSet may not tolerate the node's taints, or its pod crashes)", short_name(driver)))
                .fix(format!("or let the scheduler choose again: {} annotate pvc {} volume.kubernetes.io/selected-node- (the pod may land on a node where the driver runs)", kubectl_ns(ns), c.name))
        }
        _ => cause
            .fix(format!("read the provisioner's log for the full error: find its controller (kubectl get pods -A | grep -i {}) and run kubectl logs on its csi-provisioner container", short_name(provisioner(c, class))))
            .fix(format!("after fixing the cause the provisioner retries by itself; watch with {} describe pvc {}", kubectl_ns(ns), c.name)),
    };
    Some(cause)
}

/// How long a provisioner may work on a claim without an answer before
/// the call counts as hanging.
const HANG_SECONDS: i64 = 10 * 60;

/// The provisioner took the claim (`Provisioning`, again at each retry)
/// but neither succeeded nor failed: its CreateVolume call does not return.
fn hanging(ctx: &Ctx, c: &ClaimChain, timeline: &Timeline) -> Option<Cause> {
    let started = timeline.current("Provisioning")?;
    let first = started
        .first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| events::last_seen(started))?;
    if ctx.snap.now.as_second() - first.as_second() < HANG_SECONDS {
        return None;
    }
    let ns = c.namespace;
    let what = match c.source.as_ref().map(|s| &s.source) {
        Some(s) if s.is_snapshot() => format!(" (a restore from VolumeSnapshot {})", s.name),
        Some(s) if s.is_claim() => format!(" (a clone of claim {})", s.name),
        _ => String::new(),
    };
    let class = c.class_name().unwrap_or("");
    let mut cause = Cause::new(
        &RULE,
        format!(
            "the provisioner has been creating the volume of claim {ns}/{}{what} for {} and has neither finished nor failed",
            c.name,
            crate::model::age(first, ctx.snap.now)
        ),
    )
    .confidence(Confidence::Medium)
    .object(c.object())
    .evidence(claim_state_line(ctx, c))
    .evidence(events::quote(started, ctx.snap.now))
    .evidence("no ProvisioningFailed and no ProvisioningSucceeded since: the driver's CreateVolume call has not returned");
    if !class.is_empty() {
        cause = cause.object(ObjectRef::class(class));
    }
    Some(
        cause
            .fix(format!(
                "read what the driver is waiting on: kubectl get pods -A | grep -i {}, then kubectl logs <controller-pod> -c csi-provisioner and the driver's own container; a call that hangs there waits on the storage system (its task list: for vSphere, the CNS tasks in vCenter)",
                short_name(provisioner(c, class))
            ))
            .fix(format!(
                "the provisioner retries by itself; a restart of the controller cancels a call that is stuck; follow it with {} describe pvc {}",
                kubectl_ns(ns),
                c.name
            )),
    )
}

/// The class's provisioner, else the class's name.
fn provisioner<'a>(c: &ClaimChain<'a>, class: &'a str) -> &'a str {
    c.class.map_or(class, |s| s.provisioner.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn unwraps_every_provisioner_wording() {
        assert_eq!(
            underlying("failed to provision volume with StorageClass \"gp3\": rpc error: code = ResourceExhausted desc = no space"),
            "rpc error: code = ResourceExhausted desc = no space"
        );
        assert_eq!(
            underlying("Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = bad iops"),
            "rpc error: code = InvalidArgument desc = bad iops"
        );
        assert_eq!(
            underlying("rpc error: code = Internal desc = x"),
            "rpc error: code = Internal desc = x"
        );
    }

    #[test]
    fn a_provisioner_that_never_answers_is_named_after_ten_minutes() {
        let claim_with = |first: &str| {
            let mut started = event(
                "Provisioning",
                "External provisioner is provisioning volume for claim \"default/data\"",
            )
            .count(40)
            .about("PersistentVolumeClaim", "default", "data");
            started.first_timestamp = Some(time(first));
            snapshot(move |o| {
                o.classes.push(class("fast", "csi.example.com"));
                o.claims.push(pvc("data").class("fast"));
                o.events.push(started);
            })
        };
        let c = causes(&RULE, &claim_with("2026-11-20T08:00:00Z"));
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("has neither finished nor failed"),
            "{}",
            c[0].summary
        );
        assert!(causes(&RULE, &claim_with("2026-11-20T10:05:00Z")).is_empty());
    }

    #[test]
    fn brief_keeps_code_and_description() {
        assert_eq!(
            brief("rpc error: code = ResourceExhausted desc = no space"),
            "ResourceExhausted: no space"
        );
        assert!(brief(&"x".repeat(500)).contains(" … "));
        assert!(brief(&"é".repeat(500)).chars().count() <= 190);
    }

    #[test]
    fn classifies_the_catalog_errors() {
        assert_eq!(
            classify("rpc error: code = ResourceExhausted desc = x"),
            ErrorKind::Capacity
        );
        assert_eq!(
            classify("rpc error: code = InvalidArgument desc = Invalid parameter iops"),
            ErrorKind::Parameters
        );
        assert_eq!(
            classify("error generating accessibility requirements: no topology key found"),
            ErrorKind::Topology
        );
        assert_eq!(
            classify("driver does not support block volume"),
            ErrorKind::VolumeMode
        );
        assert_eq!(
            classify("snapshot snap-1 is not Ready"),
            ErrorKind::DataSource
        );
        assert_eq!(
            classify("storageclass.storage.k8s.io \"x\" not found"),
            ErrorKind::ClassNotFound
        );
        assert_eq!(classify("failed to provision volume with StorageClass \"gp3\": rpc error: code = InvalidArgument desc = Volume capabilities MULTI_NODE_MULTI_WRITER not supported"), ErrorKind::AccessMode);
        assert_eq!(classify("something odd"), ErrorKind::Other);
    }

    #[test]
    fn superseded_failure_is_no_finding() {
        let fail = event(
            "ProvisioningFailed",
            "rpc error: code = ResourceExhausted desc = x",
        )
        .warning()
        .by("ebs.csi.aws.com_ebs-csi-controller-1")
        .at("2026-11-20T10:00:00Z")
        .about("PersistentVolumeClaim", "default", "data");
        let ok = event("ProvisioningSucceeded", "ok")
            .at("2026-11-20T10:05:00Z")
            .about("PersistentVolumeClaim", "default", "data");
        let snap = snapshot(|o| {
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.claims.push(pvc("data").class("gp3"));
            o.events.extend([fail.clone(), ok]);
        });
        assert!(causes(&RULE, &snap).is_empty());
        let snap = snapshot(|o| {
            o.classes.push(class("gp3", "ebs.csi.aws.com"));
            o.claims.push(pvc("data").class("gp3"));
            o.events.push(fail);
        });
        let c = causes(&RULE, &snap);
        assert!(c[0].summary.contains("(capacity)"), "{}", c[0].summary);
        assert!(text(&c[0]).contains("reported by ebs.csi.aws.com_ebs-csi-controller-1"));
    }
}
