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
use byokit_core::protocol;
use time::OffsetDateTime;

mod catalog;
mod daemon;
mod provider_io;
mod rules;

pub use catalog::*;
pub use daemon::*;
pub use provider_io::*;
pub use rules::*;

uniffi::setup_scaffolding!();

/// Everything that can go wrong, by what the caller can do about it. In Kotlin these are the
/// subclasses of `ByokitException`; in Swift the cases of `ByokitError`; in Python the
/// subclasses of `ByokitError`.
///
/// Every case has `reason`, what happened in words (for people; never a secret), and the cases a
/// caller acts on carry what it needs: `retry_after_seconds` and the provider's `status` for
/// `RateLimited`, `Overloaded` and `ServerError`, the provider's `status` for the other
/// provider answers, the closest names for `UnknownModel`, byokd's own kind for `Daemon`.
/// (Not a field named `message`: Kotlin's exceptions have one of their own. Kotlin's `message`
/// and Python's `str()` list the fields; Swift's `description` and Rust's `Display` are the
/// reason alone.)
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum ByokitError {
    /// A provider name byokit does not know.
    #[error("{reason}")]
    UnknownProvider {
        /// What happened.
        reason: String,
    },
    /// A model the catalog does not have.
    #[error("{reason}")]
    UnknownModel {
        /// What happened.
        reason: String,
        /// The closest ids and aliases the catalog has, best first.
        suggestions: Vec<String>,
    },
    /// An argument is not acceptable (a count out of range, a malformed decimal, a bad window, a
    /// request too large for byokd).
    #[error("{reason}")]
    InvalidInput {
        /// What happened.
        reason: String,
    },
    /// A catalog file that cannot be read; the reason names the file, entry and field.
    #[error("{reason}")]
    InvalidCatalog {
        /// What happened.
        reason: String,
    },
    /// A reply that is not what the provider's API (or byokd's protocol) documents.
    #[error("{reason}")]
    MalformedResponse {
        /// What happened.
        reason: String,
    },
    /// The key is malformed, wrong, revoked or missing: the user must fix it. Never retry.
    #[error("{reason}")]
    InvalidKey {
        /// What happened.
        reason: String,
    },
    /// The key is valid but may not do this (model access, region, organization).
    #[error("{reason}")]
    PermissionDenied {
        /// What happened.
        reason: String,
        /// The provider's HTTP status, when a provider answered.
        status: Option<u16>,
    },
    /// Out of credit or quota: the user must pay or wait for the next period.
    #[error("{reason}")]
    InsufficientCredit {
        /// What happened.
        reason: String,
        /// The provider's HTTP status, when a provider answered.
        status: Option<u16>,
    },
    /// Too many requests or tokens for now: retry after `retry_after_seconds`, when known.
    #[error("{reason}")]
    RateLimited {
        /// What happened.
        reason: String,
        /// The provider's HTTP status; none when routing refused because every key rests.
        status: Option<u16>,
        /// How long to wait before retrying, when known.
        retry_after_seconds: Option<f64>,
    },
    /// The provider is overloaded: retry later or elsewhere.
    #[error("{reason}")]
    Overloaded {
        /// What happened.
        reason: String,
        /// The provider's HTTP status.
        status: Option<u16>,
        /// How long to wait, when the provider said.
        retry_after_seconds: Option<f64>,
    },
    /// The provider failed, or could not be reached: retry later or elsewhere.
    #[error("{reason}")]
    ServerError {
        /// What happened.
        reason: String,
        /// The provider's HTTP status; none when it could not be reached.
        status: Option<u16>,
        /// How long to wait, when the provider said.
        retry_after_seconds: Option<f64>,
    },
    /// The provider refused the request as malformed (e.g. context length exceeded).
    #[error("{reason}")]
    BadRequest {
        /// What happened.
        reason: String,
        /// The provider's HTTP status.
        status: Option<u16>,
    },
    /// The provider does not have the model, or the key cannot see it.
    #[error("{reason}")]
    ModelNotFound {
        /// What happened.
        reason: String,
        /// The provider's HTTP status.
        status: Option<u16>,
    },
    /// The user has no key and the system key's monthly token cap is reached: ask them to add
    /// their own key.
    #[error("{reason}")]
    SystemCapReached {
        /// What happened.
        reason: String,
    },
    /// The user has no key and the app has no system key.
    #[error("{reason}")]
    NoKey {
        /// What happened.
        reason: String,
    },
    /// The month's spending on the user's own keys has reached their budget, whose policy is
    /// to block: raise it, or wait for next month.
    #[error("{reason}")]
    BudgetReached {
        /// What happened.
        reason: String,
    },
    /// byokd is not running, its socket cannot be reached, the connection broke, or byokd sent
    /// nothing for the read timeout.
    #[error("{reason}")]
    DaemonUnreachable {
        /// What happened.
        reason: String,
    },
    /// byokd answered with an error the cases above do not cover.
    #[error("{reason}")]
    Daemon {
        /// What happened.
        reason: String,
        /// byokd's kind for it (`not_found`, `method_not_found`, `internal`, …).
        kind: String,
    },
}

