//! Arbitrary bytes as what `--usage` and `--logs` read: the first byte
//! picks one of the captured scenarios; the rest, when it is JSON, is a
//! kubelet stats summary (`source::node_stats`), whose volumes are read as
//! they name their pods and once more laid onto the scenario's own pod
//! volumes, so the fill rules meet every number; the rest as text is the
//! log tail of every container of the scenario. Then analysis and every
//! renderer.

#![no_main]

use kubectl_storage_doctor::snapshot::{ContainerLog, NodeEvidence, Snapshot, VolumeUsage};
use kubectl_storage_doctor::source::node_stats;
use kubectl_storage_doctor_fuzz::bases;
use libfuzzer_sys::fuzz_target;

/// Every volume of every pod: namespace, pod, node and volume name.
fn pod_volumes(snap: &Snapshot) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for p in &snap.objects.pods {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        let spec = p.spec.as_ref();
        let node = spec.and_then(|s| s.node_name.clone()).unwrap_or_default();
        for v in spec.and_then(|s| s.volumes.as_ref()).into_iter().flatten() {
            out.push((ns.clone(), name.clone(), node.clone(), v.name.clone()));
        }
    }
    out
}

/// Every container of every pod: namespace, pod and container name.
fn containers(snap: &Snapshot) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for p in &snap.objects.pods {
        let ns = p.metadata.namespace.clone().unwrap_or_default();
        let name = p.metadata.name.clone().unwrap_or_default();
        for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
            out.push((ns.clone(), name.clone(), c.name.clone()));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let bases = bases();
    let base = &bases[usize::from(pick) % bases.len()];
    let snap = Snapshot::new(base.objects.clone(), base.gaps.clone(), Some(base.now));
    let mut usage: Vec<VolumeUsage> = Vec::new();
    if let Some(summary) = serde_json::from_slice(rest).ok().and_then(node_stats::parse) {
        usage = node_stats::volumes("fuzz-node", &summary);
        let targets = pod_volumes(&snap);
        let laid: Vec<VolumeUsage> = usage
            .iter()
            .zip(targets.iter().cycle())
            .map(|(u, (namespace, pod, node, volume))| VolumeUsage {
                node: node.clone(),
                namespace: namespace.clone(),
                pod: pod.clone(),
                volume: volume.clone(),
                ..u.clone()
            })
            .collect();
        usage.extend(laid);
    }
    for u in &usage {
        assert!(!u.volume.is_empty(), "a usage names its volume");
        if let Some((fill, _)) = u.fullest() {
            assert!(fill.is_finite() && fill >= 0.0, "a fill is a ratio: {fill}");
        }
    }
    let text = String::from_utf8_lossy(rest);
    let logs = containers(&snap)
        .into_iter()
        .map(|(namespace, pod, container)| ContainerLog {
            namespace,
            pod,
            container,
            text: text.to_string(),
        })
        .collect();
    let snap = snap.with_evidence(NodeEvidence {
        usage: Some(usage),
        logs: Some(logs),
    });
    kubectl_storage_doctor_fuzz::diagnose_and_render(&snap);
});
