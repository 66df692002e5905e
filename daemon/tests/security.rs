//! byokd tried as an attacker would (issue #20): someone who can write the database but has no
//! master key, a provider that echoes or redirects the key, names built to confuse the
//! associated data, files and paths others can reach. Real byokd processes on temporary data
//! dirs, mock providers and listeners on 127.0.0.1.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use byokit_daemon::client::Client;
use serde_json::{json, Value};

mod common;
use common::{bin, contains, fresh_dir, read_request, respond, wait_for_socket};

const OPENAI_KEY: &str =
    "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2e";
const ANTHROPIC_KEY: &str =
    "sk-ant-api03-Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Ab12";
const GROQ_KEY: &str = "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";
const GEMINI_KEY: &str = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q";
const MISTRAL_KEY: &str = "mB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uW";

/// Each provider, one of its models and a key of its format.
const PROVIDERS: [(&str, &str, &str); 5] = [
    ("openai", "gpt-4o-mini", OPENAI_KEY),
    ("anthropic", "claude-3-haiku-20240307", ANTHROPIC_KEY),
    ("groq", "llama-3.1-8b-instant", GROQ_KEY),
    ("gemini", "gemini-2.5-flash", GEMINI_KEY),
    ("mistral", "mistral-small-latest", MISTRAL_KEY),
];

/// byokd on `dir/data`, listening on `socket`.
fn byokd(dir: &Path, socket: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(bin("byokd"));
    c.arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--socket")
        .arg(socket)
        .args(extra)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("BYOKIT_MASTER_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    c
}

/// A byokd process on a fresh data directory, its standard error in `test.log`; killed when
/// dropped.
struct Daemon {
    dir: PathBuf,
    child: Child,
}

impl Daemon {
    fn start() -> Daemon {
        Daemon::start_in(fresh_dir(), &[])
    }

    fn start_in(dir: PathBuf, extra: &[&str]) -> Daemon {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("test.log"))
            .unwrap();
        let child = byokd(&dir, &dir.join("run/byokd.sock"), extra)
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon { dir, child };
        wait_for_socket(&d.socket());
        d
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("run/byokd.sock")
    }

    fn db(&self) -> PathBuf {
        self.dir.join("data/byokit.db")
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket()).unwrap()
    }

    fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.client()
            .call(method, params)
            .map_err(|e| e.to_string())
    }

    fn save(&self, user: &str, provider: &str, key: &str, base_url: &str) -> Value {
        self.call(
            "config.save",
            json!({"user": user, "provider": provider, "api_key": key, "base_url": base_url}),
        )
        .unwrap()
    }

    /// Runs the CLI against this daemon; returns (exit code, stdout, stderr).
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(bin("byokit"))
            .arg("--socket")
            .arg(self.socket())
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// What byokd wrote on standard error so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("test.log")).unwrap_or_default()
    }

    /// Runs SQL on the database behind byokd's back, as anyone who can write the file could.
    fn tamper(&self, sql: &str) {
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch(sql).unwrap();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A listener that answers every request with `reply(head)` (status, headers, body); returns
/// its base URL and how many connections it accepted.
fn mock(
    reply: impl Fn(&str) -> (String, String, String) + Send + 'static,
) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            seen.fetch_add(1, Ordering::SeqCst);
            let (head, _) = read_request(&stream);
            let (status, headers, body) = reply(&head);
            respond(&mut stream, &status, &headers, body.as_bytes());
        }
    });
    (base, count)
}

/// A listener that only counts who connects (the attacker's).
fn attacker() -> (String, Arc<AtomicUsize>) {
    mock(|_| ("404 Not Found".into(), String::new(), "{}".into()))
}

/// A provider that refuses every request with 401, quoting `key` in its message.
fn echoing_provider(key: &'static str) -> (String, Arc<AtomicUsize>) {
    mock(move |_| {
        let message = format!("Incorrect API key provided: {key}. Check it at the console.");
        // Anthropic names the kind in `type`, the others in `code` or `status`.
        let kind = if key == ANTHROPIC_KEY {
            "authentication_error"
        } else {
            "invalid_request_error"
        };
        let body = json!({"error": {"message": message, "type": kind,
                                    "code": "invalid_api_key", "status": "UNAUTHENTICATED"},
                          "message": message, "object": "error"});
        ("401 Unauthorized".into(), String::new(), body.to_string())
    })
}

