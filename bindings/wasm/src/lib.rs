//! byokit-core for JavaScript. A thin layer: each function takes plain JS values, calls the core,
//! and returns plain JS values with camelCase keys; money stays a decimal string. Errors are JS
//! `Error`s with a `kind` (`unknownProvider`, `unknownModel`, `invalidInput`, `invalidKey`, …).

use std::cell::{Cell, RefCell};

mod compact;

use byokit_core::adapters::{parse_chat_response, StreamAccumulator};
use byokit_core::{
    check_key, classify_error, key::mask, Catalog, CatalogFile, CatalogFormat, ChatResponse,
    CostOptions, Headers, Provider, Usage,
};
use serde::Serialize;
use wasm_bindgen::prelude::*;

// The package runs single-threaded (no atomics): talc's allocator for that case.
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The hand-written TypeScript types (scalars' names, error kinds, the shapes of this boundary),
/// emitted into the package's `.d.ts`; the rest are generated from the Rust types
/// ([`typescript_declarations`] with the `ts` feature).
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

thread_local! {
    /// The catalog in use: the embedded one, or one loaded with `loadCatalog`.
    static CATALOG: RefCell<Option<Catalog>> = const { RefCell::new(None) };
    /// How many times `loadCatalog` has replaced the catalog: a model handle resolved before
    /// the last change resolves its name again.
    static GENERATION: Cell<u32> = const { Cell::new(0) };
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

// Where JSON text crosses the boundary, `js/keys.js` (the package's one key converter, shared
// with the daemon client) turns a JS value into JSON with `snake_case` keys and JSON back into a
// JS value with `camelCase` keys; Rust reads and writes the core's own serde forms.
#[wasm_bindgen(module = "/js/keys.js")]
extern "C" {
    /// A JS argument as JSON with `snake_case` keys (`{}` when absent).
    #[wasm_bindgen(js_name = snakeJson, catch)]
    fn snake_json(v: &JsValue) -> Result<String, JsValue>;
    /// A JS argument as JSON, keys as they are (`{}` when absent).
    #[wasm_bindgen(js_name = plainJson, catch)]
    fn plain_json(v: &JsValue) -> Result<String, JsValue>;
    /// JSON as a JS value with `camelCase` keys.
    #[wasm_bindgen(js_name = camelValue)]
    fn camel_value(json: &str) -> JsValue;
}

/// `snake_case` → `camelCase`: what a field or kind is called in JavaScript.
fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut up = false;
    for c in snake.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A serde error about a JS argument; in a missing or unknown field's message, the field names
/// (between backquotes) as JS calls them. (Other messages quote values, which stay as they are.)
fn input_error(what: &str, e: serde_json::Error) -> JsValue {
    let message = e.to_string();
    if !(message.starts_with("missing field") || message.starts_with("unknown field")) {
        return error("invalidInput", format!("{what}: {message}"));
    }
    let mut parts = message.split('`');
    let mut out = String::from(parts.next().unwrap_or_default());
    for (i, part) in parts.enumerate() {
        out.push('`');
        out.push_str(&if i % 2 == 0 {
            camel_case(part)
        } else {
            part.to_owned()
        });
    }
    error("invalidInput", format!("{what}: {out}"))
}

/// A JS argument (camelCase keys) as JSON with the core's `snake_case` keys.
fn js_json(v: &JsValue, what: &str) -> Result<String, JsValue> {
    snake_json(v).map_err(|e| error("invalidInput", format!("{what}: {e:?}")))
}

/// JSON from [`js_json`] as a core type.
fn parse<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, JsValue> {
    byokit_core::json::from_slice(json.as_bytes()).map_err(|e| input_error(what, e))
}

/// A JS argument (camelCase keys) as a core type.
fn from_js<T: serde::de::DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsValue> {
    parse(&js_json(v, what)?, what)
}

/// A budget from JS, checked as the core checks every budget (a limit not below zero,
/// thresholds of 1 to 100 %).
fn checked_budget(budget: byokit_core::Budget, what: &str) -> Result<byokit_core::Budget, JsValue> {
    budget
        .validate()
        .map_err(|e| error("invalidInput", format!("{what}: {e}")))?;
    Ok(budget)
}

/// A JS object of names to strings (headers), names kept as they are.
fn string_map(
    v: &JsValue,
    what: &str,
) -> Result<std::collections::BTreeMap<String, String>, JsValue> {
    let json = plain_json(v).map_err(|e| error("invalidInput", format!("{what}: {e:?}")))?;
    serde_json::from_slice(json.as_bytes())
        .map_err(|e| error("invalidInput", format!("{what}: {e}")))
}

/// An adapter's error as a JS error: a provider's error by its kind, anything else as a
/// malformed response.
fn adapter_error(e: byokit_core::AdapterError) -> JsValue {
    match e {
        byokit_core::AdapterError::Provider(pe) => error(&camel_case(pe.kind.as_str()), pe.message),
        other => error("malformedResponse", other),
    }
}

/// A request for `fetch`. Its headers carry the key: never log them.
#[derive(Serialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "HttpRequest")
)]
struct Request {
    method: byokit_core::Method,
    url: String,
    /// Header names (lower case) and values.
    headers: std::collections::BTreeMap<String, String>,
    /// The JSON body, if any.
    body: Option<String>,
}

