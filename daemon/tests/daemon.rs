//! byokd as users and apps meet it: a real daemon process on a temporary socket and data
//! directory, driven by the real CLI and by raw JSON-RPC clients, with a mock provider on
//! 127.0.0.1.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use byokit_daemon::client::Client;

mod common;
use common::{
    bin, contains, dechunk, fresh_dir, mock_anthropic, psql, read_request, respond, test_database,
};
use serde_json::{json, Value};

const OPENAI_KEY: &str =
    "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2e";
const ANTHROPIC_KEY: &str =
    "sk-ant-api03-Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Ab12";

/// A byokd process on a fresh data directory; killed when dropped.
struct Daemon {
    dir: PathBuf,
    child: Child,
    /// Its PostgreSQL database, when the tests run on one.
    database: Option<String>,
}

impl Daemon {
    fn start() -> Daemon {
        Daemon::start_in(fresh_dir())
    }

    fn start_in(dir: PathBuf) -> Daemon {
        Daemon::start_with(dir, &[])
    }

    fn start_with(dir: PathBuf, extra: &[&str]) -> Daemon {
        Daemon::start_with_env(dir, extra, &[])
    }

    fn start_with_env(dir: PathBuf, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        // On the PostgreSQL test server too, when there is one: a database per data dir.
        let database = test_database(&dir);
        let child = common::start_byokd(&dir, database.as_deref(), extra, env);
        Daemon {
            dir,
            child,
            database,
        }
    }

    /// A daemon that also serves the HTTP endpoint; returns it and the endpoint's port.
    fn start_http() -> (Daemon, u16) {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = fresh_dir();
        (
            Daemon::start_with(dir, &["--http", &format!("127.0.0.1:{port}")]),
            port,
        )
    }

    /// Saves `key` for `user` through the CLI (on standard input), optionally with a base URL.
    fn save_key(&self, user: &str, provider: &str, key: &str, base_url: Option<&str>) {
        let mut args = vec!["--user", user, "config", "save", "--provider", provider];
        if let Some(url) = base_url {
            args.extend(["--base-url", url]);
        }
        let (code, _, err) = self.cli(&args, Some(key));
        assert_eq!(code, 0, "{err}");
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("run/byokd.sock")
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket()).unwrap()
    }

    /// Runs the CLI against this daemon; returns (exit code, stdout, stderr).
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut child = Command::new(bin("byokit"))
            .arg("--socket")
            .arg(self.socket())
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }

    /// One number from the store, by SQL: from byokit.db, or from the PostgreSQL database.
    fn sql_i64(&self, sql: &str) -> i64 {
        match &self.database {
            Some(url) => psql(url, sql).unwrap().parse().unwrap(),
            None => rusqlite::Connection::open_with_flags(
                self.dir.join("data/byokit.db"),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
        }
    }

    /// Every byte byokd wrote: database (and its WAL, or a dump of its PostgreSQL database),
    /// logs.
    fn written_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        if let Some(url) = &self.database {
            let dump = Command::new("pg_dump").args(["-d", url]).output().unwrap();
            assert!(dump.status.success());
            all.extend(dump.stdout);
        }
        for dir in [self.dir.clone(), self.dir.join("data")] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    all.extend(std::fs::read(path).unwrap_or_default());
                }
            }
        }
        all
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A mock OpenAI on 127.0.0.1: `GET /v1/models` answers the shared fixture to the right key,
/// 401 with OpenAI's error body to any other.
fn mock_openai(key: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers/openai");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (head, request_body) = read_request(&stream);
            log.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or_default().to_owned());
            let authorized = head.to_ascii_lowercase().contains(&format!(
                "authorization: bearer {}",
                key.to_ascii_lowercase()
            ));
            let streaming = String::from_utf8_lossy(&request_body).contains("\"stream\":true");
            let (status, file) = if head.starts_with("POST /v1/chat/completions ") {
                if authorized && streaming {
                    ("200 OK", "stream.sse")
                } else if authorized {
                    ("200 OK", "chat.json")
                } else {
                    ("401 Unauthorized", "error_401_invalid_api_key.json")
                }
            } else if !head.starts_with("GET /v1/models ") {
                ("404 Not Found", "error_404_model_not_found.json")
            } else if authorized {
                ("200 OK", "models.json")
            } else {
                ("401 Unauthorized", "error_401_invalid_api_key.json")
            };
            let body = std::fs::read(fixtures.join(file)).unwrap();
            respond(&mut stream, status, "", &body);
        }
    });
    (base, seen)
}

#[test]
fn the_spec_settings_flow_end_to_end() {
    let d = Daemon::start();
    let (base, requests) = mock_openai(OPENAI_KEY);
    fn alice<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [&["--user", "alice"][..], args].concat()
    }

    // Save: the key comes on standard input, never on the command line.
    let (code, out, err) = d.cli(
        &alice(&[
            "config",
            "save",
            "--provider",
            "openai",
            "--base-url",
            &base,
        ]),
        Some(OPENAI_KEY),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sk-proj-…4c2e"), "{out}");
    // Get: masked.
    let (code, out, _) = d.cli(&alice(&["config", "get", "--json"]), None);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["active"]["provider"], "openai");
    assert_eq!(v["active"]["api_key"], "sk-proj-…4c2e");
    // Test: a real HTTP request to the mock provider with the stored key.
    let (code, out, err) = d.cli(&alice(&["config", "test", "--json"]), None);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["outcome"], "valid", "{v}");
    assert!(v["models"].as_array().unwrap().len() > 3);
    assert_eq!(
        requests.lock().unwrap().last().unwrap(),
        "GET /v1/models HTTP/1.1"
    );
    // Record three calls, one of them retried with the same idempotency key.
    for key in ["a", "b", "a"] {
        let (code, _, err) = d.cli(
            &alice(&[
                "usage",
                "record",
                "--provider",
                "openai",
                "--model",
                "gpt-4o",
                "--input",
                "2000",
                "--cached-input",
                "1536",
                "--output",
                "300",
                "--feature",
                "portfolio_chat",
                "--idempotency-key",
                key,
            ]),
            None,
        );
        assert_eq!(code, 0, "{err}");
    }
    for days in ["7", "30", "90"] {
        let (code, out, _) = d.cli(&alice(&["usage", "--days", days, "--json"]), None);
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["totals"]["requests"], 2, "the retried record counts once");
        assert_eq!(v["totals"]["cost_usd"], "0.01216");
        assert_eq!(v["by_feature"]["portfolio_chat"]["cost_usd"], "0.01216");
        assert_eq!(v["by_model"]["openai/gpt-4o"]["requests"], 2);
    }
    let (code, out, _) = d.cli(&alice(&["usage", "--days", "7"]), None);
    assert_eq!(code, 0);
    assert!(out.starts_with("Last 7 days: 2 requests"), "{out}");
    // Delete: the configuration goes, the usage history stays.
    let (code, _, _) = d.cli(&alice(&["config", "delete"]), None);
    assert_eq!(code, 0);
    let (_, out, _) = d.cli(&alice(&["config", "get", "--json"]), None);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["active"],
        Value::Null
    );
    let (_, out, _) = d.cli(&alice(&["usage", "--json"]), None);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["totals"]["requests"],
        2
    );
}

#[test]
fn a_wrong_key_tests_invalid_with_the_provider_message() {
    let d = Daemon::start();
    let (base, _) = mock_openai(OPENAI_KEY);
    let other = "sk-proj-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk1Ll2Mm3Nn4Oo5Pp6Qq7Rr8Ss9Tt0Uu1Vv2";
    d.save_key("local", "openai", other, Some(&base));
    let (code, _, err) = d.cli(&["config", "test"], None);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("byokit: openai: invalid key: Incorrect API key provided"),
        "{err}"
    );
    assert!(!err.contains(other), "the key is not echoed: {err}");
    // A provider that does not answer is "unreachable", not a crash.
    let (code, _, _) = d.cli(
        &[
            "config",
            "save",
            "--provider",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
        Some(other),
    );
    assert_eq!(code, 0);
    let (_, out, _) = d.cli(&["config", "test", "--json"], None);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["outcome"],
        "unreachable"
    );
}