/// A provider that lists its models for anyone.
fn models_provider() -> (String, Arc<AtomicUsize>) {
    mock(|_| {
        let body = json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]});
        ("200 OK".into(), String::new(), body.to_string())
    })
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// 1. The row says where the key goes: editing it must not send the key elsewhere.

#[test]
fn an_edited_base_url_does_not_decrypt_and_no_request_leaves() {
    let d = Daemon::start();
    let (provider, _) = models_provider();
    let (evil, hits) = attacker();
    d.save("alice", "openai", OPENAI_KEY, &provider);
    let valid = d.call("config.test", json!({"user": "alice"})).unwrap();
    assert_eq!(valid["outcome"], "valid", "{valid}");
    d.tamper(&format!(
        "UPDATE user_api_configs SET base_url = '{evil}' WHERE clerk_id = 'alice'"
    ));
    let (code, out, err) = d.cli(&["--user", "alice", "config", "test"]);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the key was sent to the edited URL"
    );
    assert!(code != 0, "the edited row was used: {out}");
    assert!(err.contains("delete it and save it again"), "{err}");
    // Nor through a chat.
    let chat = d.call(
        "chat",
        json!({"user": "alice", "messages": [{"role": "user", "content": "hi"}]}),
    );
    assert!(chat.is_err(), "{chat:?}");
    // Editing the model is refused the same way.
    d.tamper(&format!(
        "UPDATE user_api_configs SET base_url = '{provider}', model = 'o1' WHERE clerk_id = 'alice'"
    ));
    assert!(d.call("config.test", json!({"user": "alice"})).is_err());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a request reached the attacker"
    );
}

#[test]
fn a_plain_http_base_url_is_refused_unless_it_is_loopback() {
    let d = Daemon::start();
    let save = |url: &str| {
        d.call(
            "config.save",
            json!({"user": "u", "provider": "openai", "api_key": OPENAI_KEY, "base_url": url}),
        )
    };
    let err = save("http://proxy.example/v1").unwrap_err();
    assert!(err.contains("https://"), "{err}");
    // Userinfo that looks like loopback does not make the host loopback.
    assert!(save("http://127.0.0.1@proxy.example/v1").is_err());
    assert!(save("https://proxy.example/v1").is_ok());
    assert!(save("http://127.0.0.1:9/v1").is_ok());
    assert!(save("http://[::1]:9/v1").is_ok());
    assert!(save("http://localhost:9/v1").is_ok());
}

// 2. Keys in replies, errors and logs.

#[test]
fn a_key_echoed_by_any_provider_reaches_no_reply_log_or_http_body() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = Daemon::start_in(fresh_dir(), &["--http", &format!("127.0.0.1:{port}")]);
    for (provider, model, key) in PROVIDERS {
        let user = format!("u-{provider}");
        let (base, hits) = echoing_provider(key);
        d.save(&user, provider, key, &base);
        let hidden = &key[..key.len() - 4];
        // config.test's message, over IPC and through the CLI.
        let test = d.call("config.test", json!({"user": user})).unwrap();
        assert_eq!(test["outcome"], "invalid_key", "{test}");
        assert!(!test.to_string().contains(hidden), "{provider}: {test}");
        let (_, out, err) = d.cli(&["--user", &user, "config", "test"]);
        assert!(!out.contains(hidden) && !err.contains(hidden), "{out}{err}");
        // A chat's error, over IPC.
        let chat = d
            .call(
                "chat",
                json!({"user": user, "model": model, "messages": [{"role": "user", "content": "hi"}]}),
            )
            .unwrap_err();
        assert!(chat.contains("Incorrect API key"), "{provider}: {chat}");
        assert!(!chat.contains(hidden), "{provider}: {chat}");
        // The HTTP door's 401 body.
        let token = d.call("http.token", json!({"user": user})).unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let (status, text) = http_post(port, &token, &body.to_string());
        assert_eq!(status, 401, "{provider}: {text}");
        assert!(!text.contains(hidden), "{provider}: {text}");
        assert!(hits.load(Ordering::SeqCst) >= 3, "{provider}");
        assert!(!d.log().contains(hidden), "{provider}: {}", d.log());
    }
    assert!(d.log().contains("Incorrect API key"), "{}", d.log());
}

/// POSTs a chat to the HTTP door; returns the status and the whole response.
fn http_post(port: u16, token: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    (response[9..12].parse().unwrap(), response)
}

