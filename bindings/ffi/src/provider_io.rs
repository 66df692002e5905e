//! Provider requests, replies, streams, errors, rate limits and keys. byokit builds the requests
//! and reads the replies; the app sends the bytes with its own HTTP client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use byokit_core as core;

use crate::{instant, timestamp, ByokitError, Provider, TokenUsage};

/// A message's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    /// A system instruction.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// Its text.
    pub content: String,
}

impl From<ChatMessage> for core::Message {
    fn from(m: ChatMessage) -> Self {
        core::Message {
            role: match m.role {
                Role::System => core::Role::System,
                Role::User => core::Role::User,
                Role::Assistant => core::Role::Assistant,
            },
            content: m.content,
        }
    }
}

/// A provider-neutral chat request.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ChatRequest {
    /// The model id or alias.
    pub model: String,
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// A system prompt (joined with any system messages).
    #[uniffi(default = None)]
    pub system: Option<String>,
    /// The most output tokens to generate.
    #[uniffi(default = None)]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[uniffi(default = None)]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[uniffi(default = [])]
    pub stop: Vec<String>,
    /// Ask for a streamed reply (with usage at its end where the provider needs asking).
    #[uniffi(default = false)]
    pub stream: bool,
}

impl From<ChatRequest> for core::ChatRequest {
    fn from(r: ChatRequest) -> Self {
        core::ChatRequest {
            model: r.model,
            system: r.system,
            messages: r.messages.into_iter().map(core::Message::from).collect(),
            max_output_tokens: r.max_output_tokens,
            temperature: r.temperature,
            stop: r.stop,
            stream: r.stream,
        }
    }
}

/// Where and how a request is sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct RequestOptions {
    /// A base URL in place of the provider's (a proxy, a test server).
    #[uniffi(default = None)]
    pub base_url: Option<String>,
    /// Add what a provider requires for calls made directly from a browser or app.
    #[uniffi(default = false)]
    pub browser: bool,
}

impl From<RequestOptions> for core::RequestOptions {
    fn from(o: RequestOptions) -> Self {
        core::RequestOptions {
            base_url: o.base_url,
            browser: o.browser,
        }
    }
}

/// An HTTP request for the app to send. Its headers carry the API key: never log them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The full URL (never carrying the key).
    pub url: String,
    /// Header names (lower case) and values.
    pub headers: HashMap<String, String>,
    /// The JSON body, if any.
    pub body: Option<String>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &"…")
            .finish_non_exhaustive()
    }
}

impl From<core::HttpRequest> for HttpRequest {
    fn from(r: core::HttpRequest) -> Self {
        HttpRequest {
            method: match r.method {
                core::Method::Get => "GET",
                core::Method::Post => "POST",
            }
            .to_owned(),
            url: r.url,
            headers: r.headers.into_iter().collect(),
            body: r.body,
        }
    }
}

fn headers(h: HashMap<String, String>) -> core::Headers {
    h.into_iter().collect()
}

/// The HTTP request of a chat call.
#[uniffi::export]
pub fn build_chat_request(
    provider: Provider,
    request: ChatRequest,
    api_key: String,
    options: Option<RequestOptions>,
) -> Result<HttpRequest, ByokitError> {
    core::build_chat_request(
        provider.into(),
        &request.into(),
        &core::ApiKey::new(api_key),
        &options.unwrap_or_default().into(),
    )
    .map(HttpRequest::from)
    .map_err(ByokitError::from)
}

/// The cheapest request that proves a key works (listing models).
#[uniffi::export]
pub fn build_test_request(
    provider: Provider,
    api_key: String,
    options: Option<RequestOptions>,
) -> HttpRequest {
    core::build_test_request(
        provider.into(),
        &core::ApiKey::new(api_key),
        &options.unwrap_or_default().into(),
    )
    .into()
}

/// What a test request proved: the models the key reaches and its rate limits. A refusal is the
/// matching [`ByokitError`] (`InvalidKey`, `InsufficientCredit`, `RateLimited`, …).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyTest {
    /// The models the key can reach, as the provider names them.
    pub models: Vec<String>,
    /// The rate limits the reply's headers reveal.
    pub rate_limits: RateLimits,
}

/// Reads the reply to [`build_test_request`].
#[uniffi::export]
pub fn interpret_test_response(
    provider: Provider,
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    now: SystemTime,
) -> Result<KeyTest, ByokitError> {
    let outcome = core::interpret_test_response(
        provider.into(),
        status,
        &self::headers(headers),
        &body,
        instant(now)?,
    )?;
    match outcome {
        core::TestOutcome::Valid {
            models,
            rate_limits,
        } => Ok(KeyTest {
            models,
            rate_limits: rate_limits.into(),
        }),
        core::TestOutcome::Failed { error } => Err(error.into()),
    }
}

