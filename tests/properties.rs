//! Properties of the whole pipeline on generated clusters
//! (`storage_doctor_synth` at small sizes and random seeds),
//! mangled the way real captures are: fields missing, absurd values, random
//! text (any Unicode) in names and messages, objects read twice, any order.
//!
//! - totality: every such input gives a report in every output format;
//! - determinism: the same input gives the same bytes twice;
//! - order: the order of the objects in the input does not change the report.
//!
//! Kept fast for CI; `PROPTEST_CASES=1000 cargo test --release --test
//! properties` searches further.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use storage_doctor_synth::{self as synth, Config, Size};

mod support;

/// A small generated cluster, as one compact JSON `List`.
fn cluster() -> impl Strategy<Value = Value> {
    (
        (1usize..24, 1usize..12, 1usize..12, 3usize..6, 1usize..32),
        (
            any::<u64>(),
            0usize..=1000,
            0usize..3,
            1usize..24,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (pods, claims, volumes, nodes, events),
                (seed, broken, storms, storm_events, managed),
            )| {
                let mut cfg = Config::new(Size {
                    pods,
                    claims,
                    volumes,
                    nodes,
                    events,
                });
                cfg.seed = seed;
                cfg.broken_per_mille = broken;
                cfg.storms = storms;
                cfg.storm_events = storm_events;
                cfg.managed_fields = managed;
                cfg.pretty = false;
                let (text, _) = synth::to_string(&cfg);
                serde_json::from_str(&text).expect("the generator writes JSON")
            },
        )
}

/// Values no object should hold.
fn absurd() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e308)),
        Just(json!("")),
        Just(json!("9999-12-31T23:59:59Z")),
        Just(json!("0001-01-01T00:00:00Z")),
        Just(json!("1e400Gi")),
        Just(json!("-5Gi")),
        Just(json!([])),
        Just(json!({})),
        Just(json!(true)),
        text().prop_map(Value::from),
    ]
}

/// Names, messages: plausible, or anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9.-]{0,30}",
        any::<String>(),
        "\\PC{0,400}",
        Just("\u{feff}\u{202e}🦀 ünïcödé\t\r\n\"quoted\" ' | ` *".to_string()),
    ]
}

/// One change to one object of the input.
#[derive(Debug, Clone)]
enum Mutation {
    /// A field (or list element) of the object is left out.
    Remove { item: Index, at: Index },
    /// A value of the object is replaced with an absurd one.
    Absurd {
        item: Index,
        at: Index,
        value: Value,
    },
    /// A string of the object (a name, a message, a reason) becomes `text`.
    Text {
        item: Index,
        at: Index,
        text: String,
    },
    /// The object is read twice, the copy changed (overlapping captures).
    Duplicate {
        item: Index,
        at: Index,
        text: String,
    },
}

/// Changes to single objects, none read twice.
fn in_place() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<Index>()).prop_map(|(item, at)| Mutation::Remove { item, at }),
        (any::<Index>(), any::<Index>(), absurd()).prop_map(|(item, at, value)| Mutation::Absurd {
            item,
            at,
            value
        }),
        (any::<Index>(), any::<Index>(), text()).prop_map(|(item, at, text)| Mutation::Text {
            item,
            at,
            text
        }),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => in_place(),
        1 => (any::<Index>(), any::<Index>(), text())
            .prop_map(|(item, at, text)| Mutation::Duplicate { item, at, text }),
    ]
}

/// JSON pointers to every value below `v`, `v` itself excluded.
fn pointers(v: &Value, prefix: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (token, child) in children {
        let pointer = format!("{prefix}/{token}");
        out.push(pointer.clone());
        pointers(child, &pointer, out);
    }
}

fn pick(object: &Value, at: &Index, pred: impl Fn(&Value) -> bool) -> Option<String> {
    let mut all = Vec::new();
    pointers(object, "", &mut all);
    all.retain(|p| object.pointer(p).is_some_and(&pred));
    (!all.is_empty()).then(|| all.swap_remove(at.index(all.len())))
}

fn remove(object: &mut Value, pointer: &str) {
    let (parent, token) = pointer.rsplit_once('/').expect("a pointer below the root");
    match object.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&token.replace("~1", "/").replace("~0", "~"));
        }
        Some(Value::Array(items)) => {
            items.remove(token.parse::<usize>().expect("an index"));
        }
        _ => {}
    }
}

fn set_text(object: &mut Value, at: &Index, text: &str) {
    if let Some(p) = pick(object, at, Value::is_string) {
        *object.pointer_mut(&p).expect("picked from this object") = Value::from(text);
    }
}

