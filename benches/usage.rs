//! `--usage` at cluster scale: what reading every node's kubelet stats
//! summary costs a scan of the whole cluster.
//!
//! ```sh
//! cargo bench --bench usage                 # 50,000 pods on 500 nodes, 3 runs each way
//! cargo bench --bench usage -- --divide 10  # a tenth of that
//! cargo bench --bench usage -- --runs 5
//! ```
//!
//! A stand-in API server on loopback (plain HTTP, a thread per connection)
//! serves a synthetic cluster ([`storage_doctor_synth`], without
//! `managedFields`): every LIST the tool makes, paged by its `limit` and
//! `continue`, and `GET /api/v1/nodes/N/proxy/stats/summary` for each of
//! the nodes, answered with a document of the kubelet's shape (node,
//! system containers, and per pod its containers' cpu, memory, rootfs and
//! logs, network, every volume with its fill, ephemeral storage). The real
//! binary runs `-A -o json -v` against it through a kubeconfig, without
//! and with `--usage`, so the whole path is measured: kube's client, the
//! concurrent node reads, the parse of each summary, the rules and the
//! report.
//!
//! Printed: requests of each kind (counted by the server and by `-v`), the
//! wall time of each run (median and range), the time from the first to
//! the last stats summary answered, the bytes of the summaries, and the
//! volume-full findings against the volumes the stand-in made 90 % full or
//! more. Nothing is asserted on time.

#[allow(dead_code)]
#[path = "../tests/support/http.rs"]
mod http;

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use storage_doctor_synth::{self as synth, Config, Size};

const VERSION: &str = r#"{"major":"1","minor":"31","gitVersion":"v1.31.4","gitCommit":"x","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.22","compiler":"gc","platform":"linux/amd64"}"#;
const NOW: &str = "2026-11-20T12:30:00Z";
const GI: u64 = 1 << 30;

/// What the stand-in serves, and what it counted.
struct Served {
    /// Each item as compact JSON, by plural resource name.
    lists: HashMap<String, Vec<String>>,
    /// Each node's stats summary.
    summaries: HashMap<String, String>,
    lists_answered: AtomicUsize,
    stats_answered: AtomicUsize,
    other_answered: AtomicUsize,
    /// When the first stats request arrived and the last answer was written.
    stats_window: Mutex<(Option<Instant>, Option<Instant>)>,
}

impl Served {
    fn reset(&self) {
        for c in [
            &self.lists_answered,
            &self.stats_answered,
            &self.other_answered,
        ] {
            c.store(0, Ordering::SeqCst);
        }
        *self.stats_window.lock().unwrap() = (None, None);
    }

    /// The answer to one request path (with its query).
    fn answer(&self, path: &str) -> (u16, String) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        if path == "/version" {
            self.other_answered.fetch_add(1, Ordering::SeqCst);
            return (200, VERSION.to_string());
        }
        if let ["api", "v1", "nodes", node, "proxy", "stats", "summary"] = segments.as_slice() {
            self.stats_answered.fetch_add(1, Ordering::SeqCst);
            return match self.summaries.get(*node) {
                Some(s) => (200, s.clone()),
                None => (404, http::status_body(404, "NotFound", "no such node")),
            };
        }
        self.lists_answered.fetch_add(1, Ordering::SeqCst);
        let param = |key: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
                .and_then(|v| v.parse::<usize>().ok())
        };
        let empty = Vec::new();
        let items = segments
            .last()
            .and_then(|plural| self.lists.get(*plural))
            .unwrap_or(&empty);
        let from = param("continue").unwrap_or(0).min(items.len());
        let to = param("limit").map_or(items.len(), |l| (from + l.max(1)).min(items.len()));
        let cont = if to < items.len() {
            format!(r#","continue":"{to}""#)
        } else {
            String::new()
        };
        let body = format!(
            r#"{{"kind":"List","apiVersion":"v1","metadata":{{"resourceVersion":"1"{cont}}},"items":[{}]}}"#,
            items[from..to].join(",")
        );
        (200, body)
    }
}

