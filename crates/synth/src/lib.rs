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

use serde::Serialize;
use serde_json::{json, Value};
use std::io::{self, Write};

/// How many objects of each kind to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub pods: usize,
    pub claims: usize,
    pub volumes: usize,
    pub nodes: usize,
    pub events: usize,
}

impl Size {
    /// The size of the performance targets: 50,000 pods, 20,000 claims,
    /// 20,000 volumes, 500 nodes, 200,000 events.
    pub const LARGE: Size = Size {
        pods: 50_000,
        claims: 20_000,
        volumes: 20_000,
        nodes: 500,
        events: 200_000,
    };

    /// Every count divided by `d` (at least 3 nodes, one of everything else).
    pub fn divided(self, d: usize) -> Size {
        let d = d.max(1);
        Size {
            pods: (self.pods / d).max(1),
            claims: (self.claims / d).max(1),
            volumes: (self.volumes / d).max(1),
            nodes: (self.nodes / d).max(3),
            events: (self.events / d).max(1),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    pub size: Size,
    pub seed: u64,
    /// Broken units per thousand claims, spread over every [`Family`]
    /// (at least one of each).
    pub broken_per_mille: usize,
    /// Objects hit by an event storm.
    pub storms: usize,
    /// Events per storm.
    pub storm_events: usize,
    /// `metadata.managedFields` as the API server returns them (kubectl
    /// ≥1.21 hides them unless `--show-managed-fields`; API lists and older
    /// captures carry them).
    pub managed_fields: bool,
    /// Indented like kubectl (4 spaces); `false`: one compact line.
    pub pretty: bool,
    /// The fields only a server sets (`uid`, `resourceVersion`,
    /// `managedFields`, `ownerReferences`, the uids in references), as a
    /// capture has them; `false` leaves them out, so that `kubectl create -f`
    /// accepts the list (status is then the cluster's own business).
    pub server_fields: bool,
}

impl Config {
    /// 3% broken, four storms of 2% of the events each, managedFields,
    /// kubectl's indentation.
    pub fn new(size: Size) -> Self {
        Config {
            size,
            seed: 0x5eed_cafe,
            broken_per_mille: 30,
            storms: 4,
            storm_events: (size.events / 50).max(1),
            managed_fields: true,
            pretty: true,
            server_fields: true,
        }
    }
}

/// The rule families a broken unit is generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// A pod mounts a claim that does not exist.
    ClaimNotFound,
    /// A claim names a StorageClass that does not exist.
    StorageClassNotFound,
    /// A ReadWriteMany claim on a block-disk driver (EBS), no pod yet.
    AccessModeUnsupported,
    /// A claim waits for a provisioner that is not installed.
    ProvisionerNotResponding,
    /// A WaitForFirstConsumer claim nothing uses yet (info).
    WaitingForFirstConsumer,
    /// A rolling update puts a second pod of a RWO claim on another node.
    MultiAttach,
    /// The attacher reports an error.
    AttachFailed,
    /// The kubelet cannot mount an EFS volume (NFS server unreachable).
    MountFailed,
    /// A bound claim whose volume was deleted.
    ClaimLost,
    /// A volume Released under Retain, its claim deleted.
    PvReleasedRetained,
    /// The resizer refuses an expansion.
    ExpansionFailed,
}

impl Family {
    pub const ALL: [Family; 11] = [
        Family::ClaimNotFound,
        Family::StorageClassNotFound,
        Family::AccessModeUnsupported,
        Family::ProvisionerNotResponding,
        Family::WaitingForFirstConsumer,
        Family::MultiAttach,
        Family::AttachFailed,
        Family::MountFailed,
        Family::ClaimLost,
        Family::PvReleasedRetained,
        Family::ExpansionFailed,
    ];

    /// The rule id that must explain the subject (rank 1).
    pub fn rule(self) -> &'static str {
        match self {
            Family::ClaimNotFound => "claim-not-found",
            Family::StorageClassNotFound => "storageclass-not-found",
            Family::AccessModeUnsupported => "access-mode-unsupported",
            Family::ProvisionerNotResponding => "provisioner-not-responding",
            Family::WaitingForFirstConsumer => "waiting-for-first-consumer",
            Family::MultiAttach => "multi-attach",
            Family::AttachFailed => "attach-failed",
            Family::MountFailed => "mount-failed",
            Family::ClaimLost => "claim-lost",
            Family::PvReleasedRetained => "pv-released-retained",
            Family::ExpansionFailed => "expansion-failed",
        }
    }

    /// The severity of the subject's finding.
    pub fn severity(self) -> &'static str {
        match self {
            Family::WaitingForFirstConsumer => "info",
            Family::PvReleasedRetained => "warning",
            Family::ClaimLost => "critical",
            _ => "error",
        }
    }

    /// (pods, claims, volumes) one unit of the family creates.
    fn objects(self) -> (usize, usize, usize) {
        match self {
            Family::ClaimNotFound => (1, 0, 0),
            Family::StorageClassNotFound => (1, 1, 0),
            Family::AccessModeUnsupported => (0, 1, 0),
            Family::ProvisionerNotResponding => (1, 1, 0),
            Family::WaitingForFirstConsumer => (0, 1, 0),
            Family::MultiAttach => (2, 1, 1),
            Family::AttachFailed => (1, 1, 1),
            Family::MountFailed => (1, 1, 1),
            Family::ClaimLost => (1, 1, 0),
            Family::PvReleasedRetained => (0, 0, 1),
            Family::ExpansionFailed => (1, 1, 1),
        }
    }

    /// Events one unit of the family carries (storms aside).
    fn events(self) -> usize {
        match self {
            Family::ClaimNotFound
            | Family::AccessModeUnsupported
            | Family::WaitingForFirstConsumer => 1,
            Family::PvReleasedRetained => 0,
            Family::MultiAttach => 3,
            Family::ExpansionFailed => 4,
            _ => 2,
        }
    }
}

/// A subject broken on purpose, and how the diagnosis must report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// As the report's subject prints: `Pod/ns/name`, `PersistentVolume/name`.
    pub subject: String,
    pub family: Family,
}

impl Injected {
    pub fn rule(&self) -> &'static str {
        self.family.rule()
    }

    pub fn severity(&self) -> &'static str {
        self.family.severity()
    }
}

/// Objects written, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub pods: usize,
    pub claims: usize,
    pub volumes: usize,
    pub nodes: usize,
    pub events: usize,
    pub attachments: usize,
    /// Classes, CSI drivers, CSINodes, Deployments, ReplicaSets, StatefulSets.
    pub other: usize,
    /// Bytes written.
    pub bytes: u64,
}

impl Counts {
    pub fn objects(&self) -> usize {
        self.pods
            + self.claims
            + self.volumes
            + self.nodes
            + self.events
            + self.attachments
            + self.other
    }
}

/// What was generated: the broken subjects and the healthy pods.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub injected: Vec<Injected>,
    /// Pods with claims generated Running and Ready with everything bound,
    /// attached and mounted: subjects of the analysis with no finding.
    pub healthy_pods: Vec<String>,
    pub counts: Counts,
}

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

// ---- randomness: splitmix64 to derive per-object seeds, xorshift64* to draw

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(splitmix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8] = b"0123456789abcdef";
        (0..n)
            .map(|_| HEX[self.below(16) as usize] as char)
            .collect()
    }

    /// The alphabet of Kubernetes generated names (no vowels, no 0/1/3).
    fn kname(&mut self, n: usize) -> String {
        const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..n)
            .map(|_| ALPHA[self.below(ALPHA.len() as u64) as usize] as char)
            .collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-{}{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            ["8", "9", "a", "b"][self.below(4) as usize],
            self.hex(3),
            self.hex(12)
        )
    }
}

// ---- the plan: units of objects, placed in namespaces

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

struct Gen<'a> {
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

/// How a generated pod stands.
enum PodState<'a> {
    Running,
    ContainerCreating,
    Unschedulable(&'a str),
}

struct PodDesc<'a> {
    ns: &'a str,
    name: &'a str,
    uid: &'a str,
    /// (kind, name, uid) of the controller.
    owner: (&'a str, &'a str, &'a str),
    labels: Value,
    node: Option<usize>,
    /// (pod volume name, claim name).
    claims: &'a [(&'a str, &'a str)],
    image: &'a str,
    created: i64,
    state: PodState<'a>,
}

struct ClaimDesc<'a> {
    ns: &'a str,
    name: &'a str,
    uid: &'a str,
    class: &'a str,
    modes: &'a [&'a str],
    size: &'a str,
    created: i64,
    /// Bound: (volume, node selected for WaitForFirstConsumer).
    bound: Option<(&'a str, Option<usize>)>,
    provisioner: Option<&'a str>,
    labels: Value,
}

struct VolumeDesc<'a> {
    name: &'a str,
    class: &'a str,
    driver: &'a str,
    modes: &'a [&'a str],
    size: &'a str,
    /// (namespace, claim, claim uid).
    claim: Option<(&'a str, &'a str, &'a str)>,
    zone: Option<usize>,
    reclaim: &'a str,
    phase: &'a str,
    created: i64,
}

struct EventDesc<'a> {
    ns: &'a str,
    /// (apiVersion, kind, name, uid) of the object it is about.
    about: (&'a str, &'a str, &'a str, &'a str),
    reason: &'a str,
    message: &'a str,
    warning: bool,
    component: &'a str,
    host: Option<&'a str>,
    count: u32,
    first: i64,
    last: i64,
    /// Distinguishes events about the same object.
    n: u64,
}

