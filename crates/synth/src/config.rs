//! What to generate: the sizes and the knobs of a snapshot.

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
    /// Broken units per thousand claims, spread over every [`Family`](crate::Family)
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