/// A request for `fetch`: `{method, url, headers: {name: value}, body}`. It carries the key.
fn request_to_js(r: byokit_core::HttpRequest) -> Result<JsValue, JsValue> {
    let request = Request {
        method: r.method,
        url: r.url,
        headers: r.headers.into_iter().collect(),
        body: r.body,
    };
    let json = serde_json::to_string(&request).map_err(|e| error("internal", e))?;
    js_sys::JSON::parse(&json)
}

/// The HTTP request of a chat call for `provider`: `request` is `{model, system?, messages:
/// [{role, content}], maxOutputTokens?, temperature?, stop?, stream?}`; `options` is
/// `{baseUrl?, browser?}`.
#[wasm_bindgen(js_name = buildChatRequest, unchecked_return_type = "HttpRequest")]
pub fn build_chat_request(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    #[wasm_bindgen(unchecked_param_type = "ChatRequest")] request: JsValue,
    #[wasm_bindgen(js_name = apiKey)] api_key: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] options: Option<
        js_sys::Object,
    >,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let request: byokit_core::ChatRequest = from_js(&request, "request")?;
    let options: byokit_core::RequestOptions =
        from_js(&options.map_or(JsValue::UNDEFINED, Into::into), "options")?;
    let http =
        byokit_core::build_chat_request(p, &request, &byokit_core::ApiKey::new(api_key), &options)
            .map_err(|e| error("invalidInput", e))?;
    request_to_js(http)
}

/// The cheapest request that proves a key works (listing models).
#[wasm_bindgen(js_name = buildTestRequest, unchecked_return_type = "HttpRequest")]
pub fn build_test_request(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    #[wasm_bindgen(js_name = apiKey)] api_key: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "RequestOptions")] options: Option<
        js_sys::Object,
    >,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let options: byokit_core::RequestOptions =
        from_js(&options.map_or(JsValue::UNDEFINED, Into::into), "options")?;
    request_to_js(byokit_core::build_test_request(
        p,
        &byokit_core::ApiKey::new(api_key),
        &options,
    ))
}

/// The rate limits a reply's headers reveal; `now` (RFC 3339) turns relative resets into instants.
#[wasm_bindgen(js_name = readRateLimits, unchecked_return_type = "RateLimits")]
pub fn read_rate_limits(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] headers: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Instant")] now: &str,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let headers = string_map(&headers, "headers")?;
    to_js(byokit_core::read_rate_limits(
        p,
        &headers.into_iter().collect(),
        instant(now)?,
    ))
}

/// An RFC 3339 instant (`2026-11-28T12:00:00Z`).
fn instant(text: &str) -> Result<time::OffsetDateTime, JsValue> {
    byokit_core::instant::parse(text).ok_or_else(|| {
        error(
            "invalidInput",
            format!("invalid instant {text:?}: expected RFC 3339"),
        )
    })
}

/// A core value as a plain JS object with camelCase keys.
fn to_js(v: impl Serialize) -> Result<JsValue, JsValue> {
    let json = serde_json::to_string(&v).map_err(|e| error("internal", e))?;
    Ok(camel_value(&json))
}

