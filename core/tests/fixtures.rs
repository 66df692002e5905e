//! The shared provider fixtures (`tests/fixtures/providers/`), checked against their
//! expectations file: the same files and expectations the JS and Kotlin tests read.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::{Path, PathBuf};

use byokit_core::adapters::{interpret_test_response, parse_chat_response, StreamAccumulator};
use byokit_core::{
    classify_error, read_rate_limits, AdapterError, Headers, Provider, StreamSummary, StreamUsage,
    TestOutcome, Usage,
};
use proptest::prelude::*;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers")
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(dir().join("expectations.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn file(case: &Value) -> Vec<u8> {
    std::fs::read(dir().join(case["file"].as_str().unwrap())).unwrap()
}

fn provider(case: &Value) -> Provider {
    case["provider"].as_str().unwrap().parse().unwrap()
}

fn headers(case: &Value) -> Headers {
    case.get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn usage(v: &Value) -> Usage {
    let n = |k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("usage field {k} in {v}"))
    };
    Usage {
        input_tokens: n("input_tokens"),
        output_tokens: n("output_tokens"),
        cached_input_tokens: n("cached_input_tokens"),
        cache_write_tokens: n("cache_write_tokens"),
        reasoning_tokens: n("reasoning_tokens"),
        estimated: false,
    }
}

fn name(case: &Value) -> String {
    format!(
        "{} {} {}",
        case["provider"],
        case["kind"],
        case.get("file").unwrap_or(&Value::Null)
    )
}

fn stream(provider: Provider, chunks: &[&[u8]]) -> Result<StreamSummary, AdapterError> {
    let mut acc = StreamAccumulator::new(provider);
    let mut deltas = String::new();
    for c in chunks {
        deltas.extend(acc.push(c)?);
    }
    let summary = acc.finish()?;
    assert_eq!(deltas, summary.text, "the deltas add up to the text");
    Ok(summary)
}

fn check_stream(case: &Value, result: Result<StreamSummary, AdapterError>) {
    let expect = &case["expect"];
    if let Some(error) = expect.get("error") {
        match result {
            Err(AdapterError::Provider(e)) => {
                assert_eq!(e.kind.as_str(), error["kind"], "{}", name(case))
            }
            other => panic!("{}: expected a provider error, got {other:?}", name(case)),
        }
        return;
    }
    let s = result.unwrap_or_else(|e| panic!("{}: {e}", name(case)));
    assert_eq!(s.text, expect["text"], "{}", name(case));
    assert_eq!(
        serde_json::to_value(s.finish_reason).unwrap(),
        expect["finish_reason"],
        "{}",
        name(case)
    );
    if let Some(model) = expect.get("model").filter(|m| !m.is_null()) {
        assert_eq!(s.model.as_deref(), model.as_str(), "{}", name(case));
    }
    match (&s.usage, &expect["usage"]) {
        (StreamUsage::Reported { usage: got }, want) if !want.is_null() => {
            assert_eq!(*got, usage(want), "{}", name(case))
        }
        (StreamUsage::Unknown { estimate }, Value::Null) => {
            assert!(estimate.estimated, "an estimate is labelled");
            assert!(estimate.output_tokens > 0, "{}", name(case));
        }
        (got, want) => panic!("{}: usage {got:?}, expected {want}", name(case)),
    }
}

