//! byokd's local socket, on every platform, through the `interprocess` crate: the one place that
//! knows what it is. On Linux and macOS it is a Unix socket (byokd keeps it in a 0700 directory
//! and makes it 0600); on Windows, a named pipe (`\\.\pipe\byokit-<user>` unless told
//! otherwise) whose security descriptor lets only the user who runs byokd open it.
//!
//! Both ends check who is at the other one before anything is sent: a client refuses a byokd
//! that runs as another OS user (someone who took its socket path or pipe name first), and
//! byokd (`Listener::accept`, feature `tokio`) refuses a client of another OS user. On Unix
//! the peer's uid comes from the kernel (`SO_PEERCRED`, `LOCAL_PEERCRED`); on Windows, the
//! peer's process id from the pipe, and the user (SID) that process runs as from its token.

use std::io;
use std::path::Path;
use std::time::Duration;

use interprocess::local_socket::traits::Stream as _;
use interprocess::local_socket::{GenericFilePath, Name, ToFsName};

/// A connection to byokd, for blocking I/O: `&Stream` reads and writes.
pub type Stream = interprocess::local_socket::Stream;

/// The name `interprocess` gives the socket at `path`: a socket file's path on Unix, a pipe path
/// (`\\.\pipe\NAME`) on Windows, where anything else is refused with an error that says so.
pub fn name(path: &Path) -> io::Result<Name<'_>> {
    path.to_fs_name::<GenericFilePath>().map_err(|e| {
        if cfg!(windows) {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: on Windows byokd's socket is a named pipe, \\\\.\\pipe\\NAME ({e})",
                    path.display()
                ),
            )
        } else {
            e
        }
    })
}

/// Connects to byokd at `path`, and refuses it unless it runs as this process's OS user.
pub fn connect(path: &Path) -> io::Result<Stream> {
    let stream = Stream::connect(name(path)?)?;
    peer::check_server(&stream, path)?;
    Ok(stream)
}

/// Sets how long a read or a write on `stream` may wait. Named pipes have no such timeouts
/// (`interprocess` says so with `Unsupported`): on Windows a call waits for byokd as long as it
/// takes, and the limits are byokd's own (docs/windows.md).
pub fn set_timeouts(stream: &Stream, timeout: Option<Duration>) -> io::Result<()> {
    let unsupported_is_none = |r: io::Result<()>| match r {
        Err(e) if cfg!(windows) && e.kind() == io::ErrorKind::Unsupported => Ok(()),
        r => r,
    };
    unsupported_is_none(stream.set_recv_timeout(timeout))?;
    unsupported_is_none(stream.set_send_timeout(timeout))
}

/// Whom a peer runs as, and whether that is this process's user.
mod peer {
    use std::io;
    #[cfg(unix)]
    use std::path::Path;

    #[cfg(unix)]
    use interprocess::local_socket::traits::StreamCommon;

    /// Refuses a byokd of another OS user than this process's: on Unix by the peer's uid (or,
    /// where the kernel does not tell it, the socket file's owner).
    #[cfg(unix)]
    pub(super) fn check_server(stream: &impl StreamCommon, socket: &Path) -> io::Result<()> {
        let peer = match stream.peer_creds().ok().and_then(|c| c.euid()) {
            Some(uid) => uid,
            None => std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(socket)?),
        };
        let own = rustix::process::getuid().as_raw();
        if peer == own {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("the process serving it runs as uid {peer}, not as this user ({own})"),
            ))
        }
    }

    /// Refuses a byokd of another OS user than this process's: the pipe server's process, and
    /// the user its token names.
    #[cfg(windows)]
    pub(super) fn check_server(
        stream: &impl interprocess::local_socket::traits::StreamCommon,
        _pipe: &std::path::Path,
    ) -> io::Result<()> {
        let pid = stream
            .peer_creds()?
            .pid()
            .ok_or_else(|| io::Error::other("the pipe does not name its server's process"))?;
        let (peer, own) = (windows::user_of(pid)?, windows::own_user()?);
        if peer == own {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("the process serving it runs as {peer}, not as this user ({own})"),
            ))
        }
    }

    /// The users processes run as, by SID (`S-1-5-21-…`), read from their tokens through
    /// `sysinfo` (no unsafe code here).
    #[cfg(windows)]
    pub(crate) mod windows {
        use std::io;

        use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

        /// The SID of the user process `pid` runs as.
        pub(crate) fn user_of(pid: u32) -> io::Result<String> {
            let mut system = System::new().map_err(|e| io::Error::other(e.to_string()))?;
            let pid = Pid::from_u32(pid);
            system.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_user(UpdateKind::Always),
            );
            system
                .process(pid)
                .and_then(|p| p.user_id())
                .map(|sid| sid.to_string())
                .filter(|sid| sid.starts_with("S-"))
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        format!("cannot tell which OS user runs process {pid}"),
                    )
                })
        }

        /// The SID of the user this process runs as.
        pub(crate) fn own_user() -> io::Result<String> {
            user_of(std::process::id())
        }
    }
}

