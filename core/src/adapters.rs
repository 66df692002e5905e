//! Provider adapters, without I/O: build each provider's HTTP requests from one neutral chat
//! request, and read its replies, streams and errors back into one shape.
//!
//! ```
//! use byokit_core::adapters::{build_chat_request, parse_chat_response, RequestOptions};
//! use byokit_core::{ApiKey, ChatRequest, Message, Provider};
//!
//! let request = ChatRequest {
//!     model: "claude-sonnet-4".into(),
//!     messages: vec![Message::user("Hello")],
//!     ..ChatRequest::default()
//! };
//! let key = ApiKey::new("sk-ant-api03-...");
//! let http = build_chat_request(Provider::Anthropic, &request, &key, &RequestOptions::default())?;
//! assert_eq!(http.url, "https://api.anthropic.com/v1/messages");
//! assert_eq!(http.header("anthropic-version"), Some("2023-06-01"));
//! // ... the host sends it, then:
//! let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514",
//!   "content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn",
//!   "usage":{"input_tokens":9,"output_tokens":4}}"#;
//! let reply = parse_chat_response(Provider::Anthropic, body)?;
//! assert_eq!(reply.text, "Hi!");
//! assert_eq!(reply.usage.input_tokens, 9);
//! # Ok::<(), byokit_core::adapters::AdapterError>(())
//! ```

mod anthropic;
mod gemini;
mod openai;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::{ChatRequest, ChatResponse, FinishReason};
use crate::cost::Usage;
use crate::error::{classify_error, classify_error_value, ProviderError};
use crate::estimate::approximate_tokens;
use crate::http::{Headers, HttpRequest};
use crate::key::ApiKey;
use crate::provider::Provider;
use crate::ratelimit::{read_rate_limits, RateLimits};
use crate::sse::{SseError, SseReader};

/// How to address a provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RequestOptions {
    /// The API's base URL, version path included (`https://api.openai.com/v1`), to go through a
    /// proxy or a mock server; the provider's own when `None`.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub base_url: Option<String>,
    /// The request is sent from a browser: add what the provider requires for that
    /// (Anthropic's `anthropic-dangerous-direct-browser-access`).
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub browser: bool,
}

impl Provider {
    /// The provider's API base URL, version path included.
    pub const fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com/v1",
            Provider::Groq => "https://api.groq.com/openai/v1",
            Provider::Gemini => "https://generativelanguage.googleapis.com/v1beta",
            Provider::Mistral => "https://api.mistral.ai/v1",
        }
    }
}

fn base_url(provider: Provider, options: &RequestOptions) -> &str {
    options
        .base_url
        .as_deref()
        .unwrap_or(provider.default_base_url())
        .trim_end_matches('/')
}

/// What went wrong reading or building a provider exchange.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    /// The request cannot be sent as it is (no model, no messages).
    #[error("invalid chat request: {0}")]
    InvalidRequest(String),
    /// The reply is not what the provider's API documents.
    #[error("unreadable {provider} reply: {message}")]
    Malformed {
        /// The provider.
        provider: Provider,
        /// What was wrong with it.
        message: String,
    },
    /// The provider reported an error (in a stream, or a reply body).
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

pub(crate) fn malformed(provider: Provider, message: impl Into<String>) -> AdapterError {
    AdapterError::Malformed {
        provider,
        message: message.into(),
    }
}

pub(crate) fn json(provider: Provider, body: &[u8]) -> Result<Value, AdapterError> {
    serde_json::from_slice(body).map_err(|e| malformed(provider, format!("invalid JSON: {e}")))
}

/// Builds the HTTP request of a chat call: method, URL, headers with the key, JSON body.
pub fn build_chat_request(
    provider: Provider,
    request: &ChatRequest,
    key: &ApiKey,
    options: &RequestOptions,
) -> Result<HttpRequest, AdapterError> {
    if request.model.trim().is_empty() {
        return Err(AdapterError::InvalidRequest("no model given".into()));
    }
    if request.messages.is_empty() {
        return Err(AdapterError::InvalidRequest("no messages given".into()));
    }
    let base = base_url(provider, options);
    Ok(match provider {
        Provider::OpenAi | Provider::Groq | Provider::Mistral => {
            openai::chat_request(provider, base, request, key)
        }
        Provider::Anthropic => anthropic::chat_request(base, request, key, options.browser),
        Provider::Gemini => gemini::chat_request(base, request, key),
    })
}

