//! Anthropic's Messages API.

use serde_json::{json, Map, Value};

use std::borrow::Cow;

use serde::Deserialize;

use super::{
    malformed, stream_error, typed_event, typed_reply, AdapterError, HasError, StreamState,
};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
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
    let system = r.system_text();
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
    if let Some(system) = system {
        body.insert("system".into(), json!(system));
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

fn finish_reason(reason: Option<&str>) -> Option<FinishReason> {
    Some(match reason? {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    })
}

/// Anthropic's usage: `input_tokens` exclude cache reads and writes, which come separately.
#[derive(Deserialize)]
struct WireUsage {
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.input_tokens.unwrap_or(0),
            output_tokens: u.output_tokens.unwrap_or(0),
            cached_input_tokens: u.cache_read_input_tokens.unwrap_or(0),
            cache_write_tokens: u.cache_creation_input_tokens.unwrap_or(0),
            reasoning_tokens: 0,
            estimated: false,
        }
    }
}

#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Cow<'a, str>,
    #[serde(borrow)]
    content: Option<Vec<Block<'a>>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
    usage: Option<WireUsage>,
}

impl HasError for Reply<'_> {
    fn is_error(&self) -> bool {
        self.kind.as_deref() == Some("error")
    }
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

pub(super) fn parse_response(body: &[u8]) -> Result<ChatResponse, AdapterError> {
    let reply: Reply<'_> = typed_reply(Provider::Anthropic, body)?;
    let usage = reply
        .usage
        .ok_or_else(|| malformed(Provider::Anthropic, "no `usage` in the reply"))?;
    let blocks = reply
        .content
        .ok_or_else(|| malformed(Provider::Anthropic, "no `content` in the reply"))?;
    Ok(ChatResponse {
        text: blocks
            .iter()
            .filter(|b| b.kind == "text")
            .filter_map(|b| b.text.as_deref())
            .collect(),
        finish_reason: finish_reason(reply.stop_reason.as_deref()),
        model: reply.model.into_owned(),
        usage: usage.into(),
    })
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Option<StartMessage<'a>>,
    #[serde(borrow)]
    delta: Option<EventDelta<'a>>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StartMessage<'a> {
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct EventDelta<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    stop_reason: Option<Cow<'a, str>>,
}

pub(super) fn stream_event(
    name: Option<&str>,
    data: &str,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    let event: Event<'_> = typed_event(Provider::Anthropic, data)?;
    match event.kind.as_deref().or(name).unwrap_or_default() {
        "message_start" => {
            if let Some(message) = event.message {
                if let Some(model) = message.model {
                    state.model = Some(model.into_owned());
                }
                if let Some(u) = message.usage {
                    state.usage = Some(u.into());
                }
            }
            Ok(None)
        }
        "content_block_delta" => Ok(event
            .delta
            .filter(|d| d.kind.as_deref() == Some("text_delta"))
            .and_then(|d| d.text)
            .map(Cow::into_owned)),
        "message_delta" => {
            if let Some(reason) =
                finish_reason(event.delta.as_ref().and_then(|d| d.stop_reason.as_deref()))
            {
                state.finish_reason = Some(reason);
            }
            if let Some(u) = event.usage {
                let current = state.usage.get_or_insert_with(Usage::default);
                // `output_tokens` here is the running total, not an increment. Newer API
                // versions repeat the input-side counts too; take them when present.
                for (value, slot) in [
                    (u.output_tokens, &mut current.output_tokens),
                    (u.input_tokens, &mut current.input_tokens),
                    (u.cache_read_input_tokens, &mut current.cached_input_tokens),
                    (
                        u.cache_creation_input_tokens,
                        &mut current.cache_write_tokens,
                    ),
                ] {
                    if let Some(n) = value {
                        *slot = n;
                    }
                }
            }
            Ok(None)
        }
        "error" => Err(stream_error(Provider::Anthropic, data)),
        _ => Ok(None), // ping, content_block_start/stop, and events added later
    }
}
