//! Helpers shared by rules: facts several rules read and phrases several
//! rules say. Rules import these, never each other.

pub mod claim_creation;
pub mod claims;
pub mod classes;
pub mod commands;
pub mod components;
pub mod data_source;
pub mod evidence;
pub mod expansion;
pub mod in_tree;
pub mod lost_nodes;
pub mod matching;
pub mod names;
pub mod provisioner_errors;
pub mod security;
pub mod workload_errors;
