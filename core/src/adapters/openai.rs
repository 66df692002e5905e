//! OpenAI's Chat Completions format, which Groq and Mistral speak too.

use serde_json::{json, Map, Value};

use super::{count, malformed, AdapterError, StreamState};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
use crate::error::classify_error_value;
use crate::http::{HttpRequest, Method};
use crate::key::ApiKey;
use crate::provider::Provider;

fn headers(key: &ApiKey) -> Vec<(String, String)> {
    vec![
        ("authorization".into(), format!("Bearer {}", key.expose())),
        ("content-type".into(), "application/json".into()),
    ]
}

pub(super) fn chat_request(
    provider: Provider,
    base: &str,
    r: &ChatRequest,
    key: &ApiKey,
) -> HttpRequest {
    let mut messages = Vec::with_capacity(r.messages.len() + 1);
    if let Some(system) = &r.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    for m in &r.messages {
        let role = match m.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        messages.push(json!({"role": role, "content": m.content}));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(r.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(max) = r.max_output_tokens {
        // OpenAI deprecated `max_tokens` (its reasoning models refuse it); Groq and Mistral
        // document `max_tokens`.
        let field = if provider == Provider::OpenAi {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(field.into(), json!(max));
    }
    if let Some(t) = r.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !r.stop.is_empty() {
        body.insert("stop".into(), json!(r.stop));
    }
    if r.stream {
        body.insert("stream".into(), json!(true));
        // Without it OpenAI and Groq send no usage in a stream; Mistral always sends it and
        // refuses unknown fields.
        if provider != Provider::Mistral {
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
    }
    HttpRequest {
        method: Method::Post,
        url: format!("{base}/chat/completions"),
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
        "stop" => FinishReason::Stop,
        "length" | "model_length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    })
}

/// OpenAI's usage object: `prompt_tokens` include the cached ones, `completion_tokens` the
/// reasoning ones; the counts are kept exactly as reported.
fn usage(u: &Value) -> Usage {
    Usage {
        input_tokens: count(u, "/prompt_tokens"),
        output_tokens: count(u, "/completion_tokens"),
        cached_input_tokens: count(u, "/prompt_tokens_details/cached_tokens"),
        cache_write_tokens: 0,
        reasoning_tokens: count(u, "/completion_tokens_details/reasoning_tokens"),
        estimated: false,
    }
}

/// Message content: a string, or (Mistral) a list of parts with `text`.
fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

pub(super) fn parse_response(provider: Provider, v: &Value) -> Result<ChatResponse, AdapterError> {
    let choice = v
        .pointer("/choices/0")
        .ok_or_else(|| malformed(provider, "no `choices` in the reply"))?;
    let u = v
        .get("usage")
        .ok_or_else(|| malformed(provider, "no `usage` in the reply"))?;
    Ok(ChatResponse {
        text: content_text(choice.pointer("/message/content")),
        finish_reason: finish_reason(choice.get("finish_reason")),
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        usage: usage(u),
    })
}

pub(super) fn stream_event(
    provider: Provider,
    v: &Value,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    if v.get("error").is_some_and(|e| !e.is_null()) {
        return Err(classify_error_value(provider, 500, &Default::default(), v).into());
    }
    if let Some(model) = v.get("model").and_then(Value::as_str) {
        state.model = Some(model.to_owned());
    }
    // The usage chunk (OpenAI's last, whose `choices` is empty; Mistral's last), or Groq's
    // `x_groq.usage`.
    if let Some(u) = v
        .get("usage")
        .filter(|u| !u.is_null())
        .or_else(|| v.pointer("/x_groq/usage"))
    {
        state.usage = Some(usage(u));
    }
    let Some(choice) = v.pointer("/choices/0") else {
        return Ok(None);
    };
    if let Some(reason) = finish_reason(choice.get("finish_reason")) {
        state.finish_reason = Some(reason);
    }
    Ok(Some(content_text(choice.pointer("/delta/content"))))
}
