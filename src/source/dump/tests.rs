//! Tests of the capture reader.

use super::*;

fn load_text(text: &str) -> Result<Loaded, InputError> {
    load(&[Input::Stdin], &mut text.as_bytes())
}

#[test]
fn reads_the_tools_own_kinds_for_usage_and_logs() {
    let loaded = load_text(
        "apiVersion: storage-doctor/v1\nkind: NodeStatsSummary\nmetadata: {name: node-1}\nsummary: {pods: [{podRef: {name: db-0, namespace: shop}, volume: [{name: data, usedBytes: 98, capacityBytes: 100}]}]}\n---\napiVersion: storage-doctor/v1\nkind: ContainerLog\nmetadata: {name: db-0, namespace: shop}\ncontainer: db\nlog: \"boom\\n\"\n---\napiVersion: storage-doctor/v1\nkind: NodeStatsSummary\nmetadata: {name: node-2}\nsummary: 7\n",
    )
    .unwrap();
    let snap = &loaded.snapshot;
    assert!(snap.usage_read() && snap.logs_read());
    assert_eq!(
        snap.usage_of("shop", "db-0", "data").unwrap().node,
        "node-1"
    );
    assert_eq!(snap.logs_of("shop", "db-0").next().unwrap().text, "boom\n");
    assert_eq!(
        snap.gaps.len(),
        1 + snap
            .gaps
            .iter()
            .filter(|g| g.reason == "NotCaptured")
            .count()
    );
    assert!(snap
        .gaps
        .iter()
        .any(|g| g.resource == "nodes/proxy" && g.reason == "InvalidObject"));
}

#[test]
fn odd_usage_and_log_items_are_gaps_or_skipped_never_a_panic() {
    for doc in [
        "kind: NodeStatsSummary\napiVersion: storage-doctor/v1\nmetadata: 5\nsummary: {pods: [{podRef: 1, volume: {}}, {podRef: {name: a, namespace: b}, volume: [{name: v, usedBytes: 1.5e300, capacityBytes: -3, inodes: 18446744073709551615}]}]}\n",
        "kind: NodeStatsSummary\napiVersion: storage-doctor/v1\nsummary: null\n",
        "kind: ContainerLog\napiVersion: storage-doctor/v1\nmetadata: {name: p}\ncontainer: [1]\nlog: 7\n",
        "kind: Nonsense\napiVersion: storage-doctor/v1\n",
        "kind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {name: a, namespace: x}\n",
    ] {
        let text = format!("{doc}---\nkind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {{name: a, namespace: x}}\n");
        let loaded = load_text(&text).unwrap();
        for u in loaded.snapshot.usage() {
            assert_eq!(u.fullest(), None, "{u:?}");
        }
    }
}

#[test]
fn reads_a_yaml_list_and_multi_documents() {
    let loaded = load_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata: {name: a, namespace: x}\n---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: standard}\nprovisioner: rancher.io/local-path\n---\n",
    )
    .unwrap();
    assert_eq!(loaded.snapshot.objects.claims.len(), 1);
    assert_eq!(loaded.snapshot.objects.classes.len(), 1);
}

#[test]
fn snapshot_kinds_decode_in_v1_and_v1beta1_and_their_absence_is_quiet() {
    let loaded = load_text(
        "apiVersion: snapshot.storage.k8s.io/v1beta1\nkind: VolumeSnapshot\nmetadata: {name: s, namespace: x}\nspec: {source: {persistentVolumeClaimName: d}}\nstatus: {readyToUse: true, restoreSize: 1Gi}\n---\napiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotContent\nmetadata: {name: c}\nspec: {driver: x.csi.io, deletionPolicy: Delete}\nstatus: {restoreSize: 1073741824, creationTime: 1795154907512000000}\n---\napiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata: {name: k}\ndriver: x.csi.io\ndeletionPolicy: Delete\n",
    )
    .unwrap();
    let o = &loaded.snapshot.objects;
    assert_eq!(
        (
            o.snapshots.len(),
            o.snapshot_contents.len(),
            o.snapshot_classes.len()
        ),
        (1, 1, 1)
    );
    // Odd data is an invalid-object gap, never a panic.
    let odd = load_text("apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: s, namespace: x}\nstatus: {readyToUse: maybe}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: a, namespace: x}\n").unwrap();
    assert_eq!(odd.snapshot.gaps[0].reason, "InvalidObject");
    // No snapshot kinds and no claim restoring from one: no gap about them.
    let plain = load_text("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: a, namespace: x}\nspec: {}\n").unwrap();
    assert!(plain
        .snapshot
        .gaps
        .iter()
        .all(|g| !g.resource.starts_with("volumesnapshot")));
    let restore = load_text("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: a, namespace: x}\nspec: {dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: s}}\n").unwrap();
    let gaps: Vec<&str> = restore
        .snapshot
        .gaps
        .iter()
        .filter(|g| g.resource.starts_with("volumesnapshot"))
        .map(|g| g.resource.as_str())
        .collect();
    assert_eq!(gaps, ["volumesnapshots"]);
}

