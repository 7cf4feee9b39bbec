//! The command line as a user meets it: flags, formats, exit codes, errors.

use assert_cmd::cargo::cargo_bin_cmd;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::fs;

mod support;

const TRIAGE: &str = "examples/triage-day.yaml";
const HEALTHY: &str = "tests/scenarios/healthy-cluster/snapshot.yaml";

fn doctor() -> Command {
    let mut cmd = cargo_bin_cmd!("kubectl-storage_doctor");
    // A user's own driver table must not change what the tests see.
    cmd.env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests");
    cmd
}

fn json(args: &[&str]) -> (i32, Value) {
    let out = doctor().args(args).args(["-o", "json"]).output().unwrap();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), report)
}

#[test]
fn readme_example_prints_a_ranked_diagnosis() {
    doctor()
        .args(["--from", TRIAGE])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("3 broken"))
        .stdout(predicate::str::contains("1. claim-not-found"))
        .stdout(predicate::str::contains("1. rwop-conflict"))
        .stdout(predicate::str::contains("1. storageclass-not-found"))
        .stdout(predicate::str::contains("claimName: checkpoint-pvc"))
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn healthy_cluster_exits_zero() {
    doctor()
        .args(["--from", HEALTHY])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 broken"));
}

#[test]
fn json_follows_the_contract() {
    let (code, r) = json(&["--from", TRIAGE]);
    assert_eq!(code, 1);
    assert_eq!(r["apiVersion"], "storage-doctor/v1");
    assert_eq!(r["source"]["kind"], "dump");
    assert_eq!(r["source"]["paths"][0], TRIAGE);
    assert_eq!(r["scope"]["allNamespaces"], true);
    assert_eq!(r["scope"]["namespaces"], serde_json::json!(["triage"]));
    assert_eq!(r["summary"]["broken"], 3);
    assert!(r["gaps"].is_array());
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 3);
    for f in findings {
        for key in ["subject", "severity", "status", "chain", "causes"] {
            assert!(!f[key].is_null(), "finding lacks {key}: {f}");
        }
        let causes = f["causes"].as_array().unwrap();
        assert!(!causes.is_empty());
        for (i, c) in causes.iter().enumerate() {
            assert_eq!(c["rank"], i + 1);
            for key in [
                "rule",
                "link",
                "confidence",
                "objects",
                "summary",
                "evidence",
                "fix",
            ] {
                assert!(!c[key].is_null(), "cause lacks {key}: {c}");
            }
        }
        for link in f["chain"].as_array().unwrap() {
            assert!(link["kind"].is_string() && link["name"].is_string());
            assert!(link["state"].is_string() && link["ok"].is_boolean());
        }
    }
}

/// `docs/report.schema.json` describes what `-o json` and `-o yaml` print,
/// with `--show-healthy` too, and refuses what they must not.
#[test]
fn reports_follow_the_published_schema() {
    use support::schema::validate;
    let schema: Value =
        serde_json::from_str(&fs::read_to_string("docs/report.schema.json").unwrap()).unwrap();
    for example in [
        TRIAGE,
        "examples/pending-pvc-faq.yaml",
        "examples/model-weights.yaml",
    ] {
        for extra in [&[][..], &["--show-healthy"][..]] {
            let args: Vec<&str> = ["--from", example].iter().chain(extra).copied().collect();
            let (_, report) = json(&args);
            assert_eq!(validate(&schema, &report, true), Vec::<String>::new());
            let out = doctor().args(&args).args(["-o", "yaml"]).output().unwrap();
            let from_yaml: Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
            assert_eq!(validate(&schema, &from_yaml, true), Vec::<String>::new());
        }
    }
    let (_, good) = json(&["--from", TRIAGE]);
    let broken = |edit: &dyn Fn(&mut Value)| {
        let mut r = good.clone();
        edit(&mut r);
        validate(&schema, &r, false)
    };
    assert!(!broken(&|r| r["findings"][0]["causes"][0]["rule"] = "no-such-rule".into()).is_empty());
    assert!(!broken(&|r| r["findings"][0]["causes"][0]["link"] = "Pod→Moon".into()).is_empty());
    assert!(!broken(&|r| r["summary"]["broken"] = "3".into()).is_empty());
    assert!(!broken(&|r| r["apiVersion"] = "storage-doctor/v2".into()).is_empty());
    assert!(!broken(&|r| {
        r["findings"][0].as_object_mut().unwrap().remove("causes");
    })
    .is_empty());
    // Added fields are allowed within v1; the tests themselves are strict.
    let mut added = good.clone();
    added["summary"]["newCount"] = 1.into();
    assert!(validate(&schema, &added, false).is_empty());
    assert!(!validate(&schema, &added, true).is_empty());
}

#[test]
fn yaml_is_the_same_document_as_json() {
    let (_, from_json) = json(&["--from", TRIAGE]);
    let out = doctor()
        .args(["--from", TRIAGE, "-o", "yaml"])
        .output()
        .unwrap();
    let from_yaml: Value = serde_yaml_ng::from_slice(&out.stdout).unwrap();
    assert_eq!(from_json, from_yaml);
}

