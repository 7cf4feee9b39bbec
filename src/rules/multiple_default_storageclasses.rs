//! `multiple-default-storageclasses`: more than one class is marked default.

use super::rule::{Cause, Check, Ctx, Rule};
use crate::chain::Chain;
use crate::model::{Link, ObjectRef, Severity};
use crate::snapshot::is_default_class;

pub const RULE: Rule = Rule {
    id: "multiple-default-storageclasses",
    title: "more than one StorageClass is marked default",
    severity: Severity::Warning,
    link: Link::ClaimToClass,
    check: Check::Subject(check),
    normal_events: &[],
    runbook: include_str!("../../docs/runbooks/multiple-default-storageclasses.md"),
};

fn check(ctx: &Ctx, chain: &Chain) -> Vec<Cause> {
    let Some(sc) = chain.class else {
        return Vec::new();
    };
    if !is_default_class(sc) {
        return Vec::new();
    }
    let defaults = ctx.snap.default_classes();
    let Some(winner) = defaults.first().copied() else {
        return Vec::new();
    };
    if defaults.len() < 2 || std::ptr::eq(winner, sc) {
        return Vec::new();
    }
    let name = sc.metadata.name.as_deref().unwrap_or("");
    let winner_name = winner.metadata.name.as_deref().unwrap_or("");
    let all: Vec<&str> = defaults
        .iter()
        .filter_map(|d| d.metadata.name.as_deref())
        .collect();
    let annotation = |s: &k8s_openapi::api::storage::v1::StorageClass| {
        let beta =
            s.metadata.annotations.as_ref().is_some_and(|a| {
                a.contains_key("storageclass.beta.kubernetes.io/is-default-class")
            });
        if beta {
            "storageclass.beta.kubernetes.io/is-default-class"
        } else {
            "storageclass.kubernetes.io/is-default-class"
        }
    };
    let created = |s: &k8s_openapi::api::storage::v1::StorageClass| {
        s.metadata
            .creation_timestamp
            .as_ref()
            .map(|t| t.0.to_string())
            .unwrap_or_else(|| "?".into())
    };
    let cause = Cause::new(
        &RULE,
        format!(
            "StorageClasses {} are all marked default; claims without a class get \"{winner_name}\" (the newest) on Kubernetes ≥1.26, and are refused on older versions",
            all.join(", ")
        ),
    )
    .object(ObjectRef::class(name))
    .object(ObjectRef::class(winner_name))
    .evidence(format!("{name}: {}=\"true\", created {}", annotation(sc), created(sc)))
    .evidence(format!("{winner_name}: {}=\"true\", created {} (newest)", annotation(winner), created(winner)))
    .evidence("before v1.26, creating a claim without storageClassName fails with \"2 default StorageClasses were found\"")
    .fix(format!(
        "keep one default: kubectl annotate storageclass {name} {}- (existing claims and volumes are not affected)",
        annotation(sc)
    ));
    vec![cause]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn the_older_default_is_reported() {
        let mut old = class("standard", "x").default_class();
        old.metadata.creation_timestamp = Some(time("2026-01-01T00:00:00Z"));
        let snap = snapshot(|o| {
            o.classes.push(old);
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").default_class());
            o.classes.push(class("fast", "y"));
        });
        let c = causes(&RULE, &snap);
        assert_eq!(c.len(), 1);
        assert!(
            c[0].fix[0].contains("annotate storageclass standard"),
            "{:?}",
            c[0].fix
        );
    }

    #[test]
    fn one_default_is_fine() {
        let snap = snapshot(|o| {
            o.classes
                .push(class("gp3", "ebs.csi.aws.com").default_class());
            o.classes.push(class("fast", "y"));
        });
        assert!(causes(&RULE, &snap).is_empty());
    }
}
