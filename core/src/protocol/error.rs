//! The one error of the daemon's protocol: every kind of failure a caller can act on, with the
//! data it needs to act (when to retry, the provider's status, the names it may have meant).
//!
//! byokd's service returns it, each front end translates it (a JSON-RPC error's `code` and
//! `data`, an HTTP status with `Retry-After`), and each client reads it back into the same type:
//! no layer reads a kind out of a message or a loosely typed JSON value.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::codes;
use crate::budget::BudgetReached;
use crate::error::{ErrorKind as ProviderErrorKind, ProviderError};
use crate::routing::RouteError;

/// What kind of failure a request met, with its data: the `data` of a JSON-RPC error reply
/// (`{"kind": "rate_limited", "status": 429, "retry_after_seconds": 2.0}`), the `kind` of an
/// error in the npm package, a case of `ByokitError` in Kotlin and Swift.
///
/// The provider's kinds (`invalid_key` … `model_not_found`) carry the provider's HTTP `status`
/// when a provider answered; without one, the same kind is byokd's own refusal (routing knows
/// the user's keys are refused or resting), so a caller acts on the kind alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(tag = "kind", rename_all = "snake_case", rename = "DaemonErrorKind")
)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The message is not JSON.
    ParseError,
    /// The message is not a JSON-RPC 2.0 request.
    InvalidRequest,
    /// The message is over the size limit; nothing of it was acted on.
    TooLarge {
        /// The limit, in bytes.
        limit_bytes: u64,
    },
    /// No such method (or endpoint).
    MethodNotFound,
    /// The parameters do not fit the method; the message names the field, never its value.
    InvalidParams,
    /// A key without its provider's format (`sk-ant-` pasted as an OpenAI key).
    BadKey,
    /// The thing asked for does not exist (no configuration of that provider or id).
    NotFound,
    /// A model the catalog does not know.
    UnknownModel {
        /// The closest names it knows.
        #[serde(default)]
        suggestions: Vec<String>,
    },
    /// The user has no key of their own and the app has no system key.
    NoKey,
    /// The user has no key of their own and the system key's monthly token cap is reached.
    SystemCapReached,
    /// The user's monthly budget is spent and its policy blocks further calls.
    BudgetReached,
    /// The key is wrong, revoked or missing: the user must fix it. Never retried.
    InvalidKey {
        /// The provider's HTTP status, when a provider answered.
        #[serde(default)]
        status: Option<u16>,
    },
    /// The key is valid but may not do this (model access, region, organization).
    PermissionDenied {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
    },
    /// Out of credit or quota: the user must pay or wait for the next period.
    InsufficientCredit {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
    },
    /// Too many requests or tokens for now: retry after `retry_after_seconds`.
    RateLimited {
        /// The provider's HTTP status; none when byokd refused because every key rests.
        #[serde(default)]
        status: Option<u16>,
        /// How long to wait, when known (the provider's `retry-after`, or when routing's first
        /// resting key frees up).
        #[serde(default)]
        retry_after_seconds: Option<f64>,
    },
    /// The provider is overloaded: retry later or elsewhere.
    Overloaded {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
        /// How long to wait, when the provider said.
        #[serde(default)]
        retry_after_seconds: Option<f64>,
    },
    /// The provider failed (5xx): retry later or elsewhere.
    ServerError {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
        /// How long to wait, when the provider said.
        #[serde(default)]
        retry_after_seconds: Option<f64>,
    },
    /// The provider refused the request as malformed (e.g. context length exceeded).
    BadRequest {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
    },
    /// The provider does not have the model, or the key cannot see it.
    ModelNotFound {
        /// The provider's HTTP status.
        #[serde(default)]
        status: Option<u16>,
    },
    /// The provider answered with something its API does not document.
    MalformedReply,
    /// The provider could not be reached (connection refused, timed out, broke off).
    Unreachable,
    /// byokd failed (its storage); nothing was changed.
    Internal,
}

impl ErrorKind {
    /// The JSON-RPC error code of this kind (see [`codes`]).
    pub fn code(&self) -> i64 {
        use ErrorKind::*;
        match self {
            ParseError => codes::PARSE_ERROR,
            InvalidRequest | TooLarge { .. } => codes::INVALID_REQUEST,
            MethodNotFound => codes::METHOD_NOT_FOUND,
            InvalidParams => codes::INVALID_PARAMS,
            BadKey => codes::BAD_KEY,
            NotFound | UnknownModel { .. } => codes::NOT_FOUND,
            NoKey | SystemCapReached | BudgetReached => codes::REFUSED,
            MalformedReply => codes::PROVIDER_ERROR,
            Unreachable => codes::UNREACHABLE,
            Internal => codes::INTERNAL,
            _ if self.status().is_some() => codes::PROVIDER_ERROR,
            _ => codes::REFUSED,
        }
    }

