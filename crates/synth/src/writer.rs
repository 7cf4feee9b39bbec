//! Output: one `List`, items streamed as they are built.

use crate::Counts;
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Pod,
    Claim,
    Volume,
    Node,
    Event,
    Attachment,
    Other,
}

pub(crate) struct Out<W: Write> {
    w: W,
    pretty: bool,
    /// Leave out the fields only a server sets.
    pub(crate) strip: bool,
    buf: Vec<u8>,
    pub(crate) counts: Counts,
}

/// Removes what only the API server sets, so the object can be created.
fn strip_server_fields(v: &mut Value) {
    let kind = v["kind"].as_str().unwrap_or_default().to_string();
    let phase = v["status"]["phase"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["uid", "resourceVersion", "managedFields", "ownerReferences"] {
            meta.remove(key);
        }
        // A created claim gets a new uid, which the claimRef of its volume
        // cannot name: marked bind-completed, the PV controller would call
        // the pair misbound and the claim Lost. Without the marks it binds
        // the pre-bound pair again. A Lost claim keeps them: its volume is
        // gone, and the controller finds it Lost again.
        if kind == "PersistentVolumeClaim" && phase == "Bound" {
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove("pv.kubernetes.io/bind-completed");
                annotations.remove("pv.kubernetes.io/bound-by-controller");
            }
        }
    }
    if let Some(reference) = v
        .pointer_mut("/involvedObject")
        .and_then(Value::as_object_mut)
    {
        reference.remove("uid");
        reference.remove("resourceVersion");
    }
    if let Some(reference) = v
        .pointer_mut("/spec/claimRef")
        .and_then(Value::as_object_mut)
    {
        reference.remove("resourceVersion");
        // The claim of a Released volume was deleted: its uid (a spec
        // field) is what makes the PV controller find the volume Released
        // rather than reserved for a claim yet to come.
        if phase != "Released" {
            reference.remove("uid");
        }
    }
}

impl<W: Write> Out<W> {
    pub(crate) fn new(w: W, pretty: bool) -> Self {
        Out {
            w,
            pretty,
            strip: false,
            buf: Vec::new(),
            counts: Counts::default(),
        }
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.counts.bytes += bytes.len() as u64;
        self.w.write_all(bytes)
    }

    pub(crate) fn begin(&mut self) -> io::Result<()> {
        if self.pretty {
            self.raw(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
        } else {
            self.raw(b"{\"apiVersion\":\"v1\",\"items\":[")
        }
    }

    pub(crate) fn end(&mut self) -> io::Result<()> {
        if self.pretty {
            self.raw(b"\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")?;
        } else {
            self.raw(b"],\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}\n")?;
        }
        self.w.flush()
    }

    pub(crate) fn item(&mut self, kind: Kind, v: &Value) -> io::Result<()> {
        let first = self.counts.objects() == 0;
        let c = &mut self.counts;
        match kind {
            Kind::Pod => c.pods += 1,
            Kind::Claim => c.claims += 1,
            Kind::Volume => c.volumes += 1,
            Kind::Node => c.nodes += 1,
            Kind::Event => c.events += 1,
            Kind::Attachment => c.attachments += 1,
            Kind::Other => c.other += 1,
        }
        let stripped;
        let v = if self.strip {
            let mut copy = v.clone();
            strip_server_fields(&mut copy);
            stripped = copy;
            &stripped
        } else {
            v
        };
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if self.pretty {
            if !first {
                self.raw(b",\n")?;
            }
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            v.serialize(&mut ser).map_err(io::Error::other)?;
            // Items sit two levels deep in the List.
            self.raw(b"        ")?;
            for (i, line) in buf.split(|&b| b == b'\n').enumerate() {
                if i > 0 {
                    self.raw(b"\n        ")?;
                }
                self.raw(line)?;
            }
        } else {
            if !first {
                self.raw(b",")?;
            }
            serde_json::to_writer(&mut buf, v).map_err(io::Error::other)?;
            self.raw(&buf)?;
        }
        self.buf = buf;
        Ok(())
    }
}