#[test]
fn users_never_see_each_others_data() {
    let d = Daemon::start();
    let mut c = d.client();
    c.call(
        "config.save",
        json!({"user": "alice", "provider": "openai", "api_key": OPENAI_KEY}),
    )
    .unwrap();
    c.call("usage.record", json!({"user": "alice", "provider": "openai", "model": "gpt-4o", "usage": {"input_tokens": 10, "output_tokens": 10}})).unwrap();
    let bob = c.call("config.get", json!({"user": "bob"})).unwrap();
    assert_eq!(bob["configs"], json!([]));
    let bob = c
        .call("usage.summary", json!({"user": "bob", "days": 30}))
        .unwrap();
    assert_eq!(bob["totals"]["requests"], 0);
    assert_eq!(
        c.call(
            "config.delete",
            json!({"user": "bob", "provider": "openai"})
        )
        .unwrap()["deleted"],
        0
    );
    assert_eq!(
        c.call("config.get", json!({"user": "alice"})).unwrap()["configs"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Sends raw bytes, returns the reply lines read until `n` arrived.
fn raw(socket: &Path, bytes: &[u8], n: usize) -> Vec<Value> {
    let mut s = UnixStream::connect(socket).unwrap();
    s.write_all(bytes).unwrap();
    let mut r = BufReader::new(s);
    (0..n)
        .map(|_| {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            serde_json::from_str(&line).unwrap()
        })
        .collect()
}

#[test]
fn bad_input_gets_errors_and_the_daemon_goes_on() {
    let d = Daemon::start();
    let s = d.socket();
    let code = |v: &Value| v["error"]["code"].as_i64().unwrap_or(0);
    // Garbage, a wrong envelope, an unknown method, wrong types, then a good call: one connection.
    let replies = raw(
        &s,
        concat!(
            "garbage\n",
            "{\"jsonrpc\": \"1.0\", \"id\": 1, \"method\": \"daemon.status\"}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"no.such\"}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 3, \"method\": \"usage.record\", \"params\": {\"provider\": \"openai\", \"model\": \"gpt-4o\", \"usage\": {\"input_tokens\": \"many\"}}}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 4, \"method\": \"usage.summary\", \"params\": {\"days\": 400}}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": \"config.save\", \"params\": {\"provider\": \"openai\", \"api_key\": \"sk-ant-api03-looks-like-anthropic-0123456789abcdefghijklmnopqrstuvwxyz0123\"}}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 6, \"method\": \"usage.record\", \"params\": {\"provider\": \"nosuch\", \"model\": \"x\", \"usage\": {}}}\n",
            "{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": \"daemon.status\"}\n",
            "[1, 2]\n",
        )
        .as_bytes(),
        9,
    );
    // Replies come as requests finish, matched by id (the garbage line's reply and the JSON
    // that is not a request's have a null id).
    let by_id = |id: i64| {
        replies
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no reply {id}"))
    };
    let unnamed: Vec<&Value> = replies.iter().filter(|r| r["id"].is_null()).collect();
    let mut unnamed: Vec<i64> = unnamed.into_iter().map(code).collect();
    unnamed.sort_unstable();
    assert_eq!(unnamed, [-32700, -32600]);
    assert_eq!(code(by_id(1)), -32600);
    assert_eq!(code(by_id(2)), -32601);
    assert_eq!(code(by_id(3)), -32602);
    assert!(
        by_id(3)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{}",
        by_id(3)
    );
    assert_eq!(code(by_id(4)), -32602);
    assert_eq!(code(by_id(5)), -32001);
    assert_eq!(
        by_id(5)["error"]["message"],
        "this looks like an API key for anthropic, not for openai"
    );
    assert_eq!(code(by_id(6)), -32602);
    assert!(by_id(7)["result"]["pid"].is_u64());
    // A line over 1 MiB is refused; the same connection goes on.
    let mut huge = vec![b'x'; 2 * 1024 * 1024];
    huge.extend_from_slice(b"\n{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\": \"daemon.status\"}\n");
    let replies = raw(&s, &huge, 2);
    assert!(replies
        .iter()
        .any(|r| r["id"].is_null() && code(r) == -32600));
    assert!(replies
        .iter()
        .any(|r| r["id"] == 9 && r["result"].is_object()));
    // Half a line, then the client vanishes.
    {
        let mut h = UnixStream::connect(&s).unwrap();
        h.write_all(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"meth")
            .unwrap();
    }
    // Notifications (no id) get no reply; the next call does.
    let replies = raw(&s, b"{\"jsonrpc\": \"2.0\", \"method\": \"daemon.status\"}\n{\"jsonrpc\": \"2.0\", \"id\": 10, \"method\": \"daemon.status\"}\n", 1);
    assert_eq!(replies[0]["id"], 10);
    assert!(d.client().call("daemon.status", json!({})).is_ok());
}

#[test]
fn thirty_two_clients_recording_at_once_give_exact_totals() {
    let d = Daemon::start();
    let per_client = 50;
    std::thread::scope(|scope| {
        for i in 0..32 {
            let socket = d.socket();
            scope.spawn(move || {
                let mut c = Client::connect(&socket).unwrap();
                for j in 0..per_client {
                    let r = c
                        .call(
                            "usage.record",
                            json!({"user": "load", "provider": "anthropic", "model": "claude-sonnet-4", "feature": format!("f{}", i % 4),
                                   "usage": {"input_tokens": 1000, "output_tokens": 1000}, "idempotency_key": format!("{i}-{j}")}),
                        )
                        .unwrap();
                    assert_eq!(r["cost_usd"], "0.018");
                }
            });
        }
    });
    let s = d
        .client()
        .call("usage.summary", json!({"user": "load", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 32 * per_client);
    // 1,600 × $0.018, exactly (written without trailing zeros).
    assert_eq!(s["totals"]["cost_usd"], "28.8");
    assert_eq!(s["by_feature"]["f0"]["requests"], 8 * per_client);
}

#[test]
fn every_acknowledged_record_survives_a_kill_exactly_once() {
    let mut d = Daemon::start();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    std::thread::scope(|scope| {
        for i in 0..8 {
            let socket = d.socket();
            let acked = Arc::clone(&acked);
            scope.spawn(move || {
                let Ok(mut c) = Client::connect(&socket) else { return };
                for j in 0.. {
                    let key = format!("{i}-{j}");
                    let r = c.call(
                        "usage.record",
                        json!({"user": "crash", "provider": "openai", "model": "gpt-4o-mini", "usage": {"input_tokens": 100, "output_tokens": 10}, "idempotency_key": key}),
                    );
                    match r {
                        Ok(_) => acked.lock().unwrap().push(key),
                        Err(_) => return, // the daemon died under us
                    }
                }
            });
        }
        // Let the load run, then SIGKILL mid-flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().len() < 2000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        d.kill();
    });
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 2000,
        "{} records acknowledged before the kill",
        acked.len()
    );
    let _ = std::fs::remove_file(d.socket());
    let restarted = Daemon::start_in(d.dir.clone());
    let mut c = restarted.client();
    let stored = c
        .call("usage.summary", json!({"user": "crash", "days": 1}))
        .unwrap()["totals"]["requests"]
        .as_u64()
        .unwrap();
    assert!(
        stored >= acked.len() as u64,
        "stored {stored} < acknowledged {}",
        acked.len()
    );
    // Each acknowledged record is there, once: recording it again is a duplicate.
    for key in &acked {
        let r = c
            .call("usage.record", json!({"user": "crash", "provider": "openai", "model": "gpt-4o-mini", "usage": {"input_tokens": 100, "output_tokens": 10}, "idempotency_key": key}))
            .unwrap();
        assert_eq!(r["duplicate"], true, "{key} was acknowledged but lost");
    }
    let after = c
        .call("usage.summary", json!({"user": "crash", "days": 1}))
        .unwrap()["totals"]["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(after, stored, "no acknowledged record was stored twice");
    std::mem::forget(d); // its directory now belongs to `restarted`
}

#[test]
fn the_plaintext_key_is_nowhere_but_in_memory() {
    // Every request logged, so that the scan below covers the log lines of each method too.
    let dir = std::env::temp_dir().join(format!("byokd-scan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = Daemon::start_with(dir, &["--log-requests"]);
    let (base, _) = mock_openai("not-this-one");
    let mut replies = String::new();
    for (provider, key) in [("openai", OPENAI_KEY), ("anthropic", ANTHROPIC_KEY)] {
        let (code, out, err) = d.cli(
            &[
                "--user",
                "kim",
                "config",
                "save",
                "--provider",
                provider,
                "--json",
            ],
            Some(key),
        );
        assert_eq!(code, 0, "{err}");
        replies += &out;
        replies += &err;
    }
    let (_, out, err) = d.cli(
        &[
            "--user",
            "kim",
            "config",
            "save",
            "--provider",
            "openai",
            "--base-url",
            &base,
        ],
        Some(OPENAI_KEY),
    );
    replies += &out;
    replies += &err;
    for args in [
        &["config", "get", "--json"][..],
        &["config", "test", "--json"],
        &["config", "test"],
        &["route", "--json"],
        &["usage", "--json"],
    ] {
        let (_, out, err) = d.cli(&[&["--user", "kim"][..], args].concat(), None);
        replies += &out;
        replies += &err;
    }
    let mut c = d.client();
    let _ = c.call(
        "config.save",
        json!({"user": "kim", "provider": "groq", "api_key": OPENAI_KEY}),
    );
    let _ = c.call(
        "config.save",
        json!({"user": "kim", "provider": "openai", "api_key": format!(" {OPENAI_KEY}")}),
    );
    let dump = d.written_bytes();
    assert!(
        contains(&dump, "byokd: config.save ok in"),
        "the log holds the requests"
    );
    for key in [OPENAI_KEY, ANTHROPIC_KEY] {
        assert!(!replies.contains(key), "a reply or message shows the key");
        // Any 16-character piece of the key (past its prefix) would be a leak.
        let secret = &key[14..30];
        assert!(!replies.contains(secret));
        assert!(
            !contains(&dump, secret),
            "the database or a log holds the key"
        );
    }
    assert!(
        contains(&dump, "sk-proj-…4c2e"),
        "the masked form is stored"
    );
}

#[test]
fn the_database_and_master_key_are_private_and_migrations_reapply_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::start();
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(d.dir.join("data")), 0o700);
    assert_eq!(mode(d.dir.join("data/master.key")), 0o600);
    if d.database.is_none() {
        assert_eq!(mode(d.dir.join("data/byokit.db")), 0o600);
    }
    assert_eq!(mode(d.dir.join("run")), 0o700);
    assert_eq!(mode(d.socket()) & 0o077, 0);
    // An empty database (schema 0) migrates to the latest; a migrated one is left as it is.
    let path = d.dir.join("fresh.db");
    let conn = byokit_daemon::store::open(&path).unwrap();
    let version: usize = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, byokit_daemon::store::MIGRATIONS.len());
    conn.execute(
        "INSERT INTO budgets VALUES ('u', '10', 'block', '50,80,100', 0)",
        [],
    )
    .unwrap();
    drop(conn);
    let conn = byokit_daemon::store::open(&path).unwrap();
    let kept: String = conn
        .query_row("SELECT monthly_limit_usd FROM budgets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "10");
}

#[test]
fn a_second_daemon_on_the_same_socket_refuses_to_start() {
    let d = Daemon::start();
    let out = Command::new(bin("byokd"))
        .arg("--data-dir")
        .arg(d.dir.join("data2"))
        .arg("--socket")
        .arg(d.socket())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already listening"));
    assert!(d.client().call("daemon.status", json!({})).is_ok());
    let mut s = String::new();
    let _ = std::fs::File::open(d.dir.join("test.log"))
        .unwrap()
        .read_to_string(&mut s);
    assert!(s.contains("listening on"));
}

#[test]
fn vault_rotate_reencrypts_every_key_and_they_still_work() {
    let d = Daemon::start();
    let (base, _) = mock_openai(OPENAI_KEY);
    d.save_key("local", "openai", OPENAI_KEY, Some(&base));
    let (code, _, _) = d.cli(
        &["--user", "bo", "config", "save", "--provider", "anthropic"],
        Some(ANTHROPIC_KEY),
    );
    assert_eq!(code, 0);
    // A call before the rotation: byokd now keeps the user's sealed keys in memory.
    let ask = json!({"messages": [{"role": "user", "content": "hi"}]});
    d.client().call("chat", ask.clone()).unwrap();
    let master_before = std::fs::read(d.dir.join("data/master.key")).unwrap();
    let (code, out, err) = d.cli(&["vault", "rotate"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "master key rotated; 2 stored key(s) re-encrypted"
    );
    // A call after it unseals the key sealed with the new master key, not the one kept before.
    d.client().call("chat", ask).unwrap();
    let master_after = std::fs::read(d.dir.join("data/master.key")).unwrap();
    assert_ne!(master_before, master_after);
    assert!(!d.dir.join("data/master.key.new").exists());
    // The re-sealed key still reaches the provider, now and after a restart.
    let (_, out, _) = d.cli(&["config", "test", "--json"], None);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["outcome"],
        "valid"
    );
    let dir = d.dir.clone();
    let mut d = d;
    d.kill();
    std::mem::forget(d);
    let _ = std::fs::remove_file(dir.join("run/byokd.sock"));
    let d = Daemon::start_in(dir);
    let (_, out, _) = d.cli(&["config", "test", "--json"], None);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["outcome"],
        "valid"
    );
}

#[test]
fn export_and_compare_work_on_the_users_history() {
    let d = Daemon::start();
    for (i, model) in ["gpt-4o", "gpt-4o-mini", "gpt-4o"].iter().enumerate() {
        let (code, _, err) = d.cli(
            &[
                "usage",
                "record",
                "--provider",
                "openai",
                "--model",
                model,
                "--input",
                "1500",
                "--output",
                "400",
                "--feature",
                "cover_letter, draft",
                "--idempotency-key",
                &i.to_string(),
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
    }
    let (code, out, _) = d.cli(&["usage", "export", "--days", "7"], None);
    assert_eq!(code, 0);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["cost_usd"], "0.00775");
    let (code, out, _) = d.cli(&["usage", "export", "--format", "csv"], None);
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].starts_with("at,provider,model,feature,payer,"));
    assert!(
        rows[1]
            .contains(",openai,gpt-4o,\"cover_letter, draft\",user,1500,400,0,0,0,0.00775,exact"),
        "{}",
        rows[1]
    );
    let (code, _, err) = d.cli(&["usage", "export", "--format", "xml"], None);
    assert_eq!(code, 1);
    assert_eq!(
        err.trim(),
        "byokit: unknown export format `xml`; use jsonl or csv"
    );
    // What the same three calls cost elsewhere, cheapest first, gpt-4o-mini priced exactly.
    let (code, out, _) = d.cli(&["compare", "--json"], None);
    assert_eq!(code, 0);
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    let mini = rows.iter().find(|r| r["model"] == "gpt-4o-mini").unwrap();
    assert_eq!(mini["cost_usd"], "0.001395"); // 3 × (1500 × 0.15 + 400 × 0.60) / 1M
    let (code, out, _) = d.cli(&["compare", "--top", "3"], None);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 5, "{out}");
}

#[test]
fn pipelined_requests_on_one_connection_all_get_their_reply() {
    let d = Daemon::start();
    let mut batch = String::new();
    for i in 0..500 {
        batch += &json!({"jsonrpc": "2.0", "id": i, "method": "usage.record",
            "params": {"user": "pipe", "provider": "groq", "model": "llama-3.3-70b-versatile", "usage": {"input_tokens": 100, "output_tokens": 100}}})
        .to_string();
        batch.push('\n');
    }
    let replies = raw(&d.socket(), batch.as_bytes(), 500);
    let mut ids: Vec<i64> = replies.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..500).collect::<Vec<_>>());
    let s = d
        .client()
        .call("usage.summary", json!({"user": "pipe", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 500);
}

/// A mock OpenAI that answers chat calls by key: 429 with `retry-after: 30` to `limited`, the
/// chat fixture to any other. Counts the calls per key's last 4 characters.
fn mock_openai_by_key(limited: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers/openai");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (head, _) = read_request(&stream);
            let key = head
                .lines()
                .find_map(|l| l.strip_prefix("authorization: Bearer "))
                .unwrap_or_default()
                .trim()
                .to_owned();
            // Which key each call came with, by its last four characters, in order.
            seen.lock()
                .unwrap()
                .push(key[key.len().saturating_sub(4)..].to_owned());
            let (status, extra, file) = if key == limited {
                (
                    "429 Too Many Requests",
                    "retry-after: 30\r\n",
                    "error_429_rate_limit_requests.json",
                )
            } else {
                ("200 OK", "", "chat.json")
            };
            let body = std::fs::read(fixtures.join(file)).unwrap();
            respond(&mut stream, status, extra, &body);
        }
    });
    (base, calls)
}

