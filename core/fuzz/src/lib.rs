//! What each fuzz target does with its input. The core's test suite replays every committed
//! corpus and crash input through these same functions (`core/tests/fuzz_replay.rs`).

use byokit_core::adapters::{interpret_test_response, parse_chat_response, StreamAccumulator};
use byokit_core::protocol::client::{decode_line, encode_request, kind_of_data, Incoming};
use byokit_core::protocol::{ErrorKind, MAX_MESSAGE_BYTES};
use byokit_core::sse::SseReader;
use byokit_core::{
    classify_error, read_rate_limits, Catalog, CatalogFile, CatalogFormat, Headers, Provider,
};

/// The provider a first input byte picks.
fn provider(byte: u8) -> Provider {
    Provider::ALL[usize::from(byte) % Provider::ALL.len()]
}

/// Splits the input at the first bytes' positions, so chunk boundaries are fuzzed too.
fn chunks(data: &[u8]) -> Vec<&[u8]> {
    let (cuts, rest) = data.split_at(data.len().min(4));
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| usize::from(*c) % (rest.len() + 1))
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(&rest[last..p]);
        last = p;
    }
    out.push(&rest[last..]);
    out
}

/// The SSE reader on any bytes, in any chunks: it may refuse, never panic.
pub fn sse(data: &[u8]) {
    let mut reader = SseReader::new();
    for chunk in chunks(data) {
        if reader.push(chunk).is_err() {
            return;
        }
    }
    let _ = reader.finish();
}

/// A provider's stream accumulator on any bytes; the deltas always add up to the text.
pub fn stream(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut acc = StreamAccumulator::new(provider(first));
    let mut deltas = String::new();
    for chunk in chunks(rest) {
        match acc.push(chunk) {
            Ok(d) => deltas.extend(d),
            Err(_) => return,
        }
    }
    if let Ok(summary) = acc.finish() {
        assert!(summary.text.starts_with(&deltas));
    }
}

/// The reply parser on any body.
pub fn response(data: &[u8]) {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let _ = parse_chat_response(provider(first), body);
}

/// Error classification and test-reply reading on any status, headers and body.
pub fn error(data: &[u8]) {
    let [p, s1, s2, rest @ ..] = data else { return };
    let status = u16::from_le_bytes([*s1, *s2]);
    let text = String::from_utf8_lossy(rest);
    let (head, body) = text.split_once("\n\n").unwrap_or(("", &text));
    let headers: Headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let provider = provider(*p);
    let e = classify_error(provider, status, &headers, body.as_bytes());
    assert!(!e.message.is_empty());
    let _ = read_rate_limits(provider, &headers, time::OffsetDateTime::UNIX_EPOCH);
    let _ = interpret_test_response(
        provider,
        status,
        &headers,
        body.as_bytes(),
        time::OffsetDateTime::UNIX_EPOCH,
    );
}

/// The catalog readers on any text, merged over the default catalog when they accept it.
pub fn catalog(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = [
        CatalogFormat::Byokit,
        CatalogFormat::LiteLlm,
        CatalogFormat::GenaiPrices,
    ][usize::from(first) % 3];
    if let Ok(file) = CatalogFile::parse(text, "fuzz", format, time::Date::MIN) {
        let _ = Catalog::embedded().merged(file);
    }
}

/// The client codec: any line from byokd decodes or is refused, never panics, and what it
/// decodes to writes and reads back as the same message (numbers aside: serde_json reads some
/// floats a last digit off, so a result's or a retry-after's may move); any text as a request's
/// parameter is one line within the limit or refused as too large.
pub fn jsonrpc(data: &[u8]) {
    if let Ok(incoming) = decode_line(data) {
        let json = serde_json::to_string(&incoming).expect("a decoded line writes as JSON");
        let again: Incoming = serde_json::from_str(&json).expect("and reads back");
        match (&incoming, &again) {
            (Incoming::Reply { id: a, .. }, Incoming::Reply { id: b, .. }) => assert_eq!(a, b),
            (
                Incoming::ErrorReply { id: a, error: e },
                Incoming::ErrorReply { id: b, error: f },
            ) => {
                assert_eq!(a, b);
                assert_eq!((e.kind.as_str(), &e.message), (f.kind.as_str(), &f.message));
            }
            (
                Incoming::Notification { method: a, .. },
                Incoming::Notification { method: b, .. },
            ) => assert_eq!(a, b),
            _ => panic!("{incoming:?} read back as {again:?}"),
        }
    }
    // The written-out reader of an error's data accepts exactly the objects serde's does.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        use serde::Deserialize;
        for v in std::iter::once(&value).chain(value.get("error").and_then(|e| e.get("data"))) {
            let serde = ErrorKind::deserialize(v).ok().filter(|_| v.is_object());
            assert_eq!(kind_of_data(v), serde, "{v}");
        }
    }
    let text = String::from_utf8_lossy(data);
    let id = data
        .iter()
        .fold(0u64, |id, b| id.rotate_left(8) ^ u64::from(*b));
    match encode_request(id, "fuzz", &text) {
        Ok(line) => {
            assert!(line.len() <= MAX_MESSAGE_BYTES + 1 && line.ends_with('\n'));
            assert_eq!(line.matches('\n').count(), 1, "one line");
        }
        Err(e) => assert!(matches!(e.kind, ErrorKind::TooLarge { .. })),
    }
}