impl ByokitError {
    /// What happened, in words.
    pub fn reason(&self) -> &str {
        use ByokitError::*;
        match self {
            UnknownProvider { reason }
            | UnknownModel { reason, .. }
            | InvalidInput { reason }
            | InvalidCatalog { reason }
            | MalformedResponse { reason }
            | InvalidKey { reason }
            | PermissionDenied { reason, .. }
            | InsufficientCredit { reason, .. }
            | RateLimited { reason, .. }
            | Overloaded { reason, .. }
            | ServerError { reason, .. }
            | BadRequest { reason, .. }
            | ModelNotFound { reason, .. }
            | SystemCapReached { reason }
            | NoKey { reason }
            | BudgetReached { reason }
            | DaemonUnreachable { reason }
            | Daemon { reason, .. } => reason,
        }
    }

    fn invalid_input(reason: impl Into<String>) -> ByokitError {
        ByokitError::InvalidInput {
            reason: reason.into(),
        }
    }

    fn invalid_catalog(reason: impl Into<String>) -> ByokitError {
        ByokitError::InvalidCatalog {
            reason: reason.into(),
        }
    }

    fn invalid_key(reason: impl Into<String>) -> ByokitError {
        ByokitError::InvalidKey {
            reason: reason.into(),
        }
    }

    /// A routing refusal, with when a resting key frees up measured from `now`.
    fn from_route(e: &core::RouteError, now: OffsetDateTime) -> ByokitError {
        protocol::Error::new(protocol::ErrorKind::from_route(e, now), e.to_string()).into()
    }
}

/// The one mapping from the protocol's error kinds (byokd's replies, and the core's provider
/// errors and routing refusals, which become the same kinds) to the cases above.
impl From<protocol::Error> for ByokitError {
    fn from(e: protocol::Error) -> Self {
        use protocol::ErrorKind as K;
        use ByokitError::*;
        let reason = e.message;
        match e.kind {
            K::ParseError | K::InvalidRequest | K::InvalidParams | K::TooLarge { .. } => {
                InvalidInput { reason }
            }
            K::BadKey | K::InvalidKey { .. } => InvalidKey { reason },
            K::UnknownModel { suggestions } => UnknownModel {
                reason,
                suggestions,
            },
            K::NoKey => NoKey { reason },
            K::SystemCapReached => SystemCapReached { reason },
            K::BudgetReached => BudgetReached { reason },
            K::PermissionDenied { status } => PermissionDenied { reason, status },
            K::InsufficientCredit { status } => InsufficientCredit { reason, status },
            K::RateLimited {
                status,
                retry_after_seconds,
            } => RateLimited {
                reason,
                status,
                retry_after_seconds,
            },
            K::Overloaded {
                status,
                retry_after_seconds,
            } => Overloaded {
                reason,
                status,
                retry_after_seconds,
            },
            K::ServerError {
                status,
                retry_after_seconds,
            } => ServerError {
                reason,
                status,
                retry_after_seconds,
            },
            K::BadRequest { status } => BadRequest { reason, status },
            K::ModelNotFound { status } => ModelNotFound { reason, status },
            K::MalformedReply => MalformedResponse { reason },
            K::Unreachable => ServerError {
                reason,
                status: None,
                retry_after_seconds: None,
            },
            other => Daemon {
                reason,
                kind: other.as_str().to_owned(),
            },
        }
    }
}

impl From<core::ProviderError> for ByokitError {
    fn from(e: core::ProviderError) -> Self {
        protocol::Error::from(&e).into()
    }
}

impl From<core::UnknownModel> for ByokitError {
    fn from(e: core::UnknownModel) -> Self {
        ByokitError::UnknownModel {
            reason: e.to_string(),
            suggestions: e.suggestions,
        }
    }
}

impl From<core::AdapterError> for ByokitError {
    fn from(e: core::AdapterError) -> Self {
        match e {
            core::AdapterError::Provider(p) => p.into(),
            core::AdapterError::InvalidRequest(_) => ByokitError::invalid_input(e.to_string()),
            core::AdapterError::Malformed { .. } => ByokitError::MalformedResponse {
                reason: e.to_string(),
            },
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
        .map_err(|e| ByokitError::UnknownProvider {
            reason: e.to_string(),
        })
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
        .ok_or_else(|| ByokitError::invalid_input(format!("{what}: {s:?} is not a decimal number")))
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
        .map_err(|_| ByokitError::invalid_input("instant out of range"))
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
        assert!(matches!(
            instant(far),
            Err(ByokitError::InvalidInput { .. })
        ));
    }

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(money(decimal("12.50", "x").unwrap()), "12.5");
        assert!(matches!(
            decimal("1e3x", "limit"),
            Err(ByokitError::InvalidInput { reason }) if reason.contains("limit")
        ));
    }
}
