//! Shell completion through kubectl (1.26+): for `kubectl storage-doctor
//! ARGS <TAB>`, kubectl runs `kubectl_complete-storage_doctor ARGS WORD`
//! (WORD: what is typed so far, maybe empty) and reads cobra's answer: one
//! candidate a line, then `:DIRECTIVE`. The binary answers when it is run
//! under that name (a link to it on PATH) or as
//! `kubectl-storage_doctor __complete ARGS WORD`.
//!
//! It offers the target types (`pod/`, `pvc/` ...), then the names of that
//! type from the cluster (a short, bounded read; nothing on error), the
//! flags of the command at hand and their values, the subcommands, and the
//! rule ids after `explain`.

use super::args::command;
use crate::scope::{Target, TARGET_TYPES};
use crate::source::live;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// The name kubectl looks for on PATH.
pub const KUBECTL_NAME: &str = "kubectl_complete-storage_doctor";

/// How long a completion may wait for the cluster.
const LOOKUP: Duration = Duration::from_secs(2);

/// cobra's directives: no space after the candidate; no file names.
const NO_SPACE: u32 = 2;
const NO_FILE_COMP: u32 = 4;

/// The words to complete when this run is a completion request: the
/// binary runs under kubectl's completion name, or `__complete` is its
/// first argument.
pub fn request(args: &[OsString]) -> Option<Vec<String>> {
    let name = args
        .first()
        .map(PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))?;
    let words = |from: usize| {
        args.iter()
            .skip(from)
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    };
    if name == KUBECTL_NAME {
        Some(words(1))
    } else if args.get(1).is_some_and(|a| a == "__complete") {
        Some(words(2))
    } else {
        None
    }
}

/// What completion asks of the cluster or the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The names of the objects of a target type (`pvc`, `deploy` ...).
    Names(String),
    Namespaces,
    Contexts,
}

/// The flags read so far that say where to look things up.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Place {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    /// `--from`: a capture, not a cluster; nothing is looked up.
    pub capture: bool,
}

/// The answer to a completion request, in cobra's format.
pub fn answer(words: &[String]) -> String {
    let (candidates, directive) = complete(words, &|place, lookup| look_up(place, lookup));
    let mut out = String::new();
    for c in candidates {
        out.push_str(&c);
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    out
}

/// The candidates for the last word of `words` and cobra's directive;
/// `lookup` reads names from the cluster or the kubeconfig.
pub fn complete(
    words: &[String],
    lookup: &dyn Fn(&Place, &Lookup) -> Vec<String>,
) -> (Vec<String>, u32) {
    let mut root = command();
    root.build();
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    let mut place = Place::default();
    let mut sub: Option<&clap::Command> = None;
    let mut positionals: Vec<&str> = Vec::new();
    // The flag whose value the next word is.
    let mut pending: Option<&clap::Arg> = None;
    for word in before {
        let cmd = sub.unwrap_or(&root);
        if let Some(arg) = pending.take() {
            note(&mut place, arg, word);
            continue;
        }
        if let Some(flag) = word.strip_prefix('-').filter(|f| !f.is_empty()) {
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (flag, None),
            };
            if let Some(arg) = find_flag(cmd, name) {
                match value {
                    Some(v) => note(&mut place, arg, v),
                    None if takes_value(arg) => pending = Some(arg),
                    None => note(&mut place, arg, "true"),
                }
            }
            continue;
        }
        if sub.is_none() && positionals.is_empty() {
            if let Some(s) = root.find_subcommand(word) {
                sub = Some(s);
                continue;
            }
        }
        positionals.push(word);
    }
    let cmd = sub.unwrap_or(&root);
    if let Some(arg) = pending {
        return values(arg, current, "", &place, lookup);
    }
    if let Some(flag) = current.strip_prefix("--") {
        if let Some((name, _)) = flag.split_once('=') {
            let value = &current[name.len() + 3..];
            return match find_flag(cmd, &format!("-{name}")) {
                Some(arg) => values(arg, value, &format!("--{name}="), &place, lookup),
                None => (Vec::new(), NO_FILE_COMP),
            };
        }
    }
    if current.starts_with('-') {
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !a.is_positional())
            .flat_map(|a| {
                let long = a.get_long().map(|l| format!("--{l}"));
                let short = a.get_short().map(|s| format!("-{s}"));
                long.into_iter().chain(short)
            });
        return (matching(flags, current), NO_FILE_COMP);
    }
    match sub.map(clap::Command::get_name) {
        Some("explain") if positionals.is_empty() => {
            let mut ids: Vec<String> = crate::rules::RULES
                .iter()
                .map(|r| r.id.to_string())
                .collect();
            ids.sort();
            (matching(ids.into_iter(), current), NO_FILE_COMP)
        }
        Some("explain") => (Vec::new(), NO_FILE_COMP),
        Some("completion") if positionals.is_empty() => {
            let shells = cmd
                .get_arguments()
                .filter(|a| a.is_positional())
                .flat_map(clap::Arg::get_possible_values)
                .map(|v| v.get_name().to_string());
            (matching(shells, current), NO_FILE_COMP)
        }
        Some("completion") => (Vec::new(), NO_FILE_COMP),
        _ => targets(current, &positionals, sub.is_none(), &place, lookup),
    }
}

