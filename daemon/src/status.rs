//! The one rule that turns a failure's kind into an HTTP status (OpenAI's codes where it has
//! them) and a `Retry-After`, for both HTTP doors (`/v1` and the REST API).

use axum::http::StatusCode;
use axum::response::Response;
use byokit_core::protocol::ErrorKind;

/// The HTTP status of an error's kind, with OpenAI's error type and code for it: the one rule
/// both HTTP front ends (`/v1` and the REST door) answer by.
pub(crate) fn status_of(kind: &ErrorKind) -> (StatusCode, &'static str, &'static str) {
    use ErrorKind::*;
    match kind {
        ParseError | InvalidRequest | TooLarge { .. } | InvalidParams | BadKey => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_request",
        ),
        InvalidKey { .. } => (
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "invalid_api_key",
        ),
        NoKey => (
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "no_api_key",
        ),
        PermissionDenied { .. } => (
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            "permission_denied",
        ),
        InsufficientCredit { .. } | SystemCapReached | BudgetReached => (
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            "insufficient_quota",
        ),
        RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "requests",
            "rate_limit_exceeded",
        ),
        BadRequest { .. } => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "bad_request",
        ),
        ModelNotFound { .. } => (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
        ),
        NotFound | UnknownModel { .. } | MethodNotFound => {
            (StatusCode::NOT_FOUND, "invalid_request_error", "not_found")
        }
        Overloaded { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "overloaded",
        ),
        ServerError { .. } | MalformedReply | Unreachable => {
            (StatusCode::BAD_GATEWAY, "upstream_error", "upstream")
        }
        _ => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal",
        ),
    }
}

/// `Retry-After` on `response` when the kind says how long to wait.
pub(crate) fn set_retry_after(response: &mut Response, kind: &ErrorKind) {
    if let Some(wait) = kind.retry_after() {
        // Whole seconds, rounded up: a client that waits what it is told finds the key free.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(value) = seconds.max(1).to_string().parse() {
            response.headers_mut().insert("retry-after", value);
        }
    }
}
