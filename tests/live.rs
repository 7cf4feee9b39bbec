//! Live tests against a real control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler) started by
//! `scripts/live-cluster.sh`. `.ci/run` starts it and runs these with
//! `cargo test --test live -- --ignored`; set `STORAGE_DOCTOR_LIVE_DIR` to
//! the cluster's folder to run them by hand.
//!
//! The real controllers produce the real states and events; the test plays
//! only what a kubelet or CSI sidecar would: a pod reported Running, a
//! VolumeAttachment reported attached or failed.

use assert_cmd::cargo::cargo_bin;
use k8s_openapi::api::core::v1::{Event, Pod, ResourceQuota};
use k8s_openapi::api::storage::v1::VolumeAttachment;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::cluster::{Cluster, Run};
use support::rank::rank_one;

async fn admin_client(cluster: &Cluster) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(cluster.kubeconfig("admin")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// What a kubelet reports for a started pod.
async fn report_running(client: &kube::Client, ns: &str, name: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = jiff::Timestamp::now().to_string();
    let status = json!({"status": {
        "phase": "Running",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now}
        ]
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("report {ns}/{name} running: {e}"));
}

/// What a kubelet posts when a volume's source is missing.
async fn report_failed_mount(client: &kube::Client, ns: &str, pod: &str, message: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let uid = pods.get(pod).await.unwrap().metadata.uid;
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let now = jiff::Timestamp::now().to_string();
    let event: Event = serde_json::from_value(json!({
        "metadata": {"generateName": format!("{pod}."), "namespace": ns},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": ns, "name": pod, "uid": uid},
        "reason": "FailedMount", "type": "Warning", "message": message, "count": 3,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "kubelet", "host": "node-a"}
    }))
    .unwrap();
    events
        .create(&Default::default(), &event)
        .await
        .unwrap_or_else(|e| panic!("post FailedMount for {ns}/{pod}: {e}"));
}

/// What an external-attacher reports for a VolumeAttachment of `volume`.
async fn report_attach(client: &kube::Client, volume: &str, status: Value) -> bool {
    let api: Api<VolumeAttachment> = Api::all(client.clone());
    let list = api.list(&Default::default()).await.unwrap();
    let Some(va) = list
        .items
        .iter()
        .find(|va| va.spec.source.persistent_volume_name.as_deref() == Some(volume))
    else {
        return false;
    };
    let name = va.metadata.name.clone().unwrap();
    api.patch_status(
        &name,
        &PatchParams::default(),
        &Patch::Merge(&json!({ "status": status })),
    )
    .await
    .is_ok()
}

const EXPECTED: &[(&str, &str)] = &[
    ("Pod/lv-missing-claim/app", "claim-not-found"),
    ("Pod/lv-missing-class/app", "storageclass-not-found"),
    ("Pod/lv-missing-class-sts/db-0", "storageclass-not-found"),
    ("StatefulSet/lv-quota/web", "storage-quota-exceeded"),
    (
        "StatefulSet/lv-invalid-template/web",
        "claim-create-refused",
    ),
    (
        "PersistentVolumeClaim/lv-wffc/idle",
        "waiting-for-first-consumer",
    ),
    ("Pod/lv-wffc/consumer", "provisioner-not-responding"),
    ("Pod/lv-no-pv/db", "no-matching-pv"),
    ("Pod/lv-provisioner-down/app", "provisioner-not-responding"),
    ("Pod/lv-node-gone/db", "volume-node-affinity-conflict"),
    ("Pod/lv-multi-attach/second", "multi-attach"),
    ("Pod/lv-attach-error/app", "attach-failed"),
    ("Pod/lv-terminating/newcomer", "claim-terminating"),
    ("Pod/lv-terminating/holder", "claim-terminating"),
    ("PersistentVolumeClaim/lv-lost/data", "claim-lost"),
    ("Pod/lv-cpu/trainer", "not-storage"),
    ("Pod/lv-configmap/app", "volume-source-missing"),
];

/// Subjects that must not be reported at all.
const HEALTHY: &[&str] = &["Pod/lv-healthy/web", "Pod/lv-multi-attach/first"];