impl<'a> Gen<'a> {
    fn new(cfg: &'a Config) -> Self {
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

    fn manifest(&self) -> Manifest {
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

    fn emit_all<W: Write>(&self, out: &mut Out<W>) -> io::Result<()> {
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

    // ---- names, uids and placement, the same in every pass

    fn rng(&self, u: &Placed, role: u64, i: u32) -> Rng {
        Rng::new(
            self.cfg.seed
                ^ splitmix(u64::from(u.id))
                ^ splitmix(role.wrapping_mul(0x1_0000) + u64::from(i)),
        )
    }

    fn uid(&self, u: &Placed, role: u64, i: u32) -> String {
        self.rng(u, role, i).uuid()
    }

    fn ns(&self, u: &Placed) -> &str {
        &self.namespaces[u.ns as usize]
    }

    fn node_of(&self, u: &Placed, i: u32) -> usize {
        (self.rng(u, 7, i).next() % self.nodes as u64) as usize
    }

    /// Another node in the zone of node `a` when there is one (a rolling
    /// update lands the new pod elsewhere in the volume's zone).
    fn neighbour(&self, a: usize) -> usize {
        if a + 3 < self.nodes {
            a + 3
        } else if a >= 3 {
            a - 3
        } else {
            (a + 1) % self.nodes
        }
    }

    fn node_name(&self, n: usize) -> String {
        let zone = n % 3;
        format!(
            "ip-10-0-{}-{}.ec2.internal",
            zone * 64 + (n / 3) / 250,
            (n / 3) % 250 + 4
        )
    }

    fn instance_id(&self, n: usize) -> String {
        format!("i-0{}", Rng::new(self.cfg.seed ^ 0x1d ^ n as u64).hex(16))
    }

    fn base_name(&self, u: &Placed) -> String {
        let word = match u.unit {
            Unit::Web { .. } => "web",
            Unit::Db { .. } => "db",
            Unit::Cms { .. } => "cms",
            Unit::Spare => "backup",
            Unit::LoosePv => "static",
            Unit::System { .. } => {
                return if u.id == 0 {
                    "ebs-csi-controller".into()
                } else {
                    "efs-csi-controller".into()
                }
            }
            Unit::Broken(f) => match f {
                Family::ClaimNotFound => "checkout",
                Family::StorageClassNotFound => "trainer",
                Family::AccessModeUnsupported => "shared-assets",
                Family::ProvisionerNotResponding => "docs-site",
                Family::WaitingForFirstConsumer => "model-cache",
                Family::MultiAttach => "api",
                Family::AttachFailed => "grafana",
                Family::MountFailed => "gitea",
                Family::ClaimLost => "metrics",
                Family::PvReleasedRetained => "clickhouse",
                Family::ExpansionFailed => "billing-db",
            },
        };
        format!("{word}-{}", u.id)
    }

    /// `<deployment>-<pod-template-hash>` of revision `rev`.
    fn replica_set_name(&self, u: &Placed, rev: u32) -> (String, String) {
        let hash = self.rng(u, 2, rev).kname(9);
        (format!("{}-{hash}", self.base_name(u)), hash)
    }

    fn deploy_pod_name(&self, u: &Placed, i: u32) -> String {
        self.deploy_pod_name_rev(u, 0, i)
    }

    fn deploy_pod_name_rev(&self, u: &Placed, rev: u32, i: u32) -> String {
        let (rs, _) = self.replica_set_name(u, rev);
        format!("{rs}-{}", self.rng(u, 3, rev * 1000 + i).kname(5))
    }

    fn db_pod_name(&self, u: &Placed, i: u32) -> String {
        format!("{}-{i}", self.base_name(u))
    }

    /// The pod a broken unit is about; `i` 1 is the new pod of a rolling update.
    fn broken_pod_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => self.db_pod_name(u, 0),
            Unit::Broken(Family::MultiAttach) => self.deploy_pod_name_rev(u, i, 0),
            _ => self.deploy_pod_name(u, 0),
        }
    }

    fn broken_claim_name(&self, u: &Placed) -> String {
        let base = self.base_name(u);
        match u.unit {
            Unit::Broken(Family::ClaimNotFound) => format!("{base}-date"),
            Unit::Broken(Family::StorageClassNotFound) => format!("{base}-checkpoints"),
            Unit::Broken(Family::ProvisionerNotResponding) => format!("{base}-content"),
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => {
                format!("data-{base}-0")
            }
            Unit::Broken(Family::ClaimLost | Family::MultiAttach) => format!("{base}-data"),
            _ => base,
        }
    }

    /// Claim `i` of a unit: `data-<sts>-<i>` for StatefulSets.
    fn claim_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::Db { .. } => format!("data-{}-{i}", self.base_name(u)),
            Unit::Cms { .. } => format!("{}-shared", self.base_name(u)),
            Unit::Spare => format!("{}-snapshots", self.base_name(u)),
            _ => self.broken_claim_name(u),
        }
    }

    fn claim_uid(&self, u: &Placed, i: u32) -> String {
        self.uid(u, 10, i)
    }

    /// Dynamically provisioned volumes are named after their claim's uid.
    fn volume_name(&self, u: &Placed, i: u32) -> String {
        match u.unit {
            Unit::LoosePv => format!("{}-{}", self.base_name(u), self.rng(u, 11, i).hex(6)),
            Unit::Broken(Family::PvReleasedRetained | Family::ClaimLost) => {
                format!("pvc-{}", self.uid(u, 12, i))
            }
            _ => format!("pvc-{}", self.claim_uid(u, i)),
        }
    }

    fn ts(&self, ago: i64) -> String {
        jiff::Timestamp::from_second(self.now - ago.max(0))
            .expect("in range")
            .to_string()
    }

    /// A `MicroTime` as the API server writes it: always six fractional
    /// digits (kube-apiserver rejects fewer in an object it is given).
    fn micro_ts(&self, ago: i64, salt: u64) -> String {
        let micros = (self.now - ago.max(1)) * 1_000_000 + (splitmix(salt) % 1_000_000) as i64;
        jiff::Timestamp::from_microsecond(micros)
            .expect("in range")
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
    }

    fn resource_version(&self, salt: u64) -> String {
        (40_000_000 + splitmix(self.cfg.seed ^ salt) % 30_000_000).to_string()
    }

    fn scheduler_message(&self, reason: &str) -> String {
        let n = self.nodes;
        format!(
            "0/{n} nodes are available: {reason}. preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
        )
    }

    // ---- managedFields, as the API server keeps them

    fn managed_fields_templates(&mut self) {
        if !self.cfg.managed_fields {
            return;
        }
        let entry = |manager: &str, subresource: Option<&str>, fields: Value| {
            let mut e = json!({
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
                "manager": manager,
                "operation": "Update",
                "time": NOW,
            });
            if let Some(s) = subresource {
                e["subresource"] = json!(s);
            }
            e
        };
        let condition = |t: &str| {
            (
                format!("k:{{\"type\":\"{t}\"}}"),
                json!({".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}),
            )
        };
        let conditions: serde_json::Map<String, Value> = [
            "ContainersReady",
            "Initialized",
            "PodReadyToStartContainers",
            "PodScheduled",
            "Ready",
        ]
        .into_iter()
        .map(condition)
        .chain([(".".to_string(), json!({}))])
        .collect();
        let container = json!({
            ".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
            "f:ports": {".": {}, "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
            "f:resources": {".": {}, "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
            "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {},
            "f:volumeMounts": {".": {}, "k:{\"mountPath\":\"/var/lib/data\"}": {".": {}, "f:mountPath": {}, "f:name": {}}}
        });
        let spec = json!({
            "f:containers": {"k:{\"name\":\"app\"}": container},
            "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {},
            "f:securityContext": {}, "f:terminationGracePeriodSeconds": {},
            "f:volumes": {".": {}, "k:{\"name\":\"data\"}": {".": {}, "f:name": {}, "f:persistentVolumeClaim": {".": {}, "f:claimName": {}}}}
        });
        let meta = json!({
            "f:generateName": {},
            "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
            "f:ownerReferences": {".": {}, "k:{\"uid\":\"00000000-0000-0000-0000-000000000000\"}": {}}
        });
        let status = json!({
            "f:conditions": conditions,
            "f:containerStatuses": {}, "f:hostIP": {}, "f:hostIPs": {}, "f:phase": {},
            "f:podIP": {}, "f:podIPs": {".": {}, "k:{\"ip\":\"10.0.0.1\"}": {".": {}, "f:ip": {}}},
            "f:startTime": {}
        });
        self.pod_mf = json!([
            entry(
                "kube-controller-manager",
                None,
                json!({"f:metadata": meta, "f:spec": spec})
            ),
            entry("kubelet", Some("status"), json!({"f:status": status})),
        ]);
        self.claim_mf = json!([
            entry(
                "kubectl-client-side-apply",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}, "f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {"f:accessModes": {}, "f:resources": {"f:requests": {".": {}, "f:storage": {}}}, "f:storageClassName": {}, "f:volumeMode": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                None,
                json!({
                    "f:metadata": {"f:annotations": {"f:pv.kubernetes.io/bind-completed": {}, "f:pv.kubernetes.io/bound-by-controller": {}, "f:volume.beta.kubernetes.io/storage-provisioner": {}, "f:volume.kubernetes.io/storage-provisioner": {}}},
                    "f:spec": {"f:volumeName": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({
                    "f:status": {"f:accessModes": {}, "f:capacity": {".": {}, "f:storage": {}}, "f:phase": {}}
                })
            ),
        ]);
        self.volume_mf = json!([
            entry(
                "csi-provisioner",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:pv.kubernetes.io/provisioned-by": {}, "f:volume.kubernetes.io/provisioner-deletion-secret-name": {}, "f:volume.kubernetes.io/provisioner-deletion-secret-namespace": {}}},
                    "f:spec": {"f:accessModes": {}, "f:capacity": {".": {}, "f:storage": {}}, "f:claimRef": {".": {}, "f:apiVersion": {}, "f:kind": {}, "f:name": {}, "f:namespace": {}, "f:resourceVersion": {}, "f:uid": {}},
                        "f:csi": {".": {}, "f:driver": {}, "f:fsType": {}, "f:volumeAttributes": {".": {}, "f:storage.kubernetes.io/csiProvisionerIdentity": {}}, "f:volumeHandle": {}},
                        "f:nodeAffinity": {".": {}, "f:required": {}}, "f:persistentVolumeReclaimPolicy": {}, "f:storageClassName": {}, "f:volumeMode": {}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({"f:status": {"f:phase": {}}})
            ),
        ]);
        let node_condition = |t: &str| {
            (
                format!("k:{{\"type\":\"{t}\"}}"),
                json!({"f:lastHeartbeatTime": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:reason": {}, "f:status": {}}),
            )
        };
        let node_conditions: serde_json::Map<String, Value> =
            ["DiskPressure", "MemoryPressure", "PIDPressure", "Ready"]
                .into_iter()
                .map(node_condition)
                .collect();
        self.node_mf = json!([
            entry(
                "kubelet",
                None,
                json!({
                    "f:metadata": {"f:annotations": {".": {}, "f:alpha.kubernetes.io/provided-node-ip": {}, "f:node.alpha.kubernetes.io/ttl": {}, "f:volumes.kubernetes.io/controller-managed-attach-detach": {}},
                        "f:labels": {".": {}, "f:beta.kubernetes.io/arch": {}, "f:beta.kubernetes.io/instance-type": {}, "f:beta.kubernetes.io/os": {}, "f:failure-domain.beta.kubernetes.io/region": {}, "f:failure-domain.beta.kubernetes.io/zone": {}, "f:kubernetes.io/arch": {}, "f:kubernetes.io/hostname": {}, "f:kubernetes.io/os": {}, "f:node.kubernetes.io/instance-type": {}, "f:topology.kubernetes.io/region": {}, "f:topology.kubernetes.io/zone": {}}},
                    "f:spec": {"f:providerID": {}}
                })
            ),
            entry(
                "aws-ebs-csi-driver",
                None,
                json!({
                    "f:metadata": {"f:annotations": {"f:csi.volume.kubernetes.io/nodeid": {}}, "f:labels": {"f:topology.ebs.csi.aws.com/zone": {}}}
                })
            ),
            entry(
                "kube-controller-manager",
                Some("status"),
                json!({
                    "f:status": {"f:volumesAttached": {}}
                })
            ),
            entry(
                "kubelet",
                Some("status"),
                json!({
                    "f:status": {"f:allocatable": {"f:cpu": {}, "f:ephemeral-storage": {}, "f:memory": {}, "f:pods": {}},
                        "f:capacity": {"f:cpu": {}, "f:ephemeral-storage": {}, "f:memory": {}, "f:pods": {}},
                        "f:conditions": node_conditions, "f:images": {}, "f:nodeInfo": {"f:bootID": {}, "f:kernelVersion": {}, "f:osImage": {}}, "f:volumesInUse": {}}
                })
            ),
        ]);
        self.event_mf = json!([entry(
            "kubelet",
            None,
            json!({
                "f:count": {}, "f:firstTimestamp": {}, "f:involvedObject": {}, "f:lastTimestamp": {},
                "f:message": {}, "f:reason": {}, "f:reportingComponent": {}, "f:source": {"f:component": {}, "f:host": {}}, "f:type": {}
            })
        )]);
    }

    fn with_managed_fields(&self, meta: &mut Value, template: &Value, created: i64) {
        if !self.cfg.managed_fields {
            return;
        }
        let mut mf = template.clone();
        let time = self.ts(created);
        for e in mf.as_array_mut().into_iter().flatten() {
            e["time"] = json!(time);
        }
        meta["managedFields"] = mf;
    }

    // ---- object builders

    fn pod(&self, p: &PodDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(p.uid));
        let token = format!("kube-api-access-{}", rng.kname(5));
        let mut volumes: Vec<Value> = p
            .claims
            .iter()
            .map(|(v, c)| json!({"name": v, "persistentVolumeClaim": {"claimName": c}}))
            .collect();
        volumes.push(json!({
            "name": token,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                    {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
                ]
            }
        }));
        let mut mounts: Vec<Value> = p
            .claims
            .iter()
            .map(|(v, _)| json!({"mountPath": format!("/var/lib/{v}"), "name": v}))
            .collect();
        mounts.push(json!({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": token, "readOnly": true}));
        let container = p.owner.1.split('-').next().unwrap_or("app");
        let mut spec = json!({
            "containers": [{
                "image": p.image,
                "imagePullPolicy": "IfNotPresent",
                "name": container,
                "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": mounts
            }],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "serviceAccount": "default",
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
                {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ],
            "volumes": volumes
        });
        let started = p.created - 1;
        let ready_at = p.created - 20;
        let cond = |t: &str, ok: bool, at: i64| json!({"lastProbeTime": null, "lastTransitionTime": self.ts(at), "status": if ok {"True"} else {"False"}, "type": t});
        let host_ip = |n: usize| format!("10.0.{}.{}", (n % 3) * 64 + n / 750, n % 250 + 4);
        let status = match (&p.state, p.node) {
            (PodState::Running, Some(n)) => {
                let pod_ip = format!("10.0.{}.{}", rng.below(192), rng.below(250) + 4);
                json!({
                    "conditions": [
                        cond("PodReadyToStartContainers", true, ready_at),
                        cond("Initialized", true, started),
                        cond("Ready", true, ready_at),
                        cond("ContainersReady", true, ready_at),
                        cond("PodScheduled", true, started)
                    ],
                    "containerStatuses": [{
                        "containerID": format!("containerd://{}", rng.hex(64)),
                        "image": p.image,
                        "imageID": format!("{}@sha256:{}", p.image.split(':').next().unwrap_or(""), rng.hex(64)),
                        "lastState": {},
                        "name": container,
                        "ready": true,
                        "restartCount": 0,
                        "started": true,
                        "state": {"running": {"startedAt": self.ts(ready_at)}}
                    }],
                    "hostIP": host_ip(n),
                    "hostIPs": [{"ip": host_ip(n)}],
                    "phase": "Running",
                    "podIP": pod_ip,
                    "podIPs": [{"ip": pod_ip}],
                    "qosClass": "Burstable",
                    "startTime": self.ts(started)
                })
            }
            (PodState::ContainerCreating, Some(n)) => {
                let mut not_ready = cond("Ready", false, started);
                not_ready["message"] =
                    json!(format!("containers with unready status: [{container}]"));
                not_ready["reason"] = json!("ContainersNotReady");
                let mut containers_not_ready = not_ready.clone();
                containers_not_ready["type"] = json!("ContainersReady");
                json!({
                    "conditions": [
                        cond("PodReadyToStartContainers", false, started),
                        cond("Initialized", true, started),
                        not_ready,
                        containers_not_ready,
                        cond("PodScheduled", true, started)
                    ],
                    "containerStatuses": [{
                        "image": p.image,
                        "imageID": "",
                        "lastState": {},
                        "name": container,
                        "ready": false,
                        "restartCount": 0,
                        "started": false,
                        "state": {"waiting": {"reason": "ContainerCreating"}}
                    }],
                    "hostIP": host_ip(n),
                    "hostIPs": [{"ip": host_ip(n)}],
                    "phase": "Pending",
                    "qosClass": "Burstable",
                    "startTime": self.ts(started)
                })
            }
            (PodState::Unschedulable(message), _) => {
                let mut c = cond("PodScheduled", false, started);
                c["message"] = json!(message);
                c["reason"] = json!("Unschedulable");
                json!({"conditions": [c], "phase": "Pending", "qosClass": "Burstable"})
            }
            (_, None) => json!({"phase": "Pending", "qosClass": "Burstable"}),
        };
        if let (Some(n), false) = (p.node, matches!(p.state, PodState::Unschedulable(_))) {
            spec["nodeName"] = json!(self.node_name(n));
        }
        let mut meta = json!({
            "creationTimestamp": self.ts(p.created),
            "labels": p.labels,
            "name": p.name,
            "namespace": p.ns,
            "ownerReferences": [{
                "apiVersion": "apps/v1",
                "blockOwnerDeletion": true,
                "controller": true,
                "kind": p.owner.0,
                "name": p.owner.1,
                "uid": p.owner.2
            }],
            "resourceVersion": self.resource_version(hash(p.uid)),
            "uid": p.uid
        });
        if p.owner.0 == "ReplicaSet" {
            meta["generateName"] = json!(format!("{}-", p.owner.1));
        }
        self.with_managed_fields(&mut meta, &self.pod_mf, p.created);
        out.item(
            Kind::Pod,
            &json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}),
        )
    }

    fn claim(&self, c: &ClaimDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut annotations = serde_json::Map::new();
        if let Some(p) = c.provisioner {
            annotations.insert(
                "volume.beta.kubernetes.io/storage-provisioner".into(),
                json!(p),
            );
            annotations.insert("volume.kubernetes.io/storage-provisioner".into(), json!(p));
        }
        let mut spec = json!({
            "accessModes": c.modes,
            "resources": {"requests": {"storage": c.size}},
            "storageClassName": c.class,
            "volumeMode": "Filesystem"
        });
        let status = match c.bound {
            Some((volume, node)) => {
                annotations.insert("pv.kubernetes.io/bind-completed".into(), json!("yes"));
                annotations.insert("pv.kubernetes.io/bound-by-controller".into(), json!("yes"));
                if let Some(n) = node {
                    annotations.insert(
                        "volume.kubernetes.io/selected-node".into(),
                        json!(self.node_name(n)),
                    );
                }
                spec["volumeName"] = json!(volume);
                json!({"accessModes": c.modes, "capacity": {"storage": c.size}, "phase": "Bound"})
            }
            None => json!({"phase": "Pending"}),
        };
        let mut meta = json!({
            "annotations": annotations,
            "creationTimestamp": self.ts(c.created),
            "finalizers": ["kubernetes.io/pvc-protection"],
            "labels": c.labels,
            "name": c.name,
            "namespace": c.ns,
            "resourceVersion": self.resource_version(hash(c.uid)),
            "uid": c.uid
        });
        self.with_managed_fields(&mut meta, &self.claim_mf, c.created);
        out.item(
            Kind::Claim,
            &json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec, "status": status}),
        )
    }

    fn claim_value(&self, c: &ClaimDesc) -> Value {
        let mut bytes = Vec::new();
        let mut out = Out::new(&mut bytes, false);
        self.claim(c, &mut out).expect("in memory");
        serde_json::from_slice(&bytes).expect("valid JSON")
    }

    fn volume(&self, v: &VolumeDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(v.name));
        let csi = match v.driver {
            "efs.csi.aws.com" => json!({
                "driver": v.driver,
                "volumeHandle": format!("fs-0{}::fsap-0{}", rng.hex(16), rng.hex(16))
            }),
            _ => json!({
                "driver": v.driver,
                "fsType": "ext4",
                "volumeAttributes": {"storage.kubernetes.io/csiProvisionerIdentity": format!("1762214771093-9245-{}", v.driver)},
                "volumeHandle": format!("vol-0{}", rng.hex(16))
            }),
        };
        let mut spec = json!({
            "accessModes": v.modes,
            "capacity": {"storage": v.size},
            "csi": csi,
            "persistentVolumeReclaimPolicy": v.reclaim,
            "storageClassName": v.class,
            "volumeMode": "Filesystem"
        });
        if let Some((ns, name, uid)) = v.claim {
            spec["claimRef"] = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": name,
                "namespace": ns,
                "resourceVersion": self.resource_version(hash(uid) ^ 1),
                "uid": uid
            });
        }
        if let Some(z) = v.zone {
            spec["nodeAffinity"] = json!({"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [ZONES[z % 3]]}
            ]}]}});
        }
        let uid = rng.uuid();
        let mut meta = json!({
            "annotations": {
                "pv.kubernetes.io/provisioned-by": v.driver,
                "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""
            },
            "creationTimestamp": self.ts(v.created),
            "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
            "name": v.name,
            "resourceVersion": self.resource_version(hash(v.name)),
            "uid": uid
        });
        self.with_managed_fields(&mut meta, &self.volume_mf, v.created);
        out.item(
            Kind::Volume,
            &json!({
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": meta,
                "spec": spec,
                "status": {"lastPhaseTransitionTime": self.ts(v.created), "phase": v.phase}
            }),
        )
    }

    fn attachment(
        &self,
        volume: &str,
        node: usize,
        created: i64,
        error: Option<(&str, i64)>,
        out: &mut Out<impl Write>,
    ) -> io::Result<()> {
        let mut rng = Rng::new(self.cfg.seed ^ hash(volume) ^ node as u64);
        let status = match error {
            None => json!({"attached": true, "attachmentMetadata": {"devicePath": "/dev/xvdaa"}}),
            Some((message, at)) => json!({
                "attachError": {"message": message, "time": self.ts(at)},
                "attached": false
            }),
        };
        out.item(
            Kind::Attachment,
            &json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "VolumeAttachment",
                "metadata": {
                    "annotations": {"csi.alpha.kubernetes.io/node-id": self.instance_id(node)},
                    "creationTimestamp": self.ts(created),
                    "finalizers": ["external-attacher/ebs-csi-aws-com"],
                    "name": format!("csi-{}", rng.hex(64)),
                    "resourceVersion": self.resource_version(rng.next()),
                    "uid": rng.uuid()
                },
                "spec": {
                    "attacher": "ebs.csi.aws.com",
                    "nodeName": self.node_name(node),
                    "source": {"persistentVolumeName": volume}
                },
                "status": status
            }),
        )
    }

    fn event(&self, e: &EventDesc, out: &mut Out<impl Write>) -> io::Result<()> {
        let salt = hash(e.about.3) ^ splitmix(e.n);
        let mut rng = Rng::new(self.cfg.seed ^ salt);
        let name = format!("{}.{}", e.about.2, rng.hex(16));
        let mut source = json!({"component": e.component});
        if let Some(h) = e.host {
            source["host"] = json!(h);
        }
        let mut meta = json!({
            "creationTimestamp": self.ts(e.first),
            "name": name,
            "namespace": e.ns,
            "resourceVersion": self.resource_version(salt),
            "uid": rng.uuid()
        });
        self.with_managed_fields(&mut meta, &self.event_mf, e.first);
        let mut v = json!({
            "apiVersion": "v1",
            "involvedObject": {
                "apiVersion": e.about.0,
                "kind": e.about.1,
                "name": e.about.2,
                "namespace": e.ns,
                "resourceVersion": self.resource_version(hash(e.about.3)),
                "uid": e.about.3
            },
            "kind": "Event",
            "message": e.message,
            "metadata": meta,
            "reason": e.reason,
            "reportingComponent": e.component,
            "reportingInstance": e.host.unwrap_or(""),
            "source": source,
            "type": if e.warning { "Warning" } else { "Normal" }
        });
        if e.component == "default-scheduler" {
            // The scheduler posts events.k8s.io events: eventTime and series.
            v["action"] = json!(if e.reason == "Scheduled" {
                "Binding"
            } else {
                "Scheduling"
            });
            v["eventTime"] = json!(self.micro_ts(e.first, salt));
            v["firstTimestamp"] = Value::Null;
            v["lastTimestamp"] = Value::Null;
            v["reportingInstance"] = json!("default-scheduler-ip-172-16-51-208.ec2.internal");
            v["source"] = json!({});
            if e.count > 1 {
                v["series"] =
                    json!({"count": e.count, "lastObservedTime": self.micro_ts(e.last, salt ^ 1)});
            }
        } else {
            v["count"] = json!(e.count);
            v["eventTime"] = Value::Null;
            v["firstTimestamp"] = json!(self.ts(e.first));
            v["lastTimestamp"] = json!(self.ts(e.last));
        }
        out.item(Kind::Event, &v)
    }

    // ---- passes, one per kind

    fn pods(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        match u.unit {
            Unit::Web { replicas } | Unit::System { replicas } => {
                let (rs, hash) = self.replica_set_name(u, 0);
                let rs_uid = self.uid(u, 20, 0);
                for i in 0..replicas {
                    let name = self.deploy_pod_name(u, i);
                    let image = if matches!(u.unit, Unit::System { .. }) {
                        "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.37.0"
                    } else {
                        "ghcr.io/acme/web:3.14.1"
                    };
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &name,
                            uid: &self.uid(u, 30, i),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(self.node_of(u, i)),
                            claims: &[],
                            image,
                            created: 86_400 * 3 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Db { replicas } => {
                let sts_uid = self.uid(u, 21, 0);
                for i in 0..replicas {
                    let claim = self.claim_name(u, i);
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.db_pod_name(u, i),
                            uid: &self.uid(u, 30, i),
                            owner: ("StatefulSet", &base, &sts_uid),
                            labels: json!({"app": base, "statefulset.kubernetes.io/pod-name": self.db_pod_name(u, i)}),
                            node: Some(self.node_of(u, i)),
                            claims: &[("data", &claim)],
                            image: "docker.io/library/postgres:16.4",
                            created: 86_400 * 10 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Cms { replicas } => {
                let (rs, hash) = self.replica_set_name(u, 0);
                let rs_uid = self.uid(u, 20, 0);
                let claim = self.claim_name(u, 0);
                for i in 0..replicas {
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.deploy_pod_name(u, i),
                            uid: &self.uid(u, 30, i),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(self.node_of(u, i)),
                            claims: &[("content", &claim)],
                            image: "ghcr.io/acme/cms:5.2.0",
                            created: 86_400 * 2 + i64::from(u.id % 5000),
                            state: PodState::Running,
                        },
                        out,
                    )?;
                }
            }
            Unit::Broken(f) => self.broken_pods(u, f, out)?,
            Unit::Spare | Unit::LoosePv => {}
        }
        Ok(())
    }

    fn broken_pods(&self, u: &Placed, f: Family, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let claim = self.broken_claim_name(u);
        let (rs, hash) = self.replica_set_name(u, 0);
        let rs_uid = self.uid(u, 20, 0);
        let labels = json!({"app": base, "pod-template-hash": hash});
        let pod = |name: &str, claims: &[(&str, &str)], node, created, state, out: &mut Out<_>| {
            self.pod(
                &PodDesc {
                    ns,
                    name,
                    uid: &self.uid(u, 30, 0),
                    owner: ("ReplicaSet", &rs, &rs_uid),
                    labels: labels.clone(),
                    node,
                    claims,
                    image: "ghcr.io/acme/app:2.7.4",
                    created,
                    state,
                },
                out,
            )
        };
        let name = self.broken_pod_name(u, 0);
        match f {
            Family::ClaimNotFound => {
                let m =
                    self.scheduler_message(&format!("persistentvolumeclaim \"{claim}\" not found"));
                pod(
                    &name,
                    &[("data", &claim)],
                    None,
                    300,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::StorageClassNotFound | Family::ProvisionerNotResponding => {
                let m = self.scheduler_message("pod has unbound immediate PersistentVolumeClaims");
                pod(
                    &name,
                    &[("data", &claim)],
                    None,
                    2100,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::ClaimLost => {
                let m = self.scheduler_message(&format!(
                    "persistentvolumeclaim \"{claim}\" bound to non-existent persistentvolume \"{}\"",
                    self.volume_name(u, 0)
                ));
                pod(
                    &name,
                    &[("storage", &claim)],
                    None,
                    1700,
                    PodState::Unschedulable(&m),
                    out,
                )?;
            }
            Family::AttachFailed => {
                let node = Some(self.node_of(u, 0));
                pod(
                    &name,
                    &[("storage", &claim)],
                    node,
                    2220,
                    PodState::ContainerCreating,
                    out,
                )?;
            }
            Family::MultiAttach => {
                let (old_rs, old_hash) = self.replica_set_name(u, 0);
                let (new_rs, new_hash) = self.replica_set_name(u, 1);
                let a = self.node_of(u, 0);
                for (i, (rs, hash, node, created, state)) in [
                    (old_rs, old_hash, a, 86_400 * 2, PodState::Running),
                    (
                        new_rs,
                        new_hash,
                        self.neighbour(a),
                        120,
                        PodState::ContainerCreating,
                    ),
                ]
                .into_iter()
                .enumerate()
                {
                    let rs_uid = self.uid(u, 20, i as u32);
                    self.pod(
                        &PodDesc {
                            ns,
                            name: &self.broken_pod_name(u, i as u32),
                            uid: &self.uid(u, 30, i as u32),
                            owner: ("ReplicaSet", &rs, &rs_uid),
                            labels: json!({"app": base, "pod-template-hash": hash}),
                            node: Some(node),
                            claims: &[("data", &claim)],
                            image: "ghcr.io/acme/api:4.12.0",
                            created,
                            state,
                        },
                        out,
                    )?;
                }
            }
            Family::MountFailed | Family::ExpansionFailed => {
                let sts_uid = self.uid(u, 21, 0);
                let (created, state) = if f == Family::MountFailed {
                    (1800, PodState::ContainerCreating)
                } else {
                    (86_400 * 10, PodState::Running)
                };
                self.pod(
                    &PodDesc {
                        ns,
                        name: &name,
                        uid: &self.uid(u, 30, 0),
                        owner: ("StatefulSet", &base, &sts_uid),
                        labels: json!({"app": base, "statefulset.kubernetes.io/pod-name": name}),
                        node: Some(self.node_of(u, 0)),
                        claims: &[("data", &claim)],
                        image: "docker.gitea.com/gitea:1.22.3-rootless",
                        created,
                        state,
                    },
                    out,
                )?;
            }
            Family::AccessModeUnsupported
            | Family::WaitingForFirstConsumer
            | Family::PvReleasedRetained => {}
        }
        Ok(())
    }

    fn claims(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let rwo: &[&str] = &["ReadWriteOnce"];
        let rwx: &[&str] = &["ReadWriteMany"];
        let ebs = Some("ebs.csi.aws.com");
        let labels = json!({"app": base});
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    self.claim(
                        &ClaimDesc {
                            ns,
                            name: &self.claim_name(u, i),
                            uid: &self.claim_uid(u, i),
                            class: "gp3",
                            modes: rwo,
                            size: "20Gi",
                            created: 86_400 * 40 + i64::from(u.id),
                            bound: Some((&self.volume_name(u, i), Some(self.node_of(u, i)))),
                            provisioner: ebs,
                            labels: labels.clone(),
                        },
                        out,
                    )?;
                }
            }
            Unit::Cms { .. } => self.claim(
                &ClaimDesc {
                    ns,
                    name: &self.claim_name(u, 0),
                    uid: &self.claim_uid(u, 0),
                    class: "efs-sc",
                    modes: rwx,
                    size: "5Gi",
                    created: 86_400 * 30 + i64::from(u.id),
                    bound: Some((&self.volume_name(u, 0), None)),
                    provisioner: Some("efs.csi.aws.com"),
                    labels,
                },
                out,
            )?,
            Unit::Spare => self.claim(
                &ClaimDesc {
                    ns,
                    name: &self.claim_name(u, 0),
                    uid: &self.claim_uid(u, 0),
                    class: "gp3-retain",
                    modes: rwo,
                    size: "50Gi",
                    created: 86_400 * 20 + i64::from(u.id),
                    bound: Some((&self.volume_name(u, 0), Some(self.node_of(u, 0)))),
                    provisioner: ebs,
                    labels,
                },
                out,
            )?,
            Unit::Broken(f) => {
                let name = self.broken_claim_name(u);
                let uid = self.claim_uid(u, 0);
                let volume = self.volume_name(u, 0);
                let node = Some(self.node_of(u, 0));
                let mut c = ClaimDesc {
                    ns,
                    name: &name,
                    uid: &uid,
                    class: "gp3",
                    modes: rwo,
                    size: "20Gi",
                    created: 86_400 * 30,
                    bound: Some((&volume, node)),
                    provisioner: ebs,
                    labels,
                };
                match f {
                    Family::ClaimNotFound | Family::PvReleasedRetained => return Ok(()),
                    Family::StorageClassNotFound => {
                        c.class = "fast-ssd";
                        c.size = "500Gi";
                        c.created = 2101;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::AccessModeUnsupported => {
                        c.modes = rwx;
                        c.size = "100Gi";
                        c.created = 600;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::ProvisionerNotResponding => {
                        c.class = "nfs-csi";
                        c.modes = rwx;
                        c.size = "50Gi";
                        c.created = 2101;
                        c.bound = None;
                        c.provisioner = Some("nfs.csi.k8s.io");
                    }
                    Family::WaitingForFirstConsumer => {
                        c.size = "100Gi";
                        c.created = 1200;
                        c.bound = None;
                        c.provisioner = None;
                    }
                    Family::MountFailed => {
                        c.class = "efs-sc";
                        c.modes = rwx;
                        c.size = "20Gi";
                        c.bound = Some((&volume, None));
                        c.provisioner = Some("efs.csi.aws.com");
                    }
                    Family::ClaimLost => {
                        let mut v = self.claim_value(&c);
                        v["status"] = json!({"phase": "Lost"});
                        return out.item(Kind::Claim, &v);
                    }
                    Family::ExpansionFailed => {
                        // Raised from 100Gi to 200Gi; the resizer is refused.
                        c.size = "100Gi";
                        let mut v = self.claim_value(&c);
                        v["spec"]["resources"]["requests"]["storage"] = json!("200Gi");
                        let message = self.resize_error(u);
                        v["status"]["allocatedResourceStatuses"] =
                            json!({"storage": "ControllerResizeInProgress"});
                        v["status"]["allocatedResources"] = json!({"storage": "200Gi"});
                        v["status"]["conditions"] = json!([{
                            "lastProbeTime": null,
                            "lastTransitionTime": self.ts(1380),
                            "message": message,
                            "status": "True",
                            "type": "ControllerResizeError"
                        }]);
                        return out.item(Kind::Claim, &v);
                    }
                    Family::MultiAttach | Family::AttachFailed => {}
                }
                self.claim(&c, out)?;
            }
            Unit::Web { .. } | Unit::System { .. } | Unit::LoosePv => {}
        }
        Ok(())
    }

    fn resize_error(&self, u: &Placed) -> String {
        let mut rng = self.rng(u, 40, 0);
        let vol = format!(
            "vol-0{}",
            Rng::new(self.cfg.seed ^ hash(&self.volume_name(u, 0))).hex(16)
        );
        format!(
            "resize volume \"{pv}\" by resizer \"ebs.csi.aws.com\" failed: rpc error: code = Internal desc = Could not resize volume \"{vol}\": rpc error: code = Internal desc = Could not modify volume \"{vol}\": operation error EC2: ModifyVolume, https response error StatusCode: 400, RequestID: {rid}, api error VolumeModificationRateExceeded: You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.",
            pv = self.volume_name(u, 0),
            rid = rng.uuid()
        )
    }

    fn volumes(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let rwo: &[&str] = &["ReadWriteOnce"];
        let rwx: &[&str] = &["ReadWriteMany"];
        let ebs_volume = |i: u32, size, class, reclaim, out: &mut Out<_>| {
            let claim = self.claim_name(u, i);
            let uid = self.claim_uid(u, i);
            self.volume(
                &VolumeDesc {
                    name: &self.volume_name(u, i),
                    class,
                    driver: "ebs.csi.aws.com",
                    modes: rwo,
                    size,
                    claim: Some((ns, &claim, &uid)),
                    zone: Some(self.node_of(u, i) % 3),
                    reclaim,
                    phase: "Bound",
                    created: 86_400 * 20,
                },
                out,
            )
        };
        let efs_volume = |out: &mut Out<_>| {
            let claim = self.claim_name(u, 0);
            let uid = self.claim_uid(u, 0);
            self.volume(
                &VolumeDesc {
                    name: &self.volume_name(u, 0),
                    class: "efs-sc",
                    driver: "efs.csi.aws.com",
                    modes: rwx,
                    size: if matches!(u.unit, Unit::Cms { .. }) {
                        "5Gi"
                    } else {
                        "20Gi"
                    },
                    claim: Some((ns, &claim, &uid)),
                    zone: None,
                    reclaim: "Delete",
                    phase: "Bound",
                    created: 86_400 * 20,
                },
                out,
            )
        };
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    ebs_volume(i, "20Gi", "gp3", "Delete", out)?;
                }
            }
            Unit::Spare => ebs_volume(0, "50Gi", "gp3-retain", "Retain", out)?,
            Unit::Cms { .. } | Unit::Broken(Family::MountFailed) => efs_volume(out)?,
            Unit::Broken(Family::MultiAttach | Family::AttachFailed) => {
                ebs_volume(0, "20Gi", "gp3", "Delete", out)?
            }
            Unit::Broken(Family::ExpansionFailed) => ebs_volume(0, "100Gi", "gp3", "Delete", out)?,
            Unit::Broken(Family::PvReleasedRetained) => {
                let claim = format!("{}-data", self.base_name(u));
                let uid = self.claim_uid(u, 0);
                self.volume(
                    &VolumeDesc {
                        name: &self.volume_name(u, 0),
                        class: "gp3-retain",
                        driver: "ebs.csi.aws.com",
                        modes: rwo,
                        size: "200Gi",
                        claim: Some((ns, &claim, &uid)),
                        zone: Some(self.node_of(u, 0) % 3),
                        reclaim: "Retain",
                        phase: "Released",
                        created: 86_400 * 200,
                    },
                    out,
                )?;
            }
            Unit::LoosePv => {
                self.volume(
                    &VolumeDesc {
                        name: &self.volume_name(u, 0),
                        class: "gp3-retain",
                        driver: "ebs.csi.aws.com",
                        modes: rwo,
                        size: "100Gi",
                        claim: None,
                        zone: Some(self.node_of(u, 0) % 3),
                        reclaim: "Retain",
                        phase: "Available",
                        created: 86_400 * 60,
                    },
                    out,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    fn attachments(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        match u.unit {
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    self.attachment(
                        &self.volume_name(u, i),
                        self.node_of(u, i),
                        86_400 * 10,
                        None,
                        out,
                    )?;
                }
            }
            Unit::Broken(Family::MultiAttach | Family::ExpansionFailed) => {
                self.attachment(
                    &self.volume_name(u, 0),
                    self.node_of(u, 0),
                    86_400 * 2,
                    None,
                    out,
                )?;
            }
            Unit::Broken(Family::AttachFailed) => {
                let message = self.attach_error(u);
                self.attachment(
                    &self.volume_name(u, 0),
                    self.node_of(u, 0),
                    2219,
                    Some((&message, 720)),
                    out,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    fn attach_error(&self, u: &Placed) -> String {
        let vol = format!(
            "vol-0{}",
            Rng::new(self.cfg.seed ^ hash(&self.volume_name(u, 0))).hex(16)
        );
        format!(
            "rpc error: code = Internal desc = Could not attach volume \"{vol}\" to node \"{}\": attachment of disk \"{vol}\" failed, expected device to be attached but was attaching",
            self.instance_id(self.node_of(u, 0))
        )
    }

    fn classes(&self, out: &mut Out<impl Write>) -> io::Result<()> {
        let class = |name: &str,
                     provisioner: &str,
                     default: bool,
                     reclaim: &str,
                     mode: &str,
                     expand: bool,
                     parameters: Value| {
            let mut meta = json!({
                "creationTimestamp": "2025-10-16T10:30:00Z",
                "name": name,
                "resourceVersion": self.resource_version(hash(name)),
                "uid": Rng::new(self.cfg.seed ^ hash(name)).uuid()
            });
            if default {
                meta["annotations"] =
                    json!({"storageclass.kubernetes.io/is-default-class": "true"});
            }
            json!({
                "allowVolumeExpansion": expand,
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": meta,
                "parameters": parameters,
                "provisioner": provisioner,
                "reclaimPolicy": reclaim,
                "volumeBindingMode": mode
            })
        };
        let wffc = "WaitForFirstConsumer";
        for sc in [
            class(
                "gp2",
                "kubernetes.io/aws-ebs",
                false,
                "Delete",
                wffc,
                false,
                json!({"fsType": "ext4", "type": "gp2"}),
            ),
            class(
                "gp3",
                "ebs.csi.aws.com",
                true,
                "Delete",
                wffc,
                true,
                json!({"encrypted": "true", "fsType": "ext4", "type": "gp3"}),
            ),
            class(
                "gp3-retain",
                "ebs.csi.aws.com",
                false,
                "Retain",
                wffc,
                true,
                json!({"encrypted": "true", "fsType": "ext4", "type": "gp3"}),
            ),
            class(
                "efs-sc",
                "efs.csi.aws.com",
                false,
                "Delete",
                "Immediate",
                false,
                json!({"directoryPerms": "700", "fileSystemId": "fs-0a1b2c3d4e5f60718", "provisioningMode": "efs-ap"}),
            ),
            // Its provisioner (csi-driver-nfs) is not installed: claims wait forever.
            class(
                "nfs-csi",
                "nfs.csi.k8s.io",
                false,
                "Delete",
                "Immediate",
                true,
                json!({"server": "nfs.storage.internal", "share": "/exports/k8s"}),
            ),
        ] {
            out.item(Kind::Other, &sc)?;
        }
        Ok(())
    }

    fn csi_drivers(&self, out: &mut Out<impl Write>) -> io::Result<()> {
        for (name, attach) in [("ebs.csi.aws.com", true), ("efs.csi.aws.com", false)] {
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "CSIDriver",
                    "metadata": {
                        "creationTimestamp": "2026-01-24T10:30:00Z",
                        "labels": {"app.kubernetes.io/component": "csi-driver", "app.kubernetes.io/managed-by": "EKS"},
                        "name": name,
                        "resourceVersion": self.resource_version(hash(name)),
                        "uid": Rng::new(self.cfg.seed ^ hash(name) ^ 1).uuid()
                    },
                    "spec": {
                        "attachRequired": attach,
                        "fsGroupPolicy": if attach { "ReadWriteOnceWithFSType" } else { "File" },
                        "podInfoOnMount": false,
                        "requiresRepublish": false,
                        "seLinuxMount": false,
                        "storageCapacity": false,
                        "volumeLifecycleModes": ["Persistent"]
                    }
                }),
            )?;
        }
        Ok(())
    }

    fn csi_node(&self, n: usize, out: &mut Out<impl Write>) -> io::Result<()> {
        let name = self.node_name(n);
        out.item(
            Kind::Other,
            &json!({
                "apiVersion": "storage.k8s.io/v1",
                "kind": "CSINode",
                "metadata": {
                    "annotations": {"storage.alpha.kubernetes.io/migrated-plugins": "kubernetes.io/aws-ebs,kubernetes.io/azure-disk,kubernetes.io/azure-file,kubernetes.io/cinder,kubernetes.io/gce-pd,kubernetes.io/portworx-volume,kubernetes.io/vsphere-volume"},
                    "creationTimestamp": "2026-11-09T07:30:00Z",
                    "name": name,
                    "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": Rng::new(self.cfg.seed ^ hash(&name)).uuid()}],
                    "resourceVersion": self.resource_version(hash(&name) ^ 2),
                    "uid": Rng::new(self.cfg.seed ^ hash(&name) ^ 2).uuid()
                },
                "spec": {"drivers": [
                    {"allocatable": {"count": 127}, "name": "ebs.csi.aws.com", "nodeID": self.instance_id(n),
                     "topologyKeys": ["kubernetes.io/os", "topology.ebs.csi.aws.com/zone", "topology.kubernetes.io/zone"]},
                    {"name": "efs.csi.aws.com", "nodeID": self.instance_id(n)}
                ]}
            }),
        )
    }

    fn node(&self, n: usize, out: &mut Out<impl Write>) -> io::Result<()> {
        let name = self.node_name(n);
        let zone = ZONES[n % 3];
        let mut rng = Rng::new(self.cfg.seed ^ hash(&name));
        let uid = rng.uuid();
        let ip = format!("10.0.{}.{}", (n % 3) * 64 + n / 750, n % 250 + 4);
        let cond = |t: &str, status: &str, reason: &str, message: &str| json!({"lastHeartbeatTime": self.ts(40), "lastTransitionTime": "2026-11-09T07:30:00Z", "message": message, "reason": reason, "status": status, "type": t});
        let images: Vec<Value> = [
            ("docker.io/library/postgres", "16.4", 158_021_339),
            ("ghcr.io/acme/web", "3.14.1", 98_113_201),
            ("ghcr.io/acme/api", "4.12.0", 121_554_120),
            ("public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver", "v1.37.0", 31_250_777),
            ("public.ecr.aws/eks/aws-efs-csi-driver", "v2.0.7", 45_311_019),
        ]
        .into_iter()
        .map(|(image, tag, size)| {
            json!({"names": [format!("{image}@sha256:{}", rng.hex(64)), format!("{image}:{tag}")], "sizeBytes": size})
        })
        .collect();
        let mut meta = json!({
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": ip,
                "csi.volume.kubernetes.io/nodeid": format!("{{\"ebs.csi.aws.com\":\"{}\",\"efs.csi.aws.com\":\"{}\"}}", self.instance_id(n), self.instance_id(n)),
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true"
            },
            "creationTimestamp": "2026-11-09T07:30:00Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": "m5.4xlarge",
                "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": "general",
                "failure-domain.beta.kubernetes.io/region": "us-east-1",
                "failure-domain.beta.kubernetes.io/zone": zone,
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "m5.4xlarge",
                "topology.ebs.csi.aws.com/zone": zone,
                "topology.kubernetes.io/region": "us-east-1",
                "topology.kubernetes.io/zone": zone
            },
            "name": name,
            "resourceVersion": self.resource_version(hash(&name)),
            "uid": uid
        });
        self.with_managed_fields(&mut meta, &self.node_mf, 86_400 * 11);
        let resources = json!({"cpu": "16", "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "memory": "64453796Ki", "pods": "110"});
        out.item(
            Kind::Node,
            &json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": meta,
                "spec": {"providerID": format!("aws:///{zone}/{}", self.instance_id(n))},
                "status": {
                    "addresses": [
                        {"address": ip, "type": "InternalIP"},
                        {"address": name, "type": "InternalDNS"},
                        {"address": name, "type": "Hostname"}
                    ],
                    "allocatable": resources,
                    "capacity": resources,
                    "conditions": [
                        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
                    ],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                    "images": images,
                    "nodeInfo": {
                        "architecture": "amd64",
                        "bootID": rng.uuid(),
                        "containerRuntimeVersion": "containerd://1.7.22",
                        "kernelVersion": "6.1.109-118.189.amzn2023.x86_64",
                        "kubeProxyVersion": "v1.31.2-eks-94953ac",
                        "kubeletVersion": "v1.31.2-eks-94953ac",
                        "machineID": rng.hex(32),
                        "operatingSystem": "linux",
                        "osImage": "Amazon Linux 2023.5.20240916",
                        "systemUUID": rng.uuid()
                    }
                }
            }),
        )
    }

    fn workloads(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let base = self.base_name(u);
        let meta = |name: &str, uid: &str, owner: Option<(&str, &str, &str)>| {
            let mut m = json!({
                "creationTimestamp": self.ts(86_400 * 30),
                "generation": 1,
                "labels": {"app": base},
                "name": name,
                "namespace": ns,
                "resourceVersion": self.resource_version(hash(uid)),
                "uid": uid
            });
            if let Some((kind, name, uid)) = owner {
                m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": kind, "name": name, "uid": uid}]);
            }
            m
        };
        let template = |labels: Value| {
            json!({
                "metadata": {"labels": labels},
                "spec": {"containers": [{"image": "ghcr.io/acme/app:2.7.4", "name": "app"}]}
            })
        };
        let (deployment, revisions, replicas) = match u.unit {
            Unit::Web { replicas } | Unit::Cms { replicas } | Unit::System { replicas } => {
                (true, 1, replicas)
            }
            Unit::Broken(Family::MultiAttach) => (true, 2, 1),
            Unit::Broken(
                Family::ClaimNotFound
                | Family::StorageClassNotFound
                | Family::ProvisionerNotResponding
                | Family::AttachFailed
                | Family::ClaimLost,
            ) => (true, 1, 1),
            Unit::Db { replicas } => (false, 0, replicas),
            Unit::Broken(Family::MountFailed | Family::ExpansionFailed) => (false, 0, 1),
            _ => return Ok(()),
        };
        if deployment {
            let d_uid = self.uid(u, 22, 0);
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": meta(&base, &d_uid, None),
                    "spec": {
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": base}},
                        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
                        "template": template(json!({"app": base}))
                    },
                    "status": {"observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}
                }),
            )?;
            for rev in 0..revisions {
                let (rs, hash) = self.replica_set_name(u, rev);
                let rs_uid = self.uid(u, 20, rev);
                out.item(
                    Kind::Other,
                    &json!({
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": meta(&rs, &rs_uid, Some(("Deployment", &base, &d_uid))),
                        "spec": {
                            "replicas": replicas,
                            "selector": {"matchLabels": {"app": base, "pod-template-hash": hash}},
                            "template": template(json!({"app": base, "pod-template-hash": hash}))
                        },
                        "status": {"fullyLabeledReplicas": replicas, "observedGeneration": 1, "replicas": replicas}
                    }),
                )?;
            }
        } else {
            let sts_uid = self.uid(u, 21, 0);
            out.item(
                Kind::Other,
                &json!({
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "metadata": meta(&base, &sts_uid, None),
                    "spec": {
                        "podManagementPolicy": "OrderedReady",
                        "replicas": replicas,
                        "selector": {"matchLabels": {"app": base}},
                        "serviceName": base,
                        "template": template(json!({"app": base})),
                        "volumeClaimTemplates": [{
                            "apiVersion": "v1",
                            "kind": "PersistentVolumeClaim",
                            "metadata": {"name": "data"},
                            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}, "storageClassName": "gp3", "volumeMode": "Filesystem"}
                        }]
                    },
                    "status": {"availableReplicas": replicas, "currentReplicas": replicas, "observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}
                }),
            )?;
        }
        Ok(())
    }

    // ---- events: routine ones, the injected ones, and storms

    fn events(&self, index: usize, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        self.routine_events(u, out)?;
        if let Unit::Broken(f) = u.unit {
            self.broken_events(u, f, out)?;
        }
        for (_, kind) in self.storms.iter().filter(|(i, _)| *i == index) {
            self.storm(u, *kind, out)?;
        }
        Ok(())
    }

    /// How many routine events the unit's fill object `k` (global index) gets.
    fn fill_for(&self, k: u64) -> u64 {
        if self.fill_objects == 0 {
            return 0;
        }
        self.fill_events / self.fill_objects + u64::from(k < self.fill_events % self.fill_objects)
    }

    fn routine_events(&self, u: &Placed, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let mut k = u.first_fill;
        let mut pod = |name: &str,
                       uid: &str,
                       node: usize,
                       attach: Option<&str>,
                       out: &mut Out<_>|
         -> io::Result<()> {
            let n = self.fill_for(k);
            k += 1;
            let node_name = self.node_name(node);
            for j in 0..n {
                // Newest first: Started, Created, Pulled, Pulling, SuccessfulAttachVolume, Scheduled, then older repeats.
                let step = j % 6;
                let (reason, message, component, host) = match step {
                    0 => ("Started", "Started container app".to_string(), "kubelet", Some(node_name.as_str())),
                    1 => ("Created", "Created container app".to_string(), "kubelet", Some(node_name.as_str())),
                    2 => ("Pulled", "Successfully pulled image \"ghcr.io/acme/app:2.7.4\" in 1.204s (1.204s including waiting). Image size: 98113201 bytes.".to_string(), "kubelet", Some(node_name.as_str())),
                    3 => ("Pulling", "Pulling image \"ghcr.io/acme/app:2.7.4\"".to_string(), "kubelet", Some(node_name.as_str())),
                    4 => match attach {
                        Some(pv) => ("SuccessfulAttachVolume", format!("AttachVolume.Attach succeeded for volume \"{pv}\" "), "attachdetach-controller", None),
                        None => ("Pulled", "Container image \"ghcr.io/acme/sidecar:1.0.3\" already present on machine".to_string(), "kubelet", Some(node_name.as_str())),
                    },
                    _ => ("Scheduled", format!("Successfully assigned {ns}/{name} to {node_name}"), "default-scheduler", None),
                };
                let at = 3000 - 60 * (j as i64 / 6) - (6 - step as i64) * 5;
                self.event(
                    &EventDesc {
                        ns,
                        about: ("v1", "Pod", name, uid),
                        reason,
                        message: &message,
                        warning: false,
                        component,
                        host,
                        count: 1,
                        first: at,
                        last: at,
                        n: j,
                    },
                    out,
                )?;
            }
            Ok(())
        };
        match u.unit {
            Unit::Web { replicas } | Unit::System { replicas } | Unit::Cms { replicas } => {
                for i in 0..replicas {
                    pod(
                        &self.deploy_pod_name(u, i),
                        &self.uid(u, 30, i),
                        self.node_of(u, i),
                        None,
                        out,
                    )?;
                }
            }
            Unit::Db { replicas } => {
                for i in 0..replicas {
                    let pv = self.volume_name(u, i);
                    pod(
                        &self.db_pod_name(u, i),
                        &self.uid(u, 30, i),
                        self.node_of(u, i),
                        Some(&pv),
                        out,
                    )?;
                }
            }
            _ => {}
        }
        // Claims: the provisioning that led to the bound volume, newest first.
        let claims: u32 = match u.unit {
            Unit::Db { replicas } => replicas,
            Unit::Cms { .. } | Unit::Spare => 1,
            _ => 0,
        };
        for i in 0..claims {
            let n = self.fill_for(k);
            k += 1;
            let name = self.claim_name(u, i);
            let uid = self.claim_uid(u, i);
            let pv = self.volume_name(u, i);
            let driver = if matches!(u.unit, Unit::Cms { .. }) {
                "efs.csi.aws.com"
            } else {
                "ebs.csi.aws.com"
            };
            for j in 0..n {
                let step = j % 3;
                let (reason, message, component) = match step {
                    0 => ("ProvisioningSucceeded", format!("Successfully provisioned volume {pv}"), format!("{driver}_{driver}-controller-7d9c8b6f5-x2x9z_{}", &uid[..8])),
                    1 => ("Provisioning", format!("External provisioner is provisioning volume for claim \"{ns}/{name}\""), format!("{driver}_{driver}-controller-7d9c8b6f5-x2x9z_{}", &uid[..8])),
                    _ => ("ExternalProvisioning", format!("Waiting for a volume to be created either by the external provisioner '{driver}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."), "persistentvolume-controller".to_string()),
                };
                let at = 3300 - 60 * (j as i64 / 3) - (3 - step as i64) * 2;
                self.event(
                    &EventDesc {
                        ns,
                        about: ("v1", "PersistentVolumeClaim", &name, &uid),
                        reason,
                        message: &message,
                        warning: false,
                        component: &component,
                        host: None,
                        count: 1,
                        first: at,
                        last: at,
                        n: j,
                    },
                    out,
                )?;
            }
        }
        Ok(())
    }

    fn broken_events(&self, u: &Placed, f: Family, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let claim = self.broken_claim_name(u);
        let claim_uid = self.claim_uid(u, 0);
        let pod = self.broken_pod_name(u, 0);
        let pod_uid = self.uid(u, 30, 0);
        let on_pod = ("v1", "Pod", pod.as_str(), pod_uid.as_str());
        let on_claim = (
            "v1",
            "PersistentVolumeClaim",
            claim.as_str(),
            claim_uid.as_str(),
        );
        let node = self.node_name(self.node_of(u, 0));
        let ev = |about, reason, message, warning, component, host, count, first, last, n: u64| {
            EventDesc {
                ns,
                about,
                reason,
                message,
                warning,
                component,
                host,
                count,
                first,
                last,
                n: 1000 + n,
            }
        };
        let scheduled =
            |pod: &str, node: &str| format!("Successfully assigned {ns}/{pod} to {node}");
        let sched = "default-scheduler";
        // The scheduler's word for a pod whose claim is not bound yet.
        let unbound_message =
            self.scheduler_message("pod has unbound immediate PersistentVolumeClaims");
        let unbound_claims_event = ev(
            on_pod,
            "FailedScheduling",
            &unbound_message,
            true,
            sched,
            None,
            6,
            2099,
            600,
            1,
        );
        let pvc = "persistentvolume-controller";
        let ad = "attachdetach-controller";
        match f {
            Family::ClaimNotFound => {
                let m =
                    self.scheduler_message(&format!("persistentvolumeclaim \"{claim}\" not found"));
                self.event(
                    &ev(
                        on_pod,
                        "FailedScheduling",
                        &m,
                        true,
                        sched,
                        None,
                        2,
                        299,
                        60,
                        0,
                    ),
                    out,
                )?;
            }
            Family::StorageClassNotFound => {
                let m = "storageclass.storage.k8s.io \"fast-ssd\" not found";
                self.event(
                    &ev(
                        on_claim,
                        "ProvisioningFailed",
                        m,
                        true,
                        pvc,
                        None,
                        141,
                        2100,
                        10,
                        0,
                    ),
                    out,
                )?;
                self.event(&unbound_claims_event, out)?;
            }
            Family::AccessModeUnsupported | Family::WaitingForFirstConsumer => {
                let m = "waiting for first consumer to be created before binding";
                self.event(
                    &ev(
                        on_claim,
                        "WaitForFirstConsumer",
                        m,
                        false,
                        pvc,
                        None,
                        81,
                        1200,
                        5,
                        0,
                    ),
                    out,
                )?;
            }
            Family::ProvisionerNotResponding => {
                let m = "waiting for a volume to be created, either by external provisioner \"nfs.csi.k8s.io\" or manually created by system administrator";
                self.event(
                    &ev(
                        on_claim,
                        "ExternalProvisioning",
                        m,
                        false,
                        pvc,
                        None,
                        141,
                        2100,
                        10,
                        0,
                    ),
                    out,
                )?;
                self.event(&unbound_claims_event, out)?;
            }
            Family::MultiAttach => {
                let old = self.broken_pod_name(u, 0);
                let old_uid = self.uid(u, 30, 0);
                let new = self.broken_pod_name(u, 1);
                let new_uid = self.uid(u, 30, 1);
                let on_new = ("v1", "Pod", new.as_str(), new_uid.as_str());
                let b = self.node_name(self.neighbour(self.node_of(u, 0)));
                self.event(
                    &ev(
                        ("v1", "Pod", &old, &old_uid),
                        "Started",
                        "Started container api",
                        false,
                        "kubelet",
                        Some(&node),
                        1,
                        3500,
                        3500,
                        0,
                    ),
                    out,
                )?;
                let m = scheduled(&new, &b);
                self.event(
                    &ev(on_new, "Scheduled", &m, false, sched, None, 1, 119, 119, 1),
                    out,
                )?;
                let m = format!(
                    "Multi-Attach error for volume \"{}\" Volume is already used by pod(s) {old}",
                    self.volume_name(u, 0)
                );
                self.event(
                    &ev(
                        on_new,
                        "FailedAttachVolume",
                        &m,
                        true,
                        ad,
                        None,
                        1,
                        118,
                        118,
                        2,
                    ),
                    out,
                )?;
            }
            Family::AttachFailed => {
                let m = scheduled(&pod, &node);
                self.event(
                    &ev(
                        on_pod,
                        "Scheduled",
                        &m,
                        false,
                        sched,
                        None,
                        1,
                        2219,
                        2219,
                        0,
                    ),
                    out,
                )?;
                let m = format!(
                    "AttachVolume.Attach failed for volume \"{}\" : {}",
                    self.volume_name(u, 0),
                    self.attach_error(u)
                );
                self.event(
                    &ev(
                        on_pod,
                        "FailedAttachVolume",
                        &m,
                        true,
                        ad,
                        None,
                        12,
                        2100,
                        720,
                        1,
                    ),
                    out,
                )?;
            }
            Family::MountFailed => {
                let m = scheduled(&pod, &node);
                self.event(
                    &ev(
                        on_pod,
                        "Scheduled",
                        &m,
                        false,
                        sched,
                        None,
                        1,
                        1799,
                        1799,
                        0,
                    ),
                    out,
                )?;
                let m = self.mount_error(u);
                self.event(
                    &ev(
                        on_pod,
                        "FailedMount",
                        &m,
                        true,
                        "kubelet",
                        Some(&node),
                        7,
                        1670,
                        480,
                        1,
                    ),
                    out,
                )?;
            }
            Family::ClaimLost => {
                let m = "Bound claim has lost its PersistentVolume. Data on the volume is lost!";
                self.event(
                    &ev(on_claim, "ClaimLost", m, true, pvc, None, 1, 2800, 2800, 0),
                    out,
                )?;
                let m = self.scheduler_message(&format!(
                    "persistentvolumeclaim \"{claim}\" bound to non-existent persistentvolume \"{}\"",
                    self.volume_name(u, 0)
                ));
                self.event(
                    &ev(
                        on_pod,
                        "FailedScheduling",
                        &m,
                        true,
                        sched,
                        None,
                        4,
                        1699,
                        900,
                        1,
                    ),
                    out,
                )?;
            }
            Family::PvReleasedRetained => {}
            Family::ExpansionFailed => {
                let resizer = "external-resizer ebs.csi.aws.com";
                let m = "waiting for an external controller to expand this PVC";
                self.event(
                    &ev(
                        on_claim,
                        "ExternalExpanding",
                        m,
                        true,
                        "volume_expand",
                        None,
                        5,
                        2500,
                        1401,
                        0,
                    ),
                    out,
                )?;
                let m = format!(
                    "External resizer is resizing volume {}",
                    self.volume_name(u, 0)
                );
                self.event(
                    &ev(
                        on_claim, "Resizing", &m, false, resizer, None, 4, 2499, 1401, 1,
                    ),
                    out,
                )?;
                let m = self.resize_error(u);
                self.event(
                    &ev(
                        on_claim,
                        "VolumeResizeFailed",
                        &m,
                        true,
                        resizer,
                        None,
                        1,
                        2498,
                        2498,
                        2,
                    ),
                    out,
                )?;
                self.event(
                    &ev(
                        on_claim,
                        "VolumeResizeFailed",
                        &m,
                        true,
                        resizer,
                        None,
                        1,
                        1400,
                        1400,
                        3,
                    ),
                    out,
                )?;
            }
        }
        Ok(())
    }

    fn mount_error(&self, u: &Placed) -> String {
        let pv = self.volume_name(u, 0);
        let fs = format!("fs-0{}", Rng::new(self.cfg.seed ^ hash(&pv)).hex(16));
        format!(
            "MountVolume.SetUp failed for volume \"{pv}\" : rpc error: code = Internal desc = Could not mount \"{fs}:/\" at \"/var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{pv}/mount\": mount failed: exit status 32\nMounting command: mount\nMounting arguments: -t efs -o tls {fs}:/ /var/lib/kubelet/pods/{uid}/volumes/kubernetes.io~csi/{pv}/mount\nOutput: mount.nfs4: Connection timed out\n",
            uid = self.uid(u, 30, 0)
        )
    }

    fn storm(&self, u: &Placed, kind: StormKind, out: &mut Out<impl Write>) -> io::Result<()> {
        let ns = self.ns(u);
        let node = self.node_name(self.node_of(u, 0));
        let (pod, pod_uid) = match kind {
            StormKind::MultiAttach => (self.broken_pod_name(u, 1), self.uid(u, 30, 1)),
            StormKind::Probe => (self.db_pod_name(u, 0), self.uid(u, 30, 0)),
            _ => (self.broken_pod_name(u, 0), self.uid(u, 30, 0)),
        };
        let claim = self.broken_claim_name(u);
        let claim_uid = self.claim_uid(u, 0);
        let (about, reason, message, warning, component, host) = match kind {
            StormKind::Mount => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "FailedMount",
                self.mount_error(u),
                true,
                "kubelet",
                Some(node.as_str()),
            ),
            StormKind::MultiAttach => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "FailedAttachVolume",
                format!(
                    "Multi-Attach error for volume \"{}\" Volume is already used by pod(s) {}",
                    self.volume_name(u, 0),
                    self.broken_pod_name(u, 0)
                ),
                true,
                "attachdetach-controller",
                None,
            ),
            StormKind::Provisioning => (
                ("v1", "PersistentVolumeClaim", claim.as_str(), claim_uid.as_str()),
                "ExternalProvisioning",
                "waiting for a volume to be created, either by external provisioner \"nfs.csi.k8s.io\" or manually created by system administrator".to_string(),
                false,
                "persistentvolume-controller",
                None,
            ),
            StormKind::Probe => (
                ("v1", "Pod", pod.as_str(), pod_uid.as_str()),
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503".to_string(),
                true,
                "kubelet",
                Some(node.as_str()),
            ),
        };
        // Spread over the last hour, the newest a few seconds before capture.
        let n = self.storm_events as i64;
        for j in 0..n {
            let at = 5 + j * 3595 / n.max(1);
            self.event(
                &EventDesc {
                    ns,
                    about,
                    reason,
                    message: &message,
                    warning,
                    component,
                    host,
                    count: 1 + (j % 5) as u32,
                    first: at + 30,
                    last: at,
                    n: 100_000 + j as u64,
                },
                out,
            )?;
        }
        Ok(())
    }
}

