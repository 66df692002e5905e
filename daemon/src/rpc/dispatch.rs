//! A JSON-RPC request read into a service call, and its result or error written back.

use std::time::Instant;

use byokit_core::protocol::{
    ChatDelta, ChatParams, Error, ErrorKind, VaultRotateResult, CHAT_DELTA,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use super::framing::{json_line, reply_bytes, Request};
use crate::service::{internal, invalid, Service};
use crate::LOG;

/// Handles one message: its reply line, or `None` for a notification (no `id`).
pub(crate) async fn handle(
    service: &Service,
    line: &[u8],
    out: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Option<Vec<u8>> {
    let started = Instant::now();
    // A request is an object (serde would also read a struct from an array).
    let object = line.trim_ascii_start().starts_with(b"{");
    let request: Request<'_> = match serde_json::from_slice(line) {
        Ok(request) if object => request,
        _ => {
            // Valid JSON that is not a request object is an invalid request, not a parse error.
            let error = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                Ok(_) => not_a_request(),
                Err(e) => Error::new(ErrorKind::ParseError, format!("not JSON: {e}")),
            };
            return Some(reply_bytes(RawValue::NULL, &Err(error)));
        }
    };
    let text = |member: Option<&RawValue>| {
        member.and_then(|m| serde_json::from_str::<std::borrow::Cow<'_, str>>(m.get()).ok())
    };
    let (Some("2.0"), Some(method)) = (text(request.jsonrpc).as_deref(), text(request.method))
    else {
        return Some(reply_bytes(
            request.id.unwrap_or(RawValue::NULL),
            &Err(not_a_request()),
        ));
    };
    let params = request.params.map_or("{}", RawValue::get);
    let result = if method == "chat" {
        Box::pin(chat(service, params, request.id, out)).await
    } else {
        dispatch(service, &method, params).await
    };
    // The log names the method and the outcome, never the parameters (they may hold a key):
    // every failure, and with --log-requests every request.
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match &result {
        Ok(_) if service.options().log_requests => {
            tracing::info!(target: LOG, %method, micros, "{method} ok in {micros} µs")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(
            target: LOG,
            %method,
            micros,
            code = e.code(),
            kind = e.kind.as_str(),
            "{method} error {}: {}",
            e.code(),
            e.message
        ),
    }
    Some(reply_bytes(request.id?, &result))
}

/// The error for a line over the size limit.
pub(crate) fn too_large() -> Error {
    let limit = byokit_core::protocol::MAX_MESSAGE_BYTES;
    Error::new(
        ErrorKind::TooLarge {
            limit_bytes: limit as u64,
        },
        format!("message over {limit} bytes"),
    )
}

fn not_a_request() -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        "not a JSON-RPC 2.0 request (needs \"jsonrpc\": \"2.0\" and a \"method\")",
    )
}

/// The parameters read into `T`; an error names the parameter and what was expected, never the
/// value given (serde's messages quote it, and it may be a key sent in the wrong field).
fn parse<T: DeserializeOwned>(params: &str) -> Result<T, Error> {
    // The common case at serde_json's own speed; only a failure is read again, tracking the
    // path, to name what was wrong.
    match serde_json::from_str(params) {
        Ok(parsed) => Ok(parsed),
        Err(_) => parse_naming_the_error(params),
    }
}

/// [`parse`]'s failure, named by the parameter's path and what was expected, never the value.
fn parse_naming_the_error<T: DeserializeOwned>(params: &str) -> Result<T, Error> {
    let mut reader = serde_json::Deserializer::from_str(params);
    let parsed = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let message = without_values(&e.inner().to_string());
        invalid(match path.as_str() {
            "." | "" => format!("invalid params: {message}"),
            path => format!("invalid params: `{path}`: {message}"),
        })
    })?;
    reader.end().map_err(|e| {
        invalid(format!(
            "invalid params: {}",
            without_values(&e.to_string())
        ))
    })?;
    Ok(parsed)
}

/// A serde message without the value it quotes: `unknown variant `sk-…`, expected one of
/// `openai`, …` becomes `unknown variant, expected one of `openai`, …`; the names of missing or
/// duplicate fields (the schema's) stay; a message of another shape becomes `invalid value`.
fn without_values(message: &str) -> String {
    let (message, position) = match message.rfind(" at line ") {
        Some(at) => message.split_at(at),
        None => (message, ""),
    };
    if message.starts_with("missing field `") || message.starts_with("duplicate field `") {
        return format!("{message}{position}");
    }
    match message.rsplit_once(", expected ") {
        Some((head, expected)) => {
            let head = head[..head.find(['`', '"', '\'']).unwrap_or(head.len())].trim_end();
            format!("{head}, expected {expected}{position}")
        }
        None => format!("invalid value{position}"),
    }
}

fn to_value<T: Serialize>(v: T) -> Result<Box<RawValue>, Error> {
    serde_json::value::to_raw_value(&v).map_err(|e| internal(e.to_string()))
}