fn provider(name: &str) -> Result<Provider, JsValue> {
    name.parse().map_err(|e| error("unknownProvider", e))
}

/// A token count from JS: absent (`undefined` or `null`) is 0; otherwise a whole number from 0
/// to 2^53 - 1.
fn token_count(v: &JsValue, field: &str) -> Result<u64, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(0);
    }
    tokens(v.as_f64().unwrap_or(f64::NAN), field)
}

/// A token count given as a number (`NaN` for anything that was not one).
fn tokens(n: f64, field: &str) -> Result<u64, JsValue> {
    if n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as u64)
    } else {
        Err(error(
            "invalidInput",
            format!("`{field}` must be a whole number of tokens"),
        ))
    }
}

fn text(input: &JsValue, field: &str) -> Result<String, JsValue> {
    js_sys::Reflect::get(input, &field.into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| error("invalidInput", format!("`{field}` must be a string")))
}

/// The token counts of a cost's input, each a number (`NaN` when it was not one) or 0 when
/// absent: input, output, cached input, cache write, reasoning.
fn usage_of(counts: [f64; 5]) -> Result<Usage, JsValue> {
    let [input, output, cached, cache_write, reasoning] = counts;
    Ok(Usage {
        input_tokens: tokens(input, "inputTokens")?,
        output_tokens: tokens(output, "outputTokens")?,
        cached_input_tokens: tokens(cached, "cachedInputTokens")?,
        cache_write_tokens: tokens(cache_write, "cacheWriteTokens")?,
        reasoning_tokens: tokens(reasoning, "reasoningTokens")?,
        estimated: false,
    })
}

/// A cost error as a JS error.
fn cost_error(e: byokit_core::CostError) -> JsValue {
    match e {
        byokit_core::CostError::UnknownModel(e) => error("unknownModel", e),
        e => error("invalidInput", e),
    }
}

