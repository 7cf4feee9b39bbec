//! `pod-create-refused`: a workload has fewer pods than it wants because the
//! API server refuses to create them. When the refusal is about the pods'
//! volumes (a PodSecurity level that forbids hostPath, an
//! ephemeral-storage quota, a webhook's volume policy) or the pods run a
//! CSI driver, it is a storage problem; otherwise the finding says it is
//! not one and quotes why.

use super::rule::{Cause, Check, Ctx, Rule};
use super::support::claim_creation::newest_refusal;
use super::support::commands::kubectl_ns;
use crate::chain::Chain;
use crate::csi_sidecars::runs_csi_component;
use crate::events::{self, Timeline};
use crate::model::{Link, ObjectRef, Severity};
use crate::volume_errors::refuses_volumes;

pub const RULE: Rule = Rule {
    id: "pod-create-refused",
    title: "the API server refuses to create the workload's pods",
    severity: Severity::Error,
    link: Link::PodToVolume,
    check: Check::Subject(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/pod-create-refused.md"),
};

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let Some(w) = &chain.workload else {
        return Vec::new();
    };
    if chain.pod.is_some() || w.created >= w.wanted {
        return Vec::new();
    }
    // A StatefulSet's claim that cannot be created is the claim rules'.
    if newest_refusal(ctx.snap, w).is_some() {
        return Vec::new();
    }
    let Some(refused) = Timeline::new(&w.events).current("FailedCreate") else {
        return Vec::new();
    };
    let answer = events::message(refused);
    let csi_driver = w.template.is_some_and(runs_csi_component);
    let storage = csi_driver || refuses_volumes(answer);
    let kind = w.kind.as_str();
    let (ns, name) = (w.namespace.as_str(), w.name.as_str());
    let has = format!("{kind} {ns}/{name} has {} of {} pods", w.created, w.wanted);
    let mut cause = if csi_driver {
        Cause::new(
            &RULE,
            format!("{has}: the API server refuses to create them, and they run a CSI driver, whose volumes cannot be provisioned, attached or mounted without them"),
        )
    } else if storage {
        Cause::new(
            &RULE,
            format!("{has}: the API server refuses to create them because of their volumes"),
        )
    } else {
        Cause::new(
            &RULE,
            format!(
                "{has}: the API server refuses to create them, for a reason that is not storage"
            ),
        )
        .severity(Severity::Warning)
    };
    let about = &refused.involved_object;
    cause = cause.object(chain.subject.clone()).evidence(format!(
        "{} {ns}/{}: {}",
        about.kind.as_deref().unwrap_or(kind),
        about.name.as_deref().unwrap_or(name),
        events::quote(refused, ctx.snap.now)
    ));
    if about.kind.as_deref() == Some("ReplicaSet") {
        if let Some(rs) = about.name.as_deref() {
            cause = cause.object(ObjectRef::namespaced("ReplicaSet", ns, rs));
        }
    }
    if answer.contains("violates PodSecurity") {
        cause = cause.fix(format!(
            "the namespace's PodSecurity level refuses the pod template: change the template to meet it, or, if the workload needs host access, set the level it needs: kubectl label namespace {ns} pod-security.kubernetes.io/enforce=privileged --overwrite"
        ));
    } else if answer.contains("exceeded quota") {
        cause = cause.fix(format!(
            "a ResourceQuota of the namespace is used up: {} describe resourcequota; raise it or lower the template's requests",
            kubectl_ns(ns)
        ));
    } else if answer.contains("error looking up service account") {
        cause = cause.fix(format!(
            "create the service account the template names ({} get serviceaccount), or correct spec.template.spec.serviceAccountName",
            kubectl_ns(ns)
        ));
    } else {
        cause = cause.fix("the answer above is the API server's own: change what it names in the pod template, or what refuses it");
    }
    cause = cause.fix(format!(
        "the controller retries by itself; watch with {} get events --field-selector reason=FailedCreate",
        kubectl_ns(ns)
    ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::DaemonSet;
    use crate::chain::{Scope, Target, WorkloadKind};
    use crate::fixtures::*;
    use k8s_openapi::api::apps::v1::DaemonSetStatus;

    fn daemon_set_refused(message: &str) -> Vec<Cause> {
        daemon_set_short(message, 0)
    }

    /// A DaemonSet that wants 3 pods, has `created`, and was refused the
    /// others with `message`.
    fn refused_daemon_set(message: &str, created: i32) -> crate::snapshot::Snapshot {
        snapshot(|o| {
            o.daemon_sets.push(DaemonSet {
                metadata: meta("log-agent", Some("default")),
                status: Some(DaemonSetStatus {
                    desired_number_scheduled: 3,
                    current_number_scheduled: created,
                    ..Default::default()
                }),
                ..Default::default()
            });
            o.events
                .push(event("FailedCreate", message).warning().about(
                    "DaemonSet",
                    "default",
                    "log-agent",
                ));
        })
    }

    /// The causes when the DaemonSet is named as a target.
    fn daemon_set_short(message: &str, created: i32) -> Vec<Cause> {
        let snap = refused_daemon_set(message, created);
        let drivers = crate::drivers::Drivers::built_in();
        let ctx = Ctx::new(&snap, &drivers);
        let scope = Scope {
            targets: vec![Target::Workload(
                WorkloadKind::DaemonSet,
                "log-agent".into(),
            )],
            ..Scope::default()
        };
        crate::chain::subjects(&snap, &scope)
            .expect("the target exists")
            .iter()
            .flat_map(|chain| RULE.check.run(&ctx, chain))
            .collect()
    }

    #[test]
    fn a_refusal_about_hostpath_volumes_is_storage() {
        let c = daemon_set_refused("Error creating: pods \"log-agent-x7\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"varlog\")");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Error);
        assert!(
            c[0].summary
                .contains("DaemonSet default/log-agent has 0 of 3 pods"),
            "{}",
            c[0].summary
        );
        assert!(text(&c[0]).contains("pod-security.kubernetes.io/enforce=privileged"));
    }

    #[test]
    fn a_refusal_about_something_else_says_it_is_not_storage() {
        let c = daemon_set_refused("Error creating: pods \"log-agent-x7\" is forbidden: error looking up service account default/log-agent: serviceaccount \"log-agent\" not found");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].severity, Severity::Warning);
        assert!(c[0].summary.contains("not storage"), "{}", c[0].summary);
        assert!(text(&c[0]).contains("get serviceaccount"));
    }

    #[test]
    fn a_workload_short_of_pods_is_shown_next_to_the_ones_it_has() {
        let message = "Error creating: pods \"log-agent-x7\" is forbidden: exceeded quota: storage, requested: requests.ephemeral-storage=2Gi, used: requests.ephemeral-storage=9Gi, limited: requests.ephemeral-storage=10Gi";
        let c = daemon_set_short(message, 2);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].summary.contains("has 2 of 3 pods") && c[0].summary.contains("volumes"),
            "{}",
            c[0].summary
        );
        assert!(daemon_set_short(message, 3).is_empty());
    }

    #[test]
    fn a_scan_shows_workloads_refused_for_their_volumes_only() {
        let refused = |message: &str| {
            let snap = refused_daemon_set(message, 0);
            causes(&RULE, &snap)
        };
        assert_eq!(
            refused("Error creating: pods \"log-agent-x7\" is forbidden: violates PodSecurity \"baseline:latest\": hostPath volumes (volume \"varlog\")").len(),
            1
        );
        assert!(refused("Error creating: pods \"log-agent-x7\" is forbidden: error looking up service account default/log-agent: serviceaccount \"log-agent\" not found").is_empty());
    }
}
