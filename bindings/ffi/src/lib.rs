//! byokit-core for Kotlin (`dev.byokit`), Swift (`Byokit`) and Python, through uniffi.
//!
//! A thin layer: each function converts its arguments into the core's types, calls the core, and
//! converts the result back. Token counts cross as unsigned 64-bit integers, money as decimal
//! strings (`"0.00608"`), instants as the platform's timestamp type (`java.time.Instant`,
//! `Date`, `datetime`), days as `YYYY-MM-DD`. Every failure is a [`ByokitError`] whose case says
//! what the caller can do; no conversion at the boundary panics (out-of-range instants and
//! malformed decimals are errors like any other).

use std::time::{SystemTime, UNIX_EPOCH};

use byokit_core as core;
use time::OffsetDateTime;

mod catalog;
// byokd listens on a Unix socket; on other systems the bindings have no daemon client.
#[cfg(unix)]
mod daemon;
mod provider_io;
mod rules;

pub use catalog::*;
#[cfg(unix)]
pub use daemon::*;
pub use provider_io::*;
pub use rules::*;

uniffi::setup_scaffolding!();

/// Everything that can go wrong, by what the caller can do about it. In Kotlin these are the
/// subclasses of `ByokitException`; in Swift the cases of `ByokitError`; the message is for
/// people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ByokitError {
    /// A provider name byokit does not know.
    #[error("{0}")]
    UnknownProvider(String),
    /// A model the catalog does not have (the message suggests the closest names).
    #[error("{0}")]
    UnknownModel(String),
    /// An argument is not acceptable (a count out of range, a malformed decimal, a bad window).
    #[error("{0}")]
    InvalidInput(String),
    /// A catalog file that cannot be read; the message names the file, entry and field.
    #[error("{0}")]
    InvalidCatalog(String),
    /// A reply that is not what the provider's API documents.
    #[error("{0}")]
    MalformedResponse(String),
    /// The key is malformed, wrong, revoked or missing: the user must fix it. Never retry.
    #[error("{0}")]
    InvalidKey(String),
    /// The key is valid but may not do this (model access, region, organization).
    #[error("{0}")]
    PermissionDenied(String),
    /// Out of credit or quota: the user must pay or wait for the next period.
    #[error("{0}")]
    InsufficientCredit(String),
    /// Too many requests or tokens for now: retry later (`classifyError` gives the delay).
    #[error("{0}")]
    RateLimited(String),
    /// The provider is overloaded: retry later or elsewhere.
    #[error("{0}")]
    Overloaded(String),
    /// The provider failed: retry later or elsewhere.
    #[error("{0}")]
    ServerError(String),
    /// The provider refused the request as malformed (e.g. context length exceeded).
    #[error("{0}")]
    BadRequest(String),
    /// The provider does not have the model, or the key cannot see it.
    #[error("{0}")]
    ModelNotFound(String),
    /// The user has no key and the system key's monthly token cap is reached: ask them to add
    /// their own key.
    #[error("{0}")]
    SystemCapReached(String),
    /// The user has no key and the app has no system key.
    #[error("{0}")]
    NoKey(String),
    /// The month's spending on the user's own keys has reached their budget, whose policy is
    /// to block: raise it, or wait for next month.
    #[error("{0}")]
    BudgetReached(String),
    /// byokd is not running or its socket cannot be reached.
    #[error("{0}")]
    DaemonUnreachable(String),
    /// byokd answered with an error the cases above do not cover.
    #[error("{0}")]
    Daemon(String),
}

impl ByokitError {
    /// The case for a provider error of `kind`.
    fn provider(kind: core::ErrorKind, message: String) -> ByokitError {
        match kind {
            core::ErrorKind::InvalidKey => ByokitError::InvalidKey(message),
            core::ErrorKind::PermissionDenied => ByokitError::PermissionDenied(message),
            core::ErrorKind::InsufficientCredit => ByokitError::InsufficientCredit(message),
            core::ErrorKind::RateLimited => ByokitError::RateLimited(message),
            core::ErrorKind::Overloaded => ByokitError::Overloaded(message),
            core::ErrorKind::ServerError => ByokitError::ServerError(message),
            core::ErrorKind::BadRequest => ByokitError::BadRequest(message),
            core::ErrorKind::ModelNotFound => ByokitError::ModelNotFound(message),
        }
    }

