//! What the fuzz targets share: the captured scenarios as bases to mangle,
//! and the analysis of a snapshot and every renderer, as `kubectl
//! storage-doctor --from ... --show-healthy` runs them.

use kubectl_storage_doctor::analysis;
use kubectl_storage_doctor::chain::Scope;
use kubectl_storage_doctor::drivers::Drivers;
use kubectl_storage_doctor::report::human::{self, Layout, Styles};
use kubectl_storage_doctor::report::{markdown, SourceInfo};
use jiff::Timestamp;
use kubectl_storage_doctor::snapshot::{Gap, Objects, Snapshot};
use kubectl_storage_doctor::source::dump::{self, Input};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One captured scenario, as read, without the evidence it carries.
pub struct Base {
    pub objects: Objects,
    pub gaps: Vec<Gap>,
    pub now: Timestamp,
}

/// Every `tests/scenarios/*/snapshot.yaml` and `examples/*.yaml` with objects.
pub fn bases() -> &'static [Base] {
    static BASES: OnceLock<Vec<Base>> = OnceLock::new();
    BASES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let files = |dir: PathBuf| -> Vec<PathBuf> {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("a directory entry").path())
                .collect();
            found.sort();
            found
        };
        let scenarios = files(root.join("tests/scenarios"))
            .into_iter()
            .map(|d| d.join("snapshot.yaml"));
        let examples = files(root.join("examples"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"));
        let bases: Vec<Base> = scenarios
            .chain(examples)
            .filter_map(|p| dump::load(&[Input::Path(p)], &mut std::io::empty()).ok())
            .map(|l| Base {
                now: l.snapshot.now,
                gaps: l.snapshot.gaps,
                objects: l.snapshot.objects,
            })
            .collect();
        assert!(!bases.is_empty(), "no scenarios under {}", root.display());
        bases
    })
}

/// The built-in driver table, parsed once: parsing it on every input would
/// cost more than most inputs.
fn drivers() -> &'static Drivers {
    static DRIVERS: OnceLock<Drivers> = OnceLock::new();
    DRIVERS.get_or_init(Drivers::built_in)
}

/// Analyses every namespace of the snapshot and renders the report as JSON,
/// YAML, Markdown and the wide human report in colour at a narrow width.
/// Panics when the report breaks one of its own invariants.
pub fn diagnose_and_render(snap: &Snapshot) {
    let analysis = analysis::analyze(snap, drivers(), &Scope::default())
        .expect("a scope without targets names nothing that can be missing");
    let s = analysis.summary;
    assert_eq!(
        s.broken + s.warnings + s.info + s.healthy,
        s.subjects,
        "the summary's counts add up to the subjects"
    );
    let source = SourceInfo::capture(vec!["-".into()], snap.now.to_string());
    let report = analysis.into_report(snap, source, &Scope::default(), true);
    let json = report.to_json();
    assert!(
        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
        "the JSON report is JSON"
    );
    report.to_yaml();
    assert_shown_safely(&markdown::render(&report), "Markdown");
    for styles in [Styles { enabled: true }, Styles { enabled: false }] {
        let text = human::render(
            &report,
            Layout {
                styles,
                width: Some(60),
                wide: true,
                headers: true,
            },
        );
        // Our own colours are the only escape sequences allowed.
        let text = if styles.enabled { strip_colours(&text) } else { text };
        assert_shown_safely(&text, "human");
    }
}

/// No text from the cluster reaches a terminal as a control or bidi
/// character: only line breaks and tabs are left raw.
fn assert_shown_safely(text: &str, format: &str) {
    let raw = text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    });
    assert!(raw.is_none(), "the {format} report holds a raw {raw:?}");
}

/// The text without the SGR colour sequences the renderer adds.
fn strip_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("\u{1b}[") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        let end = tail.find(|c: char| !(c.is_ascii_digit() || c == ';'));
        match end {
            Some(e) if tail[e..].starts_with('m') => rest = &tail[e + 1..],
            _ => {
                out.push_str("\u{1b}[");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}
