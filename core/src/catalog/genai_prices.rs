//! Import of pydantic's genai-prices `data.json`: an array of providers (or `{"providers": [...]}`),
//! each with models whose prices are per million tokens, possibly tiered by prompt size and
//! dated by `start_date` constraints. See `docs/import-formats.md`.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use time::{Date, Duration};

use super::file::{json_decimal, parse_date, parse_value, CatalogFile, ModelEntry};
use super::{CatalogError, PriceSet, RateClass, Rates, Tier};
use crate::provider::Provider;

const PRICE_KEYS: [(&str, RateClass); 4] = [
    ("input_mtok", RateClass::Input),
    ("output_mtok", RateClass::Output),
    ("cache_read_mtok", RateClass::CachedInput),
    ("cache_write_mtok", RateClass::CacheWrite),
];

fn provider_of(id: &str) -> Option<Provider> {
    match id {
        "openai" => Some(Provider::OpenAi),
        "anthropic" => Some(Provider::Anthropic),
        "google" => Some(Provider::Gemini),
        "groq" => Some(Provider::Groq),
        "mistral" => Some(Provider::Mistral),
        _ => None,
    }
}

pub(super) fn parse(text: &str, source: &str, undated: Date) -> Result<CatalogFile, CatalogError> {
    let providers = match parse_value(text, source)? {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("providers") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(
                    CatalogError::new(source, "expected an array of providers").field("providers")
                )
            }
        },
        _ => return Err(CatalogError::new(source, "expected an array of providers")),
    };
    let mut models = Vec::new();
    let mut skipped = Vec::new();
    for (i, p) in providers.iter().enumerate() {
        let Some(pid) = p.get("id").and_then(Value::as_str) else {
            return Err(
                CatalogError::new(source, "a provider needs an `id`").field(format!("[{i}].id"))
            );
        };
        let Some(provider) = provider_of(pid) else {
            skipped.push(format!("provider {pid}: not a provider byokit serves"));
            continue;
        };
        let list = match p.get("models") {
            Some(Value::Array(list)) => list.as_slice(),
            None => &[],
            Some(_) => {
                return Err(
                    CatalogError::new(source, "expected an array").field(format!("[{i}].models"))
                )
            }
        };
        for m in list {
            let Some(Value::String(id)) = m.get("id") else {
                return Err(CatalogError::new(source, "a model needs an `id` string")
                    .field(format!("[{i}].models")));
            };
            let entry_name = format!("{pid}/{id}");
            if provider == Provider::Gemini && !id.starts_with("gemini-") {
                skipped.push(format!("{entry_name}: not a Gemini model"));
                continue;
            }
            let err = |field: &str, message: String| {
                CatalogError::new(source, message)
                    .entry(&entry_name)
                    .field(field)
            };
            match model(provider, id, m, undated, &err)? {
                Ok(entry) => models.push(entry),
                Err(reason) => skipped.push(format!("{entry_name}: {reason}")),
            }
        }
    }
    Ok(CatalogFile {
        source_name: source.to_owned(),
        version: None,
        providers: Vec::new(),
        models,
        skipped,
    })
}

type ErrFn<'a> = dyn Fn(&str, String) -> CatalogError + 'a;

