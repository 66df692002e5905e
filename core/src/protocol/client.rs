//! The client's half of the protocol, without I/O: a request as the line to send, and a line
//! from byokd as what it is. Every client reads byokd's lines with these rules: the Rust one the
//! CLI and the native bindings share (`byokit-client`) through these functions, the Node one
//! (`byokit/daemon`) in JavaScript, taking each error's kind from [`error_kind_of_json`] in the
//! WebAssembly build; `tests/fixtures/jsonrpc/cases.json` holds the cases both are tested on.
//!
//! - A request whose line would be over [`MAX_MESSAGE_BYTES`] is refused here, before anything
//!   is sent ([`ErrorKind::TooLarge`]): byokd would skip it and answer an error without an id.
//! - An error reply without an id (byokd's answer to a line it could not read) is the answer to
//!   the oldest call still waiting: it is never skipped, or that call would wait forever.
//! - An error's `data` is read as an [`ErrorKind`] when it is one; otherwise the kind follows
//!   from the JSON-RPC code ([`kind_of_code`]), the one place that fallback is written.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{codes, Error, ErrorKind, MAX_MESSAGE_BYTES};

/// A request line: `{"jsonrpc":"2.0","id":…,"method":…,"params":…}` and a newline.
///
/// A line over [`MAX_MESSAGE_BYTES`] (newline not counted, as byokd counts) is refused with
/// [`ErrorKind::TooLarge`]; parameters that cannot be written as JSON (a map with non-string
/// keys) with [`ErrorKind::InvalidParams`].
pub fn encode_request(id: u64, method: &str, params: &impl Serialize) -> Result<String, Error> {
    #[derive(Serialize)]
    struct Request<'a, P> {
        jsonrpc: &'static str,
        id: u64,
        method: &'a str,
        params: &'a P,
    }
    let mut line = serde_json::to_string(&Request {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
    .map_err(|e| Error::new(ErrorKind::InvalidParams, format!("{method}: {e}")))?;
    if line.len() > MAX_MESSAGE_BYTES {
        return Err(too_large(method, line.len()));
    }
    line.push('\n');
    Ok(line)
}

/// The error for a `method` request of `bytes` bytes, over the limit.
fn too_large(method: &str, bytes: usize) -> Error {
    Error::new(
        ErrorKind::TooLarge {
            limit_bytes: MAX_MESSAGE_BYTES as u64,
        },
        format!(
            "the {method} request is {bytes} bytes, over byokd's limit of {MAX_MESSAGE_BYTES} \
             bytes; it was not sent"
        ),
    )
}

/// One line from byokd, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(tag = "type", rename_all = "snake_case", rename = "DaemonLine")
)]
pub enum Incoming {
    /// The result of the call `id`.
    Reply {
        /// The call's id.
        id: u64,
        /// Its result (`null` when byokd sent none).
        #[cfg_attr(feature = "ts", ts(type = "unknown"))]
        result: Value,
    },
    /// The call `id` failed; without an id, the oldest call still waiting did (byokd could not
    /// read its line).
    ErrorReply {
        /// The call's id, when byokd could tell it.
        id: Option<u64>,
        /// What failed.
        error: Error,
    },
    /// A notification, such as a streaming `chat`'s `chat.delta` (its `params.id` names the
    /// call).
    Notification {
        /// The notification's method.
        method: String,
        /// Its parameters (`null` when byokd sent none).
        #[cfg_attr(feature = "ts", ts(type = "unknown"))]
        params: Value,
    },
}

/// A line that is not a message byokd sends; what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("byokd sent a line that is not JSON-RPC: {0}")]
pub struct MalformedLine(pub String);

/// Reads one line from byokd (its newline may be there or not). The `jsonrpc` member is not
/// checked; every other member is, and a line that is not a reply, an error or a
/// notification is [`MalformedLine`], never a panic (fuzzed).
pub fn decode_line(line: &[u8]) -> Result<Incoming, MalformedLine> {
    let bad = |why: &str| MalformedLine(why.to_owned());
    let value: Value =
        serde_json::from_slice(line).map_err(|e| MalformedLine(format!("not JSON: {e}")))?;
    let Value::Object(mut message) = value else {
        return Err(bad("not an object"));
    };
    let id = match message.get("id") {
        None | Some(Value::Null) => None,
        Some(id) => Some(
            id.as_u64()
                .ok_or_else(|| bad("an id that is not a call's"))?,
        ),
    };
    if let Some(error) = message.remove("error") {
        return Ok(Incoming::ErrorReply {
            id,
            error: decode_error(error)?,
        });
    }
    if let Some(result) = message.remove("result") {
        let id = id.ok_or_else(|| bad("a result without an id"))?;
        return Ok(Incoming::Reply { id, result });
    }
    match (message.remove("method"), message.contains_key("id")) {
        (Some(Value::String(method)), false) => Ok(Incoming::Notification {
            method,
            params: message.remove("params").unwrap_or(Value::Null),
        }),
        (Some(_), true) => Err(bad("a request from byokd")),
        (Some(_), false) => Err(bad("a method that is not a string")),
        (None, _) => Err(bad("neither a result, an error nor a notification")),
    }
}

