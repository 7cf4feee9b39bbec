//! Offline input: what people capture with `kubectl get -o json|yaml`
//! (single objects or `List`s), multi-document YAML, and folders such as the
//! one `kubectl cluster-info dump --output-directory` writes.

use crate::api::Event;
use crate::events::EventFilter;
use crate::kinds;
use crate::snapshot::{Gap, Objects, Snapshot};
use guard::{Budget, Guarded, Stop};
use k8s_openapi::api::core::v1::EventSource;
use serde::de::{DeserializeOwned, DeserializeSeed};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use stream::DocSeed;

mod guard;
mod slim;
mod stream;
mod uncaptured;
mod yaml_value;

pub use slim::Keep;
pub(super) use slim::LAST_APPLIED;
use uncaptured::uncaptured;

/// How many bytes all inputs of one load may hold together, unless told
/// otherwise (`--max-input-bytes`): far beyond any real capture, short of
/// filling memory.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// One `--from` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn parse(arg: &str) -> Self {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

/// Why input could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    // The I/O error is part of the message, not a cause: printed once.
    #[error("{path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path}: not a regular file (a FIFO, socket or device): pass a file or a folder, or - to read standard input")]
    NotRegular { path: String },
    #[error(
        "{path}: the input is larger than {limit} bytes in all: --max-input-bytes raises the limit"
    )]
    TooLarge { path: String, limit: u64 },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("no Kubernetes objects found in {0}")]
    NoObjects(String),
}

/// What was read, beside the snapshot itself.
#[derive(Debug)]
pub struct Loaded {
    pub snapshot: Snapshot,
    /// Objects of kinds the diagnosis does not use, by kind.
    pub skipped: BTreeMap<String, usize>,
    pub files: usize,
}

struct Collector {
    objects: Objects,
    /// Objects that did not decode, with the file and document they are in.
    invalid: Vec<(usize, usize, Gap)>,
    skipped: BTreeMap<String, usize>,
    files: usize,
    found: usize,
    /// Bytes left to read from every input together.
    budget: Budget,
    limit: u64,
    /// Folders read, by canonical path: a symlink back up is not followed twice.
    visited: BTreeSet<PathBuf>,
    /// `NodeStatsSummary` and `ContainerLog` items: what `--usage` and
    /// `--logs` read, as `collect` writes it.
    evidence: crate::snapshot::NodeEvidence,
    /// What is kept of each object.
    keep: Keep,
}

/// Reads every input into one snapshot for a diagnosis, every event
/// included, at most [`DEFAULT_MAX_BYTES`].
pub fn load(inputs: &[Input], stdin: &mut dyn Read) -> Result<Loaded, InputError> {
    load_with_limit(inputs, stdin, DEFAULT_MAX_BYTES, Keep::Diagnosis, None)
}

/// Reads every input into one snapshot, at most `limit` bytes in all,
/// keeping of each object what `keep` says and the events `events` keeps
/// (all when `None`), as a live read would.
pub fn load_with_limit(
    inputs: &[Input],
    stdin: &mut dyn Read,
    limit: u64,
    keep: Keep,
    events: Option<&EventFilter>,
) -> Result<Loaded, InputError> {
    let mut c = Collector {
        objects: Objects::default(),
        invalid: Vec::new(),
        skipped: BTreeMap::new(),
        files: 0,
        found: 0,
        budget: Budget::new(limit.into()),
        limit,
        visited: BTreeSet::new(),
        evidence: Default::default(),
        keep,
    };
    for input in inputs {
        match input {
            Input::Stdin => {
                let bytes = c.read_all("<stdin>", stdin)?;
                c.read_text("<stdin>", &bytes)?;
            }
            Input::Path(path) => c.read_path(path, true)?,
        }
    }
    if c.found == 0 {
        let names: Vec<String> = inputs
            .iter()
            .map(|i| match i {
                Input::Stdin => "<stdin>".to_string(),
                Input::Path(p) => p.display().to_string(),
            })
            .collect();
        return Err(InputError::NoObjects(names.join(", ")));
    }
    // The objects of one document (a List) may come in any order; the
    // report must not follow it.
    c.invalid
        .sort_by(|(f, d, a), (g, e, b)| (f, d, &a.message).cmp(&(g, e, &b.message)));
    let mut gaps: Vec<Gap> = c.invalid.into_iter().map(|(_, _, gap)| gap).collect();
    gaps.extend(uncaptured(&c.objects));
    Ok(Loaded {
        snapshot: Snapshot::captured(c.objects, gaps, jiff::Timestamp::now(), events)
            .with_evidence(c.evidence),
        skipped: c.skipped,
        files: c.files,
    })
}

