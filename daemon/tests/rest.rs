//! byokd's REST door as a web app meets it: a real byokd with `--http`, a mock provider and a
//! JWKS (a file, and one served over HTTP) on 127.0.0.1, signing keys made by `openssl` at test
//! time, and tokens signed by `jsonwebtoken`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

mod common;
use common::{bin, dechunk, fresh_dir, read_request, respond};

const OPENAI_KEY: &str =
    "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2e";
const OTHER_KEY: &str = "sk-proj-Bb8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe9z9z";
const ANTHROPIC_KEY: &str =
    "sk-ant-api03-Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Ab12";
const ISSUER: &str = "https://auth.example.test";
const AUDIENCE: &str = "authenticated";
const SERVICE_TOKEN: &str = "svc-test-0123456789abcdef0123456789abcdef";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A byokd with `--http` on a fresh data directory; killed when dropped.
struct Daemon {
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl Daemon {
    fn start(dir: PathBuf, extra: &[&str]) -> Daemon {
        let port = free_port();
        let log = std::fs::File::create(dir.join("test.log")).unwrap();
        let child = Command::new(bin("byokd"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--socket")
            .arg(dir.join("run/byokd.sock"))
            .args(["--http", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("BYOKIT_MASTER_KEY")
            .env_remove("BYOKIT_SERVICE_TOKEN_FILE")
            .env_remove("BYOKIT_JWT_JWKS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let d = Daemon { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while UnixStream::connect(d.dir.join("run/byokd.sock")).is_err() {
            assert!(
                Instant::now() < deadline,
                "byokd did not start: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("test.log")).unwrap_or_default()
    }

    /// The user's bearer token for the HTTP door (`byokit http token`).
    fn user_token(&self, user: &str) -> String {
        let out = Command::new(bin("byokit"))
            .arg("--socket")
            .arg(self.dir.join("run/byokd.sock"))
            .args(["--user", user, "http", "token"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut all: Vec<(&str, &str)> = vec![("host", "127.0.0.1")];
        all.extend_from_slice(headers);
        raw_request(self.port, method, path, &all, body.as_bytes())
    }

    /// A request with `auth` (a bearer token, with its extra headers).
    fn call(&self, auth: &Auth, method: &str, path: &str, body: &str) -> Reply {
        let bearer = format!("Bearer {}", auth.token);
        let mut headers = vec![("authorization", bearer.as_str())];
        if let Some(user) = &auth.user_header {
            headers.push(("x-byokit-user", user.as_str()));
        }
        headers.push(("content-type", "application/json"));
        self.request(method, path, &headers, body)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// How a request authenticates.
#[derive(Clone)]
struct Auth {
    token: String,
    user_header: Option<String>,
}

fn bearer(token: &str) -> Auth {
    Auth {
        token: token.to_owned(),
        user_header: None,
    }
}

fn service(user: &str) -> Auth {
    Auth {
        token: SERVICE_TOKEN.to_owned(),
        user_header: Some(user.to_owned()),
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            l.strip_prefix(&format!("{name}:"))
                .map(|v| v.trim().to_owned())
        })
    }
}

fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut response = Vec::new();
    let _ = s.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, text) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let text = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(text.as_bytes())
    } else {
        text.to_owned()
    };
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        text,
    }
}

/// A mock OpenAI on 127.0.0.1 (the shared fixtures) that answers only `key`.
fn mock_openai(key: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers/openai");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (head, _) = read_request(&stream);
            let authorized = head.to_ascii_lowercase().contains(&format!(
                "authorization: bearer {}",
                key.to_ascii_lowercase()
            ));
            let (status, file) = match (authorized, head.split(' ').nth(1).unwrap_or_default()) {
                (false, _) => ("401 Unauthorized", "error_401_invalid_api_key.json"),
                (true, "/v1/chat/completions") => ("200 OK", "chat.json"),
                (true, "/v1/models") => ("200 OK", "models.json"),
                _ => ("404 Not Found", "error_404_model_not_found.json"),
            };
            respond(
                &mut stream,
                status,
                "",
                &std::fs::read(fixtures.join(file)).unwrap(),
            );
        }
    });
    base
}

/// A signing key made by `openssl` in `dir`, with its public half as a JWK.
struct Signer {
    key: EncodingKey,
    alg: Algorithm,
    kid: String,
}

impl Signer {
    fn new(dir: &Path, alg: Algorithm, kid: &str) -> Signer {
        let pem = dir.join(format!("{kid}.pem"));
        let args: &[&str] = match alg {
            Algorithm::RS256 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            _ => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        };
        let ok = Command::new("openssl")
            .arg("genpkey")
            .args(args)
            .arg("-out")
            .arg(&pem)
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(ok, "openssl genpkey");
        let text = std::fs::read(&pem).unwrap();
        let _ = std::fs::remove_file(&pem);
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&text).unwrap(),
            _ => EncodingKey::from_ec_pem(&text).unwrap(),
        };
        Signer {
            key,
            alg,
            kid: kid.to_owned(),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.key, self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.clone());
        serde_json::to_value(jwk).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).unwrap()
    }

    /// A valid token for `sub`.
    fn token(&self, sub: &str) -> String {
        self.sign(&claims(sub))
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "iat": now()})
}