#[test]
fn a_parse_error_never_quotes_the_value() {
    let d = Daemon::start();
    // provider and api_key swapped.
    let err = d
        .call(
            "config.save",
            json!({"user": "alice", "provider": OPENAI_KEY, "api_key": "openai"}),
        )
        .unwrap_err();
    assert!(err.contains("`provider`"), "{err}");
    assert!(!err.contains(&OPENAI_KEY[..20]), "{err}");
    assert!(!d.log().contains(&OPENAI_KEY[..20]), "{}", d.log());
}

// 3. Redirects carry keys away.

#[test]
fn a_redirect_from_a_provider_is_not_followed() {
    let d = Daemon::start();
    for (provider, key) in [("anthropic", ANTHROPIC_KEY), ("gemini", GEMINI_KEY)] {
        let (evil, hits) = attacker();
        let target = format!("{evil}/models");
        let (base, _) = mock(move |_| {
            (
                "307 Temporary Redirect".into(),
                format!("location: {target}\r\n"),
                "{}".into(),
            )
        });
        let user = format!("r-{provider}");
        d.save(&user, provider, key, &base);
        let test = d.call("config.test", json!({"user": user})).unwrap();
        assert_ne!(test["outcome"], "valid", "{test}");
        let chat = d.call(
            "chat",
            json!({"user": user, "messages": [{"role": "user", "content": "hi"}]}),
        );
        assert!(chat.is_err(), "{chat:?}");
        assert_eq!(
            hits.load(Ordering::SeqCst),
            0,
            "{provider}: the redirect was followed"
        );
    }
}

// 4. Associated data is ambiguous.

#[test]
fn the_nul_user_swap_fails() {
    let d = Daemon::start();
    let (evil, hits) = attacker();
    // A user whose name would shift into the provider field of the old associated data.
    let saved = d.call(
        "config.save",
        json!({"user": "x\u{0}openai", "provider": "groq", "api_key": GROQ_KEY, "base_url": evil}),
    );
    let err = saved.unwrap_err();
    assert!(err.contains("control character"), "{err}");
    // Whatever a writer of the database does with a row of another user, it does not open as
    // a key of another user, provider or id.
    d.save("y", "groq", GROQ_KEY, &evil);
    d.tamper(
        "UPDATE user_api_configs SET clerk_id = 'x', provider = 'openai', key_id = 'groq' || char(0) || key_id",
    );
    assert!(d.call("config.test", json!({"user": "x"})).is_err());
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

// 5. Files and paths.

#[test]
fn the_wal_shm_and_log_files_are_private() {
    let dir = fresh_dir();
    let (socket, data) = (dir.join("run/byokd.sock"), dir.join("data"));
    // The CLI starts byokd itself, with its log in the data dir.
    let out = Command::new(bin("byokit"))
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(&data)
        .args([
            "usage",
            "record",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
        ])
        .args(["--input", "10", "--output", "1"])
        .env_remove("ANTHROPIC_API_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = Daemon {
        dir: dir.clone(),
        child: Command::new("true").spawn().unwrap(),
    };
    for file in [
        "byokit.db",
        "byokit.db-wal",
        "byokit.db-shm",
        "byokd.log",
        "master.key",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&data), 0o700);
    drop(
        Client::connect(&socket)
            .unwrap()
            .call("daemon.stop", json!({})),
    );
    drop(d);
}