/// The API group of the tool's own capture kinds (`storage-doctor/v1`).
pub const EVIDENCE_GROUP: &str = "storage-doctor";
/// A node's kubelet `/stats/summary`, under `summary`, named after the node.
pub const STATS_KIND: &str = "NodeStatsSummary";
/// The previous run's log tail of one container: `metadata` names the pod,
/// `container` and `log` hold the rest.
pub const LOG_KIND: &str = "ContainerLog";

/// The API resource name of a kind, as gaps name them.
fn resource_of(kind: &str) -> String {
    match kind {
        STATS_KIND => return "nodes/proxy".into(),
        LOG_KIND => return "pods/log".into(),
        _ => {}
    }
    kinds::by_kind(kind).map_or_else(|| kind.to_lowercase(), |k| k.resource.to_string())
}

fn is_capture_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

impl Collector {
    /// The error for a read the guard stopped, or the I/O error itself.
    fn read_error(&self, label: &str, stop: Option<Stop>, error: std::io::Error) -> InputError {
        let not_text = |what: String| InputError::Invalid {
            path: label.to_string(),
            message: format!("not a text file ({what}): expected kubectl JSON or YAML output"),
        };
        match stop {
            Some(Stop::TooLarge) => InputError::TooLarge {
                path: label.to_string(),
                limit: self.limit,
            },
            Some(Stop::Nul(at)) => not_text(format!("a NUL byte at byte {at}")),
            Some(Stop::NotUtf8(at)) => not_text(format!("invalid UTF-8 at byte {at}")),
            None => InputError::Read {
                path: label.to_string(),
                error,
            },
        }
    }

    /// Every byte of `reader`, within the budget and only while it is text.
    fn read_all(&self, label: &str, reader: &mut dyn Read) -> Result<Vec<u8>, InputError> {
        let mut guarded = Guarded::new(reader, self.budget.clone());
        let stop = guarded.stop();
        let mut bytes = Vec::new();
        guarded
            .read_to_end(&mut bytes)
            .map_err(|e| self.read_error(label, stop.get(), e))?;
        Ok(bytes)
    }

