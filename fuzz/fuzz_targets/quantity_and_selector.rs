//! Arbitrary text as a quantity (claim sizes, capacities, quotas), as a
//! `-l` label selector matched against labels, and as a `TYPE/NAME` target.
//! The first line is the selector and the target, the next `key=value`
//! lines the labels; every line is also a quantity.

#![no_main]

use kubectl_storage_doctor::chain::Target;
use kubectl_storage_doctor::quantity;
use kubectl_storage_doctor::selector::Selector;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

fuzz_target!(|text: &str| {
    for line in text.lines() {
        if let Some(value) = quantity::parse(line) {
            assert!(value.is_finite(), "{line:?} → {value}");
        }
    }
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let labels: BTreeMap<String, String> = lines
        .map(|l| l.split_once('=').unwrap_or((l, "")))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if let Ok(selector) = Selector::parse(first) {
        selector.matches(Some(&labels));
        selector.matches(None);
    }
    if let Ok(target) = Target::parse(first) {
        assert_eq!(Target::parse(&target.to_string()), Ok(target));
    }
});