/// Records what a flag says about where to look things up.
fn note(place: &mut Place, arg: &clap::Arg, value: &str) {
    match arg.get_id().as_str() {
        "kubeconfig" => place.kubeconfig = Some(value.to_string()),
        "context" => place.context = Some(value.to_string()),
        "namespace" => place.namespace = Some(value.to_string()),
        "all_namespaces" => place.all_namespaces = value != "false",
        "from" => place.capture = true,
        _ => {}
    }
}

/// The flag `name` (without its first `-`: `-n` is `n`, `--namespace` is `-namespace`).
fn find_flag<'c>(cmd: &'c clap::Command, name: &str) -> Option<&'c clap::Arg> {
    cmd.get_arguments().find(|a| match name.strip_prefix('-') {
        Some(long) => a.get_long() == Some(long),
        None => name.chars().count() == 1 && a.get_short() == name.chars().next(),
    })
}

/// Whether the flag needs a value in the next word (`-A` takes one only
/// after `=`).
fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values() && !arg.is_require_equals_set()
}

/// The values of a flag that start with `typed`, each after `prefix`.
fn values(
    arg: &clap::Arg,
    typed: &str,
    prefix: &str,
    place: &Place,
    lookup: &dyn Fn(&Place, &Lookup) -> Vec<String>,
) -> (Vec<String>, u32) {
    let known: Vec<String> = match arg.get_id().as_str() {
        // File names: the shell's own completion.
        "kubeconfig" | "from" | "drivers" | "file" => return (Vec::new(), 0),
        "namespace" => lookup(place, &Lookup::Namespaces),
        "context" => lookup(place, &Lookup::Contexts),
        _ => arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect(),
    };
    let candidates = matching(known.into_iter(), typed)
        .into_iter()
        .map(|v| format!("{prefix}{v}"))
        .collect();
    (candidates, NO_FILE_COMP)
}

/// A target: `TYPE/` first (and the subcommands, first of all), then
/// `TYPE/NAME` from the cluster; after a bare type (`pvc data`), names.
fn targets(
    current: &str,
    positionals: &[&str],
    at_root: bool,
    place: &Place,
    lookup: &dyn Fn(&Place, &Lookup) -> Vec<String>,
) -> (Vec<String>, u32) {
    let names_of = |kind: &str| -> Vec<String> {
        if place.capture || Target::from_kind(kind, "-").is_err() {
            return Vec::new();
        }
        lookup(place, &Lookup::Names(kind.to_string()))
    };
    if let Some((kind, typed)) = current.split_once('/') {
        let names = matching(names_of(kind).into_iter(), typed)
            .into_iter()
            .map(|n| format!("{kind}/{n}"))
            .collect();
        return (names, NO_FILE_COMP);
    }
    // kubectl's `TYPE NAME...`: every word after a bare type is a name of it.
    let mut bare_type: Option<&str> = None;
    for word in positionals {
        if word.contains('/') {
            bare_type = None;
        } else if bare_type.is_none() && Target::from_kind(word, "-").is_ok() {
            bare_type = Some(word);
        }
    }
    if let Some(kind) = bare_type {
        return (matching(names_of(kind).into_iter(), current), NO_FILE_COMP);
    }
    let mut offered: Vec<String> = TARGET_TYPES.iter().map(|t| format!("{t}/")).collect();
    if at_root && positionals.is_empty() {
        offered.extend(
            command()
                .get_subcommands()
                .map(|s| s.get_name().to_string()),
        );
    }
    let offered = matching(offered.into_iter(), current);
    let directive = if !offered.is_empty() && offered.iter().all(|o| o.ends_with('/')) {
        NO_SPACE | NO_FILE_COMP
    } else {
        NO_FILE_COMP
    };
    (offered, directive)
}

fn matching(candidates: impl Iterator<Item = String>, typed: &str) -> Vec<String> {
    candidates.filter(|c| c.starts_with(typed)).collect()
}