/// Answers the requests of one connection until the client closes it.
fn handle(mut stream: TcpStream, served: &Served) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    while let Some(request) = http::read_request(&mut reader) {
        let stats = request.path.contains("/proxy/stats/summary");
        if stats {
            let mut w = served.stats_window.lock().unwrap();
            w.0.get_or_insert_with(Instant::now);
        }
        let (code, body) = served.answer(&request.path);
        if stream
            .write_all(&http::response(code, "X", &[], &body))
            .is_err()
        {
            return;
        }
        if stats {
            served.stats_window.lock().unwrap().1 = Some(Instant::now());
        }
    }
}

/// A deterministic fraction in [0, 1) from a name.
fn fraction(name: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0
}

/// File-system stats as the kubelet writes them.
fn fs(capacity: u64, used: u64, inodes: u64, inodes_used: u64) -> Value {
    json!({
        "time": NOW, "availableBytes": capacity.saturating_sub(used), "capacityBytes": capacity,
        "usedBytes": used, "inodesFree": inodes.saturating_sub(inodes_used), "inodes": inodes,
        "inodesUsed": inodes_used,
    })
}

fn cpu(n: u64) -> Value {
    json!({"time": NOW, "usageNanoCores": 1_000_000 + n % 90_000_000, "usageCoreNanoSeconds": 4_000_000_000_000u64 + n})
}

fn memory(n: u64) -> Value {
    let working = 64 * (1 << 20) + (n % 512) * (1 << 20);
    json!({
        "time": NOW, "availableBytes": 2 * GI - working, "usageBytes": working + (8 << 20),
        "workingSetBytes": working, "rssBytes": working - (4 << 20), "pageFaults": 120_000 + n % 1000,
        "majorPageFaults": n % 40,
    })
}

fn network(n: u64) -> Value {
    let iface = json!({"name": "eth0", "rxBytes": 9_000_000_000u64 + n, "rxErrors": 0, "txBytes": 7_000_000_000u64 + n, "txErrors": 0});
    let mut v = iface.clone();
    v["time"] = json!(NOW);
    v["interfaces"] = json!([iface]);
    v
}

/// A pod's entry of the summary: its containers, and each of its volumes
/// with a fill; a claim's fill is 90 % or more for about one in fifty.
fn pod_stats(pod: &Value, n: u64, full: &mut usize) -> Value {
    let meta = &pod["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let containers: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c["name"], "startTime": NOW, "cpu": cpu(n), "memory": memory(n),
                "rootfs": fs(80 * GI, 40 * (1 << 20), 5_242_880, 30), "logs": fs(80 * GI, 2 << 20, 5_242_880, 2),
                "swap": {"time": NOW, "swapAvailableBytes": 0, "swapUsageBytes": 0},
            })
        })
        .collect();
    let volumes: Vec<Value> = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let mut stats = match v["persistentVolumeClaim"]["claimName"].as_str() {
                Some(claim) => {
                    let f = fraction(&format!("{name}/{claim}"));
                    // About 2 % at 90 % or more, the rest spread below.
                    let fill = if f < 0.02 { 0.90 + f * 4.0 } else { f * 0.85 };
                    if fill >= 0.90 {
                        *full += 1;
                    }
                    let capacity = 20 * GI;
                    let mut s = fs(
                        capacity,
                        (capacity as f64 * fill) as u64,
                        1_310_720,
                        4_000 + n % 9_000,
                    );
                    s["pvcRef"] = json!({"name": claim, "namespace": meta["namespace"]});
                    s
                }
                None => fs(2 * GI, 12 * 1024, 524_288, 9),
            };
            stats["name"] = v["name"].clone();
            stats
        })
        .collect();
    json!({
        "podRef": {"name": name, "namespace": meta["namespace"], "uid": meta["uid"]},
        "startTime": NOW, "containers": containers, "cpu": cpu(n), "memory": memory(n),
        "network": network(n), "volume": volumes,
        "ephemeral-storage": fs(80 * GI, 48 << 20, 5_242_880, 40),
        "process_stats": {"process_count": 3},
        "swap": {"time": NOW, "swapAvailableBytes": 0, "swapUsageBytes": 0},
    })
}

