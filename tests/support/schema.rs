//! The JSON Schema (2020-12) of the `-o json` report, published as
//! `docs/report.schema.json`, and a validator for the keywords it uses.
//!
//! The schema is generated here: rule ids from the registry (`RULES`) and
//! link names from `Link::ALL`, so it lists exactly what this build may
//! print. Its objects do not forbid other properties: within
//! `storage-doctor/v1` fields may be added, and a reader validating with an
//! older schema keeps working. The tests check reports more strictly, with
//! every property declared.

use kubectl_storage_doctor::model::{Confidence, Link, Severity};
use kubectl_storage_doctor::report::API_VERSION;
use kubectl_storage_doctor::rules::RULES;
use serde_json::{json, Value};

/// Where the schema is published.
pub const SCHEMA_ID: &str =
    "https://github.com/storage-doctor/kubectl-storage-doctor/blob/main/docs/report.schema.json";

/// The schema as a JSON value.
pub fn json_schema() -> Value {
    let rules: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let links: Vec<&str> = Link::ALL.iter().map(|l| l.as_str()).collect();
    let severities: Vec<&str> = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect();
    let confidences: Vec<&str> = [Confidence::Low, Confidence::Medium, Confidence::High]
        .iter()
        .map(|c| c.as_str())
        .collect();
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let count = json!({"type": "integer", "minimum": 0});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kubectl storage-doctor report (storage-doctor/v1)",
        "description": "What `kubectl storage-doctor -o json` prints (and `-o yaml`, the same document). Within storage-doctor/v1 fields, rule ids and link names may be added; no field is renamed, retyped or given another meaning.",
        "type": "object",
        "required": ["apiVersion", "source", "scope", "summary", "gaps", "findings"],
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "source": {"$ref": "#/$defs/source"},
            "scope": {"$ref": "#/$defs/scope"},
            "summary": {"$ref": "#/$defs/summary"},
            "gaps": {
                "description": "What could not be read; the diagnosis is less certain where it needed these.",
                "type": "array",
                "items": {"$ref": "#/$defs/gap"}
            },
            "findings": {
                "description": "One per subject with at least one cause, most urgent first.",
                "type": "array",
                "items": {"$ref": "#/$defs/finding"}
            },
            "healthy": {
                "description": "Subjects with no finding; only with --show-healthy.",
                "type": "array",
                "items": {"$ref": "#/$defs/objectRef"}
            }
        },
        "$defs": {
            "source": {
                "description": "Where the state came from.",
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"enum": ["live", "dump"]},
                    "context": {"type": "string", "description": "live: the kubeconfig context"},
                    "server": {"type": "string", "description": "live: the API server URL, without credentials"},
                    "serverVersion": {"type": "string", "description": "live: the server's version"},
                    "paths": {"type": "array", "items": {"type": "string"}, "description": "dump: the files and folders read"},
                    "capturedAt": {"type": "string", "description": "dump: the newest moment the capture shows (RFC 3339)"}
                }
            },
            "scope": {
                "type": "object",
                "required": ["namespaces", "allNamespaces", "targets"],
                "properties": {
                    "namespaces": strings,
                    "allNamespaces": {"type": "boolean"},
                    "targets": {"type": "array", "items": {"type": "string"}, "description": "TYPE/NAME, as given"}
                }
            },
            "summary": {
                "description": "Counts over every subject diagnosed.",
                "type": "object",
                "required": ["subjects", "broken", "warnings", "info", "healthy"],
                "properties": {
                    "subjects": count,
                    "broken": count,
                    "warnings": count,
                    "info": count,
                    "healthy": count
                }
            },
            "gap": {
                "type": "object",
                "required": ["resource", "reason", "message"],
                "properties": {
                    "resource": {"type": "string", "description": "The resource as the API names it, e.g. storageclasses"},
                    "reason": {"type": "string", "description": "e.g. Forbidden, NotFound, NotInstalled, NotCaptured, InvalidObject, Truncated"},
                    "message": {"type": "string"}
                }
            },
            "objectRef": {
                "type": "object",
                "required": ["kind", "name"],
                "properties": {
                    "kind": {"type": "string"},
                    "namespace": {"type": "string", "description": "absent for cluster-scoped objects"},
                    "name": {"type": "string"}
                }
            },
            "severity": {"enum": severities},
            "finding": {
                "type": "object",
                "required": ["subject", "severity", "status", "chain", "causes"],
                "properties": {
                    "subject": {"$ref": "#/$defs/objectRef"},
                    "severity": {"$ref": "#/$defs/severity"},
                    "status": {"type": "string"},
                    "chain": {
                        "description": "The objects from the subject down, each with its state.",
                        "type": "array",
                        "items": {"$ref": "#/$defs/chainLink"}
                    },
                    "causes": {
                        "description": "Ranked from 1, the most likely root cause.",
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/$defs/cause"}
                    },
                    "volumes": {
                        "description": "A pod's volumes, healthy ones included, with their fill when --usage read it.",
                        "type": "array",
                        "items": {"$ref": "#/$defs/volume"}
                    },
                    "replicas": {
                        "description": "Pods of one workload with this same finding (the same causes but for the pod's name, ages and event counts), reported once: subject is the first of them, and its chain and evidence stand for all.",
                        "type": "object",
                        "required": ["owner", "count", "pods"],
                        "properties": {
                            "owner": {"$ref": "#/$defs/objectRef"},
                            "count": {"type": "integer", "minimum": 2},
                            "pods": {"type": "array", "minItems": 2, "items": {"type": "string"}}
                        }
                    },
                    "nodes": {
                        "description": "For a pod the scheduler has not placed: every node, whether the pod's volumes allow it and what else rules it out, one row per group of identical nodes, the nodes the volumes allow first.",
                        "type": "array",
                        "items": {"$ref": "#/$defs/nodeRow"}
                    },
                    "nodesOmitted": {"type": "integer", "minimum": 1, "description": "Nodes in further rows, left out to keep nodes short."}
                }
            },
            "nodeRow": {
                "type": "object",
                "required": ["name", "count", "volumesAllow"],
                "properties": {
                    "name": {"type": "string", "description": "The first node of the row, by name"},
                    "count": {"type": "integer", "minimum": 1, "description": "How many nodes the row stands for"},
                    "others": {"type": "array", "items": {"type": "string"}, "description": "A few more nodes of the row"},
                    "volumesAllow": {"type": "boolean", "description": "Whether the pod's volumes may be used on these nodes"},
                    "volumeReasons": {"type": "array", "items": {"type": "string"}, "description": "Why the volumes do not allow them: node affinity, allowedTopologies, the driver's registration, attach limit or node plugin"},
                    "ruledOutBy": {"type": "array", "items": {"type": "string"}, "description": "What else rules them out: the pod's placement rules, taints, cordon, NotReady, and what the scheduler counts"}
                }
            },
            "volume": {
                "type": "object",
                "required": ["name", "kind"],
                "properties": {
                    "name": {"type": "string"},
                    "kind": {"type": "string", "description": "As the pod spec names it: persistentVolumeClaim, configMap, emptyDir ..."},
                    "claim": {"type": "string"},
                    "mounts": {"type": "array", "items": {"type": "string", "description": "container:path"}},
                    "volumeMode": {"type": "string", "description": "Block for a raw block device, which has no file-system usage"},
                    "usage": {
                        "type": "object",
                        "properties": {
                            "usedBytes": {"type": ["integer", "null"]},
                            "capacityBytes": {"type": ["integer", "null"]},
                            "inodesUsed": {"type": ["integer", "null"]},
                            "inodes": {"type": ["integer", "null"]}
                        }
                    },
                    "usageNote": {"type": "string"}
                }
            },
            "chainLink": {
                "type": "object",
                "required": ["kind", "name", "state", "ok"],
                "properties": {
                    "kind": {"type": "string"},
                    "namespace": {"type": "string"},
                    "name": {"type": "string"},
                    "state": {"type": "string"},
                    "ok": {"type": "boolean"}
                }
            },
            "cause": {
                "type": "object",
                "required": ["rank", "rule", "link", "severity", "confidence", "objects", "summary", "evidence", "fix"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 1},
                    "rule": {
                        "description": "The rule id; `kubectl storage-doctor explain RULE` prints its runbook.",
                        "enum": rules
                    },
                    "link": {"enum": links},
                    "severity": {"$ref": "#/$defs/severity"},
                    "confidence": {"enum": confidences},
                    "objects": {"type": "array", "items": {"$ref": "#/$defs/objectRef"}},
                    "summary": {"type": "string"},
                    "evidence": strings,
                    "fix": strings
                }
            }
        }
    })
}