/// A JSON-RPC error object (`{"code", "message", "data"?}`) as the protocol's [`Error`].
pub fn decode_error(error: Value) -> Result<Error, MalformedLine> {
    let Value::Object(error) = error else {
        return Err(MalformedLine("an error that is not an object".into()));
    };
    let code = error.get("code").and_then(Value::as_i64);
    let message = error.get("message").and_then(Value::as_str);
    let (Some(code), Some(message)) = (code, message) else {
        return Err(MalformedLine(
            "an error without an integer code and a message".into(),
        ));
    };
    Ok(Error::new(
        error_kind(code, error.get("data")),
        message.to_owned(),
    ))
}

/// The kind of an error with `code` and `data`: `data` when it is an [`ErrorKind`]
/// ([`kind_of_data`]), else the code's ([`kind_of_code`]).
pub fn error_kind(code: i64, data: Option<&Value>) -> ErrorKind {
    data.and_then(kind_of_data)
        .unwrap_or_else(|| kind_of_code(code))
}

/// [`error_kind`] with `data` as JSON text (absent when the error has none), for a client that
/// has already read the line (the Node client, through the WebAssembly build).
pub fn error_kind_of_json(code: i64, data: Option<&str>) -> ErrorKind {
    let data = data.and_then(|d| serde_json::from_slice::<Value>(d.as_bytes()).ok());
    error_kind(code, data.as_ref())
}

/// An error's `data` as an [`ErrorKind`], when it is one: an object that `ErrorKind`'s own serde
/// reading accepts, written out member by member, because the derived reader of the whole
/// enum would add 11 KB (gzipped) to the npm package's WebAssembly; the fuzz target and the
/// tests hold the two to the same answer on any object. (Serde also reads a tagged enum from an
/// array, `["rate_limited", 429]`; byokd never writes one, and it is not a kind here.)
pub fn kind_of_data(data: &Value) -> Option<ErrorKind> {
    use ErrorKind::*;
    let members = data.as_object()?;
    // `#[serde(default)] Option<_>`: absent or null is none; anything else must fit.
    let status = || match members.get("status") {
        None | Some(Value::Null) => Some(None),
        Some(v) => v.as_u64().and_then(|n| u16::try_from(n).ok()).map(Some),
    };
    let retry_after_seconds = || match members.get("retry_after_seconds") {
        None | Some(Value::Null) => Some(None),
        Some(v) => v.as_f64().map(Some),
    };
    Some(match members.get("kind")?.as_str()? {
        "parse_error" => ParseError,
        "invalid_request" => InvalidRequest,
        "too_large" => TooLarge {
            limit_bytes: members.get("limit_bytes")?.as_u64()?,
        },
        "method_not_found" => MethodNotFound,
        "invalid_params" => InvalidParams,
        "bad_key" => BadKey,
        "not_found" => NotFound,
        "unknown_model" => UnknownModel {
            suggestions: match members.get("suggestions") {
                None => Vec::new(),
                Some(v) => v
                    .as_array()?
                    .iter()
                    .map(|s| s.as_str().map(str::to_owned))
                    .collect::<Option<_>>()?,
            },
        },
        "no_key" => NoKey,
        "system_cap_reached" => SystemCapReached,
        "budget_reached" => BudgetReached,
        "invalid_key" => InvalidKey { status: status()? },
        "permission_denied" => PermissionDenied { status: status()? },
        "insufficient_credit" => InsufficientCredit { status: status()? },
        "rate_limited" => RateLimited {
            status: status()?,
            retry_after_seconds: retry_after_seconds()?,
        },
        "overloaded" => Overloaded {
            status: status()?,
            retry_after_seconds: retry_after_seconds()?,
        },
        "server_error" => ServerError {
            status: status()?,
            retry_after_seconds: retry_after_seconds()?,
        },
        "bad_request" => BadRequest { status: status()? },
        "model_not_found" => ModelNotFound { status: status()? },
        "malformed_reply" => MalformedReply,
        "unreachable" => Unreachable,
        "internal" => Internal,
        _ => return None,
    })
}

