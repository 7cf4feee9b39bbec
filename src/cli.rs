//! Command line: flags as kubectl has them, the run, and exit codes
//! (0 nothing broken, 1 a broken link found, 2 the tool could not do its job).

use crate::analysis;
use crate::chain::{Scope, Target};
use crate::drivers::Drivers;
use crate::report::human::{self, Layout, Styles};
use crate::report::{Report, ScopeInfo, SourceInfo, API_VERSION};
use crate::source::dump::{self, Input};
use anyhow::{bail, Context, Result};
use clap::{Parser, ValueEnum};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  # Diagnose every pod and claim in a capture
  kubectl storage-doctor --from cluster-dump.yaml

  # One pod, one namespace, as JSON for a ticket
  kubectl storage-doctor --from dump/ -n triage pod/trainer -o json

  # Capture what the diagnosis needs
  kubectl get pods,pvc,pv,storageclass,csidriver,csinode,volumeattachment,nodes,events -A -o yaml > dump.yaml

Exit status: 0 nothing broken, 1 at least one broken link, 2 the tool could not do its job.";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl storage-doctor",
    bin_name = "kubectl storage-doctor",
    version,
    about = "Explain why a pod's storage is broken: which link of Pod → PVC → PV / StorageClass → CSI driver → Node → attach → mount fails, why, and the fix.",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// What to diagnose: pod/NAME or pvc/NAME (default: every pod with claims that is not Running and Ready, and every claim not Bound)
    #[arg(value_name = "TYPE/NAME")]
    pub targets: Vec<String>,

    /// Read captured state instead of a live cluster: a kubectl JSON/YAML file, a folder (read recursively, e.g. `kubectl cluster-info dump` output), or - for stdin. Repeatable.
    #[arg(long = "from", value_name = "PATH")]
    pub from: Vec<String>,

    /// Only this namespace
    #[arg(short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// All namespaces (the default with --from)
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,

    /// Output format
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Human)]
    pub output: Output,

    /// When to colour the human output (auto: on a terminal, unless NO_COLOR is set)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// A YAML file of driver capabilities that extends or overrides the built-in table
    #[arg(long, value_name = "FILE")]
    pub drivers: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether to colour: `always`/`never` as said; `auto` on a terminal unless
/// NO_COLOR is set (to anything but empty) or TERM is dumb.
pub fn use_color(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
        }
    }
}

/// Runs the tool; errors are printed by [`main`].
pub fn run(
    cli: &Cli,
    stdin: &mut dyn std::io::Read,
    out: &mut dyn Write,
    stdout_is_terminal: bool,
) -> Result<u8> {
    let targets = cli
        .targets
        .iter()
        .map(|t| Target::parse(t))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    if cli.from.is_empty() {
        bail!(
            "no input: this build diagnoses captured state only; pass --from FILE|DIR|- (capture with: kubectl get pods,pvc,pv,storageclass,csidriver,csinode,volumeattachment,nodes,events -A -o yaml > dump.yaml)"
        );
    }
    let mut drivers = Drivers::built_in();
    if let Some(path) = &cli.drivers {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read driver file {}", path.display()))?;
        drivers
            .extend_from_yaml(&text)
            .with_context(|| format!("{}: not a valid driver file", path.display()))?;
    }
    let inputs: Vec<Input> = cli.from.iter().map(|p| Input::parse(p)).collect();
    let loaded = dump::load(&inputs, stdin)?;
    let snap = &loaded.snapshot;

    let namespaces: Option<BTreeSet<String>> = match (&cli.namespace, cli.all_namespaces) {
        (Some(ns), _) => Some(BTreeSet::from([ns.clone()])),
        (None, _) => None,
    };
    let scope = Scope {
        namespaces: namespaces.clone(),
        targets,
    };
    let analysis = analysis::analyze(snap, &drivers, &scope)?;
    let report = Report {
        api_version: API_VERSION,
        source: SourceInfo {
            kind: "dump".into(),
            context: None,
            server: None,
            server_version: None,
            paths: cli.from.clone(),
            captured_at: Some(snap.now.to_string()),
        },
        scope: ScopeInfo {
            all_namespaces: namespaces.is_none(),
            namespaces: namespaces
                .unwrap_or_else(|| snap.namespaces())
                .into_iter()
                .collect(),
            targets: scope.targets.iter().map(ToString::to_string).collect(),
        },
        summary: analysis.summary,
        gaps: snap.gaps.clone(),
        findings: analysis.findings,
    };
    let text = match cli.output {
        Output::Json => report.to_json(),
        Output::Yaml => report.to_yaml(),
        Output::Human => {
            let styles = Styles {
                enabled: use_color(
                    cli.color,
                    stdout_is_terminal,
                    std::env::var("NO_COLOR").ok().as_deref(),
                    std::env::var("TERM").ok().as_deref(),
                ),
            };
            let width = if stdout_is_terminal {
                terminal_size::terminal_size().map(|(w, _)| w.0)
            } else {
                std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
            };
            human::render(&report, Layout { styles, width })
        }
    };
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that closed the pipe (`| head`) is not an error.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write the report");
        }
    }
    Ok(report.exit_code())
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let stdout = std::io::stdout();
    let is_terminal = stdout.is_terminal();
    match run(
        &cli,
        &mut std::io::stdin().lock(),
        &mut stdout.lock(),
        is_terminal,
    ) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_not_an_error() {
        let input = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: d, namespace: x}\nstatus: {phase: Pending}\n";
        let cli = Cli::parse_from(["kubectl storage-doctor", "--from", "-"]);
        let code = run(&cli, &mut input.as_bytes(), &mut ClosedPipe, false).unwrap();
        assert_eq!(code, 1);
    }

    #[test]
    fn colour_follows_flag_terminal_and_no_color() {
        assert!(use_color(ColorChoice::Auto, true, None, None));
        assert!(!use_color(ColorChoice::Auto, false, None, None));
        assert!(!use_color(ColorChoice::Auto, true, Some("1"), None));
        assert!(use_color(ColorChoice::Auto, true, Some(""), None));
        assert!(!use_color(ColorChoice::Auto, true, None, Some("dumb")));
        assert!(use_color(ColorChoice::Always, false, Some("1"), None));
        assert!(!use_color(ColorChoice::Never, true, None, None));
    }
}