fn jwks(signers: &[&Signer]) -> String {
    json!({"keys": signers.iter().map(|s| s.jwk()).collect::<Vec<_>>()}).to_string()
}

/// A JWKS served over HTTP on 127.0.0.1; `up` false answers 503, and every fetch is counted.
struct JwksServer {
    url: String,
    body: Arc<Mutex<String>>,
    up: Arc<AtomicBool>,
    fetches: Arc<AtomicUsize>,
}

fn jwks_server(body: String) -> JwksServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let server = JwksServer {
        url,
        body: Arc::new(Mutex::new(body)),
        up: Arc::new(AtomicBool::new(true)),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let (body, up, fetches) = (
        Arc::clone(&server.body),
        Arc::clone(&server.up),
        Arc::clone(&server.fetches),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = read_request(&stream);
            fetches.fetch_add(1, Ordering::SeqCst);
            if up.load(Ordering::SeqCst) {
                let text = body.lock().unwrap().clone();
                respond(&mut stream, "200 OK", "", text.as_bytes());
            } else {
                respond(&mut stream, "503 Service Unavailable", "", b"{}");
            }
        }
    });
    server
}

/// The flags of a daemon that accepts all three ways, its JWKS in a file.
fn all_ways(dir: &Path, signers: &[&Signer]) -> Vec<String> {
    std::fs::write(dir.join("jwks.json"), jwks(signers)).unwrap();
    std::fs::write(dir.join("service-token"), format!("{SERVICE_TOKEN}\n")).unwrap();
    vec![
        "--service-token-file".into(),
        dir.join("service-token").display().to_string(),
        "--jwt-jwks".into(),
        dir.join("jwks.json").display().to_string(),
        "--jwt-issuer".into(),
        ISSUER.into(),
        "--jwt-audience".into(),
        AUDIENCE.into(),
    ]
}

fn start_all_ways(signers: &[&Signer], more: &[&str]) -> Daemon {
    let dir = fresh_dir();
    let mut flags = all_ways(&dir, signers);
    flags.extend(more.iter().map(|s| s.to_string()));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Daemon::start(dir, &flags)
}

