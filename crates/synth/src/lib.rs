//! Synthetic cluster snapshots at chosen sizes, for the benchmarks
//! (`benches/pipeline.rs`), the scale and property tests (`tests/scale.rs`,
//! `tests/properties.rs`) and the `synth` binary. A dev-only workspace
//! member: the shipped library and binary do not contain it.
//!
//! [`write`] streams what `kubectl get pods,pvc,pv,storageclass,csidriver,
//! csinode,volumeattachment,nodes,events,deployments,replicasets,statefulsets
//! -A -o json` prints: one `List`, 4-space indented like kubectl. The same
//! file is read by `kubectl_storage_doctor::source::dump::load`; with
//! [`Config::server_fields`] off it is also what `kubectl create -f` takes.
//!
//! The cluster is mostly healthy: Deployments of stateless pods, StatefulSets
//! with one bound EBS claim per pod (attached, mounted, Running and Ready),
//! Deployments sharing one EFS claim, claims no pod uses yet, spare static
//! volumes. A few percent of units are broken, round-robin over the rule
//! families of [`Family`], with the object state and the event reasons and
//! texts of the captured scenarios under `tests/scenarios/`. A few objects
//! carry event storms (thousands of events each), and every object can carry
//! long `managedFields` as the API server returns them.
//!
//! Deterministic: a seeded xorshift drives every choice, so one [`Config`]
//! gives the same bytes every time. The returned [`Manifest`] lists each
//! subject that was broken on purpose with the rule that must explain it.

mod config;
mod family;
mod generator;
mod manifest;
mod rng;
mod writer;

pub use config::{Config, Size};
pub use family::Family;
pub use manifest::{Counts, Injected, Manifest};

use generator::Gen;
use std::io::{self, Write};
use writer::Out;

/// Writes the snapshot to `out`; the caller buffers (a `BufWriter` for files).
pub fn write<W: Write>(cfg: &Config, out: W) -> io::Result<Manifest> {
    let g = Gen::new(cfg);
    let mut out = Out::new(out, cfg.pretty);
    out.strip = !cfg.server_fields;
    out.begin()?;
    g.emit_all(&mut out)?;
    out.end()?;
    let mut manifest = g.manifest();
    manifest.counts = out.counts;
    Ok(manifest)
}

/// The snapshot as a string, for tests.
pub fn to_string(cfg: &Config) -> (String, Manifest) {
    let mut bytes = Vec::new();
    let manifest = write(cfg, &mut bytes).expect("writing to memory cannot fail");
    (
        String::from_utf8(bytes).expect("serde_json writes UTF-8"),
        manifest,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn small() -> Config {
        Config::new(Size::LARGE.divided(200))
    }

    #[test]
    fn same_config_same_bytes() {
        let (a, _) = to_string(&small());
        let (b, _) = to_string(&small());
        assert_eq!(a, b);
        let mut other = small();
        other.seed += 1;
        assert_ne!(to_string(&other).0, a);
    }

    #[test]
    fn counts_are_the_ones_asked_for() {
        let cfg = small();
        let (text, m) = to_string(&cfg);
        let s = cfg.size;
        assert_eq!(m.counts.pods, s.pods);
        assert_eq!(m.counts.claims, s.claims);
        assert_eq!(m.counts.volumes, s.volumes);
        assert_eq!(m.counts.nodes, s.nodes);
        assert_eq!(m.counts.events, s.events);
        assert_eq!(m.counts.bytes, text.len() as u64);
        let list: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(list["kind"], "List");
        assert_eq!(list["items"].as_array().unwrap().len(), m.counts.objects());
    }

    #[test]
    fn every_family_is_injected() {
        let (_, m) = to_string(&small());
        for f in Family::ALL {
            assert!(m.injected.iter().any(|i| i.family == f), "{f:?}");
        }
    }

    #[test]
    fn micro_times_have_six_fractional_digits() {
        let (text, _) = to_string(&small());
        let list: Value = serde_json::from_str(&text).unwrap();
        let mut seen = 0;
        for item in list["items"].as_array().unwrap() {
            for path in ["/eventTime", "/series/lastObservedTime"] {
                if let Some(t) = item.pointer(path).and_then(Value::as_str) {
                    let fraction = t.split_once('.').map(|(_, f)| f);
                    assert_eq!(fraction.map(str::len), Some(7), "{path}: {t}");
                    assert!(t.ends_with('Z'), "{path}: {t}");
                    seen += 1;
                }
            }
        }
        assert!(seen > 0, "no MicroTime in the snapshot");
    }

    #[test]
    fn without_server_fields_nothing_names_a_uid() {
        let mut cfg = small();
        cfg.server_fields = false;
        let (text, _) = to_string(&cfg);
        let list: Value = serde_json::from_str(&text).unwrap();
        let mut released = 0;
        for item in list["items"].as_array().unwrap() {
            for field in ["uid", "resourceVersion", "managedFields", "ownerReferences"] {
                assert!(item["metadata"].get(field).is_none(), "{field}: {item}");
            }
            assert!(item.pointer("/involvedObject/uid").is_none(), "{item}");
            // Only the claimRef of a Released volume names its deleted claim's uid.
            let claim_uid = item.pointer("/spec/claimRef/uid");
            if item["status"]["phase"] == "Released" {
                assert!(claim_uid.is_some(), "{item}");
                released += 1;
            } else {
                assert!(claim_uid.is_none(), "{item}");
            }
            if item["kind"] == "PersistentVolumeClaim" && item["status"]["phase"] == "Bound" {
                let annotations = &item["metadata"]["annotations"];
                assert!(annotations.get("pv.kubernetes.io/bind-completed").is_none());
            }
        }
        assert!(released > 0, "no Released volume in the snapshot");
    }

    #[test]
    fn compact_and_pretty_hold_the_same_list() {
        let mut compact = small();
        compact.pretty = false;
        let a: Value = serde_json::from_str(&to_string(&small()).0).unwrap();
        let b: Value = serde_json::from_str(&to_string(&compact).0).unwrap();
        assert_eq!(a, b);
    }
}
