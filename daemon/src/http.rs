//! byokd's OpenAI-compatible HTTP endpoint on loopback: `POST /v1/chat/completions` and
//! `GET /v1/models`, so that any OpenAI client works with byokit by changing its base URL.
//!
//! Off unless `byokd --http 127.0.0.1:PORT`. Each user has bearer tokens (`byokit http token`,
//! kept in the store by their SHA-256 and sealed by the vault); a request without a valid token
//! gets 401. The `Host` header must name loopback (against DNS rebinding); no CORS
//! headers are sent; bodies are capped at 1 MiB. The REST door ([`crate::rest`]) is served
//! beside it, on the same address, with its own rules.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use byokit_core::chat::{Message, Role};
use byokit_core::protocol::{ChatParams, ChatResult, Error, MAX_MESSAGE_BYTES};
use byokit_core::Catalog;
use serde_json::{json, Value};

use futures_util::StreamExt;

use crate::service::Service;
use crate::status::{set_retry_after, status_of};

/// Serves the endpoint until byokd stops.
pub(crate) async fn serve(state: Arc<Service>, listener: tokio::net::TcpListener) {
    // The REST door (`/api/*`, `/openapi.json`) beside `/v1`, with its own authentication.
    let rest = crate::rest::router(Arc::clone(&state));
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/models", get(models))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE_BYTES))
        .with_state(state)
        .merge(rest);
    // Each streamed delta leaves as soon as it is written, not held back to fill a segment.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(target: crate::LOG, "HTTP endpoint stopped: {e}");
    }
}

/// An error in OpenAI's format.
fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    (status, Json(error_body(kind, code, message))).into_response()
}

/// OpenAI's error object.
fn error_body(kind: &str, code: &str, message: &str) -> Value {
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// Checks the Host header and the bearer token; returns the user.
async fn authorize(state: &Service, headers: &HeaderMap) -> Result<String, Box<Response>> {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if !matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
        return Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "forbidden_host",
            "the Host header must name this machine (localhost)",
        )));
    }
    let token = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    match state.http_user(token).await {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
            "missing or wrong bearer token; see `byokit http token`",
        ))),
        Err(e) => Err(Box::new(error_response(&e))),
    }
}

/// Message content: a string, or OpenAI's list of parts (their text joined).
fn content(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

async fn completions(
    AxumState(state): AxumState<Arc<Service>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match authorize(&state, &headers).await {
        Ok(u) => u,
        Err(r) => return *r,
    };
    let bad = |m: &str| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
            m,
        )
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return bad("the body is not JSON");
    };
    let stream = v["stream"] == true;
    let Some(list) = v["messages"].as_array().filter(|m| !m.is_empty()) else {
        return bad("`messages` must be a non-empty array");
    };
    let mut messages = Vec::with_capacity(list.len());
    for m in list {
        let role = match m["role"].as_str() {
            Some("system" | "developer") => Role::System,
            Some("user") => Role::User,
            Some("assistant") => Role::Assistant,
            other => return bad(&format!("unsupported message role {other:?}")),
        };
        messages.push(Message {
            role,
            content: content(&m["content"]),
        });
    }
    let model = v["model"]
        .as_str()
        .filter(|m| !m.is_empty() && *m != "auto" && *m != "byokit")
        .map(str::to_owned);
    let feature = headers
        .get("x-byokit-feature")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| v["feature"].as_str().map(str::to_owned));
    let stop = match &v["stop"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let params = ChatParams {
        user,
        feature,
        model,
        system: None,
        messages,
        max_output_tokens: v["max_completion_tokens"]
            .as_u64()
            .or(v["max_tokens"].as_u64())
            .and_then(|n| u32::try_from(n).ok()),
        temperature: v["temperature"].as_f64(),
        stop,
        stream,
    };
    if stream {
        let model = v["model"].as_str().unwrap_or("auto").to_owned();
        return stream_reply(state, params, model).await;
    }
    match state.chat(params, None).await {
        Ok(r) => Json(json!({
            "id": format!("chatcmpl-byokit-{}", r.usage_id),
            "object": "chat.completion",
            "created": time::OffsetDateTime::now_utc().unix_timestamp(),
            "model": r.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": r.text},
                         "finish_reason": finish_reason(r.finish_reason)}],
            "usage": openai_usage(&r),
            "byokit": byokit_extension(&r),
        }))
        .into_response(),
        Err(e) => error_response(&e),
    }
}

/// A daemon error as an OpenAI-style error response, with the status OpenAI itself would send
/// for its kind (a provider's bad key is a 401, its rate limit a 429 with `Retry-After`, as is
/// byokd's own refusal when every key rests). OpenAI's codes say less than byokit's kinds (no
/// credit at the provider, the shared key's month and a spent budget are all
/// `insufficient_quota`), so the error also carries byokd's own: `byokit`, the kind as the
/// socket's `error.data` gives it (`{"kind": "system_cap_reached"}`, with the provider's
/// `status` and `retry_after_seconds` where it has them).
fn error_response(e: &Error) -> Response {
    let (status, kind, code) = status_of(&e.kind);
    let mut body = error_body(kind, code, &e.message);
    body["error"]["byokit"] = json!(e.kind);
    let mut response = (status, Json(body)).into_response();
    set_retry_after(&mut response, &e.kind);
    response
}

