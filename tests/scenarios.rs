//! Whole-pipeline tests on captured cluster states.
//!
//! Each folder under `tests/scenarios/` holds `snapshot.yaml` (what
//! `kubectl get -o yaml` could have captured, events included) and
//! `expected.yaml` (what an on-call engineer says the diagnosis must be);
//! each example under `examples/` has its expectations in
//! `examples/expected/`. The full JSON report is also kept as an insta
//! snapshot next to the scenario, so any change in wording shows in review.
//!
//! Each scenario and each example is a test of its own, named after its
//! folder or file with `_` for `-`: `cargo test --test scenarios --
//! multi_attach` runs the multi-attach scenarios, `-- --list` lists them all.

use libtest_mimic::{Arguments, Failed, Trial};
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use support::rank::{rank_one_rule, subject_key};

mod support;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Expected {
    exit_code: u8,
    summary: Summary,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Summary {
    subjects: u64,
    broken: u64,
    warnings: u64,
    info: u64,
    healthy: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFinding {
    subject: String,
    severity: String,
    rules: Vec<String>,
    #[serde(default)]
    mentions: Vec<String>,
    /// The pods of a workload this finding stands for (`replicas.pods`);
    /// none: a finding of its subject alone.
    #[serde(default)]
    pods: Vec<String>,
}

fn cause_text(cause: &Value) -> String {
    let mut parts = vec![cause["summary"].as_str().unwrap_or("").to_string()];
    for key in ["evidence", "fix"] {
        for line in cause[key].as_array().into_iter().flatten() {
            parts.push(line.as_str().unwrap_or("").to_string());
        }
    }
    parts.join("\n")
}

/// Checks a report against expectations; returns what is wrong.
fn check(expected: &Expected, code: u8, report: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if code != expected.exit_code {
        problems.push(format!("exit code {code}, expected {}", expected.exit_code));
    }
    let summary: Summary = serde_json::from_value(report["summary"].clone()).expect("summary");
    if summary != expected.summary {
        problems.push(format!(
            "summary {summary:?}, expected {:?}",
            expected.summary
        ));
    }
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    for f in &findings {
        let key = subject_key(&f["subject"]);
        if !expected.findings.iter().any(|e| e.subject == key) {
            let rule = rank_one_rule(f);
            problems.push(format!("unexpected finding for {key}: {rule}"));
        }
    }
    for e in &expected.findings {
        let Some(f) = findings
            .iter()
            .find(|f| subject_key(&f["subject"]) == e.subject)
        else {
            problems.push(format!("no finding for {}", e.subject));
            continue;
        };
        if f["severity"] != e.severity.as_str() {
            problems.push(format!(
                "{}: severity {}, expected {}",
                e.subject, f["severity"], e.severity
            ));
        }
        let rules: Vec<&str> = f["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["rule"].as_str())
            .collect();
        // The expected rules must appear in this order, the first at rank 1.
        let mut rest = rules.iter();
        let in_order = e.rules.iter().all(|want| rest.any(|r| r == want));
        if rules.first().map(|r| r.to_string()) != e.rules.first().cloned() || !in_order {
            problems.push(format!(
                "{}: causes {rules:?}, expected {:?}",
                e.subject, e.rules
            ));
        }
        let pods: Vec<&str> = f["replicas"]["pods"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if pods != e.pods {
            problems.push(format!(
                "{}: stands for pods {pods:?}, expected {:?}",
                e.subject, e.pods
            ));
        }
        let text = cause_text(&f["causes"][0]);
        for m in &e.mentions {
            if !text.contains(m.as_str()) {
                problems.push(format!(
                    "{}: rank-1 cause does not mention {m:?}:\n{text}",
                    e.subject
                ));
            }
        }
    }
    problems
}

/// Diagnoses `input`, checks the report against `expected`, then its
/// wording against the snapshot `<name>.report` in `snapshot_dir`. Each
/// problem is named after `case`, the folder or file of the case.
fn run_case(
    case: &str,
    name: &str,
    input: &Path,
    expected: &Path,
    snapshot_dir: &Path,
) -> Result<(), Failed> {
    let text =
        std::fs::read_to_string(expected).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    let exp: Expected =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
    let input = input.to_str().expect("UTF-8 path");
    let (code, report) = support::diagnose::json(&["--from", input], b"");
    let mut problems = check(&exp, code, &report);
    // Every report follows the published schema, every property declared.
    let schema = support::schema::json_schema();
    problems.extend(support::schema::validate(&schema, &report, true));
    if !problems.is_empty() {
        let lines: Vec<String> = problems.iter().map(|p| format!("{case}: {p}")).collect();
        return Err(format!("{} problem(s):\n{}", lines.len(), lines.join("\n")).into());
    }
    // Wording is compared only once the diagnosis itself is right.
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir.canonicalize().expect("snapshot dir"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(name);
    settings.bind(|| insta::assert_json_snapshot!(format!("{name}.report"), report));
    Ok(())
}

fn dirs(root: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{root}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .collect();
    out.sort();
    out
}

/// The name of a case's test: its folder or file name, `_` for `-`.
fn test_name(name: &str) -> String {
    name.replace('-', "_")
}

/// One test per folder under `tests/scenarios/`.
fn scenarios() -> Vec<Trial> {
    let trials: Vec<Trial> = dirs("tests/scenarios")
        .into_iter()
        .filter(|d| d.is_dir())
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            Trial::test(test_name(&name), move || {
                run_case(
                    &dir.display().to_string(),
                    &name,
                    &dir.join("snapshot.yaml"),
                    &dir.join("expected.yaml"),
                    &dir,
                )
            })
        })
        .collect();
    assert!(!trials.is_empty(), "no scenarios found");
    trials
}

/// One test per example under `examples/` with expectations in
/// `examples/expected/`, and one per example whose human and Markdown
/// reports are kept.
fn examples() -> Vec<Trial> {
    let mut trials = Vec::new();
    for file in dirs("examples")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let expected = Path::new("examples/expected").join(format!("{stem}.yaml"));
        if !expected.exists() {
            continue;
        }
        let name = format!("examples::{}", test_name(&stem));
        trials.push(Trial::test(name, move || {
            run_case(
                &file.display().to_string(),
                &stem,
                &file,
                &expected,
                Path::new("examples/expected"),
            )
        }));
    }
    assert!(
        trials.len() >= 3,
        "expected the three seed examples, found {}",
        trials.len()
    );
    for stem in ["triage-day", "pending-pvc-faq", "model-weights"] {
        let name = format!("examples::{}::reports", test_name(stem));
        trials.push(Trial::test(name, move || {
            example_reports_read_as_before(stem);
            Ok(())
        }));
    }
    trials
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = scenarios();
    trials.extend(examples());
    trials.push(Trial::test("rule_table_in_the_docs_is_current", || {
        rule_table_in_the_docs_is_current();
        Ok(())
    }));
    trials.push(Trial::test("report_schema_in_the_docs_is_current", || {
        report_schema_in_the_docs_is_current();
        Ok(())
    }));
    trials.push(Trial::test(
        "every_rule_has_a_scenario_and_a_runbook",
        || {
            every_rule_has_a_scenario_and_a_runbook();
            Ok(())
        },
    ));
    libtest_mimic::run(&args, trials).exit();
}

/// `docs/rules.md` lists every rule with its severity, link and the
/// scenarios whose rank-1 cause it is; this keeps it true. Run with
/// `UPDATE_DOCS=1` to rewrite it.
fn rule_table_in_the_docs_is_current() {
    use kubectl_storage_doctor::rules::RULES;
    use std::collections::{BTreeMap, BTreeSet};

    let mut covered: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut sources = Vec::new();
    for dir in dirs("tests/scenarios").into_iter().filter(|d| d.is_dir()) {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        sources.push((name, dir.join("expected.yaml")));
    }
    for file in dirs("examples/expected")
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let name = format!("examples/{}", file.file_stem().unwrap().to_string_lossy());
        sources.push((name, file));
    }
    for (name, path) in sources {
        let exp: Expected =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for f in exp.findings {
            if let Some(rule) = f.rules.first() {
                let entry = covered.entry(rule.clone()).or_default();
                entry.0.insert(name.clone());
                entry.1.insert(f.severity.clone());
            }
        }
    }
    let mut table = String::from(
        "# Rules\n\nEvery rule the diagnosis knows, the severity it reports, the link of the chain it\nbelongs to, and the scenarios (under `tests/scenarios/`, or the bundled examples)\nwhose expected rank-1 cause it is. This file is checked by `cargo test`\n(`UPDATE_DOCS=1 cargo test --test scenarios` rewrites it).\n\n| rule | severity | link | meaning | scenarios |\n|---|---|---|---|---|\n",
    );
    let mut uncovered = Vec::new();
    for rule in RULES {
        let (scenarios, severities) = covered.remove(rule.id).unwrap_or_default();
        if scenarios.is_empty() && rule.id != "storage-unexplained" {
            uncovered.push(rule.id);
        }
        let severity = if severities.is_empty() {
            rule.severity.as_str().to_string()
        } else {
            severities.into_iter().collect::<Vec<_>>().join(", ")
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            rule.id,
            severity,
            rule.link.as_str(),
            rule.title,
            scenarios.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    assert!(
        covered.is_empty(),
        "expectations name unknown rules: {:?}",
        covered.keys()
    );
    assert!(
        uncovered.is_empty(),
        "rules no scenario covers at rank 1: {uncovered:?}"
    );
    let path = Path::new("docs/rules.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all("docs").unwrap();
        std::fs::write(path, &table).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == table,
        "docs/rules.md is out of date; run UPDATE_DOCS=1 cargo test --test scenarios\n\n{table}"
    );
}

/// `docs/report.schema.json` is the schema of this build's `-o json`: its
/// rule ids are the registry's, its link names the model's. Run with
/// `UPDATE_DOCS=1` to rewrite it.
fn report_schema_in_the_docs_is_current() {
    let text = support::schema::text();
    let path = Path::new("docs/report.schema.json");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let current = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        current == text,
        "docs/report.schema.json is out of date; run UPDATE_DOCS=1 cargo test --test scenarios"
    );
    // The published file is the schema the tests validate with.
    let published: serde_json::Value = serde_json::from_str(&current).unwrap();
    assert_eq!(published, support::schema::json_schema());
}

/// Every rule is named by the expectations of some scenario and has a
/// runbook page, `docs/runbooks/<id>.md`, that `explain` prints and the
/// reports link to. `storage-unexplained` is what is left when no other
/// rule explains a subject, so no scenario expects it.
fn every_rule_has_a_scenario_and_a_runbook() {
    use kubectl_storage_doctor::rules::RULES;
    use std::collections::BTreeSet;

    let mut named = BTreeSet::new();
    for dir in dirs("tests/scenarios").into_iter().filter(|d| d.is_dir()) {
        let path = dir.join("expected.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let exp: Expected =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        named.extend(exp.findings.into_iter().flat_map(|f| f.rules));
    }
    let no_scenario: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| *id != "storage-unexplained" && !named.contains(*id))
        .collect();
    let no_runbook: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !Path::new(&format!("docs/runbooks/{id}.md")).is_file())
        .collect();
    assert!(
        no_scenario.is_empty(),
        "rules no scenario's expected.yaml names: {no_scenario:?}"
    );
    assert!(
        no_runbook.is_empty(),
        "rules without a page in docs/runbooks/: {no_runbook:?}"
    );
}

/// The human and Markdown reports of an example, colours off: what people
/// paste into tickets and runbooks.
fn example_reports_read_as_before(stem: &str) {
    let input = format!("examples/{stem}.yaml");
    for (format, ext) in [("human", "txt"), ("markdown", "md")] {
        let args = ["--from", &input, "-o", format, "--color", "never"];
        let text = support::diagnose::text(&args, b"");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(Path::new("examples/expected").canonicalize().unwrap());
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(format!("{stem}.{ext}"), text));
    }
}
