//! byokit-core for JavaScript. A thin layer: each function takes plain JS values, calls the core,
//! and returns plain JS values with camelCase keys; money stays a decimal string. Errors are JS
//! `Error`s with a `kind` (`unknownProvider`, `unknownModel`, `invalidInput`, `invalidKey`, …).

use std::cell::RefCell;

use byokit_core::adapters::{parse_chat_response, StreamAccumulator};
use byokit_core::{
    check_key, classify_error, key::mask, Catalog, CatalogFile, CatalogFormat, CostOptions,
    Headers, Provider, Usage,
};
use serde::Serialize;
use serde_json::{Map, Value};
use wasm_bindgen::prelude::*;

thread_local! {
    /// The catalog in use: the embedded one, or one loaded with `loadCatalog`.
    static CATALOG: RefCell<Option<Catalog>> = const { RefCell::new(None) };
}

fn with_catalog<T>(f: impl FnOnce(&Catalog) -> T) -> T {
    CATALOG.with(|c| match &*c.borrow() {
        Some(catalog) => f(catalog),
        None => f(Catalog::embedded()),
    })
}

/// A JS `Error` with a `kind` field.
fn error(kind: &str, message: impl std::fmt::Display) -> JsValue {
    let e = js_sys::Error::new(&message.to_string());
    let _ = js_sys::Reflect::set(&e, &"kind".into(), &kind.into());
    e.into()
}

/// Objects whose keys are data (feature names, `provider/model`), not field names.
const DATA_MAPS: [&str; 4] = ["by_provider", "by_feature", "by_model", "by_payer"];

/// `snake_case` keys → `camelCase`, recursively; the keys of the [`DATA_MAPS`] are kept as they
/// are (their values are converted).
fn camel(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if DATA_MAPS.contains(&k.as_str()) {
                        match v {
                            Value::Object(inner) => Value::Object(
                                inner.into_iter().map(|(dk, dv)| (dk, camel(dv))).collect(),
                            ),
                            other => camel(other),
                        }
                    } else {
                        camel(v)
                    };
                    let mut out = String::with_capacity(k.len());
                    let mut up = false;
                    for c in k.chars() {
                        if c == '_' {
                            up = true;
                        } else if up {
                            out.extend(c.to_uppercase());
                            up = false;
                        } else {
                            out.push(c);
                        }
                    }
                    (out, v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camel).collect()),
        other => other,
    }
}

/// `camelCase` keys → `snake_case`, recursively: a JS argument read as a core type.
fn snake(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let mut out = String::with_capacity(k.len() + 4);
                    for c in k.chars() {
                        if c.is_ascii_uppercase() {
                            out.push('_');
                            out.push(c.to_ascii_lowercase());
                        } else {
                            out.push(c);
                        }
                    }
                    (out, snake(v))
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(snake).collect()),
        other => other,
    }
}

/// A JS argument (camelCase keys) as a core type.
fn from_js<T: serde::de::DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsValue> {
    if v.is_undefined() || v.is_null() {
        return serde_json::from_value(Value::Object(Map::new()))
            .map_err(|e| error("invalidInput", format!("{what}: {e}")));
    }
    let value: Value = serde_wasm_bindgen::from_value(v)
        .map_err(|e| error("invalidInput", format!("{what}: {e}")))?;
    serde_json::from_value(snake(value)).map_err(|e| error("invalidInput", format!("{what}: {e}")))
}

/// A request for `fetch`: `{method, url, headers: {name: value}, body}`. It carries the key.
fn request_to_js(r: byokit_core::HttpRequest) -> Result<JsValue, JsValue> {
    let headers: Map<String, Value> = r
        .headers
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let v =
        serde_json::json!({"method": r.method, "url": r.url, "headers": headers, "body": r.body});
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error("internal", e))
}

/// The HTTP request of a chat call for `provider`: `request` is `{model, system?, messages:
/// [{role, content}], maxOutputTokens?, temperature?, stop?, stream?}`; `options` is
/// `{baseUrl?, browser?}`.
#[wasm_bindgen(js_name = buildChatRequest)]
pub fn build_chat_request(
    provider_name: &str,
    request: JsValue,
    api_key: &str,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let request: byokit_core::ChatRequest = from_js(request, "request")?;
    let options: byokit_core::RequestOptions = from_js(options, "options")?;
    let http =
        byokit_core::build_chat_request(p, &request, &byokit_core::ApiKey::new(api_key), &options)
            .map_err(|e| error("invalidInput", e))?;
    request_to_js(http)
}