/// The exact cost of a call: `{provider, model, inputTokens, outputTokens, cachedInputTokens?,
/// cacheWriteTokens?, reasoningTokens?, batch?}` (token counts as the provider reports them) →
/// `{costUsd, breakdown, status, model, catalogVersion, …}`.
#[wasm_bindgen(js_name = estimateCost, unchecked_return_type = "CostEstimate")]
pub fn estimate_cost(
    #[wasm_bindgen(unchecked_param_type = "CostInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    let p = provider(&text(&input, "provider")?)?;
    let model = text(&input, "model")?;
    let count = |field: &str| {
        token_count(
            &js_sys::Reflect::get(&input, &field.into()).unwrap_or(JsValue::UNDEFINED),
            field,
        )
    };
    let usage = Usage {
        input_tokens: count("inputTokens")?,
        output_tokens: count("outputTokens")?,
        cached_input_tokens: count("cachedInputTokens")?,
        cache_write_tokens: count("cacheWriteTokens")?,
        reasoning_tokens: count("reasoningTokens")?,
        estimated: false,
    };
    let batch = js_sys::Reflect::get(&input, &"batch".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    with_catalog(|c| {
        to_js(
            c.cost(p, &model, &usage, &CostOptions { batch, at: None })
                .map_err(cost_error)?,
        )
    })
}

/// `estimateCost` with its arguments as numbers and its result in the compact form that
/// `js/byokit.mjs` reads (`compact::cost`). Token counts are `NaN` when the caller gave
/// something that was not a number.
#[wasm_bindgen(js_name = costText, skip_typescript)]
#[allow(clippy::too_many_arguments)]
pub fn cost_text(
    provider_name: &str,
    model: &str,
    input: f64,
    output: f64,
    cached: f64,
    cache_write: f64,
    reasoning: f64,
    batch: bool,
) -> Result<String, JsValue> {
    let p = provider(provider_name)?;
    let usage = usage_of([input, output, cached, cache_write, reasoning])?;
    with_catalog(|c| {
        c.cost(p, model, &usage, &CostOptions { batch, at: None })
            .map(|cost| compact::cost(&cost))
            .map_err(cost_error)
    })
}

/// A model looked up once, to be priced many times (`catalog.model(provider, model)` in JS). It
/// prices with the catalog in use: after `loadCatalog`, it looks its name up again.
#[wasm_bindgen(skip_typescript)]
pub struct ModelHandle {
    provider: Provider,
    /// The name it was asked for, an alias perhaps.
    name: String,
    /// The canonical id in the catalog of `generation`.
    id: String,
    generation: u32,
}

#[wasm_bindgen]
impl ModelHandle {
    /// Looks `model` up for `provider`; an `unknownModel` error suggests the closest names.
    #[wasm_bindgen(constructor)]
    pub fn new(provider_name: &str, model: &str) -> Result<ModelHandle, JsValue> {
        let provider = provider(provider_name)?;
        let id = with_catalog(|c| c.model(provider, model).map(|m| m.id.clone()))
            .map_err(|e| error("unknownModel", e))?;
        Ok(ModelHandle {
            provider,
            name: model.to_owned(),
            id,
            generation: GENERATION.get(),
        })
    }

    /// The provider's name.
    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.provider.as_str().to_owned()
    }

    /// The model's canonical id (an alias resolved) in the catalog in use.
    #[wasm_bindgen(getter)]
    pub fn id(&mut self) -> Result<String, JsValue> {
        self.refresh()?;
        Ok(self.id.clone())
    }

    /// Looks the name up again if the catalog has changed since.
    fn refresh(&mut self) -> Result<(), JsValue> {
        let generation = GENERATION.get();
        if generation != self.generation {
            self.id = with_catalog(|c| c.model(self.provider, &self.name).map(|m| m.id.clone()))
                .map_err(|e| error("unknownModel", e))?;
            self.generation = generation;
        }
        Ok(())
    }

    /// The cost of a call to this model, in the compact form of [`cost_text`].
    #[wasm_bindgen(js_name = costText)]
    pub fn cost_text(
        &mut self,
        input: f64,
        output: f64,
        cached: f64,
        cache_write: f64,
        reasoning: f64,
        batch: bool,
    ) -> Result<String, JsValue> {
        self.refresh()?;
        let usage = usage_of([input, output, cached, cache_write, reasoning])?;
        with_catalog(|c| {
            let model = c
                .find(self.provider, &self.id)
                .ok_or_else(|| error("unknownModel", format!("unknown model {}", self.id)))?;
            model
                .cost(c.version(), &usage, &CostOptions { batch, at: None })
                .map(|cost| compact::cost(&cost))
                .map_err(cost_error)
        })
    }
}

/// The catalog's models (of one provider when given), with prices per million tokens as decimal
/// strings.
#[wasm_bindgen(js_name = listModels, unchecked_return_type = "ModelInfo[]")]
pub fn list_models(
    #[wasm_bindgen(js_name = provider, unchecked_optional_param_type = "Provider")]
    provider_name: Option<String>,
) -> Result<JsValue, JsValue> {
    let p = provider_name.as_deref().map(provider).transpose()?;
    with_catalog(|c| to_js(c.models(p).collect::<Vec<_>>()))
}

/// Loads a catalog in JSON (byokit's format, LiteLLM's or genai-prices', detected) over the
/// embedded one; TOML is refused with an `invalidCatalog` error that says to use JSON. Returns
/// the new catalog version.
#[wasm_bindgen(js_name = loadCatalog)]
pub fn load_catalog(
    text: &str,
    #[wasm_bindgen(unchecked_param_type = "Day")] today: &str,
) -> Result<String, JsValue> {
    let date = byokit_core::catalog::parse_date(today).map_err(|e| error("invalidInput", e))?;
    let file = CatalogFile::parse(text, "catalog", CatalogFormat::detect(text), date)
        .map_err(|e| error("invalidCatalog", e))?;
    let merged = Catalog::embedded()
        .merged(file)
        .map_err(|e| error("invalidCatalog", e))?;
    let version = merged.version().to_owned();
    CATALOG.with(|c| *c.borrow_mut() = Some(merged));
    GENERATION.set(GENERATION.get().wrapping_add(1));
    Ok(version)
}

/// A reply's text and exact usage.
#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
struct ResponseUsage {
    #[serde(flatten)]
    usage: Usage,
    /// All tokens of the call, as the provider counts them.
    total_tokens: u64,
    model: String,
    text: String,
    finish_reason: Option<byokit_core::FinishReason>,
}