    /// The case for a routing refusal of `kind` ([`core::RouteError::kind`]'s names).
    fn refused(kind: &str, message: String) -> ByokitError {
        match kind {
            "invalid_key" => ByokitError::InvalidKey(message),
            "system_cap_reached" => ByokitError::SystemCapReached(message),
            "no_key" => ByokitError::NoKey(message),
            "budget_reached" => ByokitError::BudgetReached(message),
            "rate_limited" => ByokitError::RateLimited(message),
            _ => ByokitError::Daemon(message),
        }
    }
}

impl From<core::ProviderError> for ByokitError {
    fn from(e: core::ProviderError) -> Self {
        ByokitError::provider(e.kind, e.to_string())
    }
}

impl From<core::RouteError> for ByokitError {
    fn from(e: core::RouteError) -> Self {
        // By kind, as byokd's refusals come: one mapping for both.
        ByokitError::refused(e.kind(), e.to_string())
    }
}

impl From<core::AdapterError> for ByokitError {
    fn from(e: core::AdapterError) -> Self {
        match e {
            core::AdapterError::Provider(p) => p.into(),
            core::AdapterError::InvalidRequest(_) => ByokitError::InvalidInput(e.to_string()),
            core::AdapterError::Malformed { .. } => ByokitError::MalformedResponse(e.to_string()),
        }
    }
}

/// An LLM provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Provider {
    /// OpenAI.
    Openai,
    /// Anthropic.
    Anthropic,
    /// Groq.
    Groq,
    /// Google Gemini.
    Gemini,
    /// Mistral.
    Mistral,
}

impl From<Provider> for core::Provider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Openai => core::Provider::OpenAi,
            Provider::Anthropic => core::Provider::Anthropic,
            Provider::Groq => core::Provider::Groq,
            Provider::Gemini => core::Provider::Gemini,
            Provider::Mistral => core::Provider::Mistral,
        }
    }
}

impl From<core::Provider> for Provider {
    fn from(p: core::Provider) -> Self {
        match p {
            core::Provider::OpenAi => Provider::Openai,
            core::Provider::Anthropic => Provider::Anthropic,
            core::Provider::Groq => Provider::Groq,
            core::Provider::Gemini => Provider::Gemini,
            core::Provider::Mistral => Provider::Mistral,
        }
    }
}

/// The provider named `name` (`openai`, `anthropic`, `groq`, `gemini`, `mistral`).
#[uniffi::export]
pub fn provider_from_name(name: String) -> Result<Provider, ByokitError> {
    name.parse::<core::Provider>()
        .map(Provider::from)
        .map_err(|e| ByokitError::UnknownProvider(e.to_string()))
}

/// The provider's name as byokit writes it (`openai`, …).
#[uniffi::export]
pub fn provider_name(provider: Provider) -> String {
    core::Provider::from(provider).as_str().to_owned()
}

/// Token counts of one call, exactly as the provider reported them (OpenAI's input includes its
/// cached tokens; Anthropic's does not; see the catalog docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Record)]
pub struct TokenUsage {
    /// Input (prompt) tokens.
    #[uniffi(default = 0)]
    pub input_tokens: u64,
    /// Output (completion) tokens.
    #[uniffi(default = 0)]
    pub output_tokens: u64,
    /// Cached input tokens read.
    #[uniffi(default = 0)]
    pub cached_input_tokens: u64,
    /// Tokens written to the prompt cache.
    #[uniffi(default = 0)]
    pub cache_write_tokens: u64,
    /// Reasoning tokens.
    #[uniffi(default = 0)]
    pub reasoning_tokens: u64,
    /// Some counts are estimates, not the provider's own.
    #[uniffi(default = false)]
    pub estimated: bool,
}

