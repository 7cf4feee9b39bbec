//! Live tests of the driver's own components and of lost nodes, against the
//! control plane of `scripts/live-cluster.sh`. The real controllers make
//! the Deployment's and DaemonSet's pods, the VolumeAttachments, the claims'
//! hand-over to a provisioner and the Multi-Attach events; the test plays
//! only what a kubelet or an attacher would report (there is none).
//!
//! ```sh
//! LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS='--feature-gates=CSIMigration=true,CSIMigrationAWS=true' \
//!     scripts/live-cluster.sh start DIR
//! source DIR/env
//! STORAGE_DOCTOR_LIVE_DIR=DIR cargo test --test live_components -- --ignored
//! ```
//!
//! The feature gates are needed by the in-tree class test only; the others
//! run on any cluster of the script.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::api::storage::v1::VolumeAttachment;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Once;
use std::time::{Duration, Instant};

mod support;

use support::cluster::{Cluster, Run};
use support::rank::rank_one;

/// How long the controllers get to make the states the tests wait for. The
/// stuck deletion needs its grace period plus the tool's two-minute margin.
const DEADLINE: Duration = Duration::from_secs(240);

static APPLIED: Once = Once::new();

fn cluster() -> Cluster {
    let cluster = Cluster::from_env();
    APPLIED.call_once(|| {
        cluster.apply(Path::new("examples/rbac.yaml"));
        cluster.apply(Path::new("tests/live/rbac-bindings.yaml"));
        cluster.apply(Path::new("tests/live/components.yaml"));
    });
    cluster
}

async fn admin_client(cluster: &Cluster) -> kube::Client {
    let kubeconfig = kube::config::Kubeconfig::read_from(cluster.kubeconfig("admin")).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// A Node with no kubelet behind it, Ready, with `taints`.
async fn create_node(client: &kube::Client, name: &str, taints: Value) {
    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
            // The attach/detach controller attaches only for nodes that say so.
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        },
        "spec": {"taints": taints}
    }))
    .unwrap();
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => panic!("create node {name}: {e}"),
    }
    set_node_ready(client, name, true).await;
}

/// What a kubelet posts, or what the node lifecycle controller writes once
/// the kubelet stopped posting.
async fn set_node_ready(client: &kube::Client, name: &str, ready: bool) {
    let nodes: Api<Node> = Api::all(client.clone());
    let now = now();
    let condition = if ready {
        json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
               "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now})
    } else {
        json!({"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
               "message": "Kubelet stopped posting node status.", "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    let status = json!({"status": {
        "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [condition]
    }});
    nodes
        .patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("node {name} status: {e}"));
}

/// What a kubelet reports for a pod whose containers run.
async fn report_running(client: &kube::Client, ns: &str, name: &str, container: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let now = now();
    let status = json!({"status": {
        "phase": "Running",
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now}
        ],
        "containerStatuses": [{
            "name": container, "image": "busybox", "imageID": "", "ready": true,
            "restartCount": 0, "started": true, "state": {"running": {"startedAt": now}}
        }]
    }});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap_or_else(|e| panic!("report {ns}/{name} running: {e}"));
}

/// What a kubelet posts as a pod's event.
async fn post_event(client: &kube::Client, ns: &str, pod: &str, reason: &str, message: &str) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let uid = pods.get(pod).await.unwrap().metadata.uid;
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let now = now();
    let event: Event = serde_json::from_value(json!({
        "metadata": {"generateName": format!("{pod}."), "namespace": ns},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "namespace": ns, "name": pod, "uid": uid},
        "reason": reason, "type": "Warning", "message": message, "count": 4,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "kubelet", "host": "lc-tainted"}
    }))
    .unwrap();
    events
        .create(&PostParams::default(), &event)
        .await
        .unwrap_or_else(|e| panic!("post {reason} for {ns}/{pod}: {e}"));
}

/// Runs the tool over every namespace until `done` accepts the report, or
/// fails with the last report after [`DEADLINE`].
async fn wait_for(cluster: &Cluster, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let Run {
            code,
            report,
            stderr,
        } = cluster.doctor("doctor", &["-A"]);
        assert_ne!(code, 2, "the tool failed: {stderr}");
        if done(&report) {
            return report;
        }
        assert!(
            Instant::now() < deadline,
            "after {DEADLINE:?}, {what} is not shown:\n{:#?}",
            rank_one(&report)
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

fn rule_of(report: &Value, subject: &str) -> Option<String> {
    rank_one(report).get(subject).map(|(rule, _)| rule.clone())
}

/// The rank-1 cause of `subject`'s finding.
fn cause<'r>(report: &'r Value, subject: &str) -> &'r Value {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| support::rank::subject_key(&f["subject"]) == subject)
        .map(|f| &f["causes"][0])
        .unwrap_or(&Value::Null)
}

