//! byokd's OpenAI-compatible HTTP endpoint on loopback: `POST /v1/chat/completions` and
//! `GET /v1/models`, so that any OpenAI client works with byokit by changing its base URL.
//!
//! Off unless `byokd --http 127.0.0.1:PORT`. Each user has a bearer token in
//! `<data dir>/http-tokens.json` (0600, shown by `byokit http token`); a request without the
//! right token gets 401. The `Host` header must name loopback (against DNS rebinding); no CORS
//! headers are sent; bodies are capped at 1 MiB.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use byokit_core::chat::{Message, Role};
use byokit_core::protocol::{codes, ChatParams, ChatResult, MAX_MESSAGE_BYTES};
use byokit_core::Catalog;
use serde_json::{json, Value};

use crate::server::{chat, State};

const TOKENS_FILE: &str = "http-tokens.json";

/// The user's bearer token, created on first use.
pub fn token_for(data_dir: &Path, user: &str) -> std::io::Result<String> {
    let path = data_dir.join(TOKENS_FILE);
    let mut tokens = read_tokens(data_dir);
    if let Some((token, _)) = tokens.iter().find(|(_, u)| u.as_str() == user) {
        return Ok(token.clone());
    }
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut bytes = [0u8; 24];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut bytes);
    let token: String = format!(
        "byok-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    tokens.insert(token.clone(), user.to_owned());
    crate::vault::write_new_private(&path, json!({"tokens": tokens}).to_string().as_bytes())?;
    Ok(token)
}

/// Token → user.
fn read_tokens(data_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read(data_dir.join(TOKENS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| serde_json::from_value(v["tokens"].clone()).ok())
        .unwrap_or_default()
}

/// Serves the endpoint until byokd stops.
pub(crate) async fn serve(state: Arc<State>, listener: tokio::net::TcpListener) {
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/models", get(models))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE_BYTES))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("byokd: HTTP endpoint stopped: {e}");
    }
}

/// An error in OpenAI's format.
fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}})),
    )
        .into_response()
}

/// Checks the Host header and the bearer token; returns the user.
fn authorize(state: &State, headers: &HeaderMap) -> Result<String, Box<Response>> {
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
    read_tokens(state.data_dir())
        .remove(token)
        .filter(|_| !token.is_empty())
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                "invalid_api_key",
                "missing or wrong bearer token; see `byokit http token`",
            ))
        })
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
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match authorize(&state, &headers) {
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
    if v["stream"] == true {
        return bad("streaming is not supported by this endpoint yet; send \"stream\": false");
    }
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
    };
    match chat(&state, params).await {
        Ok(result) => match serde_json::from_value::<ChatResult>(result) {
            Ok(r) => {
                let (input, output) = r.usage.sent_and_received(r.provider);
                Json(json!({
                    "id": format!("chatcmpl-byokit-{}", r.usage_id),
                    "object": "chat.completion",
                    "created": time::OffsetDateTime::now_utc().unix_timestamp(),
                    "model": r.model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": r.text},
                                 "finish_reason": r.finish_reason.map_or("stop", |f| match f {
                                     byokit_core::FinishReason::Stop => "stop",
                                     byokit_core::FinishReason::Length => "length",
                                     byokit_core::FinishReason::ToolCalls => "tool_calls",
                                     byokit_core::FinishReason::ContentFilter => "content_filter",
                                     byokit_core::FinishReason::Other => "stop",
                                 })}],
                    "usage": {"prompt_tokens": input, "completion_tokens": output, "total_tokens": input + output,
                              "prompt_tokens_details": {"cached_tokens": r.usage.cached_input_tokens},
                              "completion_tokens_details": {"reasoning_tokens": r.usage.reasoning_tokens}},
                    "byokit": {"provider": r.provider, "payer": r.payer, "cost_usd": r.cost_usd, "cost_status": r.cost_status},
                }))
                .into_response()
            }
            Err(e) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal",
                &e.to_string(),
            ),
        },
        Err(e) => {
            let (status, kind, code) = match e.code {
                codes::INVALID_PARAMS => (
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "invalid_request",
                ),
                codes::REFUSED => (
                    StatusCode::TOO_MANY_REQUESTS,
                    "insufficient_quota",
                    "refused",
                ),
                codes::NOT_FOUND => (StatusCode::NOT_FOUND, "invalid_request_error", "not_found"),
                codes::PROVIDER_ERROR | codes::UNREACHABLE => {
                    (StatusCode::BAD_GATEWAY, "upstream_error", "upstream")
                }
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "internal",
                ),
            };
            error(status, kind, code, &e.message)
        }
    }
}

async fn models(AxumState(state): AxumState<Arc<State>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers) {
        return *r;
    }
    let data: Vec<Value> = Catalog::embedded()
        .models(None)
        .filter(|m| !m.deprecated)
        .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": m.provider}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}
