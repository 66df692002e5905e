//! Import of LiteLLM's `model_prices_and_context_window.json`.
//!
//! Each top-level key is a model (`gpt-4o`, `groq/llama-3.3-70b-versatile`, …) with per-token
//! USD prices written as JSON numbers (`2.5e-06`). A number is read back through its shortest
//! decimal form, which is the decimal the file's authors wrote, then scaled to per-million
//! exactly. See `docs/import-formats.md`.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use time::Date;

use super::file::{json_decimal, parse_value, CatalogFile, ModelEntry};
use super::{CatalogError, PriceSet, RateClass, Rates, Tier};
use crate::provider::Provider;

const PER_TOKEN_FIELDS: [(&str, RateClass); 4] = [
    ("input_cost_per_token", RateClass::Input),
    ("output_cost_per_token", RateClass::Output),
    ("cache_read_input_token_cost", RateClass::CachedInput),
    ("cache_creation_input_token_cost", RateClass::CacheWrite),
];

fn provider_of(litellm_provider: &str) -> Option<Provider> {
    match litellm_provider {
        "openai" => Some(Provider::OpenAi),
        "anthropic" => Some(Provider::Anthropic),
        "groq" => Some(Provider::Groq),
        "gemini" => Some(Provider::Gemini),
        "mistral" => Some(Provider::Mistral),
        _ => None,
    }
}

pub(super) fn parse(
    text: &str,
    source: &str,
    effective: Date,
) -> Result<CatalogFile, CatalogError> {
    let Value::Object(entries) = parse_value(text, source)? else {
        return Err(CatalogError::new(
            source,
            "expected a JSON object of models",
        ));
    };
    let mut models: Vec<ModelEntry> = Vec::new();
    let mut skipped = Vec::new();
    let mut aliases = Vec::new();
    for (key, value) in &entries {
        if key == "sample_spec" {
            continue;
        }
        let Value::Object(fields) = value else {
            return Err(CatalogError::new(source, "expected an object").entry(key));
        };
        if let Some(target) = fields.get("alias_of").and_then(Value::as_str) {
            aliases.push((key, target));
            continue;
        }
        match entry(key, fields, source, effective)? {
            Ok(model) => {
                // The same model under `gemini/x` and a bare `x`: the prefixed key wins.
                let prefixed = key.contains('/');
                match models
                    .iter()
                    .position(|m| m.provider == model.provider && m.id == model.id)
                {
                    Some(i) if prefixed => {
                        skipped.push(format!("{}: duplicate of {key}", models[i].id));
                        models[i] = model;
                    }
                    Some(_) => skipped.push(format!("{key}: duplicate of a prefixed entry")),
                    None => models.push(model),
                }
            }
            Err(reason) => skipped.push(format!("{key}: {reason}")),
        }
    }
    for (alias, target) in aliases {
        let target_entry = entries.get(target).and_then(Value::as_object);
        let target_id = target_entry
            .and_then(|t| t.get("litellm_provider").and_then(Value::as_str))
            .and_then(|p| target.strip_prefix(p).and_then(|r| r.strip_prefix('/')))
            .unwrap_or(target);
        match models.iter_mut().find(|m| m.id == target_id) {
            Some(m) => m.aliases.push(alias.clone()),
            None => skipped.push(format!("{alias}: alias of {target}, which is not imported")),
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

/// The entry as a model, `Ok(Err(reason))` when it is to be skipped, or an error when a field
/// byokit reads is malformed.
fn entry(
    key: &str,
    fields: &Map<String, Value>,
    source: &str,
    effective: Date,
) -> Result<Result<ModelEntry, &'static str>, CatalogError> {
    let err =
        |field: &str, message: String| CatalogError::new(source, message).entry(key).field(field);
    let provider_name = match fields.get("litellm_provider") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(err("litellm_provider", "expected a string".into())),
        None => return Ok(Err("no litellm_provider")),
    };
    let Some(provider) = provider_of(provider_name) else {
        return Ok(Err("not a provider byokit serves"));
    };
    match fields.get("mode").and_then(Value::as_str) {
        None | Some("chat" | "responses") => {}
        Some(_) => return Ok(Err("not a chat model")),
    }

    let mut rates = Rates::default();
    let mut batch = Rates::default();
    let mut tiers: Vec<Tier> = Vec::new();
    for (name, value) in fields {
        let Some(field) = PriceField::parse(name) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let price = per_million(value).map_err(|m| err(name, m))?;
        let target = match field.above_tokens {
            None if field.batch => &mut batch,
            None => &mut rates,
            Some(threshold) => {
                let i = match tiers
                    .iter()
                    .position(|t| t.above_prompt_tokens == threshold)
                {
                    Some(i) => i,
                    None => {
                        tiers.push(Tier {
                            above_prompt_tokens: threshold,
                            rates: Rates::default(),
                            batch: None,
                        });
                        tiers.len() - 1
                    }
                };
                let tier = &mut tiers[i];
                if field.batch {
                    tier.batch.get_or_insert_with(Rates::default)
                } else {
                    &mut tier.rates
                }
            }
        };
        *target.slot(field.class) = Some(price);
    }
    if rates.input.is_none() || rates.output.is_none() {
        return Ok(Err("no input and output price per token"));
    }
    tiers.sort_by_key(|t| t.above_prompt_tokens);

    let tokens = |field: &str| -> Result<Option<u64>, CatalogError> {
        match fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| err(field, format!("expected a token count, found {v}"))),
        }
    };
    let context_window = match tokens("max_input_tokens")? {
        Some(n) => Some(n),
        None => tokens("max_tokens")?,
    };
    let id = key
        .strip_prefix(provider_name)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(key);
    Ok(Ok(ModelEntry {
        provider,
        id: id.to_owned(),
        name: None,
        aliases: Vec::new(),
        context_window,
        max_output_tokens: tokens("max_output_tokens")?,
        deprecated: None,
        prices: vec![PriceSet {
            effective,
            rates,
            batch: (batch != Rates::default()).then_some(batch),
            tiers,
        }],
    }))
}

