//! The client codec (`byokit_core::protocol::client`) on the shared cases
//! (`tests/fixtures/jsonrpc/cases.json`), which the Node client's tests read too.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::protocol::client::{decode_line, encode_request, error_kind_of_json, Incoming};
use byokit_core::protocol::{ErrorKind, MAX_MESSAGE_BYTES};
use serde_json::Value;

fn cases() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/jsonrpc/cases.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_line_decodes_as_the_cases_say() {
    let cases = cases();
    let lines = cases["lines"].as_array().unwrap();
    assert!(lines.len() > 30);
    for case in lines {
        let name = case["name"].as_str().unwrap();
        let line = case["line"].as_str().unwrap();
        let got = decode_line(line.as_bytes());
        if case["malformed"] == true {
            assert!(got.is_err(), "{name}: {got:?}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        let want: Incoming = serde_json::from_value(case["decoded"].clone()).unwrap();
        assert_eq!(got, want, "{name}");
        // What the fixture says is what the codec's type writes, member for member.
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            case["decoded"],
            "{name}"
        );
        // The kind from the error's members as text (the Node client's way) is the same.
        if let Incoming::ErrorReply { error, .. } = &got {
            let raw: Value = serde_json::from_str(line).unwrap();
            let data = raw["error"].get("data").map(Value::to_string);
            let code = raw["error"]["code"].as_i64().unwrap();
            assert_eq!(
                error_kind_of_json(code, data.as_deref()),
                error.kind,
                "{name}"
            );
        }
    }
}

#[test]
fn requests_are_the_cases_lines_or_refused_over_the_limit() {
    let cases = cases();
    assert_eq!(cases["limit_bytes"], MAX_MESSAGE_BYTES as u64);
    let too_large: ErrorKind = serde_json::from_value(cases["too_large"].clone()).unwrap();
    for case in cases["requests"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let id = case["id"].as_u64().unwrap();
        let method = case["method"].as_str().unwrap();
        let params = match case["string_param_bytes"].as_u64() {
            Some(n) => Value::String("x".repeat(n as usize)),
            None => case["params"].clone(),
        };
        let got = encode_request(id, method, &params);
        if let Some(line) = case["line"].as_str() {
            assert_eq!(got.unwrap(), line, "{name}");
        } else if case["sent"] == true {
            assert_eq!(got.unwrap().len(), MAX_MESSAGE_BYTES + 1, "{name}");
        } else {
            let e = got.unwrap_err();
            assert_eq!(e.kind, too_large, "{name}");
            assert!(e.message.contains("not sent"), "{name}: {e}");
        }
    }
}