/// Text from the cluster is shown, never obeyed: an event message that
/// would clear the screen, retitle the window and draw a fake verdict.
#[test]
fn hostile_cluster_text_is_escaped_for_people_and_exact_for_programs() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[H\u{1b}[32m✔ all storage healthy\u{1b}[0m \u{202e}lmth.x <img src=x onerror=alert(1)> [ok](https://evil.example)";
    let text = fs::read_to_string("tests/scenarios/volume-source-missing-configmap/snapshot.yaml")
        .unwrap();
    let mut capture: Value = serde_yaml_ng::from_str(&text).unwrap();
    for item in capture["items"].as_array_mut().unwrap() {
        if item["reason"] == "FailedMount" {
            let message = format!("{} {hostile}", item["message"].as_str().unwrap());
            item["message"] = Value::String(message);
        }
    }
    let path = dir.path().join("hostile.json");
    fs::write(&path, capture.to_string()).unwrap();
    let path = path.to_str().unwrap();
    for format in ["human", "wide", "markdown"] {
        let out = doctor()
            .args(["--from", path, "--color", "never", "-o", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("^[]0;pwned^G"), "{format}: {text}");
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{format} passes raw control characters: {text:?}"
        );
        if format == "markdown" {
            assert!(
                !text.contains("<img") && !text.contains("](https://evil"),
                "{text}"
            );
        }
    }
    let (_, report) = json(&["--from", path]);
    assert!(
        report.to_string().contains("\\u001b]0;pwned"),
        "JSON keeps the text exact"
    );
}

#[test]
fn target_and_namespace_narrow_the_scope() {
    let (code, r) = json(&["--from", TRIAGE, "-n", "triage", "po/trainer"]);
    assert_eq!(code, 1);
    assert_eq!(r["summary"]["subjects"], 1);
    assert_eq!(r["findings"][0]["subject"]["name"], "trainer");
    assert_eq!(r["scope"]["targets"], serde_json::json!(["pod/trainer"]));
    assert_eq!(r["scope"]["allNamespaces"], false);
}

/// A namespace or a target the capture does not hold is an error that
/// names what it does hold, not a clean bill of health.
#[test]
fn unknown_namespaces_and_targets_suggest_what_exists() {
    doctor()
        .args(["--from", TRIAGE, "-n", "elsewhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "namespace elsewhere not found in the capture",
        ))
        .stderr(predicate::str::contains("triage"));
    doctor()
        .args(["--from", TRIAGE, "-n", "traige"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean triage?"));
    doctor()
        .args(["collect", "--from", TRIAGE, "-n", "traige"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean triage?"));
    doctor()
        .args(["--from", TRIAGE, "pod/trainr"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pod/trainr not found"))
        .stderr(predicate::str::contains("did you mean pod/trainer?"));
}

#[test]
fn claim_target_reports_the_pods_it_blocks() {
    let (_, r) = json(&["--from", TRIAGE, "pvc/scratch"]);
    assert_eq!(r["findings"][0]["subject"]["kind"], "Pod");
    assert_eq!(r["findings"][0]["subject"]["name"], "preprocess");
}

#[test]
fn a_workload_target_with_no_pods_says_why_it_has_none() {
    let capture = "tests/scenarios/csi-controller-pods-refused/snapshot.yaml";
    let (code, r) = json(&[
        "--from",
        capture,
        "-n",
        "kube-system",
        "deployment/ebs-csi-controller",
    ]);
    assert_eq!(code, 1);
    let finding = &r["findings"][0];
    assert_eq!(finding["subject"]["kind"], "Deployment");
    assert_eq!(
        finding["status"]
            .as_str()
            .unwrap()
            .split(' ')
            .take(4)
            .collect::<Vec<_>>(),
        ["0", "of", "2", "pods"]
    );
    assert_eq!(finding["causes"][0]["rule"], "pod-create-refused");
    assert_eq!(finding["severity"], "error");
    let evidence = finding["causes"][0]["evidence"][0].as_str().unwrap();
    assert!(
        evidence.contains(r#"serviceaccount "ebs-csi-controller-sa" not found"#),
        "{evidence}"
    );
}

#[test]
fn usage_errors_exit_two() {
    doctor()
        .args(["--from", TRIAGE, "pod/nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pod/nope not found"));
    doctor()
        .args(["--from", TRIAGE, "secret/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not supported"));
    doctor().args(["--bogus"]).assert().code(2);
    doctor()
        .args(["--from", TRIAGE, "--request-timeout", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid duration"));
}

/// A kubeconfig for `server`, its certificate unchecked, as a user with a token.
fn kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
    support::kubeconfig::write(
        dir,
        &format!("{{server: '{server}', insecure-skip-tls-verify: true}}"),
        "{token: abc}",
        "team",
    )
}

#[test]
fn live_cluster_errors_are_one_line_and_exit_two() {
    doctor()
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot load kubeconfig"));

    // Nothing listens on port 1: refused at once.
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), "https://127.0.0.1:1");
    let out = doctor()
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "--request-timeout",
            "5s",
        ])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the cluster at https://127.0.0.1:1"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("abc"), "the token must not leak: {stderr}");
}

/// A server that accepts connections and never answers: the tool gives up
/// within --request-timeout.
#[test]
fn a_stalled_server_times_out() {
    let port = support::http::listen(support::http::stall);
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), &format!("https://127.0.0.1:{port}"));
    let started = std::time::Instant::now();
    let out = doctor()
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "--request-timeout",
            "2s",
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("did not answer within 2s") || stderr.contains("timed out"),
        "{stderr}"
    );
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");

    // Under a second: said in milliseconds, not "within 0s".
    let out = doctor()
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "--request-timeout",
            "300ms",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("within 0s"), "{stderr}");
    assert!(
        stderr.contains("did not answer within 300ms") || stderr.contains("timed out"),
        "{stderr}"
    );
}

#[test]
fn parse_errors_name_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("bad.yaml");
    fs::write(
        &yaml,
        "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  metadata: {name: [\n",
    )
    .unwrap();
    doctor()
        .args(["--from", yaml.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::is_match(r"bad\.yaml:\d+:\d+: ").unwrap());

    let json_file = dir.path().join("bad.json");
    fs::write(&json_file, "{\"kind\": \"List\",\n  \"items\": [}\n").unwrap();
    doctor()
        .args(["--from", json_file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json:2:"));

    let binary = dir.path().join("dump.yaml");
    fs::write(&binary, [0u8, 159, 146, 150, 255]).unwrap();
    doctor()
        .args(["--from", binary.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("dump.yaml: not a text file"));

    let out = doctor()
        .args(["--from", "no/such/file.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no/such/file.yaml: No such file"),
        "{stderr}"
    );
    // The reason once, not repeated as its own cause.
    assert_eq!(stderr.matches("os error 2").count(), 1, "{stderr}");
}

#[test]
fn reads_stdin_and_several_inputs() {
    doctor()
        .args(["--from", "-"])
        .write_stdin(fs::read(TRIAGE).unwrap())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("3 broken"));
    let (_, one) = json(&["--from", TRIAGE]);
    let (_, two) = json(&["--from", HEALTHY]);
    let (code, both) = json(&["--from", TRIAGE, "--from", HEALTHY]);
    assert_eq!(code, 1);
    let subjects = |r: &Value| r["summary"]["subjects"].as_u64().unwrap();
    assert_eq!(subjects(&both), subjects(&one) + subjects(&two));
}

/// `kubectl cluster-info dump --output-directory` writes typed lists whose
/// items carry no kind, per namespace, beside logs; it holds no claims.
#[test]
fn reads_a_cluster_info_dump_folder() {
    let dir = tempfile::tempdir().unwrap();
    let ns = dir.path().join("shop");
    fs::create_dir_all(ns.join("web-0")).unwrap();
    fs::write(
        dir.path().join("nodes.json"),
        r#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}]}"#,
    )
    .unwrap();
    fs::write(
        ns.join("pods.json"),
        r#"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web-0","namespace":"shop","uid":"u1","creationTimestamp":"2026-11-20T10:00:00Z"},"spec":{"containers":[{"name":"c","image":"nginx"}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data-web-0"}}]},"status":{"phase":"Pending"}}]}"#,
    )
    .unwrap();
    fs::write(
        ns.join("events.json"),
        r#"{"kind":"EventList","apiVersion":"v1","metadata":{},"items":[]}"#,
    )
    .unwrap();
    fs::write(ns.join("services.json"), r#"{"kind":"ServiceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"web"}}]}"#).unwrap();
    fs::write(ns.join("web-0").join("logs.txt"), "not json at all {").unwrap();

    let (code, r) = json(&["--from", dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let gaps: Vec<&str> = r["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["resource"].as_str().unwrap())
        .collect();
    assert!(gaps.contains(&"persistentvolumeclaims"), "{gaps:?}");
    let cause = &r["findings"][0]["causes"][0];
    assert_eq!(cause["rule"], "claim-not-found");
    assert_eq!(cause["confidence"], "low");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    doctor()
        .args(["--from", TRIAGE, "--color", "always"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}["));
    doctor()
        .args(["--from", TRIAGE, "--color", "auto"])
        .env("NO_COLOR", "1")
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
    doctor()
        .args(["--from", TRIAGE, "--color", "always", "-o", "json"])
        .assert()
        .stdout(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn help_names_the_kubectl_command() {
    doctor()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("kubectl storage-doctor"));
}

#[test]
fn driver_file_overrides_the_built_in_table() {
    let scenario = "tests/scenarios/access-mode-rwx-block-no-events/snapshot.yaml";
    let (_, before) = json(&["--from", scenario]);
    assert_eq!(
        before["findings"][0]["causes"][0]["rule"],
        "access-mode-unsupported"
    );

    let dir = tempfile::tempdir().unwrap();
    let drivers = dir.path().join("drivers.yaml");
    fs::write(
        &drivers,
        "drivers:\n  - name: ebs.csi.aws.com\n    filesystem: [ReadWriteOnce, ReadWriteMany]\n",
    )
    .unwrap();
    let (_, after) = json(&["--from", scenario, "--drivers", drivers.to_str().unwrap()]);
    let rules: Vec<&str> = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["causes"].as_array().unwrap())
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"access-mode-unsupported"), "{rules:?}");

    let config = dir.path().join("config");
    fs::create_dir_all(config.join("storage-doctor")).unwrap();
    fs::copy(&drivers, config.join("storage-doctor/drivers.yaml")).unwrap();
    let out = doctor()
        .args(["--from", scenario, "-o", "json"])
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .unwrap();
    let from_default: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        from_default["findings"], after["findings"],
        "the default location is read"
    );

    fs::write(&drivers, "drivers: [{name: x, filesytem: []}]\n").unwrap();
    doctor()
        .args(["--from", scenario, "--drivers", drivers.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid driver file"));
}

#[test]
fn workload_class_node_and_volume_targets() {
    let subjects = |args: &[&str]| -> Vec<String> {
        let (_, r) = json(args);
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{}/{}",
                    f["subject"]["kind"].as_str().unwrap(),
                    f["subject"]["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    let rolling = "tests/scenarios/multi-attach-rolling-update/snapshot.yaml";
    assert_eq!(
        subjects(&["--from", rolling, "deploy/api"]),
        ["Pod/api-7b5c9d8f6-k4n8p"]
    );
    let (_, r) = json(&["--from", rolling, "deployment/api"]);
    assert_eq!(
        r["summary"]["subjects"], 2,
        "both pods of the Deployment are looked at"
    );

    let quota = "tests/scenarios/storage-quota-exceeded-sts/snapshot.yaml";
    assert_eq!(subjects(&["--from", quota, "sts/web"]), ["StatefulSet/web"]);

    assert_eq!(
        subjects(&["--from", TRIAGE, "sc/fast-ssd"]),
        ["Pod/preprocess"]
    );
    let (code, r) = json(&["--from", TRIAGE, "node/triage-worker"]);
    assert_eq!(code, 0);
    assert_eq!(r["summary"]["healthy"], 2);

    let released = "tests/scenarios/pv-released-retained/snapshot.yaml";
    let (_, r) = json(&[
        "--from",
        released,
        "pv/pvc-77b1cc68-002c-42ab-8a29-31a224c6b992",
    ]);
    assert_eq!(
        r["findings"][0]["causes"][0]["rule"],
        "pv-released-retained"
    );

    doctor()
        .args(["--from", TRIAGE, "deploy/nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("deployment/nope not found"));
}

#[test]
fn label_selector_narrows_pods_and_claims() {
    let (_, r) = json(&["--from", TRIAGE, "-l", "app in (trainer,exporter)"]);
    let mut names: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"]["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["exporter", "trainer"]);
    assert_eq!(r["summary"]["subjects"], 2);

    let (code, r) = json(&["--from", TRIAGE, "-l", "app=writer"]);
    assert_eq!(code, 0);
    assert_eq!(r["summary"]["healthy"], 1);

    doctor()
        .args(["--from", TRIAGE, "-l", "app in trainer"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid label selector"));
}

#[test]
fn kubeconfig_variable_may_list_several_files() {
    // The context lives in the second file; the first only adds a cluster.
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    fs::write(
        &first,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: https://127.0.0.1:2}\n",
    )
    .unwrap();
    let second = kubeconfig(dir.path(), "https://127.0.0.1:1");
    let joined = std::env::join_paths([&first, &second]).unwrap();
    doctor()
        .env("KUBECONFIG", joined)
        .args(["--request-timeout", "5s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("https://127.0.0.1:1"));
}

/// As kubectl: files KUBECONFIG lists that do not exist are skipped; a
/// file that cannot be read or parsed is named plainly.
#[test]
fn kubeconfig_variable_skips_missing_files_and_names_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let good = kubeconfig(dir.path(), "https://127.0.0.1:1");
    let joined =
        std::env::join_paths([good.as_path(), std::path::Path::new("/missing/config")]).unwrap();
    doctor()
        .env("KUBECONFIG", joined)
        .args(["--request-timeout", "5s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot reach the cluster at https://127.0.0.1:1",
        ));
    let broken = dir.path().join("broken");
    fs::write(&broken, "apiVersion: v1\nclusters: [\n").unwrap();
    let out = doctor()
        .env(
            "KUBECONFIG",
            std::env::join_paths([&broken, &good]).unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot load kubeconfig: {}: ", broken.display())),
        "{stderr}"
    );
    doctor()
        .env("KUBECONFIG", "/missing/a:/missing/b")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "none of the files KUBECONFIG lists exists: /missing/a, /missing/b",
        ));
    let out = doctor()
        .args(["--kubeconfig", "/missing/config"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot load kubeconfig: /missing/config: No such file"),
        "{stderr}"
    );
    assert!(!stderr.contains("'\""), "{stderr}");
}

#[test]
fn markdown_report_for_tickets() {
    let out = doctor()
        .args(["--from", TRIAGE, "-o", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("# Storage diagnosis\n"), "{text}");
    assert!(text.contains("| error | Pod triage/trainer |"), "{text}");
    assert!(text.contains("### 1. `claim-not-found`"), "{text}");
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn fail_on_and_show_healthy() {
    // Only an info finding: exit 0 by default, 1 when info counts.
    let wffc = "tests/scenarios/waiting-for-first-consumer/snapshot.yaml";
    doctor().args(["--from", wffc]).assert().code(0);
    doctor()
        .args(["--from", wffc, "--fail-on", "info"])
        .assert()
        .code(1);
    doctor()
        .args(["--from", TRIAGE, "--fail-on", "critical"])
        .assert()
        .code(0);

    let (_, r) = json(&["--from", TRIAGE]);
    assert!(
        r.get("healthy").is_none(),
        "healthy subjects are only counted by default"
    );
    let (_, r) = json(&["--from", TRIAGE, "--show-healthy"]);
    let healthy: Vec<&str> = r["healthy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(healthy, ["evaluator", "writer"]);
}

#[test]
fn explain_prints_runbook_pages() {
    doctor()
        .args(["explain", "claim-not-found"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("# claim-not-found\n"))
        .stdout(predicate::str::contains("## Confirm by hand"));
    let out = doctor().args(["explain", "--list"]).output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(list.lines().count() >= 30, "{list}");
    assert!(list.contains("multi-attach"));
    doctor()
        .args(["explain", "no-such-rule"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("explain --list"));
}

#[test]
fn completion_scripts() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = doctor().args(["completion", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("kubectl-storage_doctor"), "{shell}: {text}");
        assert!(text.contains("--from"), "{shell}");
    }
}

/// A subcommand's help lists the flags it reads, not every global one;
/// the others are still accepted, as kubectl accepts its global flags.
#[test]
fn subcommand_help_lists_only_the_flags_that_apply() {
    let help = |args: &[&str]| {
        let out = doctor().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let explain = help(&["explain", "--help"]);
    for flag in [
        "--kubeconfig",
        "--from",
        "--color",
        "--namespace",
        "--output",
    ] {
        assert!(!explain.contains(flag), "{flag}:\n{explain}");
    }
    assert!(explain.contains("--list"), "{explain}");
    let collect = help(&["collect", "--help"]);
    for flag in [
        "--kubeconfig",
        "--from",
        "--namespace",
        "--output",
        "--file",
    ] {
        assert!(collect.contains(flag), "{flag}:\n{collect}");
    }
    for flag in ["--color", "--drivers"] {
        assert!(!collect.contains(flag), "{flag}:\n{collect}");
    }
    let root = help(&["--help"]);
    for flag in ["--kubeconfig", "--color", "--drivers", "--watch"] {
        assert!(root.contains(flag), "{flag}:\n{root}");
    }
    doctor()
        .args(["explain", "multi-attach", "-n", "x", "--color", "never"])
        .assert()
        .code(0);
    doctor()
        .args(["explain", "multi-atach"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean multi-attach?"));
}

/// What `collect` writes is a capture: diagnosing it gives the same findings.
#[test]
fn collect_round_trips_to_the_same_diagnosis() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ticket.yaml");
    // Global flags may come before the subcommand, as with kubectl.
    doctor()
        .args([
            "--from",
            TRIAGE,
            "collect",
            "-A",
            "-f",
            file.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    let text = fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("apiVersion: v1\nitems:") || text.contains("kind: List"),
        "{text}"
    );
    assert!(!text.contains("managedFields"));
    assert!(!text.contains("kind: Secret"));
    let (_, original) = json(&["--from", TRIAGE]);
    let (_, collected) = json(&["--from", file.to_str().unwrap()]);
    assert_eq!(original["findings"], collected["findings"]);
    assert_eq!(original["summary"], collected["summary"]);

    let out = doctor()
        .args(["collect", "--from", TRIAGE, "-o", "json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["kind"], "List");
}

/// Snapshot kinds survive `collect`: the restore and the failing snapshot
/// are found again from what it wrote.
#[test]
fn collect_keeps_the_snapshot_kinds() {
    let scenario = "tests/scenarios/snapshot-not-ready-failed/snapshot.yaml";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ticket.yaml");
    doctor()
        .args([
            "--from",
            scenario,
            "collect",
            "-A",
            "-f",
            file.to_str().unwrap(),
        ])
        .assert()
        .code(0);
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("kind: VolumeSnapshotContent"), "{text}");
    assert!(text.contains("apiVersion: snapshot.storage.k8s.io/v1"));
    let (_, original) = json(&["--from", scenario]);
    let (_, collected) = json(&["--from", file.to_str().unwrap()]);
    assert_eq!(original["findings"], collected["findings"]);
    assert_eq!(original["summary"], collected["summary"]);
    assert_eq!(
        collected["findings"][1]["subject"]["kind"],
        "VolumeSnapshot"
    );
}

#[test]
fn a_snapshot_target_diagnoses_it_and_its_restores() {
    let scenario = "tests/scenarios/snapshot-not-ready-failed/snapshot.yaml";
    let (code, r) = json(&["--from", scenario, "-n", "db", "vs/nightly-0412"]);
    assert_eq!(code, 1);
    let subjects: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["restored-db", "nightly-0412"]);
}

#[test]
fn wide_output_shows_every_evidence_line_and_the_objects() {
    let scenario = "tests/scenarios/provisioner-not-responding-old-wording/snapshot.yaml";
    let normal = doctor().args(["--from", scenario]).output().unwrap();
    let wide = doctor()
        .args(["--from", scenario, "-o", "wide"])
        .output()
        .unwrap();
    let (normal, wide) = (
        String::from_utf8(normal.stdout).unwrap(),
        String::from_utf8(wide.stdout).unwrap(),
    );
    assert!(normal.contains("more: -o wide"), "{normal}");
    assert!(!wide.contains("more: -o wide"), "{wide}");
    assert!(wide.contains("objects:") && !normal.contains("objects:"));
    assert!(wide.lines().count() > normal.lines().count());
}

/// --watch redraws until the state is fixed, saying what was fixed.
#[test]
fn watch_runs_until_everything_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.yaml");
    fs::copy(TRIAGE, &state).unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-storage_doctor"))
        .args([
            "--from",
            state.to_str().unwrap(),
            "--watch",
            "--interval",
            "1s",
        ])
        .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    fs::copy(HEALTHY, &state).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("fixed    Pod/triage/trainer (was claim-not-found)"),
        "{text}"
    );
    assert!(text.contains("0 broken"), "{text}");
}

#[test]
fn watch_stops_cleanly_on_ctrl_c() {
    let mut child =
        std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-storage_doctor"))
            .args(["--from", TRIAGE, "--watch", "--interval", "1s"])
            .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The status of the last round: something was still broken.
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

#[test]
fn watch_refuses_intervals_under_a_second() {
    for interval in ["0", "500ms", "0.5s"] {
        doctor()
            .args(["--from", TRIAGE, "--watch", "--interval", interval])
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("at least 1s"));
    }
}

#[test]
fn absurd_values_and_unicode_names_are_diagnosed_not_fatal() {
    // What no API server would store, as a damaged or forged capture has it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("odd.yaml");
    fs::write(
        &file,
        r#"apiVersion: v1
kind: List
items:
- apiVersion: storage.k8s.io/v1
  kind: StorageClass
  metadata: {name: standard, creationTimestamp: "2026-11-21T09:00:00Z"}
  provisioner: ebs.csi.aws.com
- apiVersion: v1
  kind: Pod
  metadata: {name: "trainer-ü-训练", namespace: "ml-ø", uid: p1, creationTimestamp: "2026-11-21T10:00:00Z"}
  spec:
    containers: [{name: c, image: x}]
    volumes: [{name: d, persistentVolumeClaim: {claimName: "données-ü"}}]
  status: {phase: Pending}
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {name: "données-ü", namespace: "ml-ø", uid: c1, creationTimestamp: "2026-11-21T10:00:00Z"}
  spec:
    accessModes: [ReadWriteOnce]
    storageClassName: "fäst"
    resources: {requests: {storage: "-5Gi"}}
  status: {phase: Pending, capacity: {storage: "1e400"}}
- apiVersion: v1
  kind: Event
  metadata: {name: e1, namespace: "ml-ø"}
  involvedObject: {kind: PersistentVolumeClaim, namespace: "ml-ø", name: "données-ü", uid: c1}
  reason: ProvisioningFailed
  type: Warning
  message: 'storageclass.storage.k8s.io "fäst" not found'
  count: -3
  lastTimestamp: "2026-11-21T10:05:00Z"
"#,
    )
    .unwrap();
    let (code, report) = json(&["--from", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{report}");
    let finding = &report["findings"][0];
    assert_eq!(finding["subject"]["name"], "trainer-ü-训练");
    assert_eq!(finding["causes"][0]["rule"], "storageclass-not-found");
    // The absurd sizes are not read as a resize in progress.
    let rules: Vec<&str> = finding["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["rule"].as_str())
        .collect();
    assert!(
        !rules.iter().any(|r| r.starts_with("expansion")),
        "{rules:?}"
    );
    let human = doctor()
        .args(["--from", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&human.stdout).contains("trainer-ü-训练"));
}

/// A capture holding credentials where kubectl shows them: container
/// environment values, flags and URLs in commands, the last-applied
/// annotation, class parameters and CSI volume attributes.
const WITH_CREDENTIALS: &str = r#"apiVersion: v1
kind: List
items:
- apiVersion: storage.k8s.io/v1
  kind: StorageClass
  metadata:
    name: fast
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: '{"parameters":{"csi.storage.k8s.io/provisioner-secret-name":"sc-creds-LEAK1"}}'
  provisioner: ebs.csi.aws.com
  parameters: {type: gp3, kmsKeyId: "arn:aws:kms:LEAK2", "csi.storage.k8s.io/provisioner-secret-name": "sc-creds-LEAK1"}
- apiVersion: v1
  kind: PersistentVolume
  metadata: {name: pv-1}
  spec:
    capacity: {storage: 1Gi}
    accessModes: [ReadWriteOnce]
    csi: {driver: ebs.csi.aws.com, volumeHandle: vol-1, volumeAttributes: {authToken: LEAK3, fsType: ext4}}
- apiVersion: v1
  kind: Pod
  metadata: {name: trainer, namespace: ml, uid: p1, creationTimestamp: "2026-11-21T10:00:00Z"}
  spec:
    containers:
    - name: c
      image: x
      env:
      - {name: DB_PASSWORD, value: LEAK4}
      - name: FROM_SECRET
        valueFrom: {secretKeyRef: {name: db, key: password}}
      command: [server, --api-key=LEAK5, --token, LEAK6, --db, "postgres://admin:LEAK7@db:5432/x"]
      args: [sh, -c, "run --client-secret=LEAK8 && curl https://u:LEAK9@h/x"]
    initContainers:
    - {name: init, image: x, env: [{name: PLAIN, value: LEAK10}]}
    volumes: [{name: d, persistentVolumeClaim: {claimName: missing}}]
  status: {phase: Pending}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: ml, uid: d1}
  spec:
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: c, image: x, env: [{name: KEY, value: LEAK11}], args: ["--password", "LEAK12"]}]
"#;

#[test]
fn collect_redacts_credentials_unless_asked_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture.yaml");
    fs::write(&capture, WITH_CREDENTIALS).unwrap();
    let ticket = dir.path().join("ticket.yaml");
    let out = doctor()
        .args(["collect", "--from", capture.to_str().unwrap(), "-f"])
        .arg(&ticket)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = fs::read_to_string(&ticket).unwrap();
    assert!(!text.contains("LEAK"), "{text}");
    assert!(!text.contains("last-applied-configuration"), "{text}");
    for kept in [
        "DB_PASSWORD",
        "secretKeyRef",
        "--api-key=REDACTED",
        "postgres://REDACTED@db:5432/x",
        "type: gp3",
    ] {
        assert!(text.contains(kept), "{kept} not in {text}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("REDACTED"));
    let (_, original) = json(&["--from", capture.to_str().unwrap()]);
    let (_, collected) = json(&["--from", ticket.to_str().unwrap()]);
    assert_eq!(original["findings"], collected["findings"]);
    assert_eq!(original["summary"], collected["summary"]);

    let out = doctor()
        .args([
            "collect",
            "--no-redact",
            "--from",
            capture.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for n in 1..=12 {
        assert!(
            text.contains(&format!("LEAK{n}")),
            "LEAK{n} not kept: {text}"
        );
    }
    // A diagnosis skips the annotation while parsing; collect keeps it.
    assert!(text.contains("last-applied-configuration"), "{text}");
}

/// A server URL with a user, a password or a token in its query: none of
/// them is printed, in `-v` or in the error.
#[test]
fn credentials_in_the_server_url_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(
        dir.path(),
        "https://admin:hunter2@127.0.0.1:1/?token=sekrit",
    );
    let out = doctor()
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "-v",
            "--request-timeout",
            "5s",
        ])
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot reach the cluster at https://127.0.0.1:1/?token=REDACTED: "),
        "{stderr}"
    );
    for secret in ["hunter2", "sekrit", "admin"] {
        assert!(!stderr.contains(secret), "{secret} shown: {stderr}");
    }
}

/// Names and messages from a capture or a cluster reach stderr (errors,
/// `collect`'s warnings) escaped: never as terminal commands.
#[test]
fn stderr_shows_cluster_text_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.yaml");
    fs::write(
        &file,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: storage.k8s.io/v1\n  kind: StorageClass\n  metadata: {name: \"x\\e]0;owned\\a\\e[2J\"}\n  provisioner: [1]\n- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata: {name: d, namespace: x}\n",
    )
    .unwrap();
    let out = doctor()
        .args(["collect", "--from", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("x^[]0;owned^G^[[2J"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");

    let out = doctor()
        .args(["--from", file.to_str().unwrap(), "pod/\u{1b}[2Jx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("pod/^[[2Jx"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

/// Devices, FIFOs, symlink loops and endless or binary input end in a
/// clear error or are skipped, never a hang or unbounded memory.
#[test]
fn hostile_files_are_refused_or_skipped() {
    let limit = std::time::Duration::from_secs(20);
    for device in ["/dev/zero", "/dev/urandom"] {
        doctor()
            .args(["--from", device])
            .timeout(limit)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "{device}: not a regular file"
            )));
    }
    doctor()
        .args(["--from", TRIAGE, "--drivers", "/dev/zero"])
        .timeout(limit)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    doctor()
        .args(["--from", fifo.to_str().unwrap()])
        .timeout(limit)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a regular file"));

    // A folder: a FIFO, a device behind a symlink, a loop of symlinks and
    // a symlink back up beside a real capture. Only the capture is read.
    let folder = dir.path();
    fs::copy(TRIAGE, folder.join("capture.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", folder.join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink(folder.join("b.yaml"), folder.join("a.yaml")).unwrap();
    std::os::unix::fs::symlink(folder.join("a.yaml"), folder.join("b.yaml")).unwrap();
    fs::create_dir(folder.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", folder.join("sub").join("up")).unwrap();
    let (_, direct) = json(&["--from", TRIAGE]);
    let out = doctor()
        .args(["--from", folder.to_str().unwrap(), "-o", "json"])
        .timeout(limit)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], direct["findings"]);

    // Endless zeros on standard input, and a regular file of zeros.
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin!("kubectl-storage_doctor"))
        .args(["--from", "-"])
        .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests")
        .stdin(fs::File::open("/dev/zero").unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("<stdin>: not a text file (a NUL byte at byte 0)"),
        "{stderr}"
    );
    let zeros = dir.path().join("zeros.json");
    fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    doctor()
        .args(["--from", zeros.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("zeros.json: not a text file"));

    // More than --max-input-bytes, in YAML and in JSON.
    let json_capture = dir.path().join("capture.json");
    let list = doctor()
        .args(["collect", "--from", TRIAGE, "-o", "json"])
        .output()
        .unwrap();
    fs::write(&json_capture, list.stdout).unwrap();
    for file in [TRIAGE, json_capture.to_str().unwrap()] {
        doctor()
            .args(["--from", file, "--max-input-bytes", "1Ki"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("larger than 1024 bytes"))
            .stderr(predicate::str::contains("--max-input-bytes"));
        doctor()
            .args(["--from", file, "--max-input-bytes", "1Mi"])
            .assert()
            .code(1);
    }
}

/// Targets and flags as kubectl users type them.
#[test]
fn targets_and_flags_as_kubectl_takes_them() {
    let (_, short) = json(&["--from", TRIAGE, "pvc/scratch"]);
    for args in [
        &["--from", TRIAGE, "persistentvolumeclaim/scratch"][..],
        &["--from", TRIAGE, "pvc", "scratch"],
        &["--from", TRIAGE, "PersistentVolumeClaims", "scratch"],
        &["--from", TRIAGE, "pvc/scratch", "--all-namespaces=true"],
        &[
            "--from",
            TRIAGE,
            "-n",
            "elsewhere",
            "-n",
            "triage",
            "pvc/scratch",
        ],
    ] {
        let (code, r) = json(args);
        assert_eq!(code, 1, "{args:?}: {r}");
        assert_eq!(r["findings"], short["findings"], "{args:?}");
    }
    let (_, r) = json(&["--from", TRIAGE, "pod", "trainer", "preprocess"]);
    assert_eq!(r["summary"]["subjects"], 2, "{r}");
    let (code, _) = json(&["--from", TRIAGE, "--all-namespaces=false"]);
    assert_eq!(code, 1);
    doctor()
        .args(["--from", TRIAGE, "pvc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a NAME"));
    doctor()
        .args(["--from", TRIAGE, "deployment.batch/x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("API group"));
    let help = doctor().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("pod, pvc, deploy, sts, rs, ds, job, cronjob, sc, node, pv"),
        "{help}"
    );
    assert!(help.contains("deployment.apps/vllm"), "{help}");
}

/// A capture cut short (`head -c`) is diagnosed with a gap saying so.
#[test]
fn a_cut_capture_says_so() {
    let full = fs::read_to_string(TRIAGE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.yaml");
    fs::write(&cut, &full[..full.len() * 2 / 3]).unwrap();
    let (_, r) = json(&["--from", cut.to_str().unwrap()]);
    let gaps = r["gaps"].as_array().unwrap();
    assert!(
        gaps.iter()
            .any(|g| g["reason"] == "Truncated"
                && g["message"].as_str().unwrap().contains("looks cut")),
        "{r}"
    );
    let (_, r) = json(&["--from", TRIAGE]);
    assert!(!r["gaps"].to_string().contains("Truncated"));
}

/// At 80 and 60 columns the human report wraps at spaces: no rule id,
/// name or word is cut in two, the table keeps whole rule ids (dropping
/// STATUS before it would split one), and no line is wider than the
/// terminal unless one word is.
#[test]
fn narrow_terminals_never_split_a_word_or_rule_id() {
    use std::collections::BTreeMap;
    fn words(text: &str) -> BTreeMap<&str, usize> {
        let mut count = BTreeMap::new();
        for w in text.split_whitespace() {
            *count.entry(w).or_insert(0) += 1;
        }
        count
    }
    // The report without its overview table (its layout is its own) and
    // the closing summary (only after more than a screen of lines).
    fn blocks(text: &str) -> String {
        let start = text.find(" SEVERITY").unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        let last = text
            .rfind("\nkubectl storage-doctor: ")
            .filter(|&i| i > end);
        format!(
            "{}{}",
            &text[..start],
            &text[end..last.unwrap_or(text.len())]
        )
    }
    let examples = [
        TRIAGE,
        "examples/pending-pvc-faq.yaml",
        "examples/model-weights.yaml",
    ];
    for example in examples {
        for format in ["human", "wide"] {
            let args = ["--from", example, "-o", format, "--color", "never"];
            let unwrapped = doctor().args(args).output().unwrap().stdout;
            let unwrapped = String::from_utf8(unwrapped).unwrap();
            let (_, report) = json(&["--from", example]);
            for width in [80usize, 60] {
                let out = doctor()
                    .args(args)
                    .env("COLUMNS", width.to_string())
                    .output()
                    .unwrap();
                let text = String::from_utf8(out.stdout).unwrap();
                let case = format!("{example} -o {format} at {width} columns:\n{text}");
                // Only a word longer than the line itself may stick out.
                for line in text.lines().filter(|l| l.chars().count() > width) {
                    let words = line
                        .split_whitespace()
                        .filter(|w| !["-", ">", "→"].contains(w));
                    assert_eq!(words.count(), 1, "{line:?} is too wide; {case}");
                }
                assert_eq!(words(&blocks(&text)), words(&blocks(&unwrapped)), "{case}");
                let table = &text[text.find(" SEVERITY").unwrap()..];
                let table = &table[..table.find("\n\n").unwrap()];
                for f in report["findings"].as_array().unwrap() {
                    let rule = f["causes"][0]["rule"].as_str().unwrap();
                    let name = f["subject"]["name"].as_str().unwrap();
                    assert!(
                        table
                            .lines()
                            .any(|l| l.split_whitespace().any(|w| w == rule)),
                        "{rule} is split; {case}"
                    );
                    assert!(
                        table.lines().any(|l| l.contains(name)),
                        "{name} is split; {case}"
                    );
                }
            }
        }
    }
}

#[test]
fn no_headers_min_severity_and_quiet() {
    const FAQ: &str = "examples/pending-pvc-faq.yaml";
    let human = |args: &[&str]| {
        let out = doctor()
            .args(["--from", FAQ, "--color", "never"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };
    // --no-headers: the same rows, no header row.
    let (_, with) = human(&[]);
    let (_, without) = human(&["--no-headers"]);
    assert!(
        with.contains(" SEVERITY ") && !without.contains("SEVERITY"),
        "{without}"
    );
    assert!(without.contains("storageclass-not-found"));
    // --min-severity: the info finding goes, the summary and exit status stay.
    let (code, shown) = human(&["--min-severity", "error"]);
    assert_eq!(code, 1);
    assert!(shown.contains("4 broken, 0 warning(s), 1 info"), "{shown}");
    assert!(!shown.contains("waiting-for-first-consumer"), "{shown}");
    assert!(
        shown.contains("1 finding(s) below --min-severity not shown"),
        "{shown}"
    );
    let (_, none) = human(&["--min-severity", "critical"]);
    assert!(!none.contains("no storage problem found"), "{none}");
    let (code, r) = json(&["--from", FAQ, "--min-severity", "error"]);
    assert_eq!(code, 1);
    assert_eq!(r["summary"]["info"], 1);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    assert!(findings.iter().all(|f| f["severity"] == "error"));
    // -q: nothing on stdout, the exit status as ever; errors still said.
    for (input, code) in [(FAQ, 1), (HEALTHY, 0)] {
        doctor()
            .args(["--from", input, "-q"])
            .assert()
            .code(code)
            .stdout("");
    }
    doctor()
        .args(["--from", "/nonexistent/dump.yaml", "--quiet"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("/nonexistent/dump.yaml"));
}

#[test]
fn long_human_reports_end_with_the_summary() {
    let out = doctor()
        .args(["--from", TRIAGE, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let summary = text.lines().next().unwrap();
    assert!(text.lines().count() > 40);
    assert_eq!(text.lines().last(), Some(summary), "{text}");
    let out = doctor()
        .args(["--from", HEALTHY, "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("healthy of").count(), 1, "{text}");
}

#[test]
fn version_tells_the_build() {
    let out = doctor().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "kubectl storage-doctor {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    for line in [
        "commit: ",
        "target: ",
        "kubernetes API: 1.",
        "report: storage-doctor/v1",
    ] {
        assert!(text.contains(line), "{line:?} not in {text}");
    }
    // -V stays one line.
    let out = doctor().arg("-V").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
}

/// Namespaces and names such as `on`, `no` and `y` are valid Kubernetes
/// names that YAML 1.1 readers (PyYAML, older Go and Ruby libraries) take
/// for booleans unless quoted; so are timestamps for dates.
#[test]
fn yaml_quotes_what_yaml_1_1_reads_as_booleans() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(TRIAGE)
        .unwrap()
        .replace("namespace: triage", "namespace: \"on\"")
        .replace("name: trainer\n", "name: \"no\"\n");
    let input = dir.path().join("on.yaml");
    fs::write(&input, text).unwrap();
    let input = input.to_str().unwrap();
    let out = doctor()
        .args(["--from", input, "-o", "yaml"])
        .output()
        .unwrap();
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(yaml.contains("namespace: 'on'\n"), "{yaml}");
    assert!(yaml.contains("name: 'no'\n"), "{yaml}");
    assert!(
        yaml.contains("capturedAt: '2026-11-20T10:30:00Z'\n"),
        "{yaml}"
    );
    for word in ["on", "no"] {
        assert!(!yaml.contains(&format!(": {word}\n")), "{yaml}");
        assert!(!yaml.contains(&format!("- {word}\n")), "{yaml}");
    }
    let (_, from_json) = json(&["--from", input]);
    let from_yaml: Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(from_json, from_yaml);
}
