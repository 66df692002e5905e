//! Rate-limit headers, read into a snapshot that routing can use.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use rust_decimal::prelude::ToPrimitive;

use crate::error::{decimal, duration_secs, parse_go_duration};
use crate::http::Headers;
use crate::provider::Provider;

/// What a reply's headers say about a key's limits. Every field is optional: each provider
/// reveals a different part, and some (Gemini) nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RateLimits {
    /// Requests allowed in the current window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub requests_limit: Option<u64>,
    /// Requests left in the current window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub requests_remaining: Option<u64>,
    /// When the request window resets.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::instant::option"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub requests_reset_at: Option<OffsetDateTime>,
    /// Tokens allowed in the current window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tokens_limit: Option<u64>,
    /// Tokens left in the current window.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tokens_remaining: Option<u64>,
    /// When the token window resets.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::instant::option"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub tokens_reset_at: Option<OffsetDateTime>,
    /// Input tokens allowed (Anthropic counts them apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub input_tokens_limit: Option<u64>,
    /// Input tokens left.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub input_tokens_remaining: Option<u64>,
    /// When the input-token window resets.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::instant::option"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub input_tokens_reset_at: Option<OffsetDateTime>,
    /// Output tokens allowed (Anthropic counts them apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub output_tokens_limit: Option<u64>,
    /// Output tokens left.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub output_tokens_remaining: Option<u64>,
    /// When the output-token window resets.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::instant::option"
    )]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub output_tokens_reset_at: Option<OffsetDateTime>,
}

fn number(headers: &Headers, name: &str) -> Option<u64> {
    let v = headers.get(name)?;
    // Never negative: `decimal` reads digits and a point only.
    decimal(v)?.trunc().to_u64()
}

/// A reset written as a duration from now (`6m0s`, OpenAI and Groq), as seconds (`42`), or as
/// an RFC 3339 instant (Anthropic).
fn reset(headers: &Headers, name: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let v = headers.get(name)?;
    if let Some(at) = crate::instant::parse(v) {
        return Some(at);
    }
    let after = parse_go_duration(v).or_else(|| duration_secs(decimal(v)?))?;
    now.checked_add(time::Duration::try_from(after).ok()?)
}

/// Reads the rate-limit headers of a reply. `now` is when the reply arrived: relative resets
/// are turned into instants with it.
pub fn read_rate_limits(provider: Provider, headers: &Headers, now: OffsetDateTime) -> RateLimits {
    match provider {
        Provider::OpenAi | Provider::Groq => RateLimits {
            requests_limit: number(headers, "x-ratelimit-limit-requests"),
            requests_remaining: number(headers, "x-ratelimit-remaining-requests"),
            requests_reset_at: reset(headers, "x-ratelimit-reset-requests", now),
            tokens_limit: number(headers, "x-ratelimit-limit-tokens"),
            tokens_remaining: number(headers, "x-ratelimit-remaining-tokens"),
            tokens_reset_at: reset(headers, "x-ratelimit-reset-tokens", now),
            ..RateLimits::default()
        },
        Provider::Anthropic => {
            let h = |what: &str, field: &str| format!("anthropic-ratelimit-{what}-{field}");
            RateLimits {
                requests_limit: number(headers, &h("requests", "limit")),
                requests_remaining: number(headers, &h("requests", "remaining")),
                requests_reset_at: reset(headers, &h("requests", "reset"), now),
                tokens_limit: number(headers, &h("tokens", "limit")),
                tokens_remaining: number(headers, &h("tokens", "remaining")),
                tokens_reset_at: reset(headers, &h("tokens", "reset"), now),
                input_tokens_limit: number(headers, &h("input-tokens", "limit")),
                input_tokens_remaining: number(headers, &h("input-tokens", "remaining")),
                input_tokens_reset_at: reset(headers, &h("input-tokens", "reset"), now),
                output_tokens_limit: number(headers, &h("output-tokens", "limit")),
                output_tokens_remaining: number(headers, &h("output-tokens", "remaining")),
                output_tokens_reset_at: reset(headers, &h("output-tokens", "reset"), now),
            }
        }
        Provider::Mistral => RateLimits {
            requests_limit: number(headers, "x-ratelimit-limit-req-minute"),
            requests_remaining: number(headers, "x-ratelimit-remaining-req-minute"),
            tokens_limit: number(headers, "x-ratelimit-limit-tokens-minute")
                .or_else(|| number(headers, "x-ratelimit-limit-tokens")),
            tokens_remaining: number(headers, "x-ratelimit-remaining-tokens-minute")
                .or_else(|| number(headers, "x-ratelimit-remaining-tokens")),
            tokens_reset_at: reset(headers, "x-ratelimit-reset-tokens", now),
            ..RateLimits::default()
        },
        Provider::Gemini => RateLimits::default(),
    }
}