/// The cheapest request that proves a key works (listing models).
#[wasm_bindgen(js_name = buildTestRequest)]
pub fn build_test_request(
    provider_name: &str,
    api_key: &str,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let options: byokit_core::RequestOptions = from_js(options, "options")?;
    request_to_js(byokit_core::build_test_request(
        p,
        &byokit_core::ApiKey::new(api_key),
        &options,
    ))
}

/// The rate limits a reply's headers reveal; `now` (RFC 3339) turns relative resets into instants.
#[wasm_bindgen(js_name = readRateLimits)]
pub fn read_rate_limits(
    provider_name: &str,
    headers: JsValue,
    now: &str,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let headers: std::collections::BTreeMap<String, String> =
        serde_wasm_bindgen::from_value(headers)
            .map_err(|e| error("invalidInput", format!("headers: {e}")))?;
    let now = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            error(
                "invalidInput",
                format!("invalid instant {now:?}: expected RFC 3339"),
            )
        })?;
    to_js(byokit_core::read_rate_limits(
        p,
        &headers.into_iter().collect(),
        now,
    ))
}

/// A core value as a plain JS object with camelCase keys.
fn to_js(v: impl Serialize) -> Result<JsValue, JsValue> {
    let value = serde_json::to_value(v).map_err(|e| error("internal", e))?;
    camel(value)
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error("internal", e))
}

fn provider(name: &str) -> Result<Provider, JsValue> {
    name.parse().map_err(|e| error("unknownProvider", e))
}

fn number(input: &JsValue, field: &str) -> Result<u64, JsValue> {
    let v = js_sys::Reflect::get(input, &field.into()).unwrap_or(JsValue::UNDEFINED);
    if v.is_undefined() || v.is_null() {
        return Ok(0);
    }
    match v.as_f64() {
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 => Ok(n as u64),
        _ => Err(error(
            "invalidInput",
            format!("`{field}` must be a whole number of tokens"),
        )),
    }
}

fn text(input: &JsValue, field: &str) -> Result<String, JsValue> {
    js_sys::Reflect::get(input, &field.into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| error("invalidInput", format!("`{field}` must be a string")))
}

/// The exact cost of a call: `{provider, model, inputTokens, outputTokens, cachedInputTokens?,
/// cacheWriteTokens?, reasoningTokens?, batch?}` (token counts as the provider reports them) →
/// `{costUsd, breakdown, status, model, catalogVersion, …}`.
#[wasm_bindgen(js_name = estimateCost)]
pub fn estimate_cost(input: JsValue) -> Result<JsValue, JsValue> {
    let p = provider(&text(&input, "provider")?)?;
    let model = text(&input, "model")?;
    let usage = Usage {
        input_tokens: number(&input, "inputTokens")?,
        output_tokens: number(&input, "outputTokens")?,
        cached_input_tokens: number(&input, "cachedInputTokens")?,
        cache_write_tokens: number(&input, "cacheWriteTokens")?,
        reasoning_tokens: number(&input, "reasoningTokens")?,
        estimated: false,
    };
    let batch = js_sys::Reflect::get(&input, &"batch".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    with_catalog(
        |c| match c.cost(p, &model, &usage, &CostOptions { batch, at: None }) {
            Ok(cost) => to_js(cost),
            Err(byokit_core::CostError::UnknownModel(e)) => Err(error("unknownModel", e)),
            Err(e) => Err(error("invalidInput", e)),
        },
    )
}

/// The catalog's models (of one provider when given), with prices per million tokens as decimal
/// strings.
#[wasm_bindgen(js_name = listModels)]
pub fn list_models(provider_name: Option<String>) -> Result<JsValue, JsValue> {
    let p = provider_name.as_deref().map(provider).transpose()?;
    with_catalog(|c| to_js(c.models(p).collect::<Vec<_>>()))
}

/// Loads a catalog (byokit TOML/JSON, LiteLLM or genai-prices, detected) over the embedded one;
/// returns the new catalog version.
#[wasm_bindgen(js_name = loadCatalog)]
pub fn load_catalog(text: &str, today: &str) -> Result<String, JsValue> {
    let date = byokit_core::catalog::parse_date(today).map_err(|e| error("invalidInput", e))?;
    let file = CatalogFile::parse(text, "catalog", CatalogFormat::detect(text), date)
        .map_err(|e| error("invalidCatalog", e))?;
    let merged = Catalog::embedded()
        .merged(file)
        .map_err(|e| error("invalidCatalog", e))?;
    let version = merged.version().to_owned();
    CATALOG.with(|c| *c.borrow_mut() = Some(merged));
    Ok(version)
}

/// The usage of a (non-streaming) reply body, exactly as the provider reported it:
/// `{inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens, reasoningTokens, totalTokens, model, text, finishReason}`.
#[wasm_bindgen(js_name = usageFromResponse)]
pub fn usage_from_response(provider_name: &str, body: &str) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let reply = parse_chat_response(p, body.as_bytes()).map_err(|e| match e {
        byokit_core::AdapterError::Provider(pe) => error(&kind_name(pe.kind.as_str()), pe.message),
        other => error("malformedResponse", other),
    })?;
    let mut v = serde_json::to_value(reply.usage).map_err(|e| error("internal", e))?;
    v["total_tokens"] = reply.usage.total_tokens(p).into();
    v["model"] = reply.model.into();
    v["text"] = reply.text.into();
    v["finish_reason"] = serde_json::to_value(reply.finish_reason).unwrap_or(Value::Null);
    to_js(v)
}

