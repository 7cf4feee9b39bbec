//! `collect`: the objects a diagnosis read, written as one `kubectl get
//! -o yaml|json` style List for a ticket. Never holds Secrets (they are
//! never read); managedFields were dropped when reading.

use crate::kinds;
use crate::snapshot::Snapshot;
use anyhow::Result;

/// The snapshot's objects as a `v1` `List`, in YAML or JSON.
pub fn render(snap: &Snapshot, json: bool) -> Result<String> {
    let mut items = Vec::new();
    for kind in kinds::ALL {
        items.extend(kind.encode(&snap.objects)?);
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    Ok(if json {
        let mut s = serde_json::to_string_pretty(&list)?;
        s.push('\n');
        s
    } else {
        serde_yaml_ng::to_string(&list)?
    })
}
