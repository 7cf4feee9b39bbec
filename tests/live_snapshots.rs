//! Claims restored from snapshots on a real control plane
//! (`scripts/live-cluster.sh`), with the CSI snapshot CRDs installed by the
//! test. Run with `cargo test --test live_snapshots -- --ignored` and
//! `STORAGE_DOCTOR_LIVE_DIR` set to the cluster's folder.
//!
//! No snapshot controller or CSI driver runs: the test writes a snapshot's
//! status as the snapshot controller would, through the status subresource.

use assert_cmd::cargo::cargo_bin;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::cluster::{Cluster, Run};
use support::rank::rank_one;

const NS: &str = "lv-snap";

/// The error the snapshot controller reports for the failing snapshot.
const SNAPSHOT_ERROR: &str = "Failed to check and update snapshot content: failed to take snapshot of the volume lv-snap-data: \"rpc error: code = ResourceExhausted desc = snapshot quota of the backend exhausted\"";

const NO_SNAPSHOTS_USER: &str = "system:serviceaccount:lv-snap:no-snapshots";

async fn admin_client(cluster: &Cluster) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(cluster.kubeconfig("admin")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// Installs the CRDs, waits until they serve, and applies the claims.
fn install(cluster: &Cluster) {
    cluster.apply(Path::new("examples/rbac.yaml"));
    cluster.apply(Path::new("tests/live/rbac-bindings.yaml"));
    cluster.apply(Path::new("tests/live/snapshot-crds.yaml"));
    for crd in [
        "volumesnapshots",
        "volumesnapshotcontents",
        "volumesnapshotclasses",
    ] {
        cluster.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            &format!("crd/{crd}.snapshot.storage.k8s.io"),
        ]);
    }
    // Discovery of a new group can lag its Established condition.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = cluster
            .kubectl_as("admin")
            .args(["apply", "-f", "tests/live/snapshots.yaml"])
            .output()
            .unwrap();
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// What the snapshot controller writes for a snapshot it could not take.
async fn report_snapshot_failed(client: &kube::Client, name: &str) {
    let gvk = GroupVersionKind::gvk("snapshot.storage.k8s.io", "v1", "VolumeSnapshot");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "volumesnapshots");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), NS, &resource);
    let status = json!({"status": {
        "readyToUse": false,
        "error": {"message": SNAPSHOT_ERROR, "time": jiff::Timestamp::now().to_string()}
    }});
    api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("write the status of snapshot {name}: {e}"));
}

/// What external-provisioner posts when it cannot get a claim's data source.
async fn report_provisioning_failed(client: &kube::Client, claim: &str, error: &str) {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), NS);
    let uid = claims.get(claim).await.unwrap().metadata.uid;
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let now = jiff::Timestamp::now().to_string();
    let event: Event = serde_json::from_value(json!({
        "metadata": {"generateName": format!("{claim}."), "namespace": NS},
        "involvedObject": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": NS, "name": claim, "uid": uid},
        "reason": "ProvisioningFailed", "type": "Warning", "count": 4,
        "message": format!("failed to provision volume with StorageClass \"lv-snap\": error getting handle for DataSource Type VolumeSnapshot by Name {error}"),
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "snap.csi.example.com_csi-snap-controller-0_5f1c2d3e"}
    }))
    .unwrap();
    events
        .create(&Default::default(), &event)
        .await
        .unwrap_or_else(|e| panic!("post ProvisioningFailed for {claim}: {e}"));
}

