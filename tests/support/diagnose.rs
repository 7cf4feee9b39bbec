//! The tool run in-process, as `kubectl storage-doctor ARGS`, on a given
//! standard input: faster than starting the binary, and the same code path.

use clap::Parser;
use kubectl_storage_doctor::cli::{run, Cli};
use serde_json::Value;

/// The exit code and standard output of the tool with `args`; panics on an
/// error (a usage error or an unreadable input).
pub fn output(args: &[&str], stdin: &[u8]) -> (u8, Vec<u8>) {
    let cli =
        Cli::parse_from(std::iter::once("kubectl storage-doctor").chain(args.iter().copied()));
    let mut out = Vec::new();
    let code =
        run(&cli, &mut &stdin[..], &mut out, false).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    (code, out)
}

/// The standard output of the tool with `args`, as text.
pub fn text(args: &[&str], stdin: &[u8]) -> String {
    String::from_utf8(output(args, stdin).1).expect("the output is UTF-8")
}

/// The exit code and JSON report of the tool with `args` and `-o json`.
pub fn json(args: &[&str], stdin: &[u8]) -> (u8, Value) {
    let args: Vec<&str> = args.iter().copied().chain(["-o", "json"]).collect();
    let (code, out) = output(&args, stdin);
    (code, serde_json::from_slice(&out).expect("a JSON report"))
}