/// A node's summary: the node's own stats and those of its pods.
fn summary(node: &str, pods: &[Value], n: u64, full: &mut usize) -> String {
    let system: Vec<Value> = ["kubelet", "runtime", "pods"]
        .iter()
        .map(|c| json!({"name": c, "startTime": NOW, "cpu": cpu(n), "memory": memory(n)}))
        .collect();
    let pods: Vec<Value> = pods
        .iter()
        .enumerate()
        .map(|(i, p)| pod_stats(p, n + i as u64, full))
        .collect();
    json!({
        "node": {
            "nodeName": node, "systemContainers": system, "startTime": NOW, "cpu": cpu(n),
            "memory": memory(n), "network": network(n), "fs": fs(80 * GI, 21 * GI, 5_242_880, 410_000),
            "runtime": {"imageFs": fs(80 * GI, 9 * GI, 5_242_880, 180_000), "containerFs": fs(80 * GI, 9 * GI, 5_242_880, 180_000)},
            "rlimit": {"time": NOW, "maxpid": 4_194_304, "curproc": 412},
            "swap": {"time": NOW, "swapAvailableBytes": 0, "swapUsageBytes": 0},
        },
        "pods": pods,
    })
    .to_string()
}

/// The plural resource name of a kind, as its URL ends.
fn plural(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

/// The cluster, by resource; the stats summaries; and how many claims the
/// summaries report 90 % full or more.
fn cluster(size: Size) -> (Served, usize, usize) {
    let mut cfg = Config::new(size);
    cfg.managed_fields = false;
    cfg.pretty = false;
    let (text, _) = synth::to_string(&cfg);
    let list: Value = serde_json::from_str(&text).expect("the generator writes JSON");
    drop(text);
    let mut lists: HashMap<String, Vec<String>> = HashMap::new();
    let mut by_node: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut nodes = Vec::new();
    let items = match list {
        Value::Object(mut m) => match m.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    for item in items {
        let kind = item["kind"].as_str().unwrap_or_default().to_string();
        if kind == "Node" {
            nodes.push(
                item["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            );
        }
        lists
            .entry(plural(&kind))
            .or_default()
            .push(item.to_string());
        let node = item["spec"]["nodeName"].as_str().map(str::to_string);
        let running = !matches!(
            item["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        );
        if let (true, Some(node), true) = (kind == "Pod", node, running) {
            by_node.entry(node).or_default().push(item);
        }
    }
    let mut full = 0;
    let mut bytes = 0;
    let summaries = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let pods = by_node.get(node).map(Vec::as_slice).unwrap_or(&[]);
            let s = summary(node, pods, i as u64 * 7919, &mut full);
            bytes += s.len();
            (node.clone(), s)
        })
        .collect();
    let served = Served {
        lists,
        summaries,
        lists_answered: AtomicUsize::new(0),
        stats_answered: AtomicUsize::new(0),
        other_answered: AtomicUsize::new(0),
        stats_window: Mutex::new((None, None)),
    };
    (served, full, bytes)
}

/// One run of the tool and what it and the stand-in counted.
struct Run {
    wall: Duration,
    lists: usize,
    stats: usize,
    other: usize,
    /// `-v`'s total: requests and milliseconds of the reads.
    logged: String,
    stats_window: Option<Duration>,
    volume_full: usize,
    exit: i32,
}

fn run(bin: &str, kubeconfig: &Path, served: &Served, usage: bool) -> Run {
    served.reset();
    let mut args = vec!["-A", "-o", "json", "-v", "--request-timeout", "60s"];
    if usage {
        args.push("--usage");
    }
    let start = Instant::now();
    let out = Command::new(bin)
        .args(&args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("the binary runs");
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logged = stderr
        .lines()
        .rev()
        .find(|l| l.contains(" requests in "))
        .map(|l| l.trim_start_matches("storage-doctor: ").to_string())
        .unwrap_or_else(|| format!("no total in -v: {}", stderr.lines().last().unwrap_or("")));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let volume_full = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["causes"].as_array().into_iter().flatten())
        .filter(|c| c["rule"] == "volume-full")
        .count();
    let window = *served.stats_window.lock().unwrap();
    Run {
        wall,
        lists: served.lists_answered.load(Ordering::SeqCst),
        stats: served.stats_answered.load(Ordering::SeqCst),
        other: served.other_answered.load(Ordering::SeqCst),
        logged,
        stats_window: match window {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        },
        volume_full,
        exit: out.status.code().unwrap_or(-1),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let size = Size::LARGE.divided(value("--divide").unwrap_or(1));
    let runs = value("--runs").unwrap_or(3).max(1);
    let made = Instant::now();
    let (served, full, summary_bytes) = cluster(size);
    println!(
        "stand-in: {} pods, {} claims, {} nodes, {} events; {} stats summaries, {:.1} MB, {} claims at 90 % or more; made in {:.1} s",
        size.pods,
        size.claims,
        size.nodes,
        size.events,
        served.summaries.len(),
        summary_bytes as f64 / 1e6,
        full,
        made.elapsed().as_secs_f64()
    );
    let served = Arc::new(served);
    let port = {
        let served = served.clone();
        http::listen(move |stream| handle(stream, &served))
    };
    let dir =
        std::env::temp_dir().join(format!("storage-doctor-usage-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: bench\nclusters:\n- name: bench\n  cluster: {{server: 'http://127.0.0.1:{port}'}}\ncontexts:\n- name: bench\n  context: {{cluster: bench, user: bench}}\nusers:\n- name: bench\n  user: {{token: bench}}\n"),
    )
    .expect("the kubeconfig is written");
    let bin = env!("CARGO_BIN_EXE_kubectl-storage_doctor");
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load().trim());
    println!();
    println!("| run | exit | wall ms | LISTs | stats summaries | other | -v total | first to last summary (ms) | volume-full findings |");
    println!("|---|---:|---:|---:|---:|---:|---|---:|---:|");
    let mut walls: BTreeMap<bool, Vec<f64>> = BTreeMap::new();
    let mut windows = Vec::new();
    // Alternated, so that a change in the machine's load hits both alike.
    for i in 0..runs {
        for usage in [false, true] {
            let r = run(bin, &kubeconfig, &served, usage);
            println!(
                "| {} {} | {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                if usage { "--usage" } else { "plain" },
                i + 1,
                r.exit,
                ms(r.wall),
                r.lists,
                r.stats,
                r.other,
                r.logged,
                r.stats_window
                    .map_or("-".into(), |d| format!("{:.0}", ms(d))),
                r.volume_full
            );
            walls.entry(usage).or_default().push(ms(r.wall));
            if let Some(d) = r.stats_window {
                windows.push(ms(d));
            }
        }
    }
    println!();
    let plain = median(walls[&false].clone());
    let with = median(walls[&true].clone());
    println!(
        "median wall: {plain:.0} ms plain, {with:.0} ms with --usage (+{:.0} ms)",
        with - plain
    );
    if !windows.is_empty() {
        println!(
            "median first-to-last summary: {:.0} ms for {} nodes",
            median(windows),
            served.summaries.len()
        );
    }
    println!("load average after: {}", load().trim());
    let _ = std::fs::remove_dir_all(&dir);
}
