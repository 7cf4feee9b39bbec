//! `csi-controller-unhealthy`: a claim or pod waits on a CSI driver's
//! controller (provisioning, attaching, resizing) while that controller is
//! absent, Pending, crash-looping, not Ready, or has let its leader Lease
//! go stale. Ranked above the rule that shows the wait.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::components::{
    cite_refusals, lease_line, pod_fixes, pod_name, pods_refused, trouble_line, PodsRefused,
};
use super::support::expansion::growing;
use crate::chain::driver::{components, leader_lease, trouble, DriverComponents};
use crate::chain::Chain;
use crate::events::NormalEvent;
use crate::events::{self, Timeline};
use crate::model::{Confidence, Link, ObjectRef, Severity};

pub const RULE: Rule = Rule {
    id: "csi-controller-unhealthy",
    title: "the CSI driver's controller is absent, Pending, crash-looping, not Ready, or its leader Lease is stale",
    severity: Severity::Error,
    link: Link::ClassToProvisioner,
    check: Check::Subject(check),
    normal_events: &[NormalEvent::about_claims("ExternalProvisioning"), NormalEvent::about_claims("ExternalExpanding"), NormalEvent::about_claims("Resizing")],
    runbook: include_str!("../../docs/runbooks/csi-controller-unhealthy.md"),
};

/// What the chain waits for from a driver's controller.
struct Wait<'a> {
    driver: &'a str,
    sidecar: &'static str,
    what: String,
    object: ObjectRef,
}

/// The driver named by `... external-attacher of X CSI driver ...`.
fn attacher_driver(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("timed out waiting for external-attacher of ")?;
    rest.split_once(" CSI driver").map(|(d, _)| d.trim())
}

fn waits<'a>(chain: &Chain<'a>) -> Vec<Wait<'a>> {
    let mut out = Vec::new();
    for c in &chain.claims {
        let timeline = Timeline::new(&c.events);
        // Waiting for a provisioner: handed over, nothing answered yet.
        if c.is_pending() && c.volume.is_none() && c.pre_bound().is_none() {
            let provisioner = c
                .storage_provisioner()
                .or_else(|| c.class.map(|k| k.provisioner.as_str()));
            let handed = c.storage_provisioner().is_some()
                || timeline.current("ExternalProvisioning").is_some();
            if let Some(p) = provisioner.filter(|p| *p != "kubernetes.io/no-provisioner") {
                if handed && timeline.current("ProvisioningFailed").is_none() {
                    out.push(Wait {
                        driver: p,
                        sidecar: "csi-provisioner",
                        what: format!("claim {}/{} waits to be provisioned", c.namespace, c.name),
                        object: c.object(),
                    });
                }
            }
        }
        // Waiting for a resizer: asked to grow, nothing started.
        if let Some(driver) = c.volume_driver() {
            if timeline.current("ExternalExpanding").is_some()
                && timeline.latest("Resizing").is_none()
                && timeline.current("VolumeResizeFailed").is_none()
                && growing(c).is_some()
            {
                out.push(Wait {
                    driver,
                    sidecar: "csi-resizer",
                    what: format!("claim {}/{} waits to be resized", c.namespace, c.name),
                    object: c.object(),
                });
            }
        }
    }
    // Waiting for an attacher.
    if let Some((pod, node)) = chain.stuck_on_node() {
        for e in Timeline::new(&pod.events).current_all("FailedAttachVolume") {
            if let Some(driver) = attacher_driver(events::message(e)) {
                let driver = chain
                    .claims
                    .iter()
                    .filter_map(|c| c.volume_driver())
                    .find(|d| *d == driver);
                if let Some(driver) = driver {
                    out.push(Wait {
                        driver,
                        sidecar: "csi-attacher",
                        what: format!(
                            "pod {}/{} waits for its volume to be attached to node {node}",
                            pod.namespace, pod.name
                        ),
                        object: pod.object(),
                    });
                }
            }
        }
    }
    out
}

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let all = waits(chain);
    for w in &all {
        if seen.contains(&w.driver) {
            continue;
        }
        seen.push(w.driver);
        let comps = components(ctx.snap, ctx.drivers, w.driver);
        if !comps.controller_identified() {
            continue;
        }
        let related: Vec<&Wait> = all.iter().filter(|x| x.driver == w.driver).collect();
        if let Some(cause) = judge(ctx, w.driver, &comps, &related) {
            out.push(cause);
        }
    }
    out
}