fn hash(s: &str) -> u64 {
    // FNV-1a.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

// ---- output: one List, items streamed

#[derive(Clone, Copy)]
enum Kind {
    Pod,
    Claim,
    Volume,
    Node,
    Event,
    Attachment,
    Other,
}

struct Out<W: Write> {
    w: W,
    pretty: bool,
    /// Leave out the fields only a server sets.
    strip: bool,
    buf: Vec<u8>,
    counts: Counts,
}

/// Removes what only the API server sets, so the object can be created.
fn strip_server_fields(v: &mut Value) {
    let kind = v["kind"].as_str().unwrap_or_default().to_string();
    let phase = v["status"]["phase"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in ["uid", "resourceVersion", "managedFields", "ownerReferences"] {
            meta.remove(key);
        }
        // A created claim gets a new uid, which the claimRef of its volume
        // cannot name: marked bind-completed, the PV controller would call
        // the pair misbound and the claim Lost. Without the marks it binds
        // the pre-bound pair again. A Lost claim keeps them: its volume is
        // gone, and the controller finds it Lost again.
        if kind == "PersistentVolumeClaim" && phase == "Bound" {
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove("pv.kubernetes.io/bind-completed");
                annotations.remove("pv.kubernetes.io/bound-by-controller");
            }
        }
    }
    if let Some(reference) = v
        .pointer_mut("/involvedObject")
        .and_then(Value::as_object_mut)
    {
        reference.remove("uid");
        reference.remove("resourceVersion");
    }
    if let Some(reference) = v
        .pointer_mut("/spec/claimRef")
        .and_then(Value::as_object_mut)
    {
        reference.remove("resourceVersion");
        // The claim of a Released volume was deleted: its uid (a spec
        // field) is what makes the PV controller find the volume Released
        // rather than reserved for a claim yet to come.
        if phase != "Released" {
            reference.remove("uid");
        }
    }
}