#[cfg(feature = "tokio")]
pub use listener::{probe, split, Listener, TokioStream};

/// byokd's side: the listener, for tokio.
#[cfg(feature = "tokio")]
mod listener {
    use std::io;
    use std::path::Path;

    use interprocess::local_socket::tokio::prelude::*;
    use interprocess::local_socket::ListenerOptions;

    /// A connection to a client, for tokio: its halves (`split`) are `AsyncRead` and
    /// `AsyncWrite`.
    pub type TokioStream = interprocess::local_socket::tokio::Stream;

    /// A connection's two halves, read and written by different tasks (`tokio::io::split`:
    /// `interprocess` deprecates its own, whose halves do not shut the connection down).
    pub fn split(
        stream: TokioStream,
    ) -> (
        tokio::io::ReadHalf<TokioStream>,
        tokio::io::WriteHalf<TokioStream>,
    ) {
        tokio::io::split(stream)
    }

    /// Whether something answers at `path` (a byokd already running there).
    pub async fn probe(path: &Path) -> bool {
        match super::name(path) {
            Ok(name) => TokioStream::connect(name).await.is_ok(),
            Err(_) => false,
        }
    }

    /// byokd's listening socket: a Unix socket made 0600, or a named pipe only its user may
    /// open; every connection it hands out is of that user.
    #[derive(Debug)]
    pub struct Listener {
        inner: LocalSocketListener,
        #[cfg(unix)]
        uid: u32,
        #[cfg(windows)]
        sid: String,
    }

    impl Listener {
        /// Listens at `path`. On Unix, nothing may be there (byokd removes a stale socket of
        /// its own first) and the socket is made 0600 at once; its owner is the user peers must
        /// be. On Windows the pipe is created as its first instance (a name another process
        /// already serves is refused) with a DACL that allows this user alone, and refuses
        /// clients from other machines.
        pub fn bind(path: &Path) -> io::Result<Listener> {
            let options = ListenerOptions::new()
                .name(super::name(path)?)
                // byokd removes its socket itself, when it has stopped serving.
                .reclaim_name(false);
            #[cfg(unix)]
            {
                let inner = options.create_tokio()?;
                std::fs::set_permissions(
                    path,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )?;
                let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(path)?);
                Ok(Listener { inner, uid })
            }
            #[cfg(windows)]
            {
                use interprocess::os::windows::local_socket::ListenerOptionsExt;
                use interprocess::os::windows::security_descriptor::SecurityDescriptor;
                let sid = super::peer::windows::own_user()?;
                // A protected DACL (no inherited entries) with one entry: full access for this
                // user. Everyone else, other users, administrators and services included, is
                // refused when opening the pipe.
                let sddl = format!("D:P(A;;GA;;;{sid})");
                let sddl = widestring::U16CString::from_str(&sddl)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                let inner = options
                    .security_descriptor(SecurityDescriptor::deserialize(&sddl)?)
                    .create_tokio()?;
                Ok(Listener { inner, sid })
            }
        }

        /// The next connection: `Ok(None)` for one refused because its peer is another OS
        /// user (or cannot be told), which the caller logs and forgets.
        pub async fn accept(&self) -> io::Result<Option<TokioStream>> {
            let stream = self.inner.accept().await?;
            Ok(self.same_user(&stream).then_some(stream))
        }

        #[cfg(unix)]
        fn same_user(&self, stream: &TokioStream) -> bool {
            use interprocess::local_socket::traits::StreamCommon;
            stream.peer_creds().ok().and_then(|c| c.euid()) == Some(self.uid)
        }

        #[cfg(windows)]
        fn same_user(&self, stream: &TokioStream) -> bool {
            use interprocess::local_socket::traits::StreamCommon;
            stream
                .peer_creds()
                .ok()
                .and_then(|c| c.pid())
                .and_then(|pid| super::peer::windows::user_of(pid).ok())
                .is_some_and(|sid| sid == self.sid)
        }
    }
}
