//! Where byokd keeps its data and its socket.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The data directory: `$BYOKIT_DATA_DIR`, else `$XDG_DATA_HOME/byokit`, else
/// `~/.local/share/byokit`.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BYOKIT_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("byokit");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".local/share/byokit")
}

/// The socket: `$BYOKIT_SOCKET`, else `$XDG_RUNTIME_DIR/byokit/byokd.sock`, else
/// `<data dir>/byokd.sock`.
pub fn default_socket(data_dir: &Path) -> PathBuf {
    if let Some(s) = std::env::var_os("BYOKIT_SOCKET") {
        return PathBuf::from(s);
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("byokit/byokd.sock"),
        None => data_dir.join("byokd.sock"),
    }
}

/// Creates `dir` (and its parents) if needed and makes it private to its owner (0700).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Makes a file readable and writable by its owner only (0600).
pub fn private_file(path: &Path) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}
