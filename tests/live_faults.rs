//! Cluster faults against the real control plane of `tests/live.rs`: the
//! tool talks to it straight (wrong CA, bad token, `-v`) or through a
//! fault-injecting HTTP proxy on loopback, which forwards to `kubectl proxy`
//! running as the least-privilege `doctor` user and injects Forbidden,
//! throttling, server errors, stalls, cut connections and expired continue
//! tokens. The proxy asks for pages of two objects instead of 500, so the
//! real server pages every list with real continue tokens.
//!
//! Each case checks what a user would: the exit code, a one-line `error:`
//! naming the server, gaps in the JSON report, the same rank-1 diagnosis as
//! a clean run through the proxy when the fault is transient or spares the
//! kinds the diagnosis needs, and a run no longer than `--request-timeout`
//! and a margin. No token of any user shows in any output (checked by
//! every run, see `tests/support`).
//!
//! `.ci/run` runs these after `tests/live.rs`, with `cargo test --test live
//! --test live_faults -- --ignored`; set `STORAGE_DOCTOR_LIVE_DIR` and
//! source the cluster's env file to run them by hand.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::cluster::{Cluster, Run};
use support::http;
use support::rank::rank_one;

const NS: &str = "lf-faults";

/// The rank-1 rule of each broken pod of `tests/live/faults.yaml`.
const EXPECTED: &[(&str, &str)] = &[
    ("Pod/lf-faults/exporter", "claim-not-found"),
    ("Pod/lf-faults/loader", "storageclass-not-found"),
    ("Pod/lf-faults/preprocess", "storageclass-not-found"),
    ("Pod/lf-faults/reporter", "claim-not-found"),
    ("Pod/lf-faults/trainer", "claim-not-found"),
];

/// What a run may take beyond `--request-timeout`: starting the tool and
/// the other requests on a loaded two-core machine.
const MARGIN: Duration = Duration::from_secs(10);

