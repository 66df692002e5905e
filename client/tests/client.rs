//! The client against a scripted byokd stand-in on a temporary socket (a named pipe on
//! Windows): what it does with an error without an id, a silent daemon, a request over the
//! limit, notifications and late replies. (The real byokd is in `daemon/tests/client.rs`.)

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use byokit_client::local_socket::{self, Stream};
use byokit_client::{Client, Error};
use byokit_core::protocol::{ErrorKind, MAX_MESSAGE_BYTES};
use interprocess::local_socket::traits::Listener as _;
use interprocess::local_socket::ListenerOptions;
use serde_json::{json, Value};

fn socket_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "byokit-client-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    if cfg!(windows) {
        return PathBuf::from(format!(r"\\.\pipe\{name}"));
    }
    let path = std::env::temp_dir().join(format!("{name}.sock"));
    let _ = std::fs::remove_file(&path);
    path
}

/// A stand-in for byokd: accepts one connection and runs `script` on it.
fn serve(script: impl FnOnce(Stream) + Send + 'static) -> (PathBuf, JoinHandle<()>) {
    let path = socket_path();
    let listener = ListenerOptions::new()
        .name(local_socket::name(&path).unwrap())
        .create_sync()
        .unwrap();
    let handle = std::thread::spawn(move || {
        let stream = listener.accept().unwrap();
        script(stream);
    });
    (path, handle)
}

/// Reads one request line.
fn request(reader: &mut BufReader<&Stream>) -> Value {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

#[test]
fn an_error_without_an_id_fails_the_waiting_call() {
    let (path, server) = serve(|stream| {
        let mut reader = BufReader::new(&stream);
        request(&mut reader);
        let mut w = &stream;
        w.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"message over 1048576 bytes\"}}\n")
            .unwrap();
        // Stays connected: the call must end on the error, not on the connection closing.
        std::thread::sleep(Duration::from_secs(2));
    });
    let mut client = Client::connect(&path).unwrap();
    let started = Instant::now();
    let e = client.call("usage.record", json!({})).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1), "{e}");
    let rpc = e.rpc().unwrap();
    assert_eq!(rpc.kind, ErrorKind::InvalidRequest);
    assert_eq!(e.to_string(), "message over 1048576 bytes");
    server.join().unwrap();
}

#[test]
#[cfg_attr(
    windows,
    ignore = "named pipes have no read timeouts (docs/windows.md)"
)]
fn a_silent_daemon_is_a_timeout_not_a_hang() {
    let (path, server) = serve(|stream| {
        let mut reader = BufReader::new(&stream);
        request(&mut reader);
        std::thread::sleep(Duration::from_secs(2));
    });
    let mut client = Client::connect(&path).unwrap();
    client.set_read_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let e = client.call("daemon.status", json!({})).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(
        e.to_string().contains("no reply from byokd within 0.2 s"),
        "{e}"
    );
    server.join().unwrap();
}

#[test]
#[cfg_attr(
    windows,
    ignore = "named pipes have no read timeouts (docs/windows.md)"
)]
fn a_request_over_the_limit_is_refused_before_anything_is_sent() {
    let (path, server) = serve(|stream| {
        let mut received = Vec::new();
        let mut reader = &stream;
        reader.read_to_end(&mut received).unwrap();
        // Only the second, small request arrived.
        let lines: Vec<&[u8]> = received
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 1);
        let request: Value = serde_json::from_slice(lines[0]).unwrap();
        assert_eq!(request["method"], "daemon.status");
    });
    let mut client = Client::connect(&path).unwrap();
    let feature = "x".repeat(2 * MAX_MESSAGE_BYTES);
    let e = client
        .call("usage.record", json!({"feature": feature}))
        .unwrap_err();
    assert_eq!(
        e.rpc().unwrap().kind,
        ErrorKind::TooLarge {
            limit_bytes: MAX_MESSAGE_BYTES as u64
        }
    );
    assert!(
        e.to_string()
            .contains("over byokd's limit of 1048576 bytes"),
        "{e}"
    );
    client.set_read_timeout(Duration::from_millis(100));
    assert!(matches!(
        client.call("daemon.status", json!({})),
        Err(Error::Timeout(_))
    ));
    drop(client);
    server.join().unwrap();
}

#[test]
#[cfg_attr(
    windows,
    ignore = "named pipes have no read timeouts (docs/windows.md)"
)]
fn notifications_reach_the_caller_and_late_replies_are_passed_over() {
    let (path, server) = serve(|stream| {
        let mut reader = BufReader::new(&stream);
        let mut w = &stream;
        // The first call gets no answer in time; its reply comes during the second.
        let first = request(&mut reader);
        let second = request(&mut reader);
        let (a, b) = (&first["id"], &second["id"]);
        let lines = [
            json!({"jsonrpc": "2.0", "id": a, "result": "late"}),
            json!({"jsonrpc": "2.0", "id": a, "error": {"code": -32603, "message": "late too"}}),
            json!({"jsonrpc": "2.0", "method": "chat.delta", "params": {"id": a, "text": "old"}}),
            json!({"jsonrpc": "2.0", "method": "chat.delta", "params": {"id": b, "text": "Can"}}),
            json!({"jsonrpc": "2.0", "method": "chat.delta", "params": {"id": b, "text": "berra"}}),
            json!({"jsonrpc": "2.0", "id": b, "result": {"text": "Canberra"}}),
        ];
        for line in lines {
            // Written in pieces: a line may arrive over several reads.
            let text = format!("{line}\n");
            let (head, tail) = text.split_at(text.len() / 2);
            w.write_all(head.as_bytes()).unwrap();
            w.flush().unwrap();
            std::thread::sleep(Duration::from_millis(5));
            w.write_all(tail.as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    let mut client = Client::connect(&path).unwrap();
    client.set_read_timeout(Duration::from_millis(100));
    assert!(matches!(
        client.call("daemon.status", json!({})),
        Err(Error::Timeout(_))
    ));
    client.set_read_timeout(Duration::from_secs(5));
    let mut deltas = String::new();
    let result = client
        .call_with_notifications("usage.summary", json!({}), |method, params| {
            assert_eq!(method, "chat.delta");
            deltas.push_str(params["text"].as_str().unwrap());
        })
        .unwrap();
    assert_eq!(result, json!({"text": "Canberra"}));
    assert_eq!(deltas, "Canberra");
    server.join().unwrap();
}

#[test]
fn a_closed_connection_and_a_malformed_line_are_errors() {
    let (path, server) = serve(|stream| {
        let mut reader = BufReader::new(&stream);
        request(&mut reader);
        let mut w = &stream;
        w.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":\"one\",\"result\":1}\n")
            .unwrap();
        request(&mut reader);
    });
    let mut client = Client::connect(&path).unwrap();
    let e = client.call("daemon.status", json!({})).unwrap_err();
    assert!(matches!(e, Error::Malformed(_)), "{e}");
    assert!(matches!(
        client.call("daemon.status", json!({})),
        Err(Error::Closed)
    ));
    server.join().unwrap();
    let e = Client::connect(&path.with_extension("nothing-here")).unwrap_err();
    assert!(e.to_string().starts_with("cannot reach byokd at"), "{e}");
}
