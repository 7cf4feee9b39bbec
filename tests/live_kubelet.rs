//! Live tests of the opt-in sources `--usage` and `--logs`: the API server
//! proxies `nodes/proxy` and `pods/log` to a node's kubelet, here a TLS
//! stand-in (`tests/live/kubelet-standin.py`). The API server refuses to
//! proxy to loopback and link-local addresses, so `.ci/run` runs the
//! control plane, the stand-in and these tests inside a network namespace
//! it makes (`unshare -n`), with 192.0.2.10 on that namespace's loopback
//! (`LIVE_CLUSTER_KUBELET_ADDRESS`); nothing leaves it. By hand: start the
//! cluster that way and set `STORAGE_DOCTOR_LIVE_DIR`.

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

mod support;

use support::cluster::Cluster;
use support::rank::rank_one;

const NS: &str = "lv-kubelet";
const NODE: &str = "node-k";
const GI: u64 = 1024 * 1024 * 1024;

async fn admin_client(cluster: &Cluster) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(cluster.kubeconfig("admin")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// The stand-in, stopped when the test ends.
struct StandIn(Child);

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the stand-in on `address`, serving what a kubelet on node-k
/// would say; returns it and its port.
fn start_stand_in(cluster: &Cluster, address: &str) -> (StandIn, u16, std::path::PathBuf) {
    let root = cluster.dir.join("kubelet-standin");
    let _ = std::fs::remove_dir_all(&root);
    let logs = root.join("logs").join(NS).join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("app"),
        "starting app 1.4.2\nloading state from /data/app.db\n\u{1b}[31mFATAL\u{1b}[0m open /data/app.db: permission denied\nexiting with status 1\n",
    )
    .unwrap();
    let summary = json!({
        "node": {"nodeName": NODE},
        "pods": [
            {"podRef": {"name": "full", "namespace": NS},
             "volume": [{"name": "data", "capacityBytes": GI, "usedBytes": GI * 98 / 100,
                         "availableBytes": GI * 2 / 100, "inodes": 65536, "inodesUsed": 120,
                         "pvcRef": {"name": "full-data", "namespace": NS}}]},
            {"podRef": {"name": "logs", "namespace": NS},
             "volume": [{"name": "data", "capacityBytes": GI, "usedBytes": GI / 10,
                         "inodes": 65536, "inodesUsed": 12,
                         "pvcRef": {"name": "logs-data", "namespace": NS}}]}
        ]
    });
    std::fs::write(root.join("stats-summary.json"), summary.to_string()).unwrap();
    let pki = cluster.dir.join("pki");
    let child = Command::new("python3")
        .arg("tests/live/kubelet-standin.py")
        .arg(&root)
        .arg(address)
        .arg("0")
        .arg(pki.join("kubelet.crt"))
        .arg(pki.join("kubelet.key"))
        .spawn()
        .expect("python3 runs the kubelet stand-in");
    let stand_in = StandIn(child);
    let started = Instant::now();
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(root.join("port")) {
            break p.trim().parse().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the kubelet stand-in did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    (stand_in, port, root)
}

/// node-k, whose kubelet endpoint is the stand-in.
async fn create_node(client: &kube::Client, address: &str, port: u16) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
        "spec": {}
    }))
    .unwrap();
    let _ = nodes.create(&PostParams::default(), &node).await;
    let now = jiff::Timestamp::now().to_string();
    let status = json!({"status": {
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": now}],
        "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": NODE}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}
    }});
    nodes
        .patch_status(NODE, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

/// What the kubelet would report: `logs` crash-looping, `full` running.
async fn report_pods(client: &kube::Client) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let now = jiff::Timestamp::now().to_string();
    let crash = json!({"status": {
        "phase": "Running",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "lastTransitionTime": now}
        ],
        "containerStatuses": [{
            "name": "app", "image": "busybox", "imageID": "", "ready": false, "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                "message": "back-off 1m20s restarting failed container=app"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                "startedAt": now, "finishedAt": now}}
        }]
    }});
    let running = json!({"status": {
        "phase": "Running",
        "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": "True", "lastTransitionTime": now}
        ],
        "containerStatuses": [{
            "name": "db", "image": "busybox", "imageID": "", "ready": true, "restartCount": 0,
            "state": {"running": {"startedAt": now}}
        }]
    }});
    for (name, status) in [("logs", crash), ("full", running)] {
        pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap_or_else(|e| panic!("report {name}: {e}"));
    }
}