#[test]
fn every_case_holds() {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for case in cases() {
        let p = provider(&case);
        let kind = case["kind"].as_str().unwrap();
        *seen.entry(format!("{p}/{kind}")).or_default() += 1;
        let expect = &case["expect"];
        match kind {
            "response" => {
                let r = parse_chat_response(p, &file(&case))
                    .unwrap_or_else(|e| panic!("{}: {e}", name(&case)));
                assert_eq!(r.text, expect["text"], "{}", name(&case));
                assert_eq!(
                    serde_json::to_value(r.finish_reason).unwrap(),
                    expect["finish_reason"],
                    "{}",
                    name(&case)
                );
                assert_eq!(r.model, expect["model"], "{}", name(&case));
                assert_eq!(r.usage, usage(&expect["usage"]), "{}", name(&case));
            }
            "stream" => check_stream(&case, stream(p, &[&file(&case)])),
            "error" => {
                let status = case["status"].as_u64().unwrap() as u16;
                let e = classify_error(p, status, &headers(&case), &file(&case));
                assert_eq!(e.kind.as_str(), expect["kind"], "{}", name(&case));
                assert_eq!(e.status, status);
                match expect["retry_after_seconds"].as_f64() {
                    Some(s) => {
                        let got = e
                            .retry_after
                            .unwrap_or_else(|| panic!("{}: no retry-after", name(&case)));
                        assert!(
                            (got.as_secs_f64() - s).abs() < 1e-6,
                            "{}: {got:?} vs {s}",
                            name(&case)
                        );
                    }
                    None => assert_eq!(e.retry_after, None, "{}", name(&case)),
                }
                if let Some(m) = expect.get("message").and_then(Value::as_str) {
                    assert_eq!(e.message, m, "{}", name(&case));
                }
            }
            "models" => {
                let status = case["status"].as_u64().unwrap() as u16;
                let now = OffsetDateTime::UNIX_EPOCH;
                let outcome =
                    interpret_test_response(p, status, &headers(&case), &file(&case), now).unwrap();
                match (outcome, expect["outcome"].as_str().unwrap()) {
                    (TestOutcome::Valid { models, .. }, "valid") => {
                        let want: Vec<&str> = expect["models"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|m| m.as_str().unwrap())
                            .collect();
                        assert_eq!(models, want, "{}", name(&case));
                    }
                    (TestOutcome::Failed { error }, want) => {
                        assert_eq!(error.kind.as_str(), want, "{}", name(&case))
                    }
                    (got, want) => panic!("{}: {got:?}, expected {want}", name(&case)),
                }
            }
            "rate_limits" => {
                let now = OffsetDateTime::parse(case["now"].as_str().unwrap(), &Rfc3339).unwrap();
                let got = serde_json::to_value(read_rate_limits(p, &headers(&case), now)).unwrap();
                let got = got.as_object().unwrap();
                let want = expect.as_object().unwrap();
                assert_eq!(
                    got.keys().collect::<Vec<_>>(),
                    want.keys().collect::<Vec<_>>(),
                    "{}: the fields read",
                    name(&case)
                );
                for (k, w) in want {
                    let g = &got[k];
                    if k.ends_with("_at") {
                        let parse = |v: &Value| {
                            OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
                        };
                        assert_eq!(parse(g), parse(w), "{}: {k}", name(&case));
                    } else {
                        assert_eq!(g, w, "{}: {k}", name(&case));
                    }
                }
            }
            other => panic!("unknown case kind {other}"),
        }
    }
    // Every provider has every kind of case.
    for p in Provider::ALL {
        for kind in ["response", "stream", "error", "models", "rate_limits"] {
            assert!(
                seen.contains_key(&format!("{p}/{kind}")),
                "no {kind} case for {p}: {seen:?}"
            );
        }
    }
}

#[test]
fn every_fixture_file_is_used() {
    let used: std::collections::BTreeSet<String> = cases()
        .iter()
        .filter_map(|c| c.get("file").and_then(Value::as_str).map(str::to_owned))
        .collect();
    for p in Provider::ALL {
        for entry in std::fs::read_dir(dir().join(p.as_str())).unwrap() {
            let f = format!("{p}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(used.contains(&f), "{f} is in no case");
        }
    }
}

fn stream_cases() -> Vec<(Provider, Vec<u8>, Value)> {
    cases()
        .into_iter()
        .filter(|c| c["kind"] == "stream")
        .map(|c| (provider(&c), file(&c), c))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any split of a stream's bytes (mid-line, mid-event, mid-character) gives the same text,
    /// usage and outcome as the whole.
    #[test]
    fn any_chunking_gives_the_same_result(
        index in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let all = stream_cases();
        let (p, bytes, case) = &all[index.index(all.len())];
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut last = 0;
        for at in points {
            chunks.push(&bytes[last..at]);
            last = at;
        }
        chunks.push(&bytes[last..]);
        check_stream(case, stream(*p, &chunks));
    }
}

#[test]
fn byte_by_byte_streams_match() {
    for (p, bytes, case) in stream_cases() {
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        check_stream(&case, stream(p, &chunks));
    }
}

#[test]
fn message_content_may_be_a_string_or_a_list_of_parts() {
    let reply = |content: &str| {
        let body = format!(
            r#"{{"model":"mistral-small-latest","choices":[{{"message":{{"role":"assistant","content":{content}}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":17,"completion_tokens":19,"total_tokens":36}}}}"#
        );
        parse_chat_response(Provider::Mistral, body.as_bytes())
    };
    assert_eq!(reply(r#""Bon\u006aour""#).unwrap().text, "Bonjour");
    let parts = r#"[{"type":"thinking","thinking":[]},{"type":"text","text":"Bon"},{"type":"text","text":"jour"}]"#;
    assert_eq!(reply(parts).unwrap().text, "Bonjour");
    assert_eq!(reply("null").unwrap().text, "");
    let err = reply("42").unwrap_err().to_string();
    assert!(err.contains("a string or a list of parts"), "{err}");
}
