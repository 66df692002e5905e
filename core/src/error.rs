//! Provider errors, classified into what a caller can act on.

use std::fmt;
use std::time::Duration;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::http::Headers;
use crate::key::scrub_secrets;
use crate::provider::Provider;

/// What kind of failure a provider reported, chosen by what the caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ErrorKind {
    /// The key is wrong, revoked or missing: the user must fix it. Never retried.
    InvalidKey,
    /// The key is valid but may not do this (model access, region, organization).
    PermissionDenied,
    /// Out of credit or quota: the user must pay or wait for the next period. Not a rate limit.
    InsufficientCredit,
    /// Too many requests or tokens for now: retry after `retry_after`.
    RateLimited,
    /// The provider is overloaded (Anthropic 529, Gemini 503): retry later or elsewhere.
    Overloaded,
    /// The provider failed (5xx): retry later or elsewhere.
    ServerError,
    /// The request is wrong (e.g. context length exceeded); the provider's message says why.
    BadRequest,
    /// The model does not exist or the key cannot see it.
    ModelNotFound,
}

impl ErrorKind {
    /// Whether the same request may succeed if sent again later (or to another key/provider).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Overloaded | ErrorKind::ServerError
        )
    }

    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::InsufficientCredit => "insufficient_credit",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ServerError => "server_error",
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::ModelNotFound => "model_not_found",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error reply of a provider, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{provider} {kind}: {message}")]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "ClassifiedError")
)]
pub struct ProviderError {
    /// The provider.
    pub provider: Provider,
    /// What kind of failure it is.
    pub kind: ErrorKind,
    /// The HTTP status (0 for an error event inside a stream).
    pub status: u16,
    /// How long to wait before retrying, when the provider said.
    #[serde(rename = "retry_after_seconds", serialize_with = "seconds")]
    #[cfg_attr(
        feature = "ts",
        ts(rename = "retryAfterSeconds", type = "number | null")
    )]
    pub retry_after: Option<Duration>,
    /// The provider's own message, with anything that looks like a key masked.
    pub message: String,
    /// The provider's own error code or type (`insufficient_quota`, `overloaded_error`,
    /// `RESOURCE_EXHAUSTED`), when it gave one.
    pub code: Option<String>,
}

fn seconds<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Classifies an error reply from its status, headers and body (which may be anything, even
/// empty or not JSON).
pub fn classify_error(
    provider: Provider,
    status: u16,
    headers: &Headers,
    body: &[u8],
) -> ProviderError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut e = classify_error_value(provider, status, headers, &v);
    if v.is_null() && !body.is_empty() {
        let text = String::from_utf8_lossy(body);
        let text: String = text.trim().chars().take(300).collect();
        if !text.is_empty() {
            e.message = scrub_secrets(&text);
        }
    }
    e
}

/// The error object of a body: `{"error": {...}}` (OpenAI, Gemini, Anthropic's `type: error`)
/// or the body itself (Mistral's `{"object": "error", "message": ...}`).
fn error_object(v: &Value) -> &Value {
    match v.get("error") {
        Some(e) if e.is_object() => e,
        _ => v,
    }
}

fn message_of(e: &Value, v: &Value) -> Option<String> {
    let m = e
        .get("message")
        .or_else(|| v.get("message"))
        .or_else(|| v.get("detail"))?;
    Some(match m {
        Value::String(s) => s.clone(),
        // FastAPI-style validation details (Mistral 422): a list of {msg, loc}.
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.get("msg").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    })
}