impl From<TokenUsage> for core::Usage {
    fn from(u: TokenUsage) -> Self {
        core::Usage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_tokens: u.cache_write_tokens,
            reasoning_tokens: u.reasoning_tokens,
            estimated: u.estimated,
        }
    }
}

impl From<core::Usage> for TokenUsage {
    fn from(u: core::Usage) -> Self {
        TokenUsage {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_tokens: u.cache_write_tokens,
            reasoning_tokens: u.reasoning_tokens,
            estimated: u.estimated,
        }
    }
}

/// Whether a cost is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CostStatus {
    /// The provider's own counts times the catalog's prices.
    Exact,
    /// Computed exactly, from counts of which some were estimated.
    Estimated,
    /// Not known: the model or a token class has no price. Never a silent zero.
    Unpriced,
}

impl From<core::CostStatus> for CostStatus {
    fn from(s: core::CostStatus) -> Self {
        match s {
            core::CostStatus::Exact => CostStatus::Exact,
            core::CostStatus::Estimated => CostStatus::Estimated,
            core::CostStatus::Unpriced => CostStatus::Unpriced,
        }
    }
}

impl From<CostStatus> for core::CostStatus {
    fn from(s: CostStatus) -> Self {
        match s {
            CostStatus::Exact => core::CostStatus::Exact,
            CostStatus::Estimated => core::CostStatus::Estimated,
            CostStatus::Unpriced => core::CostStatus::Unpriced,
        }
    }
}

/// Who pays for a call, apart from which provider serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Payer {
    /// The user's own key.
    User,
    /// The app's shared system key (counted against the monthly cap).
    System,
}

impl From<Payer> for core::Payer {
    fn from(p: Payer) -> Self {
        match p {
            Payer::User => core::Payer::User,
            Payer::System => core::Payer::System,
        }
    }
}

impl From<core::Payer> for Payer {
    fn from(p: core::Payer) -> Self {
        match p {
            core::Payer::User => Payer::User,
            core::Payer::System => Payer::System,
        }
    }
}

/// A decimal string as an exact decimal.
fn decimal(s: &str, what: &str) -> Result<core::Decimal, ByokitError> {
    core::parse_usd(s)
        .ok_or_else(|| ByokitError::InvalidInput(format!("{what}: {s:?} is not a decimal number")))
}

/// An exact decimal as a string without trailing zeros.
fn money(d: core::Decimal) -> String {
    d.normalize().to_string()
}

/// A platform timestamp as a UTC instant, refusing those outside years -9999..=9999.
fn instant(t: SystemTime) -> Result<OffsetDateTime, ByokitError> {
    let nanos: i128 = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|_| ByokitError::InvalidInput("instant out of range".to_owned()))
}

/// A UTC instant as a platform timestamp.
fn timestamp(t: OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

/// `YYYY-MM-DD`.
fn day(d: core::Date) -> String {
    let (y, m, dd) = (d.year(), u8::from(d.month()), d.day());
    format!("{y:04}-{m:02}-{dd:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn instants_survive_the_round_trip_and_extremes_are_errors() {
        let t = UNIX_EPOCH + Duration::new(1_764_000_000, 123_456_789);
        assert_eq!(timestamp(instant(t).unwrap()), t);
        let before = UNIX_EPOCH - Duration::new(86_400, 5);
        assert_eq!(timestamp(instant(before).unwrap()), before);
        let far = UNIX_EPOCH + Duration::from_secs(400_000 * 365 * 86_400);
        assert!(matches!(instant(far), Err(ByokitError::InvalidInput(_))));
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(money(decimal("12.50", "x").unwrap()), "12.5");
        assert!(matches!(
            decimal("1e3x", "limit"),
            Err(ByokitError::InvalidInput(m)) if m.contains("limit")
        ));
    }
}
