//! Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`).

use serde_json::{json, Map, Value};

use super::{count, malformed, AdapterError, StreamState};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
use crate::error::classify_error_value;
use crate::http::{HttpRequest, Method};
use crate::key::ApiKey;
use crate::provider::Provider;

/// The key goes in the `x-goog-api-key` header, never in a `?key=` query that leaks into logs.
fn headers(key: &ApiKey) -> Vec<(String, String)> {
    vec![
        ("x-goog-api-key".into(), key.expose().to_owned()),
        ("content-type".into(), "application/json".into()),
    ]
}

pub(super) fn chat_request(base: &str, r: &ChatRequest, key: &ApiKey) -> HttpRequest {
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
    let contents: Vec<Value> = r
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| {
            let role = if m.role == Role::Assistant {
                "model"
            } else {
                "user"
            };
            json!({"role": role, "parts": [{"text": m.content}]})
        })
        .collect();
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system.join("\n\n")}]}),
        );
    }
    let mut config = Map::new();
    if let Some(max) = r.max_output_tokens {
        config.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(t) = r.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if !r.stop.is_empty() {
        config.insert("stopSequences".into(), json!(r.stop));
    }
    if !config.is_empty() {
        body.insert("generationConfig".into(), Value::Object(config));
    }
    let model = r.model.trim().trim_start_matches("models/");
    let url = if r.stream {
        format!("{base}/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{base}/models/{model}:generateContent")
    };
    HttpRequest {
        method: Method::Post,
        url,
        headers: headers(key),
        body: Some(Value::Object(body).to_string()),
    }
}

pub(super) fn models_request(base: &str, key: &ApiKey) -> HttpRequest {
    let mut headers = headers(key);
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
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" => FinishReason::ToolCalls,
        _ => FinishReason::Other,
    })
}

/// Gemini's `usageMetadata`: `promptTokenCount` includes cached tokens; thinking tokens are
/// counted apart from `candidatesTokenCount`.
fn usage(u: &Value) -> Usage {
    Usage {
        input_tokens: count(u, "/promptTokenCount"),
        output_tokens: count(u, "/candidatesTokenCount"),
        cached_input_tokens: count(u, "/cachedContentTokenCount"),
        cache_write_tokens: 0,
        reasoning_tokens: count(u, "/thoughtsTokenCount"),
        estimated: false,
    }
}

/// The text of the first candidate, without thought summaries.
fn text_of(v: &Value) -> String {
    v.pointer("/candidates/0/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter(|p| !p.get("thought").and_then(Value::as_bool).unwrap_or(false))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn parse_response(v: &Value) -> Result<ChatResponse, AdapterError> {
    let u = v
        .get("usageMetadata")
        .ok_or_else(|| malformed(Provider::Gemini, "no `usageMetadata` in the reply"))?;
    Ok(ChatResponse {
        text: text_of(v),
        finish_reason: finish_reason(v.pointer("/candidates/0/finishReason")),
        model: v
            .get("modelVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        usage: usage(u),
    })
}

/// Each chunk carries the usage so far; the last one is the total.
pub(super) fn stream_event(
    v: &Value,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(classify_error_value(Provider::Gemini, 500, &Default::default(), v).into());
    }
    if let Some(model) = v.get("modelVersion").and_then(Value::as_str) {
        state.model = Some(model.to_owned());
    }
    if let Some(u) = v.get("usageMetadata") {
        state.usage = Some(usage(u));
    }
    if let Some(reason) = finish_reason(v.pointer("/candidates/0/finishReason")) {
        state.finish_reason = Some(reason);
    }
    Ok(Some(text_of(v)))
}