fn model(
    provider: Provider,
    id: &str,
    m: &Value,
    undated: Date,
    err: &ErrFn<'_>,
) -> Result<Result<ModelEntry, String>, CatalogError> {
    // (start date or None, prices object, field path)
    let mut sets: Vec<(Option<Date>, &Map<String, Value>, String)> = Vec::new();
    match m.get("prices") {
        Some(Value::Object(prices)) => sets.push((None, prices, "prices".into())),
        Some(Value::Array(list)) => {
            for (i, cp) in list.iter().enumerate() {
                let path = format!("prices[{i}]");
                let Some(Value::Object(prices)) = cp.get("prices") else {
                    return Err(err(
                        &format!("{path}.prices"),
                        "expected an object of prices".into(),
                    ));
                };
                let start = match cp.get("constraint") {
                    None | Some(Value::Null) => None,
                    Some(c) => match c.get("start_date") {
                        Some(Value::String(day)) => Some(
                            parse_date(day)
                                .map_err(|e| err(&format!("{path}.constraint.start_date"), e))?,
                        ),
                        _ if c.get("start_time").is_some() => {
                            return Ok(Err("priced by time of day".into()));
                        }
                        _ => {
                            return Err(err(
                                &format!("{path}.constraint"),
                                format!("unsupported constraint {c}"),
                            ))
                        }
                    },
                };
                sets.push((start, prices, format!("{path}.prices")));
            }
        }
        Some(_) => {
            return Err(err(
                "prices",
                "expected an object or a list of prices".into(),
            ))
        }
        None => return Err(err("prices", "missing field `prices`".into())),
    }
    // The undated (first) set runs until the first dated one.
    let first_start = sets.iter().filter_map(|s| s.0).min();
    let undated = match first_start {
        Some(start) => undated.min(start - Duration::days(1)),
        None => undated,
    };
    let batch = batch_variant(m, err)?;

    let mut prices: Vec<PriceSet> = Vec::new();
    for (start, object, path) in sets {
        let mut rates = Rates::default();
        let mut tiers: Vec<Tier> = Vec::new();
        for (key, class) in PRICE_KEYS {
            let Some(value) = object.get(key) else {
                continue;
            };
            let field = format!("{path}.{key}");
            match value {
                Value::Object(tiered) => {
                    *rates.slot(class) = Some(
                        tiered
                            .get("base")
                            .ok_or_else(|| err(&field, "a tiered price needs a `base`".into()))
                            .and_then(|b| {
                                decimal(b).map_err(|e| err(&format!("{field}.base"), e))
                            })?,
                    );
                    let list = tiered
                        .get("tiers")
                        .and_then(Value::as_array)
                        .map_or(&[][..], Vec::as_slice);
                    for (j, t) in list.iter().enumerate() {
                        let tier_field = format!("{field}.tiers[{j}]");
                        let start = t.get("start").and_then(Value::as_u64).ok_or_else(|| {
                            err(&tier_field, "a tier needs a `start` token count".into())
                        })?;
                        let price = t
                            .get("price")
                            .ok_or_else(|| err(&tier_field, "a tier needs a `price`".into()))
                            .and_then(|p| {
                                decimal(p).map_err(|e| err(&format!("{tier_field}.price"), e))
                            })?;
                        let i = match tiers.iter().position(|x| x.above_prompt_tokens == start) {
                            Some(i) => i,
                            None => {
                                tiers.push(Tier {
                                    above_prompt_tokens: start,
                                    rates: Rates::default(),
                                    batch: None,
                                });
                                tiers.len() - 1
                            }
                        };
                        *tiers[i].rates.slot(class) = Some(price);
                    }
                }
                other => *rates.slot(class) = Some(decimal(other).map_err(|e| err(&field, e))?),
            }
        }
        if rates.input.is_none() || rates.output.is_none() {
            return Ok(Err("no input and output price per token".into()));
        }
        tiers.sort_by_key(|t| t.above_prompt_tokens);
        prices.push(PriceSet {
            effective: start.unwrap_or(undated),
            rates,
            batch: batch.map(|b| b.or(&rates)),
            tiers,
        });
    }
    prices.sort_by_key(|p| p.effective);

    Ok(Ok(ModelEntry {
        provider,
        id: id.to_owned(),
        name: m.get("name").and_then(Value::as_str).map(str::to_owned),
        aliases: aliases(id, m.get("match")),
        context_window: m.get("context_window").and_then(Value::as_u64),
        max_output_tokens: None,
        deprecated: m.get("deprecated").and_then(Value::as_bool),
        prices,
    }))
}

/// Batch prices from a `price_variants` entry `{"when": {"processing": "batch"}, "prices": {...}}`
/// without a constraint: partial prices over the standard ones.
fn batch_variant(m: &Value, err: &ErrFn<'_>) -> Result<Option<Rates>, CatalogError> {
    let Some(variants) = m.get("price_variants").and_then(Value::as_array) else {
        return Ok(None);
    };
    for (i, v) in variants.iter().enumerate() {
        let is_batch = v.pointer("/when/processing").and_then(Value::as_str) == Some("batch");
        if !is_batch || v.get("constraint").is_some() {
            continue;
        }
        let mut rates = Rates::default();
        if let Some(prices) = v.get("prices").and_then(Value::as_object) {
            for (key, class) in PRICE_KEYS {
                if let Some(value) = prices.get(key) {
                    let field = format!("price_variants[{i}].prices.{key}");
                    *rates.slot(class) = Some(decimal(value).map_err(|e| err(&field, e))?);
                }
            }
        }
        return Ok(Some(rates));
    }
    Ok(None)
}

/// The `equals` values of a match rule, at its top or directly under an `or`, other than the id.
fn aliases(id: &str, rule: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: Option<&Value>| {
        if let Some(name) = v.and_then(|e| e.get("equals")).and_then(Value::as_str) {
            if name != id && !out.iter().any(|o| o == name) {
                out.push(name.to_owned());
            }
        }
    };
    push(rule);
    if let Some(list) = rule.and_then(|r| r.get("or")).and_then(Value::as_array) {
        list.iter().for_each(|clause| push(Some(clause)));
    }
    out
}

/// A price already per million tokens.
fn decimal(value: &Value) -> Result<Decimal, String> {
    json_decimal(value).map(|d| d.normalize())
}
