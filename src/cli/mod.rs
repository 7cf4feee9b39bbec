//! Command line: flags as kubectl has them, the run, and exit codes
//! (0 nothing broken, 1 a broken link found, 2 the tool could not do its job).

use crate::analysis;
use crate::drivers::Drivers;
use crate::explain;
use crate::report::human::{self, Layout, Styles};
use crate::report::markdown;
use crate::report::Report;
use crate::scope::{Scope, Target};
use crate::selector::Selector;
use crate::source::{self, collect, drivers_file, live, Input, Request, Source, SourceSpec};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

mod args;
pub mod complete;

pub use args::{command, Cli, ColorChoice, Command, FailOn, Output};

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

/// `TYPE/NAME` arguments, and kubectl's `TYPE NAME [NAME...]`: a word
/// without a slash is a type when it names one, and the words after it
/// without a slash are its names.
fn parse_targets(args: &[String]) -> Result<Vec<Target>> {
    let needs_a_name = |kind: &str| anyhow::anyhow!("{kind:?} needs a NAME (e.g. pvc data)");
    let mut targets = Vec::new();
    // A type waiting for its first name; the type whose names follow.
    let mut pending: Option<&str> = None;
    let mut current: Option<&str> = None;
    for arg in args {
        if arg.contains('/') {
            if let Some(kind) = pending {
                return Err(needs_a_name(kind));
            }
            targets.push(Target::parse(arg).map_err(anyhow::Error::msg)?);
            current = None;
        } else if let Some(kind) = pending.or(current) {
            targets.push(Target::from_kind(kind, arg).map_err(anyhow::Error::msg)?);
            pending = None;
            current = Some(kind);
        } else if Target::from_kind(arg, "-").is_ok() {
            pending = Some(arg);
        } else {
            return Err(anyhow::Error::msg(
                Target::parse(arg).err().unwrap_or_default(),
            ));
        }
    }
    match pending {
        Some(kind) => Err(needs_a_name(kind)),
        None => Ok(targets),
    }
}

fn source_spec(cli: &Cli, keep: source::dump::Keep) -> SourceSpec {
    if cli.from.is_empty() {
        SourceSpec::Live(live::LiveOptions {
            kubeconfig: cli.kubeconfig.clone(),
            context: cli.context.clone(),
            request_timeout: cli.request_timeout,
            verbose: cli.verbose,
            consistent: cli.consistent,
            disable_compression: cli.disable_compression,
            stdin_is_terminal: std::io::stdin().is_terminal(),
            keep,
        })
    } else {
        SourceSpec::Dump {
            paths: cli.from.clone(),
            max_bytes: cli.max_input_bytes,
        }
    }
}

/// The events every read keeps, from the rule registry.
static EVENTS: std::sync::LazyLock<crate::events::EventFilter> =
    std::sync::LazyLock::new(crate::rules::event_filter);

fn request<'a>(cli: &'a Cli, targets: &'a [Target]) -> Request<'a> {
    Request {
        targets,
        namespace: cli.namespace.as_deref(),
        all_namespaces: cli.all_namespaces,
        selector: cli.selector.as_deref(),
        extra: source::Extra {
            usage: cli.usage,
            logs: cli.logs,
        },
        events: &EVENTS,
        keep: source::dump::Keep::Diagnosis,
    }
}

/// A spinner while a live cluster answers; the request log and a spinner
/// would overwrite each other. Started only once connected: an exec
/// credential plugin runs while connecting and may be prompting.
fn spinner(cli: &Cli) -> Option<crate::spinner::Spinner> {
    (cli.from.is_empty() && !cli.verbose && !cli.quiet)
        .then(|| crate::spinner::Spinner::start("reading the cluster…".to_string()))
}

/// Reads the scope once: connects (and runs any credential plugin), then
/// reads with the spinner going.
fn read_once(cli: &Cli, request: &Request, stdin: &mut dyn std::io::Read) -> Result<Input> {
    let runtime = source::runtime()?;
    let source = Source::open(&source_spec(cli, request.keep), &runtime)?;
    let _spinner = spinner(cli);
    source.read(request, stdin)
}

/// Writes the output; a reader that closed the pipe (`| head`) is not an error.
fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write the output")
        }
        _ => Ok(()),
    }
}

