//! What the test crates share. Each crate declares `mod support;` and uses
//! the parts it needs, so most crates leave some of it unused.
//!
//! - [`cluster`]: the control plane started by `scripts/live-cluster.sh`
//!   and running the tool against it (`tests/live.rs`, `tests/live_faults.rs`);
//! - [`diagnose`]: the tool run in-process, its exit code and output;
//! - [`http`]: small HTTP servers on loopback that play an API server;
//! - [`kubeconfig`]: kubeconfig files of one cluster, user and context;
//! - [`rank`]: findings by subject and their rank-1 causes;
//! - [`schema`]: the report's JSON Schema and a validator for it.

#![allow(dead_code)]

pub mod cluster;
pub mod diagnose;
pub mod http;
pub mod kubeconfig;
pub mod rank;
pub mod schema;