/// Reads names from the cluster or the kubeconfig, within [`LOOKUP`];
/// nothing on any error.
fn look_up(place: &Place, lookup: &Lookup) -> Vec<String> {
    let kubeconfig = place.kubeconfig.as_ref().map(PathBuf::from);
    if *lookup == Lookup::Contexts {
        return live::context_names(kubeconfig.as_deref());
    }
    let options = live::LiveOptions {
        kubeconfig,
        context: place.context.clone(),
        request_timeout: LOOKUP,
        verbose: false,
        consistent: false,
        disable_compression: None,
        // A credential plugin must not prompt in the middle of a completion.
        stdin_is_terminal: false,
        keep: crate::source::dump::Keep::Diagnosis,
    };
    let Ok(runtime) = crate::source::runtime() else {
        return Vec::new();
    };
    runtime.block_on(async {
        let read = async {
            let conn = live::connect(&options).await.ok()?;
            Some(match lookup {
                Lookup::Namespaces => conn.namespace_names().await,
                Lookup::Names(kind) => {
                    let kind = Target::from_kind(kind, "-").ok()?.kind();
                    conn.names(kind, place.namespace.as_deref(), place.all_namespaces)
                        .await
                }
                Lookup::Contexts => Vec::new(),
            })
        };
        tokio::time::timeout(LOOKUP, read)
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut w: Vec<String> = line.split(' ').map(String::from).collect();
        if line.is_empty() {
            w = vec![String::new()];
        }
        w
    }

    /// Completes `line` (its last word, maybe empty) with a cluster that
    /// holds the names `pvc-a`, `pvc-b` of every type and namespaces
    /// `default`, `ml`.
    fn done(line: &str) -> (Vec<String>, u32, Vec<(Place, Lookup)>) {
        let asked = std::cell::RefCell::new(Vec::new());
        let (c, d) = complete(&words(line), &|place, lookup| {
            asked.borrow_mut().push((place.clone(), lookup.clone()));
            match lookup {
                Lookup::Names(_) => vec!["data-a".into(), "data-b".into(), "web".into()],
                Lookup::Namespaces => vec!["default".into(), "ml".into()],
                Lookup::Contexts => vec!["prod".into()],
            }
        });
        (c, d, asked.into_inner())
    }

    #[test]
    fn types_then_names_from_the_cluster() {
        let (c, d, _) = done("");
        assert!(c.contains(&"pod/".to_string()) && c.contains(&"pvc/".to_string()));
        assert!(c.contains(&"explain".to_string()));
        assert_eq!(d, NO_FILE_COMP);
        let (c, d, _) = done("pv");
        assert_eq!(c, ["pvc/", "pv/"]);
        assert_eq!(d, NO_SPACE | NO_FILE_COMP);
        let (c, _, asked) = done("-n ml pvc/da");
        assert_eq!(c, ["pvc/data-a", "pvc/data-b"]);
        assert_eq!(asked[0].0.namespace.as_deref(), Some("ml"));
        assert_eq!(asked[0].1, Lookup::Names("pvc".into()));
        let (c, _, _) = done("pvc data-a w");
        assert_eq!(c, ["web"]);
        let (c, _, asked) = done("--from dump.yaml pvc/");
        assert!(c.is_empty() && asked.is_empty());
    }

    #[test]
    fn flags_and_their_values() {
        let (c, _, _) = done("--no-h");
        assert_eq!(c, ["--no-headers"]);
        let (c, _, _) = done("-o ya");
        assert_eq!(c, ["yaml"]);
        let (c, _, _) = done("--output=m");
        assert_eq!(c, ["--output=markdown"]);
        let (c, _, _) = done("-n ");
        assert_eq!(c, ["default", "ml"]);
        let (c, _, _) = done("--context p");
        assert_eq!(c, ["prod"]);
        let (c, d, _) = done("--kubeconfig ");
        assert!(c.is_empty());
        assert_eq!(d, 0, "file names");
        // A subcommand offers its own flags, not every global one.
        let (c, _, _) = done("explain --");
        assert_eq!(c, ["--list", "--help"]);
    }

    #[test]
    fn rule_ids_after_explain() {
        let (c, _, _) = done("explain multi-a");
        assert_eq!(c, ["multi-attach"]);
        let (c, _, _) = done("explain multi-attach ");
        assert!(c.is_empty());
    }

    #[test]
    fn requests_come_by_name_or_by_argument() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            request(&args(&["/x/kubectl_complete-storage_doctor", "pvc/", ""])),
            Some(vec!["pvc/".to_string(), String::new()])
        );
        assert_eq!(
            request(&args(&["kubectl-storage_doctor", "__complete", "-n", ""])),
            Some(vec!["-n".to_string(), String::new()])
        );
        assert_eq!(request(&args(&["kubectl-storage_doctor", "pvc/x"])), None);
    }
}
