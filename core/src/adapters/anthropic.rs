//! Anthropic's Messages API.

use serde_json::{json, Map, Value};

use super::{count, malformed, AdapterError, StreamState};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
use crate::error::classify_error_value;
use crate::http::{HttpRequest, Method};
use crate::key::ApiKey;
use crate::provider::Provider;

/// The API version byokit speaks.
pub const API_VERSION: &str = "2023-06-01";

/// Anthropic requires `max_tokens`; sent when the request has none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

fn headers(key: &ApiKey, browser: bool) -> Vec<(String, String)> {
    let mut h = vec![
        ("x-api-key".into(), key.expose().to_owned()),
        ("anthropic-version".into(), API_VERSION.into()),
        ("content-type".into(), "application/json".into()),
    ];
    if browser {
        h.push((
            "anthropic-dangerous-direct-browser-access".into(),
            "true".into(),
        ));
    }
    h
}

pub(super) fn chat_request(
    base: &str,
    r: &ChatRequest,
    key: &ApiKey,
    browser: bool,
) -> HttpRequest {
    // System text goes in `system`; the messages list holds only user and assistant turns.
    let system: Vec<&str> = r
        .system
        .iter()
        .map(String::as_str)
        .chain(
            r.messages
                .iter()
                .filter(|m| m.role == Role::System)
                .map(|m| m.content.as_str()),
        )
        .collect();
    let messages: Vec<Value> = r
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| {
            let role = if m.role == Role::Assistant {
                "assistant"
            } else {
                "user"
            };
            json!({"role": role, "content": m.content})
        })
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert(
        "max_tokens".into(),
        json!(r.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = r.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !r.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(r.stop));
    }
    if r.stream {
        body.insert("stream".into(), json!(true));
    }
    HttpRequest {
        method: Method::Post,
        url: format!("{base}/messages"),
        headers: headers(key, browser),
        body: Some(Value::Object(body).to_string()),
    }
}

pub(super) fn models_request(base: &str, key: &ApiKey, browser: bool) -> HttpRequest {
    let mut headers = headers(key, browser);
    headers.retain(|(n, _)| n != "content-type");
    HttpRequest {
        method: Method::Get,
        url: format!("{base}/models"),
        headers,
        body: None,
    }
}

fn finish_reason(v: Option<&Value>) -> Option<FinishReason> {
    Some(match v?.as_str()? {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    })
}

/// Anthropic's usage: `input_tokens` exclude cache reads and writes, which come separately.
fn usage(u: &Value) -> Usage {
    Usage {
        input_tokens: count(u, "/input_tokens"),
        output_tokens: count(u, "/output_tokens"),
        cached_input_tokens: count(u, "/cache_read_input_tokens"),
        cache_write_tokens: count(u, "/cache_creation_input_tokens"),
        reasoning_tokens: 0,
        estimated: false,
    }
}

fn text_of(content: Option<&Value>) -> String {
    content
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn parse_response(v: &Value) -> Result<ChatResponse, AdapterError> {
    let u = v
        .get("usage")
        .ok_or_else(|| malformed(Provider::Anthropic, "no `usage` in the reply"))?;
    if v.get("content").is_none() {
        return Err(malformed(Provider::Anthropic, "no `content` in the reply"));
    }
    Ok(ChatResponse {
        text: text_of(v.get("content")),
        finish_reason: finish_reason(v.get("stop_reason")),
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        usage: usage(u),
    })
}

pub(super) fn stream_event(
    name: Option<&str>,
    v: &Value,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .or(name)
        .unwrap_or_default();
    match kind {
        "message_start" => {
            let message = v.get("message").unwrap_or(&Value::Null);
            if let Some(model) = message.get("model").and_then(Value::as_str) {
                state.model = Some(model.to_owned());
            }
            if let Some(u) = message.get("usage") {
                state.usage = Some(usage(u));
            }
            Ok(None)
        }
        "content_block_delta" => Ok(match v.pointer("/delta/type").and_then(Value::as_str) {
            Some("text_delta") => v
                .pointer("/delta/text")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        }),
        "message_delta" => {
            if let Some(reason) = finish_reason(v.pointer("/delta/stop_reason")) {
                state.finish_reason = Some(reason);
            }
            if let Some(u) = v.get("usage") {
                let current = state.usage.get_or_insert_with(Usage::default);
                // `output_tokens` here is the running total, not an increment. Newer API
                // versions repeat the input-side counts too; take them when present.
                if let Some(n) = u.get("output_tokens").and_then(Value::as_u64) {
                    current.output_tokens = n;
                }
                for (field, slot) in [
                    ("input_tokens", &mut current.input_tokens),
                    ("cache_read_input_tokens", &mut current.cached_input_tokens),
                    (
                        "cache_creation_input_tokens",
                        &mut current.cache_write_tokens,
                    ),
                ] {
                    if let Some(n) = u.get(field).and_then(Value::as_u64) {
                        *slot = n;
                    }
                }
            }
            Ok(None)
        }
        "message_stop" => {
            state.done = true;
            Ok(None)
        }
        "error" => {
            Err(classify_error_value(Provider::Anthropic, 500, &Default::default(), v).into())
        }
        _ => Ok(None), // ping, content_block_start/stop, and events added later
    }
}
