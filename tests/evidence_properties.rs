//! Properties of the readers of what workloads and kubelets say: the
//! container-message classifiers (`volume_errors`) and the kubelet's stats
//! summary (`source::node_stats`), on any text and any JSON.
//!
//! - totality: no input makes them panic;
//! - what they return is in the input: paths and names are substrings of
//!   the message, numbers are the document's own (a count the document
//!   does not give is never made up, a fill never comes from one);
//! - each wording is found wherever it stands in other text;
//! - round trips: usage and log tails written by `collect` read back the
//!   same through `--from`, in JSON and YAML.
//!
//! `PROPTEST_CASES=10000 cargo test --release --test evidence_properties`
//! searches further.

use kubectl_storage_doctor::snapshot::{
    ContainerLog, NodeEvidence, Objects, Snapshot, VolumeUsage,
};
use kubectl_storage_doctor::source::dump::{self, Input};
use kubectl_storage_doctor::source::{collect, node_stats};
use kubectl_storage_doctor::volume_errors::{self, FsError, MissingSource};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Every error and one of its wordings, as glibc capitalises it.
const WORDINGS: &[(FsError, &str)] = &[
    (FsError::PermissionDenied, "Permission denied"),
    (FsError::PermissionDenied, "Operation not permitted"),
    (FsError::ReadOnly, "Read-only file system"),
    (FsError::NoSpace, "No space left on device"),
    (FsError::Quota, "Disk quota exceeded"),
    (FsError::Io, "Input/output error"),
    (FsError::Stale, "Stale file handle"),
    (FsError::NotConnected, "Transport endpoint is not connected"),
];

/// Any text, or text made of the pieces the classifiers look for, so that
/// near-misses (a quote left open, a prefix cut short) come up often.
fn message() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "[ -~]{0,12}",
        Just("configmap \"".to_string()),
        Just("secrets \"".to_string()),
        Just("\" not found".to_string()),
        Just("for volume \"".to_string()),
        Just("references non-existent config key:".to_string()),
        Just("hostPath type check failed: ".to_string()),
        Just("hostPath ".to_string()),
        Just(" doesn't exist".to_string()),
        Just("failed to prepare subPath for volumeMount \"".to_string()),
        Just("unmounted volumes=[".to_string()),
        Just("]".to_string()),
        Just("/".to_string()),
        Just("'/data/db/".to_string()),
        Just("\"".to_string()),
        Just("é".to_string()),
        Just("EIO:".to_string()),
        Just("errno 28".to_string()),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|p| p.concat())
}

/// Text that holds no quote and no wording of its own: what surrounds a
/// wording in the round-trip properties.
fn plain() -> impl Strategy<Value = String> {
    "[a-z0-9 .:_-]{0,24}"
}

/// A name as a message quotes it: no quote, no space.
fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9.-]{0,20}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_message_makes_a_classifier_panic(text in message()) {
        let errors = volume_errors::fs_errors(&text);
        // Each error once, in the order of the enum.
        prop_assert!(errors.windows(2).all(|w| w[0] < w[1]), "{:?}", errors);
        for path in volume_errors::paths(&text) {
            prop_assert!(text.contains(path));
            prop_assert!(path.starts_with('/') && path.len() > 1 && !path.starts_with("//"));
            prop_assert!(!path.contains(char::is_whitespace) && !path.contains(['"', '\'']));
        }
        if let Some(v) = volume_errors::named_volume(&text) {
            prop_assert!(!v.is_empty() && text.contains(v) && !v.contains('"'));
        }
        for v in volume_errors::listed_volumes(&text, "unmounted volumes") {
            prop_assert!(text.contains(v));
        }
        match volume_errors::missing_source(&text) {
            Some(MissingSource::ConfigMap(n) | MissingSource::Secret(n)) => {
                let quoted = format!("\"{n}\"");
                prop_assert!(text.contains(&quoted));
            }
            Some(MissingSource::Key { key, .. }) => prop_assert!(text.contains(&key)),
            Some(MissingSource::HostPath { path, .. }) => prop_assert!(text.contains(&path)),
            None => {}
        }
        if let Some(mount) = volume_errors::subpath_failure(&text) {
            prop_assert!(text.contains(mount));
        }
    }

    #[test]
    fn an_error_is_found_wherever_its_wording_stands(
        before in plain(),
        after in plain(),
        which in 0..WORDINGS.len(),
        lower in any::<bool>(),
        line_break in any::<bool>(),
    ) {
        let (error, wording) = WORDINGS[which];
        let wording = if lower { wording.to_lowercase() } else { wording.to_string() };
        let sep = if line_break { "\n" } else { ": " };
        let text = format!("{before}{sep}{wording}{sep}{after}");
        prop_assert!(volume_errors::fs_errors(&text).contains(&error), "{}", text);
    }

    #[test]
    fn a_quoted_path_is_read_without_its_quotes(
        before in plain(),
        dirs in prop::collection::vec("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,11}", 1..5),
        quote in prop::sample::select(vec!["'", "\"", "`", ""]),
        end in prop::sample::select(vec!["", ":", ".", ","]),
    ) {
        let path = format!("/{}", dirs.join("/"));
        let text = format!("{before} open {quote}{path}{quote}{end} failed");
        // A path that itself ends in a dot loses it, as a sentence would.
        let expected = path.trim_end_matches(['.', ':', ';', ',']);
        let found = volume_errors::paths(&text);
        prop_assert!(found.contains(&expected), "{:?} in {:?}", expected, found);
    }

    #[test]
    fn kubelet_wordings_give_back_the_name_they_quote(
        before in plain(),
        after in plain(),
        volume in name(),
        source in name(),
        mount in name(),
        plural in any::<bool>(),
    ) {
        let mount_error = format!(
            "{before}MountVolume.SetUp failed for volume \"{volume}\" : {} \"{source}\" not found{after}",
            if plural { "configmaps" } else { "configmap" }
        );
        prop_assert_eq!(volume_errors::named_volume(&mount_error), Some(volume.as_str()));
        prop_assert_eq!(
            volume_errors::missing_source(&mount_error),
            Some(MissingSource::ConfigMap(source.clone()))
        );
        let secret = format!("{before}secret \"{source}\" not found");
        prop_assert_eq!(
            volume_errors::missing_source(&secret),
            Some(MissingSource::Secret(source.clone()))
        );
        let subpath = format!(
            "{before}failed to prepare subPath for volumeMount \"{mount}\" of container \"app\"{after}"
        );
        prop_assert_eq!(volume_errors::subpath_failure(&subpath), Some(mount.as_str()));
    }
}

