//! `collect`: the objects a diagnosis read, written as one `kubectl get
//! -o yaml|json` style List for a ticket. Never holds Secrets (they are
//! never read); managedFields were dropped when reading.

use crate::snapshot::Snapshot;
use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

fn push_all<T: Serialize>(items: &mut Vec<Value>, objects: &[T]) -> Result<()> {
    for o in objects {
        items.push(serde_json::to_value(o)?);
    }
    Ok(())
}

/// The snapshot's objects as a `v1` `List`, in YAML or JSON.
pub fn render(snap: &Snapshot, json: bool) -> Result<String> {
    let o = &snap.objects;
    let mut items = Vec::new();
    push_all(&mut items, &o.classes)?;
    push_all(&mut items, &o.csi_drivers)?;
    push_all(&mut items, &o.csi_nodes)?;
    push_all(&mut items, &o.nodes)?;
    push_all(&mut items, &o.volumes)?;
    push_all(&mut items, &o.attachments)?;
    push_all(&mut items, &o.capacities)?;
    push_all(&mut items, &o.claims)?;
    push_all(&mut items, &o.pods)?;
    push_all(&mut items, &o.quotas)?;
    push_all(&mut items, &o.limit_ranges)?;
    push_all(&mut items, &o.deployments)?;
    push_all(&mut items, &o.replica_sets)?;
    push_all(&mut items, &o.stateful_sets)?;
    push_all(&mut items, &o.daemon_sets)?;
    push_all(&mut items, &o.jobs)?;
    push_all(&mut items, &o.cron_jobs)?;
    push_all(&mut items, &o.events)?;
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    Ok(if json {
        let mut s = serde_json::to_string_pretty(&list)?;
        s.push('\n');
        s
    } else {
        serde_yaml_ng::to_string(&list)?
    })
}