    fn read_path(&mut self, path: &Path, explicit: bool) -> Result<(), InputError> {
        let label = path.display().to_string();
        let io_error = |error| InputError::Read {
            path: label.clone(),
            error,
        };
        // Symlinks are followed: what counts is what they point to.
        let meta = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if explicit => return Err(io_error(e)),
            // A dangling symlink or a loop of them inside a folder.
            Err(_) => return Ok(()),
        };
        if meta.is_dir() {
            let canonical = std::fs::canonicalize(path).map_err(io_error)?;
            if !self.visited.insert(canonical) {
                return Ok(());
            }
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .and_then(|dir| dir.map(|e| e.map(|e| e.path())).collect())
                .map_err(io_error)?;
            entries.sort();
            for entry in entries {
                self.read_path(&entry, false)?;
            }
            return Ok(());
        }
        // FIFOs, sockets and devices: never opened from a folder, and
        // refused when named (they can block or never end; - streams).
        if !meta.is_file() {
            return if explicit {
                Err(InputError::NotRegular { path: label })
            } else {
                Ok(())
            };
        }
        if !explicit && !is_capture_file(path) {
            return Ok(());
        }
        let file = std::fs::File::open(path).map_err(io_error)?;
        let guarded = Guarded::new(file, self.budget.clone());
        let stop = guarded.stop();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, guarded);
        // JSON is parsed straight from the file: neither the text nor the
        // whole list is ever held in memory, only the objects decoded.
        let head = match std::io::BufRead::fill_buf(&mut reader) {
            Ok(head) => head,
            Err(e) => return Err(self.read_error(&label, stop.get(), e)),
        };
        let bom = head.starts_with("\u{feff}".as_bytes());
        let json = head[if bom { 3 } else { 0 }..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
        if json {
            if bom {
                std::io::BufRead::consume(&mut reader, 3);
            }
            self.files += 1;
            let streamed = self.stream_json(&label, serde_json::Deserializer::from_reader(reader));
            return match (streamed, stop.get()) {
                (Err(_), Some(stop)) => {
                    Err(self.read_error(&label, Some(stop), std::io::Error::other("input refused")))
                }
                (result, _) => result,
            };
        }
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            return Err(self.read_error(&label, stop.get(), e));
        }
        self.read_text(&label, &bytes)
    }

    fn read_text(&mut self, label: &str, bytes: &[u8]) -> Result<(), InputError> {
        self.files += 1;
        let text = std::str::from_utf8(bytes).map_err(|e| InputError::Invalid {
            path: label.to_string(),
            message: format!(
                "not a text file (invalid UTF-8 at byte {}): expected kubectl JSON or YAML output",
                e.valid_up_to()
            ),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with(['{', '[']) {
            return self.stream_json(label, serde_json::Deserializer::from_str(text));
        }
        let docs = documents(label, text)?;
        let last = docs.len();
        let ends_mid_line = !text.is_empty() && !text.ends_with('\n');
        for (n, doc) in docs.into_iter().enumerate() {
            if looks_cut(&doc, n + 1 == last && ends_mid_line) {
                self.invalid.push((
                    self.files,
                    n + 1,
                    Gap {
                        resource: "list".into(),
                        reason: "Truncated".into(),
                        message: format!(
                            "{label}: document {}: the List looks cut (no `kind` after its items, or the text ends in the middle of a line): the objects after the cut are missing; capture it again",
                            n + 1
                        ),
                    },
                ));
            }
            self.add_value(label, n + 1, doc, None);
        }
        Ok(())
    }

    /// JSON documents, the items of a `List` decoded one at a time as they
    /// are parsed: the whole list never exists as one `Value` tree (3× the
    /// text in memory).
    fn stream_json<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        label: &str,
        mut de: serde_json::Deserializer<R>,
    ) -> Result<(), InputError> {
        let mut doc = 0;
        while de.end().is_err() {
            doc += 1;
            DocSeed {
                c: self,
                label,
                doc,
            }
            .deserialize(&mut de)
            .map_err(|e| InputError::Syntax {
                path: label.to_string(),
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            })?;
        }
        Ok(())
    }

    /// Adds one document: an object, a list of objects, or a JSON array.
    fn add_value(
        &mut self,
        label: &str,
        doc: usize,
        value: Value,
        inherited: Option<(&str, &str)>,
    ) {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for item in items {
                    self.add_value(label, doc, item, inherited);
                }
            }
            Value::Object(mut map) => {
                let kind = map.get("kind").and_then(Value::as_str).map(str::to_string);
                let api_version = map
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(Value::Array(items)) = map.remove("items") {
                    // Typed lists (`PodList`, as cluster-info dump writes) omit
                    // kind and apiVersion on their items.
                    let item_kind = kind
                        .as_deref()
                        .and_then(|k| k.strip_suffix("List"))
                        .filter(|k| !k.is_empty());
                    let item_api = api_version.as_deref().unwrap_or("v1");
                    for item in items {
                        self.add_value(label, doc, item, item_kind.map(|k| (item_api, k)));
                    }
                    return;
                }
                let (api_version, kind) = match (api_version, kind, inherited) {
                    (a, Some(k), _) => (a.unwrap_or_default(), k),
                    (_, None, Some((a, k))) => (a.to_string(), k.to_string()),
                    (_, None, None) => {
                        self.invalid(label, doc, "?", "an object without `kind`".into());
                        return;
                    }
                };
                slim::trim(&mut map, self.keep);
                self.add_object(label, doc, &api_version, &kind, Value::Object(map));
            }
            other => self.invalid(
                label,
                doc,
                "?",
                format!("expected an object or a list, found {}", type_name(&other)),
            ),
        }
    }

    fn add_object(
        &mut self,
        label: &str,
        doc: usize,
        api_version: &str,
        kind: &str,
        mut value: Value,
    ) {
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        // Older versions of a kind (storage.k8s.io/v1beta1, batch/v1beta1)
        // have the shape of the version decoded into, which checks these.
        if let Value::Object(map) = &mut value {
            map.remove("apiVersion");
            map.remove("kind");
        }
        if group == EVIDENCE_GROUP {
            return self.add_evidence(label, doc, kind, value);
        }
        let o = &mut self.objects;
        let result = if (group, kind) == ("events.k8s.io", "Event") {
            decode::<k8s_openapi::api::events::v1::Event>(value)
                .map(|e| o.events.push(core_event(e)))
        } else if let Some(k) = kinds::find(group, kind) {
            let name = object_name(&value);
            k.decode_into(o, value)
                .map_err(|e| (name, decode_error_text(e)))
        } else {
            *self.skipped.entry(kind.to_string()).or_default() += 1;
            return;
        };
        match result {
            Ok(()) => self.found += 1,
            Err((name, err)) => self.invalid(label, doc, &format!("{kind} {name}"), err),
        }
    }

    /// An item of the tool's own kinds: a node's stats summary or a
    /// container's log tail.
    fn add_evidence(&mut self, label: &str, doc: usize, kind: &str, value: Value) {
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match kind {
            STATS_KIND => {
                let parsed = value
                    .get("summary")
                    .cloned()
                    .and_then(crate::source::node_stats::parse);
                let Some(summary) = parsed else {
                    return self.invalid(
                        label,
                        doc,
                        &format!("{kind} {name}"),
                        "no `summary` holding a kubelet stats summary".into(),
                    );
                };
                let node = if name.is_empty() {
                    summary.node.node_name.clone().unwrap_or_default()
                } else {
                    name
                };
                let volumes = crate::source::node_stats::volumes(&node, &summary);
                self.evidence
                    .usage
                    .get_or_insert_with(Vec::new)
                    .extend(volumes);
                self.found += 1;
            }
            LOG_KIND => {
                let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
                let namespace = value
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_string();
                match (text("container"), text("log")) {
                    (Some(container), Some(log)) if !name.is_empty() => {
                        self.evidence.logs.get_or_insert_with(Vec::new).push(
                            crate::snapshot::ContainerLog {
                                namespace,
                                pod: name,
                                container,
                                text: log,
                            },
                        );
                        self.found += 1;
                    }
                    _ => self.invalid(
                        label,
                        doc,
                        &format!("{kind} {name}"),
                        "a ContainerLog needs metadata.name (the pod), `container` and `log`"
                            .into(),
                    ),
                }
            }
            _ => *self.skipped.entry(kind.to_string()).or_default() += 1,
        }
    }

    fn invalid(&mut self, label: &str, doc: usize, what: &str, message: String) {
        let gap = Gap {
            resource: resource_of(what.split(' ').next().unwrap_or("?")),
            reason: "InvalidObject".into(),
            message: format!("{label}: document {doc}: {what}: {message}"),
        };
        self.invalid.push((self.files, doc, gap));
    }
}

