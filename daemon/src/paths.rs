//! Where byokd keeps its data and its socket, and the checks that keep them private: byokd
//! makes private (0700) only a directory it creates itself, refuses one that another OS user
//! owns or may write to, and replaces only a socket of its own user.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The data directory of this process's environment
/// ([`byokit_core::protocol::default_data_dir`]).
pub fn default_data_dir() -> PathBuf {
    byokit_core::protocol::default_data_dir(|k| std::env::var_os(k))
}

/// Refuses the data directory the environment gives when none of `BYOKIT_DATA_DIR`,
/// `XDG_DATA_HOME` and `HOME` is set (`./.local/share/byokit`, under whatever directory the
/// process happens to run in), rather than keep keys there.
pub fn check_data_dir_choice(data_dir: &Path) -> Result<(), String> {
    let unset = |k: &str| std::env::var_os(k).is_none_or(|v| v.is_empty());
    if data_dir == Path::new(".").join(".local/share/byokit") && unset("HOME") {
        return Err(
            "HOME is not set: name the data directory with --data-dir or BYOKIT_DATA_DIR".into(),
        );
    }
    Ok(())
}

/// The socket of this process's environment ([`byokit_core::protocol::default_socket`]).
pub fn default_socket(data_dir: &Path) -> PathBuf {
    byokit_core::protocol::default_socket(data_dir, |k| std::env::var_os(k))
}

/// The OS user this process runs as.
fn own_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Makes sure `dir` is a directory private enough for byokd's secrets: one it creates (with its
/// missing parents) is made 0700; an existing one is left as it is, but refused if it is not a
/// directory, belongs to another OS user or others may write to it (`/tmp`, say: anyone could
/// put a file or a socket of theirs in byokd's place).
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            // Another process may have made it meanwhile: it is checked below like any other.
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    let meta = fs::metadata(dir)?;
    let refuse = |why: &str| Err(io::Error::new(io::ErrorKind::PermissionDenied, why));
    if !meta.is_dir() {
        return refuse("not a directory");
    }
    if meta.uid() != own_uid() {
        return refuse("it belongs to another OS user");
    }
    if meta.mode() & 0o022 != 0 {
        return refuse(
            "other OS users may write to it; use a directory of your own (byokd makes one it \
             creates private)",
        );
    }
    Ok(())
}

/// Makes a file readable and writable by its owner only (0600).
pub fn private_file(path: &Path) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

/// Makes `path` 0600 if it exists (SQLite's `-wal` and `-shm` files, made beside the database).
pub fn private_file_if_any(path: &Path) -> io::Result<()> {
    match private_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Removes what a byokd that died left at `socket`: only a socket of this OS user. Anything else
/// there (a regular file, another user's socket, a symlink) is refused, never deleted.
pub fn remove_stale_socket(socket: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(socket) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(meta) => meta,
    };
    if !meta.file_type().is_socket() || meta.uid() != own_uid() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "something that is not a socket of this OS user is in its place; byokd does not \
             remove it",
        ));
    }
    fs::remove_file(socket)
}

/// Opens (creating, 0600) a log file for a byokd started in the background; an existing one is
/// made 0600 too.
pub fn open_private_log(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}