/// The claims bind through the real PV controller.
fn wait_bound(cluster: &Cluster) {
    let started = Instant::now();
    loop {
        let phases = cluster.kubectl(&[
            "-n",
            NS,
            "get",
            "pvc",
            "-o",
            "jsonpath={.items[*].status.phase}",
        ]);
        if phases.trim() == "Bound Bound" {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "claims not bound: {phases}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn gaps(report: &Value) -> Vec<(String, String, String)> {
    report["gaps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            let s = |k: &str| g[k].as_str().unwrap_or("").to_string();
            (s("resource"), s("reason"), s("message"))
        })
        .collect()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane in a network namespace: see .ci/run"]
async fn usage_and_logs_through_the_node_proxy() {
    let cluster = Cluster::from_env();
    let address = std::env::var("LIVE_KUBELET_ADDRESS")
        .expect("LIVE_KUBELET_ADDRESS: start the cluster with LIVE_CLUSTER_KUBELET_ADDRESS");
    assert!(address.starts_with("192.0.2."), "{address}");
    let client = admin_client(&cluster).await;
    let (stand_in, port, root) = start_stand_in(&cluster, &address);
    cluster.apply(Path::new("examples/rbac.yaml"));
    cluster.apply(Path::new("tests/live/rbac-bindings.yaml"));
    create_node(&client, &address, port).await;
    cluster.apply(Path::new("tests/live/kubelet.yaml"));
    wait_bound(&cluster);
    report_pods(&client).await;

    // Without nodes/proxy and pods/log: gaps, and the diagnosis goes on.
    let run = cluster.doctor("doctor", &["-n", NS, "--usage", "--logs"]);
    let found = gaps(&run.report);
    assert!(
        found.iter().any(|(r, why, m)| r == "nodes/proxy"
            && why == "Forbidden"
            && m.contains(NODE)
            && m.contains("get nodes/proxy")),
        "{found:?}\n{}",
        run.stderr
    );
    assert!(
        found
            .iter()
            .any(|(r, why, m)| r == "pods/log" && why == "Forbidden" && m.contains("get pods/log")),
        "{found:?}"
    );
    let ranked = rank_one(&run.report);
    assert!(
        ranked.contains_key(&format!("Pod/{NS}/logs")),
        "the diagnosis went on: {ranked:?}"
    );

    // With the opt-in role: the log and the fill are read.
    cluster.kubectl(&[
        "create",
        "clusterrolebinding",
        "storage-doctor-opt-in-doctor",
        "--clusterrole=storage-doctor-opt-in",
        "--user=doctor",
    ]);
    let started = Instant::now();
    let run = loop {
        let run = cluster.doctor("doctor", &["-n", NS, "--usage", "--logs"]);
        if gaps(&run.report)
            .iter()
            .all(|(r, _, _)| r != "nodes/proxy" && r != "pods/log")
            || started.elapsed() > Duration::from_secs(20)
        {
            break run;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let ranked = rank_one(&run.report);
    assert_eq!(
        ranked
            .get(&format!("Pod/{NS}/logs"))
            .map(|(r, _)| r.as_str()),
        Some("volume-permission-denied"),
        "{}\n{}",
        serde_json::to_string_pretty(&run.report).unwrap(),
        run.stderr
    );
    assert_eq!(
        ranked.get(&format!("Pod/{NS}/full")),
        Some(&("volume-full".to_string(), "error".to_string())),
        "{}",
        serde_json::to_string_pretty(&run.report).unwrap()
    );
    let text = run.report.to_string();
    assert!(
        text.contains("log of container app (previous run)"),
        "{text}"
    );
    assert!(
        text.contains("\\\\u{1b}[31mFATAL"),
        "control characters escaped: {text}"
    );
    assert!(
        !text.contains("starting app"),
        "only the matching line and its neighbour: {text}"
    );
    let full = run.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["subject"]["name"] == "full")
        .unwrap();
    assert_eq!(
        full["volumes"][0]["usage"],
        json!({"usedBytes": GI * 98 / 100, "capacityBytes": GI, "inodesUsed": 120, "inodes": 65536})
    );

    // What reached the node: reads of the two paths, nothing else.
    let requests = std::fs::read_to_string(root.join("requests.log")).unwrap();
    let mut stats = 0;
    for line in requests.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        assert_eq!(r["method"], "GET", "{line}");
        let path = r["path"].as_str().unwrap();
        if path == "/stats/summary" {
            stats += 1;
        } else {
            assert!(
                path.starts_with(&format!("/containerLogs/{NS}/logs/app?")),
                "{line}"
            );
            assert!(
                path.contains("previous=true") && path.contains("tailLines=100"),
                "{line}"
            );
        }
    }
    assert!(stats >= 1, "{requests}");

    // A node that does not answer: gaps, and the diagnosis goes on.
    drop(stand_in);
    let run = cluster.doctor("doctor", &["-n", NS, "--usage", "--logs"]);
    let found = gaps(&run.report);
    for (resource, names) in [("nodes/proxy", NODE), ("pods/log", "lv-kubelet/logs (app)")] {
        assert!(
            found
                .iter()
                .any(|(r, why, m)| r == resource && why == "Unavailable" && m.contains(names)),
            "{resource}: {found:?}"
        );
    }
    assert!(
        rank_one(&run.report).contains_key(&format!("Pod/{NS}/logs")),
        "{}",
        run.stderr
    );

    // Everything the tool asked the API server for was a read.
    let audit = std::fs::read_to_string(cluster.dir.join("audit.log")).unwrap();
    let mut proxied = 0;
    for line in audit.lines() {
        let Ok(entry) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if entry["user"]["username"] != "doctor" {
            continue;
        }
        let verb = entry["verb"].as_str().unwrap_or("");
        assert!(matches!(verb, "get" | "list"), "doctor did {verb}: {line}");
        if entry["objectRef"]["subresource"] == "proxy"
            || entry["objectRef"]["subresource"] == "log"
        {
            proxied += 1;
        }
    }
    assert!(proxied >= 4, "the audit log shows {proxied} proxied reads");
}