/// A YAML `List` that lost its tail: kubectl writes `kind: List` and
/// `metadata` after the items, so a list without its kind was cut, and so
/// was one whose text ends in the middle of a line.
fn looks_cut(doc: &Value, ends_mid_line: bool) -> bool {
    let Value::Object(map) = doc else {
        return false;
    };
    matches!(map.get("items"), Some(Value::Array(_)))
        && (ends_mid_line || (!map.contains_key("kind") && map.contains_key("apiVersion")))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn object_name(value: &Value) -> String {
    let meta = value.get("metadata");
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str);
    match (get("namespace"), get("name")) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n.to_string(),
        _ => "(unnamed)".to_string(),
    }
}

fn decode<T: DeserializeOwned>(value: Value) -> Result<T, (String, String)> {
    let name = object_name(&value);
    serde_path_to_error::deserialize(value).map_err(|e| (name, decode_error_text(e)))
}

/// The path (`spec.containers[0].name`) says what is wrong, not only how.
fn decode_error_text(e: kinds::DecodeError) -> String {
    let path = e.path().to_string();
    let inner = e.into_inner();
    format!("{path}: {inner}")
}

/// The documents of a file: JSON (one or several values) or multi-document YAML.
fn documents(label: &str, text: &str) -> Result<Vec<Value>, InputError> {
    let syntax = |line: usize, column: usize, message: String| InputError::Syntax {
        path: label.to_string(),
        line,
        column,
        message,
    };
    if text.trim_start().starts_with(['{', '[']) {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Value>()
            .map(|r| {
                r.map_err(|e| {
                    let message = strip_position(&e.to_string());
                    syntax(e.line(), e.column(), message)
                })
            })
            .collect()
    } else {
        serde_yaml_ng::Deserializer::from_str(text)
            .map(|doc| {
                yaml_value::YamlValue.deserialize(doc).map_err(|e| {
                    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                    syntax(line, column, strip_position(&e.to_string()))
                })
            })
            .collect()
    }
}

/// serde errors end with ` at line L column C`; the position is shown apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// events.k8s.io/v1 events carry the same facts under other names.
fn core_event(e: k8s_openapi::api::events::v1::Event) -> Event {
    Event {
        metadata: e.metadata,
        involved_object: e.regarding.unwrap_or_default(),
        related: e.related.map(Box::new),
        reason: e.reason,
        message: e.note,
        type_: e.type_,
        action: e.action,
        count: e.deprecated_count,
        first_timestamp: e.deprecated_first_timestamp,
        last_timestamp: e.deprecated_last_timestamp,
        event_time: e.event_time,
        series: e.series.map(|s| {
            Box::new(k8s_openapi::api::core::v1::EventSeries {
                count: Some(s.count),
                last_observed_time: Some(s.last_observed_time),
            })
        }),
        source: e.deprecated_source.or_else(|| {
            e.reporting_controller.clone().map(|c| EventSource {
                component: Some(c),
                host: None,
            })
        }),
        reporting_component: e.reporting_controller,
        reporting_instance: e.reporting_instance,
    }
}

#[cfg(test)]
mod tests;
