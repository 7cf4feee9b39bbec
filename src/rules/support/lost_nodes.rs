//! Whether a node is lost (NotReady, unreachable or deleted), with the
//! state that says so, and the fix phrases several rules give for it.

use crate::model::age;
use crate::rules::rule::Ctx;
use k8s_openapi::api::core::v1::Node;

/// The taint an administrator sets on a node that is really shut down
/// (non-graceful node shutdown, GA in Kubernetes 1.28).
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const NOT_READY: &str = "node.kubernetes.io/not-ready";

/// A node that cannot finish or release anything by itself.
#[derive(Debug, Clone)]
pub struct Lost<'a> {
    pub name: &'a str,
    /// `None` when no Node object of that name exists any more.
    pub node: Option<&'a Node>,
    /// Short: `NotReady (Ready=Unknown) for 8m`, `unreachable`, `deleted`.
    pub state: String,
    /// What the node's objects say, one line each.
    pub evidence: Vec<String>,
    /// The out-of-service taint is already set.
    pub out_of_service: bool,
}

impl Lost<'_> {
    pub fn deleted(&self) -> bool {
        self.node.is_none()
    }
}

fn has_taint(node: &Node, key: &str) -> Option<String> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .filter(|t| t.key == key)
        .map(|t| {
            let value = t.value.as_deref().filter(|v| !v.is_empty());
            let mut s = match value {
                Some(v) => format!("{}={v}:{}", t.key, t.effect),
                None => format!("{}:{}", t.key, t.effect),
            };
            if let Some(at) = &t.time_added {
                s.push_str(&format!(" (added {})", at.0));
            }
            s
        })
        .reduce(|a, b| format!("{a}, {b}"))
}