impl<W: Write> Out<W> {
    fn new(w: W, pretty: bool) -> Self {
        Out {
            w,
            pretty,
            strip: false,
            buf: Vec::new(),
            counts: Counts::default(),
        }
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.counts.bytes += bytes.len() as u64;
        self.w.write_all(bytes)
    }

    fn begin(&mut self) -> io::Result<()> {
        if self.pretty {
            self.raw(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
        } else {
            self.raw(b"{\"apiVersion\":\"v1\",\"items\":[")
        }
    }

    fn end(&mut self) -> io::Result<()> {
        if self.pretty {
            self.raw(b"\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")?;
        } else {
            self.raw(b"],\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"\"}}\n")?;
        }
        self.w.flush()
    }

    fn item(&mut self, kind: Kind, v: &Value) -> io::Result<()> {
        let first = self.counts.objects() == 0;
        let c = &mut self.counts;
        match kind {
            Kind::Pod => c.pods += 1,
            Kind::Claim => c.claims += 1,
            Kind::Volume => c.volumes += 1,
            Kind::Node => c.nodes += 1,
            Kind::Event => c.events += 1,
            Kind::Attachment => c.attachments += 1,
            Kind::Other => c.other += 1,
        }
        let stripped;
        let v = if self.strip {
            let mut copy = v.clone();
            strip_server_fields(&mut copy);
            stripped = copy;
            &stripped
        } else {
            v
        };
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if self.pretty {
            if !first {
                self.raw(b",\n")?;
            }
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            v.serialize(&mut ser).map_err(io::Error::other)?;
            // Items sit two levels deep in the List.
            self.raw(b"        ")?;
            for (i, line) in buf.split(|&b| b == b'\n').enumerate() {
                if i > 0 {
                    self.raw(b"\n        ")?;
                }
                self.raw(line)?;
            }
        } else {
            if !first {
                self.raw(b",")?;
            }
            serde_json::to_writer(&mut buf, v).map_err(io::Error::other)?;
            self.raw(&buf)?;
        }
        self.buf = buf;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