type Chunks = futures_util::stream::BoxStream<'static, Result<String, std::convert::Infallible>>;

/// A streaming reply as OpenAI's server-sent events: a chunk per delta, then the finish reason,
/// a usage chunk (`choices: []`) and `data: [DONE]`. An error before the first delta is a normal
/// error response; byokd records the usage even if the client goes away.
async fn stream_reply(state: Arc<Service>, params: ChatParams, model: String) -> Response {
    let (deltas_tx, mut deltas) = tokio::sync::mpsc::channel::<String>(64);
    let (done_tx, done) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let result = state.chat(params, Some(deltas_tx)).await;
        let _ = done_tx.send(result);
    });
    // The first delta, or `None` once the call has ended without one (every delta is queued
    // before the call's result, so none is lost): then it is an error response, or a reply
    // without text.
    let Some(first) = deltas.recv().await else {
        return match done.await {
            Ok(Err(e)) => error_response(&e),
            Ok(Ok(result)) => sse_response(
                futures_util::stream::iter(final_chunks(&model, &result))
                    .map(Ok)
                    .boxed(),
            ),
            Err(_) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal",
                "the call was lost",
            ),
        };
    };
    let id = "chatcmpl-byokit-stream".to_owned();
    let first_chunk = chunk(&id, &model, &first);
    let rest = futures_util::stream::unfold(
        (deltas, Some(done), id, model),
        |(mut deltas, done, id, model)| async move {
            if let Some(d) = deltas.recv().await {
                let c = chunk(&id, &model, &d);
                return Some((
                    futures_util::stream::iter(vec![c]),
                    (deltas, done, id, model),
                ));
            }
            let tail = match done?.await {
                Ok(Ok(result)) => final_chunks(&model, &result),
                Ok(Err(e)) => vec![format!(
                    "data: {}\n\n",
                    json!({"error": {"message": e.message, "type": "upstream_error"}})
                )],
                Err(_) => Vec::new(),
            };
            Some((futures_util::stream::iter(tail), (deltas, None, id, model)))
        },
    )
    .flatten();
    sse_response(
        futures_util::stream::iter([first_chunk])
            .chain(rest)
            .map(Ok)
            .boxed(),
    )
}

fn sse_response(body: Chunks) -> Response {
    (
        StatusCode::OK,
        [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response()
}

fn chunk(id: &str, model: &str, delta: &str) -> String {
    let c = json!({"id": id, "object": "chat.completion.chunk", "created": time::OffsetDateTime::now_utc().unix_timestamp(),
        "model": model, "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": null}]});
    format!("data: {c}\n\n")
}

/// The finish-reason chunk, the usage chunk and `[DONE]`.
fn final_chunks(model: &str, r: &ChatResult) -> Vec<String> {
    let id = format!("chatcmpl-byokit-{}", r.usage_id);
    let created = time::OffsetDateTime::now_utc().unix_timestamp();
    let model = if r.model.is_empty() {
        model
    } else {
        r.model.as_str()
    };
    let finish = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason(r.finish_reason)}]});
    let usage = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
        "choices": [], "usage": openai_usage(r), "byokit": byokit_extension(r)});
    vec![
        format!("data: {finish}\n\n"),
        format!("data: {usage}\n\n"),
        "data: [DONE]\n\n".into(),
    ]
}

/// A call's usage as OpenAI reports it, in a reply and in a stream's last chunk alike.
fn openai_usage(r: &ChatResult) -> Value {
    let (input, output) = r.usage.sent_and_received(r.provider);
    json!({"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output,
           "prompt_tokens_details": {"cached_tokens": r.usage.cached_input_tokens},
           "completion_tokens_details": {"reasoning_tokens": r.usage.reasoning_tokens}})
}

/// What byokit adds to an OpenAI reply: who served and paid, and the exact cost.
fn byokit_extension(r: &ChatResult) -> Value {
    json!({"provider": r.provider, "payer": r.payer, "cost_usd": r.cost_usd, "cost_status": r.cost_status})
}

fn finish_reason(f: Option<byokit_core::FinishReason>) -> &'static str {
    match f {
        Some(byokit_core::FinishReason::Length) => "length",
        Some(byokit_core::FinishReason::ToolCalls) => "tool_calls",
        Some(byokit_core::FinishReason::ContentFilter) => "content_filter",
        _ => "stop",
    }
}

async fn models(AxumState(state): AxumState<Arc<Service>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers).await {
        return *r;
    }
    let data: Vec<Value> = Catalog::embedded()
        .models(None)
        .filter(|m| !m.deprecated)
        .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": m.provider}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}
