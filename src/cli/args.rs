//! The command line: flags and subcommands as clap reads them, and the
//! parsers of their values.

use crate::model::Severity;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  # Every broken pod and claim in the current namespace, then in all
  kubectl storage-doctor
  kubectl storage-doctor -A

  # One pod; a workload; every claim of a class
  kubectl storage-doctor pod/trainer
  kubectl storage-doctor -n ml deploy/vllm
  kubectl storage-doctor sc/fast-ssd

  # A ticket attachment, as JSON or Markdown
  kubectl storage-doctor --from dump.yaml -o json
  kubectl storage-doctor --from dump.yaml -o markdown

  # Capture what the diagnosis needs, for a ticket (never Secrets)
  kubectl storage-doctor collect -A -f dump.yaml

  # What a rule means and how to fix it
  kubectl storage-doctor explain claim-not-found

Exit status: 0 nothing broken, 1 at least one broken link (see --fail-on),
2 the tool could not do its job.";

/// `--version`: the crate version, the commit it was built from (when git
/// was there at build time), the target, and the Kubernetes API version the
/// types are compiled against.
static LONG_VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{}\ncommit: {}\ntarget: {}\nkubernetes API: {} (k8s-openapi)\nreport: {}",
        env!("CARGO_PKG_VERSION"),
        option_env!("STORAGE_DOCTOR_GIT_COMMIT").unwrap_or("unknown"),
        option_env!("STORAGE_DOCTOR_TARGET").unwrap_or("unknown"),
        KUBERNETES_API,
        crate::report::API_VERSION,
    )
});

// Exactly one of these is defined: the k8s-openapi feature chosen in Cargo.toml.
k8s_openapi::k8s_if_1_33! { const KUBERNETES_API: &str = "1.33"; }
k8s_openapi::k8s_if_1_34! { const KUBERNETES_API: &str = "1.34"; }
k8s_openapi::k8s_if_1_35! { const KUBERNETES_API: &str = "1.35"; }
k8s_openapi::k8s_if_1_36! { const KUBERNETES_API: &str = "1.36"; }
k8s_openapi::k8s_if_1_37! { const KUBERNETES_API: &str = "1.37"; }

#[derive(Debug, Parser)]
#[command(
    name = "kubectl storage-doctor",
    bin_name = "kubectl storage-doctor",
    version,
    long_version = LONG_VERSION.as_str(),
    // A flag given twice takes the last value, as in kubectl (`-n a -n b`).
    args_override_self = true,
    about = "Explain why a pod's storage is broken: which link of Pod → PVC → PV / StorageClass → CSI driver → Node → attach → mount fails, why, and the fix.",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// What to diagnose, as TYPE/NAME or TYPE NAME...: pod, pvc, deploy, sts, rs, ds, job, cronjob, sc, node, pv (kubectl's names and aliases, and `kubectl get -o name` output), e.g. pod/trainer, deployment.apps/vllm, pvc data (default: every pod with claims that is not Running and Ready, and every claim not Bound)
    #[arg(value_name = "TYPE/NAME")]
    pub targets: Vec<String>,

    /// Read captured state instead of a live cluster: a kubectl JSON/YAML file, a folder (read recursively, e.g. `kubectl cluster-info dump` output), or - for stdin. Repeatable.
    #[arg(global = true, long = "from", value_name = "PATH")]
    pub from: Vec<String>,

    /// The most bytes --from may read from all its inputs together (e.g. 500Mi, 4Gi, or plain bytes)
    #[arg(global = true, long, value_name = "SIZE", default_value = "2Gi", value_parser = parse_size)]
    pub max_input_bytes: u64,

    /// Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)
    #[arg(global = true, long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use
    #[arg(global = true, long, value_name = "NAME")]
    pub context: Option<String>,

    /// Only pods and claims matching this label selector (e.g. app=web,tier!=cache)
    #[arg(global = true, short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// How long to wait for the API server per request (e.g. 30s, 1m; a plain number is seconds)
    #[arg(global = true, long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub request_timeout: Duration,

    /// Read every list from etcd (a consistent read) instead of the API server's watch cache, which may trail etcd by a moment; slower, and more load on the control plane
    #[arg(global = true, long)]
    pub consistent: bool,

    /// Ask the API server for uncompressed answers (as kubectl's flag does). The default is off for a server on this machine, where gzip only costs CPU, and as the kubeconfig's disable-compression says otherwise; --disable-compression=false asks for gzip even there, e.g. through a tunnel to a remote server
    #[arg(global = true, long, value_name = "BOOL", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub disable_compression: Option<bool>,

    /// Only this namespace (default: the context's namespace on a live cluster, every namespace with --from)
    #[arg(global = true, short = 'n', long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// All namespaces (the default with --from)
    #[arg(
        global = true,
        short = 'A',
        long,
        conflicts_with = "namespace",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        default_value = "false",
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub all_namespaces: bool,

    /// Output format
    #[arg(global = true, short = 'o', long, value_enum, default_value_t = Output::Human)]
    pub output: Output,

    /// When to colour the human output (auto: on a terminal, unless NO_COLOR is set)
    #[arg(global = true, long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Keep diagnosing until nothing is broken (or Ctrl-C), marking what changed and what is fixed
    #[arg(short = 'w', long)]
    pub watch: bool,

    /// How often --watch reads the state again (at least 1s)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub interval: Duration,

    /// List the healthy subjects too
    #[arg(long)]
    pub show_healthy: bool,

    /// Show only findings of at least this severity (the summary still counts them all)
    #[arg(long, value_enum, default_value_t = FailOn::Info, value_name = "SEVERITY")]
    pub min_severity: FailOn,

    /// The human and wide reports' table without its header row
    #[arg(long)]
    pub no_headers: bool,

    /// Print nothing: the exit status says it all (errors still go to stderr)
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// The least severity that makes the exit status 1
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub fail_on: FailOn,

    /// A YAML file of driver capabilities that extends or overrides the built-in table (default: storage-doctor/drivers.yaml in the user's config directory, when it exists)
    #[arg(global = true, long, value_name = "FILE")]
    pub drivers: Option<PathBuf>,

    /// Also read how full each mounted volume is, from the kubelet of each node that runs a pod in scope (needs `get nodes/proxy`, which is sensitive: see README)
    #[arg(global = true, long)]
    pub usage: bool,

    /// Also read the last lines of the previous run of crash-looping or failed containers that mount a volume (needs `get pods/log`)
    #[arg(global = true, long)]
    pub logs: bool,

    /// Log each request to the API server on stderr (method, path, status, time); never credentials
    #[arg(global = true, short = 'v', long)]
    pub verbose: bool,
}