/// The spec's five endpoints with a JWT of a test JWKS, end to end: save a key, see it masked,
/// test it against the mock provider, make calls, read the 7-, 30- and 90-day usage.
#[test]
fn the_spec_endpoints_end_to_end_with_a_signed_in_user() {
    let dir = fresh_dir();
    let signer = Signer::new(&dir, Algorithm::RS256, "rsa-1");
    let d = start_all_ways(&[&signer], &[]);
    let base = mock_openai(OPENAI_KEY);
    let alice = bearer(&signer.token("user_2alice"));

    let r = d.call(&alice, "GET", "/api/settings/api-config", "");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["active"], Value::Null);

    // Test Connection before Save: the typed key is tested as it would be sent, and not stored.
    let typed = json!({"provider": "openai", "api_key": OPENAI_KEY, "base_url": base});
    let r = d.call(
        &alice,
        "POST",
        "/api/settings/api-config/test",
        &typed.to_string(),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["outcome"], "valid", "{}", r.text);
    assert!(!r.text.contains(OPENAI_KEY));
    let r = d.call(&alice, "GET", "/api/settings/api-config", "");
    assert_eq!(r.json()["configs"], json!([]), "a test stores nothing");
    // A key of another provider, or one without its provider, is refused before it is sent.
    for (body, kind) in [
        (
            json!({"provider": "openai", "api_key": ANTHROPIC_KEY}),
            "bad_key",
        ),
        (json!({"api_key": OPENAI_KEY}), "invalid_params"),
        (
            json!({"provider": "openai", "base_url": base}),
            "invalid_params",
        ),
    ] {
        let r = d.call(
            &alice,
            "POST",
            "/api/settings/api-config/test",
            &body.to_string(),
        );
        assert_eq!(r.status, 400, "{r:?}");
        assert_eq!(r.json()["error"]["kind"], kind, "{}", r.text);
        assert!(!r.text.contains(OPENAI_KEY) && !r.text.contains(ANTHROPIC_KEY));
    }

    let save =
        json!({"provider": "openai", "api_key": OPENAI_KEY, "base_url": base, "model": "gpt-4o"});
    let r = d.call(
        &alice,
        "POST",
        "/api/settings/api-config",
        &save.to_string(),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert!(!r.text.contains(OPENAI_KEY), "the key is never sent back");
    assert_eq!(r.json()["is_active"], true);

    let r = d.call(&alice, "GET", "/api/settings/api-config", "");
    assert_eq!(r.status, 200);
    assert!(!r.text.contains(OPENAI_KEY));
    let masked = r.json()["active"]["api_key"].as_str().unwrap().to_owned();
    assert!(
        masked.starts_with("sk-proj-") && masked.ends_with("2e") && masked.len() < 20,
        "{masked}"
    );

    let r = d.call(&alice, "POST", "/api/settings/api-config/test", "");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["outcome"], "valid", "{}", r.text);
    assert!(!r.text.contains(OPENAI_KEY));

    // Calls, through the OpenAI-compatible door, tagged with their feature.
    let token = d.user_token("user_2alice");
    for feature in ["job_matching", "job_matching", "cover_letter"] {
        let r = d.request(
            "POST",
            "/v1/chat/completions",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("x-byokit-feature", feature),
                ("content-type", "application/json"),
            ],
            r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}"#,
        );
        assert_eq!(r.status, 200, "{r:?}");
    }
    for days in [7, 30, 90] {
        let r = d.call(
            &alice,
            "GET",
            &format!("/api/settings/usage?days={days}"),
            "",
        );
        assert_eq!(r.status, 200, "{r:?}");
        let s = r.json();
        assert_eq!(s["totals"]["requests"], 3, "{s}");
        assert_eq!(
            s["totals"]["cost_usd"], "0.00042",
            "money as a decimal string: {s}"
        );
        assert_eq!(s["by_feature"]["job_matching"]["requests"], 2);
        assert_eq!(s["by_feature"]["cover_letter"]["requests"], 1);
        assert_eq!(s["by_provider"]["openai"]["requests"], 3);
        assert!(
            s["by_model"]
                .as_object()
                .unwrap()
                .keys()
                .any(|m| m.contains("gpt-4o")),
            "{s}"
        );
        // Every day of the window, today's included.
        assert!(s["by_day"].as_array().unwrap().len() >= days, "{s}");
        // Each day's calls split by provider in the day itself (what a stacked chart draws).
        let called: Vec<&serde_json::Value> = s["by_day"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["requests"] != 0)
            .collect();
        assert!(!called.is_empty(), "{s}");
        for d in &called {
            assert_eq!(d["by_provider"]["openai"]["requests"], d["requests"], "{s}");
            assert_eq!(d["by_provider"]["openai"]["cost_usd"], d["cost_usd"], "{s}");
        }
        assert!(s.get("system_quota").is_some());
    }
    // The default window is 30 days; a bad one is a 400 naming it.
    let r = d.call(&alice, "GET", "/api/settings/usage", "");
    assert_eq!(r.json()["window"]["days"], 30);
    for bad in ["days=0", "days=366", "days=abc", "days=7&days=30"] {
        let r = d.call(&alice, "GET", &format!("/api/settings/usage?{bad}"), "");
        assert_eq!(r.status, 400, "{bad}: {r:?}");
        assert_eq!(r.json()["error"]["kind"], "invalid_params", "{bad}");
    }

    // Deleting the key keeps the usage.
    let r = d.call(
        &alice,
        "DELETE",
        "/api/settings/api-config?provider=openai",
        "",
    );
    assert_eq!(
        (r.status, r.json()["deleted"].clone()),
        (200, json!(1)),
        "{r:?}"
    );
    let r = d.call(&alice, "GET", "/api/settings/api-config", "");
    assert_eq!(r.json()["configs"], json!([]));
    let r = d.call(&alice, "GET", "/api/settings/usage?days=7", "");
    assert_eq!(r.json()["totals"]["requests"], 3);
}