/// A reply body or a stream's chunk: a string, or bytes (a `Uint8Array`, a Node `Buffer`, an
/// `ArrayBuffer`), copied once, straight into the module's memory.
fn bytes_of(v: &JsValue) -> Vec<u8> {
    if let Some(text) = v.as_string() {
        return text.into_bytes();
    }
    match v.dyn_ref::<js_sys::Uint8Array>() {
        Some(bytes) => bytes.to_vec(),
        // An `ArrayBuffer` gets a view; anything else what `new Uint8Array` makes of it.
        None => js_sys::Uint8Array::new(v).to_vec(),
    }
}

/// A reply's text and usage, read by the core.
fn read_reply(provider_name: &str, body: &JsValue) -> Result<(Provider, ChatResponse), JsValue> {
    let p = provider(provider_name)?;
    let reply = parse_chat_response(p, &bytes_of(body)).map_err(adapter_error)?;
    Ok((p, reply))
}

/// The usage of a (non-streaming) reply body (a string or bytes), exactly as the provider
/// reported it: `{inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens,
/// reasoningTokens, totalTokens, model, text, finishReason}`.
#[wasm_bindgen(js_name = usageFromResponse, unchecked_return_type = "ResponseUsage")]
pub fn usage_from_response(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] body: JsValue,
) -> Result<JsValue, JsValue> {
    let (p, reply) = read_reply(provider_name, &body)?;
    to_js(ResponseUsage {
        usage: reply.usage,
        total_tokens: reply.usage.total_tokens(p),
        model: reply.model,
        text: reply.text,
        finish_reason: reply.finish_reason,
    })
}

/// `usageFromResponse` with its result in the compact form that `js/byokit.mjs` reads
/// (`compact::response_usage`).
#[wasm_bindgen(js_name = usageText, skip_typescript)]
pub fn usage_text(provider_name: &str, body: JsValue) -> Result<String, JsValue> {
    let (p, reply) = read_reply(provider_name, &body)?;
    Ok(compact::response_usage(
        &reply.usage,
        reply.usage.total_tokens(p),
        reply.finish_reason,
        &reply.model,
        &reply.text,
    ))
}

thread_local! {
    /// Where JS writes a reply body (`inputBuffer`), to be read in place (`usageFromInput`).
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The module's memory, for JS to write input into (`inputBuffer`).
#[wasm_bindgen(js_name = wasmMemory, skip_typescript)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Room for `len` bytes of input, reused from call to call: JS writes a reply body there
/// (`TextEncoder.encodeInto`, or a `Uint8Array`'s `set`) and passes its length to
/// `usageFromInput`, so the body crosses once, with no allocation.
#[wasm_bindgen(js_name = inputBuffer, skip_typescript)]
pub fn input_buffer(len: usize) -> *mut u8 {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        if input.len() < len {
            input.resize(len, 0);
        }
        input.as_mut_ptr()
    })
}

/// `usageText` of the first `len` bytes that JS wrote at `inputBuffer`.
#[wasm_bindgen(js_name = usageFromInput, skip_typescript)]
pub fn usage_from_input(provider_name: &str, len: usize) -> Result<String, JsValue> {
    let p = provider(provider_name)?;
    INPUT.with(|input| {
        let input = input.borrow();
        let body = input
            .get(..len)
            .ok_or_else(|| error("invalidInput", "the body is larger than its buffer"))?;
        let reply = parse_chat_response(p, body).map_err(adapter_error)?;
        Ok(compact::response_usage(
            &reply.usage,
            reply.usage.total_tokens(p),
            reply.finish_reason,
            &reply.model,
            &reply.text,
        ))
    })
}

/// Classifies an error reply: `{kind, retryAfterSeconds, message, status, code, provider}`.
/// `headers` is a plain object of header names to values.
#[wasm_bindgen(js_name = classifyError, unchecked_return_type = "ClassifiedError")]
pub fn classify(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    status: u16,
    #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] headers: JsValue,
    body: &str,
) -> Result<JsValue, JsValue> {
    let p = provider(provider_name)?;
    let headers = string_map(&headers, "headers")?;
    let headers: Headers = headers.into_iter().collect();
    to_js(classify_error(p, status, &headers, body.as_bytes()))
}

