//! Cluster faults at the HTTP level: a small fake API server on loopback
//! answers the tool's requests and injects throttling, errors, expired
//! continue tokens and cut connections. Each case must end in a diagnosis
//! of what could be read, or a one-line error with exit 2, never a hang.
//! No credential (token, key, exec-plugin output) may show in any output,
//! `-v`'s request log included.

mod support;

use assert_cmd::cargo::cargo_bin;
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::http;
use support::rank::first_rank_one;

/// What the fake server does with one request.
enum Answer {
    Json(u16, String, Vec<(&'static str, String)>),
    /// Close the connection without answering.
    Cut,
}

fn ok(body: &str) -> Answer {
    Answer::Json(200, body.to_string(), Vec::new())
}

fn status(code: u16, reason: &str) -> Answer {
    Answer::Json(
        code,
        http::status_body(code, reason, &format!("injected {reason}")),
        Vec::new(),
    )
}

const VERSION: &str = r#"{"major":"1","minor":"30","gitVersion":"v1.30.2","gitCommit":"x","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.22","compiler":"gc","platform":"linux/amd64"}"#;

fn empty_list() -> String {
    r#"{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}"#.to_string()
}

/// A pod mounting a claim that does not exist, so a diagnosis has something to find.
fn pod_list(continue_token: Option<&str>) -> String {
    let cont = continue_token
        .map(|t| format!(r#","continue":"{t}""#))
        .unwrap_or_default();
    format!(
        r#"{{"kind":"PodList","apiVersion":"v1","metadata":{{"resourceVersion":"1"{cont}}},"items":[{{"metadata":{{"name":"app","namespace":"default","uid":"u1","creationTimestamp":"2026-11-20T10:00:00Z"}},"spec":{{"containers":[{{"name":"c","image":"busybox"}}],"volumes":[{{"name":"d","persistentVolumeClaim":{{"claimName":"data"}}}}]}},"status":{{"phase":"Pending"}}}}]}}"#
    )
}

struct FakeServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    seen: Arc<Seen>,
}

/// Headers of each request the server answered.
#[derive(Default)]
struct Seen {
    /// Authorization, to see which credentials arrived.
    authorizations: Mutex<Vec<String>>,
    /// Accept-Encoding, empty when not sent.
    accept_encodings: Mutex<Vec<String>>,
}

/// Starts a server answering with `answer(n, path)` for the n-th request.
fn serve(answer: impl Fn(usize, &str) -> Answer + Send + Sync + 'static) -> FakeServer {
    let requests = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Seen::default());
    let counter = requests.clone();
    let headers = seen.clone();
    let port = http::listen(move |stream| handle(stream, &counter, &headers, &answer));
    FakeServer {
        port,
        requests,
        seen,
    }
}

/// Answers the requests of one connection until it is closed or cut.
fn handle(
    mut stream: TcpStream,
    counter: &AtomicUsize,
    seen: &Seen,
    answer: &(dyn Fn(usize, &str) -> Answer + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    while let Some(request) = http::read_request(&mut reader) {
        if let Some(value) = request.header("authorization") {
            seen.authorizations.lock().unwrap().push(value.to_string());
        }
        seen.accept_encodings.lock().unwrap().push(
            request
                .header("accept-encoding")
                .unwrap_or_default()
                .to_string(),
        );
        let n = counter.fetch_add(1, Ordering::SeqCst);
        match answer(n, &request.path) {
            Answer::Cut => return,
            Answer::Json(code, body, headers) => {
                if stream
                    .write_all(&http::response(code, "X", &headers, &body))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// The credentials every fault test uses; none of it may ever be printed.
const TOKEN_USER: &str = "{token: secret-token-value}";

struct Run {
    code: i32,
    report: serde_json::Value,
    stderr: String,
    took: Duration,
}

/// Runs the tool against the fake server as `user` (a kubeconfig user
/// entry) with `args`, and checks that none of `secrets` shows in its output.
fn run_as(server: &FakeServer, user: &str, args: &[&str], secrets: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let config = support::kubeconfig::write(
        dir.path(),
        &format!("{{server: 'http://127.0.0.1:{}'}}", server.port),
        user,
        "default",
    );
    let started = Instant::now();
    let out = std::process::Command::new(cargo_bin!("kubectl-storage_doctor"))
        .arg("--kubeconfig")
        .arg(&config)
        .args(args)
        .args(["-o", "json"])
        .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in ["secret-token-value"].iter().chain(secrets) {
        assert!(
            !stderr.contains(secret) && !stdout.contains(secret),
            "{secret} leaked:\n{stdout}\n{stderr}"
        );
    }
    Run {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
        stderr,
        took,
    }
}

/// Runs the tool against the fake server; returns exit code, stdout JSON, stderr, duration.
fn run_against(server: &FakeServer, timeout: &str) -> (i32, serde_json::Value, String, Duration) {
    let run = run_as(server, TOKEN_USER, &["--request-timeout", timeout], &[]);
    (run.code, run.report, run.stderr, run.took)
}

fn routes(path: &str) -> Answer {
    if path.starts_with("/version") {
        ok(VERSION)
    } else if path.starts_with("/api/v1/namespaces/default/pods") {
        ok(&pod_list(None))
    } else {
        ok(&empty_list())
    }
}

#[test]
fn throttling_with_retry_after_is_waited_out() {
    let server = serve(|n, path| {
        if n < 2 {
            Answer::Json(429, String::new(), vec![("Retry-After", "1".to_string())])
        } else {
            routes(path)
        }
    });
    let (code, report, stderr, _) = run_against(&server, "10s");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(first_rank_one(&report), Some("claim-not-found"));
    assert!(server.requests.load(Ordering::SeqCst) > 2);
}

#[test]
fn forbidden_and_failing_kinds_become_gaps() {
    let server = serve(|_, path| {
        if path.starts_with("/apis/storage.k8s.io/v1/storageclasses") {
            status(403, "Forbidden")
        } else if path.starts_with("/api/v1/nodes") {
            status(500, "InternalError")
        } else {
            routes(path)
        }
    });
    let (code, report, stderr, _) = run_against(&server, "10s");
    assert_eq!(code, 1, "{stderr}");
    let gaps: Vec<(&str, &str)> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["resource"].as_str().unwrap(),
                g["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(gaps.contains(&("storageclasses", "Forbidden")), "{gaps:?}");
    assert!(gaps.contains(&("nodes", "InternalError")), "{gaps:?}");
    assert_eq!(first_rank_one(&report), Some("claim-not-found"));
}

#[test]
fn an_expired_continue_token_restarts_the_list() {
    let pod_pages = Arc::new(Mutex::new(0));
    let pages = pod_pages.clone();
    let server = serve(move |_, path| {
        if path.starts_with("/api/v1/namespaces/default/pods") {
            let mut n = pages.lock().unwrap();
            *n += 1;
            match (*n, path.contains("continue=")) {
                (1, false) => ok(&pod_list(Some("page2"))),
                (_, true) => status(410, "Expired"),
                _ => ok(&pod_list(None)),
            }
        } else {
            routes(path)
        }
    });
    let (code, report, stderr, _) = run_against(&server, "10s");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        report["summary"]["subjects"], 1,
        "the pod is read once, not twice"
    );
    assert_eq!(*pod_pages.lock().unwrap(), 3);
}

#[test]
fn a_cut_connection_is_a_one_line_error() {
    let server = serve(|_, path| {
        if path.starts_with("/api/v1/namespaces/default/pods") {
            Answer::Cut
        } else {
            routes(path)
        }
    });
    let (code, _, stderr, took) = run_against(&server, "5s");
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("ServiceError"), "{stderr}");
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn a_server_failing_every_list_is_an_error_not_a_clean_bill() {
    let server = serve(|_, path| {
        if path.starts_with("/version") {
            ok(VERSION)
        } else {
            status(500, "InternalError")
        }
    });
    let (code, report, stderr, _) = run_against(&server, "5s");
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("nothing could be read from the cluster at http://127.0.0.1:")
            && stderr.contains("pods: InternalError"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(report, serde_json::Value::Null);
}

#[test]
fn refused_credentials_are_a_one_line_error() {
    let server = serve(|_, _| status(401, "Unauthorized"));
    let (code, _, stderr, _) = run_against(&server, "5s");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("refused the credentials (401)"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn endless_throttling_ends_within_the_request_timeout() {
    let server =
        serve(|_, _| Answer::Json(503, String::new(), vec![("Retry-After", "1".to_string())]));
    let (code, _, stderr, took) = run_against(&server, "3s");
    assert_eq!(code, 2, "{stderr}");
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn verbose_logs_each_request_and_never_the_token() {
    let server = serve(|_, path| routes(path));
    let run = run_as(&server, TOKEN_USER, &["-v"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(first_rank_one(&run.report), Some("claim-not-found"));
    assert!(
        run.stderr.contains("credentials: bearer token"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("GET /api/v1/namespaces/default/pods?&resourceVersion=0&resourceVersionMatch=NotOlderThan → 200"),
        "{}",
        run.stderr
    );
    let requests = server.requests.load(Ordering::SeqCst);
    assert!(
        run.stderr.contains(&format!("{requests} requests in")),
        "{}",
        run.stderr
    );
    assert!(server
        .seen
        .authorizations
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == "Bearer secret-token-value"));
}

/// `-v` names the namespace actually read, not the context's default.
#[test]
fn verbose_names_the_namespace_in_scope() {
    let server = serve(|_, path| routes(path));
    for (args, said, not_said) in [
        (&["-v"][..], "namespace default", "all namespaces"),
        (
            &["-v", "-n", "team-a"][..],
            "namespace team-a",
            "namespace default",
        ),
        (&["-v", "-A"][..], "all namespaces", "namespace default"),
    ] {
        let run = run_as(&server, TOKEN_USER, args, &[]);
        assert!(run.stderr.contains(said), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains(not_said), "{args:?}: {}", run.stderr);
    }
}

/// An exec credential plugin that prints a token and fails; kube's own
/// error would quote both its stdout and stderr.
fn exec_plugin(dir: &std::path::Path, stdout: &str, status: i32) -> String {
    let path = dir.join("credential-plugin");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\nprintf '%s' '{stdout}'\necho plugin-stderr-secret >&2\nexit {status}\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    format!(
        "{{exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: '{}', interactiveMode: Never}}}}",
        path.display()
    )
}

const CREDENTIAL: &str = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"exec-token-secret"}}"#;

#[test]
fn exec_plugin_tokens_are_used_and_never_printed() {
    let server = serve(|_, path| routes(path));
    let dir = tempfile::tempdir().unwrap();
    let user = exec_plugin(dir.path(), CREDENTIAL, 0);
    let run = run_as(
        &server,
        &user,
        &["-v"],
        &["exec-token-secret", "plugin-stderr-secret"],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("credentials: exec plugin"),
        "{}",
        run.stderr
    );
    let seen = server.seen.authorizations.lock().unwrap();
    assert!(!seen.is_empty() && seen.iter().all(|a| a == "Bearer exec-token-secret"));
}

#[test]
fn a_failing_exec_plugin_is_one_line_without_its_output() {
    let server = serve(|_, path| routes(path));
    let dir = tempfile::tempdir().unwrap();
    for (stdout, status) in [(CREDENTIAL, 1), ("not-json exec-token-secret", 0)] {
        let user = exec_plugin(dir.path(), stdout, status);
        let run = run_as(
            &server,
            &user,
            &["-v"],
            &["exec-token-secret", "plugin-stderr-secret"],
        );
        assert_eq!(run.code, 2, "{}", run.stderr);
        let error: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(error.len(), 1, "{}", run.stderr);
        assert!(
            error[0].contains("cannot get credentials")
                && error[0].contains("exec credential plugin"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
}

#[test]
fn a_broken_kubeconfig_is_located_without_quoting_it() {
    let server = serve(|_, path| routes(path));
    for (user, place) in [
        // Unclosed: the parser would print the line with the token and key.
        (
            "{token: \"secret-token-value\", client-key-data: \"key-secret\"",
            "line 12",
        ),
        // A scalar where a map belongs: the parser would quote the value.
        ("\"key-secret\"", "line 12"),
    ] {
        let run = run_as(&server, user, &[], &["key-secret"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("cannot load kubeconfig"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(place), "{}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn collect_names_what_it_could_not_read() {
    let server = serve(|_, path| {
        if path.starts_with("/apis/storage.k8s.io/v1/storageclasses") {
            status(403, "Forbidden")
        } else {
            routes(path)
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.json");
    let run = run_as(
        &server,
        TOKEN_USER,
        &["collect", "-f", file.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: not in the capture: storageclasses (Forbidden)"),
        "{}",
        run.stderr
    );
    let capture: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(capture["items"].as_array().unwrap().len(), 1, "the pod");
}

/// `-n` naming a namespace the server does not have (404) is an error with
/// the close names it does have, not a clean bill of health.
#[test]
fn an_unknown_namespace_is_an_error_with_suggestions() {
    let server = serve(|_, path| {
        if path.starts_with("/api/v1/namespaces/traning")
            && !path.contains("/pods")
            && !path.contains("/events")
        {
            status(404, "NotFound")
        } else if path.starts_with("/api/v1/namespaces?") || path == "/api/v1/namespaces" {
            ok(
                r#"{"kind":"NamespaceList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"training"}},{"metadata":{"name":"default"}}]}"#,
            )
        } else {
            routes(path)
        }
    });
    let run = run_as(
        &server,
        TOKEN_USER,
        &["-n", "traning", "--request-timeout", "10s"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("namespace traning not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean training?"),
        "{}",
        run.stderr
    );
    // A namespace that exists but holds nothing is a clean report.
    let run = run_as(
        &server,
        TOKEN_USER,
        &["-n", "training", "--request-timeout", "10s"],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Every request path the fake server saw, and a server answering `routes`
/// that records them.
fn recording(
    answer: impl Fn(&str) -> Answer + Send + Sync + 'static,
) -> (FakeServer, Arc<Mutex<Vec<String>>>) {
    let paths = Arc::new(Mutex::new(Vec::new()));
    let seen = paths.clone();
    let server = serve(move |_, path| {
        seen.lock().unwrap().push(path.to_string());
        answer(path)
    });
    (server, paths)
}

#[test]
fn lists_are_served_from_the_watch_cache_and_read_consistently_when_refused() {
    let (server, paths) = recording(|path| {
        if path.starts_with("/api/v1/namespaces/default/pods") && path.contains("resourceVersion=0")
        {
            status(500, "InternalError")
        } else {
            routes(path)
        }
    });
    let run = run_as(&server, TOKEN_USER, &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(first_rank_one(&run.report), Some("claim-not-found"));
    assert!(
        run.report["gaps"].as_array().is_none_or(|g| g.is_empty()),
        "{}",
        run.report["gaps"]
    );
    let paths = paths.lock().unwrap();
    // Events are not in the watch cache: they are read consistently, in
    // one response (pages would read them all from etcd once each).
    let lists: Vec<&String> = paths
        .iter()
        .filter(|p| !p.starts_with("/version") && !p.contains("/events?"))
        .collect();
    assert!(paths
        .iter()
        .filter(|p| p.contains("/events?"))
        .all(|p| !p.contains("limit=") && !p.contains("resourceVersion")));
    assert!(
        lists
            .iter()
            .all(|p| p.contains("/pods") || p.contains("resourceVersion=0")),
        "{lists:#?}"
    );
    let pod_reads: Vec<&&String> = lists
        .iter()
        .filter(|p| p.starts_with("/api/v1/namespaces/default/pods"))
        .collect();
    assert_eq!(
        pod_reads.len(),
        2,
        "from the cache, then consistently: {pod_reads:#?}"
    );
    assert!(!pod_reads[1].contains("resourceVersion"), "{pod_reads:#?}");
}

#[test]
fn a_server_on_this_machine_is_asked_for_no_compression_unless_told() {
    let accept_encodings = |args: &[&str]| {
        let server = serve(|_, path| routes(path));
        let run = run_as(&server, TOKEN_USER, args, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(first_rank_one(&run.report), Some("claim-not-found"));
        let seen = server.seen.accept_encodings.lock().unwrap().clone();
        assert!(seen.len() > 3, "{seen:?}");
        seen
    };
    // The fake server listens on 127.0.0.1.
    for args in [&[][..], &["--disable-compression"]] {
        let seen = accept_encodings(args);
        assert!(
            seen.iter().all(|e| !e.contains("gzip")),
            "{args:?}: {seen:?}"
        );
    }
    let seen = accept_encodings(&["--disable-compression=false"]);
    assert!(seen.iter().all(|e| e.contains("gzip")), "{seen:?}");
}

#[test]
fn consistent_reads_never_ask_the_watch_cache() {
    let (server, paths) = recording(routes);
    let run = run_as(&server, TOKEN_USER, &["--consistent"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths = paths.lock().unwrap();
    assert!(paths.iter().any(|p| p.contains("limit=")), "{paths:#?}");
    assert!(
        !paths.iter().any(|p| p.contains("resourceVersion")),
        "{paths:#?}"
    );
}

#[test]
fn events_are_read_once_without_the_lifecycle_noise() {
    let (server, paths) = recording(routes);
    let run = run_as(&server, TOKEN_USER, &[], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths = paths.lock().unwrap();
    let events: Vec<&String> = paths.iter().filter(|p| p.contains("/events")).collect();
    assert_eq!(events.len(), 1, "one event LIST: {events:#?}");
    assert!(
        events[0].contains("fieldSelector=reason%21%3DPulling%2C"),
        "field-selected: {events:#?}"
    );
    assert!(
        !events[0].contains("type%3D"),
        "Warnings and Normal events in the same LIST: {events:#?}"
    );
}

#[test]
fn a_pod_target_is_read_by_gets_without_listing_its_namespace() {
    let pod = r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"app","namespace":"default","uid":"u1","creationTimestamp":"2026-11-20T10:00:00Z"},"spec":{"containers":[{"name":"c","image":"busybox"}],"volumes":[{"name":"d","persistentVolumeClaim":{"claimName":"data"}}]},"status":{"phase":"Pending"}}"#;
    let (server, paths) = recording(move |path| {
        if path.starts_with("/api/v1/namespaces/default/pods/app") {
            ok(pod)
        } else if path.starts_with("/api/v1/namespaces/default/persistentvolumeclaims/") {
            status(404, "NotFound")
        } else {
            routes(path)
        }
    });
    let run = run_as(&server, TOKEN_USER, &["pod/app"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(first_rank_one(&run.report), Some("claim-not-found"));
    let paths = paths.lock().unwrap();
    assert!(
        !paths
            .iter()
            .any(|p| p.starts_with("/api/v1/namespaces/default/pods?")),
        "the namespace's pods are not listed: {paths:#?}"
    );
    assert!(
        paths
            .iter()
            .any(|p| p.contains("/events?") && p.contains("involvedObject.name%3Dapp")),
        "{paths:#?}"
    );
    // The version, the pod, classes, drivers, the claim, the pod's events,
    // the nodes it could go to, the namespace's claims to suggest the name
    // meant, and the drivers' workloads and Leases wherever they run.
    assert!(paths.len() <= 12, "{paths:#?}");
}

#[test]
fn a_pod_target_that_does_not_exist_suggests_the_name_meant() {
    let server = serve(|_, path| {
        if path.starts_with("/api/v1/namespaces/default/pods/") {
            status(404, "NotFound")
        } else {
            routes(path)
        }
    });
    let run = run_as(&server, TOKEN_USER, &["pod/apq"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean pod/app?"),
        "{}",
        run.stderr
    );
}

/// A cluster-scoped target of a kind the user may not read (403) is
/// unreadable, with the permission it takes, not "not found in namespace
/// X": cluster-scoped kinds are in no namespace.
#[test]
fn a_target_of_a_kind_the_user_may_not_read_says_which_permission() {
    let server = serve(|_, path| {
        if path.starts_with("/api/v1/persistentvolumes") {
            Answer::Json(
                403,
                http::status_body(
                    403,
                    "Forbidden",
                    r#"persistentvolumes is forbidden: User "team-a-dev" cannot list resource "persistentvolumes" in API group "" at the cluster scope"#,
                ),
                Vec::new(),
            )
        } else {
            routes(path)
        }
    });
    let run = run_as(&server, TOKEN_USER, &["-n", "team-a", "pv/data-pv"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(error.contains("pv/data-pv cannot be read"), "{error}");
    assert!(
        error.contains("`list persistentvolumes` at the cluster scope"),
        "{error}"
    );
    assert!(error.contains("403"), "{error}");
    assert!(!error.contains("not found"), "{error}");
    assert!(!error.contains("team-a"), "{error}");

    // Readable and absent: not found, and in no namespace.
    let server = serve(|_, path| routes(path));
    let run = run_as(&server, TOKEN_USER, &["-n", "team-a", "pv/data-pv"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("pv/data-pv not found"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("namespace"), "{}", run.stderr);
}

/// A kubeconfig user whose exec plugin is the shell script `body`, with
/// `interactiveMode` `mode`.
fn plugin_user(dir: &std::path::Path, body: &str, mode: &str) -> String {
    let path = dir.join("credential-plugin");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    format!(
        "{{exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: '{}', interactiveMode: {mode}}}}}",
        path.display()
    )
}

/// A plugin that never finishes is stopped at `--request-timeout`, with
/// an error that names it.
#[test]
fn a_hanging_exec_plugin_is_stopped_at_the_request_timeout() {
    let server = serve(|_, path| routes(path));
    let dir = tempfile::tempdir().unwrap();
    let user = plugin_user(dir.path(), "exec sleep 120", "Never");
    let run = run_as(&server, &user, &["--request-timeout", "1s"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.took < Duration::from_secs(10), "{:?}", run.took);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains("exec credential plugin `") && error.contains("credential-plugin`"),
        "{error}"
    );
    assert!(
        error.contains("did not finish within 1s (--request-timeout)"),
        "{error}"
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 0);
}

/// Credentials the server refuses (401) end the run with one error naming
/// the plugin; the plugin ran once, even though its token says it has
/// expired (kube would run it again before every request).
#[test]
fn refused_exec_credentials_run_the_plugin_once() {
    let server = serve(|_, path| {
        if path.starts_with("/version") {
            ok(VERSION)
        } else {
            status(401, "Unauthorized")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let user = plugin_user(
        dir.path(),
        &format!(
            "echo run >> '{}'\nprintf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"exec-token-secret\",\"expirationTimestamp\":\"2020-01-01T00:00:00Z\"}}}}'",
            runs.display()
        ),
        "IfAvailable",
    );
    let run = run_as(&server, &user, &[], &["exec-token-secret"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "{error}");
    assert!(
        error.contains("refused the credentials (401) of the exec plugin `"),
        "{error}"
    );
    let ran = std::fs::read_to_string(&runs).unwrap();
    assert_eq!(ran.lines().count(), 1, "the plugin ran {ran:?}");
    assert!(server
        .seen
        .authorizations
        .lock()
        .unwrap()
        .iter()
        .all(|a| a == "Bearer exec-token-secret"));
}

/// `interactiveMode: Always` needs a terminal, as in kubectl; without one
/// the plugin is not started.
#[test]
fn an_exec_plugin_that_always_needs_a_terminal_is_refused_without_one() {
    let server = serve(|_, path| routes(path));
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let user = plugin_user(
        dir.path(),
        &format!("echo run >> '{}'", runs.display()),
        "Always",
    );
    let run = run_as(&server, &user, &[], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("needs a terminal (interactiveMode: Always), and standard input is not one"),
        "{}",
        run.stderr
    );
    assert!(!runs.exists());
}

/// On a terminal, a plugin that prompts (interactiveMode IfAvailable) gets
/// the terminal, and no spinner is drawn over its prompt while it waits
/// for the answer. `script` (util-linux) gives the tool a terminal.
#[test]
fn an_exec_plugin_prompting_on_a_terminal_is_not_drawn_over() {
    let server = serve(|_, path| routes(path));
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let user = plugin_user(
        dir.path(),
        &format!(
            "echo run >> '{}'\nprintf 'Enter MFA code: ' >&2\nsleep 1\nread code\necho \"plugin got $code\" >&2\nprintf '%s' '{CREDENTIAL}'",
            runs.display()
        ),
        "IfAvailable",
    );
    let config = support::kubeconfig::write(
        dir.path(),
        &format!("{{server: 'http://127.0.0.1:{}'}}", server.port),
        &user,
        "default",
    );
    let command = format!(
        "{} --kubeconfig {} --request-timeout 10s",
        cargo_bin!("kubectl-storage_doctor").display(),
        config.display()
    );
    let mut terminal = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the tool on a terminal");
    terminal
        .stdin
        .take()
        .unwrap()
        .write_all(b"123456\n")
        .unwrap();
    let out = terminal.wait_with_output().unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(
        transcript.contains("Enter MFA code: plugin got 123456"),
        "{transcript:?}"
    );
    assert_eq!(std::fs::read_to_string(&runs).unwrap().lines().count(), 1);
    assert_eq!(out.status.code(), Some(1), "{transcript:?}");
    let seen = server.seen.authorizations.lock().unwrap();
    assert!(!seen.is_empty() && seen.iter().all(|a| a == "Bearer exec-token-secret"));
}

/// kubectl (1.26+) completes `kubectl storage-doctor ARGS <TAB>` by
/// running `kubectl_complete-storage_doctor ARGS WORD`: a link to the
/// binary under that name answers, with names from the cluster in the
/// namespace of `-n`, and with nothing (quickly) when the cluster is out of
/// reach.
#[test]
fn kubectl_completion_offers_names_from_the_cluster() {
    let server = serve(|_, path| {
        if path.starts_with("/api/v1/namespaces/team-a/persistentvolumeclaims") {
            ok(
                r#"{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"1"},"items":[{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"data-b","namespace":"team-a"}},{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"data-a","namespace":"team-a"}},{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"cache","namespace":"team-a"}}]}"#,
            )
        } else {
            status(404, "NotFound")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl_complete-storage_doctor");
    std::os::unix::fs::symlink(cargo_bin!("kubectl-storage_doctor"), &link).unwrap();
    let complete = |server_port: u16, words: &[&str]| {
        let config = support::kubeconfig::write(
            dir.path(),
            &format!("{{server: 'http://127.0.0.1:{server_port}'}}"),
            TOKEN_USER,
            "default",
        );
        let started = Instant::now();
        let out = std::process::Command::new(&link)
            .arg("--kubeconfig")
            .arg(&config)
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success());
        (String::from_utf8(out.stdout).unwrap(), started.elapsed())
    };
    let (text, _) = complete(server.port, &["-n", "team-a", "pvc/data"]);
    assert_eq!(text, "pvc/data-a\npvc/data-b\n:4\n");
    let (text, _) = complete(server.port, &[""]);
    assert!(
        text.contains("\npvc/\n") && text.contains("\nexplain\n"),
        "{text}"
    );
    let (text, _) = complete(server.port, &["explain", "multi-at"]);
    assert_eq!(text, "multi-attach\n:4\n");
    // Out of reach: nothing, within the lookup's bound.
    let (text, took) = complete(http::unused_port(), &["-n", "team-a", "pvc/"]);
    assert_eq!(text, ":4\n");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
