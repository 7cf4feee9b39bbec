//! `collect`: the objects a diagnosis read, written as one `kubectl get
//! -o yaml|json` style List for a ticket. Never holds Secrets (they are
//! never read); managedFields were dropped when reading; credentials in
//! environment values, arguments, annotations and class or volume
//! parameters are redacted unless asked not to ([`super::redact`]).

use super::redact;
use crate::kinds;
use crate::snapshot::Snapshot;
use anyhow::Result;

/// What `collect` writes.
pub struct Collected {
    pub text: String,
    /// How many values were redacted.
    pub redacted: usize,
}

/// The snapshot's objects as a `v1` `List`, in YAML or JSON; with `redact`,
/// credentials replaced by `REDACTED`.
pub fn render(snap: &Snapshot, json: bool, redact: bool) -> Result<Collected> {
    let mut items = Vec::new();
    for kind in kinds::ALL {
        items.extend(kind.encode(&snap.objects)?);
    }
    let mut redacted = 0;
    if redact {
        for item in &mut items {
            redacted += redact::object(item);
        }
    }
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    let text = if json {
        let mut s = serde_json::to_string_pretty(&list)?;
        s.push('\n');
        s
    } else {
        serde_yaml_ng::to_string(&list)?
    };
    Ok(Collected { text, redacted })
}