#[test]
fn a_socket_in_a_directory_others_can_write_is_refused() {
    let dir = fresh_dir();
    let shared = dir.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let out = byokd(&dir, &shared.join("x.sock"), &[]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("other OS users may write to it"), "{err}");
    // The directory is left as it was (no sticky bit dropped).
    assert_eq!(
        std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777,
        0o1777
    );
    assert!(!shared.join("x.sock").exists());
    // An existing directory of the user's own is used as it is, not locked down.
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut child = byokd(&dir, &home.join("x.sock"), &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while UnixStream::connect(home.join("x.sock")).is_err() {
        assert!(Instant::now() < deadline, "byokd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(mode(&home), 0o755);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_regular_file_at_the_socket_path_is_not_deleted() {
    let dir = fresh_dir();
    let run = dir.join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(run.join("notes.txt"), "my notes").unwrap();
    let out = byokd(&dir, &run.join("notes.txt"), &[]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("not a socket of this OS user"), "{err}");
    assert_eq!(
        std::fs::read_to_string(run.join("notes.txt")).unwrap(),
        "my notes"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_home_byokd_refuses_rather_than_use_the_current_directory() {
    let dir = fresh_dir();
    let out = Command::new(bin("byokd"))
        .current_dir(&dir)
        .env_remove("HOME")
        .env_remove("BYOKIT_DATA_DIR")
        .env_remove("XDG_DATA_HOME")
        .env_remove("BYOKIT_SOCKET")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("HOME is not set"), "{err}");
    assert!(!dir.join(".local").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

// 7. Deletion and rotation.

#[test]
fn a_deleted_key_leaves_no_ciphertext_in_the_database_or_wal() {
    let d = Daemon::start();
    let (provider, _) = models_provider();
    d.save("alice", "openai", OPENAI_KEY, &provider);
    d.save("bob", "openai", OPENAI_KEY, &provider);
    let sealed: Vec<u8> = {
        let conn = rusqlite::Connection::open(d.db()).unwrap();
        conn.query_row(
            "SELECT api_key FROM user_api_configs WHERE clerk_id = 'alice'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // The ciphertext's body (past the nonce) is what would decrypt.
    let body = &sealed[24..];
    let files = || {
        let mut all = Vec::new();
        for suffix in ["", "-wal"] {
            let mut name = d.db().into_os_string();
            name.push(suffix);
            all.extend(std::fs::read(name).unwrap_or_default());
        }
        all
    };
    assert!(contains(&files(), body), "the stored key is where expected");
    let deleted = d
        .call(
            "config.delete",
            json!({"user": "alice", "provider": "openai"}),
        )
        .unwrap();
    assert_eq!(deleted["deleted"], 1);
    assert!(
        !contains(&files(), body),
        "the deleted key's ciphertext is still on disk"
    );
    // bob's key is untouched.
    let valid = d.call("config.test", json!({"user": "bob"})).unwrap();
    assert_eq!(valid["outcome"], "valid", "{valid}");
}

#[test]
fn a_row_that_does_not_decrypt_is_named_by_rotation() {
    let d = Daemon::start();
    let (provider, _) = models_provider();
    d.save("alice", "openai", OPENAI_KEY, &provider);
    let key_id = d.call("config.get", json!({"user": "alice"})).unwrap()["active"]["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    d.tamper("UPDATE user_api_configs SET api_key = zeroblob(80) WHERE clerk_id = 'alice'");
    let err = d.call("vault.rotate", json!({})).unwrap_err();
    assert!(err.contains(&key_id), "{err}");
    assert!(err.contains("\"alice\""), "{err}");
    assert!(err.contains("config delete --key-id"), "{err}");
    // Dropping it lets the rotation through.
    d.call("config.delete", json!({"user": "alice", "key_id": key_id}))
        .unwrap();
    d.call("vault.rotate", json!({})).unwrap();
}

// 8. The trust model: the clients talk only to a byokd of their own OS user.

/// A process of another OS user listening at byokd's socket path gets nothing: the client
/// refuses the connection before sending a line. Needs root to run a listener as `nobody`
/// (as CI does); skipped otherwise.
#[test]
fn the_client_sends_nothing_to_a_socket_of_another_user() {
    if own_uid() != 0 || !Path::new("/usr/bin/perl").exists() {
        eprintln!("skipped: needs root and perl to listen as another user");
        return;
    }
    use std::os::unix::process::CommandExt;
    let dir = fresh_dir();
    let run = dir.join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (socket, received) = (run.join("byokd.sock"), run.join("received"));
    let mut listener = Command::new("/usr/bin/perl")
        .arg("-MIO::Socket::UNIX")
        .arg("-e")
        .arg(
            r#"my $s = IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 5) or die "$!";
               open(my $f, '>>', $ARGV[1]) or die "$!"; $f->autoflush(1);
               while (my $c = $s->accept) { while (my $l = <$c>) { print $f $l;
                 print $c qq({"jsonrpc":"2.0","id":1,"result":{}}\n) } }"#,
        )
        .arg(&socket)
        .arg(&received)
        .uid(65534)
        .gid(65534)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the listener did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = Client::connect(&socket).map(|mut c| {
        c.call(
            "config.save",
            json!({"user": "alice", "provider": "openai", "api_key": OPENAI_KEY}),
        )
    });
    let _ = listener.kill();
    let _ = listener.wait();
    let got = std::fs::read_to_string(&received).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!got.contains(&OPENAI_KEY[..20]), "the key was sent: {got}");
    let err = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("uid 65534"), "{err}");
}

/// This process's uid, as `id -u` says.
fn own_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}
