//! Where byokd keeps its data and its socket.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The data directory of this process's environment
/// ([`byokit_core::protocol::default_data_dir`]).
pub fn default_data_dir() -> PathBuf {
    byokit_core::protocol::default_data_dir(|k| std::env::var_os(k))
}

/// The socket of this process's environment ([`byokit_core::protocol::default_socket`]).
pub fn default_socket(data_dir: &Path) -> PathBuf {
    byokit_core::protocol::default_socket(data_dir, |k| std::env::var_os(k))
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