fn judge(ctx: &Ctx, driver: &str, comps: &DriverComponents, waits: &[&Wait]) -> Option<Cause> {
    let pods = &comps.controller_pods;
    let troubled: Vec<_> = pods
        .iter()
        .filter_map(|p| trouble(p).map(|t| (*p, t)))
        .collect();
    let healthy = pods.len() - troubled.len();
    let sidecar = waits[0].sidecar;
    let lease = leader_lease(ctx.snap, comps, sidecar, driver);
    let stale = lease.as_ref().filter(|l| l.stale);
    let workloads: Vec<String> = comps
        .controller_workloads
        .iter()
        .map(|w| format!("{} {}/{}", w.kind, w.namespace, w.name))
        .collect();
    let controller = if workloads.is_empty() {
        "its controller pods".to_string()
    } else {
        workloads.join(", ")
    };
    let refused: Vec<(&str, PodsRefused)> = if pods.is_empty() {
        comps
            .controller_workloads
            .iter()
            .filter_map(|w| {
                pods_refused(ctx, w.kind, w.namespace, w.name).map(|r| (w.namespace, r))
            })
            .collect()
    } else {
        Vec::new()
    };
    let verdict = if pods.is_empty() && !refused.is_empty() {
        "has no pods, which the API server refuses to create".to_string()
    } else if pods.is_empty() {
        "has no pods".to_string()
    } else if healthy == 0 {
        let looping = troubled.iter().filter(|(_, t)| t.crash_looping).count();
        if looping > 0 {
            format!("is crash-looping ({looping} of {} pods)", pods.len())
        } else {
            let states: Vec<&str> = troubled.iter().map(|(_, t)| t.state.as_str()).collect();
            let mut states = states;
            states.dedup();
            format!("has no Ready pod ({})", states.join(", "))
        }
    } else if let Some(l) = stale {
        format!(
            "has let its leader Lease {}/{} go stale",
            l.namespace, l.name
        )
    } else {
        return None;
    };
    let mut cause = Cause::new(
        &RULE,
        format!(
            "the controller of CSI driver {driver} ({controller}) {verdict}: {}",
            waits
                .iter()
                .map(|w| w.what.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
    for w in waits {
        cause = cause.object(w.object.clone());
    }
    for w in &comps.controller_workloads {
        cause = cause.object(ObjectRef::namespaced(w.kind, w.namespace, w.name));
        if pods.is_empty() {
            cause = cause.evidence(format!(
                "{} {}/{} wants {} replica{}, {} ready, and no pod of it exists",
                w.kind,
                w.namespace,
                w.name,
                w.replicas.unwrap_or(1),
                if w.replicas == Some(1) { "" } else { "s" },
                w.ready.unwrap_or(0)
            ));
        }
    }
    for (p, t) in troubled.iter().take(3) {
        cause = cause
            .object(ObjectRef::pod(
                p.metadata.namespace.as_deref().unwrap_or(""),
                p.metadata.name.as_deref().unwrap_or(""),
            ))
            .evidence(trouble_line(p, t));
    }
    if troubled.len() > 3 {
        cause = cause.evidence(format!("and {} more controller pods", troubled.len() - 3));
    }
    if healthy > 0 {
        let ready: Vec<String> = pods
            .iter()
            .filter(|p| crate::chain::is_healthy(p))
            .map(|p| pod_name(p))
            .collect();
        cause = cause.evidence(format!("Running and Ready: {}", ready.join(", ")));
    }
    if let Some(l) = &lease {
        cause = cause.evidence(lease_line(ctx, l));
    } else if ctx.snap.has("leases") && !ctx.snap.objects.leases.is_empty() {
        cause = cause.evidence(format!(
            "no leader Lease {} in the input",
            crate::chain::driver::lease_name(sidecar, driver).unwrap_or_default()
        ));
    }
    if pods.is_empty() {
        for w in &comps.controller_workloads {
            let kind = w.kind.to_ascii_lowercase();
            if w.replicas == Some(0) {
                cause = cause.fix(format!(
                    "it is scaled to 0: kubectl -n {} scale {kind} {} --replicas=1 (or as many as the driver's install asks)",
                    w.namespace, w.name
                ));
            }
            if refused.is_empty() {
                cause = cause.fix(format!(
                    "see why it has no pods: kubectl -n {} describe {kind} {}; kubectl -n {} get events --field-selector involvedObject.kind=ReplicaSet",
                    w.namespace, w.name, w.namespace
                ));
            }
        }
        cause = cite_refusals(
            cause,
            &refused,
            "the event above says what refuses its pods (a PodSecurity level of the namespace, a quota, an admission webhook, a missing service account); fix that and the controller creates them by itself",
        );
    } else if healthy == 0 {
        // The pod most at fault: a crash loop first, then the most restarts.
        if let Some((p, t)) = troubled
            .iter()
            .max_by_key(|(_, t)| (t.crash_looping, t.restarts))
        {
            for f in pod_fixes(p, t) {
                cause = cause.fix(f);
            }
        }
    } else if let Some(l) = stale {
        let holder = l.holder.unwrap_or("<leader pod>");
        cause = cause
            .fix(format!(
                "read the leader's {sidecar} log: kubectl -n {} logs {holder} -c {sidecar}",
                l.namespace
            ))
            .fix(format!(
                "see the Lease: kubectl -n {} get lease {} -o yaml; a leader that cannot renew loses its lock to another replica, so restart the controller pods if none takes over",
                l.namespace, l.name
            ));
    }
    cause = cause.fix(format!(
        "once the controller runs, its {sidecar} picks up the waiting work by itself"
    ));
    cause.confidence = if troubled.is_empty() && stale.is_some() && refused.is_empty() {
        Confidence::Medium
    } else {
        Confidence::High
    };
    Some(cause)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Container, ContainerState, ContainerStatus};
    use crate::fixtures::*;
    use k8s_openapi::api::core::v1::{ContainerStateTerminated, ContainerStateWaiting};

    fn controller_pod(name: &str, restarts: i32, looping: bool) -> crate::api::Pod {
        let mut p = pod(name)
            .label("app", "ebs-csi-controller")
            .owned_by("ReplicaSet", "ebs-csi-controller-7d9c");
        p.metadata.namespace = Some("kube-system".into());
        p.spec.as_mut().unwrap().containers = vec![
            Container {
                name: "ebs-plugin".into(),
                image: Some("public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0".into()),
                ..Default::default()
            },
            Container {
                name: "csi-provisioner".into(),
                image: Some(
                    "public.ecr.aws/eks-distro/kubernetes-csi/external-provisioner:v5.1.0".into(),
                ),
                ..Default::default()
            },
            Container {
                name: "csi-attacher".into(),
                image: Some("public.ecr.aws/eks-distro/kubernetes-csi/csi-attacher:v4.7.0".into()),
                ..Default::default()
            },
        ];
        let mut p = if looping {
            p.on_node("node-1")
        } else {
            p.running()
        };
        let status = p.status.as_mut().unwrap();
        status.container_statuses = Some(vec![ContainerStatus {
            name: "ebs-plugin".into(),
            ready: !looping,
            restart_count: restarts,
            state: Some(ContainerState {
                waiting: looping.then(|| ContainerStateWaiting {
                    reason: Some("CrashLoopBackOff".into()),
                    message: None,
                }),
                ..Default::default()
            }),
            last_state: (restarts > 0).then(|| ContainerState {
                terminated: Some(Box::new(ContainerStateTerminated {
                    exit_code: 1,
                    reason: Some("Error".into()),
                    message: Some(
                        "failed to get region: EC2 instance metadata is not available".into(),
                    ),
                    ..Default::default()
                })),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        if looping {
            status.phase = Some("Running".into());
        }
        p
    }

    fn waiting_claim(o: &mut crate::snapshot::Objects) {
        o.classes.push(class("gp3", "ebs.csi.aws.com"));
        o.claims
            .push(pvc("data").class("gp3").provisioner("ebs.csi.aws.com"));
        o.events.push(
            event(
                "ExternalProvisioning",
                "Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.",
            )
            .count(30)
            .about("PersistentVolumeClaim", "default", "data"),
        );
    }

    #[test]
    fn crash_looping_controller_explains_a_waiting_claim() {
        let snap = snapshot(|o| {
            waiting_claim(o);
            o.pods
                .push(controller_pod("ebs-csi-controller-7d9c-a", 7, true));
            o.pods
                .push(controller_pod("ebs-csi-controller-7d9c-b", 6, true));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(t.contains("crash-looping (2 of 2 pods)"), "{t}");
        assert!(t.contains("EC2 instance metadata"), "{t}");
        assert!(
            t.contains(
                "kubectl -n kube-system logs ebs-csi-controller-7d9c-a -c ebs-plugin --previous"
            ),
            "{t}"
        );
    }

    #[test]
    fn a_controller_that_restarted_once_and_is_ready_is_healthy() {
        let snap = snapshot(|o| {
            waiting_claim(o);
            o.pods
                .push(controller_pod("ebs-csi-controller-7d9c-a", 1, false));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn an_unidentified_controller_is_not_blamed() {
        let snap = snapshot(waiting_claim);
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_healthy_chain_blames_nothing() {
        let snap = snapshot(|o| {
            o.pods
                .push(controller_pod("ebs-csi-controller-7d9c-a", 9, true));
            o.claims.push(pvc("data").class("gp3").bound("pv-1"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }

    #[test]
    fn a_stale_lease_with_ready_pods() {
        use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
        let snap = snapshot(|o| {
            waiting_claim(o);
            o.pods
                .push(controller_pod("ebs-csi-controller-7d9c-a", 0, false));
            o.leases.push(Lease {
                metadata: ObjectMeta {
                    name: Some("ebs-csi-aws-com".into()),
                    namespace: Some("kube-system".into()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some("ebs-csi-controller-old".into()),
                    lease_duration_seconds: Some(15),
                    renew_time: Some(MicroTime("2026-11-20T09:00:00Z".parse().unwrap())),
                    ..Default::default()
                }),
            });
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        let t = text(&c[0]);
        assert!(
            t.contains("held by ebs-csi-controller-old (no such pod now)"),
            "{t}"
        );
        assert!(t.contains("stale"), "{t}");
    }

    #[test]
    fn attacher_timeouts_name_their_driver() {
        assert_eq!(
            attacher_driver("AttachVolume.Attach failed for volume \"pv\" : timed out waiting for external-attacher of ebs.csi.aws.com CSI driver to attach volume vol-1"),
            Some("ebs.csi.aws.com")
        );
        assert_eq!(
            attacher_driver("timed out waiting for external-attacher of "),
            None
        );
    }
}