/// The node, when it is lost; `None` when it is Ready, or when the input
/// holds no nodes at all (nothing can be said then).
pub fn lost<'a>(ctx: &Ctx<'a>, name: &'a str) -> Option<Lost<'a>> {
    if name.is_empty() {
        return None;
    }
    let Some(node) = ctx.snap.node(name) else {
        if ctx.snap.objects.nodes.is_empty() || !ctx.snap.has("nodes") {
            return None;
        }
        return Some(Lost {
            name,
            node: None,
            state: "gone (its Node object was deleted)".into(),
            evidence: vec![format!(
                "node {name} no longer exists: no Node object of that name among the {} in the input",
                ctx.snap.objects.nodes.len()
            )],
            out_of_service: false,
        });
    };
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let unreachable = has_taint(node, UNREACHABLE);
    let not_ready_taint = has_taint(node, NOT_READY);
    let out_of_service = has_taint(node, OUT_OF_SERVICE);
    let down = ready.is_some_and(|c| c.status != "True");
    if !down && unreachable.is_none() && !(ready.is_none() && not_ready_taint.is_some()) {
        return None;
    }
    let mut evidence = Vec::new();
    let mut state = String::new();
    if let Some(c) = ready {
        let since = c.last_transition_time.as_ref().map(|t| t.0);
        let how_long = since
            .map(|t| format!(" for {}", age(t, ctx.snap.now)))
            .unwrap_or_default();
        if down {
            state = format!("NotReady (Ready={}){how_long}", c.status);
        }
        let mut line = format!("node {name}: condition Ready={}", c.status);
        if let Some(t) = since {
            line.push_str(&format!(" since {t} ({} ago)", age(t, ctx.snap.now)));
        }
        let why: Vec<&str> = [c.reason.as_deref(), c.message.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if !why.is_empty() {
            line.push_str(&format!(": {}", why.join(": ")));
        }
        if let Some(h) = &c.last_heartbeat_time {
            line.push_str(&format!("; last heartbeat {}", h.0));
        }
        evidence.push(line);
    } else {
        evidence.push(format!("node {name} has no Ready condition in the input"));
    }
    for taint in [&unreachable, &not_ready_taint, &out_of_service]
        .into_iter()
        .flatten()
    {
        evidence.push(format!("node {name} has the taint(s) {taint}"));
    }
    if state.is_empty() {
        state = if unreachable.is_some() {
            "unreachable".into()
        } else {
            "NotReady".into()
        };
    }
    Some(Lost {
        name,
        node: Some(node),
        state,
        evidence,
        out_of_service: out_of_service.is_some(),
    })
}

/// The fix for a node that is down: the out-of-service taint once it is
/// confirmed off, or what to check when the taint is already there.
pub fn out_of_service_fix(lost: &Lost) -> String {
    let name = lost.name;
    if lost.deleted() {
        return format!(
            "node {name} was deleted: check in the cloud console (or the hypervisor) that its machine is really gone and the disk shows as detached or available; the pod garbage collector removes pods bound to a deleted node, after which the attach/detach controller detaches; if the VolumeAttachment stays, read its status.detachError (kubectl describe volumeattachment) and the CSI attacher's log"
        );
    }
    if lost.out_of_service {
        return format!(
            "node {name} already has the {OUT_OF_SERVICE} taint: the pod garbage collector should force-delete its terminating pods and the attach/detach controller detach at once (Kubernetes 1.28+, or 1.26+ with the NodeOutOfServiceVolumeDetach feature gate); if that does not happen read kubectl describe volumeattachment (detachError) and the CSI attacher's log"
        );
    }
    format!(
        "first confirm node {name} is really shut down (cloud console: instance stopped or terminated; a network partition looks the same from the API). Then mark it out of service (non-graceful node shutdown, GA in Kubernetes 1.28): kubectl taint nodes {name} {OUT_OF_SERVICE}=nodeshutdown:NoExecute : its terminating pods are force-deleted and its volumes detached at once. Remove the taint once the node is back or replaced: kubectl taint nodes {name} {OUT_OF_SERVICE}=nodeshutdown:NoExecute-"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    fn ctx_lost(snap: &crate::snapshot::Snapshot, name: &str) -> Option<String> {
        let drivers = crate::drivers::Drivers::built_in();
        let ctx = Ctx::new(snap, &drivers);
        lost(&ctx, name).map(|l| l.state)
    }

    #[test]
    fn ready_false_unknown_tainted_and_deleted_nodes_are_lost() {
        let mut down = node("down");
        if let Some(c) = down
            .status
            .as_mut()
            .and_then(|s| s.conditions.as_mut())
            .and_then(|c| c.first_mut())
        {
            c.status = "False".into();
            c.last_transition_time = Some(time("2026-11-20T10:00:00Z"));
        }
        let snap = snapshot(|o| {
            o.nodes.push(node("ok"));
            o.nodes.push(node("unknown").not_ready());
            o.nodes.push(down);
            o.nodes.push(node("cut").taint(UNREACHABLE, "NoExecute"));
            let mut bare = node("bare");
            bare.status = None;
            o.nodes.push(bare);
            o.events.push(event("X", "y").at("2026-11-20T10:08:00Z"));
        });
        assert_eq!(ctx_lost(&snap, "ok"), None);
        assert_eq!(ctx_lost(&snap, "bare"), None);
        assert_eq!(
            ctx_lost(&snap, "unknown").as_deref(),
            Some("NotReady (Ready=Unknown)")
        );
        assert_eq!(
            ctx_lost(&snap, "down").as_deref(),
            Some("NotReady (Ready=False) for 8m0s")
        );
        assert_eq!(ctx_lost(&snap, "cut").as_deref(), Some("unreachable"));
        assert_eq!(
            ctx_lost(&snap, "gone").as_deref(),
            Some("gone (its Node object was deleted)")
        );
        assert_eq!(ctx_lost(&snap, ""), None);
    }

    #[test]
    fn without_nodes_in_the_input_nothing_is_lost() {
        let snap = snapshot(|_| {});
        assert_eq!(ctx_lost(&snap, "gone"), None);
    }
}