/// Builds the cheapest request that proves a key works: listing the models it can use.
pub fn build_test_request(
    provider: Provider,
    key: &ApiKey,
    options: &RequestOptions,
) -> HttpRequest {
    let base = base_url(provider, options);
    match provider {
        Provider::OpenAi | Provider::Groq | Provider::Mistral => openai::models_request(base, key),
        Provider::Anthropic => anthropic::models_request(base, key, options.browser),
        Provider::Gemini => gemini::models_request(base, key),
    }
}

/// What a test request said about a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TestOutcome {
    /// The key works.
    Valid {
        /// The models it can reach, as the provider names them.
        models: Vec<String>,
        /// The rate limits the reply's headers reveal.
        rate_limits: RateLimits,
    },
    /// The provider refused: the error says why (invalid key, no credit, rate limited, down…).
    Failed {
        /// The classified error.
        error: ProviderError,
    },
}

/// Reads the reply to [`build_test_request`]. `now` turns relative reset times into instants.
pub fn interpret_test_response(
    provider: Provider,
    status: u16,
    headers: &Headers,
    body: &[u8],
    now: time::OffsetDateTime,
) -> Result<TestOutcome, AdapterError> {
    if !(200..300).contains(&status) {
        return Ok(TestOutcome::Failed {
            error: classify_error(provider, status, headers, body),
        });
    }
    let v = json(provider, body)?;
    let list = match provider {
        Provider::Gemini => v.get("models"),
        _ => v.get("data"),
    }
    .and_then(Value::as_array)
    .ok_or_else(|| malformed(provider, "no model list in the reply"))?;
    let models = list
        .iter()
        .filter_map(|m| match provider {
            Provider::Gemini => m
                .get("name")
                .and_then(Value::as_str)
                .map(|n| n.strip_prefix("models/").unwrap_or(n)),
            _ => m.get("id").and_then(Value::as_str),
        })
        .map(str::to_owned)
        .collect();
    Ok(TestOutcome::Valid {
        models,
        rate_limits: read_rate_limits(provider, headers, now),
    })
}

/// Reads a non-streaming chat reply (status 2xx) into text, finish reason, model and usage.
/// An error body (`{"error": ...}`) is returned as [`AdapterError::Provider`].
pub fn parse_chat_response(provider: Provider, body: &[u8]) -> Result<ChatResponse, AdapterError> {
    match provider {
        Provider::OpenAi | Provider::Groq | Provider::Mistral => {
            openai::parse_response(provider, body)
        }
        Provider::Anthropic => anthropic::parse_response(body),
        Provider::Gemini => gemini::parse_response(body),
    }
}

/// Reads a reply body into the adapter's typed shape (borrowing its strings); an error body
/// (`error` present) is classified instead.
pub(crate) fn typed_reply<'a, T: Deserialize<'a> + HasError>(
    provider: Provider,
    body: &'a [u8],
) -> Result<T, AdapterError> {
    let reply: T = crate::json::from_slice(body)
        .map_err(|e| malformed(provider, format!("unexpected reply: {e}")))?;
    if reply.is_error() {
        return Err(classify_error(provider, 400, &Headers::default(), body).into());
    }
    Ok(reply)
}

/// A typed reply that can tell an error body apart.
pub(crate) trait HasError {
    /// The body is an error object rather than a reply.
    fn is_error(&self) -> bool;
}

/// Reads one stream event's data into the adapter's typed shape (borrowing its strings).
pub(crate) fn typed_event<'a, T: Deserialize<'a>>(
    provider: Provider,
    data: &'a str,
) -> Result<T, AdapterError> {
    // Read as bytes, like whole replies: one copy of serde_json's reader in a build, not two.
    crate::json::from_slice(data.as_bytes())
        .map_err(|e| malformed(provider, format!("unexpected stream event: {e}")))
}

