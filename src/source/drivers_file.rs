//! The user's driver table: `--drivers FILE`, or the default file in the
//! user's config directory when it exists.

use crate::drivers::Drivers;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// `$XDG_CONFIG_HOME/storage-doctor/drivers.yaml`, else
/// `~/.config/storage-doctor/drivers.yaml` (`%APPDATA%` on Windows).
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("storage-doctor").join("drivers.yaml"))
}

/// The built-in table, extended by the explicit file (which must exist) or
/// by the default file (when it exists).
pub fn load(explicit: Option<&Path>) -> Result<Drivers> {
    let mut drivers = Drivers::built_in();
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path().filter(|p| p.is_file()) {
            Some(p) => p,
            None => return Ok(drivers),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read driver file {}", path.display()))?;
    drivers
        .extend_from_yaml(&text)
        .with_context(|| format!("{}: not a valid driver file", path.display()))?;
    Ok(drivers)
}