/// `summarize`'s options.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
struct SummaryOptions {
    /// The window's length, 1 to 365 days.
    days: i64,
    /// The window's end.
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    now: String,
    /// The system key's monthly token cap: with it, the summary shows the system quota.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    system_token_cap: Option<u64>,
    /// With a budget, the summary shows where it stands.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    budget: Option<byokit_core::Budget>,
}

/// A usage summary of `events` (`[{at, provider, model, feature, payer, usage: {inputTokens, …},
/// costUsd, costStatus}]`) over the `days` (1–365) ending at `now` (RFC 3339): totals and
/// breakdowns whose parts add up exactly, `costUsd` as decimal strings. `options` is `{days, now,
/// systemTokenCap?, budget?}` (with a cap, the summary shows the system key's quota; with a
/// budget `{monthlyLimitUsd, policy?, alertThresholds?}`, where it stands); `summarize(events,
/// days, now)` is the same without a cap or budget.
#[wasm_bindgen(unchecked_return_type = "UsageSummary")]
pub fn summarize(
    #[wasm_bindgen(unchecked_param_type = "UsageEvent[]")] events: JsValue,
    #[wasm_bindgen(unchecked_param_type = "SummaryOptions | number")] options: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "Instant")] now: Option<String>,
) -> Result<JsValue, JsValue> {
    let events: Vec<byokit_core::UsageEvent> = from_js(&events, "events")?;
    let options = match options.as_f64() {
        Some(days) => SummaryOptions {
            days: days as i64,
            now: now.ok_or_else(|| error("invalidInput", "`now` is missing"))?,
            system_token_cap: None,
            budget: None,
        },
        None => {
            let options: SummaryOptions = from_js(&options, "options")?;
            SummaryOptions {
                budget: options
                    .budget
                    .map(|b| checked_budget(b, "options.budget"))
                    .transpose()?,
                ..options
            }
        }
    };
    let window = byokit_core::Window::new(instant(&options.now)?, options.days)
        .map_err(|e| error("invalidInput", e))?;
    to_js(byokit_core::summarize(
        &events,
        window,
        options.system_token_cap,
        options.budget.as_ref(),
    ))
}

/// The part of routing's `state` beside the user's configuration: the system key's usage this
/// month. (Read from the same JSON as the configuration rather than through `serde(flatten)`,
/// which would buffer every routing type through serde's generic content and weigh on the wasm.)
#[derive(serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
struct SystemUsage {
    /// Tokens the user has used (and has in flight) through the system key this month.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<u64>"))]
    system_tokens_used: u64,
}

/// Decides who serves and pays for a call. `state` is `{keys: [{id, provider, savedAt, status?:
/// {state: "ok" | "invalid" | "failing", reason?, until?}, limits?}], fallbackChain?, models?:
/// {byProvider?, byFeature?}, system?: {provider, model, monthlyTokenCap}, systemTokensUsed?}`;
/// `request` is `{feature?, model?, estimatedTokens?}`; `now` is RFC 3339. Returns `{provider,
/// model, key: {kind: "user", keyId} | {kind: "system"}, payer, explanation, fallbacks}`; a
/// refusal is an `Error` whose `kind` is `invalidKey`, `systemCapReached`, `noKey` or
/// `rateLimited`.
#[wasm_bindgen(unchecked_return_type = "RouteDecision")]
pub fn route(
    #[wasm_bindgen(unchecked_param_type = "RoutingState")] state: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RouteRequest")] request: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Instant")] now: &str,
) -> Result<JsValue, JsValue> {
    let state = js_json(&state, "state")?;
    let config: byokit_core::RoutingConfig = parse(&state, "state")?;
    let used: SystemUsage = parse(&state, "state")?;
    let request: byokit_core::RouteRequest = from_js(&request, "request")?;
    let ledger = byokit_core::Ledger::new(used.system_tokens_used);
    match byokit_core::route(&config, &ledger, &request, instant(now)?) {
        Ok(decision) => to_js(decision),
        Err(e) => Err(error(&camel_case(e.kind()), e)),
    }
}

