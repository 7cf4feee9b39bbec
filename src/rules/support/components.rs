//! Evidence and fixes about a CSI driver's own pods, shared by the rules
//! that blame its controller or its node plugin.

use super::provisioner_errors::short_name;
use crate::api::Pod;
use crate::chain::driver::{LeaseState, PodTrouble};
use crate::owners::replica_sets_of;
use crate::rules::rule::{Cause, Ctx};

/// `namespace/name`.
pub fn pod_name(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    )
}

/// Pods whose name says they could be the driver's controller, with their
/// state: the fallback evidence where the components cannot be identified.
pub fn named_like_controller(ctx: &Ctx, driver: &str) -> Vec<String> {
    let short = short_name(driver);
    ctx.snap
        .controller_like_pods()
        .filter(|p| p.metadata.name.as_deref().unwrap_or("").contains(short))
        .map(|p| format!("{} ({})", pod_name(p), crate::chain::pod_state(p)))
        .collect()
}

/// A line of a Go stack trace: a frame's function or file, a goroutine's
/// header, or where it was created.
fn is_stack_line(line: &str) -> bool {
    let l = line.trim();
    l.starts_with("goroutine ")
        || l.starts_with("created by ")
        || (l.contains(".go:") && (!l.contains(' ') || l.contains(" +0x")))
        || (l.ends_with(')') && l.contains('(') && !l.contains(' '))
        || l.starts_with("[signal ")
}

/// The line of a termination message that says why: a panic's or fatal
/// error's own line, else the last line that is not part of a stack trace,
/// cut to a reasonable length.
fn short(text: &str) -> String {
    let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty());
    let line = lines()
        .find(|l| l.starts_with("panic:") || l.starts_with("fatal error:"))
        .or_else(|| lines().rev().find(|l| !is_stack_line(l)))
        .or_else(|| lines().next_back())
        .unwrap_or("");
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(300).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

/// One line about a troubled pod: its state, the container at fault, its
/// restarts and how it last ended.
pub fn trouble_line(p: &Pod, t: &PodTrouble) -> String {
    let mut line = format!("pod {} is {}", pod_name(p), t.state);
    if let Some(c) = &t.container {
        line.push_str(&format!(
            ": container {c} restarted {} time{}",
            t.restarts,
            if t.restarts == 1 { "" } else { "s" }
        ));
        if t.last_reason.is_some() || t.last_exit_code.is_some() {
            line.push_str(&format!(
                ", last terminated {}{}",
                t.last_reason.as_deref().unwrap_or("(no reason)"),
                t.last_exit_code
                    .map(|c| format!(" (exit code {c})"))
                    .unwrap_or_default()
            ));
        }
        if let Some(m) = &t.last_message {
            line.push_str(&format!(": {}", short(m)));
        }
    } else if let Some(u) = t.unscheduled.as_deref().filter(|u| !u.is_empty()) {
        line.push_str(&format!(": not scheduled: {}", short(u)));
    }
    line
}

/// The newest refusal of a workload's pods, quoted.
pub struct PodsRefused {
    pub line: String,
    /// The namespace's PodSecurity level refuses them.
    pub pod_security: bool,
}

impl PodsRefused {
    /// The fix for a PodSecurity refusal: the level the driver needs.
    pub fn pod_security_fix(&self, ns: &str) -> Option<String> {
        self.pod_security.then(|| format!(
            "the namespace enforces a PodSecurity level the driver's pods break: kubectl label namespace {ns} pod-security.kubernetes.io/enforce=privileged --overwrite (CSI drivers need host access; use the level the driver's install documents)"
        ))
    }
}

/// Cites each refusal as evidence, with the PodSecurity fix where it is
/// one, then `fix` once.
pub fn cite_refusals(mut cause: Cause, refused: &[(&str, PodsRefused)], fix: &str) -> Cause {
    for (ns, r) in refused {
        cause = cause.evidence(r.line.clone());
        if let Some(f) = r.pod_security_fix(ns) {
            cause = cause.fix(f);
        }
    }
    if refused.is_empty() {
        cause
    } else {
        cause.fix(fix)
    }
}

