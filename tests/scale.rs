//! The whole pipeline on generated clusters of a few thousand pods
//! (`storage_doctor_synth`, `crates/synth`): every subject broken on purpose is
//! reported with the rule it was broken for as its rank-1 cause, nothing
//! else is reported, and the healthy pods are listed as healthy. Kept small
//! for CI; how long it takes at 50,000 pods is `cargo bench --bench
//! pipeline`'s business (BENCHMARKS.md), not this test's.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufWriter;
use storage_doctor_synth::{self as synth, Config, Family, Manifest, Size};
use support::rank::subject_key;

mod support;

/// A few thousand pods, with event storms of a few hundred events.
const SIZE: Size = Size {
    pods: 2_000,
    claims: 800,
    volumes: 800,
    nodes: 20,
    events: 8_000,
};

/// Runs the tool with `-o json --show-healthy`; the exit code and report.
fn diagnose(from: &str, stdin: &[u8]) -> (u8, Value) {
    support::diagnose::json(&["--from", from, "--show-healthy"], stdin)
}

/// What is wrong with the report, given what was generated.
fn problems(manifest: &Manifest, code: u8, report: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let findings: BTreeMap<String, &Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (subject_key(&f["subject"]), f))
        .collect();
    for injected in &manifest.injected {
        let Some(f) = findings.get(&injected.subject) else {
            problems.push(format!(
                "{} ({}) is not reported",
                injected.subject,
                injected.rule()
            ));
            continue;
        };
        let rules: Vec<&str> = f["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["rule"].as_str())
            .collect();
        if rules.first() != Some(&injected.rule()) {
            problems.push(format!(
                "{}: causes {rules:?}, expected {} first",
                injected.subject,
                injected.rule()
            ));
        }
        if f["severity"] != injected.severity() {
            problems.push(format!(
                "{}: severity {}, expected {}",
                injected.subject,
                f["severity"],
                injected.severity()
            ));
        }
    }
    let injected: BTreeSet<&str> = manifest
        .injected
        .iter()
        .map(|i| i.subject.as_str())
        .collect();
    for (subject, f) in &findings {
        if !injected.contains(subject.as_str()) {
            problems.push(format!(
                "{subject} is reported ({}) but was generated healthy",
                f["causes"][0]["rule"]
            ));
        }
    }
    let healthy: BTreeSet<String> = report["healthy"]
        .as_array()
        .expect("healthy subjects (--show-healthy)")
        .iter()
        .map(subject_key)
        .collect();
    for pod in &manifest.healthy_pods {
        if !healthy.contains(pod) {
            problems.push(format!(
                "{pod} was generated healthy but is not listed as healthy"
            ));
        }
    }
    let count = |severities: &[&str]| {
        manifest
            .injected
            .iter()
            .filter(|i| severities.contains(&i.severity()))
            .count() as u64
    };
    let summary = &report["summary"];
    for (key, want) in [
        ("broken", count(&["error", "critical"])),
        ("warnings", count(&["warning"])),
        ("info", count(&["info"])),
    ] {
        if summary[key] != want {
            problems.push(format!(
                "summary.{key} is {}, expected {want}",
                summary[key]
            ));
        }
    }
    if code != 1 {
        problems.push(format!("exit code {code}, expected 1"));
    }
    problems
}

fn assert_no_problems(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems
            .iter()
            .take(30)
            .map(|p| format!("  - {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn every_broken_subject_is_found_with_its_rule_and_nothing_else_is() {
    let cfg = Config::new(SIZE);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("cluster.json");
    let file = std::fs::File::create(&path).expect("create the capture");
    let manifest = synth::write(&cfg, BufWriter::new(file)).expect("write the capture");

    let c = manifest.counts;
    assert_eq!(
        (c.pods, c.claims, c.volumes, c.nodes, c.events),
        (
            SIZE.pods,
            SIZE.claims,
            SIZE.volumes,
            SIZE.nodes,
            SIZE.events
        )
    );
    for family in Family::ALL {
        assert!(
            manifest
                .injected
                .iter()
                .filter(|i| i.family == family)
                .count()
                >= 2,
            "{family:?} is injected at least twice"
        );
    }
    assert!(manifest.healthy_pods.len() > 500);

    let (code, report) = diagnose(path.to_str().expect("UTF-8 path"), b"");
    assert_no_problems(problems(&manifest, code, &report));
}

#[test]
fn a_compact_capture_without_managed_fields_on_stdin_reads_the_same() {
    let mut cfg = Config::new(Size {
        pods: 600,
        claims: 240,
        volumes: 240,
        nodes: 9,
        events: 2_400,
    });
    cfg.pretty = false;
    cfg.managed_fields = false;
    cfg.seed = 7;
    let (text, manifest) = synth::to_string(&cfg);
    assert!(!text.contains("managedFields"));
    let (code, report) = diagnose("-", text.as_bytes());
    assert_no_problems(problems(&manifest, code, &report));
}
