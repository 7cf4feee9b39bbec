//! The pipeline at cluster scale: parse, analyse, render, peak memory.
//!
//! ```sh
//! cargo bench --bench pipeline                   # small, medium and large
//! cargo bench --bench pipeline -- --size large   # one size (repeatable)
//! cargo bench --bench pipeline -- --keep         # keep the generated files
//! cargo bench --bench pipeline -- --measure FILE # one capture of your own
//! ```
//!
//! For each size a synthetic snapshot ([`storage_doctor_synth`],
//! one `List` as `kubectl get -o json` prints it) is written to
//! `target/synth/`, then measured in a fresh child process, so that its peak
//! memory is that size's alone:
//!
//! - parse: `source::dump::load` (read, decode, index), once;
//! - analyse: `analysis::analyze`, snapshot to ranked findings, repeated
//!   until a second has passed (at least `--runs`, default 5): median and
//!   minimum wall time, and CPU time per run from `/proc/self/stat` (less
//!   sensitive to other processes on the machine);
//! - render: the `Report` built as `cli::run` builds it, then `to_json`;
//! - memory: peak and post-parse RSS (`VmHWM`, `VmRSS`), and the live heap
//!   counted by this binary's allocator (what the snapshot itself takes, and
//!   the most that was ever allocated at once).
//!
//! Tables (Markdown) and the growth between sizes go to stdout; BENCHMARKS.md
//! holds the numbers of the reference machine.

use kubectl_storage_doctor::analysis;
use kubectl_storage_doctor::chain::Scope;
use kubectl_storage_doctor::drivers::Drivers;
use kubectl_storage_doctor::report::SourceInfo;
use kubectl_storage_doctor::source::dump;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use storage_doctor_synth::{self as synth, Config, Size};

/// Named sizes: the large one divided by 16, 4 and 1.
const SIZES: &[(&str, usize)] = &[("small", 16), ("medium", 4), ("large", 1)];

/// Targets at the large size.
const ANALYSIS_TARGET_MS: f64 = 500.0;
const GROWTH_TARGET: f64 = 20.0;
const MEMORY_TARGET: f64 = 2.0;

/// The system allocator, counting the bytes live now and at most.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only
// observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let q = unsafe { System.realloc(p, layout, size) };
        if !q.is_null() {
            if size >= layout.size() {
                grew(size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - size, Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = value_of(&args, "--runs").map_or(5, |r| r.parse().expect("--runs N"));
    if let Some(path) = value_of(&args, "--measure") {
        if value_of(&args, "--child").is_some() {
            measure(Path::new(path), runs);
        } else {
            let m = measure_in_child(Path::new(path), runs);
            print_tables(&[(path.to_string(), m)]);
        }
        return;
    }
    let mut sizes: Vec<(&str, usize)> = args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--size")
        .filter_map(|(i, _)| args.get(i + 1))
        .map(|name| {
            *SIZES
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("--size {name}: use small, medium or large"))
        })
        .collect();
    if sizes.is_empty() {
        sizes = SIZES.to_vec();
    }
    let keep = args.iter().any(|a| a == "--keep");
    let dir = value_of(&args, "--dir").map_or_else(
        || {
            PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
                .join("synth")
        },
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).expect("create the output folder");

    println!("kubectl storage-doctor: pipeline benchmark (release build, one thread)");
    println!("{}", machine());
    println!("load average before: {}", load_average());
    println!();
    let mut results = Vec::new();
    for (name, divisor) in sizes {
        let size = Size::LARGE.divided(divisor);
        let cfg = Config::new(size);
        let path = dir.join(format!("{name}.json"));
        let started = Instant::now();
        let file = std::fs::File::create(&path).expect("create the snapshot file");
        let manifest = synth::write(&cfg, BufWriter::with_capacity(1 << 20, file))
            .expect("write the snapshot");
        let generated = started.elapsed();
        eprintln!(
            "{name}: wrote {} ({} objects, {} broken subjects) in {:.1}s; measuring",
            path.display(),
            manifest.counts.objects(),
            manifest.injected.len(),
            generated.as_secs_f64()
        );
        let mut m = measure_in_child(&path, runs);
        m.insert("objects".into(), manifest.counts.objects() as f64);
        m.insert("generate_ms".into(), ms(generated));
        m.insert("injected".into(), manifest.injected.len() as f64);
        if !keep {
            let _ = std::fs::remove_file(&path);
        }
        results.push((name.to_string(), m));
    }
    println!("load average after: {}", load_average());
    println!();
    print_tables(&results);
}

fn value_of<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A `/proc/self/status` figure (`VmHWM:`, `VmRSS:`) in MB; 0 off Linux.
fn proc_status(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb * 1024.0 / 1e6)
}

/// CPU time (user + system) of this process in ms, from `/proc/self/stat`
/// (clock ticks of 10 ms); 0 off Linux.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // The command name may hold spaces: count fields after its ')'.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) * 10.0)
        })
        .unwrap_or(0.0)
}