/// Where `budget` (`{monthlyLimitUsd, policy?: "block" | "allow_and_alert", alertThresholds?}`)
/// stands when `spentUsd` (a decimal string) has been spent in the month of `now`:
/// `{month, limitUsd, spentUsd, remainingUsd, percentUsed, exceeded, policy}`.
#[wasm_bindgen(js_name = budgetStatus, unchecked_return_type = "BudgetStatus")]
pub fn budget_status(
    #[wasm_bindgen(unchecked_param_type = "Budget")] budget: JsValue,
    #[wasm_bindgen(js_name = spentUsd, unchecked_param_type = "Decimal")] spent_usd: &str,
    #[wasm_bindgen(unchecked_param_type = "Instant")] now: &str,
) -> Result<JsValue, JsValue> {
    let budget = checked_budget(from_js(&budget, "budget")?, "budget")?;
    let spent = money(spent_usd, "spentUsd")?;
    to_js(budget.status(byokit_core::Month::containing(instant(now)?), spent))
}

/// The alerts that fire now that `spentUsd` has been spent in the month of `now`: each threshold
/// reached and not yet in `fired` (what the previous call returned; absent the first time), once
/// a month. Returns `{alerts: [{month, thresholdPercent, spentUsd, limitUsd}], fired}`: keep
/// `fired` for the next call.
#[wasm_bindgen(
    js_name = budgetAlerts,
    unchecked_return_type = "BudgetAlerts"
)]
pub fn budget_alerts(
    #[wasm_bindgen(unchecked_param_type = "Budget")] budget: JsValue,
    #[wasm_bindgen(js_name = spentUsd, unchecked_param_type = "Decimal")] spent_usd: &str,
    #[wasm_bindgen(unchecked_param_type = "Instant")] now: &str,
    #[wasm_bindgen(unchecked_optional_param_type = "FiredAlerts")] fired: Option<js_sys::Object>,
) -> Result<JsValue, JsValue> {
    let budget = checked_budget(from_js(&budget, "budget")?, "budget")?;
    let mut fired: byokit_core::FiredAlerts =
        from_js(&fired.map_or(JsValue::UNDEFINED, Into::into), "fired")?;
    let alerts = budget.alerts(&mut fired, money(spent_usd, "spentUsd")?, instant(now)?);
    to_js(Alerts { alerts, fired })
}

/// What `budgetAlerts` returns: the alerts that fire now, and what to pass to the next call.
#[derive(Serialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "BudgetAlerts")
)]
struct Alerts {
    alerts: Vec<byokit_core::Alert>,
    fired: byokit_core::FiredAlerts,
}

/// A decimal string as an exact amount.
fn money(text: &str, what: &str) -> Result<byokit_core::Decimal, JsValue> {
    byokit_core::parse_usd(text).ok_or_else(|| {
        error(
            "invalidInput",
            format!("`{what}` must be a decimal string, not {text:?}"),
        )
    })
}

/// The kind of byokd's error with JSON-RPC `code` and `data` (as JSON text; absent when the
/// error has none), by the core client codec's rule: `data` when it is one of the protocol's
/// kinds, else the code's. Returns the kind with its data as the protocol writes it
/// (`{kind: "rate_limited", status, retry_after_seconds}`); `byokit/daemon` reads every error
/// reply through it.
#[wasm_bindgen(js_name = daemonErrorKind, unchecked_return_type = "DaemonErrorKind")]
pub fn daemon_error_kind(code: f64, data: Option<String>) -> Result<JsValue, JsValue> {
    // A code that is not an integer is no code the protocol has.
    let code = if code.fract() == 0.0 && code.abs() < 9e15 {
        code as i64
    } else {
        0
    };
    let kind = byokit_core::protocol::client::error_kind_of_json(code, data.as_deref());
    let json = serde_json::to_string(&kind).map_err(|e| error("internal", e))?;
    js_sys::JSON::parse(&json)
}