#[test]
fn volume_populators_decode_and_their_absence_is_a_gap_only_for_populated_claims() {
    let loaded = load_text(
        "apiVersion: populator.storage.k8s.io/v1beta1\nkind: VolumePopulator\nmetadata: {name: hello}\nsourceKind: {group: hello.example.com, kind: Hello}\n---\napiVersion: populator.storage.k8s.io/v1alpha1\nkind: VolumePopulator\nmetadata: {name: old}\nsourceKind: {group: old.example.com, kind: Old}\n",
    )
    .unwrap();
    let populators = &loaded.snapshot.objects.populators;
    assert_eq!(populators.len(), 2);
    assert!(populators[1].registers("old.example.com", "Old"));
    let claim = |source: &str| {
        load_text(&format!("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: a, namespace: x}}\nspec: {{dataSourceRef: {source}}}\n"))
            .unwrap()
            .snapshot
            .gaps
            .iter()
            .filter(|g| g.resource == "volumepopulators")
            .map(|g| g.reason.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        claim("{apiGroup: hello.example.com, kind: Hello, name: h}"),
        ["NotCaptured"]
    );
    assert!(claim("{kind: PersistentVolumeClaim, name: b}").is_empty());
}

#[test]
fn typed_list_items_inherit_the_kind() {
    let loaded = load_text(
        r#"{"kind":"PersistentVolumeClaimList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"a","namespace":"x"},"spec":{}}]}"#,
    )
    .unwrap();
    assert_eq!(loaded.snapshot.objects.claims.len(), 1);
}

#[test]
fn yaml_syntax_error_names_line_and_column() {
    let err = load_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n").unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("<stdin>:"), "{text}");
    assert!(
        matches!(err, InputError::Syntax { line, .. } if line > 0),
        "{text}"
    );
}

#[test]
fn json_syntax_error_names_line_and_column() {
    let err = load_text("{\"kind\": \"List\",\n \"items\": [}\n").unwrap_err();
    assert!(matches!(err, InputError::Syntax { line: 2, .. }), "{err}");
}

#[test]
fn binary_input_is_refused_clearly() {
    let err = load(&[Input::Stdin], &mut &[0xff, 0xfe, 0x00, 0x01][..]).unwrap_err();
    assert!(err.to_string().contains("not a text file"), "{err}");
}

#[test]
fn unknown_kinds_are_counted_and_bad_objects_become_gaps() {
    let loaded = load_text(
        "kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n---\nkind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {name: broken}\nprovisioner: [1, 2]\n---\nkind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {name: ok}\nprovisioner: x\n",
    )
    .unwrap();
    assert_eq!(loaded.skipped.get("ConfigMap"), Some(&1));
    let gap = loaded
        .snapshot
        .gaps
        .iter()
        .find(|g| g.reason == "InvalidObject")
        .unwrap();
    assert_eq!(gap.resource, "storageclasses");
    assert!(
        gap.message.contains("StorageClass broken"),
        "{}",
        gap.message
    );
    assert!(gap.message.contains("provisioner"), "{}", gap.message);
}

#[test]
fn input_without_objects_is_an_error() {
    assert!(matches!(load_text("\n"), Err(InputError::NoObjects(_))));
    assert!(matches!(
        load_text("kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\n"),
        Err(InputError::NoObjects(_))
    ));
}

#[test]
fn older_api_versions_of_a_kind_are_read() {
    let loaded = load_text(
        "apiVersion: storage.k8s.io/v1beta1\nkind: CSIStorageCapacity\nmetadata: {name: c, namespace: kube-system}\nstorageClassName: topolvm\ncapacity: 100Gi\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: backup, namespace: x}\nspec: {schedule: '@daily', jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n",
    )
    .unwrap();
    assert_eq!(loaded.snapshot.objects.capacities.len(), 1);
    assert_eq!(loaded.snapshot.objects.cron_jobs.len(), 1);
    assert!(
        loaded
            .snapshot
            .gaps
            .iter()
            .all(|g| g.reason != "InvalidObject"),
        "{:?}",
        loaded.snapshot.gaps
    );
}

#[test]
fn timestamps_in_the_future_do_not_move_the_capture_time() {
    let loaded = load_text(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: a, namespace: x, creationTimestamp: '2026-01-01T00:00:00Z'}\n---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: b, namespace: x, creationTimestamp: '2999-01-01T00:00:00Z'}\n",
    )
    .unwrap();
    assert_eq!(loaded.snapshot.now.to_string(), "2026-01-01T00:00:00Z");
}