#[test]
fn several_keys_of_a_provider_rotate_and_a_rate_limited_one_rests() {
    const KEY_A: &str =
        "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2eAAAA";
    const KEY_B: &str =
        "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2eBBBB";
    const KEY_C: &str =
        "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2eCCCC";
    let d = Daemon::start();
    let mut c = d.client();
    let (base, calls) = mock_openai_by_key(KEY_A);
    let save = |c: &mut byokit_daemon::client::Client, user: &str, key: &str, add: bool| {
        c.call(
            "config.save",
            json!({"user": user, "provider": "openai", "api_key": key, "base_url": base, "add": add}),
        )
        .unwrap()
    };
    let ask = |user: &str| json!({"user": user, "messages": [{"role": "user", "content": "hi"}]});

    // A joins B; A, the newest, is active. Its rate limit sends the call on to B, and A rests.
    save(&mut c, "rot", KEY_B, false);
    let a = save(&mut c, "rot", KEY_A, true);
    let configs = c.call("config.get", json!({"user": "rot"})).unwrap();
    assert_eq!(configs["configs"].as_array().unwrap().len(), 2);
    assert_eq!(configs["active"]["key_id"], a["key_id"]);
    for _ in 0..3 {
        let r = c.call("chat", ask("rot")).unwrap();
        assert_eq!(r["text"], "The capital of Australia is Canberra.");
    }
    // A first (refused), then B each time: A rests.
    assert_eq!(
        calls.lock().unwrap().clone(),
        ["AAAA", "BBBB", "BBBB", "BBBB"]
    );

    // Two working keys: calls alternate between them, least recently used first.
    save(&mut c, "spread", KEY_B, false);
    save(&mut c, "spread", KEY_C, true);
    calls.lock().unwrap().clear();
    for _ in 0..4 {
        c.call("chat", ask("spread")).unwrap();
    }
    let order = calls.lock().unwrap().clone();
    assert_eq!(order.len(), 4);
    assert!(
        order.windows(2).all(|w| w[0] != w[1]),
        "the least recently used key serves next: {order:?}"
    );

    // Saving without `add` replaces the provider's keys; one key can be deleted by its id.
    let only = save(&mut c, "spread", KEY_A, false);
    let configs = c.call("config.get", json!({"user": "spread"})).unwrap();
    assert_eq!(configs["configs"].as_array().unwrap().len(), 1);
    save(&mut c, "spread", KEY_B, true);
    let deleted = c
        .call(
            "config.delete",
            json!({"user": "spread", "key_id": only["key_id"]}),
        )
        .unwrap();
    assert_eq!(deleted["deleted"], 1);
    let configs = c.call("config.get", json!({"user": "spread"})).unwrap();
    assert_eq!(configs["configs"][0]["api_key"], "sk-proj-…BBBB");
}

/// Once the user's only key rests after a rate limit, byokd refuses further calls itself and
/// says when the key is free again: `retry_after_seconds` over IPC, `Retry-After` over HTTP.
#[test]
fn a_refusal_for_resting_keys_says_when_to_retry() {
    const KEY_A: &str =
        "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2eAAAA";
    let (d, port) = Daemon::start_http();
    let (base, calls) = mock_openai_by_key(KEY_A);
    d.save_key("rest", "openai", KEY_A, Some(&base));
    let (_, token, _) = d.cli(&["--user", "rest", "http", "token"], None);
    let ask = r#"{"messages": [{"role": "user", "content": "hi"}]}"#;
    // The provider's own 429 (retry-after: 30): passed on as it came.
    let (status, head, _) = http_with_head(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some(token.trim()),
        ask,
    );
    assert_eq!(status, 429);
    assert!(head.contains("retry-after: 30"), "{head}");
    assert_eq!(calls.lock().unwrap().len(), 1);

    // Now the key rests: byokd refuses without calling, and still says when to come back.
    let (status, head, body) = http_with_head(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some(token.trim()),
        ask,
    );
    assert_eq!(status, 429, "{body}");
    let wait: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .unwrap_or_else(|| panic!("no Retry-After on the refusal: {head}"))
        .trim()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let line = json!({"jsonrpc": "2.0", "id": 1, "method": "chat",
        "params": {"user": "rest", "messages": [{"role": "user", "content": "hi"}]}});
    let reply = raw(&d.socket(), format!("{line}\n").as_bytes(), 1).remove(0);
    let data = &reply["error"]["data"];
    assert_eq!(data["kind"], "rate_limited", "{reply}");
    let seconds = data["retry_after_seconds"].as_f64().unwrap();
    assert!(seconds > 0.0 && seconds <= 30.0, "{reply}");
    assert_eq!(
        calls.lock().unwrap().len(),
        1,
        "a resting key is not called"
    );
}