async fn dispatch(service: &Service, method: &str, params: &str) -> Result<Box<RawValue>, Error> {
    let s = service;
    match method {
        "config.save" => to_value(Box::pin(s.config_save(parse(params)?)).await?),
        "config.get" => to_value(s.config_get(parse(params)?).await?),
        "config.delete" => to_value(s.config_delete(parse(params)?).await?),
        "config.test" => to_value(Box::pin(s.config_test(parse(params)?)).await?),
        "usage.record" => to_value(s.usage_record(parse(params)?).await?),
        "usage.summary" => to_value(s.usage_summary(parse(params)?).await?),
        "usage.export" => to_value(s.usage_export(parse(params)?).await?),
        "usage.compare" => to_value(s.usage_compare(parse(params)?).await?),
        "usage.reprice" => to_value(s.usage_reprice(parse(params)?).await?),
        "catalog.get" => to_value(s.catalog_get()),
        "catalog.reload" => to_value(s.reload_catalog()?),
        "route" => to_value(Box::pin(s.route(parse(params)?)).await?),
        "budget.set" => to_value(s.budget_set(parse(params)?).await?),
        "budget.get" => to_value(s.budget_get(parse(params)?).await?),
        "alerts.list" => to_value(s.alerts(parse(params)?).await?),
        "routing.set" => to_value(s.routing_set(parse(params)?).await?),
        "routing.get" => to_value(s.routing_get(parse(params)?).await?),
        "vault.rotate" => to_value(VaultRotateResult {
            resealed: Box::pin(s.vault_rotate()).await?,
        }),
        "http.token" => to_value(s.http_token(parse(params)?).await?),
        "http.token.list" => to_value(s.http_tokens(parse(params)?).await?),
        "http.token.revoke" => to_value(s.http_token_revoke(parse(params)?).await?),
        "daemon.status" => to_value(s.status()),
        "daemon.stop" => {
            s.stop();
            to_value(json!({"stopping": true}))
        }
        other => Err(Error::new(
            ErrorKind::MethodNotFound,
            format!("unknown method `{other}`"),
        )),
    }
}

/// `chat` over IPC. With `"stream": true` each text delta goes to the client as a `chat.delta`
/// notification (`{"id": <the request's id>, "text": "..."}`) before the result.
async fn chat(
    service: &Service,
    params: &str,
    id: Option<&RawValue>,
    out: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Result<Box<RawValue>, Error> {
    let p: ChatParams = parse(params)?;
    if !p.stream {
        return to_value(service.chat(p, None).await?);
    }
    let (tx, mut deltas) = tokio::sync::mpsc::channel::<String>(64);
    let out = out.clone();
    // The request's id, as every delta repeats it.
    let id: serde_json::Value = id
        .and_then(|id| serde_json::from_str(id.get()).ok())
        .unwrap_or_default();
    let forward = tokio::spawn(async move {
        while let Some(text) = deltas.recv().await {
            let delta = ChatDelta {
                id: id.clone(),
                text,
            };
            let note = json!({"jsonrpc": "2.0", "method": CHAT_DELTA, "params": delta});
            if out.send(json_line(&note)).await.is_err() {
                return; // the client is gone; dropping `deltas` tells the call
            }
        }
    });
    let result = service.chat(p, Some(tx)).await;
    // Every delta is on its way before the result.
    let _ = forward.await;
    to_value(result?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use byokit_core::protocol::ConfigSaveParams;

    #[test]
    fn parse_errors_name_the_parameter_never_its_value() {
        let key = "sk-proj-Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Ji0Hg9Fe8Dc7Ba6ZyXwVuTsRqPoNmLkJiHgFe4c2e";
        let swapped = format!(r#"{{"user": "alice", "provider": "{key}", "api_key": "openai"}}"#);
        let e = parse::<ConfigSaveParams>(&swapped).err().unwrap();
        assert!(!e.message.contains("Zq8Xw7"), "{}", e.message);
        assert!(e.message.contains("`provider`"), "{}", e.message);
        assert!(
            e.message.contains("unknown variant, expected"),
            "{}",
            e.message
        );
        let wrong_type =
            r#"{"user": "alice", "provider": "openai", "api_key": ["sk-proj-Zq8Xw7Vu6"]}"#;
        let e = parse::<ConfigSaveParams>(wrong_type).err().unwrap();
        assert!(!e.message.contains("Zq8Xw7"), "{}", e.message);
        assert!(e.message.contains("`api_key`"), "{}", e.message);
        let missing = parse::<ConfigSaveParams>(r#"{"user": "alice", "api_key": "x"}"#)
            .err()
            .unwrap();
        assert!(
            missing
                .message
                .starts_with("invalid params: missing field `provider`"),
            "{}",
            missing.message
        );
        assert_eq!(
            without_values("invalid type: string \"sk-abc\", expected u64 at line 1 column 9"),
            "invalid type: string, expected u64 at line 1 column 9"
        );
        assert_eq!(without_values("bad date sk-abc"), "invalid value");
    }
}