/// Several keys per provider with `add`, the most recent active; delete by key id; test a
/// wrong key; budget, alerts, routing, export and the catalog.
#[test]
fn the_roadmap_endpoints_work_for_the_caller() {
    let dir = fresh_dir();
    let signer = Signer::new(&dir, Algorithm::ES256, "ec-1");
    let d = start_all_ways(&[&signer], &[]);
    let base = mock_openai(OPENAI_KEY);
    let me = bearer(&signer.token("u1"));
    for (key, add) in [(OPENAI_KEY, false), (OTHER_KEY, true)] {
        let body = json!({"provider": "openai", "api_key": key, "base_url": base, "add": add});
        assert_eq!(
            d.call(&me, "POST", "/api/settings/api-config", &body.to_string())
                .status,
            201
        );
    }
    let configs = d.call(&me, "GET", "/api/settings/api-config", "").json();
    assert_eq!(configs["configs"].as_array().unwrap().len(), 2, "{configs}");
    assert!(configs["active"]["api_key"]
        .as_str()
        .unwrap()
        .ends_with("9z"));
    // The active one is the wrong key: the test says so, with the provider's words.
    let r = d.call(
        &me,
        "POST",
        "/api/settings/api-config/test",
        r#"{"provider": "openai"}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["outcome"], "invalid_key", "{}", r.text);
    let id = configs["active"]["key_id"].as_str().unwrap();
    let r = d.call(
        &me,
        "DELETE",
        &format!("/api/settings/api-config?key_id={id}"),
        "",
    );
    assert_eq!(r.json()["deleted"], 1, "{r:?}");
    let r = d.call(&me, "POST", "/api/settings/api-config/test", "{}");
    assert_eq!(r.json()["outcome"], "valid", "{}", r.text);

    let r = d.call(&me, "GET", "/api/settings/budget", "");
    assert_eq!((r.status, r.json()), (200, Value::Null));
    let r = d.call(
        &me,
        "PUT",
        "/api/settings/budget",
        r#"{"monthly_limit_usd": "25.50", "alert_thresholds": [50, 90]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = d.call(&me, "GET", "/api/settings/budget", "");
    assert_eq!(
        r.json()["budget"]["monthly_limit_usd"],
        "25.50",
        "{}",
        r.text
    );
    let r = d.call(
        &me,
        "PUT",
        "/api/settings/budget",
        r#"{"monthly_limit_usd": "-1"}"#,
    );
    assert_eq!(r.status, 400, "{r:?}");
    let r = d.call(&me, "GET", "/api/settings/alerts", "");
    assert_eq!((r.status, r.json()), (200, json!([])));

    let routing = json!({"fallback_chain": ["anthropic"], "feature_models": {"summaries": {"provider": "openai", "model": "gpt-4o-mini"}}});
    let r = d.call(&me, "PUT", "/api/settings/routing", &routing.to_string());
    assert_eq!(r.status, 200, "{r:?}");
    let r = d.call(&me, "GET", "/api/settings/routing", "");
    assert_eq!(r.json()["fallback_chain"], json!(["anthropic"]));
    let r = d.call(
        &me,
        "PUT",
        "/api/settings/routing",
        r#"{"feature_models": {"x": {"provider": "openai", "model": "no-such-model"}}}"#,
    );
    assert_eq!(r.status, 404, "{r:?}");

    let r = d.call(
        &me,
        "GET",
        "/api/settings/usage/export?days=7&format=csv",
        "",
    );
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.text.starts_with("at,provider,model"), "{}", r.text);
    let r = d.call(&me, "GET", "/api/settings/usage/export?format=jsonl", "");
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    let r = d.call(&me, "GET", "/api/settings/usage/export?format=xml", "");
    assert_eq!(r.status, 400);

    let r = d.call(&me, "GET", "/api/catalog", "");
    assert_eq!(r.status, 200);
    let models = r.json()["models"].as_array().unwrap().clone();
    let gpt4o = models.iter().find(|m| m["id"] == "gpt-4o").unwrap();
    assert!(
        gpt4o.to_string().contains("\"2.5\"") || gpt4o.to_string().contains("\"2.50\""),
        "{gpt4o}"
    );
    // Each model's `price_today` is the price a call made today is priced at: the latest of its
    // prices that has taken effect (a price announced for later is not yet it).
    let today = time::OffsetDateTime::now_utc().date().to_string();
    for m in &models {
        let in_force = m["prices"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["effective"].as_str().unwrap() <= today.as_str())
            .max_by_key(|p| p["effective"].as_str().unwrap().to_owned());
        assert_eq!(
            Some(&m["price_today"]).filter(|p| !p.is_null()),
            in_force,
            "{m}"
        );
    }
    assert_eq!(gpt4o["price_today"]["input"], "2.5", "{gpt4o}");
}

/// User A's requests never read or change user B's data, whichever way A authenticates; only
/// the service token names a user.
#[test]
fn no_way_of_authenticating_reaches_another_users_data() {
    let dir = fresh_dir();
    let signer = Signer::new(&dir, Algorithm::RS256, "rsa-1");
    let d = start_all_ways(&[&signer], &[]);
    let base = mock_openai(OPENAI_KEY);
    let save = json!({"provider": "openai", "api_key": OPENAI_KEY, "base_url": base}).to_string();
    // B's key, saved by B's backend.
    assert_eq!(
        d.call(&service("bob"), "POST", "/api/settings/api-config", &save)
            .status,
        201
    );
    // B's budget, routing and usage (a call through /v1).
    let bob = service("bob");
    let budget = r#"{"monthly_limit_usd": "7.00"}"#;
    assert_eq!(
        d.call(&bob, "PUT", "/api/settings/budget", budget).status,
        200
    );
    let routing = r#"{"fallback_chain": ["anthropic"]}"#;
    assert_eq!(
        d.call(&bob, "PUT", "/api/settings/routing", routing).status,
        200
    );
    let bob_token = d.user_token("bob");
    let r = d.request(
        "POST",
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {bob_token}"))],
        r#"{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}"#,
    );
    assert_eq!(r.status, 200, "{r:?}");
    let everything = |who: &Auth| {
        [
            "/api/settings/api-config",
            "/api/settings/budget",
            "/api/settings/routing",
            "/api/settings/alerts",
            "/api/settings/usage?days=90",
            "/api/settings/usage/export?days=90&format=jsonl",
        ]
        .map(|path| {
            let text = d.call(who, "GET", path, "").text;
            // The summary's window ends at the time of the call: the rest must not change.
            let mut v = serde_json::from_str(&text).unwrap_or(Value::String(text));
            if let Some(summary) = v.as_object_mut() {
                summary.remove("window");
            }
            v
        })
    };
    let bob_before = d.call(&bob, "GET", "/api/settings/api-config", "").json();
    assert_eq!(bob_before["configs"].as_array().unwrap().len(), 1);
    let bob_everything = everything(&bob);
    assert_eq!(bob_everything[4]["totals"]["requests"], 1);

    let ways = [
        ("user token", bearer(&d.user_token("alice"))),
        ("service token", service("alice")),
        ("JWT", bearer(&signer.token("alice"))),
    ];
    for (way, alice) in &ways {
        // A sees none of B's keys, deletes none of them, and has no usage of B's.
        let r = d.call(alice, "GET", "/api/settings/api-config", "");
        assert_eq!(
            (r.status, r.json()["configs"].clone()),
            (200, json!([])),
            "{way}"
        );
        let r = d.call(alice, "DELETE", "/api/settings/api-config", "");
        assert_eq!(r.json()["deleted"], 0, "{way}");
        let r = d.call(alice, "POST", "/api/settings/api-config/test", "");
        assert_eq!(r.json()["error"]["kind"], "not_found", "{way}: {r:?}");
        // Naming B in the body or the query is refused.
        for (method, path, body) in [
            ("GET", "/api/settings/usage?user=bob", ""),
            ("DELETE", "/api/settings/api-config?user=bob", ""),
            (
                "POST",
                "/api/settings/api-config",
                r#"{"user": "bob", "provider": "openai", "api_key": "sk-x"}"#,
            ),
            (
                "POST",
                "/api/settings/api-config/test",
                r#"{"user": "bob"}"#,
            ),
            (
                "PUT",
                "/api/settings/budget",
                r#"{"user": "bob", "monthly_limit_usd": "1"}"#,
            ),
        ] {
            let r = d.call(alice, method, path, body);
            assert_eq!(r.status, 400, "{way} {method} {path}: {r:?}");
        }
        // Only the service token may name a user in the header.
        if *way != "service token" {
            let mut as_bob = alice.clone();
            as_bob.user_header = Some("bob".into());
            let r = d.call(&as_bob, "GET", "/api/settings/api-config", "");
            assert_eq!(r.status, 403, "{way}: {r:?}");
            let r = d.call(&as_bob, "DELETE", "/api/settings/api-config", "");
            assert_eq!(r.status, 403, "{way}: {r:?}");
        }
        // A's budget, routing and usage are A's: none of B's shows.
        // (None at first; A's own after the first way has set it; never B's 7.00.)
        let r = d.call(alice, "GET", "/api/settings/budget", "");
        let limit = r.json()["budget"]["monthly_limit_usd"].clone();
        assert!(limit == Value::Null || limit == "1.00", "{way}: {limit}");
        let r = d.call(alice, "GET", "/api/settings/routing", "");
        assert_eq!(r.json()["fallback_chain"], json!([]), "{way}");
        let r = d.call(alice, "GET", "/api/settings/usage?days=90", "");
        assert_eq!(r.json()["totals"]["requests"], 0, "{way}");
        let r = d.call(
            alice,
            "GET",
            "/api/settings/usage/export?days=90&format=jsonl",
            "",
        );
        assert_eq!(r.text, "", "{way}");
        assert_eq!(
            d.call(
                alice,
                "PUT",
                "/api/settings/budget",
                r#"{"monthly_limit_usd": "1.00"}"#
            )
            .status,
            200,
            "{way}"
        );
        assert_eq!(
            d.call(alice, "PUT", "/api/settings/routing", "{}").status,
            200,
            "{way}"
        );
        // A's own key is A's alone.
        assert_eq!(
            d.call(alice, "POST", "/api/settings/api-config", &save)
                .status,
            201,
            "{way}"
        );
        let r = d.call(alice, "DELETE", "/api/settings/api-config", "");
        assert_eq!(r.json()["deleted"], 1, "{way}");
    }
    let bob_after = d
        .call(&service("bob"), "GET", "/api/settings/api-config", "")
        .json();
    assert_eq!(bob_after, bob_before, "B's data is as it was");
    assert_eq!(
        everything(&bob),
        bob_everything,
        "B's budget, routing, alerts and usage too"
    );
    // The service token without a user, or with a user id that is not one, is refused.
    let nobody = bearer(SERVICE_TOKEN);
    assert_eq!(
        d.call(&nobody, "GET", "/api/settings/api-config", "")
            .status,
        400
    );
    let r = d.request(
        "GET",
        "/api/settings/api-config",
        &[
            ("authorization", &format!("Bearer {SERVICE_TOKEN}")),
            ("x-byokit-user", ""),
        ],
        "",
    );
    assert_eq!(r.status, 400);
    // A wrong service token is no one.
    let wrong = Auth {
        token: format!("{SERVICE_TOKEN}x"),
        user_header: Some("bob".into()),
    };
    assert_eq!(
        d.call(&wrong, "GET", "/api/settings/api-config", "").status,
        401
    );
}

/// Forged, expired, not-yet-valid, wrong-audience, wrong-issuer, unsigned and HS256 tokens,
/// and tokens of an unknown key, are all refused with 401.
#[test]
fn only_valid_jwts_of_the_configured_issuer_and_audience_are_accepted() {
    let dir = fresh_dir();
    let good = Signer::new(&dir, Algorithm::RS256, "rsa-1");
    let ec = Signer::new(&dir, Algorithm::ES256, "ec-1");
    let stranger = Signer::new(&dir, Algorithm::RS256, "rsa-1"); // same kid, other key
    let d = start_all_ways(&[&good, &ec], &[]);
    let get = |token: &str| d.call(&bearer(token), "GET", "/api/settings/api-config", "");
    assert_eq!(get(&good.token("a")).status, 200);
    assert_eq!(
        get(&ec.token("a")).status,
        200,
        "ES256 (Supabase's signing keys)"
    );

    let mut expired = claims("a");
    expired["exp"] = json!(now() - 3600);
    let mut early = claims("a");
    early["nbf"] = json!(now() + 3600);
    let mut audience = claims("a");
    audience["aud"] = json!("someone-else");
    let mut issuer = claims("a");
    issuer["iss"] = json!("https://evil.example.test");
    let mut no_exp = claims("a");
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_sub = claims("a");
    no_sub.as_object_mut().unwrap().remove("sub");
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("a"),
        &EncodingKey::from_secret(b"a guessable secret of thirty-two bytes").unwrap(),
    )
    .unwrap();
    let valid = good.token("a");
    let mut parts: Vec<&str> = valid.split('.').collect();
    let unsigned_header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let unsigned = format!("{unsigned_header}.{}.", parts[1]);
    let other_payload = base64url(claims("b").to_string().as_bytes());
    parts[1] = &other_payload;
    let tampered = parts.join(".");
    for (what, token) in [
        (
            "signed by another key with the same kid",
            stranger.token("a"),
        ),
        ("tampered payload", tampered),
        ("expired", good.sign(&expired)),
        ("not valid yet", good.sign(&early)),
        ("wrong audience", good.sign(&audience)),
        ("wrong issuer", good.sign(&issuer)),
        ("no exp", good.sign(&no_exp)),
        ("no sub", good.sign(&no_sub)),
        ("HS256 without a configured secret", hs),
        ("alg none", unsigned),
        ("garbage", "a.b.c".into()),
    ] {
        let r = get(&token);
        assert_eq!(r.status, 401, "{what}: {r:?}");
        assert_eq!(r.json()["error"]["kind"], "unauthorized", "{what}");
    }
    let mut unknown_kid = Header::new(Algorithm::RS256);
    unknown_kid.kid = Some("rsa-404".into());
    let token = jsonwebtoken::encode(&unknown_kid, &claims("a"), &good.key).unwrap();
    assert_eq!(get(&token).status, 401);
}