/// The global flags each subcommand reads; its help lists only these.
fn flags_of(subcommand: &str) -> &'static [&'static str] {
    match subcommand {
        "collect" => &[
            "from",
            "max_input_bytes",
            "kubeconfig",
            "context",
            "selector",
            "request_timeout",
            "namespace",
            "all_namespaces",
            "output",
            "usage",
            "logs",
            "verbose",
        ],
        _ => &[],
    }
}

/// The command line as clap parses it, with each subcommand's help
/// listing only the global flags that apply to it. The others are still
/// accepted there, as kubectl accepts its global flags anywhere: each
/// subcommand holds a hidden copy of them, which keeps clap from giving
/// it the global one.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.iter().fold(cmd, |cmd, name| {
        let applies = flags_of(name);
        cmd.mut_subcommand(name, |sub| {
            globals
                .iter()
                .filter(|a| !applies.contains(&a.get_id().as_str()))
                .fold(sub, |sub, a| sub.arg(a.clone().global(false).hide(true)))
        })
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    /// The human report with every evidence line and the objects of each cause
    Wide,
    Json,
    Yaml,
    /// A ticket-ready report
    Markdown,
}

/// A severity as a flag takes it: the least that makes the exit status 1
/// (`--fail-on`), or that is shown (`--min-severity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Info,
    Warning,
    Error,
    Critical,
}

impl FailOn {
    pub fn severity(self) -> Severity {
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Warning => Severity::Warning,
            FailOn::Error => Severity::Error,
            FailOn::Critical => Severity::Critical,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a rule's runbook page: what it means, how to confirm it, the fixes, what risks data
    Explain {
        /// The rule id, e.g. claim-not-found
        #[arg(required_unless_present = "list")]
        rule: Option<String>,
        /// List every rule with its severity and meaning
        #[arg(long)]
        list: bool,
    },
    /// Write the objects a diagnosis of the scope needs into one file (YAML, or JSON with -o json), for a ticket; never Secrets
    Collect {
        /// What to collect: the same targets as the diagnosis (default: the whole scope)
        #[arg(value_name = "TYPE/NAME")]
        targets: Vec<String>,
        /// Where to write (default: standard output)
        #[arg(short = 'f', long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Keep what is redacted by default: container env values, credential flags and URL passwords in commands and arguments, the last-applied-configuration annotation, secret-named StorageClass parameters and CSI volume attributes
        #[arg(long)]
        no_redact: bool,
    },
    /// Print a shell completion script
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `30s`, `1m`, `1m30s`, `500ms`, or plain seconds as kubectl takes them.
pub(super) fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    Ok(match text.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => text
            .trim()
            .parse::<jiff::SignedDuration>()
            .ok()
            .and_then(|d| Duration::try_from(d).ok())
            .ok_or_else(|| format!("invalid duration {text:?} (use e.g. 30s, 1m, 2m30s)"))?,
    })
}

/// `--request-timeout`: a duration; 0 is none, as in kubectl.
pub(super) fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    let parsed = parse_duration(text)?;
    // kubectl's 0 means "no timeout"; a day stands in for that.
    Ok(if parsed.is_zero() {
        Duration::from_secs(86_400)
    } else {
        parsed
    })
}

/// `--max-input-bytes`: plain bytes, or with a binary suffix (Ki, Mi, Gi, Ti; a trailing B is allowed).
pub(super) fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix(['B', 'b']).unwrap_or(t);
    let (number, shift) = [
        ("Ki", 10),
        ("Mi", 20),
        ("Gi", 30),
        ("Ti", 40),
        ("K", 10),
        ("M", 20),
        ("G", 30),
        ("T", 40),
    ]
    .iter()
    .find_map(|(suffix, shift)| t.strip_suffix(suffix).map(|n| (n, *shift)))
    .unwrap_or((t, 0));
    number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("invalid size {text:?} (use e.g. 500Mi, 4Gi or a number of bytes)"))
}

/// `--interval`: a duration of at least a second, so that `--watch` does
/// not hammer the API server.
pub(super) fn parse_interval(text: &str) -> std::result::Result<Duration, String> {
    let interval = parse_duration(text)?;
    if interval < Duration::from_secs(1) {
        return Err(format!(
            "{text:?} is too short: --interval must be at least 1s"
        ));
    }
    Ok(interval)
}