/// A mock Anthropic answering every call with the chat fixture after `delay`; counts the calls.
#[test]
fn a_fallback_provider_serves_when_the_active_one_is_down_and_features_pick_their_model() {
    let d = Daemon::start();
    let mut c = d.client();
    let (anthropic, served) = mock_anthropic(Duration::ZERO);
    let (openai, tried) = mock_sequence(vec![(
        "503 Service Unavailable",
        "",
        "error_500_server_error.json",
    )]);
    for (provider, key, base) in [
        ("anthropic", ANTHROPIC_KEY, &anthropic),
        ("openai", OPENAI_KEY, &openai),
    ] {
        c.call(
            "config.save",
            json!({"user": "fb", "provider": provider, "api_key": key, "base_url": base}),
        )
        .unwrap();
    }
    let ask = json!({"user": "fb", "messages": [{"role": "user", "content": "hi"}]});
    // OpenAI, the active one, is down, and no fallback is set: the outage is the answer.
    let err = c.call("chat", ask.clone()).unwrap_err();
    assert!(err.to_string().starts_with("openai overloaded"), "{err}");
    assert_eq!(tried.load(Ordering::SeqCst), 3);
    assert_eq!(served.load(Ordering::SeqCst), 0);

    let settings = json!({"user": "fb", "fallback_chain": ["anthropic"],
        "feature_models": {"Quick Summaries": {"provider": "anthropic", "model": "claude-3-5-haiku-20241022"}}});
    c.call("routing.set", settings).unwrap();
    let got = c.call("routing.get", json!({"user": "fb"})).unwrap();
    assert_eq!(got["fallback_chain"], json!(["anthropic"]));
    // Now Anthropic serves: OpenAI's key rests after its outage, so it is not even tried.
    let r = c.call("chat", ask).unwrap();
    assert_eq!(
        (r["provider"].as_str(), r["payer"].as_str()),
        (Some("anthropic"), Some("user"))
    );
    assert_eq!(served.load(Ordering::SeqCst), 1);
    assert_eq!(tried.load(Ordering::SeqCst), 3);
    let route = c
        .call("route", json!({"user": "fb", "feature": "Quick Summaries"}))
        .unwrap();
    assert_eq!(route["provider"], "anthropic");
    assert_eq!(route["model"], "claude-3-5-haiku-20241022");
    // A model the catalog does not know is refused, with the names it might have meant.
    let err = c
        .call(
            "routing.set",
            json!({"user": "fb", "feature_models": {"x": {"provider": "openai", "model": "gpt-4o-mni"}}}),
        )
        .unwrap_err();
    assert!(err.to_string().contains("gpt-4o-mini"), "{err}");
    // The CLI shows them.
    let (code, out, _) = d.cli(&["--user", "fb", "routing", "get"], None);
    assert_eq!(code, 0);
    assert!(out.contains("fallback providers: anthropic"), "{out}");
    assert!(
        out.contains("feature Quick Summaries: anthropic/claude-3-5-haiku-20241022"),
        "{out}"
    );
}