#[test]
fn gaps_of_a_list_do_not_follow_the_order_of_its_items() {
    let bad = |name: &str| {
        format!(
            r#"{{"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{{"name":"{name}"}},"provisioner":1}}"#
        )
    };
    let ok = r#"{"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{"name":"ok"},"provisioner":"x"}"#;
    let gaps = |items: [&str; 3]| {
        let list = format!(r#"{{"kind":"List","items":[{}]}}"#, items.join(","));
        load_text(&list).unwrap().snapshot.gaps
    };
    let (a, b) = (bad("a"), bad("b"));
    assert_eq!(gaps([&a, ok, &b]), gaps([&b, &a, ok]));
}

#[test]
fn a_huge_integer_in_yaml_is_a_gap_as_in_json() {
    let yaml = "kind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {name: ok}\nprovisioner: x\n---\nkind: PersistentVolumeClaim\napiVersion: v1\nmetadata: {name: c, namespace: x, generation: 123456789012345678901234567890}\n";
    let loaded = load_text(yaml).unwrap();
    assert_eq!(loaded.snapshot.objects.classes.len(), 1);
    let gap = |l: &Loaded| {
        l.snapshot
            .gaps
            .iter()
            .find(|g| g.reason == "InvalidObject")
            .map(|g| g.resource.clone())
    };
    assert_eq!(gap(&loaded).as_deref(), Some("persistentvolumeclaims"));
    let json = r#"[{"kind":"StorageClass","apiVersion":"storage.k8s.io/v1","metadata":{"name":"ok"},"provisioner":"x"},{"kind":"PersistentVolumeClaim","apiVersion":"v1","metadata":{"name":"c","namespace":"x","generation":123456789012345678901234567890}}]"#;
    assert_eq!(gap(&load_text(json).unwrap()), gap(&loaded));
}

#[test]
fn a_cut_yaml_list_is_read_with_a_gap() {
    let full = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata: {name: a, namespace: x}\n- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata:\n    name: b\n    namespace: x\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
    let cut_gap = |text: &str| {
        load_text(text)
            .unwrap()
            .snapshot
            .gaps
            .iter()
            .any(|g| g.reason == "Truncated")
    };
    assert!(!cut_gap(full));
    // Cut before the tail, and in the middle of a line.
    let before_kind = &full[..full.find("kind: List").unwrap()];
    assert!(cut_gap(before_kind));
    assert!(cut_gap(&full[..full.find("name: b").unwrap() + 6]));
}

#[test]
fn scalars_are_not_objects() {
    let loaded = load_text("kind: StorageClass\napiVersion: storage.k8s.io/v1\nmetadata: {name: ok}\nprovisioner: x\n---\n42\n").unwrap();
    assert!(loaded
        .snapshot
        .gaps
        .iter()
        .any(|g| g.message.contains("found a number")));
}
