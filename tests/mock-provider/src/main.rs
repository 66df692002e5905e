//! `byokit-mock`: the HTTP APIs of OpenAI, Anthropic, Groq, Gemini and Mistral on 127.0.0.1, for
//! tests and benchmarks. Replies are the shared fixtures in `tests/fixtures/providers/` (realistic
//! text and usage, streamed or not), and faults are scripted.
//!
//! Each provider lives under its own prefix, so one mock serves all five: point a key's base URL
//! at `http://127.0.0.1:PORT/openai/v1`, `/anthropic/v1`, `/groq/openai/v1`, `/gemini/v1beta` or
//! `/mistral/v1`. Requests without the provider's auth header (`Authorization: Bearer`,
//! `x-api-key`, `x-goog-api-key`) get the provider's 401.
//!
//! Faults, applied to the next chat requests in order (then every request succeeds):
//! `ok`; `401`; `429` or `429:SECONDS` (a rate limit with `retry-after`); `529` (Anthropic's
//! overload; the others' 503); `500`; `slow:MS` (the first byte after MS milliseconds);
//! `trickle:MS` (a stream's pieces MS milliseconds apart); `drop` (a stream cut off halfway, the
//! connection dropped). Give them with `--fault` (repeatable) or
//! `POST /_mock/faults` with a JSON array; `GET /_mock/stats` counts the requests served.
//!
//! The first line on stdout is `listening on http://127.0.0.1:PORT`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};

/// Serves the five providers' APIs with scripted faults.
#[derive(Parser)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
    /// The shared provider fixtures.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/providers"))]
    fixtures: PathBuf,
    /// A fault for the next chat request (repeatable, in order).
    #[arg(long = "fault")]
    faults: Vec<String>,
}

/// A scripted fault.
#[derive(Debug, Clone, PartialEq)]
enum Fault {
    Ok,
    Status(u16, Option<u64>),
    Slow(Duration),
    Trickle(Duration),
    Drop,
}

fn parse_fault(s: &str) -> Result<Fault, String> {
    let (name, arg) = s.split_once(':').unwrap_or((s, ""));
    let number = |what: &str| {
        arg.parse::<u64>()
            .map_err(|_| format!("fault `{s}`: {what} must be a whole number"))
    };
    Ok(match name {
        "ok" => Fault::Ok,
        "401" | "500" | "529" => Fault::Status(name.parse().unwrap_or(500), None),
        "429" => Fault::Status(
            429,
            Some(if arg.is_empty() {
                1
            } else {
                number("seconds")?
            }),
        ),
        "slow" => Fault::Slow(Duration::from_millis(number("milliseconds")?)),
        "trickle" => Fault::Trickle(Duration::from_millis(number("milliseconds")?)),
        "drop" => Fault::Drop,
        _ => {
            return Err(format!(
                "unknown fault `{s}` (ok, 401, 429[:S], 529, 500, slow:MS, trickle:MS, drop)"
            ))
        }
    })
}

struct Mock {
    fixtures: PathBuf,
    faults: Mutex<VecDeque<Fault>>,
    served: AtomicU64,
}

impl Mock {
    fn fixture(&self, provider: &str, file: &str) -> Bytes {
        std::fs::read(self.fixtures.join(provider).join(file))
            .map(Bytes::from)
            .unwrap_or_else(|e| panic!("fixture {provider}/{file}: {e}"))
    }

    /// The provider's own error body for `status` (the first `error_<status>_*.json`).
    fn error(&self, provider: &str, status: u16) -> Bytes {
        let prefix = format!("error_{status}_");
        let dir = self.fixtures.join(provider);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        match names.iter().find(|n| n.starts_with(&prefix)) {
            Some(name) => self.fixture(provider, name),
            None => Bytes::from(
                json!({"error": {"message": format!("mock {status}"), "type": "server_error"}})
                    .to_string(),
            ),
        }
    }
}

fn json_response(status: u16, body: Bytes) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        body,
    )
        .into_response()
}

/// Whether `model` is one of `provider`'s, by its name: a call that names another provider's
/// model gets the provider's own "no such model" error, as the real API would answer.
fn model_fits(provider: &str, model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    let openai = ["gpt-", "chatgpt", "o1", "o3", "o4", "text-", "dall-e"]
        .iter()
        .any(|p| m.starts_with(p));
    match provider {
        "openai" => openai,
        "anthropic" => m.starts_with("claude"),
        "gemini" => m.starts_with("gemini") || m.starts_with("gemma"),
        "mistral" => [
            "mistral",
            "codestral",
            "ministral",
            "pixtral",
            "magistral",
            "devstral",
            "open-",
        ]
        .iter()
        .any(|p| m.starts_with(p)),
        // Groq hosts other makers' open models, never OpenAI's closed ones or Claude.
        _ => !m.starts_with("claude") && (!openai || m.starts_with("openai/")),
    }
}

/// The provider's "no such model" reply.
fn no_such_model(mock: &Mock, provider: &str) -> Response {
    match provider {
        "mistral" => json_response(400, mock.fixture(provider, "error_400_invalid_model.json")),
        _ => json_response(404, mock.error(provider, 404)),
    }
}

