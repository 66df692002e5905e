//! Where byokd keeps its data and its socket, and the checks that keep them private: byokd
//! makes private (0700) only a directory it creates itself, refuses one that another OS user
//! owns or may write to, and replaces only a socket of its own user.
//!
//! On Windows the data directory is in `%LOCALAPPDATA%`, whose access (the user, SYSTEM and
//! administrators) every file in it inherits, and the socket is a named pipe with an access
//! list of its own (`byokit_client::local_socket`): the Unix modes and owners checked here have
//! no counterpart there, and these functions only make what is missing (docs/windows.md).

use std::fs;
use std::io;
#[cfg(unix)]
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
    if cfg!(windows) {
        if data_dir == Path::new(r".\byokit") && unset("LOCALAPPDATA") && unset("USERPROFILE") {
            return Err(
                "LOCALAPPDATA is not set: name the data directory with --data-dir or \
                        BYOKIT_DATA_DIR"
                    .into(),
            );
        }
        return Ok(());
    }
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

/// Whatever this process creates from now on (the database's -wal and -shm files, temp files)
/// is its owner's alone: umask 077. (Windows: files inherit their directory's access.)
pub fn private_umask() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// The OS user this process runs as.
#[cfg(unix)]
fn own_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Makes sure `dir` is a directory private enough for byokd's secrets: one it creates (with its
/// missing parents) is made 0700; an existing one is left as it is, but refused if it is not a
/// directory, belongs to another OS user or others may write to it (`/tmp`, say: anyone could
/// put a file or a socket of theirs in byokd's place).
#[cfg(unix)]
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

/// Makes sure `dir` is a directory, creating it with its missing parents.
#[cfg(not(unix))]
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    if fs::metadata(dir)?.is_dir() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "not a directory",
        ))
    }
}

/// Makes a file readable and writable by its owner only (0600).
#[cfg(unix)]
pub fn private_file(path: &Path) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

/// Checks that `path` exists: its access is its directory's.
#[cfg(not(unix))]
pub fn private_file(path: &Path) -> io::Result<()> {
    fs::metadata(path).map(drop)
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
#[cfg(unix)]
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

/// Nothing to remove on Windows: a named pipe ends with the last handle to it.
#[cfg(not(unix))]
pub fn remove_stale_socket(_socket: &Path) -> io::Result<()> {
    Ok(())
}

/// Opens (creating, 0600) a log file for a byokd started in the background; an existing one is
/// made 0600 too.
#[cfg(unix)]
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

/// Opens (creating) a log file for a byokd started in the background.
#[cfg(not(unix))]
pub fn open_private_log(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new().create(true).append(true).open(path)
}