fn apply(items: &mut Vec<Value>, m: &Mutation) {
    if items.is_empty() {
        return;
    }
    match m {
        Mutation::Remove { item, at } => {
            let i = item.index(items.len());
            let object = &mut items[i];
            if let Some(p) = pick(object, at, |_| true) {
                remove(object, &p);
            }
        }
        Mutation::Absurd { item, at, value } => {
            let i = item.index(items.len());
            let object = &mut items[i];
            if let Some(p) = pick(object, at, |_| true) {
                *object.pointer_mut(&p).expect("picked from this object") = value.clone();
            }
        }
        Mutation::Text { item, at, text } => {
            let i = item.index(items.len());
            set_text(&mut items[i], at, text);
        }
        Mutation::Duplicate { item, at, text } => {
            let mut copy = items[item.index(items.len())].clone();
            set_text(&mut copy, at, text);
            items.push(copy);
        }
    }
}

/// Fisher–Yates driven by proptest's choices.
fn shuffle(items: &mut [Value], swaps: &[Index]) {
    for (i, swap) in (1..items.len()).rev().zip(swaps) {
        items.swap(i, swap.index(i + 1));
    }
}

/// The objects without the ones that share kind, namespace and name with
/// an earlier one (a mutation can rename or unname an object): of two such
/// objects the tool keeps the one read last, by design.
fn distinct(items: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::BTreeSet::new();
    items
        .into_iter()
        .filter(|o| {
            let meta = &o["metadata"];
            seen.insert(
                [&o["kind"], &meta["namespace"], &meta["name"]]
                    .map(|v| v.as_str().map(str::to_string)),
            )
        })
        .collect()
}

/// The newest moment the input shows is the capture's time; an event at a
/// fixed moment makes it independent of the clock when mutations removed or
/// moved every other timestamp.
fn with_anchor(mut items: Vec<Value>) -> Vec<Value> {
    items.push(json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "anchor", "namespace": "default"},
        "involvedObject": {"kind": "Node", "name": "anchor"},
        "reason": "Anchor",
        "message": "fixes the capture's time",
        "lastTimestamp": "2026-11-20T12:00:00Z",
    }));
    items
}

fn items(list: Value) -> Vec<Value> {
    match list {
        Value::Object(mut map) => match map.remove("items") {
            Some(Value::Array(items)) => items,
            _ => panic!("the generator writes one List"),
        },
        _ => panic!("the generator writes one List"),
    }
}

fn input(items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"apiVersion": "v1", "kind": "List", "items": with_anchor(items)}))
        .expect("a Value serializes")
}

/// The tool's output for `--from -` in one format.
fn diagnose(stdin: &[u8], output: &str) -> String {
    support::diagnose::text(&["--from", "-", "--show-healthy", "-o", output], stdin)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_input_gives_a_report_in_every_format(
        list in cluster(),
        mutations in prop::collection::vec(mutation(), 0..12),
        swaps in prop::collection::vec(any::<Index>(), 0..200),
    ) {
        let mut items = items(list);
        for m in &mutations {
            apply(&mut items, m);
        }
        shuffle(&mut items, &swaps);
        let stdin = input(items);
        let json: Value = serde_json::from_str(&diagnose(&stdin, "json")).expect("a JSON report");
        let s = &json["summary"];
        let count = |k: &str| s[k].as_u64().expect("a count");
        prop_assert_eq!(
            count("broken") + count("warnings") + count("info") + count("healthy"),
            count("subjects")
        );
        for output in ["yaml", "wide", "markdown"] {
            prop_assert!(!diagnose(&stdin, output).is_empty());
        }
    }

    #[test]
    fn the_same_input_gives_the_same_bytes(
        list in cluster(),
        mutations in prop::collection::vec(mutation(), 0..12),
    ) {
        let mut items = items(list);
        for m in &mutations {
            apply(&mut items, m);
        }
        let stdin = input(items);
        prop_assert_eq!(diagnose(&stdin, "json"), diagnose(&stdin, "json"));
    }

    #[test]
    fn the_order_of_the_objects_does_not_matter(
        list in cluster(),
        mutations in prop::collection::vec(in_place(), 0..12),
        swaps in prop::collection::vec(any::<Index>(), 1..200),
    ) {
        let mut items = items(list);
        for m in &mutations {
            apply(&mut items, m);
        }
        let mut items = distinct(items);
        let before = diagnose(&input(items.clone()), "json");
        shuffle(&mut items, &swaps);
        let after = diagnose(&input(items), "json");
        prop_assert_eq!(before, after);
    }
}