/// The ClusterRole of `examples/rbac.yaml` without the snapshot and
/// populator groups, as the cluster holds it.
fn role_without_snapshots(cluster: &Cluster) {
    let mut role: Value = serde_json::from_str(&cluster.kubectl(&[
        "get",
        "clusterrole",
        "storage-doctor",
        "-o",
        "json",
    ]))
    .unwrap();
    role["metadata"] = json!({"name": "lv-snap-no-snapshots"});
    let rules = role["rules"].as_array_mut().unwrap();
    let before = rules.len();
    rules.retain(|r| {
        !r["apiGroups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "snapshot.storage.k8s.io" || g == "populator.storage.k8s.io")
    });
    assert_eq!(rules.len() + 2, before, "{role:#}");
    let file = cluster.dir.join("lv-snap-no-snapshots.json");
    std::fs::write(&file, role.to_string()).unwrap();
    cluster.apply(&file);
}

/// A kubeconfig of the ServiceAccount `no-snapshots`, once its token exists.
fn no_snapshots_kubeconfig(cluster: &Cluster, dir: &Path) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    let token = loop {
        let secret = cluster.kubectl(&[
            "-n",
            NS,
            "get",
            "serviceaccount",
            "no-snapshots",
            "-o",
            "jsonpath={.secrets[0].name}",
        ]);
        if !secret.is_empty() {
            let token = cluster.kubectl(&[
                "-n",
                NS,
                "get",
                "secret",
                &secret,
                "-o",
                "go-template={{.data.token | base64decode}}",
            ]);
            if !token.is_empty() {
                break token;
            }
        }
        assert!(Instant::now() < deadline, "no token for the ServiceAccount");
        std::thread::sleep(Duration::from_secs(1));
    };
    let server = std::env::var("LIVE_APISERVER_URL")
        .expect("LIVE_APISERVER_URL: set by the cluster's env file");
    let ca = cluster.dir.join("pki/ca.crt");
    support::kubeconfig::write(
        dir,
        &format!(
            "{{server: '{server}', certificate-authority: '{}'}}",
            ca.display()
        ),
        &format!("{{token: '{token}'}}"),
        NS,
    )
}

/// The rank-1 cause of a subject: rule and every text of it.
fn first_cause<'a>(report: &'a Value, subject: &str) -> Option<&'a Value> {
    report["findings"].as_array()?.iter().find_map(|f| {
        let s = &f["subject"];
        let id = format!(
            "{}/{}/{}",
            s["kind"].as_str()?,
            s["namespace"].as_str()?,
            s["name"].as_str()?
        );
        (id == subject).then(|| &f["causes"][0])
    })
}