/// Why a reply stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output token limit.
    Length,
    /// The model called a tool.
    ToolCalls,
    /// A content filter.
    ContentFilter,
    /// Anything else.
    Other,
}

impl From<core::FinishReason> for FinishReason {
    fn from(r: core::FinishReason) -> Self {
        match r {
            core::FinishReason::Stop => FinishReason::Stop,
            core::FinishReason::Length => FinishReason::Length,
            core::FinishReason::ToolCalls => FinishReason::ToolCalls,
            core::FinishReason::ContentFilter => FinishReason::ContentFilter,
            core::FinishReason::Other => FinishReason::Other,
        }
    }
}

/// A reply: its text and exact usage.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChatReply {
    /// The text.
    pub text: String,
    /// Why it stopped.
    pub finish_reason: Option<FinishReason>,
    /// The model, as the provider named it.
    pub model: String,
    /// The token counts, as reported.
    pub usage: TokenUsage,
    /// Tokens sent and received together, the provider's way.
    pub total_tokens: u64,
}

/// Reads a (non-streaming) reply body. A body that is an error reply is the matching
/// [`ByokitError`].
#[uniffi::export]
pub fn usage_from_response(provider: Provider, body: Vec<u8>) -> Result<ChatReply, ByokitError> {
    let p = core::Provider::from(provider);
    let reply = core::parse_chat_response(p, &body)?;
    Ok(ChatReply {
        text: reply.text,
        finish_reason: reply.finish_reason.map(Into::into),
        model: reply.model,
        total_tokens: reply.usage.total_tokens(p),
        usage: reply.usage.into(),
    })
}

/// What a finished stream said.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StreamResult {
    /// The whole text.
    pub text: String,
    /// Why it stopped, if the stream said.
    pub finish_reason: Option<FinishReason>,
    /// The model, if the stream named it.
    pub model: Option<String>,
    /// The usage the provider reported, or, when the stream ended without it, an estimate of
    /// the output tokens from the text (with `estimated` set and input unknown, 0).
    pub usage: TokenUsage,
    /// The provider reported the usage (`false`: `usage` is an estimate).
    pub usage_reported: bool,
}

/// Accumulates a streaming reply from byte chunks split anywhere. Safe to share between
/// threads; chunks must still arrive in order.
#[derive(uniffi::Object)]
pub struct StreamUsage {
    inner: Mutex<Option<core::StreamAccumulator>>,
}

#[uniffi::export]
impl StreamUsage {
    /// A new accumulator for `provider`'s stream.
    #[uniffi::constructor]
    pub fn new(provider: Provider) -> Arc<StreamUsage> {
        Arc::new(StreamUsage {
            inner: Mutex::new(Some(core::StreamAccumulator::new(provider.into()))),
        })
    }

    /// Takes the next chunk; returns the text deltas it completed.
    pub fn push(&self, chunk: Vec<u8>) -> Result<Vec<String>, ByokitError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let acc = inner
            .as_mut()
            .ok_or_else(|| ByokitError::invalid_input("the stream is finished".to_owned()))?;
        Ok(acc.push(&chunk)?)
    }

    /// Ends the stream.
    pub fn finish(&self) -> Result<StreamResult, ByokitError> {
        let acc = self
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| ByokitError::invalid_input("the stream is finished".to_owned()))?;
        let s = acc.finish()?;
        let (usage, usage_reported) = match s.usage {
            core::StreamUsage::Reported { usage } => (usage, true),
            core::StreamUsage::Unknown { estimate } => (estimate, false),
        };
        Ok(StreamResult {
            text: s.text,
            finish_reason: s.finish_reason.map(Into::into),
            model: s.model,
            usage: usage.into(),
            usage_reported,
        })
    }
}

/// What kind of failure a provider reported, by what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    /// The key is wrong, revoked or missing: the user must fix it. Never retried.
    InvalidKey,
    /// The key may not do this.
    PermissionDenied,
    /// Out of credit or quota.
    InsufficientCredit,
    /// Too many requests for now: retry after `retry_after_seconds`.
    RateLimited,
    /// The provider is overloaded.
    Overloaded,
    /// The provider failed.
    ServerError,
    /// The request is wrong.
    BadRequest,
    /// No such model for this key.
    ModelNotFound,
}