fn text(cause: &Value) -> String {
    cause.to_string()
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn a_crash_looping_controller_explains_a_claim_waiting_for_its_provisioner() {
    let cluster = cluster();
    let client = admin_client(&cluster).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "lc-driver");
    // The Deployment controller makes the pod; the kubelet would report
    // the driver container crash-looping.
    let deadline = Instant::now() + DEADLINE;
    let name = loop {
        let list = pods
            .list(&ListParams::default().labels("app=crashy-csi-controller"))
            .await
            .unwrap();
        if let Some(name) = list.items.first().and_then(|p| p.metadata.name.clone()) {
            break name;
        }
        assert!(Instant::now() < deadline, "no controller pod was created");
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let now = now();
    let status = json!({"status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now}],
        "containerStatuses": [
            {"name": "csi-provisioner", "image": "registry.k8s.io/sig-storage/csi-provisioner:v2.1.0", "imageID": "",
             "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": now}}},
            {"name": "crashy-driver", "image": "example.com/crashy-csi-driver:1.0", "imageID": "",
             "ready": false, "restartCount": 9, "started": false,
             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=crashy-driver"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "message": "failed to reach the storage API: 401 Unauthorized",
                                          "startedAt": now, "finishedAt": now}}}
        ]
    }});
    pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();

    let subject = "Pod/lc-controller/app";
    let report = wait_for(&cluster, "csi-controller-unhealthy", |r| {
        rule_of(r, subject).as_deref() == Some("csi-controller-unhealthy")
    })
    .await;
    let said = text(cause(&report, subject));
    for needle in [
        name.as_str(),
        "crashy-driver",
        "CrashLoopBackOff",
        "401 Unauthorized",
    ] {
        assert!(said.contains(needle), "{needle} not in {said}");
    }
    // From the workload's namespace, the controller in lc-driver is read
    // all the same: the pod alone, and a scan of the namespace.
    for args in [
        &["-n", "lc-controller", "pod/app"][..],
        &["-n", "lc-controller"],
    ] {
        let run = cluster.doctor("doctor", args);
        assert_eq!(
            rule_of(&run.report, subject).as_deref(),
            Some("csi-controller-unhealthy"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(
            text(cause(&run.report, subject)).contains(name.as_str()),
            "{args:?}"
        );
    }
    // With the provisioner's leader Lease in lc-driver, the pod alone
    // reads the workloads there, not every workload of the cluster, and
    // finds the same.
    let leases: Api<Lease> = Api::namespaced(client.clone(), "lc-driver");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "crashy-csi-example-com", "namespace": "lc-driver"},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": 15,
                 "acquireTime": crate::now(), "renewTime": crate::now()}
    }))
    .unwrap();
    leases.create(&PostParams::default(), &lease).await.unwrap();
    let run = cluster.doctor("doctor", &["-n", "lc-controller", "pod/app", "-v"]);
    leases
        .delete("crashy-csi-example-com", &Default::default())
        .await
        .unwrap();
    assert_eq!(
        rule_of(&run.report, subject).as_deref(),
        Some("csi-controller-unhealthy"),
        "{}",
        run.stderr
    );
    assert!(text(cause(&run.report, subject)).contains(name.as_str()));
    assert!(
        run.stderr
            .contains("GET /apis/apps/v1/namespaces/lc-driver/deployments?"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("GET /apis/apps/v1/deployments?"),
        "no cluster-wide LIST of Deployments: {}",
        run.stderr
    );
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn a_node_plugin_kept_off_a_tainted_node_explains_a_failing_mount_there() {
    let cluster = cluster();
    let client = admin_client(&cluster).await;
    create_node(
        &client,
        "lc-tainted",
        json!([{"key": "lc-dedicated", "value": "db", "effect": "NoSchedule"}]),
    )
    .await;
    // The DaemonSet controller places its pods on the other nodes only; the
    // kubelet of lc-tainted would say the driver is not registered there.
    let ds_pods: Api<Pod> = Api::namespaced(client.clone(), "lc-driver");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let list = ds_pods
            .list(&ListParams::default().labels("app=plug-csi-node"))
            .await
            .unwrap();
        if !list.items.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the DaemonSet made no pod");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    post_event(
        &client,
        "lc-node-plugin",
        "app",
        "FailedMount",
        "MountVolume.MountDevice failed for volume \"lc-plug-pv\" : kubernetes.io/csi: attacher.MountDevice failed to create newCsiDriverClient: driver name plug.csi.example.com not found in the list of registered CSI drivers",
    )
    .await;

    let subject = "Pod/lc-node-plugin/app";
    let report = wait_for(&cluster, "csi-node-plugin-unhealthy", |r| {
        rule_of(r, subject).as_deref() == Some("csi-node-plugin-unhealthy")
    })
    .await;
    let said = text(cause(&report, subject));
    for needle in ["plug-csi-node", "lc-tainted", "lc-dedicated=db:NoSchedule"] {
        assert!(said.contains(needle), "{needle} not in {said}");
    }
    let run = cluster.doctor("doctor", &["-n", "lc-node-plugin", "pod/app"]);
    assert_eq!(
        rule_of(&run.report, subject).as_deref(),
        Some("csi-node-plugin-unhealthy"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn a_volume_held_by_a_pod_deleted_on_a_lost_node() {
    let cluster = cluster();
    let client = admin_client(&cluster).await;
    create_node(&client, "lc-lost", json!([])).await;
    report_running(&client, "lc-lost-node", "old", "old").await;
    // The attach/detach controller asks for the attachment; the attacher
    // would report it done, and the kubelet the volume in use.
    let attachments: Api<VolumeAttachment> = Api::all(client.clone());
    let deadline = Instant::now() + DEADLINE;
    let attachment = loop {
        let list = attachments.list(&ListParams::default()).await.unwrap();
        if let Some(va) = list.items.iter().find(|va| {
            va.spec.source.persistent_volume_name.as_deref() == Some("lc-lost-pv")
                && va.spec.node_name == "lc-lost"
        }) {
            break va.metadata.name.clone().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "no VolumeAttachment for lc-lost-pv"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    attachments
        .patch_status(
            &attachment,
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"attached": true}})),
        )
        .await
        .unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let in_use = "kubernetes.io/csi/lost.csi.example.com^lost-vol-1";
    nodes
        .patch_status(
            "lc-lost",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {
                "volumesInUse": [in_use],
                "volumesAttached": [{"name": in_use, "devicePath": ""}]
            }})),
        )
        .await
        .unwrap();
    // The pod is deleted; its node stops reporting before the kubelet could
    // confirm, so the pod stays Terminating and the volume attached.
    cluster.kubectl(&["-n", "lc-lost-node", "delete", "pod", "old", "--wait=false"]);
    set_node_ready(&client, "lc-lost", false).await;
    cluster.kubectl(&["-n", "lc-lost-node", "run", "new", "--image=busybox", "--restart=Never",
        "--overrides", r#"{"spec":{"nodeName":"node-b","volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"data"}}],"containers":[{"name":"new","image":"busybox","volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}"#]);

    let report = wait_for(
        &cluster,
        "volume-held-by-lost-node and pod-stuck-terminating",
        |r| {
            rule_of(r, "Pod/lc-lost-node/new").as_deref() == Some("volume-held-by-lost-node")
                && rule_of(r, "Pod/lc-lost-node/old").as_deref() == Some("pod-stuck-terminating")
        },
    )
    .await;
    let held = text(cause(&report, "Pod/lc-lost-node/new"));
    for needle in ["lc-lost", "node.kubernetes.io/out-of-service"] {
        assert!(held.contains(needle), "{needle} not in {held}");
    }
    assert!(
        !held.contains("scale down"),
        "a lost node's volume is not freed by scaling down: {held}"
    );
    let stuck = text(cause(&report, "Pod/lc-lost-node/old"));
    assert!(stuck.contains("DATA RISK"), "{stuck}");
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn an_in_tree_class_migrated_to_a_driver_that_is_not_installed() {
    let flags = std::env::var("LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS").unwrap_or_default();
    assert!(
        flags.contains("CSIMigrationAWS=true"),
        "start the cluster with LIVE_CLUSTER_CONTROLLER_MANAGER_FLAGS='--feature-gates=CSIMigration=true,CSIMigrationAWS=true' (and source its env): the PV controller of 1.20 migrates kubernetes.io/aws-ebs only then"
    );
    let cluster = cluster();
    cluster.apply(Path::new("tests/live/in-tree.yaml"));

    let subject = "Pod/lc-in-tree/app";
    let report = wait_for(&cluster, "in-tree-driver-missing", |r| {
        rule_of(r, subject).as_deref() == Some("in-tree-driver-missing")
    })
    .await;
    let said = text(cause(&report, subject));
    for needle in ["kubernetes.io/aws-ebs", "ebs.csi.aws.com", "lc-gp2"] {
        assert!(said.contains(needle), "{needle} not in {said}");
    }
    // The real PV controller did the hand-over the rule reads.
    let handed = cluster.kubectl(&[
        "-n",
        "lc-in-tree",
        "get",
        "pvc",
        "data",
        "-o",
        "jsonpath={.metadata.annotations.volume\\.beta\\.kubernetes\\.io/storage-provisioner}",
    ]);
    assert_eq!(handed, "ebs.csi.aws.com");
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn a_taint_on_the_node_of_a_local_volume_is_the_cause_and_each_node_is_shown() {
    let cluster = cluster();
    let client = admin_client(&cluster).await;
    create_node(
        &client,
        "lc-tainted",
        json!([{"key": "lc-dedicated", "value": "db", "effect": "NoSchedule"}]),
    )
    .await;

    let subject = "Pod/lc-pinned/db";
    // The other tests of this file add nodes while this one runs.
    let nodes_before = cluster
        .kubectl(&["get", "nodes", "-o", "name"])
        .lines()
        .count();
    // The scheduler's own message must name the taint for the node.
    let report = wait_for(&cluster, "volume-node-unavailable", |r| {
        rule_of(r, subject).as_deref() == Some("volume-node-unavailable")
            && text(cause(r, subject)).contains("taint {lc-dedicated: db}")
    })
    .await;
    let said = text(cause(&report, subject));
    assert!(
        said.contains("kubectl taint node lc-tainted lc-dedicated=db:NoSchedule-"),
        "{said}"
    );
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| support::rank::subject_key(&f["subject"]) == subject)
        .unwrap();
    let rows = finding["nodes"].as_array().expect("findings[].nodes");
    assert_eq!(rows[0]["name"], "lc-tainted", "{rows:#?}");
    assert_eq!(rows[0]["volumesAllow"], true);
    assert_eq!(
        rows[0]["ruledOutBy"][0],
        "it has the untolerated taint lc-dedicated=db:NoSchedule"
    );
    // Every node the scan read is in one row.
    let total: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    let nodes_after = cluster
        .kubectl(&["get", "nodes", "-o", "name"])
        .lines()
        .count();
    assert!(
        (nodes_before..=nodes_after).contains(&(total as usize)),
        "{total} nodes in the rows, {nodes_before} before the scan and {nodes_after} after: {rows:#?}"
    );
    assert!(rows[1..].iter().all(|r| r["volumesAllow"] == false));
}

#[tokio::test(flavor = "current_thread")]
#[ignore = "needs the live control plane: see .ci/run"]
async fn a_controller_whose_pods_are_refused_is_named_with_the_refusal() {
    let cluster = cluster();
    let subject = "Pod/lc-refused/app";
    let refusal = r#"serviceaccount \"refused-csi-controller-sa\" not found"#;
    let report = wait_for(&cluster, "the refused controller", |r| {
        rule_of(r, subject).as_deref() == Some("csi-controller-unhealthy")
            && text(cause(r, subject)).contains(refusal)
    })
    .await;
    assert!(
        text(cause(&report, subject)).contains("which the API server refuses to create"),
        "{}",
        text(cause(&report, subject))
    );
    // From the workload's namespace, the refusal is read where the
    // controller runs: its ReplicaSet's events.
    for args in [&["-n", "lc-refused", "pod/app"][..], &["-n", "lc-refused"]] {
        let run = cluster.doctor("doctor", args);
        assert!(
            text(cause(&run.report, subject)).contains(refusal),
            "{args:?}: {}",
            run.stderr
        );
    }
    // The Deployment named as a target is a subject of its own.
    let run = cluster.doctor(
        "doctor",
        &[
            "-n",
            "lc-refused-driver",
            "deployment/refused-csi-controller",
        ],
    );
    let deployment = "Deployment/lc-refused-driver/refused-csi-controller";
    assert_eq!(
        rule_of(&run.report, deployment).as_deref(),
        Some("pod-create-refused"),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 1);
    assert!(text(cause(&run.report, deployment)).contains(refusal));
}