/// The kind an error of `code` has when its `data` does not say (byokd's replies before every
/// error carried its kind, or a kind this client does not know): the inverse of
/// [`ErrorKind::code`], each code's plainest kind.
pub fn kind_of_code(code: i64) -> ErrorKind {
    match code {
        codes::PARSE_ERROR => ErrorKind::ParseError,
        codes::INVALID_REQUEST => ErrorKind::InvalidRequest,
        codes::METHOD_NOT_FOUND => ErrorKind::MethodNotFound,
        codes::INVALID_PARAMS => ErrorKind::InvalidParams,
        codes::BAD_KEY => ErrorKind::BadKey,
        codes::NOT_FOUND => ErrorKind::NotFound,
        // Routing's refusals carry their kind; the one without is "no key to serve the call".
        codes::REFUSED => ErrorKind::NoKey,
        // A provider's error replies carry their kind; the one without is a reply it could
        // not read.
        codes::PROVIDER_ERROR => ErrorKind::MalformedReply,
        codes::UNREACHABLE => ErrorKind::Unreachable,
        _ => ErrorKind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_is_one_line_and_one_over_the_limit_is_not_written() {
        let line = encode_request(7, "daemon.status", &json!({})).unwrap();
        assert_eq!(
            line,
            "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"daemon.status\",\"params\":{}}\n"
        );
        let big = "x".repeat(MAX_MESSAGE_BYTES);
        let e = encode_request(1, "usage.record", &json!({ "feature": big })).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TooLarge {
                limit_bytes: MAX_MESSAGE_BYTES as u64
            }
        );
        assert!(e.message.contains("not sent"), "{e}");
        // Exactly at the limit is sent.
        let overhead = encode_request(1, "m", &json!("")).unwrap().len() - 1;
        let at = "x".repeat(MAX_MESSAGE_BYTES - overhead);
        assert_eq!(
            encode_request(1, "m", &json!(at)).unwrap().len(),
            MAX_MESSAGE_BYTES + 1
        );
        assert!(encode_request(1, "m", &json!(format!("{at}x"))).is_err());
    }

    #[test]
    fn the_written_out_reader_of_data_agrees_with_serde() {
        let samples = [
            json!({"kind": "no_key", "status": "x", "extra": [1]}),
            json!({"kind": "rate_limited", "status": 429, "retry_after_seconds": 2}),
            json!({"kind": "rate_limited", "status": 70000}),
            json!({"kind": "rate_limited", "status": 429.0}),
            json!({"kind": "rate_limited", "status": -1}),
            json!({"kind": "rate_limited", "retry_after_seconds": "2"}),
            json!({"kind": "overloaded", "retry_after_seconds": -2.5, "status": null}),
            json!({"kind": "too_large"}),
            json!({"kind": "too_large", "limit_bytes": null}),
            json!({"kind": "too_large", "limit_bytes": 1048576}),
            json!({"kind": "unknown_model"}),
            json!({"kind": "unknown_model", "suggestions": null}),
            json!({"kind": "unknown_model", "suggestions": ["a", 1]}),
            json!({"kind": "unknown_model", "suggestions": ["a", "b"]}),
            json!({"kind": 5}),
            json!({"kind": "RATE_LIMITED"}),
            json!({"status": 429}),
        ];
        for v in samples {
            assert_eq!(kind_of_data(&v), ErrorKind::deserialize(&v).ok(), "{v}");
        }
        for v in [json!(["rate_limited"]), json!("rate_limited"), json!(null)] {
            assert_eq!(kind_of_data(&v), None, "{v}");
        }
        for kind in [
            ErrorKind::TooLarge { limit_bytes: 7 },
            ErrorKind::UnknownModel {
                suggestions: vec!["gpt-4o".into()],
            },
            ErrorKind::ServerError {
                status: Some(503),
                retry_after_seconds: Some(1.5),
            },
            ErrorKind::BudgetReached,
        ] {
            let v = serde_json::to_value(&kind).unwrap();
            assert_eq!(kind_of_data(&v), Some(kind));
        }
    }

    #[test]
    fn every_code_has_a_kind_with_that_code() {
        for code in [
            codes::PARSE_ERROR,
            codes::INVALID_REQUEST,
            codes::METHOD_NOT_FOUND,
            codes::INVALID_PARAMS,
            codes::INTERNAL,
            codes::BAD_KEY,
            codes::NOT_FOUND,
            codes::REFUSED,
            codes::PROVIDER_ERROR,
            codes::UNREACHABLE,
        ] {
            assert_eq!(kind_of_code(code).code(), code);
        }
    }
}