#[test]
fn calls_running_at_once_cannot_pass_the_system_cap_together() {
    // A slow mock Anthropic: each reply after 300 ms, so that the calls overlap.
    let (base, served) = mock_anthropic(Duration::from_millis(300));
    let dir = std::env::temp_dir().join(format!("byokd-cap-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // A cap of 1,100 tokens; each call reserves about 507 (500 output tokens and the prompt): two
    // fit at once, a third does not.
    let d = Daemon::start_with_env(
        dir,
        &[
            "--system-key-env",
            "TEST_SYSTEM_KEY",
            "--system-token-cap",
            "1100",
            "--system-base-url",
            &base,
        ],
        &[("TEST_SYSTEM_KEY", ANTHROPIC_KEY)],
    );
    let ask = json!({"user": "nokey", "max_output_tokens": 500, "messages": [{"role": "user", "content": "hi"}]});
    let results = common::chats_at_once(5, |_| d.client(), &ask);
    common::assert_cap_admitted(&results, 2, &served);
    // Once they have ended, only what they used counts (24 tokens each): another call fits.
    let r = d.client().call("chat", ask).unwrap();
    assert_eq!(r["payer"], "system");
    let s = d
        .client()
        .call("usage.summary", json!({"user": "nokey", "days": 1}))
        .unwrap();
    assert_eq!(s["by_payer"]["system"]["total_tokens"], 72);
}

#[test]
fn budget_alerts_fire_at_the_crossing_record_even_within_one_commit() {
    let d = Daemon::start();
    let mut c = d.client();
    c.call(
        "budget.set",
        json!({"user": "burst", "monthly_limit_usd": "0.5", "alert_thresholds": [50, 80, 100]}),
    )
    .unwrap();
    // 50 records of 0.018 each, pipelined so that they share commits: 0.9 in all.
    let mut batch = String::new();
    for i in 0..50 {
        batch += &json!({"jsonrpc": "2.0", "id": i, "method": "usage.record",
            "params": {"user": "burst", "provider": "anthropic", "model": "claude-sonnet-4",
                       "usage": {"input_tokens": 1000, "output_tokens": 1000}}})
        .to_string();
        batch.push('\n');
    }
    assert_eq!(raw(&d.socket(), batch.as_bytes(), 50).len(), 50);
    let alerts = c.call("alerts.list", json!({"user": "burst"})).unwrap();
    let mut fired: Vec<(u64, String)> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["threshold_percent"].as_u64().unwrap(),
                a["spent_usd"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    fired.sort();
    // Each fires once, at the record that crosses it: the spending then includes the records
    // before it in the same commit.
    assert_eq!(
        fired,
        vec![
            (50, "0.252".to_owned()),
            (80, "0.414".to_owned()),
            (100, "0.504".to_owned())
        ]
    );
    let b = c.call("budget.get", json!({"user": "burst"})).unwrap();
    assert_eq!(b["status"]["spent_usd"], "0.9");
    assert_eq!(b["status"]["exceeded"], true);
}

#[test]
fn summaries_from_daily_totals_match_the_events_and_survive_migration() {
    let d = Daemon::start();
    let mut c = d.client();
    let now = time::OffsetDateTime::now_utc();
    let models = [
        ("openai", "gpt-4o"),
        ("anthropic", "claude-3-haiku-20240307"),
        ("gemini", "gemini-2.5-flash"),
    ];
    for i in 0..300i64 {
        let (p, m) = models[(i % 3) as usize];
        let feature = ["chat", "resume", ""][(i % 3) as usize];
        let payer = if i % 4 == 0 { "system" } else { "user" };
        let at = (now - time::Duration::minutes(i * 487)) // about 100 days back
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        c.call(
            "usage.record",
            json!({"user": "hist", "provider": p, "model": m, "feature": feature, "payer": payer,
                   "usage": {"input_tokens": 1000 + i, "output_tokens": 100 + i}, "at": at}),
        )
        .unwrap();
    }
    let events: Vec<byokit_core::UsageEvent> = serde_json::from_value(
        c.call("usage.export", json!({"user": "hist", "days": 365}))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(events.len(), 300);
    for days in [1, 7, 30, 90, 365] {
        let got = c
            .call("usage.summary", json!({"user": "hist", "days": days}))
            .unwrap();
        let end = time::OffsetDateTime::parse(
            got["window"]["end"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let want = byokit_core::summarize(
            &events,
            byokit_core::Window::new(end, days).unwrap(),
            None,
            None,
        );
        assert_eq!(got, serde_json::to_value(&want).unwrap(), "{days} days");
        // The database's own summary function gives the same figures.
        if let Some(url) = &d.database {
            common::assert_sql_summary_equals(url, "hist", &got);
        }
    }
    if d.database.is_some() {
        return; // the rest is SQLite's own migration
    }
    // A database of schema 2 (before daily totals) gets them filled from its logs.
    let db = d.dir.join("data/byokit.db");
    let copy = d.dir.join("v2.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch(
        "DROP TABLE usage_daily; DROP TABLE routing_settings; DROP TABLE http_tokens; DROP TABLE usage_repriced; PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(conn);
    let conn = byokit_daemon::store::open(&copy).unwrap();
    let rows: i64 = conn
        .query_row(
            "SELECT SUM(requests) FROM usage_daily WHERE clerk_id = 'hist'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 300);
    let version: usize = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, byokit_daemon::store::MIGRATIONS.len());
    drop(conn);
    // A database of schema 3 (before routing settings) gains the table and keeps its usage.
    let v3 = d.dir.join("v3.db");
    {
        let conn = rusqlite::Connection::open(&copy).unwrap();
        conn.execute("VACUUM INTO ?1", [v3.to_str().unwrap()])
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&v3).unwrap();
    conn.execute_batch(
        "DROP TABLE routing_settings; DROP TABLE http_tokens; DROP TABLE usage_repriced; PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(conn);
    let conn = byokit_daemon::store::open(&v3).unwrap();
    let (rows, settings): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT SUM(requests) FROM usage_daily WHERE clerk_id = 'hist'),
                    (SELECT COUNT(*) FROM routing_settings)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, settings), (300, 0));
}

/// A chat is answered before its usage record's commit: the record still commits before a
/// read of usage and before byokd stops, and each call has its own usage id.
#[test]
fn a_chat_answered_before_its_record_commits_is_still_recorded() {
    let mut d = Daemon::start();
    let (base, _) = mock_openai(OPENAI_KEY);
    let mut c = d.client();
    c.call("config.save", json!({"user": "fast", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o"})).unwrap();
    let ask = json!({"user": "fast", "messages": [{"role": "user", "content": "hi"}]});
    let mut ids = Vec::new();
    for i in 1..=20u64 {
        let r = c.call("chat", ask.clone()).unwrap();
        ids.push(r["usage_id"].as_i64().unwrap());
        // Read right after the reply: the summary counts it.
        let s = c
            .call("usage.summary", json!({"user": "fast", "days": 1}))
            .unwrap();
        assert_eq!(s["totals"]["requests"], i);
    }
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, ids, "usage ids are distinct and increasing");
    // Without any read, the records commit on their own within moments (`store::LINGER`).
    for _ in 0..5 {
        c.call("chat", ask.clone()).unwrap();
    }
    let stored = || d.sql_i64("SELECT COUNT(*) FROM api_usage_logs WHERE clerk_id = 'fast'");
    let deadline = Instant::now() + Duration::from_secs(5);
    while stored() < 25 {
        assert!(
            Instant::now() < deadline,
            "{} of 25 records committed",
            stored()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Calls answered, then byokd told to stop at once: their records are there after a restart.
    for _ in 0..20 {
        c.call("chat", ask.clone()).unwrap();
    }
    c.call("daemon.stop", json!({})).unwrap();
    let _ = d.child.wait();
    let mut restarted = Daemon::start_in(d.dir.clone());
    std::mem::forget(d); // its directory now belongs to `restarted`
    let mut c = restarted.client();
    let s = c
        .call("usage.summary", json!({"user": "fast", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 45);
    // New ids continue after the stored ones.
    let r = c.call("usage.record", json!({"user": "fast", "provider": "openai", "model": "gpt-4o", "usage": {"input_tokens": 1, "output_tokens": 1}})).unwrap();
    assert!(r["id"].as_i64().unwrap() > *ids.last().unwrap() + 25);
    // The same when a service manager stops it with SIGTERM.
    for _ in 0..20 {
        c.call("chat", ask.clone()).unwrap();
    }
    let killed = Command::new("kill")
        .args(["-TERM", &restarted.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = restarted.child.wait();
    let again = Daemon::start_in(restarted.dir.clone());
    std::mem::forget(restarted);
    let s = again
        .client()
        .call("usage.summary", json!({"user": "fast", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 66);
}

/// A client that sends chats and leaves without reading the replies still has every call it
/// made recorded: its requests run to their end.
#[test]
fn the_chats_of_a_client_that_left_are_still_recorded() {
    let d = Daemon::start();
    let (base, _) = mock_openai(OPENAI_KEY);
    let mut c = d.client();
    c.call("config.save", json!({"user": "gone", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o"})).unwrap();
    {
        let mut s = UnixStream::connect(d.socket()).unwrap();
        for id in 0..5 {
            let line = json!({"jsonrpc": "2.0", "id": id, "method": "chat",
                "params": {"user": "gone", "messages": [{"role": "user", "content": "hi"}]}});
            s.write_all(format!("{line}\n").as_bytes()).unwrap();
        }
    } // closed without reading a reply
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = c
            .call("usage.summary", json!({"user": "gone", "days": 1}))
            .unwrap();
        if s["totals"]["requests"] == 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of 5 calls recorded",
            s["totals"]["requests"]
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn chat_calls_the_provider_with_the_stored_key_and_records_the_usage() {
    let d = Daemon::start();
    let (base, requests) = mock_openai(OPENAI_KEY);
    let mut c = d.client();
    c.call("config.save", json!({"user": "cat", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o"})).unwrap();
    let r = c
        .call("chat", json!({"user": "cat", "feature": "ai_assistant", "messages": [{"role": "user", "content": "What is the capital of Australia?"}]}))
        .unwrap();
    assert_eq!(r["text"], "The capital of Australia is Canberra.");
    assert_eq!(r["provider"], "openai");
    assert_eq!(r["model"], "gpt-4o-2024-08-06");
    assert_eq!(r["payer"], "user");
    assert_eq!(r["usage"]["input_tokens"], 24);
    // 24 × $2.50 + 8 × $10 per million.
    assert_eq!(r["cost_usd"], "0.00014");
    assert_eq!(
        requests.lock().unwrap().last().unwrap(),
        "POST /v1/chat/completions HTTP/1.1"
    );
    let s = c
        .call("usage.summary", json!({"user": "cat", "days": 1}))
        .unwrap();
    assert_eq!(s["by_feature"]["ai_assistant"]["requests"], 1);
    assert_eq!(s["totals"]["cost_usd"], "0.00014");
    // The provider refuses a wrong key: a typed error, nothing recorded, the key not echoed.
    let other = "sk-proj-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk1Ll2Mm3Nn4Oo5Pp6Qq7Rr8Ss9Tt0Uu1Vv2";
    c.call(
        "config.save",
        json!({"user": "cat", "provider": "openai", "api_key": other, "base_url": base}),
    )
    .unwrap();
    let err = c
        .call(
            "chat",
            json!({"user": "cat", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("openai invalid_key: Incorrect API key provided"),
        "{text}"
    );
    assert!(!text.contains(other));
    assert_eq!(
        c.call("usage.summary", json!({"user": "cat", "days": 1}))
            .unwrap()["totals"]["requests"],
        1
    );
    // The CLI's chat goes the same way.
    c.call(
        "config.save",
        json!({"user": "cat", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base}),
    )
    .unwrap();
    let (code, out, err) = d.cli(
        &[
            "--user",
            "cat",
            "chat",
            "Capital of Australia?",
            "--feature",
            "ai_assistant",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("The capital of Australia is Canberra.\n"),
        "{out}"
    );
    assert!(
        out.contains("(openai/gpt-4o-2024-08-06, paid by user, 24 in / 8 out tokens, $0.00014)"),
        "{out}"
    );
    // Without any key and without a system key, the call is refused before anything is sent.
    let err = c
        .call(
            "chat",
            json!({"user": "nobody", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no API key is configured; please add your own API key"
    );
}

/// A mock OpenAI answering chat calls with the given (status, extra header, fixture file)
/// replies in turn, the last one repeated; returns its base URL and a request counter.
fn mock_sequence(
    replies: Vec<(&'static str, &'static str, &'static str)>,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers/openai");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            read_request(&stream);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let (status, header, file) = replies[n.min(replies.len() - 1)];
            let body = std::fs::read(fixtures.join(file)).unwrap();
            respond(&mut stream, status, header, &body);
        }
    });
    (base, count)
}

#[test]
fn chat_retries_rate_limits_and_outages_but_never_a_bad_key() {
    let d = Daemon::start();
    let mut c = d.client();
    let ask = json!({"user": "r", "messages": [{"role": "user", "content": "hi"}]});
    // A rate limit with retry-after 0, then a server error, then success: one answer, one record.
    let (base, count) = mock_sequence(vec![
        (
            "429 Too Many Requests",
            "retry-after: 0\r\n",
            "error_429_rate_limit_requests.json",
        ),
        (
            "500 Internal Server Error",
            "",
            "error_500_server_error.json",
        ),
        ("200 OK", "", "chat.json"),
    ]);
    c.call(
        "config.save",
        json!({"user": "r", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base}),
    )
    .unwrap();
    let r = c.call("chat", ask.clone()).unwrap();
    assert_eq!(r["text"], "The capital of Australia is Canberra.");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(
        c.call("usage.summary", json!({"user": "r", "days": 1}))
            .unwrap()["totals"]["requests"],
        1
    );
    // Always overloaded: three tries, then the classified error.
    let (base, count) = mock_sequence(vec![(
        "503 Service Unavailable",
        "",
        "error_500_server_error.json",
    )]);
    c.call(
        "config.save",
        json!({"user": "r", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base}),
    )
    .unwrap();
    let err = c.call("chat", ask.clone()).unwrap_err();
    assert!(err.to_string().starts_with("openai overloaded"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // A bad key: one try only.
    let (base, count) = mock_sequence(vec![(
        "401 Unauthorized",
        "",
        "error_401_invalid_api_key.json",
    )]);
    c.call(
        "config.save",
        json!({"user": "r", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base}),
    )
    .unwrap();
    let err = c.call("chat", ask).unwrap_err();
    assert!(err.to_string().starts_with("openai invalid_key"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(
        c.call("usage.summary", json!({"user": "r", "days": 1}))
            .unwrap()["totals"]["requests"],
        1
    );
}

/// One HTTP/1.1 request to 127.0.0.1:`port`; returns the status and the JSON body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let (status, _, json) = http_with_head(port, method, path, host, token, body);
    (status, json)
}

/// [`http`], with the response's head (status line and headers, lower-cased) too.
fn http_with_head(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token
        .map(|t| format!("authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\n{auth}content-type: application/json\r\nx-byokit-feature: job_matching\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, json) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

/// A blocking budget stops calls on the user's own keys once the month's spending reaches it,
/// over IPC and HTTP; an alerting one never does.
#[test]
fn a_blocking_budget_stops_own_key_calls_once_spent() {
    let (d, port) = Daemon::start_http();
    let (base, requests) = mock_openai(OPENAI_KEY);
    let mut c = d.client();
    c.call("config.save", json!({"user": "thrifty", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o"})).unwrap();
    let ask = json!({"user": "thrifty", "messages": [{"role": "user", "content": "hi"}]});
    // Each call costs $0.00014: the first is under the $0.0002 limit, the second crosses it.
    c.call(
        "budget.set",
        json!({"user": "thrifty", "monthly_limit_usd": "0.0002", "policy": "block"}),
    )
    .unwrap();
    c.call("chat", ask.clone()).unwrap();
    c.call("chat", ask.clone()).unwrap();
    let sent = requests.lock().unwrap().len();
    let err = c.call("chat", ask.clone()).unwrap_err().to_string();
    assert!(
        err.contains("your monthly budget of $0.0002 is spent ($0.00028 in"),
        "{err}"
    );
    assert_eq!(
        requests.lock().unwrap().len(),
        sent,
        "no call reached the provider"
    );
    let (_, token, _) = d.cli(&["--user", "thrifty", "http", "token"], None);
    let (status, v) = http(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some(token.trim()),
        r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#,
    );
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["error"]["type"], "insufficient_quota");
    // OpenAI's code is shared with a provider's "no credit" and the shared key's month; byokd's
    // own kind tells them apart.
    assert_eq!(v["error"]["byokit"]["kind"], "budget_reached", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("budget"),
        "{v}"
    );
    // A budget that cannot be is refused, and the one set stays.
    let err = c
        .call(
            "budget.set",
            json!({"user": "thrifty", "monthly_limit_usd": "1", "alert_thresholds": [0, 50]}),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("alert threshold 0% is not between 1 and 100"),
        "{err}"
    );
    assert!(
        c.call("chat", ask.clone()).is_err(),
        "still the $0.0002 budget"
    );
    // Raised: calls go again; alerting only: they always go.
    c.call(
        "budget.set",
        json!({"user": "thrifty", "monthly_limit_usd": "1", "policy": "block"}),
    )
    .unwrap();
    c.call("chat", ask.clone()).unwrap();
    c.call(
        "budget.set",
        json!({"user": "thrifty", "monthly_limit_usd": "0.0001", "policy": "allow_and_alert"}),
    )
    .unwrap();
    c.call("chat", ask).unwrap();
    let s = c
        .call("usage.summary", json!({"user": "thrifty", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 4);
}

#[test]
fn provider_errors_reach_http_clients_with_the_status_openai_would_send() {
    let (d, port) = Daemon::start_http();
    let (_, token, _) = d.cli(&["--user", "web", "http", "token"], None);
    let token = token.trim();
    let ask = r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}"#;
    let save = |base: &str| {
        d.client()
            .call(
                "config.save",
                json!({"user": "web", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base}),
            )
            .unwrap();
    };
    // Each case: the provider's one scripted reply, then what the OpenAI client gets.
    let answer = |status: &'static str, header: &'static str, file: &'static str| {
        let (base, count) = mock_sequence(vec![(status, header, file)]);
        save(&base);
        let (code, head, v) = http_with_head(
            port,
            "POST",
            "/v1/chat/completions",
            "localhost",
            Some(token),
            ask,
        );
        (
            code,
            v["error"]["code"].as_str().map(str::to_owned),
            head,
            v,
            count,
        )
    };
    // A rate limit longer than byokd waits: one try, then a 429 that passes the wait on.
    let (code, kind, head, v, count) = answer(
        "429 Too Many Requests",
        "retry-after: 30\r\n",
        "error_429_rate_limit_requests.json",
    );
    assert_eq!(
        (code, kind.as_deref()),
        (429, Some("rate_limit_exceeded")),
        "{v}"
    );
    assert!(head.contains("\r\nretry-after: 30"), "{head}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(v["error"]["byokit"]["kind"], "rate_limited", "{v}");
    assert_eq!(v["error"]["byokit"]["status"], 429, "{v}");
    // The provider refuses the key: a 401, as OpenAI itself answers.
    let (code, kind, _, v, _) = answer("401 Unauthorized", "", "error_401_invalid_api_key.json");
    assert_eq!(
        (code, kind.as_deref()),
        (401, Some("invalid_api_key")),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("openai invalid_key"),
        "{v}"
    );
    // A server error after every retry: 502.
    let (code, kind, _, v, count) = answer(
        "500 Internal Server Error",
        "",
        "error_500_server_error.json",
    );
    assert_eq!((code, kind.as_deref()), (502, Some("upstream")), "{v}");
    assert_eq!(count.load(Ordering::SeqCst), 3, "tried three times");
}

#[test]
fn the_openai_compatible_endpoint_serves_chat_and_models_to_token_holders() {
    let (d, port) = Daemon::start_http();
    let (base, _) = mock_openai(OPENAI_KEY);
    d.save_key("web", "openai", OPENAI_KEY, Some(&base));
    let (code, token, _) = d.cli(&["--user", "web", "http", "token"], None);
    assert_eq!(code, 0);
    let token = token.trim().to_owned();
    assert!(token.starts_with("byok-"));
    let (_, again, _) = d.cli(&["--user", "web", "http", "token"], None);
    assert_eq!(again.trim(), token, "the same token each time");

    let ask = r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "What is the capital of Australia?"}]}"#;
    let (status, v) = http(
        port,
        "POST",
        "/v1/chat/completions",
        &format!("127.0.0.1:{port}"),
        Some(&token),
        ask,
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "The capital of Australia is Canberra."
    );
    assert_eq!(v["usage"]["prompt_tokens"], 24);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(v["byokit"]["cost_usd"], "0.00014");
    let s = d
        .client()
        .call("usage.summary", json!({"user": "web", "days": 1}))
        .unwrap();
    assert_eq!(
        s["by_feature"]["job_matching"]["requests"], 1,
        "the feature header is recorded"
    );

    let (status, v) = http(port, "GET", "/v1/models", "localhost", Some(&token), "");
    assert_eq!(status, 200);
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "gpt-4o"));
    // No token, a wrong token, a foreign Host, no messages, garbage.
    let (status, v) = http(port, "POST", "/v1/chat/completions", "localhost", None, ask);
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, _) = http(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some("byok-wrong"),
        ask,
    );
    assert_eq!(status, 401);
    let (status, _) = http(
        port,
        "POST",
        "/v1/chat/completions",
        "evil.example:80",
        Some(&token),
        ask,
    );
    assert_eq!(status, 403);
    let (status, v) = http(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some(&token),
        r#"{"model": "gpt-4o", "messages": []}"#,
    );
    assert_eq!(status, 400, "{v}");
    let (status, _) = http(
        port,
        "POST",
        "/v1/chat/completions",
        "localhost",
        Some(&token),
        "{garbage",
    );
    assert_eq!(status, 400);
    // The token is stored only sealed and hashed: nowhere in plain text on disk.
    assert!(!contains(&d.written_bytes(), &token));
    // A non-loopback address is refused at start.
    let out = Command::new(bin("byokd"))
        .args(["--http", "0.0.0.0:0", "--socket"])
        .arg(d.dir.join("x.sock"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn the_http_endpoint_streams_like_openai_and_records_the_usage() {
    let (d, port) = Daemon::start_http();
    let (base, _) = mock_openai(OPENAI_KEY);
    let (code, _, err) = d.cli(
        &[
            "--user",
            "sse",
            "config",
            "save",
            "--provider",
            "openai",
            "--base-url",
            &base,
            "--model",
            "gpt-4o-mini",
        ],
        Some(OPENAI_KEY),
    );
    assert_eq!(code, 0, "{err}");
    let (_, token, _) = d.cli(&["--user", "sse", "http", "token"], None);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = r#"{"model": "auto", "stream": true, "messages": [{"role": "user", "content": "Un café ?"}]}"#;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        token.trim(),
        body.len()
    )
    .unwrap();
    let mut raw_reply = Vec::new();
    s.read_to_end(&mut raw_reply).unwrap();
    let reply = String::from_utf8_lossy(&raw_reply);
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply
        .to_ascii_lowercase()
        .contains("content-type: text/event-stream"));
    // The events, read back with the core's own OpenAI stream reader.
    // The body comes in HTTP/1.1 chunked framing: take the chunks back out first.
    let events = dechunk(&raw_reply[reply.find("\r\n\r\n").unwrap() + 4..]);
    let data: String = events
        .lines()
        .filter(|l| l.starts_with("data: "))
        .map(|l| format!("{l}\n\n"))
        .collect();
    let mut acc = byokit_core::StreamAccumulator::new(byokit_core::Provider::OpenAi);
    acc.push(data.as_bytes()).unwrap();
    let summary = acc.finish().unwrap();
    assert_eq!(summary.text, "Un café crème, s'il vous plaît ☕", "{reply}");
    assert!(data.trim_end().ends_with("data: [DONE]"));
    // The last chunk's usage has the same fields as a whole reply's.
    let last: Value = data
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["usage"].is_object())
        .unwrap();
    assert_eq!(
        last["usage"]["completion_tokens_details"]["reasoning_tokens"],
        0
    );
    assert_eq!(last["usage"]["total_tokens"], 23);
    match summary.usage {
        byokit_core::StreamUsage::Reported { usage } => {
            assert_eq!((usage.input_tokens, usage.output_tokens), (14, 9))
        }
        other => panic!("{other:?}"),
    }
    let s = d
        .client()
        .call("usage.summary", json!({"user": "sse", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 1);
    assert_eq!(
        s["by_model"]["openai/gpt-4o-mini-2024-07-18"]["input_tokens"],
        14
    );
}

/// A provider that streams two deltas ("Once upon a time "), pauses 800 ms, then streams 20 more
/// 50 ms apart, and never reports usage. The flag turns true when a write fails: the caller hung
/// up before the end.
fn slow_streaming_provider() -> (String, Arc<AtomicBool>) {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", upstream.local_addr().unwrap());
    let cut_short = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cut_short);
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = upstream.accept() else {
            return;
        };
        read_request(&stream);
        let event = |text: &str| {
            format!(
                "data: {}\n\n",
                json!({"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-mini-2024-07-18",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
            )
        };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
        );
        let _ = write!(stream, "{}{}", event("Once upon "), event("a time "));
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(800));
        for _ in 0..20 {
            if write!(stream, "{}", event("and then more words "))
                .and_then(|()| stream.flush())
                .is_err()
            {
                flag.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    (base, cut_short)
}

/// Waits until byokd has recorded a call of `user`; returns the recorded events.
fn recorded(d: &Daemon, user: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = d
            .client()
            .call("usage.export", json!({"user": user, "days": 1}))
            .unwrap();
        if v.as_array().is_some_and(|a| !a.is_empty()) {
            return v;
        }
        assert!(Instant::now() < deadline, "nothing was recorded");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What a call stopped when its client left records: the deltas generated until then, estimated.
fn assert_stopped_and_recorded_as_estimated(events: &Value, cut_short: &AtomicBool) {
    let e = &events[0];
    assert_eq!(e["cost_status"], "estimated", "{e}");
    assert_eq!(e["usage"]["estimated"], true);
    assert!(e["usage"]["output_tokens"].as_u64().unwrap() >= 5, "{e}");
    assert!(
        e["usage"]["input_tokens"].as_u64().unwrap() > 0,
        "the prompt is estimated too: {e}"
    );
    // The provider's stream was cut off, not read to its end.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cut_short.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < deadline,
            "byokd read the provider's stream to its end after its client left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_client_that_leaves_mid_stream_still_gets_its_usage_recorded() {
    let (base, cut_short) = slow_streaming_provider();
    let (d, port) = Daemon::start_http();
    d.save_key("gone", "openai", OPENAI_KEY, Some(&base));
    let (_, token, _) = d.cli(&["--user", "gone", "http", "token"], None);
    {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let body = r#"{"model": "gpt-4o-mini", "stream": true, "messages": [{"role": "user", "content": "Tell me a story"}]}"#;
        write!(
            s,
            "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            token.trim(),
            body.len()
        )
        .unwrap();
        // Read until the first delta arrives, then hang up.
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !String::from_utf8_lossy(&seen).contains("Once upon") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the stream ended early");
            seen.extend_from_slice(&buf[..n]);
        }
    }
    // byokd notices at its next write, stops, and records what was generated, estimated.
    assert_stopped_and_recorded_as_estimated(&recorded(&d, "gone"), &cut_short);
}

#[test]
fn a_streaming_chat_over_ipc_stops_when_its_client_leaves_and_is_recorded() {
    let (base, cut_short) = slow_streaming_provider();
    let d = Daemon::start();
    d.save_key("left", "openai", OPENAI_KEY, Some(&base));
    {
        let mut s = UnixStream::connect(d.socket()).unwrap();
        let line = json!({"jsonrpc": "2.0", "id": 1, "method": "chat", "params": {"user": "left",
            "model": "gpt-4o-mini", "stream": true,
            "messages": [{"role": "user", "content": "Tell me a story"}]}});
        s.write_all(format!("{line}\n").as_bytes()).unwrap();
        // Read until the first delta arrives, then hang up.
        let mut reader = BufReader::new(s);
        let mut note = String::new();
        while !note.contains("Once upon") {
            note.clear();
            assert!(
                reader.read_line(&mut note).unwrap() > 0,
                "byokd closed first"
            );
        }
    }
    assert_stopped_and_recorded_as_estimated(&recorded(&d, "left"), &cut_short);
}

#[test]
fn chat_streams_over_ipc_as_notifications_before_the_result() {
    let d = Daemon::start();
    let (base, _) = mock_openai(OPENAI_KEY);
    let mut c = d.client();
    c.call("config.save", json!({"user": "ipc", "provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o-mini"}))
        .unwrap();
    let mut deltas = Vec::new();
    let result = c
        .call_with_notifications(
            "chat",
            json!({"user": "ipc", "stream": true, "messages": [{"role": "user", "content": "Un café ?"}]}),
            |note| {
                assert_eq!(note["method"], "chat.delta");
                deltas.push(note["params"]["text"].as_str().unwrap().to_owned());
            },
        )
        .unwrap();
    assert!(deltas.len() > 1, "{deltas:?}");
    assert_eq!(deltas.concat(), "Un café crème, s'il vous plaît ☕");
    assert_eq!(result["text"], deltas.concat());
    assert_eq!(result["usage"]["output_tokens"], 9);
    assert_eq!(result["cost_status"], "exact");
    // The same connection serves the next call.
    assert!(c.call("daemon.status", json!({})).is_ok());
    let (code, out, err) = d.cli(&["--user", "ipc", "chat", "--stream", "Un café ?"], None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Un café crème, s'il vous plaît ☕\n"),
        "{out}"
    );
}

#[test]
fn a_budget_tracks_own_key_spending_and_fires_each_alert_once() {
    let d = Daemon::start();
    let mut c = d.client();
    let record = |c: &mut Client, payer: &str| {
        c.call(
            "usage.record",
            json!({"user": "bud", "provider": "openai", "model": "gpt-4o", "payer": payer,
                   "usage": {"input_tokens": 2000, "cached_input_tokens": 1536, "output_tokens": 300}}),
        )
        .unwrap()
    };
    assert_eq!(
        c.call("budget.get", json!({"user": "bud"})).unwrap(),
        Value::Null
    );
    let (code, _, err) = d.cli(
        &["--user", "bud", "budget", "set", "--monthly-limit", "0.02"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    record(&mut c, "user");
    record(&mut c, "user");
    record(&mut c, "system"); // the system key's calls are not the user's spending
    let b = c.call("budget.get", json!({"user": "bud"})).unwrap();
    assert_eq!(b["status"]["spent_usd"], "0.01216");
    assert_eq!(b["status"]["percent_used"], "60.80");
    assert_eq!(b["status"]["exceeded"], false);
    let alerts = c.call("alerts.list", json!({"user": "bud"})).unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 1);
    assert_eq!(alerts[0]["threshold_percent"], 50);
    record(&mut c, "user");
    record(&mut c, "user");
    let alerts = c.call("alerts.list", json!({"user": "bud"})).unwrap();
    let mut fired: Vec<u64> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["threshold_percent"].as_u64().unwrap())
        .collect();
    fired.sort_unstable();
    assert_eq!(fired, [50, 80, 100], "each threshold once");
    let b = c.call("budget.get", json!({"user": "bud"})).unwrap();
    assert_eq!(
        (
            b["status"]["spent_usd"].as_str(),
            b["status"]["exceeded"].as_bool()
        ),
        (Some("0.02432"), Some(true))
    );
    let err = c
        .call(
            "budget.set",
            json!({"user": "bud", "monthly_limit_usd": "-1"}),
        )
        .unwrap_err();
    assert!(err.to_string().contains("cannot be negative"));
}

/// Starts byokd on `dir/data` and expects it to stop at once, saying `message`, without making
/// a `master.key` there.
fn assert_byokd_refuses(dir: &Path, env: &[(&str, &str)], message: &str) {
    let out = Command::new(bin("byokd"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--socket")
        .arg(dir.join("byokd.sock"))
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(message), "{stderr}");
    assert!(!dir.join("data/master.key").exists());
}

/// Needs a Secret Service: `scripts/test.sh` runs it with `--ignored` in a D-Bus session of its
/// own, with gnome-keyring unlocked and its keyrings in a temporary folder.
#[test]
#[ignore = "needs a Secret Service (scripts/test.sh runs it in a D-Bus session with gnome-keyring)"]
fn the_master_key_can_live_in_the_os_keyring() {
    let (base, _) = mock_openai(OPENAI_KEY);
    let chat = |d: &Daemon| {
        d.client()
            .call(
                "chat",
                json!({"user": "kr", "messages": [{"role": "user", "content": "hi"}]}),
            )
            .map(|r| r["text"].clone())
    };
    // A new data dir asked to keep its master key in the keyring.
    let mut d = Daemon::start_with(fresh_dir(), &["--master-key", "keyring"]);
    let data = d.dir.join("data");
    d.save_key("kr", "openai", OPENAI_KEY, Some(&base));
    assert_eq!(chat(&d).unwrap(), "The capital of Australia is Canberra.");
    assert!(
        !data.join("master.key").exists(),
        "the master key is not a file"
    );
    assert!(
        data.join("master.key.keyring").exists(),
        "the data dir is marked"
    );

    // Later starts find it there without being told, and a rotation keeps it there.
    d.kill();
    let _ = std::fs::remove_file(d.socket());
    let mut d2 = Daemon::start_in(d.dir.clone());
    assert_eq!(chat(&d2).unwrap(), "The capital of Australia is Canberra.");
    let (code, out, err) = d2.cli(&["vault", "rotate"], None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(chat(&d2).unwrap(), "The capital of Australia is Canberra.");
    d2.kill();
    let _ = std::fs::remove_file(d2.socket());
    let mut d3 = Daemon::start_in(d.dir.clone());
    assert_eq!(chat(&d3).unwrap(), "The capital of Australia is Canberra.");
    assert!(!data.join("master.key").exists() && !data.join("master.key.new").exists());
    d3.kill();

    // The keyring's entry names the data dir: a copy elsewhere finds none, and byokd stops
    // rather than make a new key.
    let moved = fresh_dir();
    let copy = Command::new("cp")
        .arg("-a")
        .arg(&data)
        .arg(moved.join("data"))
        .status()
        .unwrap();
    assert!(copy.success());
    assert_byokd_refuses(&moved, &[], "has no entry for this data dir");
    let _ = std::fs::remove_dir_all(&moved);

    // Without the keyring, byokd says so and stops; it makes no new key.
    let dir = fresh_dir();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/master.key.keyring"), "marked\n").unwrap();
    assert_byokd_refuses(
        &dir,
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
        "the master key is kept in the OS keyring",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The pids of the byokd processes started with `--data-dir data_dir`, by their command lines.
fn daemons_serving(data_dir: &Path) -> Vec<u32> {
    use std::os::unix::ffi::OsStrExt;
    let want = data_dir.as_os_str().as_bytes();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            let is_byokd = args.first()?.ends_with(b"byokd");
            (is_byokd
                && args
                    .windows(2)
                    .any(|w| w[0] == b"--data-dir" && w[1] == want))
            .then_some(pid)
        })
        .collect()
}

/// Kills whatever byokd still serves a data dir when a test ends, passed or failed.
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        for pid in daemons_serving(&self.0) {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    }
}

/// `byokit usage record` for `user` on `socket` and `data_dir`, started but not waited for.
fn start_recorder(socket: &Path, data_dir: &Path, user: &str) -> Child {
    Command::new(bin("byokit"))
        .arg("--socket")
        .arg(socket)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--user", user, "usage", "record", "--provider", "openai"])
        .args(["--model", "gpt-4o", "--input", "100", "--output", "10"])
        .env_remove("ANTHROPIC_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (a few seconds at most) until exactly one byokd serves `data_dir`; returns how many do.
fn settle_to_one(data_dir: &Path) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = daemons_serving(data_dir).len();
        if n == 1 || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `n` recorders on `socket` and `data_dir` at once (each finds no daemon and starts
/// one); checks that every one succeeded, that exactly one byokd serves the data dir afterwards,
/// and that it holds every record.
fn race_recorders(socket: &Path, data_dir: &Path, n: u64) {
    let recorders: Vec<Child> = (0..n)
        .map(|_| start_recorder(socket, data_dir, "race"))
        .collect();
    for r in recorders {
        let out = r.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        settle_to_one(data_dir),
        1,
        "{:?}",
        daemons_serving(data_dir)
    );
    let summary = Client::connect(socket)
        .unwrap()
        .call("usage.summary", json!({"user": "race", "days": 1}))
        .unwrap();
    assert_eq!(summary["totals"]["requests"], n, "{summary}");
}

/// After a `kill -9`, eight scripts recording at the same moment each find no daemon and start
/// one: exactly one byokd serves the data dir afterwards, and every record is in it. On a new data
/// dir, seven simultaneous starts all succeed (the schema is made once).
#[test]
fn racing_auto_starts_after_a_crash_leave_exactly_one_byokd() {
    let mut d = Daemon::start();
    let data = d.dir.join("data");
    let _reaper = Reaper(data.clone());
    d.kill(); // SIGKILL: the socket file stays behind
    assert!(d.socket().exists());
    race_recorders(&d.socket(), &data, 8);

    let fresh = fresh_dir();
    let (data, socket) = (fresh.join("data"), fresh.join("run/byokd.sock"));
    let _reaper = Reaper(data.clone());
    race_recorders(&socket, &data, 7);
    let _ = std::fs::remove_dir_all(&fresh);
}

/// `byokit --socket S` without a data dir does not start byokd on the default data dir when
/// nothing answers on S: S may belong to another data dir's daemon, whose records would then
/// land in a store nobody looks at.
#[test]
fn a_named_socket_without_its_data_dir_gets_no_daemon_of_the_default_one() {
    let mut d = Daemon::start();
    d.kill();
    let home = d.dir.join("home");
    let _reaper = Reaper(home.join(".local/share/byokit"));
    let out = Command::new(bin("byokit"))
        .arg("--socket")
        .arg(d.socket())
        .args([
            "usage",
            "record",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
        ])
        .args(["--input", "1", "--output", "1"])
        .env("HOME", &home)
        .env_remove("BYOKIT_DATA_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("BYOKIT_SOCKET")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no byokd answers on"), "{err}");
    assert!(!home.exists(), "a data dir was made under HOME");
}

/// A stored value byokd cannot read back (an unknown payer, an unknown budget policy) is an
/// error that names it, never quietly a default; the daemon goes on serving.
#[test]
fn a_damaged_row_is_named_not_read_as_a_default() {
    let d = Daemon::start();
    if d.database.is_some() {
        return; // PostgreSQL's CHECK constraints refuse such values: nothing to read back
    }
    let mut c = d.client();
    c.call(
        "usage.record",
        json!({"user": "dmg", "provider": "openai", "model": "gpt-4o",
               "usage": {"input_tokens": 10, "output_tokens": 5}}),
    )
    .unwrap();
    c.call(
        "budget.set",
        json!({"user": "dmg", "monthly_limit_usd": "5"}),
    )
    .unwrap();
    let db = rusqlite::Connection::open(d.dir.join("data/byokit.db")).unwrap();
    db.execute(
        "UPDATE api_usage_logs SET payer = 'bogus' WHERE clerk_id = 'dmg'",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE budgets SET policy = 'nonsense' WHERE clerk_id = 'dmg'",
        [],
    )
    .unwrap();
    drop(db);
    let export = c
        .call("usage.export", json!({"user": "dmg", "days": 1}))
        .unwrap_err()
        .to_string();
    assert!(export.contains("payer \"bogus\""), "{export}");
    let budget = c
        .call("budget.get", json!({"user": "dmg"}))
        .unwrap_err()
        .to_string();
    assert!(budget.contains("budget policy \"nonsense\""), "{budget}");
    c.call("daemon.status", json!({})).unwrap();
}

/// Bearer tokens of the HTTP endpoint: several per user by name, each the same on every ask
/// until revoked, revoked at once, kept across a restart and a vault rotation, and never on disk
/// in plain text. Tokens from the old `http-tokens.json` keep working and the file goes; a file
/// that cannot be read is left as it is, never overwritten, whatever tokens are made meanwhile.
#[test]
fn http_tokens_are_named_revocable_and_survive_restarts_and_a_corrupt_token_file() {
    let dir = fresh_dir();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let legacy = r#"{"tokens": {"byok-legacyaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": "old"}}"#;
    std::fs::write(dir.join("data/http-tokens.json"), legacy).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let http_arg = format!("127.0.0.1:{port}");
    let mut d = Daemon::start_with(dir, &["--http", &http_arg]);
    let models = |token: &str| http(port, "GET", "/v1/models", "localhost", Some(token), "").0;
    let token = |d: &Daemon, user: &str, name: &str| {
        let (code, out, err) = d.cli(&["--user", user, "http", "token", "--name", name], None);
        assert_eq!(code, 0, "{err}");
        out.trim().to_owned()
    };
    // The imported token works, and its file is gone.
    assert_eq!(
        models("byok-legacyaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        200
    );
    assert!(!d.dir.join("data/http-tokens.json").exists());
    assert_eq!(
        token(&d, "old", "default"),
        "byok-legacyaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    );

    let laptop = token(&d, "ann", "laptop");
    let phone = token(&d, "ann", "phone");
    assert_ne!(laptop, phone);
    assert_eq!(
        token(&d, "ann", "laptop"),
        laptop,
        "the same token each time"
    );
    assert_eq!((models(&laptop), models(&phone)), (200, 200));
    let (_, list, _) = d.cli(&["--user", "ann", "http", "token", "list", "--json"], None);
    let list: Value = serde_json::from_str(&list).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop", "phone"]);
    assert!(
        !list.to_string().contains("byok-"),
        "a list never shows a token"
    );
    let (code, _, _) = d.cli(&["--user", "ann", "http", "token", "revoke", "phone"], None);
    assert_eq!(code, 0);
    assert_eq!((models(&laptop), models(&phone)), (200, 401));
    let (code, _, err) = d.cli(&["--user", "ann", "http", "token", "revoke", "phone"], None);
    assert_eq!(code, 1, "{err}");
    assert!(!contains(&d.written_bytes(), &laptop));

    // A rotation re-seals the tokens with the keys; a restart keeps them.
    let (code, _, err) = d.cli(&["vault", "rotate"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(token(&d, "ann", "laptop"), laptop);
    d.kill();
    // A token file that cannot be read stays as it is, whatever happens meanwhile.
    let corrupt = b"{\"tokens\": {\"byok-half";
    std::fs::write(d.dir.join("data/http-tokens.json"), corrupt).unwrap();
    let dir = d.dir.clone();
    std::mem::forget(d);
    let d = Daemon::start_with(dir, &["--http", &http_arg]);
    assert_eq!(models(&laptop), 200);
    let bob = token(&d, "bob", "default");
    assert_eq!((models(&bob), models(&laptop)), (200, 200));
    assert_eq!(
        std::fs::read(d.dir.join("data/http-tokens.json")).unwrap(),
        corrupt
    );
}

/// Prices change without a rebuild or a restart: byokd reads `--catalog` files again on SIGHUP
/// (and `catalog.reload`), `byokit models` shows the daemon's catalog, and `usage reprice`
/// prices the records that had no price once their model has one, noting the change; exact
/// records are never repriced.
#[test]
fn usage_reprice_prices_what_was_unknown_once_a_reloaded_catalog_knows_it() {
    let dir = fresh_dir();
    let prices = dir.join("prices.toml");
    std::fs::write(&prices, "version = \"acme.1\"\n").unwrap();
    let d = Daemon::start_with(dir, &["--catalog", prices.to_str().unwrap()]);
    let mut c = d.client();
    let record = |c: &mut Client, model: &str| {
        c.call(
            "usage.record",
            json!({"user": "fin", "provider": "openai", "model": model,
                   "usage": {"input_tokens": 1_000_000, "output_tokens": 500_000}}),
        )
        .unwrap()
    };
    let unknown = record(&mut c, "ft:acme-writer");
    assert_eq!(unknown["cost_status"], "unpriced");
    let exact = record(&mut c, "gpt-4o");
    assert_eq!(exact["cost_status"], "exact");
    // Nothing to reprice yet: the model is still unknown.
    let r = c
        .call("usage.reprice", json!({"user": "fin", "days": 1}))
        .unwrap();
    assert_eq!(
        (r["repriced"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(1))
    );

    std::fs::write(
        &prices,
        r#"version = "acme.2"
[[models]]
provider = "openai"
id = "ft:acme-writer"
[[models.prices]]
effective = "2020-01-01"
input = "3.00"
output = "12.00"
"#,
    )
    .unwrap();
    let pid = d.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = c.call("daemon.status", json!({})).unwrap();
        if status["catalog_version"]
            .as_str()
            .unwrap()
            .ends_with("+acme.2")
        {
            break;
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload: {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The CLI shows the daemon's catalog, not only the built-in one.
    let (code, listing, err) = d.cli(&["models", "--provider", "openai", "--json"], None);
    assert_eq!(code, 0, "{err}");
    assert!(listing.contains("ft:acme-writer"), "{listing}");

    let (code, out, err) = d.cli(
        &["--user", "fin", "usage", "reprice", "--days", "1", "--json"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["repriced"], 1, "{r}");
    assert!(r["catalog_version"].as_str().unwrap().ends_with("+acme.2"));
    let events = c
        .call("usage.export", json!({"user": "fin", "days": 1}))
        .unwrap();
    let by_model = |m: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["model"] == m)
            .unwrap()
            .clone()
    };
    // 1M input at $3 and 0.5M output at $12.
    assert_eq!(by_model("ft:acme-writer")["cost_usd"], "9");
    assert_eq!(by_model("ft:acme-writer")["cost_status"], "exact");
    assert_eq!(by_model("gpt-4o")["cost_usd"], exact["cost_usd"]);
    // The summary's totals follow, to the last digit.
    let s = c
        .call("usage.summary", json!({"user": "fin", "days": 1}))
        .unwrap();
    let total: byokit_core::Decimal = s["totals"]["cost_usd"].as_str().unwrap().parse().unwrap();
    let gpt4o: byokit_core::Decimal = exact["cost_usd"].as_str().unwrap().parse().unwrap();
    assert_eq!(total, gpt4o + byokit_core::Decimal::from(9));
    assert_eq!(s["totals"]["unpriced_requests"], 0);
    // Done once: again, nothing changes.
    let r = c
        .call("usage.reprice", json!({"user": "fin", "days": 1}))
        .unwrap();
    assert_eq!(r["repriced"], 0);
    // The change is noted with what it replaced.
    assert_eq!(
        d.sql_i64("SELECT COUNT(*) FROM usage_repriced WHERE from_status = 'unpriced'"),
        1
    );
    if d.database.is_some() {
        return;
    }
    let db = rusqlite::Connection::open(d.dir.join("data/byokit.db")).unwrap();
    let (from, to): (String, String) = db
        .query_row(
            "SELECT from_status, to_catalog_version FROM usage_repriced",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(from, "unpriced");
    assert!(to.ends_with("+acme.2"));
}

/// `--log-format json --log-requests`: one JSON object a line, one line per request with its
/// method, outcome and time, failures with their kind; never a parameter or a key.
#[test]
fn logs_are_json_lines_one_per_request_without_parameters() {
    let d = Daemon::start_with(fresh_dir(), &["--log-format", "json", "--log-requests"]);
    let mut c = d.client();
    c.call(
        "config.save",
        json!({"user": "log", "provider": "openai", "api_key": OPENAI_KEY}),
    )
    .unwrap();
    let _ = c.call("config.test", json!({"user": "nobody"}));
    c.call("usage.summary", json!({"user": "log", "days": 7}))
        .unwrap();
    let log = std::fs::read_to_string(d.dir.join("test.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let requests: Vec<&Value> = lines.iter().filter(|l| l["method"].is_string()).collect();
    let methods: Vec<&str> = requests
        .iter()
        .map(|l| l["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["config.save", "config.test", "usage.summary"]);
    assert_eq!(requests[1]["level"], "WARN");
    assert_eq!(requests[1]["kind"], "not_found");
    assert!(requests
        .iter()
        .all(|l| l["micros"].is_u64() && l["target"] == "byokd"));
    assert!(
        !log.contains(&OPENAI_KEY[14..30]),
        "a log line holds the key"
    );
    assert!(!log.contains("nobody"), "a log line holds a parameter");
}