/// A price field byokit imports:
/// `(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)(_above_<N>k_tokens)?(_batches)?`.
/// Other suffixes (`_priority`, `_flex`, `_above_1hr` cache lifetimes, …) are not token prices
/// of the standard or batch API and are left out.
struct PriceField {
    class: RateClass,
    above_tokens: Option<u64>,
    batch: bool,
}

impl PriceField {
    fn parse(name: &str) -> Option<PriceField> {
        let &(base, class) = PER_TOKEN_FIELDS.iter().find(|(f, _)| name.starts_with(f))?;
        let mut rest = &name[base.len()..];
        let batch = match rest.strip_suffix("_batches") {
            Some(r) => {
                rest = r;
                true
            }
            None => false,
        };
        let above_tokens = match rest {
            "" => None,
            _ => {
                let thousands: u64 = rest
                    .strip_prefix("_above_")?
                    .strip_suffix("k_tokens")?
                    .parse()
                    .ok()?;
                Some(thousands.checked_mul(1000)?)
            }
        };
        Some(PriceField {
            class,
            above_tokens,
            batch,
        })
    }
}

/// A per-token price as USD per million tokens, exactly: the decimal point moves six places.
fn per_million(value: &Value) -> Result<Decimal, String> {
    let per_token = json_decimal(value)?;
    per_token
        .checked_mul(Decimal::from(1_000_000))
        .map(|d| d.normalize())
        .ok_or_else(|| format!("price {per_token} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_token_floats_become_exact_per_million() {
        let v: Value = serde_json::from_str("2.5e-06").unwrap();
        assert_eq!(per_million(&v).unwrap().to_string(), "2.5");
        let v: Value = serde_json::from_str("1.5e-07").unwrap();
        assert_eq!(per_million(&v).unwrap().to_string(), "0.15");
        let v: Value = serde_json::from_str("3.75e-06").unwrap();
        assert_eq!(per_million(&v).unwrap().to_string(), "3.75");
        let v: Value = serde_json::from_str("0").unwrap();
        assert_eq!(per_million(&v).unwrap().to_string(), "0");
        let v: Value = serde_json::from_str("\"abc\"").unwrap();
        assert!(per_million(&v).is_err());
    }

    #[test]
    fn price_fields_are_recognised() {
        let f = |name| PriceField::parse(name).map(|f| (f.class as u8, f.above_tokens, f.batch));
        assert_eq!(
            f("input_cost_per_token"),
            Some((RateClass::Input as u8, None, false))
        );
        assert_eq!(
            f("input_cost_per_token_batches"),
            Some((RateClass::Input as u8, None, true))
        );
        assert_eq!(
            f("input_cost_per_token_above_128k_tokens"),
            Some((RateClass::Input as u8, Some(128_000), false))
        );
        assert_eq!(
            f("cache_read_input_token_cost_above_200k_tokens_batches"),
            Some((RateClass::CachedInput as u8, Some(200_000), true))
        );
        for other in [
            "output_cost_per_reasoning_token",
            "input_cost_per_token_priority",
            "input_cost_per_token_above_200k_tokens_priority",
            "cache_creation_input_token_cost_above_1hr",
            "cache_creation_input_token_cost_above_12hr_above_272k_tokens_batches",
            "input_cost_per_audio_token",
        ] {
            assert!(PriceField::parse(other).is_none(), "{other}");
        }
    }
}