fn rule_of(report: &Value, subject: &str) -> Option<String> {
    first_cause(report, subject).and_then(|c| c["rule"].as_str().map(String::from))
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn restores_from_snapshots() {
    let cluster = Cluster::from_env();
    let client = admin_client(&cluster).await;
    install(&cluster);
    report_snapshot_failed(&client, "nightly").await;
    // The provisioner's side of both restores, in its words.
    report_provisioning_failed(
        &client,
        "restored",
        "nightly: snapshot nightly is not Ready",
    )
    .await;
    report_provisioning_failed(
        &client,
        "from-missing",
        "gone: error getting snapshot gone from api server: volumesnapshots.snapshot.storage.k8s.io \"gone\" not found",
    )
    .await;

    // The PV controller hands the claims to the provisioner, which never
    // answers: what remains is the snapshot's state.
    let restored = "PersistentVolumeClaim/lv-snap/restored";
    let missing = "PersistentVolumeClaim/lv-snap/from-missing";
    let deadline = Instant::now() + Duration::from_secs(120);
    let report = loop {
        let Run {
            code,
            report,
            stderr,
        } = cluster.doctor("doctor", &["-n", NS]);
        assert_ne!(code, 2, "the tool failed: {stderr}");
        if rule_of(&report, restored).as_deref() == Some("snapshot-not-ready")
            && rule_of(&report, missing).as_deref() == Some("data-source-not-found")
        {
            assert_eq!(code, 1);
            break report;
        }
        assert!(
            Instant::now() < deadline,
            "after 120s: {restored}: {:?}, {missing}: {:?}\n{report:#}",
            rule_of(&report, restored),
            rule_of(&report, missing)
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    // The snapshot controller's message, where `kubectl describe pvc` does
    // not show it.
    let cause = first_cause(&report, restored).unwrap().to_string();
    assert!(
        cause.contains("snapshot quota of the backend exhausted"),
        "{cause}"
    );
    let cause = first_cause(&report, missing).unwrap().to_string();
    assert!(
        cause.contains("no VolumeSnapshot named \\\"gone\\\""),
        "{cause}"
    );
    // The snapshot CRDs serve; the VolumePopulator CRD is not installed:
    // one quiet gap for it, none for the snapshot kinds.
    let gaps: Vec<(String, String)> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["resource"].as_str().unwrap().to_string(),
                g["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        gaps.iter().all(|(r, _)| !r.contains("volumesnapshot")),
        "{gaps:?}"
    );
    assert!(
        gaps.contains(&("volumepopulators".to_string(), "NotInstalled".to_string())),
        "{gaps:?}"
    );

    // A claim's own chain reads the same.
    let Run { report, stderr, .. } = cluster.doctor("doctor", &["-n", NS, "pvc/restored"]);
    assert_eq!(
        rule_of(&report, restored).as_deref(),
        Some("snapshot-not-ready"),
        "{stderr}\n{report:#}"
    );

    // What collect writes diagnoses the same offline.
    let capture = cluster.dir.join("lv-snap-collected.yaml");
    cluster.collect("doctor", &["-n", NS], &capture);
    let Run { report: live, .. } = cluster.doctor("doctor", &["-n", NS]);
    let Run {
        report: offline,
        stderr,
        ..
    } = cluster.doctor("doctor", &["--from", capture.to_str().unwrap()]);
    assert_eq!(rank_one(&offline), rank_one(&live), "{stderr}");
    assert!(rank_one(&offline).contains_key(restored));

    // A user who may not read the snapshot kinds: gaps, and a diagnosis.
    role_without_snapshots(&cluster);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = no_snapshots_kubeconfig(&cluster, dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    let (report, code) = loop {
        let Run {
            code,
            report,
            stderr,
        } = cluster.doctor_with(&kubeconfig, &[]);
        assert_ne!(code, 2, "the tool failed: {stderr}");
        let forbidden: Vec<&str> = report["gaps"]
            .as_array()
            .map(|gaps| {
                gaps.iter()
                    .filter(|g| g["reason"] == "Forbidden")
                    .filter_map(|g| g["resource"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        // The binding may take a moment to reach the authorizer.
        if forbidden.contains(&"volumesnapshots") && rule_of(&report, restored).is_some() {
            for resource in [
                "volumesnapshots",
                "volumesnapshotcontents",
                "volumesnapshotclasses",
                "volumepopulators",
            ] {
                assert!(forbidden.contains(&resource), "{resource}: {forbidden:?}");
            }
            break (report, code);
        }
        assert!(Instant::now() < deadline, "{report:#}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(code, 1, "{report:#}");
    // The provisioner's words carry the diagnosis; the findings say what
    // could not be seen.
    for (subject, rule) in [
        (restored, "snapshot-not-ready"),
        (missing, "data-source-not-found"),
    ] {
        assert_eq!(
            rule_of(&report, subject).as_deref(),
            Some(rule),
            "{report:#}"
        );
        let cause = first_cause(&report, subject).unwrap().to_string();
        assert!(
            cause.contains("volumesnapshots could not be read (Forbidden)"),
            "{cause}"
        );
    }
    // The human report says what the gap costs the claims that needed it.
    let human = Command::new(cargo_bin!("kubectl-storage_doctor"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("volumesnapshots"), "{text}");

    // Everything the tool asked for was a read, the snapshot kinds included.
    let audit = std::fs::read_to_string(cluster.dir.join("audit.log")).unwrap();
    let mut snapshot_reads = std::collections::BTreeMap::<&str, usize>::new();
    for line in audit.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let user = match entry["user"]["username"].as_str() {
            Some("doctor") => "doctor",
            Some(NO_SNAPSHOTS_USER) => NO_SNAPSHOTS_USER,
            _ => continue,
        };
        let verb = entry["verb"].as_str().unwrap_or("");
        assert!(
            matches!(verb, "get" | "list" | "watch"),
            "{user} did {verb}: {line}"
        );
        let resource = entry["objectRef"]["resource"].as_str().unwrap_or("");
        if resource.starts_with("volumesnapshot") || resource == "volumepopulators" {
            *snapshot_reads.entry(user).or_default() += 1;
        }
    }
    assert!(
        snapshot_reads.get("doctor").is_some_and(|n| *n >= 4)
            && snapshot_reads.contains_key(NO_SNAPSHOTS_USER),
        "the audit log shows too few snapshot requests by the tool: {snapshot_reads:?}"
    );
}