/// The provider's auth header is there.
fn authorized(provider: &str, headers: &HeaderMap) -> bool {
    let has = |name: &str| headers.get(name).is_some_and(|v| !v.is_empty());
    match provider {
        "anthropic" => has("x-api-key") && has("anthropic-version"),
        "gemini" => has("x-goog-api-key"),
        _ => headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7),
    }
}

async fn provider_api(
    State(mock): State<Arc<Mock>>,
    Path((provider, rest)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    mock.served.fetch_add(1, Ordering::Relaxed);
    if !["openai", "anthropic", "groq", "gemini", "mistral"].contains(&provider.as_str()) {
        return json_response(404, Bytes::from_static(b"{\"error\":\"no such provider\"}"));
    }
    if !authorized(&provider, &headers) {
        let status = if provider == "gemini" { 400 } else { 401 };
        return json_response(status, mock.error(&provider, status));
    }
    if method == Method::GET && rest.ends_with("models") {
        return json_response(200, mock.fixture(&provider, "models.json"));
    }
    let chat = rest.ends_with("chat/completions")
        || rest.ends_with("messages")
        || rest.contains(":generateContent")
        || rest.contains(":streamGenerateContent");
    if method != Method::POST || !chat {
        return json_response(404, Bytes::from_static(b"{\"error\":\"not found\"}"));
    }
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let stream = rest.contains(":streamGenerateContent")
        || json.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = if provider == "gemini" {
        rest.split("models/")
            .nth(1)
            .and_then(|m| m.split(':').next())
            .unwrap_or_default()
    } else {
        json.get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    if !model_fits(&provider, model) {
        return no_such_model(&mock, &provider);
    }
    let fault = mock
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front()
        .unwrap_or(Fault::Ok);
    match fault {
        Fault::Status(401, _) => {
            let status = if provider == "gemini" { 400 } else { 401 };
            return json_response(status, mock.error(&provider, status));
        }
        Fault::Status(529, _) if provider == "anthropic" => {
            return json_response(529, mock.error(&provider, 529));
        }
        Fault::Status(529, _) => {
            let body = match mock.error(&provider, 503) {
                b if b.starts_with(b"{\"error\":{\"message\":\"mock") => mock.error(&provider, 500),
                b => b,
            };
            return json_response(503, body);
        }
        Fault::Status(status, retry_after) => {
            let mut r = json_response(status, mock.error(&provider, status));
            if let Some(s) = retry_after {
                if let Ok(v) = s.to_string().parse() {
                    r.headers_mut().insert("retry-after", v);
                }
            }
            return r;
        }
        Fault::Slow(delay) => tokio::time::sleep(delay).await,
        Fault::Ok | Fault::Drop | Fault::Trickle(_) => {}
    }
    if !stream {
        return json_response(200, mock.fixture(&provider, "chat.json"));
    }
    let sse = mock.fixture(&provider, "stream.sse");
    // The stream in pieces, as a provider sends it; `drop` stops halfway and breaks the
    // connection instead of ending the body.
    let cut = if fault == Fault::Drop {
        sse.len() / 2
    } else {
        sse.len()
    };
    let pieces: Vec<Result<Bytes, std::io::Error>> = (0..cut)
        .step_by(64)
        .map(|i| Ok(sse.slice(i..(i + 64).min(cut))))
        .chain((fault == Fault::Drop).then(|| {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "dropped",
            ))
        }))
        .collect();
    let gap = match fault {
        Fault::Trickle(gap) => gap,
        _ => Duration::ZERO,
    };
    let body = Body::from_stream(futures_util::StreamExt::then(
        futures_util::stream::iter(pieces),
        move |piece| async move {
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
            piece
        },
    ));
    (
        StatusCode::OK,
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn set_faults(State(mock): State<Arc<Mock>>, Json(faults): Json<Vec<String>>) -> Response {
    let parsed: Result<VecDeque<Fault>, String> = faults.iter().map(|f| parse_fault(f)).collect();
    match parsed {
        Ok(faults) => {
            *mock.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn stats(State(mock): State<Arc<Mock>>) -> Json<Value> {
    let pending = mock.faults.lock().unwrap_or_else(|p| p.into_inner()).len();
    Json(json!({"served": mock.served.load(Ordering::Relaxed), "faults_pending": pending}))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        eprintln!(
            "byokit-mock: listen on a loopback address, not {}",
            args.listen
        );
        std::process::exit(2);
    }
    let faults = match args.faults.iter().map(|f| parse_fault(f)).collect() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("byokit-mock: {e}");
            std::process::exit(2);
        }
    };
    let mock = Arc::new(Mock {
        fixtures: args.fixtures,
        faults: Mutex::new(faults),
        served: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/_mock/faults", axum::routing::post(set_faults))
        .route("/_mock/stats", get(stats))
        .route("/{provider}/{*rest}", any(provider_api))
        .with_state(mock);
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("byokit-mock: cannot listen on {}: {e}", args.listen);
            std::process::exit(1);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on http://{addr}");
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("byokit-mock: {e}");
        std::process::exit(1);
    }
}