fn base64url(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// HS256 with a configured shared secret (Supabase's legacy tokens).
#[test]
fn hs256_tokens_are_accepted_only_with_the_configured_secret() {
    let dir = fresh_dir();
    let secret = "a-test-only-shared-secret-of-more-than-32-chars";
    std::fs::write(dir.join("hs.secret"), secret).unwrap();
    let secret_file = dir.join("hs.secret").display().to_string();
    let d = Daemon::start(
        dir,
        &[
            "--jwt-hs256-secret-file",
            &secret_file,
            "--jwt-issuer",
            ISSUER,
            "--jwt-audience",
            AUDIENCE,
        ],
    );
    let sign = |secret: &str| {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims("a"),
            &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let r = d.call(
        &bearer(&sign(secret)),
        "GET",
        "/api/settings/api-config",
        "",
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = d.call(
        &bearer(&sign("another-secret-of-more-than-thirty-two-chars")),
        "GET",
        "/api/settings/api-config",
        "",
    );
    assert_eq!(r.status, 401);
}

/// The JWKS over HTTP: fetched once and cached, fetched again for an unknown `kid` (a rotated
/// key), its stale keys serving while it is down; a 503 when it was never reached.
#[test]
fn a_jwks_endpoint_that_is_down_is_survived() {
    let dir = fresh_dir();
    let first = Signer::new(&dir, Algorithm::RS256, "k1");
    let second = Signer::new(&dir, Algorithm::ES256, "k2");
    let server = jwks_server(jwks(&[&first]));
    server.up.store(false, Ordering::SeqCst);
    let d = Daemon::start(
        dir,
        &[
            "--jwt-jwks",
            &server.url,
            "--jwt-issuer",
            ISSUER,
            "--jwt-audience",
            AUDIENCE,
        ],
    );
    let get = |s: &Signer| {
        d.call(
            &bearer(&s.token("a")),
            "GET",
            "/api/settings/api-config",
            "",
        )
    };
    // Down from the start: nothing to verify with.
    let r = get(&first);
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.json()["error"]["kind"], "unavailable");
    std::thread::sleep(Duration::from_millis(5200));
    server.up.store(true, Ordering::SeqCst);
    assert_eq!(get(&first).status, 200);
    let fetched = server.fetches.load(Ordering::SeqCst);
    for _ in 0..5 {
        assert_eq!(get(&first).status, 200);
    }
    assert_eq!(server.fetches.load(Ordering::SeqCst), fetched, "cached");
    // The provider rotates to k2 and goes down: k1 still works, k2 is not known yet.
    *server.body.lock().unwrap() = jwks(&[&first, &second]);
    server.up.store(false, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(get(&second).status, 401);
    assert_eq!(
        get(&first).status,
        200,
        "stale keys serve while the JWKS is down"
    );
    // Back up: an unknown kid fetches again (no sooner than 5 s after the last try).
    server.up.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(5200));
    assert_eq!(get(&second).status, 200);
    // A flood of made-up kids does not become a flood of fetches.
    let before = server.fetches.load(Ordering::SeqCst);
    for i in 0..20 {
        let rogue = Signer {
            key: first.key.clone(),
            alg: Algorithm::RS256,
            kid: format!("rogue-{i}"),
        };
        assert_eq!(get(&rogue).status, 401);
    }
    assert!(server.fetches.load(Ordering::SeqCst) - before <= 1);
    // A JWKS must be https:// unless it is on loopback.
    let out = Command::new(bin("byokd"))
        .args([
            "--jwt-jwks",
            "http://auth.example.test/jwks.json",
            "--jwt-issuer",
            ISSUER,
        ])
        .args([
            "--data-dir",
            "/nonexistent/byokit-rest-test",
            "--http",
            "127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"));
}

/// Loopback and configured Host names only; CORS for configured origins only; bounded and
/// well-formed bodies; a rate limit per user; another address only with --http-public.
#[test]
fn the_door_is_exposed_only_as_configured() {
    let dir = fresh_dir();
    let signer = Signer::new(&dir, Algorithm::ES256, "ec-1");
    let d = start_all_ways(
        &[&signer],
        &[
            "--http-host",
            "byokit.example.test",
            "--cors-origin",
            "https://app.example.test",
            "--rest-rate-limit",
            "30",
        ],
    );
    let token = signer.token("a");
    let auth = format!("Bearer {token}");
    let get = |host: &str| {
        raw_request(
            d.port,
            "GET",
            "/api/settings/api-config",
            &[("host", host), ("authorization", &auth)],
            b"",
        )
    };
    assert_eq!(get("localhost:1234").status, 200);
    assert_eq!(get("byokit.example.test").status, 200);
    let r = get("evil.example.test");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["kind"], "forbidden_host");

    // CORS: the configured origin is allowed, another is not.
    let preflight = |origin: &str| {
        raw_request(
            d.port,
            "OPTIONS",
            "/api/settings/api-config",
            &[
                ("host", "byokit.example.test"),
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
            ],
            b"",
        )
    };
    let r = preflight("https://app.example.test");
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.test"),
        "{r:?}"
    );
    let r = preflight("https://evil.example.test");
    assert_eq!(r.header("access-control-allow-origin"), None, "{r:?}");

    // Bodies: too large, not JSON, not an object, wrong fields.
    let me = bearer(&token);
    let big = format!(
        r#"{{"provider": "openai", "api_key": "{}"}}"#,
        "k".repeat(70 * 1024)
    );
    let r = d.call(&me, "POST", "/api/settings/api-config", &big);
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["error"]["kind"], "too_large");
    for (body, kind) in [
        ("{not json", "parse_error"),
        ("\r\n", "parse_error"),
        ("[1, 2]", "invalid_params"),
        (r#"{"provider": "nope", "api_key": "x"}"#, "invalid_params"),
        (r#"{"provider": "openai"}"#, "invalid_params"),
        (
            r#"{"provider": "openai", "api_key": "sk-x", "extra": 1}"#,
            "invalid_params",
        ),
    ] {
        let r = d.call(&me, "POST", "/api/settings/api-config", body);
        assert_eq!(r.status, 400, "{body}: {r:?}");
        assert_eq!(r.json()["error"]["kind"], kind, "{body}");
    }
    // Invalid UTF-8 in a body.
    let r = raw_request(
        d.port,
        "POST",
        "/api/settings/api-config",
        &[("host", "localhost"), ("authorization", &auth)],
        b"{\"provider\": \"\xff\"}",
    );
    assert_eq!(r.status, 400);

    // A rate limit per user: a burst past it is refused with Retry-After; another user is not.
    let mut limited = None;
    for _ in 0..40 {
        let r = d.call(&me, "GET", "/api/settings/alerts", "");
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a burst of 40 passes a limit of 30 a minute");
    assert_eq!(r.json()["error"]["kind"], "rate_limited");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(
        d.call(
            &bearer(&signer.token("b")),
            "GET",
            "/api/settings/alerts",
            ""
        )
        .status,
        200
    );
    // The catalog is not a settings endpoint.
    assert_eq!(d.call(&me, "GET", "/api/catalog", "").status, 200);

    // Another address needs --http-public.
    let out = Command::new(bin("byokd"))
        .args([
            "--http",
            "0.0.0.0:0",
            "--data-dir",
            "/nonexistent/byokit-rest-test",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--http-public"));
}

/// `/openapi.json` is OpenAPI 3.1, and every operation it documents is served (refused
/// without a token, not unknown), with its money as decimal strings in the schemas.
#[test]
fn the_openapi_document_describes_the_served_endpoints() {
    let d = Daemon::start(fresh_dir(), &[]);
    let r = d.request("GET", "/openapi.json", &[], "");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for spec in [
        "/api/settings/api-config",
        "/api/settings/api-config/test",
        "/api/settings/usage",
    ] {
        assert!(paths.contains_key(spec), "{spec}");
    }
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                op["security"].is_array(),
                "{method} {path} needs authentication"
            );
            let r = d.request(&method.to_ascii_uppercase(), path, &[], "");
            assert_eq!(r.status, 401, "{method} {path} is served: {r:?}");
            assert_eq!(r.json()["error"]["kind"], "unauthorized");
        }
    }
    assert_eq!(operations, 13);
    let schemas = &doc["components"]["schemas"];
    // Every reference resolves.
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap();
        assert!(schemas.get(name).is_some(), "unresolved {r}");
    }
    assert_eq!(
        schemas["Totals"]["properties"]["cost_usd"]["type"],
        "string"
    );
    assert_eq!(
        schemas["ConfigView"]["properties"]["api_key"]["type"],
        "string"
    );
    assert!(
        schemas["ConfigSaveParams"]["properties"]
            .get("user")
            .is_none(),
        "a body never names a user"
    );
}

