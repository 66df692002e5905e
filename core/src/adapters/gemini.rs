//! Google's Gemini API (`generateContent`, `streamGenerateContent?alt=sse`).

use serde_json::{json, Map, Value};

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::{
    malformed, stream_error, typed_event, typed_reply, AdapterError, HasError, StreamState,
};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
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
    let system = r.system_text();
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
    if let Some(system) = system {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": system}]}),
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

fn finish_reason(reason: Option<&str>) -> Option<FinishReason> {
    Some(match reason? {
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
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    prompt_token_count: Option<u64>,
    candidates_token_count: Option<u64>,
    cached_content_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.prompt_token_count.unwrap_or(0),
            output_tokens: u.candidates_token_count.unwrap_or(0),
            cached_input_tokens: u.cached_content_token_count.unwrap_or(0),
            cache_write_tokens: 0,
            reasoning_tokens: u.thoughts_token_count.unwrap_or(0),
            estimated: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply<'a> {
    error: Option<IgnoredAny>,
    #[serde(borrow, default)]
    candidates: Vec<Candidate<'a>>,
    usage_metadata: Option<WireUsage>,
    #[serde(borrow, default)]
    model_version: Cow<'a, str>,
}

impl HasError for Reply<'_> {
    fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(borrow)]
    content: Option<CandidateContent<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CandidateContent<'a> {
    #[serde(borrow, default)]
    parts: Vec<Part<'a>>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    thought: Option<bool>,
}

impl Candidate<'_> {
    /// The text, without thought summaries.
    fn text(&self) -> String {
        self.content
            .iter()
            .flat_map(|c| &c.parts)
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text.as_deref())
            .collect()
    }
}

pub(super) fn parse_response(body: &[u8]) -> Result<ChatResponse, AdapterError> {
    let reply: Reply<'_> = typed_reply(Provider::Gemini, body)?;
    let usage = reply
        .usage_metadata
        .ok_or_else(|| malformed(Provider::Gemini, "no `usageMetadata` in the reply"))?;
    let first = reply.candidates.first();
    Ok(ChatResponse {
        text: first.map(Candidate::text).unwrap_or_default(),
        finish_reason: finish_reason(first.and_then(|c| c.finish_reason.as_deref())),
        model: reply.model_version.into_owned(),
        usage: usage.into(),
    })
}

/// Each chunk carries the usage so far; the last one is the total.
pub(super) fn stream_event(
    data: &str,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    let chunk: Reply<'_> = typed_event(Provider::Gemini, data)?;
    if chunk.is_error() {
        return Err(stream_error(Provider::Gemini, data));
    }
    if !chunk.model_version.is_empty() {
        state.model = Some(chunk.model_version.into_owned());
    }
    if let Some(u) = chunk.usage_metadata {
        state.usage = Some(u.into());
    }
    let first = chunk.candidates.first();
    if let Some(reason) = finish_reason(first.and_then(|c| c.finish_reason.as_deref())) {
        state.finish_reason = Some(reason);
    }
    Ok(first.map(Candidate::text))
}