/// The classified error of an error event inside a stream.
pub(crate) fn stream_error(provider: Provider, data: &str) -> AdapterError {
    let v: Value = serde_json::from_slice(data.as_bytes()).unwrap_or(Value::Null);
    classify_error_value(provider, 0, &Headers::default(), &v).into()
}

/// The usage a stream ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
// In TypeScript, `StreamUsage` is the accumulator class of the npm package.
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "StreamUsageStatus"))]
pub enum StreamUsage {
    /// The provider reported it.
    Reported {
        /// The counts, as reported.
        usage: Usage,
    },
    /// The stream ended without usage (it was cut, or usage was not asked for). Never zero:
    /// an estimate from the text is offered, labelled as such (`estimated: true`), with
    /// input tokens unknown (0) unless the caller adds its own estimate.
    Unknown {
        /// A rough estimate of the output tokens (about 4 characters a token).
        estimate: Usage,
    },
}

/// Everything a finished stream said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct StreamSummary {
    /// The whole text.
    pub text: String,
    /// Why it stopped, if the stream said.
    pub finish_reason: Option<FinishReason>,
    /// The model, if the stream named it.
    pub model: Option<String>,
    /// The usage, or "unknown" with an estimate.
    pub usage: StreamUsage,
}

/// What each provider's stream parser reports per event.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    pub text: String,
    pub finish_reason: Option<FinishReason>,
    pub model: Option<String>,
    pub usage: Option<Usage>,
}

/// Accumulates a streaming chat reply from byte chunks split anywhere, yielding the text as it
/// comes and, at the end, the usage.
#[derive(Debug)]
pub struct StreamAccumulator {
    provider: Provider,
    reader: SseReader,
    state: StreamState,
}

impl StreamAccumulator {
    /// A new accumulator for a stream of `provider`'s.
    pub fn new(provider: Provider) -> StreamAccumulator {
        StreamAccumulator {
            provider,
            reader: SseReader::new(),
            state: StreamState::default(),
        }
    }

    /// Takes the next chunk of bytes; returns the text deltas it completed. An error event from
    /// the provider is returned as [`AdapterError::Provider`].
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>, AdapterError> {
        let events = self.reader.push(chunk).map_err(|e| self.sse_error(e))?;
        let mut deltas = Vec::new();
        for event in events {
            self.event(&event.event, &event.data, &mut deltas)?;
        }
        Ok(deltas)
    }

    /// The text so far.
    pub fn text(&self) -> &str {
        &self.state.text
    }

    /// Ends the stream and returns what it said; usage is "unknown" (with an estimate) if the
    /// provider never reported it.
    pub fn finish(mut self) -> Result<StreamSummary, AdapterError> {
        let last = self.reader.finish().map_err(|e| self.sse_error(e))?;
        if let Some(event) = last {
            let mut ignored = Vec::new();
            self.event(&event.event, &event.data, &mut ignored)?;
        }
        let state = self.state;
        let usage = match state.usage {
            Some(usage) => StreamUsage::Reported { usage },
            None => StreamUsage::Unknown {
                estimate: Usage {
                    output_tokens: approximate_tokens(&state.text),
                    estimated: true,
                    ..Usage::default()
                },
            },
        };
        Ok(StreamSummary {
            text: state.text,
            finish_reason: state.finish_reason,
            model: state.model,
            usage,
        })
    }

    fn sse_error(&self, e: SseError) -> AdapterError {
        malformed(self.provider, e.to_string())
    }

    fn event(
        &mut self,
        name: &Option<String>,
        data: &str,
        deltas: &mut Vec<String>,
    ) -> Result<(), AdapterError> {
        if data.trim() == "[DONE]" {
            return Ok(());
        }
        let delta = match self.provider {
            Provider::OpenAi | Provider::Groq | Provider::Mistral => {
                openai::stream_event(self.provider, data, &mut self.state)?
            }
            Provider::Anthropic => anthropic::stream_event(name.as_deref(), data, &mut self.state)?,
            Provider::Gemini => gemini::stream_event(data, &mut self.state)?,
        };
        if let Some(delta) = delta.filter(|d| !d.is_empty()) {
            self.state.text.push_str(&delta);
            deltas.push(delta);
        }
        Ok(())
    }
}