    /// The snake_case name, as serialized in `kind`.
    pub fn as_str(&self) -> &'static str {
        use ErrorKind::*;
        match self {
            ParseError => "parse_error",
            InvalidRequest => "invalid_request",
            TooLarge { .. } => "too_large",
            MethodNotFound => "method_not_found",
            InvalidParams => "invalid_params",
            BadKey => "bad_key",
            NotFound => "not_found",
            UnknownModel { .. } => "unknown_model",
            NoKey => "no_key",
            SystemCapReached => "system_cap_reached",
            BudgetReached => "budget_reached",
            InvalidKey { .. } => "invalid_key",
            PermissionDenied { .. } => "permission_denied",
            InsufficientCredit { .. } => "insufficient_credit",
            RateLimited { .. } => "rate_limited",
            Overloaded { .. } => "overloaded",
            ServerError { .. } => "server_error",
            BadRequest { .. } => "bad_request",
            ModelNotFound { .. } => "model_not_found",
            MalformedReply => "malformed_reply",
            Unreachable => "unreachable",
            Internal => "internal",
        }
    }

    /// The provider's HTTP status, for a kind a provider answered with.
    pub fn status(&self) -> Option<u16> {
        use ErrorKind::*;
        match self {
            InvalidKey { status }
            | PermissionDenied { status }
            | InsufficientCredit { status }
            | RateLimited { status, .. }
            | Overloaded { status, .. }
            | ServerError { status, .. }
            | BadRequest { status }
            | ModelNotFound { status } => *status,
            _ => None,
        }
    }

    /// How long to wait before trying again, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        use ErrorKind::*;
        match self {
            RateLimited {
                retry_after_seconds,
                ..
            }
            | Overloaded {
                retry_after_seconds,
                ..
            }
            | ServerError {
                retry_after_seconds,
                ..
            } => retry_after_seconds.and_then(|s| Duration::try_from_secs_f64(s).ok()),
            _ => None,
        }
    }

    /// The kind of a provider's error reply, with its status and retry-after.
    pub fn from_provider(e: &ProviderError) -> ErrorKind {
        let status = Some(e.status);
        let retry_after_seconds = e.retry_after.map(|d| d.as_secs_f64());
        match e.kind {
            ProviderErrorKind::InvalidKey => ErrorKind::InvalidKey { status },
            ProviderErrorKind::PermissionDenied => ErrorKind::PermissionDenied { status },
            ProviderErrorKind::InsufficientCredit => ErrorKind::InsufficientCredit { status },
            ProviderErrorKind::RateLimited => ErrorKind::RateLimited {
                status,
                retry_after_seconds,
            },
            ProviderErrorKind::Overloaded => ErrorKind::Overloaded {
                status,
                retry_after_seconds,
            },
            ProviderErrorKind::ServerError => ErrorKind::ServerError {
                status,
                retry_after_seconds,
            },
            ProviderErrorKind::BadRequest => ErrorKind::BadRequest { status },
            ProviderErrorKind::ModelNotFound => ErrorKind::ModelNotFound { status },
        }
    }

    /// The kind of a routing refusal; `now` turns the instant a resting key frees up into a
    /// wait.
    pub fn from_route(e: &RouteError, now: OffsetDateTime) -> ErrorKind {
        match e {
            RouteError::InvalidKey { .. } => ErrorKind::InvalidKey { status: None },
            RouteError::SystemCapReached { .. } => ErrorKind::SystemCapReached,
            RouteError::NoKey => ErrorKind::NoKey,
            RouteError::RateLimited { retry_at } => ErrorKind::RateLimited {
                status: None,
                // At least a second: a client that waits what it is told finds the key free.
                retry_after_seconds: Some((*retry_at - now).as_seconds_f64().ceil().max(1.0)),
            },
        }
    }
}

impl From<&BudgetReached> for ErrorKind {
    fn from(_: &BudgetReached) -> ErrorKind {
        ErrorKind::BudgetReached
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed request: its kind (with data) and a message for people, which never holds a secret
/// or a parameter's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "DaemonFailure"))]
pub struct Error {
    /// What failed, with what a caller needs to act on it.
    pub kind: ErrorKind,
    /// What happened, in words.
    pub message: String,
}

impl Error {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        self.kind.code()
    }
}

impl From<&ProviderError> for Error {
    fn from(e: &ProviderError) -> Error {
        Error::new(ErrorKind::from_provider(e), e.to_string())
    }
}

impl From<&BudgetReached> for Error {
    fn from(e: &BudgetReached) -> Error {
        Error::new(ErrorKind::from(e), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_wire_names_and_data() {
        let k = ErrorKind::RateLimited {
            status: Some(429),
            retry_after_seconds: Some(2.0),
        };
        let json = serde_json::to_value(&k).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "rate_limited", "status": 429, "retry_after_seconds": 2.0})
        );
        assert_eq!(serde_json::from_value::<ErrorKind>(json).unwrap(), k);
        assert_eq!(k.code(), codes::PROVIDER_ERROR);
        assert_eq!(k.retry_after(), Some(Duration::from_secs(2)));
        // The same kind without a status is byokd's own refusal.
        let refusal: ErrorKind = serde_json::from_str(r#"{"kind": "rate_limited"}"#).unwrap();
        assert_eq!(refusal.code(), codes::REFUSED);
        for k in [
            ErrorKind::TooLarge { limit_bytes: 1 },
            ErrorKind::UnknownModel {
                suggestions: vec!["gpt-4o".into()],
            },
            ErrorKind::SystemCapReached,
            ErrorKind::Internal,
        ] {
            let json = serde_json::to_value(&k).unwrap();
            assert_eq!(json["kind"], k.as_str());
            assert_eq!(serde_json::from_value::<ErrorKind>(json).unwrap(), k);
        }
    }

    #[test]
    fn a_resting_key_says_when_to_come_back() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let e = RouteError::RateLimited {
            retry_at: now + time::Duration::milliseconds(2_300),
        };
        let k = ErrorKind::from_route(&e, now);
        assert_eq!(k.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(k.code(), codes::REFUSED);
    }
}
