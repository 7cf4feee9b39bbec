//! `kubectl storage-doctor`: diagnoses broken storage chains
//! (Pod → PVC → PV / StorageClass → CSI driver → Node → attach → mount).
//!
//! Data flows one way: [`source`] (the only I/O) builds a [`snapshot::Snapshot`],
//! [`chain`] resolves each subject's links, [`rules`] turn chains into causes,
//! [`rank`] orders them and [`report`] renders the result.

pub mod analysis;
pub mod api;
pub mod chain;
pub mod cli;
pub mod csi_migration;
pub mod csi_sidecars;
pub mod drivers;
pub mod events;
pub mod explain;
pub mod kinds;
pub mod model;
pub mod nodes;
pub mod owners;
pub mod quantity;
pub mod rank;
pub mod replicas;
pub mod report;
pub mod rules;
pub mod scheduler;
pub mod scope;
pub mod selector;
pub mod snapshot;
pub mod source;
pub mod spinner;
pub mod text;
pub mod volume_errors;
pub mod volume_populator;
pub mod volume_snapshot;

#[cfg(test)]
pub(crate) mod fixtures;
