//! Writes a synthetic cluster snapshot (one `List`, as `kubectl get -o json`
//! prints it) for benchmarks, profiling or a test cluster:
//!
//! ```sh
//! cargo run --release -p storage-doctor-synth -- -o /tmp/large.json   # 50,000 pods
//! cargo run --release -p storage-doctor-synth -- --divide 16 -o /tmp/small.json
//! cargo run --release -p storage-doctor-synth -- --pods 2000 --claims 800 --volumes 800 --nodes 20 --events 8000
//! kubectl-storage_doctor --from /tmp/large.json -o json > /dev/null
//! ```
//!
//! Flags: `--divide N` (the large size divided by N), `--pods`, `--claims`,
//! `--volumes`, `--nodes`, `--events`, `--seed`, `--broken-per-mille`,
//! `--storms`, `--storm-events`, `--compact`, `--no-managed-fields`,
//! `--for-create` (without the fields only a server sets, for
//! `kubectl create -f`), `--list-injected`, `-o FILE` (default: stdout).
//! Counts, and with `--list-injected` each broken subject, go to stderr.

use std::io::{BufWriter, Write};
use storage_doctor_synth::{self as synth, Config, Size};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut size = Size::LARGE;
    let mut cfg = Config::new(size);
    let mut storm_events = None;
    let mut output: Option<String> = None;
    let mut list_injected = false;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let mut value = || -> Result<String, String> {
            i += 1;
            args.get(i).cloned().ok_or(format!("{flag} needs a value"))
        };
        let mut number = || -> Result<usize, String> {
            let v = value()?;
            v.replace('_', "")
                .parse()
                .map_err(|_| format!("{flag}: not a number: {v}"))
        };
        match flag {
            "--divide" => size = Size::LARGE.divided(number()?),
            "--pods" => size.pods = number()?,
            "--claims" => size.claims = number()?,
            "--volumes" => size.volumes = number()?,
            "--nodes" => size.nodes = number()?,
            "--events" => size.events = number()?,
            "--seed" => cfg.seed = number()? as u64,
            "--broken-per-mille" => cfg.broken_per_mille = number()?,
            "--storms" => cfg.storms = number()?,
            "--storm-events" => storm_events = Some(number()?),
            "--compact" => cfg.pretty = false,
            "--no-managed-fields" => cfg.managed_fields = false,
            "--for-create" => cfg.server_fields = false,
            "--list-injected" => list_injected = true,
            "-o" | "--output" => output = Some(value()?),
            "-h" | "--help" => {
                println!("usage: synth [--divide N] [--pods N] [--claims N] [--volumes N] [--nodes N] [--events N] [--seed N] [--broken-per-mille N] [--storms N] [--storm-events N] [--compact] [--no-managed-fields] [--for-create] [--list-injected] [-o FILE]");
                return Ok(());
            }
            other => return Err(format!("unknown flag {other}")),
        }
        i += 1;
    }
    cfg.size = size;
    cfg.storm_events = storm_events.unwrap_or(Config::new(size).storm_events);
    let manifest = match &output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
            synth::write(&cfg, BufWriter::with_capacity(1 << 20, file))
        }
        None => synth::write(&cfg, BufWriter::new(std::io::stdout().lock())),
    }
    .map_err(|e| e.to_string())?;
    let c = manifest.counts;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} pods, {} claims, {} volumes, {} nodes, {} events, {} attachments, {} other objects; {} bytes; {} broken subjects",
        c.pods,
        c.claims,
        c.volumes,
        c.nodes,
        c.events,
        c.attachments,
        c.other,
        c.bytes,
        manifest.injected.len()
    );
    if list_injected {
        for i in &manifest.injected {
            let _ = writeln!(err, "{} {} {}", i.severity(), i.subject, i.rule());
        }
    }
    Ok(())
}