/// The cluster with the broken pods applied and seen by the scheduler, so
/// that every case diagnoses the same settled state.
fn cluster() -> &'static Cluster {
    static READY: OnceLock<Cluster> = OnceLock::new();
    READY.get_or_init(|| {
        let cluster = Cluster::from_env();
        cluster.apply(Path::new("examples/rbac.yaml"));
        cluster.apply(Path::new("tests/live/rbac-bindings.yaml"));
        cluster.apply(Path::new("tests/live/faults.yaml"));
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let scheduled = cluster.kubectl(&[
                "-n",
                NS,
                "get",
                "pods",
                "-o",
                r#"jsonpath={range .items[*]}{.status.conditions[?(@.type=="PodScheduled")].status}{"\n"}{end}"#,
            ]);
            let run = cluster.doctor("doctor", &["-n", NS]);
            let tried = scheduled.lines().filter(|s| *s == "False").count();
            if tried == EXPECTED.len() && rules(&run.report) == expected() {
                return cluster;
            }
            assert!(
                Instant::now() < deadline,
                "the broken pods did not settle: scheduler verdicts {scheduled:?}, report {:#}",
                run.report
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

fn expected() -> BTreeMap<String, String> {
    EXPECTED
        .iter()
        .map(|(s, r)| (s.to_string(), r.to_string()))
        .collect()
}

/// The rank-1 rule of each finding.
fn rules(report: &Value) -> BTreeMap<String, String> {
    rank_one(report)
        .into_iter()
        .map(|(subject, (rule, _))| (subject, rule))
        .collect()
}

/// `resource: reason` of each gap.
fn gaps(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["gaps"]
        .as_array()
        .unwrap_or_else(|| panic!("no gaps field in {report:#}"))
        .iter()
        .map(|g| {
            format!(
                "{}: {}",
                g["resource"].as_str().unwrap(),
                g["reason"].as_str().unwrap()
            )
        })
        .collect();
    out.sort();
    out
}

/// Exit 2 and one line on stderr: `error: …` naming the server.
fn assert_one_line_error(run: &Run, server: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(server),
        "{}",
        run.stderr
    );
}

fn timed(run: impl FnOnce() -> Run) -> (Run, Duration) {
    let started = Instant::now();
    let out = run();
    (out, started.elapsed())
}

/// A kubeconfig of one cluster, user and context, in the namespace of the cases.
fn kubeconfig(dir: &Path, cluster: &str, user: &str) -> PathBuf {
    support::kubeconfig::write(dir, cluster, user, NS)
}

fn server_url() -> String {
    std::env::var("LIVE_APISERVER_URL").expect("LIVE_APISERVER_URL: set by the cluster's env file")
}

fn doctor_token(cluster: &Cluster) -> String {
    std::fs::read_to_string(cluster.dir.join("pki/doctor.token"))
        .unwrap()
        .trim()
        .to_string()
}

// ---------------------------------------------------------------- the proxy

/// What the fault proxy does with one request.
enum Fault {
    /// Pass it on to the API server.
    Forward,
    /// Answer with a Status of this code and reason, and a Retry-After.
    Status(u16, &'static str, Option<u32>),
    /// Read the request and never answer.
    Stall,
    /// Close the connection without answering.
    Drop,
    /// Pass it on, send the client half of the answer, and close.
    CutMidResponse,
}

/// `kubectl proxy` as the `doctor` user: plain HTTP on loopback to the real
/// API server, so the fault proxy needs no TLS. Stopped when dropped.
struct Upstream {
    child: Child,
    port: u16,
    /// Kept open: kubectl must not write to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Upstream {
    fn start(cluster: &Cluster) -> Upstream {
        let mut child = cluster
            .kubectl_as("doctor")
            .args(["proxy", "--port=0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        // "Starting to serve on 127.0.0.1:PORT"
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("kubectl proxy said {line:?}"));
        Upstream {
            child,
            port,
            _stdout: stdout,
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Decide = dyn Fn(&str) -> Fault + Send + Sync;

/// The fault-injecting proxy and a kubeconfig that points the tool at it.
struct FaultProxy {
    url: String,
    kubeconfig: PathBuf,
    /// `path?query → what the proxy did`, one line per request.
    log: Arc<Mutex<Vec<String>>>,
    _upstream: Upstream,
    _dir: tempfile::TempDir,
}

impl FaultProxy {
    /// Starts a proxy that asks `decide` what to do with each request (by
    /// path and query as the tool sent them).
    fn start(cluster: &Cluster, decide: impl Fn(&str) -> Fault + Send + Sync + 'static) -> Self {
        let upstream = Upstream::start(cluster);
        let log = Arc::new(Mutex::new(Vec::new()));
        let upstream_port = upstream.port;
        let requests = log.clone();
        let port = http::listen(move |stream| serve(stream, upstream_port, &decide, &requests));
        let url = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = kubeconfig(dir.path(), &format!("{{server: '{url}'}}"), "{}");
        FaultProxy {
            url,
            kubeconfig,
            log,
            _upstream: upstream,
            _dir: dir,
        }
    }

    /// A proxy that only forwards.
    fn clean(cluster: &Cluster) -> Self {
        Self::start(cluster, |_| Fault::Forward)
    }

    fn run(&self, cluster: &Cluster, args: &[&str]) -> Run {
        cluster.run_once(&self.kubeconfig, args)
    }

    /// How many requests the proxy answered with `what`.
    fn count(&self, what: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.ends_with(what))
            .count()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

/// One request per connection: the forwarded answer asks the client to
/// close, so no connection outlives a fault.
fn serve(mut client: TcpStream, upstream: u16, decide: &Decide, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let Some(request) = http::read_request(&mut reader) else {
        return;
    };
    let headers: Vec<String> = request
        .headers
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("connection")
        })
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let (method, path) = (request.method, request.path);
    let fault = decide(&path);
    let what = match &fault {
        Fault::Forward => "forwarded".to_string(),
        Fault::Status(code, reason, _) => format!("{code} {reason}"),
        Fault::Stall => "stalled".to_string(),
        Fault::Drop => "dropped".to_string(),
        Fault::CutMidResponse => "cut".to_string(),
    };
    log.lock().unwrap().push(format!("{path} → {what}"));
    match fault {
        Fault::Forward | Fault::CutMidResponse => {
            let Ok(answer) = forward(upstream, &method, &path, &headers) else {
                return;
            };
            let end = match fault {
                Fault::CutMidResponse => {
                    let body = find(&answer, b"\r\n\r\n").map_or(0, |i| i + 4);
                    body + (answer.len() - body) / 2
                }
                _ => answer.len(),
            };
            let _ = client.write_all(&answer[..end]);
        }
        Fault::Status(code, reason, retry_after) => {
            let _ = client.write_all(&status(code, reason, retry_after));
        }
        Fault::Stall => http::stall(reader),
        Fault::Drop => {}
    }
}

/// Passes a request on with the page size cut to two; returns the raw answer.
fn forward(
    upstream: u16,
    method: &str,
    path: &str,
    headers: &[String],
) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: 127.0.0.1:{upstream}\r\nConnection: close\r\n",
        path.replace("limit=500", "limit=2")
    );
    for h in headers {
        head.push_str(h);
    }
    head.push_str("\r\n");
    server.write_all(head.as_bytes())?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    Ok(answer)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An API server's Status answer.
fn status(code: u16, reason: &str, retry_after: Option<u32>) -> Vec<u8> {
    let mut headers = vec![("Connection", "close".to_string())];
    headers.extend(retry_after.map(|s| ("Retry-After", s.to_string())));
    let message = format!("{reason} (injected by the test's fault proxy)");
    http::response(
        code,
        reason,
        &headers,
        &http::status_body(code, reason, &message),
    )
}

/// True the first time a path (without its query) is seen.
#[derive(Default)]
struct FirstTime(Mutex<HashSet<String>>);

impl FirstTime {
    fn first(&self, path: &str) -> bool {
        let key = path.split('?').next().unwrap_or(path).to_string();
        self.0.lock().unwrap().insert(key)
    }
}

/// The query of a LIST served from the watch cache.
const CACHED: &str = "resourceVersion=0&resourceVersionMatch=NotOlderThan";

fn is_pods(path: &str) -> bool {
    path.starts_with(&format!("/api/v1/namespaces/{NS}/pods"))
}

// ---------------------------------------------------------------- straight to the server

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn an_unreachable_server_is_one_line_and_fast() {
    let cluster = cluster();
    let port = http::unused_port();
    let server = format!("https://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(
        dir.path(),
        &format!(
            "{{server: '{server}', certificate-authority: '{}'}}",
            cluster.dir.join("pki/ca.crt").display()
        ),
        &format!("{{token: {}}}", doctor_token(cluster)),
    );
    let (run, took) = timed(|| cluster.doctor_with(&config, &["--request-timeout", "10s"]));
    assert_one_line_error(&run, &format!("cannot reach the cluster at {server}"));
    assert!(
        took < Duration::from_secs(5),
        "refused at once, yet took {took:?}"
    );
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn the_certificate_is_verified_unless_the_kubeconfig_says_not_to() {
    let cluster = cluster();
    let server = server_url();
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-keyout", "other-ca.key", "-out", "other-ca.crt"])
        .args(["-subj", "/CN=not-the-cluster-ca"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .current_dir(dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let token = format!("{{token: {}}}", doctor_token(cluster));
    let other_ca = dir.path().join("other-ca.crt");
    for (what, entry) in [
        (
            "another CA",
            format!(
                "{{server: '{server}', certificate-authority: '{}'}}",
                other_ca.display()
            ),
        ),
        ("no CA", format!("{{server: '{server}'}}")),
    ] {
        let (run, took) = timed(|| {
            cluster.doctor_with(
                &kubeconfig(dir.path(), &entry, &token),
                &["--request-timeout", "5s"],
            )
        });
        assert_one_line_error(&run, &server);
        assert!(run.stderr.contains("certificate"), "{what}: {}", run.stderr);
        assert!(took < Duration::from_secs(5) + MARGIN, "{what}: {took:?}");
    }

    let insecure = kubeconfig(
        dir.path(),
        &format!("{{server: '{server}', insecure-skip-tls-verify: true}}"),
        &token,
    );
    let run = cluster.doctor_with(&insecure, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(rules(&run.report), expected());
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn an_invalid_token_is_refused_in_one_line_and_never_shown() {
    let cluster = cluster();
    let server = server_url();
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(
        dir.path(),
        &format!(
            "{{server: '{server}', certificate-authority: '{}'}}",
            cluster.dir.join("pki/ca.crt").display()
        ),
        &format!("{{token: lf-invalid-token-{}}}", std::process::id()),
    );
    let run = cluster.doctor_with(&config, &[]);
    assert_one_line_error(&run, &server);
    assert!(
        run.stderr.contains("refused the credentials (401)"),
        "{}",
        run.stderr
    );
    // The request log shows the refusals, never the token (checked by doctor_with).
    let run = cluster.doctor_with(&config, &["-v"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("→ 401"), "{}", run.stderr);
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn verbose_logs_each_request_and_never_the_token() {
    let cluster = cluster();
    let run = cluster.doctor("doctor", &["-v", "-n", NS]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(rules(&run.report), expected());
    for line in [
        "credentials: bearer token".to_string(),
        format!("GET /api/v1/namespaces/{NS}/pods?&{CACHED} → 200 OK"),
        format!("GET /api/v1/nodes?&{CACHED} → 200 OK"),
        format!("GET /apis/storage.k8s.io/v1/storageclasses?&{CACHED} → 200 OK"),
    ] {
        assert!(run.stderr.contains(&line), "no {line:?} in {}", run.stderr);
    }
    // Pods and nodes come in protobuf, storage classes in JSON.
    let answer = |path: &str| {
        run.stderr
            .lines()
            .find(|l| l.contains(&format!("GET {path}?")))
            .unwrap_or_else(|| panic!("no GET {path} in {}", run.stderr))
    };
    assert!(answer(&format!("/api/v1/namespaces/{NS}/pods")).ends_with(" ms, protobuf)"));
    assert!(answer("/api/v1/nodes").ends_with(" ms, protobuf)"));
    assert!(answer("/apis/storage.k8s.io/v1/storageclasses").ends_with(" ms)"));
    let requests = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("storage-doctor: #"))
        .count();
    assert!(
        run.stderr.contains(&format!("{requests} requests in")),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- through the fault proxy

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn forbidden_and_failing_kinds_become_gaps() {
    let cluster = cluster();
    let clean = FaultProxy::clean(cluster).run(cluster, &[]);
    assert_eq!(rules(&clean.report), expected(), "{}", clean.stderr);
    let proxy = FaultProxy::start(cluster, |path| {
        if path.starts_with("/apis/storage.k8s.io/v1/csidrivers")
            || path.starts_with("/apis/storage.k8s.io/v1/volumeattachments")
            || path.starts_with(&format!("/apis/apps/v1/namespaces/{NS}/statefulsets"))
        {
            Fault::Status(403, "Forbidden", None)
        } else if path.starts_with(&format!("/api/v1/namespaces/{NS}/limitranges")) {
            Fault::Status(500, "InternalError", None)
        } else {
            Fault::Forward
        }
    });
    let run = proxy.run(cluster, &["--request-timeout", "5s"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = gaps(&run.report);
    for gap in [
        "csidrivers: Forbidden",
        "volumeattachments: Forbidden",
        "statefulsets: Forbidden",
        "limitranges: InternalError",
    ] {
        assert!(found.iter().any(|g| g == gap), "{gap} not in {found:?}");
    }
    assert_eq!(rank_one(&run.report), rank_one(&clean.report));

    // A user the real RBAC lets read nothing of the scope gets an error,
    // not "no storage problem found".
    let run = cluster.doctor("viewer", &["-n", NS]);
    assert_one_line_error(&run, &server_url());
    assert!(
        run.stderr.contains("nothing could be read") && run.stderr.contains("Forbidden"),
        "{}",
        run.stderr
    );
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn throttling_and_unavailable_answers_are_retried() {
    let cluster = cluster();
    let clean = FaultProxy::clean(cluster).run(cluster, &[]);
    let throttled = AtomicUsize::new(0);
    let first = FirstTime::default();
    let proxy = FaultProxy::start(cluster, move |path| {
        if throttled.fetch_add(1, Ordering::SeqCst) < 3 {
            Fault::Status(429, "TooManyRequests", Some(1))
        } else if first.first(path) {
            Fault::Status(503, "ServiceUnavailable", None)
        } else {
            Fault::Forward
        }
    });
    let (run, took) = timed(|| proxy.run(cluster, &["--request-timeout", "5s"]));
    assert_eq!(run.code, 1, "{}\n{}", run.stderr, proxy.log());
    assert_eq!(rank_one(&run.report), rank_one(&clean.report));
    assert_eq!(gaps(&run.report), gaps(&clean.report));
    assert_eq!(proxy.count("429 TooManyRequests"), 3);
    assert!(
        proxy.count("503 ServiceUnavailable") > 10,
        "{}",
        proxy.log()
    );
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After was not waited out"
    );
    assert!(took < Duration::from_secs(5) + MARGIN, "{took:?}");
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn endless_server_errors_end_in_one_line_within_the_request_timeout() {
    let cluster = cluster();
    for (code, reason, retry_after, says) in [
        (
            503,
            "ServiceUnavailable",
            Some(1),
            "did not answer within 3s",
        ),
        (503, "ServiceUnavailable", None, "did not answer within 3s"),
        // Not retried: every kind is a gap, and a read of nothing an error.
        (500, "InternalError", None, "nothing could be read"),
    ] {
        let proxy = FaultProxy::start(cluster, move |_| Fault::Status(code, reason, retry_after));
        // Paging happens in consistent reads (the watch cache answers whole).
        let (run, took) =
            timed(|| proxy.run(cluster, &["--request-timeout", "3s", "--consistent"]));
        assert_one_line_error(&run, &proxy.url);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(took < Duration::from_secs(3) + MARGIN, "{took:?}");
    }
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn a_stalled_server_times_out() {
    let cluster = cluster();
    let everything = FaultProxy::start(cluster, |_| Fault::Stall);
    // A stall in the middle of paging the pods, the rest answered.
    let stalled = AtomicBool::new(false);
    let mid_list = FaultProxy::start(cluster, move |path| {
        if is_pods(path) && path.contains("continue=") && !stalled.swap(true, Ordering::SeqCst) {
            Fault::Stall
        } else {
            Fault::Forward
        }
    });
    for proxy in [&everything, &mid_list] {
        // Paging happens in consistent reads (the watch cache answers whole).
        let (run, took) =
            timed(|| proxy.run(cluster, &["--request-timeout", "3s", "--consistent"]));
        assert_one_line_error(&run, &proxy.url);
        assert!(
            run.stderr.contains("did not answer within 3s"),
            "{}",
            run.stderr
        );
        assert!(took < Duration::from_secs(3) + MARGIN, "{took:?}");
    }
    assert_eq!(mid_list.count("stalled"), 1, "{}", mid_list.log());

    // collect gives up the same way and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.yaml");
    let (run, took) = timed(|| {
        everything.run(
            cluster,
            &[
                "--request-timeout",
                "3s",
                "collect",
                "-f",
                file.to_str().unwrap(),
            ],
        )
    });
    assert_one_line_error(&run, &everything.url);
    assert!(took < Duration::from_secs(3) + MARGIN, "{took:?}");
    assert!(!file.exists());
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn a_connection_cut_while_paging_is_one_line() {
    let cluster = cluster();
    for (cut, what) in [(Fault::CutMidResponse, "cut"), (Fault::Drop, "dropped")] {
        let cut = Mutex::new(Some(cut));
        let proxy = FaultProxy::start(cluster, move |path| {
            if is_pods(path) && path.contains("continue=") {
                if let Some(fault) = cut.lock().unwrap().take() {
                    return fault;
                }
            }
            Fault::Forward
        });
        let (run, took) =
            timed(|| proxy.run(cluster, &["--request-timeout", "5s", "--consistent"]));
        assert_eq!(proxy.count(what), 1, "{}", proxy.log());
        assert_one_line_error(&run, &proxy.url);
        assert!(took < Duration::from_secs(5) + MARGIN, "{what}: {took:?}");
    }
}

/// A proxy that answers the first continue request of the pods with 410 Expired.
fn expiring(cluster: &Cluster) -> FaultProxy {
    let expired = AtomicBool::new(false);
    FaultProxy::start(cluster, move |path| {
        if is_pods(path) && path.contains("continue=") && !expired.swap(true, Ordering::SeqCst) {
            Fault::Status(410, "Expired", None)
        } else {
            Fault::Forward
        }
    })
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn an_expired_continue_token_reads_the_list_again() {
    let cluster = cluster();
    let clean_proxy = FaultProxy::clean(cluster);
    let clean = clean_proxy.run(cluster, &[]);
    let clean_capture = clean_proxy.run(cluster, &["collect"]);
    let proxy = expiring(cluster);
    let run = proxy.run(cluster, &["--consistent"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(proxy.count("410 Expired"), 1, "{}", proxy.log());
    let pods_from_the_start = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| is_pods(l) && !l.contains("continue="))
        .count();
    assert_eq!(pods_from_the_start, 2, "{}", proxy.log());
    assert_eq!(rank_one(&run.report), rank_one(&clean.report));
    assert_eq!(run.report["summary"], clean.report["summary"]);
    assert_eq!(gaps(&run.report), gaps(&clean.report));

    // What collect writes holds each pod of the namespace once (and the
    // drivers' components elsewhere, which other tests may have made).
    let proxy = expiring(cluster);
    let capture = proxy.run(cluster, &["--consistent", "collect"]);
    assert_eq!(capture.code, 0, "{}", capture.stderr);
    assert_eq!(proxy.count("410 Expired"), 1, "{}", proxy.log());
    let pods = |list: &Value| -> Vec<String> {
        let mut names: Vec<String> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["kind"] == "Pod" && o["metadata"]["namespace"] == NS)
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(pods(&capture.report).len(), EXPECTED.len());
    assert_eq!(pods(&capture.report), pods(&clean_capture.report));
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn watch_rides_out_transient_faults_and_stops_when_the_server_stalls() {
    let cluster = cluster();
    let clean = FaultProxy::clean(cluster).run(cluster, &[]);
    let stalled = Arc::new(AtomicBool::new(false));
    let stall = stalled.clone();
    let requests = AtomicUsize::new(0);
    let proxy = FaultProxy::start(cluster, move |_| {
        if stall.load(Ordering::SeqCst) {
            Fault::Stall
        } else if requests.fetch_add(1, Ordering::SeqCst) % 7 == 3 {
            Fault::Status(503, "ServiceUnavailable", None)
        } else {
            Fault::Forward
        }
    });
    let mut watching = Command::new(assert_cmd::cargo::cargo_bin!("kubectl-storage_doctor"))
        .arg("--kubeconfig")
        .arg(&proxy.kubeconfig)
        .args([
            "--watch",
            "--interval",
            "1s",
            "--request-timeout",
            "3s",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(watching.stdout.take().unwrap());
    // Reports are separated by a line `---`; read until three are complete.
    let (rounds_tx, rounds) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut reports = vec![String::new()];
        for line in stdout.lines() {
            let line = line.unwrap();
            if line == "---" {
                let _ = rounds_tx.send(reports.len());
                reports.push(String::new());
            } else {
                reports.last_mut().unwrap().push_str(&line);
            }
        }
        reports
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rounds.recv_timeout(left) {
            Ok(n) if n >= 3 => break,
            Ok(_) => {}
            Err(_) => {
                let _ = watching.kill();
                panic!(
                    "--watch did not finish three rounds in 60s: {}",
                    proxy.log()
                );
            }
        }
    }
    stalled.store(true, Ordering::SeqCst);
    let stalled_at = Instant::now();
    let status = loop {
        if let Some(status) = watching.try_wait().unwrap() {
            break status;
        }
        if stalled_at.elapsed() > Duration::from_secs(60) {
            let _ = watching.kill();
            panic!("--watch still runs 60s after the server stalled");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = stalled_at.elapsed();
    let mut stderr = String::new();
    watching
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let reports = reader.join().unwrap();
    let run = Run {
        code: status.code().unwrap_or(-1),
        report: Value::Null,
        stderr,
    };
    assert_one_line_error(&run, &proxy.url);
    assert!(
        run.stderr.contains("did not answer within 3s"),
        "{}",
        run.stderr
    );
    // The interval, then one request timeout.
    assert!(took < Duration::from_secs(1 + 3) + MARGIN, "{took:?}");
    assert!(proxy.count("503 ServiceUnavailable") > 0, "{}", proxy.log());
    for report in &reports[..3] {
        let report: Value = serde_json::from_str(report).unwrap();
        assert_eq!(rank_one(&report), rank_one(&clean.report));
    }
}

#[test]
#[ignore = "needs the live control plane: see .ci/run"]
fn a_server_refusing_watch_cache_reads_is_read_consistently() {
    let cluster = cluster();
    let clean = FaultProxy::clean(cluster).run(cluster, &[]);
    let proxy = FaultProxy::start(cluster, |path| {
        if path.contains("resourceVersion=0") {
            Fault::Status(400, "BadRequest", None)
        } else {
            Fault::Forward
        }
    });
    let run = proxy.run(cluster, &[]);
    assert_eq!(run.code, clean.code, "{}", run.stderr);
    assert_eq!(rank_one(&run.report), rank_one(&clean.report));
    assert_eq!(run.report["summary"], clean.report["summary"]);
    assert_eq!(gaps(&run.report), gaps(&clean.report));
    let refused = proxy.count("400 BadRequest");
    let consistent = proxy
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("limit=") && !l.contains("resourceVersion"))
        .count();
    assert!(refused > 20, "{}", proxy.log());
    assert!(consistent >= refused, "{}", proxy.log());
}