fn kind_name(snake: &str) -> String {
    match camel(serde_json::json!({ snake: 0 })) {
        Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        _ => snake.to_owned(),
    }
}

/// Classifies an error reply: `{kind, retryAfterSeconds, message, status, code, provider}`.
/// `headers` is a plain object of header names to values.
#[wasm_bindgen(js_name = classifyError)]
pub fn classify(
    provider_name: &str,
    status: u16,
    headers: JsValue,
    body: &str,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let headers: std::collections::BTreeMap<String, String> =
        serde_wasm_bindgen::from_value(headers)
            .map_err(|e| error("invalidInput", format!("headers: {e}")))?;
    let headers: Headers = headers.into_iter().collect();
    to_js(classify_error(p, status, &headers, body.as_bytes()))
}

/// A usage summary over the `days` (1–365) ending at `now` (RFC 3339) of `events`
/// (`[{at, provider, model, feature, payer, usage: {inputTokens, …}, costUsd, costStatus}]`):
/// totals and breakdowns whose parts add up exactly, `costUsd` as decimal strings.
#[wasm_bindgen]
pub fn summarize(events: JsValue, days: i32, now: &str) -> Result<JsValue, JsValue> {
    let events: Vec<byokit_core::UsageEvent> = from_js(events, "events")?;
    let end = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            error(
                "invalidInput",
                format!("invalid instant {now:?}: expected RFC 3339"),
            )
        })?;
    let window =
        byokit_core::Window::new(end, i64::from(days)).map_err(|e| error("invalidInput", e))?;
    to_js(byokit_core::summarize(&events, window, None, None))
}

/// Whether `value` is an error thrown by byokit: an `Error` with a string `kind`.
#[wasm_bindgen(js_name = isByokitError)]
pub fn is_byokit_error(value: JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && js_sys::Reflect::get(&value, &"kind".into()).is_ok_and(|k| k.is_string())
}

/// `sk-proj-…a1b2`.
#[wasm_bindgen(js_name = maskKey)]
pub fn mask_key(key: &str) -> String {
    mask(key)
}

/// Checks a pasted key's format; throws an `Error` with `kind: "invalidKey"` saying what is wrong.
#[wasm_bindgen(js_name = checkKey)]
pub fn check(provider_name: &str, key: &str) -> Result<(), JsValue> {
    check_key(provider(provider_name)?, key).map_err(|e| error("invalidKey", e))
}

/// Accumulates a streaming reply from chunks (strings or `Uint8Array`s) split anywhere.
#[wasm_bindgen]
pub struct StreamUsage {
    inner: Option<StreamAccumulator>,
}

#[wasm_bindgen]
impl StreamUsage {
    /// A new accumulator for `provider`'s stream.
    #[wasm_bindgen(constructor)]
    pub fn new(provider_name: &str) -> Result<StreamUsage, JsValue> {
        Ok(StreamUsage {
            inner: Some(StreamAccumulator::new(provider(provider_name)?)),
        })
    }

    /// Takes the next chunk; returns the text deltas it completed.
    pub fn push(&mut self, chunk: JsValue) -> Result<Vec<String>, JsValue> {
        let bytes = match chunk.as_string() {
            Some(s) => s.into_bytes(),
            None => js_sys::Uint8Array::new(&chunk).to_vec(),
        };
        let acc = self
            .inner
            .as_mut()
            .ok_or_else(|| error("invalidInput", "the stream is finished"))?;
        acc.push(&bytes).map_err(|e| match e {
            byokit_core::AdapterError::Provider(pe) => {
                error(&kind_name(pe.kind.as_str()), pe.message)
            }
            other => error("malformedResponse", other),
        })
    }

    /// Ends the stream: `{text, finishReason, model, usage: {status: "reported", usage} | {status: "unknown", estimate}}`.
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let acc = self
            .inner
            .take()
            .ok_or_else(|| error("invalidInput", "the stream is finished"))?;
        to_js(acc.finish().map_err(|e| error("malformedResponse", e))?)
    }
}