pub(crate) fn classify_error_value(
    provider: Provider,
    status: u16,
    headers: &Headers,
    v: &Value,
) -> ProviderError {
    let e = error_object(v);
    let message = message_of(e, v).unwrap_or_else(|| format!("HTTP {status}"));
    let lower = message.to_ascii_lowercase();
    let str_at = |key: &str| e.get(key).and_then(Value::as_str);
    let (kind, code) = match provider {
        Provider::Anthropic => {
            let t = str_at("type");
            let kind = match t {
                Some("authentication_error") => ErrorKind::InvalidKey,
                Some("permission_error") => ErrorKind::PermissionDenied,
                Some("not_found_error") => ErrorKind::ModelNotFound,
                Some("rate_limit_error") => ErrorKind::RateLimited,
                Some("overloaded_error") => ErrorKind::Overloaded,
                Some("api_error") | Some("timeout_error") => ErrorKind::ServerError,
                Some("billing_error") => ErrorKind::InsufficientCredit,
                Some("invalid_request_error") if lower.contains("credit balance") => {
                    ErrorKind::InsufficientCredit
                }
                Some("invalid_request_error") | Some("request_too_large") => ErrorKind::BadRequest,
                _ => by_status(status),
            };
            (kind, t.map(str::to_owned))
        }
        Provider::Gemini => {
            let s = str_at("status");
            let reason = e
                .get("details")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|d| d.get("reason").and_then(Value::as_str));
            let kind = match (s, reason) {
                (_, Some("API_KEY_INVALID")) | (Some("UNAUTHENTICATED"), _) => {
                    ErrorKind::InvalidKey
                }
                (Some("INVALID_ARGUMENT"), _) if lower.contains("api key not valid") => {
                    ErrorKind::InvalidKey
                }
                (Some("PERMISSION_DENIED"), _) => ErrorKind::PermissionDenied,
                (Some("RESOURCE_EXHAUSTED"), _) => ErrorKind::RateLimited,
                (Some("NOT_FOUND"), _) => ErrorKind::ModelNotFound,
                (Some("UNAVAILABLE"), _) => ErrorKind::Overloaded,
                (Some("INTERNAL") | Some("UNKNOWN") | Some("DEADLINE_EXCEEDED"), _) => {
                    ErrorKind::ServerError
                }
                (
                    Some("INVALID_ARGUMENT") | Some("FAILED_PRECONDITION") | Some("OUT_OF_RANGE"),
                    _,
                ) => ErrorKind::BadRequest,
                _ => by_status(status),
            };
            (kind, reason.or(s).map(str::to_owned))
        }
        Provider::OpenAi | Provider::Groq | Provider::Mistral => {
            // `code` and `type` both carry names (`insufficient_quota`, Mistral's
            // `invalid_model` with a numeric code); either may decide.
            let names = [str_at("code"), str_at("type")];
            let named = |wanted: &[&str]| names.iter().flatten().any(|n| wanted.contains(n));
            let kind = if named(&[
                "insufficient_quota",
                "billing_hard_limit_reached",
                "insufficient_balance",
            ]) {
                ErrorKind::InsufficientCredit
            } else if named(&["invalid_api_key"]) {
                ErrorKind::InvalidKey
            } else if named(&["model_not_found", "invalid_model"]) {
                ErrorKind::ModelNotFound
            } else if named(&["rate_limit_exceeded", "tokens_exceeded"]) {
                ErrorKind::RateLimited
            } else {
                by_status(status)
            };
            (kind, names.into_iter().flatten().next().map(str::to_owned))
        }
    };
    ProviderError {
        provider,
        kind,
        status,
        retry_after: retry_after(kind, headers, e),
        message: scrub_secrets(&message),
        code,
    }
}

fn by_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::InvalidKey,
        402 => ErrorKind::InsufficientCredit,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::ModelNotFound,
        429 => ErrorKind::RateLimited,
        503 | 529 => ErrorKind::Overloaded,
        500..=599 => ErrorKind::ServerError,
        _ => ErrorKind::BadRequest,
    }
}

/// `retry-after-ms`, else `retry-after` (seconds), else for a rate limit the reset time of an
/// exhausted OpenAI-style bucket (`x-ratelimit-reset-requests`/`-tokens`, the later one) or
/// Gemini's `RetryInfo.retryDelay` in the body.
fn retry_after(kind: ErrorKind, headers: &Headers, e: &Value) -> Option<Duration> {
    if let Some(ms) = headers.get("retry-after-ms").and_then(decimal) {
        return duration_secs(ms / Decimal::ONE_THOUSAND);
    }
    if let Some(s) = headers.get("retry-after").and_then(decimal) {
        return duration_secs(s);
    }
    if kind != ErrorKind::RateLimited {
        return None;
    }
    let exhausted = |bucket: &str| {
        let remaining = headers.get(&format!("x-ratelimit-remaining-{bucket}"))?;
        if decimal(remaining)? > Decimal::ZERO {
            return None;
        }
        parse_go_duration(headers.get(&format!("x-ratelimit-reset-{bucket}"))?)
    };
    let from_buckets = [exhausted("requests"), exhausted("tokens")]
        .into_iter()
        .flatten()
        .max();
    from_buckets.or_else(|| {
        e.get("details")?
            .as_array()?
            .iter()
            .filter(|d| {
                d.get("@type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
            })
            .find_map(|d| parse_go_duration(d.get("retryDelay")?.as_str()?))
    })
}

/// A number as a header writes it (`30`, `1.5`): digits with at most one point, read exactly.
pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None; // rust_decimal would also read `1_000`, `-1` and `+1`
    }
    Decimal::from_str_exact(text).ok()
}

/// The longest duration a header may give: 10⁹ seconds (about 31 years).
const MAX_SECONDS: u64 = 1_000_000_000;

