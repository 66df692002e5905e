//! JSON-RPC 2.0 framing on byokd's socket: one message per line, at most
//! [`MAX_MESSAGE_BYTES`]; requests read lazily, replies written whole.

use byokit_core::protocol::{Error, MAX_MESSAGE_BYTES};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// A line as read from a connection.
pub(crate) enum Line {
    Message(Vec<u8>),
    /// A line over [`MAX_MESSAGE_BYTES`], skipped.
    TooLong,
    End,
}

/// Reads one line of at most [`MAX_MESSAGE_BYTES`]; a longer one is skipped to its end.
pub(crate) async fn read_line(
    reader: &mut (impl AsyncBufRead + Unpin),
    buf: &mut Vec<u8>,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if buf.is_empty() {
                Line::End
            } else {
                Line::Message(std::mem::take(buf))
            });
        }
        let (chunk, used, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_MESSAGE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(used);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Message(std::mem::take(buf))
            });
        }
    }
}

/// A JSON-RPC request as read: its members stay JSON text until they are used, so that the
/// parameters are read once, straight into the method's type.
#[derive(Deserialize)]
pub(crate) struct Request<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(crate) params: Option<&'a RawValue>,
}

/// A member that is present, even as `null` (a request with `"id": null` gets a reply, one
/// without an `id` does not).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A reply: the request's `id` and either its result or its error.
#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject<'a>>,
}

/// A JSON-RPC error object: the kind's code, the message, the kind with its data.
#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
    data: &'a byokit_core::protocol::ErrorKind,
}

/// One line of JSON.
pub(crate) fn json_line<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing these types into memory cannot fail.
    let mut bytes = serde_json::to_vec(message).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The reply line to the request `id`.
pub(crate) fn reply_bytes(id: &RawValue, result: &Result<Box<RawValue>, Error>) -> Vec<u8> {
    let (result, error) = match result {
        Ok(value) => (Some(&**value), None),
        Err(e) => (
            None,
            Some(ErrorObject {
                code: e.code(),
                message: &e.message,
                data: &e.kind,
            }),
        ),
    };
    json_line(&Reply {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
}
