//! Cluster faults at the HTTP level: a small fake API server on loopback
//! answers the tool's requests and injects throttling, errors, expired
//! continue tokens and cut connections. Each case must end in a diagnosis
//! of what could be read, or a one-line error with exit 2, never a hang.

use assert_cmd::cargo::cargo_bin;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"injected {reason}","reason":"{reason}","code":{code}}}"#
        ),
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
}

/// Starts a server answering with `answer(n, path)` for the n-th request.
fn serve(answer: impl Fn(usize, &str) -> Answer + Send + Sync + 'static) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let counter = counter.clone();
            let answer = answer.clone();
            std::thread::spawn(move || handle(stream, &counter, &*answer));
        }
    });
    FakeServer { port, requests }
}

fn handle(
    mut stream: TcpStream,
    counter: &AtomicUsize,
    answer: &(dyn Fn(usize, &str) -> Answer + Sync),
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        // Skip the headers; requests carry no body.
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
        }
        let n = counter.fetch_add(1, Ordering::SeqCst);
        match answer(n, &path) {
            Answer::Cut => return,
            Answer::Json(code, body, headers) => {
                let mut head = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if stream
                    .write_all(head.as_bytes())
                    .and_then(|_| stream.write_all(body.as_bytes()))
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Runs the tool against the fake server; returns exit code, stdout JSON, stderr, duration.
fn run_against(server: &FakeServer, timeout: &str) -> (i32, serde_json::Value, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster: {{server: 'http://127.0.0.1:{}'}}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: u, namespace: default}}\nusers:\n- name: u\n  user: {{token: secret-token-value}}\n",
            server.port
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(cargo_bin!("kubectl-storage_doctor"))
        .args([
            "--kubeconfig",
            config.to_str().unwrap(),
            "--request-timeout",
            timeout,
            "-o",
            "json",
        ])
        .env("XDG_CONFIG_HOME", "/nonexistent/storage-doctor-tests")
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("secret-token-value"),
        "token leaked: {stderr}"
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr, took)
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

fn rank_one(report: &serde_json::Value) -> Option<&str> {
    report["findings"][0]["causes"][0]["rule"].as_str()
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
    assert_eq!(rank_one(&report), Some("claim-not-found"));
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
    assert_eq!(rank_one(&report), Some("claim-not-found"));
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
    assert!(took < Duration::from_secs(30), "{took:?}");
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