/// An app's backend gets a user's token for `/v1` with the service token; a JWT cannot turn
/// itself into a lasting token; the token is the user's alone.
#[test]
fn a_backend_gets_a_users_v1_token_but_a_jwt_does_not() {
    let dir = fresh_dir();
    let signer = Signer::new(&dir, Algorithm::ES256, "ec-1");
    let d = start_all_ways(&[&signer], &[]);
    let r = d.call(&service("carol"), "POST", "/api/settings/http-token", "");
    assert_eq!(r.status, 200, "{r:?}");
    let token = r.json()["token"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["user"], "carol");
    assert_eq!(token, d.user_token("carol"), "the user's default token");
    let r = d.call(
        &bearer(&signer.token("carol")),
        "POST",
        "/api/settings/http-token",
        "",
    );
    assert_eq!(
        (r.status, r.json()["error"]["kind"].clone()),
        (403, json!("forbidden"))
    );
    // The token is carol's: it reads carol's settings, and serves /v1 as carol.
    let r = d.call(&bearer(&token), "GET", "/api/settings/usage?days=7", "");
    assert_eq!(r.status, 200);
    let r = d.call(
        &bearer(&token),
        "POST",
        "/api/settings/http-token",
        r#"{"name": "phone"}"#,
    );
    assert_eq!((r.status, r.json()["user"].clone()), (200, json!("carol")));
    let r = d.request(
        "GET",
        "/v1/models",
        &[("authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(r.status, 200);
}