/// Whether `value` is an error thrown by byokit: an `Error` with a string `kind`.
#[wasm_bindgen(js_name = isByokitError, unchecked_return_type = "value is ByokitError")]
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
pub fn check(
    #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    key: &str,
) -> Result<(), JsValue> {
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
    pub fn new(
        #[wasm_bindgen(js_name = provider, unchecked_param_type = "Provider")] provider_name: &str,
    ) -> Result<StreamUsage, JsValue> {
        Ok(StreamUsage {
            inner: Some(StreamAccumulator::new(provider(provider_name)?)),
        })
    }

    /// Takes the next chunk; returns the text deltas it completed.
    pub fn push(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "string | Uint8Array")] chunk: JsValue,
    ) -> Result<Vec<String>, JsValue> {
        let bytes = bytes_of(&chunk);
        let acc = self
            .inner
            .as_mut()
            .ok_or_else(|| error("invalidInput", "the stream is finished"))?;
        acc.push(&bytes).map_err(adapter_error)
    }

    /// Ends the stream: `{text, finishReason, model, usage: {status: "reported", usage} | {status: "unknown", estimate}}`.
    #[wasm_bindgen(unchecked_return_type = "StreamSummary")]
    pub fn finish(&mut self) -> Result<JsValue, JsValue> {
        let acc = self
            .inner
            .take()
            .ok_or_else(|| error("invalidInput", "the stream is finished"))?;
        to_js(acc.finish().map_err(|e| error("malformedResponse", e))?)
    }
}

/// The TypeScript declarations of every type the package's functions take or return, made from
/// the Rust types themselves (`ts_rs`); `scripts/build-npm.sh` adds them to the package's
/// `.d.ts` files, next to the few written by hand in `src/types.d.ts`.
#[cfg(feature = "ts")]
pub fn typescript_declarations() -> String {
    use byokit_core as core;
    use ts_rs::TS;
    fn decl<T: TS>(out: &mut String, cfg: &ts_rs::Config) {
        if let Some(docs) = T::docs() {
            out.push_str(&docs);
        }
        out.push_str("export ");
        out.push_str(&T::decl(cfg));
        out.push('\n');
    }
    let cfg = ts_rs::Config::new().with_large_int("number");
    let mut out = String::from("// Generated from byokit's Rust types.\n");
    macro_rules! decls {
        ($($t:ty),* $(,)?) => { $(decl::<$t>(&mut out, &cfg);)* };
    }
    decls!(
        core::Provider,
        core::CostStatus,
        core::ErrorKind,
        core::FinishReason,
        core::Payer,
        core::Role,
        core::Method,
        core::BudgetPolicy,
        core::Usage,
        core::LineItem,
        core::Breakdown,
        core::Cost<'static>,
        core::Rates,
        core::Tier,
        core::PriceSet,
        core::Model,
        core::Message,
        core::ChatRequest,
        core::RequestOptions,
        Request,
        ResponseUsage,
        core::StreamUsage,
        core::StreamSummary,
        core::ProviderError,
        core::RateLimits,
        core::UsageEvent,
        core::Window,
        core::Totals,
        core::usage::DayTotals,
        core::usage::QuotaStatus,
        core::UsageSummary,
        core::Month,
        core::Budget,
        core::BudgetStatus,
        core::Alert,
        core::FiredAlerts,
        Alerts,
        SummaryOptions,
        core::KeyStatus,
        core::routing::KeyLimits,
        core::routing::RecentCall,
        core::routing::UserKey,
        core::routing::SystemKeyPolicy,
        core::routing::ModelChoice,
        core::routing::FeatureModel,
        core::RoutingConfig,
        SystemUsage,
        core::RouteRequest,
        core::KeyChoice,
        core::Decision,
        core::routing::Fallback,
    );
    // byokd's protocol, for `byokit/daemon`.
    use core::protocol as p;
    decls!(
        p::UserParams,
        p::ConfigSaveParams,
        p::ConfigView,
        p::ConfigGetResult,
        p::ConfigTarget,
        p::RoutingSettings,
        p::ConfigDeleteResult,
        p::ConfigTestResult,
        p::ConfigTestOutcome,
        p::UsageRecordParams,
        p::UsageRecordResult,
        p::UsageSummaryParams,
        p::RouteParams,
        p::ChatParams,
        p::ChatResult,
        p::BudgetSetParams,
        p::DaemonStatus,
        p::ErrorKind,
        p::Error,
        p::client::Incoming,
    );
    out
}
