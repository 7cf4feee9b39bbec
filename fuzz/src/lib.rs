//! What the fuzz targets share: the analysis of a snapshot and every
//! renderer, as `kubectl storage-doctor --from ... --show-healthy` runs them.

use kubectl_storage_doctor::analysis;
use kubectl_storage_doctor::chain::Scope;
use kubectl_storage_doctor::drivers::Drivers;
use kubectl_storage_doctor::report::human::{self, Layout, Styles};
use kubectl_storage_doctor::report::{markdown, SourceInfo};
use kubectl_storage_doctor::snapshot::Snapshot;
use std::sync::OnceLock;

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
    markdown::render(&report);
    human::render(
        &report,
        Layout {
            styles: Styles { enabled: true },
            width: Some(60),
            wide: true,
        },
    );
}