/// Why a workload of the driver creates no pods, when its controller says:
/// the newest current `FailedCreate` of the workload or, for a Deployment,
/// of its ReplicaSets (a PodSecurity level, a quota, a webhook, a missing
/// service account).
pub fn pods_refused(ctx: &Ctx, kind: &str, ns: &str, name: &str) -> Option<PodsRefused> {
    let snap = ctx.snap;
    let mut owners: Vec<(&str, &str, Option<&str>)> = Vec::new();
    if kind == "Deployment" {
        for rs in replica_sets_of(snap, ns, name, None) {
            owners.push((
                "ReplicaSet",
                rs.metadata.name.as_deref().unwrap_or(""),
                rs.metadata.uid.as_deref(),
            ));
        }
    } else {
        owners.push((kind, name, None));
    }
    owners
        .into_iter()
        .filter_map(|(kind, name, uid)| {
            let events = snap.events_for(kind, ns, name, uid);
            let e = crate::events::Timeline::new(&events).current("FailedCreate")?;
            Some((
                crate::events::last_seen(e),
                PodsRefused {
                    line: format!("{kind} {ns}/{name}: {}", crate::events::quote(e, snap.now)),
                    pod_security: crate::events::message(e).contains("violates PodSecurity"),
                },
            ))
        })
        .max_by_key(|(seen, _)| *seen)
        .map(|(_, refused)| refused)
}

/// One line about a leader Lease.
pub fn lease_line(ctx: &Ctx, l: &LeaseState) -> String {
    let renewed = match l.age_seconds {
        Some(a) if a >= 0 => format!(
            "renewed {} ago",
            crate::model::age(
                jiff::Timestamp::from_second(ctx.snap.now.as_second() - a).unwrap_or(ctx.snap.now),
                ctx.snap.now
            )
        ),
        Some(_) => "renewed just now".to_string(),
        None => "never renewed".to_string(),
    };
    let holder = match l.holder {
        Some(h) => {
            let alive = ctx
                .snap
                .objects
                .pods
                .iter()
                .any(|p| p.metadata.name.as_deref() == Some(h));
            format!(
                "held by {h}{}",
                if alive { "" } else { " (no such pod now)" }
            )
        }
        None => "held by no one".to_string(),
    };
    format!(
        "leader Lease {}/{} {holder}, {renewed}{}{}",
        l.namespace,
        l.name,
        l.duration_seconds
            .map(|d| format!(" (leaseDurationSeconds {d})"))
            .unwrap_or_default(),
        if l.stale { ": stale" } else { "" }
    )
}

/// How to see why a pod's container fails, or why the pod waits.
pub fn pod_fixes(p: &Pod, t: &PodTrouble) -> Vec<String> {
    let ns = p.metadata.namespace.as_deref().unwrap_or("");
    let name = p.metadata.name.as_deref().unwrap_or("");
    let mut fixes = Vec::new();
    if let Some(c) = &t.container {
        if t.restarts > 0 || t.last_reason.is_some() {
            fixes.push(format!(
                "read why it stopped: kubectl -n {ns} logs {name} -c {c} --previous"
            ));
        } else {
            fixes.push(format!("read its log: kubectl -n {ns} logs {name} -c {c}"));
        }
    }
    fixes.push(format!(
        "see its events and state: kubectl -n {ns} describe pod {name}"
    ));
    fixes
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn a_termination_message_is_quoted_by_the_line_that_says_why() {
        let panic = "I0310 11:02:01.1 driver.go:73] Driver: ebs.csi.aws.com\npanic: error getting Node ip-10-22-19-65: dial tcp 10.100.0.1:443: i/o timeout\n\ngoroutine 1 [running]:\ngithub.com/kubernetes-sigs/aws-ebs-csi-driver/pkg/driver.newNodeService(0xc000)\n\t/go/src/github.com/kubernetes-sigs/aws-ebs-csi-driver/pkg/driver/node.go:88 +0x3e5\n";
        assert_eq!(
            short(panic),
            "panic: error getting Node ip-10-22-19-65: dial tcp 10.100.0.1:443: i/o timeout"
        );
        let log = "starting\nF0310 11:02:01 main.go:40] failed to connect to CSI driver: context deadline exceeded\n";
        assert_eq!(
            short(log),
            "F0310 11:02:01 main.go:40] failed to connect to CSI driver: context deadline exceeded"
        );
    }
}
