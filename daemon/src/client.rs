//! The blocking client of byokd the CLI and the tests use: `byokit-client` (shared with the
//! native bindings), with a way to start byokd when none is running.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use byokit_core::protocol::{ChatDelta, CHAT_DELTA};
use serde::Deserialize;
use serde_json::{json, Value};

pub use byokit_client::Error as CallError;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// byokd is not running and could not be started.
    #[error("byokd connection: cannot start {} ({source}); build it beside byokit with `cargo build --release -p byokit-daemon`, or start it yourself", byokd.display())]
    Start {
        /// The byokd program tried.
        byokd: PathBuf,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// The call failed: byokd cannot be reached, the connection broke or timed out, or byokd
    /// answered with an error ([`CallError::Rpc`], with its kind and data).
    #[error(transparent)]
    Call(#[from] CallError),
}

impl ClientError {
    /// byokd's error (or the request's refusal over the size limit), if that is what this is.
    pub fn rpc(&self) -> Option<&byokit_core::protocol::Error> {
        match self {
            ClientError::Call(e) => e.rpc(),
            ClientError::Start { .. } => None,
        }
    }
}

/// A connection to byokd: a [`byokit_client::Client`] (its timeouts are set through it).
#[derive(Debug)]
pub struct Client(byokit_client::Client);

impl Deref for Client {
    type Target = byokit_client::Client;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Client {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Client {
    /// Connects to the daemon on `socket`.
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        Ok(Client(byokit_client::Client::connect(socket)?))
    }

    /// Connects, starting `byokd` in the background first if none answers.
    pub fn connect_or_start(socket: &Path, data_dir: &Path) -> Result<Client, ClientError> {
        if let Ok(c) = Client::connect(socket) {
            return Ok(c);
        }
        let byokd = std::env::current_exe()
            .ok()
            .and_then(|p| {
                p.parent()
                    .map(|d| d.join(format!("byokd{}", std::env::consts::EXE_SUFFIX)))
            })
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("byokd"));
        crate::paths::check_data_dir_choice(data_dir).map_err(|e| ClientError::Start {
            byokd: byokd.clone(),
            source: std::io::Error::other(e),
        })?;
        // The data dir and byokd's log are made private (byokd refuses a data dir others can
        // write to, and the log names users and providers).
        let log = crate::paths::private_dir(data_dir)
            .and_then(|_| crate::paths::open_private_log(&data_dir.join("byokd.log")));
        let mut command = Command::new(&byokd);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--socket")
            .arg(socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        match log {
            Ok(f) => command.stderr(f),
            Err(_) => command.stderr(Stdio::null()),
        };
        command
            .spawn()
            .map_err(|source| ClientError::Start { byokd, source })?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match Client::connect(socket) {
                Ok(c) => return Ok(c),
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }

    /// Calls `method` with `params`; returns the result.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        Ok(self.0.call(method, params)?)
    }

    /// `chat` with `"stream": true` in `params`: each [`ChatDelta`] is handed to `on_delta` as
    /// it comes; returns the chat's result.
    pub fn chat_streaming(
        &mut self,
        params: Value,
        mut on_delta: impl FnMut(&ChatDelta),
    ) -> Result<Value, ClientError> {
        Ok(self
            .0
            .call_with_notifications("chat", params, |method, params| {
                if method == CHAT_DELTA {
                    if let Ok(delta) = ChatDelta::deserialize(params) {
                        on_delta(&delta);
                    }
                }
            })?)
    }

    /// Calls `method`, handing each notification that arrives before the reply (such as
    /// `chat.delta` of a streaming `chat`), as the whole message, to `on_notification`;
    /// returns the result.
    pub fn call_with_notifications(
        &mut self,
        method: &str,
        params: Value,
        mut on_notification: impl FnMut(&Value),
    ) -> Result<Value, ClientError> {
        Ok(self
            .0
            .call_with_notifications(method, params, |method, params| {
                on_notification(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
            })?)
    }
}
