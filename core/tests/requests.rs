//! Snapshot tests of the HTTP requests built for each provider: method, URL, headers (key
//! masked) and body. Review a changed snapshot as you would a wire-format change.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::adapters::{build_chat_request, build_test_request, RequestOptions};
use byokit_core::{ApiKey, ChatRequest, HttpRequest, Message, Provider, Role};
use serde_json::{json, Value};

const KEY: &str = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz-9f3e";

fn request(stream: bool) -> ChatRequest {
    ChatRequest {
        model: "some-model".into(),
        system: Some("You are terse.".into()),
        messages: vec![
            Message::user("Hello"),
            Message::assistant("Hi. What do you need?"),
            Message {
                role: Role::User,
                content: "A haiku about the sea, café-style.".into(),
            },
        ],
        max_output_tokens: Some(256),
        temperature: Some(0.2),
        stop: vec!["\n\n".into()],
        stream,
    }
}

/// The request as a reviewable value: key masked, body parsed.
fn shown(r: &HttpRequest) -> Value {
    let r = r.redacted();
    json!({
        "method": r.method,
        "url": r.url,
        "headers": r.headers,
        "body": r.body.as_deref().map(|b| serde_json::from_str::<Value>(b).unwrap()),
    })
}

fn chat(provider: Provider, stream: bool, options: &RequestOptions) -> HttpRequest {
    let mut r = request(stream);
    r.model = match provider {
        Provider::OpenAi => "gpt-4o",
        Provider::Anthropic => "claude-sonnet-4-20250514",
        Provider::Groq => "llama-3.3-70b-versatile",
        Provider::Gemini => "gemini-2.5-flash",
        Provider::Mistral => "mistral-small-latest",
    }
    .into();
    build_chat_request(provider, &r, &ApiKey::new(KEY), options).unwrap()
}

#[test]
fn chat_requests() {
    for p in Provider::ALL {
        insta::assert_json_snapshot!(
            format!("chat_{p}"),
            shown(&chat(p, false, &RequestOptions::default()))
        );
        insta::assert_json_snapshot!(
            format!("chat_stream_{p}"),
            shown(&chat(p, true, &RequestOptions::default()))
        );
    }
}

#[test]
fn test_connection_requests() {
    for p in Provider::ALL {
        let r = build_test_request(p, &ApiKey::new(KEY), &RequestOptions::default());
        insta::assert_json_snapshot!(format!("models_{p}"), shown(&r));
    }
}

#[test]
fn the_key_is_sent_only_in_a_header() {
    for p in Provider::ALL {
        let r = chat(p, true, &RequestOptions::default());
        let in_headers = r.headers.iter().filter(|(_, v)| v.contains(KEY)).count();
        assert_eq!(in_headers, 1, "{p}");
        assert!(
            !r.url.contains(KEY) && !r.url.contains("key="),
            "{p}: {}",
            r.url
        );
        assert!(!r.body.unwrap().contains(KEY), "{p}");
        assert!(!format!("{:?}", chat(p, false, &RequestOptions::default())).contains(KEY));
    }
}

#[test]
fn base_url_override_and_browser_flag() {
    let options = RequestOptions {
        base_url: Some("http://127.0.0.1:9999/v1/".into()),
        browser: true,
    };
    for p in Provider::ALL {
        let r = chat(p, false, &options);
        assert!(
            r.url.starts_with("http://127.0.0.1:9999/v1/"),
            "{p}: {}",
            r.url
        );
        assert!(!r.url.contains("v1//"), "{}", r.url);
        let browser_header = r.header("anthropic-dangerous-direct-browser-access");
        assert_eq!(
            browser_header,
            (p == Provider::Anthropic).then_some("true"),
            "{p}"
        );
    }
}

#[test]
fn streaming_asks_for_usage_where_the_api_needs_it() {
    let body = |p| {
        serde_json::from_str::<Value>(&chat(p, true, &RequestOptions::default()).body.unwrap())
            .unwrap()
    };
    assert_eq!(
        body(Provider::OpenAi)["stream_options"]["include_usage"],
        true
    );
    assert_eq!(
        body(Provider::Groq)["stream_options"]["include_usage"],
        true
    );
    assert!(body(Provider::Mistral).get("stream_options").is_none());
    assert!(chat(Provider::Gemini, true, &RequestOptions::default())
        .url
        .ends_with(":streamGenerateContent?alt=sse"));
}

#[test]
fn invalid_requests_are_refused() {
    let key = ApiKey::new(KEY);
    let mut r = request(false);
    r.model = " ".into();
    let err =
        build_chat_request(Provider::OpenAi, &r, &key, &RequestOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "invalid chat request: no model given");
    let mut r = request(false);
    r.model = "gpt-4o".into();
    r.messages.clear();
    let err =
        build_chat_request(Provider::OpenAi, &r, &key, &RequestOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "invalid chat request: no messages given");
}