/// Runs `--measure FILE --child` in a fresh process; its `key=value` lines.
fn measure_in_child(path: &Path, runs: usize) -> BTreeMap<String, f64> {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args([
            "--measure",
            path.to_str().expect("UTF-8 path"),
            "--child",
            "1",
        ])
        .args(["--runs", &runs.to_string()])
        .output()
        .expect("run the measuring child");
    if !out.status.success() {
        panic!(
            "measuring {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// Repeats `f` until a second has passed (`min_runs` at least, 50 at
/// most): wall times in ms, CPU ms per run, and the last result.
fn repeat<T>(min_runs: usize, mut f: impl FnMut() -> T) -> (Vec<f64>, f64, T) {
    let mut times = Vec::new();
    let cpu = cpu_ms();
    let started = Instant::now();
    let mut last;
    loop {
        let t = Instant::now();
        last = f();
        times.push(ms(t.elapsed()));
        if times.len() >= 50 || (times.len() >= min_runs && started.elapsed().as_secs() >= 1) {
            break;
        }
    }
    let per_run = (cpu_ms() - cpu) / times.len() as f64;
    (times, per_run, last)
}

/// The child: one capture, printed as `key=value` lines.
fn measure(path: &Path, runs: usize) {
    let print = |k: &str, v: f64| println!("{k}={v}");
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    print("file_mb", file_bytes as f64 / 1e6);
    let heap_before = LIVE.load(Relaxed);
    PEAK.store(heap_before, Relaxed);
    let started = Instant::now();
    let loaded = dump::load(&[dump::Input::Path(path.into())], &mut std::io::empty())
        .expect("the snapshot loads");
    print("parse_ms", ms(started.elapsed()));
    print("heap_snapshot_mb", mb(LIVE.load(Relaxed) - heap_before));
    print("heap_peak_parse_mb", mb(PEAK.load(Relaxed) - heap_before));
    print("rss_loaded_mb", proc_status("VmRSS:"));
    let snap = &loaded.snapshot;
    let o = &snap.objects;
    print("pods", o.pods.len() as f64);
    print("claims", o.claims.len() as f64);
    print("volumes", o.volumes.len() as f64);
    print("nodes", o.nodes.len() as f64);
    print("events", o.events.len() as f64);
    let drivers = Drivers::built_in();
    let scope = Scope::default();

    // What a CLI run does: one analysis right after the parse.
    let started = Instant::now();
    std::hint::black_box(
        analysis::analyze(snap, &drivers, &scope).expect("no targets, nothing missing"),
    );
    print("analyse_first_ms", ms(started.elapsed()));

    let (times, cpu, a) = repeat(runs, || {
        analysis::analyze(snap, &drivers, &scope).expect("no targets, nothing missing")
    });
    print("analyse_runs", times.len() as f64);
    print(
        "analyse_min_ms",
        times.iter().copied().fold(f64::INFINITY, f64::min),
    );
    print("analyse_ms", median(times));
    print("analyse_cpu_ms", cpu);
    print("findings", a.findings.len() as f64);
    print("subjects", a.summary.subjects as f64);

    let (times, _, text) = repeat(runs, || {
        let source = SourceInfo::capture(vec![path.display().to_string()], snap.now.to_string());
        a.clone().into_report(snap, source, &scope, false).to_json()
    });
    print("render_ms", median(times));
    print("report_mb", mb(text.len()));
    print("heap_peak_mb", mb(PEAK.load(Relaxed) - heap_before));
    print("peak_mb", proc_status("VmHWM:"));

    // Last, as the eviction buffer would count in the peaks above.
    let times = cold_runs(runs, || {
        std::hint::black_box(
            analysis::analyze(snap, &drivers, &scope).expect("no targets, nothing missing"),
        );
    });
    print(
        "analyse_cold_min_ms",
        times.iter().copied().fold(f64::INFINITY, f64::min),
    );
    print("analyse_cold_ms", median(times));
}

/// Size of the buffer written between cold runs: several times any L3.
const EVICT_BYTES: usize = 256 << 20;

/// Runs `f` `runs` times (5 at least), each after writing a buffer larger
/// than the caches, so every run starts as a CLI run does: with the caches
/// holding other data. Repeated warm runs of a small snapshot keep its whole
/// working set in the L3 and flatter its time; this measure does not.
fn cold_runs(runs: usize, mut f: impl FnMut()) -> Vec<f64> {
    let mut evict = vec![0u8; EVICT_BYTES];
    let mut times = Vec::new();
    for round in 0..runs.max(5) {
        for line in evict.chunks_mut(64) {
            line[0] = line[0].wrapping_add(round as u8 | 1);
        }
        std::hint::black_box(&evict);
        let t = Instant::now();
        f();
        times.push(ms(t.elapsed()));
    }
    times
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("? GiB".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    format!("machine: {model}, {cpus} CPUs, {mem} RAM")
}

type Measured = (String, BTreeMap<String, f64>);

fn print_tables(results: &[Measured]) {
    let get = |m: &BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(f64::NAN);
    println!("| size | pods | claims | volumes | nodes | events | objects | broken subjects |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, m) in results {
        let cells: Vec<String> = [
            "pods", "claims", "volumes", "nodes", "events", "objects", "injected",
        ]
        .iter()
        .map(|k| m.get(*k).map_or("–".to_string(), |v| format!("{v}")))
        .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
    println!();
    let rows: &[(&str, &str, usize)] = &[
        ("snapshot file (MB)", "file_mb", 0),
        ("generate the file (ms)", "generate_ms", 0),
        ("parse: read, decode, index (ms)", "parse_ms", 0),
        ("analyse (ms, median)", "analyse_ms", 1),
        ("analyse (ms, fastest run)", "analyse_min_ms", 1),
        ("analyse (CPU ms per run)", "analyse_cpu_ms", 0),
        ("analyse, caches evicted (ms, median)", "analyse_cold_ms", 1),
        (
            "analyse, caches evicted (ms, fastest)",
            "analyse_cold_min_ms",
            1,
        ),
        (
            "analyse, first run after the parse (ms)",
            "analyse_first_ms",
            1,
        ),
        ("render JSON (ms, median)", "render_ms", 1),
        ("findings", "findings", 0),
        ("JSON report (MB)", "report_mb", 2),
        ("heap: the loaded snapshot (MB)", "heap_snapshot_mb", 0),
        ("heap: peak while parsing (MB)", "heap_peak_parse_mb", 0),
        ("RSS after parse (MB)", "rss_loaded_mb", 0),
        ("peak RSS, whole run (MB)", "peak_mb", 0),
    ];
    print!("| measure |");
    for (name, _) in results {
        print!(" {name} |");
    }
    let pairs: Vec<(usize, usize)> = (1..results.len())
        .map(|i| (i - 1, i))
        .chain((results.len() > 2).then_some((0, results.len() - 1)))
        .collect();
    for (a, b) in &pairs {
        print!(" {}→{} |", results[*a].0, results[*b].0);
    }
    println!();
    print!("|---|");
    for _ in 0..results.len() + pairs.len() {
        print!("---:|");
    }
    println!();
    for (label, key, digits) in rows {
        print!("| {label} |");
        for (_, m) in results {
            match get(m, key) {
                v if v.is_nan() => print!(" – |"),
                v => print!(" {v:.*} |", *digits),
            }
        }
        for (a, b) in &pairs {
            print!(
                " {:.1}× |",
                get(&results[*b].1, key) / get(&results[*a].1, key)
            );
        }
        println!();
    }
    for (label, num) in [
        ("peak RSS / file size", "peak_mb"),
        ("peak heap / file size", "heap_peak_mb"),
        ("snapshot heap / file size", "heap_snapshot_mb"),
    ] {
        print!("| {label} |");
        for (_, m) in results {
            print!(" {:.2} |", get(m, num) / get(m, "file_mb"));
        }
        for _ in &pairs {
            print!(" |");
        }
        println!();
    }
    println!();
    let (Some(first), Some(last)) = (results.first(), results.last()) else {
        return;
    };
    let (f, l) = (&first.1, &last.1);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!("targets at {}:", last.0);
    println!(
        "- analysis {:.0} ms median with the caches evicted, {:.0} ms warm (target < {ANALYSIS_TARGET_MS} ms): {}",
        get(l, "analyse_cold_ms"),
        get(l, "analyse_ms"),
        verdict(get(l, "analyse_cold_ms").max(get(l, "analyse_ms")) < ANALYSIS_TARGET_MS)
    );
    if results.len() > 1 {
        let objects = get(l, "objects") / get(f, "objects");
        let allowed = GROWTH_TARGET * objects / 16.0;
        for (what, key) in [
            ("analysis, caches evicted", "analyse_cold_ms"),
            ("analysis, warm repeated runs", "analyse_ms"),
            ("parse", "parse_ms"),
        ] {
            let growth = get(l, key) / get(f, key);
            println!(
                "- {what} growth {}→{}: {objects:.1}× the objects, {growth:.1}× the time (target ≤ {allowed:.1}×): {}",
                first.0,
                last.0,
                verdict(growth <= allowed)
            );
        }
    }
    let memory = get(l, "peak_mb") / get(l, "file_mb");
    println!(
        "- peak memory {:.0} MB = {memory:.2}× the {:.0} MB file (target ≤ {MEMORY_TARGET}×): {}",
        get(l, "peak_mb"),
        get(l, "file_mb"),
        verdict(memory <= MEMORY_TARGET)
    );
}
