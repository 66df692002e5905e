//! The shared blocking client (`byokit_daemon::client`, over `byokit-client`) against a real
//! byokd: a request over byokd's 1 MiB limit fails at once with a clear, typed error, and the
//! connection goes on serving; byokd's own answer to such a line (an error with a null id) is
//! what the client codec reads as the answer to the call waiting.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use byokit_core::protocol::client::{decode_line, Incoming};
use byokit_core::protocol::{ErrorKind, MAX_MESSAGE_BYTES};
use byokit_daemon::client::Client;
use serde_json::json;

mod common;
use common::wait_for_socket;

/// A byokd on a fresh folder; killed when dropped.
struct Daemon {
    dir: PathBuf,
    child: Child,
}

impl Daemon {
    fn start() -> Daemon {
        Daemon::start_named("a")
    }

    fn start_other() -> Daemon {
        Daemon::start_named("b")
    }

    fn start_named(name: &str) -> Daemon {
        let dir =
            std::env::temp_dir().join(format!("byokd-client-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_byokd")))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--socket")
            .arg(dir.join("byokd.sock"))
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("BYOKIT_MASTER_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let d = Daemon { dir, child };
        wait_for_socket(&d.socket());
        d
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("byokd.sock")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_request_over_the_limit_fails_at_once_and_the_connection_goes_on() {
    let daemon = Daemon::start();
    let mut client = Client::connect(&daemon.socket()).unwrap();
    client.set_read_timeout(Duration::from_secs(10));
    let feature = "x".repeat(2 * MAX_MESSAGE_BYTES);
    let started = Instant::now();
    let e = client
        .call(
            "usage.record",
            json!({"provider": "openai", "model": "gpt-4o", "feature": feature,
                   "usage": {"input_tokens": 1, "output_tokens": 1}}),
        )
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    let rpc = e
        .rpc()
        .unwrap_or_else(|| panic!("not byokd's kind of error: {e}"));
    assert_eq!(
        rpc.kind,
        ErrorKind::TooLarge {
            limit_bytes: MAX_MESSAGE_BYTES as u64
        }
    );
    assert_eq!(
        e.to_string(),
        "the usage.record request is 2097306 bytes, over byokd's limit of 1048576 bytes; it was not sent"
    );
    // The same connection serves the next call.
    let status = client.call("daemon.status", json!({})).unwrap();
    assert_eq!(status["socket"], daemon.socket().to_str().unwrap());
}

#[test]
fn byokds_answer_to_an_oversize_line_is_an_error_for_the_call_waiting() {
    let daemon = Daemon::start_other();
    let stream = UnixStream::connect(daemon.socket()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut line = json!({"jsonrpc": "2.0", "id": 1, "method": "usage.record",
                          "params": {"feature": "x".repeat(2 * MAX_MESSAGE_BYTES)}})
    .to_string();
    line.push('\n');
    (&stream).write_all(line.as_bytes()).unwrap();
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).unwrap();
    match decode_line(reply.as_bytes()).unwrap() {
        Incoming::ErrorReply { id: None, error } => assert!(
            matches!(
                error.kind,
                ErrorKind::InvalidRequest | ErrorKind::TooLarge { .. }
            ),
            "{error:?}"
        ),
        other => panic!("{other:?}"),
    }
}