/// The schema as published: pretty JSON ending in a newline.
pub fn text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("schema serializes");
    s.push('\n');
    s
}

/// Checks `doc` against `schema` (the subset of JSON Schema 2020-12 the
/// report schema uses; any other keyword is a panic, so nothing in the
/// schema goes unchecked). With `strict`, a property the schema does not
/// declare is an error too. Returns the problems, each with its JSON path.
pub fn validate(schema: &Value, doc: &Value, strict: bool) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, schema, doc, "$", strict, &mut problems);
    problems
}

fn check(root: &Value, node: &Value, doc: &Value, path: &str, strict: bool, out: &mut Vec<String>) {
    let node = node.as_object().expect("a schema is an object");
    for (key, want) in node {
        match key.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let name = want
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .unwrap_or_else(|| panic!("unsupported $ref {want}"));
                let target = &root["$defs"][name];
                assert!(!target.is_null(), "$ref to a missing definition {name}");
                check(root, target, doc, path, strict, out);
            }
            "type" => {
                let is = |name: &str| match name {
                    "object" => doc.is_object(),
                    "array" => doc.is_array(),
                    "string" => doc.is_string(),
                    "boolean" => doc.is_boolean(),
                    "integer" => doc.is_u64() || doc.is_i64(),
                    "number" => doc.is_number(),
                    "null" => doc.is_null(),
                    other => panic!("unsupported type {other}"),
                };
                let ok = match want {
                    Value::Array(names) => names
                        .iter()
                        .any(|n| is(n.as_str().expect("type names are strings"))),
                    _ => is(want.as_str().expect("type is a string or a list of them")),
                };
                if !ok {
                    out.push(format!("{path}: not of type {want}: {doc}"));
                }
            }
            "const" => {
                if doc != want {
                    out.push(format!("{path}: {doc} is not {want}"));
                }
            }
            "enum" => {
                if !want.as_array().expect("enum is an array").contains(doc) {
                    out.push(format!("{path}: {doc} is not one of {want}"));
                }
            }
            "minimum" => {
                let min = want.as_f64().expect("minimum is a number");
                if doc.as_f64().is_some_and(|n| n < min) {
                    out.push(format!("{path}: {doc} is below {min}"));
                }
            }
            "minItems" => {
                let min = want.as_u64().expect("minItems is a number") as usize;
                if doc.as_array().is_some_and(|a| a.len() < min) {
                    out.push(format!("{path}: fewer than {min} item(s)"));
                }
            }
            "required" => {
                if let Some(obj) = doc.as_object() {
                    for name in want.as_array().expect("required is an array") {
                        let name = name.as_str().expect("a property name");
                        if !obj.contains_key(name) {
                            out.push(format!("{path}: lacks {name}"));
                        }
                    }
                }
            }
            "properties" => {
                let props = want.as_object().expect("properties is an object");
                if let Some(obj) = doc.as_object() {
                    for (name, value) in obj {
                        match props.get(name) {
                            Some(sub) => {
                                check(root, sub, value, &format!("{path}.{name}"), strict, out)
                            }
                            None if strict => {
                                out.push(format!("{path}: undeclared property {name}"))
                            }
                            None => {}
                        }
                    }
                }
            }
            "items" => {
                if let Some(items) = doc.as_array() {
                    for (i, item) in items.iter().enumerate() {
                        check(root, want, item, &format!("{path}[{i}]"), strict, out);
                    }
                }
            }
            other => panic!("the validator does not know the keyword {other}"),
        }
    }
}
