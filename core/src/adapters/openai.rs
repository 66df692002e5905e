//! OpenAI's Chat Completions format, which Groq and Mistral speak too.

use serde_json::{json, Map, Value};

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{
    malformed, stream_error, typed_event, typed_reply, AdapterError, HasError, StreamState,
};
use crate::chat::{ChatRequest, ChatResponse, FinishReason, Role};
use crate::cost::Usage;
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

fn finish_reason(reason: Option<&str>) -> Option<FinishReason> {
    Some(match reason? {
        "stop" => FinishReason::Stop,
        "length" | "model_length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    })
}

/// OpenAI's usage object: `prompt_tokens` include the cached ones, `completion_tokens` the
/// reasoning ones; the counts are kept exactly as reported.
#[derive(Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Usage {
        Usage {
            input_tokens: u.prompt_tokens.unwrap_or(0),
            output_tokens: u.completion_tokens.unwrap_or(0),
            cached_input_tokens: u
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: 0,
            reasoning_tokens: u
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
            estimated: false,
        }
    }
}

#[derive(Deserialize)]
struct Reply<'a> {
    error: Option<IgnoredAny>,
    #[serde(borrow, default)]
    model: Cow<'a, str>,
    #[serde(borrow, default)]
    choices: Vec<Choice<'a>>,
    usage: Option<WireUsage>,
}

impl HasError for Reply<'_> {
    fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow)]
    message: Option<ReplyMessage<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ReplyMessage<'a> {
    #[serde(borrow)]
    content: Option<Content<'a>>,
}

/// Message content: a string, or (Mistral) a list of parts with `text`.
enum Content<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<Part<'a>>),
}

/// Told apart by the JSON's own type (a string or an array), so nothing is buffered.
impl<'de: 'a, 'a> Deserialize<'de> for Content<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor<'a>(PhantomData<Content<'a>>);
        impl<'de: 'a, 'a> Visitor<'de> for ContentVisitor<'a> {
            type Value = Content<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of parts")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content<'a>, E> {
                Ok(Content::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'a>, A::Error> {
                let mut parts = Vec::new();
                while let Some(part) = seq.next_element()? {
                    parts.push(part);
                }
                Ok(Content::Parts(parts))
            }
        }
        deserializer.deserialize_any(ContentVisitor(PhantomData))
    }
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

impl Content<'_> {
    fn text(&self) -> String {
        match self {
            Content::Text(t) => t.to_string(),
            Content::Parts(parts) => parts.iter().filter_map(|p| p.text.as_deref()).collect(),
        }
    }
}

pub(super) fn parse_response(
    provider: Provider,
    body: &[u8],
) -> Result<ChatResponse, AdapterError> {
    let reply: Reply<'_> = typed_reply(provider, body)?;
    let usage = reply
        .usage
        .ok_or_else(|| malformed(provider, "no `usage` in the reply"))?;
    let choice = reply
        .choices
        .first()
        .ok_or_else(|| malformed(provider, "no `choices` in the reply"))?;
    Ok(ChatResponse {
        text: choice
            .message
            .as_ref()
            .and_then(|m| m.content.as_ref())
            .map(Content::text)
            .unwrap_or_default(),
        finish_reason: finish_reason(choice.finish_reason.as_deref()),
        model: reply.model.into_owned(),
        usage: usage.into(),
    })
}

#[derive(Deserialize)]
struct Chunk<'a> {
    error: Option<IgnoredAny>,
    #[serde(borrow)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Vec<ChunkChoice<'a>>,
    usage: Option<WireUsage>,
    x_groq: Option<XGroq>,
}

#[derive(Deserialize)]
struct ChunkChoice<'a> {
    #[serde(borrow)]
    delta: Option<ReplyMessage<'a>>,
    #[serde(borrow)]
    finish_reason: Option<Cow<'a, str>>,
}

/// Groq's extension object, where its streams put the usage.
#[derive(Deserialize)]
struct XGroq {
    usage: Option<WireUsage>,
}

pub(super) fn stream_event(
    provider: Provider,
    data: &str,
    state: &mut StreamState,
) -> Result<Option<String>, AdapterError> {
    let chunk: Chunk<'_> = typed_event(provider, data)?;
    if chunk.error.is_some() {
        return Err(stream_error(provider, data));
    }
    if let Some(model) = chunk.model {
        state.model = Some(model.into_owned());
    }
    // The usage chunk (OpenAI's last, whose `choices` is empty; Mistral's last), or Groq's
    // `x_groq.usage`.
    if let Some(u) = chunk.usage.or(chunk.x_groq.and_then(|x| x.usage)) {
        state.usage = Some(u.into());
    }
    let Some(choice) = chunk.choices.first() else {
        return Ok(None);
    };
    if let Some(reason) = finish_reason(choice.finish_reason.as_deref()) {
        state.finish_reason = Some(reason);
    }
    Ok(choice
        .delta
        .as_ref()
        .and_then(|d| d.content.as_ref())
        .map(Content::text))
}