fn missing(report: &Value) -> Vec<String> {
    let found = rank_one(report);
    let mut out: Vec<String> = EXPECTED
        .iter()
        .filter(|(subject, rule)| found.get(*subject).map(|(r, _)| r.as_str()) != Some(*rule))
        .map(|(subject, rule)| format!("{subject}: want {rule}, got {:?}", found.get(*subject)))
        .collect();
    out.extend(
        HEALTHY
            .iter()
            .filter(|s| found.contains_key(**s))
            .map(|s| format!("{s} is healthy but reported: {:?}", found[*s])),
    );
    out
}

async fn wait_for_quota_counted(client: &kube::Client, ns: &str, name: &str) {
    let quotas: Api<ResourceQuota> = Api::namespaced(client.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let quota = quotas.get(name).await.unwrap();
        if quota
            .status
            .and_then(|s| s.hard)
            .is_some_and(|hard| !hard.is_empty())
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "quota {ns}/{name} still not counted after 60s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn live_cluster_diagnosis() {
    let cluster = Cluster::from_env();
    let client = admin_client(&cluster).await;
    cluster.apply(Path::new("examples/rbac.yaml"));
    cluster.apply(Path::new("tests/live/rbac-bindings.yaml"));
    cluster.apply(Path::new("tests/live/manifests.yaml"));
    // Quota admission lets everything in while a quota has no counted
    // status yet, and a young controller manager may take seconds.
    wait_for_quota_counted(&client, "lv-quota", "storage").await;
    cluster.apply(Path::new("tests/live/quota-statefulset.yaml"));

    // The node side: pods that a kubelet would have started.
    for (ns, pod) in [
        ("lv-healthy", "web"),
        ("lv-multi-attach", "first"),
        ("lv-terminating", "holder"),
    ] {
        report_running(&client, ns, pod).await;
    }
    report_failed_mount(
        &client,
        "lv-configmap",
        "app",
        r#"MountVolume.SetUp failed for volume "cfg" : configmap "app-config" not found"#,
    )
    .await;
    // A claim deleted while its pod runs; a volume deleted under its claim.
    cluster.kubectl(&[
        "-n",
        "lv-terminating",
        "delete",
        "pvc",
        "data",
        "--wait=false",
    ]);
    cluster.kubectl(&["delete", "pv", "lv-hostpath-lost", "--wait=false"]);
    // A volume deleted before the pv-protection controller put its
    // finalizer on is gone already.
    let unblocked = cluster
        .kubectl_as("admin")
        .args([
            "patch",
            "pv",
            "lv-hostpath-lost",
            "--type=json",
            "-p",
            r#"[{"op":"remove","path":"/metadata/finalizers"}]"#,
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unblocked.stderr);
    assert!(
        unblocked.status.success() || stderr.contains("NotFound"),
        "{stderr}"
    );

    let deadline = Instant::now() + Duration::from_secs(240);
    let mut second_created = false;
    let mut newcomer_created = false;
    let mut attach_error_reported = false;
    loop {
        // The attacher's answers, once the attach/detach controller asked.
        if !second_created
            && report_attach(&client, "lv-csi-shared", json!({"attached": true})).await
        {
            cluster.kubectl(&["-n", "lv-multi-attach", "run", "second", "--image=busybox", "--restart=Never",
                "--overrides", r#"{"spec":{"nodeName":"node-b","volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}],"containers":[{"name":"second","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}"#]);
            second_created = true;
        }
        if !attach_error_reported {
            attach_error_reported = report_attach(
                &client,
                "lv-csi-broken",
                json!({"attached": false, "attachError": {"message": "rpc error: code = Internal desc = volume vol-broken is not in the node's zone", "time": jiff::Timestamp::now().to_string()}}),
            )
            .await;
        }
        if !newcomer_created {
            cluster.kubectl(&["-n", "lv-terminating", "run", "newcomer", "--image=busybox", "--restart=Never",
                "--overrides", r#"{"spec":{"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}],"containers":[{"name":"newcomer","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}"#]);
            newcomer_created = true;
        }
        let Run {
            code,
            report,
            stderr,
        } = cluster.doctor("doctor", &["-A"]);
        assert_ne!(code, 2, "the tool failed: {stderr}");
        let left = missing(&report);
        if left.is_empty() {
            assert_eq!(code, 1, "broken links found means exit 1");
            assert_eq!(report["source"]["kind"], "live");
            assert!(report["source"]["serverVersion"]
                .as_str()
                .unwrap_or("")
                .starts_with("v1."));
            assert_eq!(
                rank_one(&report)["PersistentVolumeClaim/lv-lost/data"].1,
                "critical"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 240s still wrong:\n{}\n\nreport: {report:#}",
            left.join("\n")
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }

    // What collect writes diagnoses the same offline.
    let capture = cluster.dir.join("collected.yaml");
    cluster.collect("doctor", &["-A"], &capture);
    let Run {
        report: live_report,
        ..
    } = cluster.doctor("doctor", &["-A"]);
    let Run {
        report: offline,
        stderr,
        ..
    } = cluster.doctor("doctor", &["--from", capture.to_str().unwrap()]);
    assert_eq!(rank_one(&offline), rank_one(&live_report), "{stderr}");
    // A diagnosis drops kubectl apply's copy of each object as it reads;
    // collect keeps it for --no-redact.
    let full = cluster.dir.join("collected-full.yaml");
    cluster.collect("doctor", &["-A", "--no-redact"], &full);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(
        text.contains("kubectl.kubernetes.io/last-applied-configuration"),
        "collect --no-redact lost the last-applied annotation"
    );

    // One pod answers from its own chain.
    let Run {
        code,
        report,
        stderr,
    } = cluster.doctor("doctor", &["-n", "lv-missing-claim", "pod/app"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["summary"]["subjects"], 1);
    assert_eq!(
        report["findings"][0]["causes"][0]["rule"],
        "claim-not-found"
    );

    // One claim: the pods it blocks, from their chains alone.
    let Run {
        code,
        report,
        stderr,
    } = cluster.doctor("doctor", &["-n", "lv-missing-class", "pvc/scratch"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["findings"][0]["subject"]["name"], "app");
    assert_eq!(
        report["findings"][0]["causes"][0]["rule"],
        "storageclass-not-found"
    );

    // A user who may only read one namespace still gets a diagnosis there.
    let Run {
        code,
        report,
        stderr,
    } = cluster.doctor("viewer", &["-n", "lv-missing-claim"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        report["findings"][0]["causes"][0]["rule"],
        "claim-not-found"
    );
    let gaps: Vec<&str> = report["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["reason"] == "Forbidden")
        .map(|g| g["resource"].as_str().unwrap())
        .collect();
    for resource in ["persistentvolumes", "storageclasses", "nodes"] {
        assert!(
            gaps.contains(&resource),
            "{resource} not among the gaps {gaps:?}"
        );
    }

    // --watch keeps reading (broken links remain) until Ctrl-C.
    let mut watching = Command::new(cargo_bin!("kubectl-storage_doctor"))
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig("doctor"))
        .args(["-A", "--watch", "--interval", "1s"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let interrupted = Command::new("kill")
        .args(["-INT", &watching.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    // Ctrl-C ends the watch with the last round's status: broken links, 1.
    assert_eq!(watching.wait().unwrap().code(), Some(1));

    // Everything the tool asked for was a read.
    let audit = std::fs::read_to_string(cluster.dir.join("audit.log")).unwrap();
    let mut seen = 0;
    for line in audit.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let user = entry["user"]["username"].as_str().unwrap_or("");
        if user != "doctor" && user != "viewer" {
            continue;
        }
        seen += 1;
        let verb = entry["verb"].as_str().unwrap_or("");
        assert!(
            matches!(verb, "get" | "list" | "watch"),
            "{user} did {verb}: {line}"
        );
        assert_ne!(
            entry["objectRef"]["resource"], "secrets",
            "secrets were requested: {line}"
        );
    }
    assert!(
        seen > 10,
        "the audit log shows only {seen} requests by the tool"
    );
}
