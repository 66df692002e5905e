#![doc = include_str!("../README.md")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use byokit_core::protocol;
use byokit_core::protocol::client::{decode_line, encode_request, Incoming, MalformedLine};
use serde_json::Value;

pub mod local_socket;

/// How long a call waits for byokd's next line, unless told otherwise.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a call that reaches a provider ([`reaches_provider`]) waits for byokd's next line,
/// unless told otherwise: byokd's own limit for such a call (its `--total-timeout`, 600 s by
/// default) and a minute.
pub const DEFAULT_PROVIDER_READ_TIMEOUT: Duration = Duration::from_secs(660);

/// Whether byokd answers `method` only after calling a provider (`chat`, `config.test`), which
/// may take minutes.
pub fn reaches_provider(method: &str) -> bool {
    matches!(method, "chat" | "config.test")
}

/// A failed call.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// No byokd answers on the socket.
    Connect {
        /// The socket.
        socket: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The connection broke.
    Io(std::io::Error),
    /// byokd closed the connection before answering.
    Closed,
    /// byokd sent nothing for this long.
    Timeout(Duration),
    /// byokd sent a line that is not JSON-RPC.
    Malformed(MalformedLine),
    /// byokd answered with an error, or the request was refused before it was sent (over the
    /// size limit): its kind, with what a caller acts on, and a message.
    Rpc(protocol::Error),
}

impl Error {
    /// byokd's error (or the request's refusal), if that is what this is.
    pub fn rpc(&self) -> Option<&protocol::Error> {
        match self {
            Error::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect { socket, source } => {
                write!(f, "cannot reach byokd at {}: {source}", socket.display())
            }
            Error::Io(e) => write!(f, "byokd connection: {e}"),
            Error::Closed => f.write_str("byokd connection: byokd closed the connection"),
            Error::Timeout(after) => write!(
                f,
                "byokd connection: no reply from byokd within {} s",
                after.as_secs_f64()
            ),
            Error::Malformed(e) => write!(f, "byokd connection: {e}"),
            Error::Rpc(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Io(source) => Some(source),
            Error::Malformed(e) => Some(e),
            Error::Rpc(e) => Some(e),
            Error::Closed | Error::Timeout(_) => None,
        }
    }
}

impl From<protocol::Error> for Error {
    fn from(e: protocol::Error) -> Self {
        Error::Rpc(e)
    }
}

/// A connection to byokd. One call at a time: each waits for its own reply.
#[derive(Debug)]
pub struct Client {
    /// Reads through a buffer; writes go to the stream itself (`&Stream` writes).
    reader: BufReader<local_socket::Stream>,
    socket: PathBuf,
    next_id: u64,
    /// The line being read: kept across calls, so a call that timed out halfway through a
    /// line leaves the rest of it readable.
    line: Vec<u8>,
    read_timeout: Duration,
    provider_read_timeout: Duration,
}

impl Client {
    /// Connects to byokd on `socket`.
    pub fn connect(socket: &Path) -> Result<Client, Error> {
        let connect_error = |source| Error::Connect {
            socket: socket.to_owned(),
            source,
        };
        // Nothing (a key, a user's name) is sent to a process of another OS user that took
        // byokd's socket path or pipe name: `connect` checks who serves it.
        let stream = local_socket::connect(socket).map_err(connect_error)?;
        Ok(Client {
            reader: BufReader::new(stream),
            socket: socket.to_owned(),
            next_id: 1,
            line: Vec::new(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            provider_read_timeout: DEFAULT_PROVIDER_READ_TIMEOUT,
        })
    }

    /// The socket this client is connected to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// How long a call waits for byokd's next line ([`DEFAULT_READ_TIMEOUT`] unless set); a
    /// zero duration is taken as a millisecond.
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.read_timeout = timeout.max(Duration::from_millis(1));
    }

    /// The same for calls that reach a provider ([`DEFAULT_PROVIDER_READ_TIMEOUT`] unless set).
    pub fn set_provider_read_timeout(&mut self, timeout: Duration) {
        self.provider_read_timeout = timeout.max(Duration::from_millis(1));
    }

    /// Calls `method` with `params`; returns the result.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, Error> {
        self.call_with_notifications(method, params, |_, _| {})
    }

    /// Calls `method`, handing each notification of this call that arrives before the reply
    /// (a streaming `chat`'s `chat.delta`) to `on_notification(method, params)`; returns the
    /// result.
    pub fn call_with_notifications(
        &mut self,
        method: &str,
        params: Value,
        mut on_notification: impl FnMut(&str, &Value),
    ) -> Result<Value, Error> {
        let id = self.next_id;
        self.next_id += 1;
        let line = encode_request(id, method, &params)?;
        let timeout = if reaches_provider(method) {
            self.provider_read_timeout
        } else {
            self.read_timeout
        };
        local_socket::set_timeouts(self.reader.get_ref(), Some(timeout)).map_err(Error::Io)?;
        let mut writer: &local_socket::Stream = self.reader.get_ref();
        writer
            .write_all(line.as_bytes())
            .map_err(|e| timed_out(e, timeout))?;
        loop {
            match self.read_line(timeout)? {
                Incoming::Reply { id: reply, result } if reply == id => return Ok(result),
                Incoming::ErrorReply { id: None, error } => return Err(Error::Rpc(error)),
                Incoming::ErrorReply {
                    id: Some(reply),
                    error,
                } if reply == id => return Err(Error::Rpc(error)),
                Incoming::Notification { method, params } => {
                    // Another call's notification (one that timed out) is not this call's.
                    let call = params.get("id").and_then(Value::as_u64);
                    if call.is_none_or(|call| call == id) {
                        on_notification(&method, &params);
                    }
                }
                // The late reply of a call that timed out.
                Incoming::Reply { .. } | Incoming::ErrorReply { .. } => {}
            }
        }
    }

    /// Reads and decodes the next line.
    fn read_line(&mut self, timeout: Duration) -> Result<Incoming, Error> {
        loop {
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => return Err(Error::Closed),
                Ok(_) if !self.line.ends_with(b"\n") => return Err(Error::Closed),
                Ok(_) => {}
                Err(e) => return Err(timed_out(e, timeout)),
            }
            let line = std::mem::take(&mut self.line);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return decode_line(&line).map_err(Error::Malformed);
        }
    }
}

/// An I/O error as a timeout when it is one.
fn timed_out(e: std::io::Error, after: Duration) -> Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout(after),
        _ => Error::Io(e),
    }
}
