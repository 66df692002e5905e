//! A blocking JSON-RPC client of byokd, shared by the CLI and the tests.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon cannot be reached.
    #[error("cannot reach byokd at {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The connection broke or the reply was not JSON-RPC.
    #[error("byokd connection: {0}")]
    Io(String),
    /// byokd answered with an error.
    #[error("{message}")]
    Rpc {
        /// The JSON-RPC error code.
        code: i64,
        /// Its message.
        message: String,
    },
}

/// A connection to byokd.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    next_id: u64,
}

impl Client {
    /// Connects to the daemon on `socket`.
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(socket).map_err(|source| ClientError::Connect {
            path: socket.to_owned(),
            source,
        })?;
        let writer = stream
            .try_clone()
            .map_err(|e| ClientError::Io(e.to_string()))?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
            next_id: 1,
        })
    }

    /// Connects, starting `byokd` in the background first if none answers.
    pub fn connect_or_start(socket: &Path, data_dir: &Path) -> Result<Client, ClientError> {
        if let Ok(c) = Client::connect(socket) {
            return Ok(c);
        }
        let byokd = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("byokd")))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("byokd"));
        let log = std::fs::create_dir_all(data_dir).and_then(|_| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(data_dir.join("byokd.log"))
        });
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
        command.spawn().map_err(|e| {
            ClientError::Io(format!(
                "cannot start {} ({e}); build it beside byokit with `cargo build --release -p byokit-daemon`, or start it yourself",
                byokd.display()
            ))
        })?;
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
        self.call_with_notifications(method, params, |_| {})
    }

    /// Calls `method`, handing each notification that arrives before the reply (such as
    /// `chat.delta` of a streaming `chat`) to `on_notification`; returns the result.
    pub fn call_with_notifications(
        &mut self,
        method: &str,
        params: Value,
        mut on_notification: impl FnMut(&Value),
    ) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line =
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
        line.push('\n');
        self.writer
            .write_all(line.as_bytes())
            .map_err(|e| ClientError::Io(e.to_string()))?;
        let mut v: Value = loop {
            let mut reply = String::new();
            let read = self
                .reader
                .read_line(&mut reply)
                .map_err(|e| ClientError::Io(e.to_string()))?;
            if read == 0 {
                return Err(ClientError::Io("byokd closed the connection".into()));
            }
            let v: Value = serde_json::from_str(&reply)
                .map_err(|e| ClientError::Io(format!("bad reply: {e}")))?;
            // A notification (no id) that belongs to this call, such as a `chat.delta`.
            if v.get("id").is_none() && v.get("method").is_some() {
                on_notification(&v);
                continue;
            }
            break v;
        };
        if let Some(e) = v.get("error") {
            return Err(ClientError::Rpc {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("error")
                    .to_owned(),
            });
        }
        Ok(v.get_mut("result").map(Value::take).unwrap_or(Value::Null))
    }
}