/// A number of seconds (as [`decimal`] reads it: never negative) as a duration, if it is under
/// [`MAX_SECONDS`].
pub(crate) fn duration_secs(s: Decimal) -> Option<Duration> {
    if s >= Decimal::from(MAX_SECONDS) {
        return None;
    }
    let whole = s.trunc();
    let nanos = ((s - whole) * Decimal::from(1_000_000_000)).trunc();
    Some(Duration::new(whole.to_u64()?, nanos.to_u32()?))
}

/// Parses a Go-style duration (`1s`, `6m0s`, `20ms`, `1m30.5s`, `2h3m`) as OpenAI and Groq
/// write rate-limit resets, or a protobuf duration (`37s`, `0.5s`) as Gemini writes retry
/// delays.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    // Bounded so that no product below overflows: a larger number is more than 10⁹ seconds
    // in any unit, which is no duration here.
    let bound = Decimal::from(1_000_000_000_000_000u64);
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number = decimal(&rest[..number_len]).filter(|n| *n < bound)?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "h" => number * Decimal::from(3600),
            "m" => number * Decimal::from(60),
            "s" => number,
            "ms" => number / Decimal::from(1_000),
            "us" | "µs" => number / Decimal::from(1_000_000),
            "ns" => number / Decimal::from(1_000_000_000),
            _ => return None,
        };
        total = total.checked_add(duration_secs(seconds)?)?;
        rest = &rest[unit_len..];
    }
    (total.as_secs() < MAX_SECONDS).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let ms = |t: &str| parse_go_duration(t).map(|d| d.as_millis());
        assert_eq!(ms("1s"), Some(1000));
        assert_eq!(ms("6m0s"), Some(360_000));
        assert_eq!(ms("20ms"), Some(20));
        assert_eq!(ms("1m30.5s"), Some(90_500));
        assert_eq!(ms("2h3m"), Some(7_380_000));
        assert_eq!(ms("0.5s"), Some(500));
        assert_eq!(ms(""), None);
        assert_eq!(ms("soon"), None);
        assert_eq!(ms("5"), None);
        assert_eq!(ms("5x"), None);
        assert_eq!(parse_go_duration("1.000000001s"), Some(Duration::new(1, 1)));
        assert_eq!(parse_go_duration("0.1s"), Some(Duration::from_millis(100)));
        assert_eq!(ms("1..5s"), None);
        assert_eq!(ms("-1s"), None);
        // 5·10²⁵ hours: a Decimal, but in seconds past what one holds (the bound keeps the
        // product from overflowing, which would panic).
        assert_eq!(ms("50000000000000000000000000h"), None);
        assert_eq!(ms("99999999999999999999999999999h"), None);
    }

    #[test]
    fn retry_after_headers_are_read_exactly() {
        let after = |name: &str, value: &str| {
            let headers: Headers = [(name, value)].into_iter().collect();
            classify_error(Provider::OpenAi, 429, &headers, b"").retry_after
        };
        assert_eq!(after("retry-after", "20"), Some(Duration::from_secs(20)));
        assert_eq!(
            after("retry-after", "0.3"),
            Some(Duration::from_millis(300))
        );
        assert_eq!(
            after("retry-after-ms", "1500"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            after("retry-after-ms", "0.5"),
            Some(Duration::from_micros(500))
        );
        assert_eq!(after("retry-after", "-3"), None);
        assert_eq!(after("retry-after", "1e9"), None);
        assert_eq!(after("retry-after", "1_0"), None);
        assert_eq!(after("retry-after", "+3"), None);
        assert_eq!(after("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn not_json_bodies_still_classify() {
        let e = classify_error(
            Provider::OpenAi,
            502,
            &Headers::default(),
            b"<html>Bad gateway</html>",
        );
        assert_eq!(e.kind, ErrorKind::ServerError);
        assert_eq!(e.message, "<html>Bad gateway</html>");
        let e = classify_error(Provider::Anthropic, 529, &Headers::default(), b"");
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert_eq!(e.message, "HTTP 529");
    }

    #[test]
    fn keys_in_provider_messages_are_masked() {
        let body = br#"{"error": {"message": "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz123456. You can find your API key at https://platform.openai.com/account/api-keys.", "type": "invalid_request_error", "code": "invalid_api_key"}}"#;
        let e = classify_error(Provider::OpenAi, 401, &Headers::default(), body);
        assert_eq!(e.kind, ErrorKind::InvalidKey);
        assert!(!e.message.contains("abcdefghijklmnop"), "{}", e.message);
        assert!(e.message.contains("sk-proj-…3456"), "{}", e.message);
    }
}
