//! The plan: units of objects (a StatefulSet with its claims, a broken
//! pod with its events...) placed in namespaces, and the passes that write
//! them, one kind after another.

mod broken_events;
mod claims;
mod cluster;
mod events;
mod managed_fields;
mod names;
mod objects;
mod pods;

use crate::writer::Out;
use crate::{Config, Family, Injected, Manifest};
use serde_json::Value;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// A Deployment of stateless pods (no claims).
    Web {
        replicas: u32,
    },
    /// A StatefulSet: one gp3 (EBS) claim, volume and attachment per pod.
    Db {
        replicas: u32,
    },
    /// A Deployment whose pods share one ReadWriteMany EFS claim.
    Cms {
        replicas: u32,
    },
    /// A bound claim no pod uses.
    Spare,
    /// A statically provisioned volume nobody claimed yet.
    LoosePv,
    /// The CSI controllers in kube-system.
    System {
        replicas: u32,
    },
    Broken(Family),
}

#[derive(Debug, Clone, Copy)]
struct Placed {
    unit: Unit,
    ns: u32,
    /// Unique over the plan: names and seeds derive from it.
    id: u32,
    /// Index of the unit's first healthy pod or claim among those that get
    /// routine events.
    first_fill: u64,
}

impl Placed {
    /// Healthy pods and claims of the unit that get routine events.
    fn fill_objects(&self) -> u64 {
        match self.unit {
            Unit::Web { replicas } | Unit::System { replicas } => u64::from(replicas),
            Unit::Db { replicas } => 2 * u64::from(replicas),
            Unit::Cms { replicas } => u64::from(replicas) + 1,
            Unit::Spare => 1,
            Unit::LoosePv | Unit::Broken(_) => 0,
        }
    }
}

/// What a storm hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StormKind {
    /// FailedMount on a mount-failed pod.
    Mount,
    /// Multi-Attach FailedAttachVolume on the new pod of a rolling update.
    MultiAttach,
    /// ExternalProvisioning on a claim whose provisioner is down.
    Provisioning,
    /// Readiness probe failures on a healthy StatefulSet pod.
    Probe,
}

const NAMESPACE_WORDS: &[&str] = &[
    "shop",
    "payments",
    "ml",
    "search",
    "media",
    "analytics",
    "billing",
    "identity",
    "logistics",
    "monitoring",
    "git",
    "docs",
    "ads",
    "chat",
    "data",
    "edge",
];

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// The moment of capture: every timestamp is at or before it.
const NOW: &str = "2026-11-20T12:00:00Z";

pub(crate) struct Gen<'a> {
    cfg: &'a Config,
    units: Vec<Placed>,
    namespaces: Vec<String>,
    nodes: usize,
    now: i64,
    /// Routine events spread over the healthy pods and claims.
    fill_events: u64,
    fill_objects: u64,
    storm_events: usize,
    /// (unit index, kind) of each storm.
    storms: Vec<(usize, StormKind)>,
    pod_mf: Value,
    claim_mf: Value,
    volume_mf: Value,
    node_mf: Value,
    event_mf: Value,
}

impl<'a> Gen<'a> {
    pub(crate) fn new(cfg: &'a Config) -> Self {
        let now: jiff::Timestamp = NOW.parse().expect("valid timestamp");
        let mut g = Gen {
            cfg,
            units: Vec::new(),
            namespaces: Vec::new(),
            nodes: cfg.size.nodes.max(3),
            now: now.as_second(),
            fill_events: 0,
            fill_objects: 0,
            storm_events: 0,
            storms: Vec::new(),
            pod_mf: Value::Null,
            claim_mf: Value::Null,
            volume_mf: Value::Null,
            node_mf: Value::Null,
            event_mf: Value::Null,
        };
        g.plan();
        g.managed_fields_templates();
        g
    }

