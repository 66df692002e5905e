//! What the daemon's test binaries share: where the binaries are, fresh folders, and the small
//! HTTP/1.1 pieces their mock providers speak. (Each binary uses a part, hence `dead_code`.)
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A binary of this package (`byokd`, `byokit`), as cargo built it for the tests.
pub fn bin(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_byokit")).with_file_name(name)
}

/// A new empty folder (0755, as `mkdir` makes it) for a daemon's data, socket and log, named
/// after the test binary and this process.
pub fn fresh_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "byokd-{}-{}-{}",
        env!("CARGO_CRATE_NAME"),
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Reads one HTTP/1.1 request from a mock provider's connection: its head and its body.
pub fn read_request(stream: &std::net::TcpStream) -> (String, Vec<u8>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    let _ = reader.read_exact(&mut body);
    (head, body)
}

/// Answers a mock provider's request: `status` (`"200 OK"`), `headers` (each ending in `\r\n`)
/// and a JSON `body`, then closes.
pub fn respond(stream: &mut std::net::TcpStream, status: &str, headers: &str, body: &[u8]) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(body);
}

/// The payload of an HTTP/1.1 chunked body (`<hex size>\r\n<bytes>\r\n` … `0\r\n\r\n`).
pub fn dechunk(mut body: &[u8]) -> String {
    let mut out = Vec::new();
    while let Some(end) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
    String::from_utf8(out).unwrap()
}

/// Waits (20 s at most) until something accepts connections on the Unix socket `path`.
pub fn wait_for_socket(path: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(path).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "byokd did not start on {}",
            path.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// byokd on `dir` (data in `dir/data`, its socket `dir/run/byokd.sock`, what it says appended
/// to `dir/test.log`), on the database at `database` or else its SQLite store, with none of the
/// caller's keys in its environment but `env`; returned once it answers. If it stops first, the
/// test fails with what it said.
pub fn start_byokd(
    dir: &std::path::Path,
    database: Option<&str>,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Child {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("test.log"))
        .unwrap();
    let mut child = Command::new(bin("byokd"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--socket")
        .arg(dir.join("run/byokd.sock"))
        .args(database.iter().flat_map(|u| ["--database-url", u]))
        .args(extra)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("BYOKIT_MASTER_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let socket = dir.join("run/byokd.sock");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.join("test.log")).unwrap_or_default();
            panic!("byokd stopped ({status}) before it served: {log}");
        }
        assert!(
            Instant::now() < deadline,
            "byokd did not start on {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// The PostgreSQL server the tests run against as well, when `scripts/test-postgres.sh` has
/// started one: its superuser's URL, without a database.
pub fn postgres_server() -> Option<String> {
    postgres_env("BYOKIT_TEST_DATABASE_URL")
}

/// A part of the PostgreSQL test setup that scripts/test-postgres.sh gives (the server's URL, the
/// pooler's, the CA): `None` without it, so that `cargo test` alone runs on SQLite; but where the
/// script asked for all of it (`BYOKIT_TEST_REQUIRE_POSTGRES`), a missing part fails the test
/// rather than letting it pass without having run.
pub fn postgres_env(var: &str) -> Option<String> {
    let value = std::env::var(var).ok().filter(|u| !u.is_empty());
    assert!(
        value.is_some() || std::env::var_os("BYOKIT_TEST_REQUIRE_POSTGRES").is_none(),
        "{var} is not set, and BYOKIT_TEST_REQUIRE_POSTGRES says the PostgreSQL tests must run"
    );
    value
}

/// A database of its own for a test's data dir on the test server (made on first use), as
/// `byokd --database-url` takes it; `None` when the tests run on SQLite only.
pub fn test_database(dir: &std::path::Path) -> Option<String> {
    let server = postgres_server()?;
    let name: String = dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let out = std::process::Command::new("createdb")
        .arg(format!("--maintenance-db={server}/postgres"))
        .arg(&name)
        .output()
        .expect("createdb runs (postgresql-client)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("already exists"),
        "createdb {name}: {err}"
    );
    Some(format!("{server}/{name}"))
}

/// A mock Anthropic on 127.0.0.1 whose replies (the shared fixture) come after `delay`.
pub fn mock_anthropic(delay: std::time::Duration) -> (String, std::sync::Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&served);
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/providers/anthropic/chat.json"),
    )
    .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (body, count) = (body.clone(), std::sync::Arc::clone(&count));
            std::thread::spawn(move || {
                read_request(&stream);
                count.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
                respond(&mut stream, "200 OK", "", &body);
            });
        }
    });
    (base, served)
}

/// Runs SQL (and psql's commands) with psql on `url`; answers its output (tuples only,
/// unaligned).
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    use std::io::Write;
    let mut child = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-tA",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-f",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap().trim().to_owned())
    } else {
        Err(String::from_utf8(out.stderr).unwrap())
    }
}

/// The parts of byokd's usage summary that the database's `get_user_usage_summary` also gives.
pub const SQL_SUMMARY_PARTS: [&str; 5] = [
    "totals",
    "by_provider",
    "by_payer",
    "by_feature",
    "by_model",
];

/// `get_user_usage_summary(user, days, end)` on the database at `url`, where `summary` (byokd's
/// `usage.summary` for the same window) says when it ends; checked equal to it, part by part.
pub fn assert_sql_summary_equals(url: &str, user: &str, summary: &serde_json::Value) {
    let sql = format!(
        "SELECT get_user_usage_summary('{user}', {}, '{}')",
        summary["window"]["days"],
        summary["window"]["end"].as_str().unwrap()
    );
    let sql: serde_json::Value = serde_json::from_str(&psql(url, &sql).unwrap()).unwrap();
    for part in SQL_SUMMARY_PARTS {
        assert_eq!(sql[part], summary[part], "{part} of {user}'s summary");
    }
}

/// `n` `chat` calls sent at once, call `i` on the connection `connect(i)` opens; their answers,
/// an error as its message.
pub fn chats_at_once(
    n: usize,
    connect: impl Fn(usize) -> byokit_daemon::client::Client + Sync,
    ask: &serde_json::Value,
) -> Vec<Result<serde_json::Value, String>> {
    std::thread::scope(|s| {
        let calls: Vec<_> = (0..n)
            .map(|i| {
                let connect = &connect;
                s.spawn(move || {
                    connect(i)
                        .call("chat", ask.clone())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    })
}

/// Of `results` (calls on the shared key at once), exactly `fit` answered; every other refused
/// as the shared key's month being spent; and the provider (`served` counts its replies) saw
/// only the answered ones.
pub fn assert_cap_admitted(
    results: &[Result<serde_json::Value, String>],
    fit: usize,
    served: &std::sync::atomic::AtomicUsize,
) {
    let answered = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(answered, fit, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(refused.contains("please add your own API key"), "{refused}");
    }
    assert_eq!(
        served.load(Ordering::SeqCst),
        fit,
        "refused calls never reach the provider"
    );
}