/// Runs the tool; errors are printed by [`main`].
pub fn run(
    cli: &Cli,
    stdin: &mut dyn std::io::Read,
    out: &mut dyn Write,
    stdout_is_terminal: bool,
) -> Result<u8> {
    match &cli.command {
        None => diagnose(cli, stdin, out, stdout_is_terminal),
        Some(Command::Explain { rule, list }) => {
            emit(out, &explain::text(rule.as_deref(), *list)?)?;
            Ok(0)
        }
        Some(Command::Completion { shell }) => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut command(), "kubectl-storage_doctor", &mut buf);
            emit(out, &String::from_utf8_lossy(&buf))?;
            Ok(0)
        }
        Some(Command::Collect {
            targets,
            file,
            no_redact,
        }) => {
            let targets = parse_targets(targets)?;
            let request = Request {
                keep: source::dump::Keep::Collect,
                ..request(cli, &targets)
            };
            let input = read_once(cli, &request, stdin)?;
            let collected =
                collect::render(&input.snapshot, cli.output == Output::Json, !no_redact)?;
            if collected.redacted > 0 {
                eprintln!(
                    "note: {} value(s) that may be credentials were replaced with REDACTED (--no-redact keeps them)",
                    collected.redacted
                );
            }
            let text = collected.text;
            // The file cannot say what it lacks; whoever sends it should know.
            for gap in &input.snapshot.gaps {
                eprintln!(
                    "{}",
                    stderr_text(&format!(
                        "warning: not in the capture: {} ({}): {}",
                        gap.resource, gap.reason, gap.message
                    ))
                );
            }
            match file {
                Some(path) => std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => emit(out, &text)?,
            }
            Ok(0)
        }
    }
}

/// What the run is told besides where to read: parsed once.
struct Settings {
    targets: Vec<Target>,
    selector: Option<Selector>,
    drivers: Drivers,
}