    fn plan(&mut self) {
        let s = self.cfg.size;
        let families = Family::ALL.len();
        let per_family = (s.claims * self.cfg.broken_per_mille / 1000)
            .div_ceil(families)
            .max(1);
        let mut broken: Vec<Family> = Vec::new();
        for _ in 0..per_family {
            broken.extend(Family::ALL);
        }
        let (mut bp, mut bc, mut bv) = (0, 0, 0);
        for f in &broken {
            let (p, c, v) = f.objects();
            bp += p;
            bc += c;
            bv += v;
        }
        let healthy_claims = s.claims.saturating_sub(bc);
        let healthy_volumes = s.volumes.saturating_sub(bv);
        let bound = healthy_claims.min(healthy_volumes);
        // More claims than volumes: the rest waits for a first consumer.
        for _ in bound..healthy_claims {
            broken.push(Family::WaitingForFirstConsumer);
        }
        let loose = healthy_volumes - bound;
        let mut spare = bound * 4 / 100;
        let mut efs = bound * 5 / 100;
        let mut rwo = bound - spare - efs;
        let system = if s.pods >= bp + 8 { 4 } else { 0 };
        let avail = s.pods.saturating_sub(bp + system);
        let need = rwo + 2 * efs;
        if need > avail {
            let moved = (need - avail).min(rwo);
            rwo -= moved;
            spare += moved;
            let need = rwo + 2 * efs;
            if need > avail {
                let moved = (need - avail).div_ceil(2).min(efs);
                efs -= moved;
                spare += moved;
            }
        }
        let stateless = avail.saturating_sub(rwo + 2 * efs);

        let mut healthy: Vec<Unit> = Vec::new();
        let chunks = |total: usize, size: usize| {
            let mut v = vec![size as u32; total / size];
            if total % size > 0 {
                v.push((total % size) as u32);
            }
            v
        };
        let mut dbs = chunks(rwo, 3).into_iter().map(|r| Unit::Db { replicas: r });
        let mut webs = chunks(stateless, 5)
            .into_iter()
            .map(|r| Unit::Web { replicas: r });
        let mut cms = (0..efs).map(|_| Unit::Cms { replicas: 2 });
        let mut spares = (0..spare).map(|_| Unit::Spare);
        let mut looses = (0..loose).map(|_| Unit::LoosePv);
        // Interleave so every namespace gets a bit of everything.
        loop {
            let mut any = false;
            for u in [
                dbs.next(),
                webs.next(),
                webs.next(),
                cms.next(),
                spares.next(),
                looses.next(),
            ]
            .into_iter()
            .flatten()
            {
                healthy.push(u);
                any = true;
            }
            if !any {
                break;
            }
        }
        let namespaces = s.pods.div_ceil(100).max(1);
        self.namespaces = (0..namespaces)
            .map(|i| {
                let word = NAMESPACE_WORDS[i % NAMESPACE_WORDS.len()];
                format!("{word}-{}", i / NAMESPACE_WORDS.len())
            })
            .collect();
        self.namespaces.push("kube-system".into());
        let kube_system = (self.namespaces.len() - 1) as u32;

        let total = healthy.len() + broken.len();
        let mut units = Vec::with_capacity(total + 2);
        if system > 0 {
            for _ in 0..2 {
                units.push(Unit::System { replicas: 2 });
            }
        }
        // Broken units evenly among the healthy ones.
        let (mut h, mut b) = (0, 0);
        for i in 0..total {
            let want_broken = (i + 1) * broken.len() / total.max(1) > b;
            if (want_broken && b < broken.len()) || h >= healthy.len() {
                units.push(Unit::Broken(broken[b]));
                b += 1;
            } else {
                units.push(healthy[h]);
                h += 1;
            }
        }
        let mut fill = 0;
        self.units = units
            .into_iter()
            .enumerate()
            .map(|(i, unit)| {
                let ns = match unit {
                    Unit::System { .. } => kube_system,
                    _ => (i % namespaces) as u32,
                };
                let p = Placed {
                    unit,
                    ns,
                    id: i as u32,
                    first_fill: fill,
                };
                fill += p.fill_objects();
                p
            })
            .collect();
        self.fill_objects = fill;

        let injected: usize = broken.iter().map(|f| f.events()).sum();
        let budget = s.events.saturating_sub(injected);
        let kinds = [
            (StormKind::Mount, Some(Family::MountFailed)),
            (StormKind::MultiAttach, Some(Family::MultiAttach)),
            (
                StormKind::Provisioning,
                Some(Family::ProvisionerNotResponding),
            ),
            (StormKind::Probe, None),
        ];
        for k in 0..self.cfg.storms {
            let (kind, family) = kinds[k % kinds.len()];
            let nth = k / kinds.len();
            let target = self
                .units
                .iter()
                .enumerate()
                .filter(|(_, u)| match family {
                    Some(f) => u.unit == Unit::Broken(f),
                    None => matches!(u.unit, Unit::Db { .. }),
                })
                .map(|(i, _)| i)
                .nth(nth);
            if let Some(i) = target {
                self.storms.push((i, kind));
            }
        }
        self.storm_events = if self.storms.is_empty() {
            0
        } else {
            self.cfg.storm_events.min(budget / self.storms.len())
        };
        let storm_total = self.storm_events * self.storms.len();
        self.fill_events = if fill > 0 {
            (budget - storm_total) as u64
        } else {
            0
        };
    }

    pub(crate) fn manifest(&self) -> Manifest {
        let mut m = Manifest::default();
        for u in &self.units {
            let ns = self.ns(u);
            match u.unit {
                Unit::Broken(f) => {
                    let subject = match f {
                        Family::AccessModeUnsupported | Family::WaitingForFirstConsumer => {
                            format!("PersistentVolumeClaim/{ns}/{}", self.broken_claim_name(u))
                        }
                        Family::PvReleasedRetained => {
                            format!("PersistentVolume/{}", self.volume_name(u, 0))
                        }
                        Family::MultiAttach => {
                            m.healthy_pods
                                .push(format!("Pod/{ns}/{}", self.broken_pod_name(u, 0)));
                            format!("Pod/{ns}/{}", self.broken_pod_name(u, 1))
                        }
                        _ => format!("Pod/{ns}/{}", self.broken_pod_name(u, 0)),
                    };
                    m.injected.push(Injected { subject, family: f });
                }
                Unit::Db { replicas } => {
                    for i in 0..replicas {
                        m.healthy_pods
                            .push(format!("Pod/{ns}/{}", self.db_pod_name(u, i)));
                    }
                }
                Unit::Cms { replicas } => {
                    for i in 0..replicas {
                        m.healthy_pods
                            .push(format!("Pod/{ns}/{}", self.deploy_pod_name(u, i)));
                    }
                }
                _ => {}
            }
        }
        m
    }

    pub(crate) fn emit_all<W: Write>(&self, out: &mut Out<W>) -> io::Result<()> {
        for u in &self.units {
            self.pods(u, out)?;
        }
        for u in &self.units {
            self.claims(u, out)?;
        }
        for u in &self.units {
            self.volumes(u, out)?;
        }
        self.classes(out)?;
        self.csi_drivers(out)?;
        for n in 0..self.nodes {
            self.csi_node(n, out)?;
        }
        for u in &self.units {
            self.attachments(u, out)?;
        }
        for n in 0..self.nodes {
            self.node(n, out)?;
        }
        for (i, u) in self.units.iter().enumerate() {
            self.events(i, u, out)?;
        }
        for u in &self.units {
            self.workloads(u, out)?;
        }
        Ok(())
    }
}
