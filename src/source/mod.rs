//! Sources: the only code that reads files or talks to a cluster. Each turns
//! what it reads into a [`Snapshot`](crate::snapshot::Snapshot).

pub mod collect;
pub mod drivers_file;
pub mod dump;
pub mod error_text;
pub mod live;
pub mod request_log;