/// A count as a kubelet writes it, or something that is not one.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => any::<u64>().prop_map(Value::from),
        1 => (0u64..1000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => Just(Value::Null),
        1 => Just(json!("12Gi")),
        1 => Just(json!([1])),
        1 => Just(json!({"value": 1})),
    ]
}

/// JSON of any shape, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "node",
                    "nodeName",
                    "pods",
                    "podRef",
                    "name",
                    "namespace",
                    "volume",
                    "usedBytes",
                    "capacityBytes",
                    "inodesUsed",
                    "inodes",
                    "pvcRef",
                    "x",
                ])
                .prop_map(str::to_string),
                inner,
                0..4,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One volume entry of a summary: each field present or not.
fn volume_entry() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop_oneof![".{0,12}".prop_map(Value::from), Just(json!(7))]),
        [
            prop::option::of(count()),
            prop::option::of(count()),
            prop::option::of(count()),
            prop::option::of(count()),
        ],
        prop::option::of(prop::option::of(".{0,12}")),
    )
        .prop_map(|(name, counts, claim)| {
            let mut v = json!({});
            if let Some(n) = name {
                v["name"] = n;
            }
            for (key, c) in ["usedBytes", "capacityBytes", "inodesUsed", "inodes"]
                .into_iter()
                .zip(counts)
            {
                if let Some(c) = c {
                    v[key] = c;
                }
            }
            match claim {
                Some(Some(c)) => v["pvcRef"] = json!({"name": c, "namespace": "x"}),
                Some(None) => v["pvcRef"] = json!({}),
                None => {}
            }
            v
        })
}

/// A stats summary: pods with volume entries, and odd items among them.
fn summary() -> impl Strategy<Value = Value> {
    let pod = (
        prop::option::of(".{0,8}"),
        prop::option::of(".{0,8}"),
        prop::collection::vec(prop_oneof![8 => volume_entry(), 1 => any_json()], 0..5),
    )
        .prop_map(|(name, namespace, volume)| {
            json!({"podRef": {"name": name, "namespace": namespace}, "volume": volume})
        });
    prop::collection::vec(prop_oneof![8 => pod, 1 => any_json()], 0..5)
        .prop_map(|pods| json!({"node": {"nodeName": "node-1"}, "pods": pods}))
}

/// The document's entries of the pod volume a usage was read for.
fn entries_of<'d>(doc: &'d Value, u: &VolumeUsage) -> Vec<&'d Value> {
    let pods = doc["pods"].as_array().into_iter().flatten();
    pods.filter(|p| {
        p["podRef"]["name"].as_str() == Some(u.pod.as_str())
            && p["podRef"]["namespace"].as_str() == Some(u.namespace.as_str())
    })
    .flat_map(|p| p["volume"].as_array().into_iter().flatten())
    .filter(|v| v["name"].as_str() == Some(u.volume.as_str()))
    .collect()
}

/// Whether a reference is absent or an object of string names: a volume
/// entry whose `pvcRef` is of another shape is skipped as a whole.
fn well_formed_ref(r: Option<&Value>) -> bool {
    match r {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => ["name", "namespace"]
            .iter()
            .all(|k| matches!(m.get(*k), None | Some(Value::Null | Value::String(_)))),
        Some(_) => false,
    }
}