fn settings(cli: &Cli) -> Result<Settings> {
    let targets = parse_targets(&cli.targets)?;
    let selector = cli
        .selector
        .as_deref()
        .map(Selector::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let drivers = drivers_file::load(cli.drivers.as_deref())?;
    Ok(Settings {
        targets,
        selector,
        drivers,
    })
}

/// Analyses what was read into the report.
fn build_report(cli: &Cli, settings: &Settings, input: &Input) -> Result<Report> {
    let scope = Scope {
        namespaces: input.namespaces.clone(),
        targets: settings.targets.clone(),
        selector: settings.selector.clone(),
    };
    let snap = &input.snapshot;
    let analysis = analysis::analyze(snap, &settings.drivers, &scope)
        .map_err(|e| target_not_found(e, snap, &scope))?;
    Ok(analysis.into_report(snap, input.source.clone(), &scope, cli.show_healthy))
}

/// A target that names nothing: the error, with the names of its kind in
/// scope that come close (`pod/trainer` for `pod/trainr`).
fn target_not_found(
    err: crate::scope::TargetNotFound,
    snap: &crate::snapshot::Snapshot,
    scope: &Scope,
) -> anyhow::Error {
    use crate::scope::WorkloadKind as W;
    let Some(target) = scope.targets.iter().find(|t| t.to_string() == err.target) else {
        return err.into();
    };
    if let Some(unreadable) = unreadable(target, snap, scope) {
        return unreadable;
    }
    fn names<'a, K: kube::Resource + 'a>(
        scope: &Scope,
        items: impl IntoIterator<Item = &'a K>,
    ) -> Vec<String> {
        items
            .into_iter()
            .map(kube::Resource::meta)
            .filter(|m| m.namespace.is_none() || scope.includes_namespace(m.namespace.as_deref()))
            .filter_map(|m| m.name.clone())
            .collect()
    }
    let o = &snap.objects;
    let (known, rebuild): (Vec<String>, fn(String) -> Target) = match target {
        Target::Pod(_) => (names(scope, &o.pods), Target::Pod),
        Target::Claim(_) => (names(scope, &o.claims), Target::Claim),
        Target::Class(_) => (names(scope, &o.classes), Target::Class),
        Target::Node(_) => (names(scope, &o.nodes), Target::Node),
        Target::Volume(_) => (names(scope, &o.volumes), Target::Volume),
        Target::Snapshot(_) => (names(scope, &o.snapshots), Target::Snapshot),
        Target::Workload(kind, _) => {
            let known = match kind {
                W::Deployment => names(scope, &o.deployments),
                W::StatefulSet => names(scope, &o.stateful_sets),
                W::ReplicaSet => names(scope, &o.replica_sets),
                W::DaemonSet => names(scope, &o.daemon_sets),
                W::Job => names(scope, &o.jobs),
                W::CronJob => names(scope, &o.cron_jobs),
            };
            let suggestions: Vec<String> =
                crate::text::did_you_mean(target.name(), known.iter().map(String::as_str))
                    .into_iter()
                    .map(|n| Target::Workload(*kind, n.to_string()).to_string())
                    .collect();
            return anyhow::anyhow!("{err}{}", did_you_mean(&suggestions));
        }
    };
    let suggestions: Vec<String> =
        crate::text::did_you_mean(target.name(), known.iter().map(String::as_str))
            .into_iter()
            .map(|n| rebuild(n.to_string()).to_string())
            .collect();
    anyhow::anyhow!("{err}{}", did_you_mean(&suggestions))
}

/// A target of a kind that could not be read (a gap): not "not found",
/// but that it is not readable, and for a 403 by which permission.
fn unreadable(
    target: &Target,
    snap: &crate::snapshot::Snapshot,
    scope: &Scope,
) -> Option<anyhow::Error> {
    let kind = target.kind();
    let gap = snap.gaps.iter().find(|g| g.resource == kind.resource)?;
    let place = match (&scope.namespaces, kind.namespaced) {
        (_, false) => "at the cluster scope".to_string(),
        (None, true) => "in every namespace".to_string(),
        (Some(set), true) => format!(
            "in namespace {}",
            set.iter().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    let resource = kind.resource;
    let why = if gap.reason == "Forbidden" {
        let verb = forbidden_verb(&gap.message).unwrap_or("list");
        format!(
            "this user may not {verb} {resource} {place} (403 Forbidden): it needs `{verb} {resource}` {place} (examples/rbac.yaml grants it)"
        )
    } else {
        format!(
            "reading {resource} failed ({}): {}",
            gap.reason, gap.message
        )
    };
    Some(anyhow::anyhow!("{target} cannot be read: {why}"))
}

/// The verb an RBAC refusal names: `… cannot list resource "x" …`.
fn forbidden_verb(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("cannot ")?;
    rest.split_whitespace()
        .next()
        .filter(|v| v.chars().all(|c| c.is_ascii_lowercase()))
}

fn did_you_mean(suggestions: &[String]) -> String {
    let refs: Vec<&str> = suggestions.iter().map(String::as_str).collect();
    crate::text::did_you_mean_text(&refs)
}

fn render(cli: &Cli, report: &Report, stdout_is_terminal: bool) -> String {
    if cli.quiet {
        return String::new();
    }
    let shown;
    let report = if cli.min_severity == FailOn::Info {
        report
    } else {
        shown = report.at_least(cli.min_severity.severity());
        &shown
    };
    match cli.output {
        Output::Json => report.to_json(),
        Output::Yaml => report.to_yaml(),
        Output::Markdown => markdown::render(report),
        Output::Human | Output::Wide => {
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
            human::render(
                report,
                Layout {
                    styles,
                    width,
                    wide: cli.output == Output::Wide,
                    headers: !cli.no_headers,
                },
            )
        }
    }
}

fn diagnose(
    cli: &Cli,
    stdin: &mut dyn std::io::Read,
    out: &mut dyn Write,
    stdout_is_terminal: bool,
) -> Result<u8> {
    if cli.watch {
        return watch(cli, out, stdout_is_terminal);
    }
    let settings = settings(cli)?;
    let input = read_once(cli, &request(cli, &settings.targets), stdin)?;
    let report = build_report(cli, &settings, &input)?;
    // The process ends next and gives its memory back whole; freeing a
    // large cluster's objects one by one took 55 ms (BENCHMARKS.md).
    std::mem::forget(input);
    emit(out, &render(cli, &report, stdout_is_terminal))?;
    Ok(report.exit_code(cli.fail_on.severity()))
}

/// The rank-1 rule of each finding, by subject: each pod of a finding
/// that stands for a workload's replicas.
fn root_causes(report: &Report) -> BTreeMap<String, &'static str> {
    let mut roots = BTreeMap::new();
    for f in &report.findings {
        let Some(rule) = f.causes.first().map(|c| c.rule) else {
            continue;
        };
        match &f.replicas {
            Some(r) => {
                for pod in &r.pods {
                    let subject = crate::model::ObjectRef {
                        name: pod.clone(),
                        ..f.subject.clone()
                    };
                    roots.insert(subject.to_string(), rule);
                }
            }
            None => {
                roots.insert(f.subject.to_string(), rule);
            }
        }
    }
    roots
}

/// What changed between two rounds of `--watch`.
pub fn changes(before: &BTreeMap<String, &str>, now: &BTreeMap<String, &str>) -> Vec<String> {
    let mut out = Vec::new();
    for (subject, rule) in before {
        match now.get(subject) {
            None => out.push(format!("fixed    {subject} (was {rule})")),
            Some(r) if r != rule => out.push(format!("changed  {subject}: {rule} → {r}")),
            Some(_) => {}
        }
    }
    for (subject, rule) in now {
        if !before.contains_key(subject) {
            out.push(format!("new      {subject}: {rule}"));
        }
    }
    out
}

/// `--watch`: read, diagnose and redraw every interval until nothing is
/// broken (exit 0) or Ctrl-C (the exit status of the last round: 1 while
/// something is broken). One runtime and one client serve every round.
fn watch(cli: &Cli, out: &mut dyn Write, stdout_is_terminal: bool) -> Result<u8> {
    if cli.from.iter().any(|f| f == "-") {
        anyhow::bail!("--watch cannot re-read standard input: pass a file or a live cluster");
    }
    let settings = settings(cli)?;
    let runtime = source::runtime()?;
    let mut source = Source::open(&source_spec(cli, source::dump::Keep::Diagnosis), &runtime)?;
    let request = request(cli, &settings.targets);
    let mut previous: Option<BTreeMap<String, &'static str>> = None;
    loop {
        source.renew_expiring_credentials()?;
        let input = {
            let _spinner = spinner(cli);
            source.read(&request, &mut std::io::empty())?
        };
        let report = build_report(cli, &settings, &input)?;
        let now = root_causes(&report);
        let mut text = String::new();
        if cli.quiet {
            // Nothing to redraw.
        } else if stdout_is_terminal {
            // Redraw in place.
            text.push_str("\x1b[2J\x1b[H");
        } else if previous.is_some() {
            text.push_str("\n---\n");
        }
        if let Some(before) = &previous {
            let changed = changes(before, &now);
            if !changed.is_empty()
                && !cli.quiet
                && !matches!(cli.output, Output::Json | Output::Yaml)
            {
                text.push_str("changes since the last check:\n");
                for line in changed {
                    text.push_str(&format!("  {line}\n"));
                }
                text.push('\n');
            }
        }
        text.push_str(&render(cli, &report, stdout_is_terminal));
        emit(out, &text)?;
        let code = report.exit_code(cli.fail_on.severity());
        if code == 0 {
            return Ok(0);
        }
        previous = Some(now);
        let interrupted = runtime.block_on(async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => true,
                _ = tokio::time::sleep(cli.interval) => false,
            }
        });
        if interrupted {
            return Ok(code);
        }
    }
}

