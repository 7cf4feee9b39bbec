//! Tests of the human report.

use super::{render, visible_len, wrapped, wrapped_units, Layout, Styles};
use crate::model::{Confidence, Link, ObjectRef, Severity};
use crate::report::{
    ChainLink, Finding, RankedCause, Report, ScopeInfo, SourceInfo, Summary, API_VERSION,
};
use crate::snapshot::Gap;

fn gap(resource: &str, reason: &str, message: &str) -> Gap {
    Gap {
        resource: resource.into(),
        reason: reason.into(),
        message: message.into(),
    }
}

/// An older server, a one-namespace user: what it could not read.
fn report(findings: Vec<Finding>) -> Report {
    Report {
        api_version: API_VERSION,
        source: SourceInfo::capture(vec!["x.yaml".into()], "2026-01-01T00:00:00Z".into()),
        scope: ScopeInfo {
            namespaces: vec!["ml".into()],
            all_namespaces: false,
            targets: vec![],
        },
        summary: Summary {
            subjects: 1,
            broken: findings.len(),
            warnings: 0,
            info: 0,
            healthy: 1 - findings.len(),
        },
        gaps: vec![
            gap("csistoragecapacities", "NotFound", "the server could not find the requested resource"),
            gap("cronjobs", "NotFound", "the server could not find the requested resource"),
            gap(
                "volumesnapshotclasses,volumesnapshotcontents,volumesnapshots",
                "NotInstalled",
                "the snapshot.storage.k8s.io CRDs are not installed on this cluster",
            ),
            gap("nodes", "Forbidden", "nodes is forbidden: User \"jane\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"),
            gap("storageclasses", "Forbidden", "storageclasses.storage.k8s.io is forbidden: User \"jane\" cannot list resource \"storageclasses\""),
        ],
        findings,
        healthy: None,
    }
}

fn human(report: &Report, wide: bool) -> String {
    let styles = Styles { enabled: false };
    render(
        report,
        Layout {
            styles,
            width: Some(80),
            wide,
            headers: true,
        },
    )
}

#[test]
fn gaps_say_once_what_they_cost_and_normal_ones_stay_quiet() {
    let text = human(&report(vec![]), false);
    let section = &text[text.find("Could not read").expect(&text)..];
    // The forbidden kinds: one sentence with their cost, no server text.
    assert!(!text.contains("is forbidden: User"), "{text}");
    assert!(
        section
            .contains("nodes and storageclasses (forbidden for this user), so a node's readiness"),
        "{text}"
    );
    assert!(
        section.contains(
            crate::kinds::STORAGE_CLASS
                .without
                .split(' ')
                .next_back()
                .unwrap()
        ),
        "{text}"
    );
    // Kinds the server does not serve are no warning: one quiet line.
    let (warned, quiet) = section.split_once("Not read, as usual").expect(&text);
    for resource in ["csistoragecapacities", "cronjobs", "volumesnapshots"] {
        assert!(!warned.contains(resource), "{text}");
        assert!(quiet.contains(resource), "{text}");
    }
    // -o wide keeps the server's words.
    assert!(human(&report(vec![]), true).contains("is forbidden: User \"jane\""));
}

#[test]
fn a_missing_kind_a_finding_involves_is_a_warning() {
    let claim = ObjectRef::namespaced("PersistentVolumeClaim", "ml", "restore");
    let snapshot = ObjectRef::namespaced("VolumeSnapshot", "ml", "nightly");
    let finding = Finding {
        subject: claim.clone(),
        severity: Severity::Error,
        status: "Pending 5m".into(),
        chain: vec![
            ChainLink {
                object: claim.clone(),
                state: "Pending".into(),
                ok: false,
            },
            ChainLink {
                object: snapshot.clone(),
                state: "unknown".into(),
                ok: false,
            },
        ],
        causes: vec![RankedCause {
            rank: 1,
            rule: "data-source-not-found",
            link: Link::ClaimToSource,
            severity: Severity::Error,
            confidence: Confidence::Low,
            objects: vec![claim, snapshot],
            summary: "the claim's snapshot cannot be found".into(),
            evidence: vec![],
            fix: vec![],
        }],
        volumes: Vec::new(),
        replicas: None,
        nodes: Vec::new(),
        nodes_omitted: 0,
    };
    let text = human(&report(vec![finding]), false);
    let (warned, quiet) = text.split_once("Not read, as usual").expect(&text);
    assert!(
        warned.contains("volumesnapshots (CRDs not installed), so a claim restored"),
        "{text}"
    );
    assert!(
        quiet.contains("cronjobs") && !quiet.contains("volumesnapshots"),
        "{text}"
    );
}

#[test]
fn units_break_between_them_and_colour_takes_no_width() {
    let red = "\x1b[31m✖\x1b[0m";
    assert_eq!(visible_len(red), 1);
    let units: Vec<String> = ["pod trainer [Pending]", "pvc checkpoint-pcv [missing]"]
        .iter()
        .map(|u| format!("{red} {u}"))
        .collect();
    let text = wrapped_units("  chain: ", "    ", &units, " → ", Some(50));
    assert_eq!(
        text,
        format!("  chain: {red} pod trainer [Pending] →\n    {red} pvc checkpoint-pcv [missing]")
    );
    // A word longer than the line stands alone, whole.
    let long = "x".repeat(40);
    let text = wrapped("- ", "  ", &format!("a {long} b"), Some(30));
    assert_eq!(text, format!("- a\n  {long}\n  b"));
}

#[test]
fn wraps_at_the_width_with_a_hanging_indent() {
    let text = wrapped(
        "  - ",
        "    ",
        "one two three four five six seven eight nine ten eleven twelve",
        Some(30),
    );
    for line in text.lines() {
        assert!(line.chars().count() <= 30, "{line:?}");
    }
    assert!(
        text.lines().skip(1).all(|l| l.starts_with("    ")),
        "{text}"
    );
    assert_eq!(wrapped("- ", "  ", "a b", None), "- a b");
}

#[test]
fn a_chain_names_each_object_once_and_counts_healthy_links_past_eight() {
    let link = |kind: &str, name: &str, ok: bool| ChainLink {
        object: ObjectRef::namespaced(kind, "default", name),
        state: "Bound".into(),
        ok,
    };
    let mut chain = vec![link("Pod", "db-0", false)];
    for i in 0..12 {
        chain.push(link("PersistentVolumeClaim", &format!("data-{i}"), true));
        chain.push(link("StorageClass", "gp3", true));
    }
    chain.push(link("PersistentVolumeClaim", "broken", false));
    let (shown, left_out) = crate::report::chain_shown(&chain);
    let classes = shown
        .iter()
        .filter(|l| l.object.kind == "StorageClass")
        .count();
    assert_eq!(classes, 1);
    assert_eq!(shown.iter().filter(|l| l.ok).count(), 8);
    assert_eq!(left_out, 5);
    assert!(shown.iter().any(|l| l.object.name == "broken"));
}