impl From<core::ErrorKind> for ErrorKind {
    fn from(k: core::ErrorKind) -> Self {
        match k {
            core::ErrorKind::InvalidKey => ErrorKind::InvalidKey,
            core::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            core::ErrorKind::InsufficientCredit => ErrorKind::InsufficientCredit,
            core::ErrorKind::RateLimited => ErrorKind::RateLimited,
            core::ErrorKind::Overloaded => ErrorKind::Overloaded,
            core::ErrorKind::ServerError => ErrorKind::ServerError,
            core::ErrorKind::BadRequest => ErrorKind::BadRequest,
            core::ErrorKind::ModelNotFound => ErrorKind::ModelNotFound,
        }
    }
}

/// An error reply, classified.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProviderFailure {
    /// The provider.
    pub provider: Provider,
    /// What the caller can do.
    pub kind: ErrorKind,
    /// The HTTP status.
    pub status: u16,
    /// Seconds to wait before retrying, when the provider said.
    pub retry_after_seconds: Option<f64>,
    /// The provider's message (secrets scrubbed).
    pub message: String,
    /// The provider's error code, if any.
    pub code: Option<String>,
    /// Whether sending the same request later (or elsewhere) may succeed.
    pub retryable: bool,
}

/// Classifies an error reply.
#[uniffi::export]
pub fn classify_error(
    provider: Provider,
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
) -> ProviderFailure {
    let e = core::classify_error(provider.into(), status, &self::headers(headers), &body);
    ProviderFailure {
        provider: e.provider.into(),
        kind: e.kind.into(),
        status: e.status,
        retry_after_seconds: e.retry_after.map(|d| d.as_secs_f64()),
        retryable: e.kind.is_retryable(),
        message: e.message,
        code: e.code,
    }
}

/// The rate limits a reply's headers reveal; absent where the provider did not say.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct RateLimits {
    /// Requests allowed per window.
    pub requests_limit: Option<u64>,
    /// Requests left in the window.
    pub requests_remaining: Option<u64>,
    /// When the request window resets.
    pub requests_reset_at: Option<SystemTime>,
    /// Tokens allowed per window.
    pub tokens_limit: Option<u64>,
    /// Tokens left in the window.
    pub tokens_remaining: Option<u64>,
    /// When the token window resets.
    pub tokens_reset_at: Option<SystemTime>,
    /// Input tokens allowed per window (Anthropic).
    pub input_tokens_limit: Option<u64>,
    /// Input tokens left (Anthropic).
    pub input_tokens_remaining: Option<u64>,
    /// When the input-token window resets (Anthropic).
    pub input_tokens_reset_at: Option<SystemTime>,
    /// Output tokens allowed per window (Anthropic).
    pub output_tokens_limit: Option<u64>,
    /// Output tokens left (Anthropic).
    pub output_tokens_remaining: Option<u64>,
    /// When the output-token window resets (Anthropic).
    pub output_tokens_reset_at: Option<SystemTime>,
}

impl From<core::RateLimits> for RateLimits {
    fn from(r: core::RateLimits) -> Self {
        RateLimits {
            requests_limit: r.requests_limit,
            requests_remaining: r.requests_remaining,
            requests_reset_at: r.requests_reset_at.map(timestamp),
            tokens_limit: r.tokens_limit,
            tokens_remaining: r.tokens_remaining,
            tokens_reset_at: r.tokens_reset_at.map(timestamp),
            input_tokens_limit: r.input_tokens_limit,
            input_tokens_remaining: r.input_tokens_remaining,
            input_tokens_reset_at: r.input_tokens_reset_at.map(timestamp),
            output_tokens_limit: r.output_tokens_limit,
            output_tokens_remaining: r.output_tokens_remaining,
            output_tokens_reset_at: r.output_tokens_reset_at.map(timestamp),
        }
    }
}

/// The rate limits a reply's headers reveal; `now` turns relative resets into instants.
#[uniffi::export]
pub fn read_rate_limits(
    provider: Provider,
    headers: HashMap<String, String>,
    now: SystemTime,
) -> Result<RateLimits, ByokitError> {
    Ok(core::read_rate_limits(provider.into(), &self::headers(headers), instant(now)?).into())
}

/// A key shown safely: `sk-proj-…a1b2`.
#[uniffi::export]
pub fn mask_key(key: String) -> String {
    core::key::mask(&key)
}

/// Checks a pasted key's format; `InvalidKey` says what is wrong (empty, whitespace, another
/// provider's key, wrong prefix, wrong length).
#[uniffi::export]
pub fn check_key(provider: Provider, key: String) -> Result<(), ByokitError> {
    core::check_key(provider.into(), &key).map_err(|e| ByokitError::invalid_key(e.to_string()))
}