/// Text for stderr that may quote the cluster, a file or a URL: control
/// and bidi characters shown, not obeyed; URLs without credentials.
pub fn stderr_text(text: &str) -> String {
    crate::text::terminal(&crate::text::urls_for_display(text)).into_owned()
}

/// `--from -` with nothing piped in waits for typing: say so, rather than
/// seem to hang.
fn stdin_notice(from: &[String], stdin_is_terminal: bool) -> Option<&'static str> {
    (stdin_is_terminal && from.iter().any(|f| f == "-")).then_some(
        "reading the capture from standard input (end it with Ctrl-D, or pipe a file in)",
    )
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(words) = complete::request(&args) {
        print!("{}", complete::answer(&words));
        return ExitCode::SUCCESS;
    }
    let cli = match command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Some(notice) = stdin_notice(&cli.from, std::io::stdin().is_terminal()) {
        eprintln!("{notice}");
    }
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
            eprintln!("error: {}", stderr_text(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
    fn reading_a_terminal_says_so() {
        let from = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(stdin_notice(&from(&["-"]), true).is_some());
        assert!(stdin_notice(&from(&["-"]), false).is_none());
        assert!(stdin_notice(&from(&["a.yaml"]), true).is_none());
    }

    #[test]
    fn watch_follows_each_pod_of_a_grouped_finding() {
        let cli = Cli::parse_from([
            "kubectl storage-doctor",
            "--from",
            "tests/scenarios/replicas-grouped/snapshot.yaml",
        ]);
        let settings = settings(&cli).unwrap();
        let input = read_once(
            &cli,
            &request(&cli, &settings.targets),
            &mut std::io::empty(),
        );
        let report = build_report(&cli, &settings, &input.unwrap()).unwrap();
        let roots = root_causes(&report);
        assert_eq!(report.findings.len(), 4);
        assert_eq!(roots.len(), 7);
        assert_eq!(roots["Pod/shop/db-1"], "storageclass-not-found");
        assert_eq!(roots["Pod/shop/api-5d9c7f6b8-h7m3d"], "claim-not-found");
    }

    #[test]
    fn watch_marks_what_changed() {
        let before = BTreeMap::from([
            ("Pod/a/x".to_string(), "claim-not-found"),
            ("Pod/a/y".to_string(), "multi-attach"),
        ]);
        let now = BTreeMap::from([
            ("Pod/a/y".to_string(), "attach-failed"),
            ("Pod/a/z".to_string(), "mount-failed"),
        ]);
        assert_eq!(
            changes(&before, &now),
            [
                "fixed    Pod/a/x (was claim-not-found)",
                "changed  Pod/a/y: multi-attach → attach-failed",
                "new      Pod/a/z: mount-failed"
            ]
        );
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
