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
    let text = read_small_file(&path)
        .with_context(|| format!("cannot read driver file {}", path.display()))?;
    drivers
        .extend_from_yaml(&text)
        .with_context(|| format!("{}: not a valid driver file", path.display()))?;
    Ok(drivers)
}

/// The most a driver file may hold: a table of every CSI driver there is
/// is a few hundred kilobytes.
const MAX_DRIVER_FILE: u64 = 16 << 20;

/// A regular file's text: a FIFO or a device (which can block or never
/// end) is refused, and so is a file beyond [`MAX_DRIVER_FILE`].
fn read_small_file(path: &Path) -> Result<String> {
    use std::io::Read;
    if !std::fs::metadata(path)?.is_file() {
        anyhow::bail!("not a regular file (a FIFO, socket or device)");
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_DRIVER_FILE + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_DRIVER_FILE {
        anyhow::bail!("larger than {MAX_DRIVER_FILE} bytes");
    }
    Ok(text)
}