/// Usage and logs with distinct keys, as `Snapshot::with_evidence` keeps them.
fn evidence() -> impl Strategy<Value = NodeEvidence> {
    let usage = prop::collection::btree_map(
        ("[a-z0-9-]{1,6}", ".{0,8}", ".{0,8}", ".{1,8}"),
        (
            prop::option::of(".{0,8}"),
            [
                prop::option::of(any::<u64>()),
                prop::option::of(any::<u64>()),
                prop::option::of(any::<u64>()),
                prop::option::of(any::<u64>()),
            ],
        ),
        1..6,
    );
    let logs = prop::collection::btree_map(
        ("[a-z0-9-]{0,6}", "[a-z0-9-]{1,8}", ".{1,8}"),
        prop_oneof![any::<String>(), ".{0,40}\n.{0,40}\n"],
        0..4,
    );
    (usage, logs).prop_map(|(usage, logs)| NodeEvidence {
        usage: Some(
            usage
                .into_iter()
                .map(
                    |((node, namespace, pod, volume), (claim, [ub, cb, iu, i]))| VolumeUsage {
                        node,
                        namespace,
                        pod,
                        volume,
                        claim,
                        used_bytes: ub,
                        capacity_bytes: cb,
                        inodes_used: iu,
                        inodes: i,
                    },
                )
                .collect(),
        ),
        logs: Some(
            logs.into_iter()
                .map(|((namespace, pod, container), text)| ContainerLog {
                    namespace,
                    pod,
                    container,
                    text,
                })
                .collect(),
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_document_makes_the_stats_reader_panic(doc in any_json()) {
        if let Some(s) = node_stats::parse(doc) {
            for u in node_stats::volumes("n", &s) {
                prop_assert!(!u.volume.is_empty());
                if let Some((fill, _)) = u.fullest() {
                    prop_assert!(fill.is_finite() && fill >= 0.0);
                }
            }
        }
    }

    #[test]
    fn usage_holds_the_documents_numbers_and_no_others(doc in summary()) {
        let parsed = node_stats::parse(doc.clone()).expect("an object is a summary");
        let usage = node_stats::volumes("node-1", &parsed);
        let mut seen = BTreeSet::new();
        for u in &usage {
            prop_assert!(!u.volume.is_empty());
            prop_assert_eq!(u.node.as_str(), "node-1");
            seen.insert((u.namespace.clone(), u.pod.clone(), u.volume.clone()));
            // Each count is the document's non-negative integer, or nothing.
            let counts = [
                ("usedBytes", u.used_bytes),
                ("capacityBytes", u.capacity_bytes),
                ("inodesUsed", u.inodes_used),
                ("inodes", u.inodes),
            ];
            let from_entry = entries_of(&doc, u).into_iter().any(|entry| {
                counts
                    .iter()
                    .all(|(key, got)| *got == entry.get(*key).and_then(Value::as_u64))
            });
            prop_assert!(from_entry, "{:?} is no entry of {}", u, doc);
            match u.fullest() {
                Some((fill, "bytes")) => {
                    let (used, cap) = (u.used_bytes.unwrap(), u.capacity_bytes.unwrap());
                    prop_assert!(cap > 0);
                    prop_assert_eq!(fill, used as f64 / cap as f64);
                }
                Some((fill, "inodes")) => {
                    let (used, total) = (u.inodes_used.unwrap(), u.inodes.unwrap());
                    prop_assert!(total > 0);
                    prop_assert_eq!(fill, used as f64 / total as f64);
                }
                Some((_, other)) => prop_assert!(false, "unknown measure {}", other),
                None => {
                    let bytes = u.capacity_bytes.is_some_and(|c| c > 0) && u.used_bytes.is_some();
                    let inodes = u.inodes.is_some_and(|c| c > 0) && u.inodes_used.is_some();
                    prop_assert!(!bytes && !inodes);
                }
            }
        }
        // Every named volume of a pod with both names is read.
        for p in doc["pods"].as_array().into_iter().flatten() {
            let (Some(pod), Some(ns)) = (p["podRef"]["name"].as_str(), p["podRef"]["namespace"].as_str()) else {
                continue;
            };
            for v in p["volume"].as_array().into_iter().flatten() {
                let name = v["name"].as_str().filter(|n| !n.is_empty());
                if let Some(name) = name.filter(|_| well_formed_ref(v.get("pvcRef"))) {
                    prop_assert!(seen.contains(&(ns.to_string(), pod.to_string(), name.to_string())));
                }
            }
        }
    }

    #[test]
    fn collected_usage_and_logs_read_back_the_same(evidence in evidence(), json in any::<bool>()) {
        let snap = Snapshot::new(Objects::default(), Vec::new(), None).with_evidence(evidence);
        let written = collect::render(&snap, json, false).expect("collect renders").text;
        let read = dump::load(&[Input::Stdin], &mut written.as_bytes()).expect("collect's output reads back");
        prop_assert_eq!(read.snapshot.usage(), snap.usage());
        prop_assert_eq!(read.snapshot.logs(), snap.logs());
    }
}
