//! The compact text forms in which the hot calls (a cost, a reply's usage) return their results:
//! one string of fields that the package's JS (`js/byokit.mjs`) turns into the same object the
//! core's serde form gives, without JSON text or renaming keys on the way. Each form is a fixed
//! number of `|`-terminated fields (ASCII: names, decimal strings, days, counts; `""` for `null`
//! or an absent line), then free text (ids, a reply's text) whose lengths in UTF-16 code units
//! are among the fields, so that no character of it needs escaping.

use byokit_core::{Breakdown, Cost, LineItem, Usage};
use serde::Serialize;
use std::fmt::Write;

/// The field separator.
const END: char = '|';

/// Writes a unit enum variant by its serde name (`"exact"`, `"tool_calls"`), so that the names
/// stay the core's.
fn variant(out: &mut String, v: &impl Serialize) {
    let mut name = Vec::new();
    // A unit variant serializes as a JSON string that needs no escaping.
    if serde_json::to_writer(&mut name, v).is_ok() {
        out.push_str(std::str::from_utf8(&name).unwrap_or("").trim_matches('"'));
    }
    out.push(END);
}

/// Writes a value by its `Display` form (decimals, counts, days), or `""` for `None`.
fn field(out: &mut String, v: Option<impl std::fmt::Display>) {
    if let Some(v) = v {
        let _ = write!(out, "{v}");
    }
    out.push(END);
}

fn flag(out: &mut String, v: bool) {
    out.push(if v { '1' } else { '0' });
    out.push(END);
}

/// The length of `s` in UTF-16 code units, as JS counts string lengths.
fn js_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// A cost: provider, status, costUsd, priceEffective, tierAbovePromptTokens, batch; then for
/// each line of the breakdown in the core's order (input, cachedInput, cacheWrite, output,
/// reasoning) its tokens, usdPerMillion and costUsd (tokens `""` when the line is absent); then
/// the model id's length; then the model id and the catalog version.
pub fn cost(c: &Cost<'_>) -> String {
    let mut out = String::with_capacity(128);
    variant(&mut out, &c.provider);
    variant(&mut out, &c.status);
    field(&mut out, c.cost_usd);
    field(&mut out, c.price_effective);
    field(&mut out, c.tier_above_prompt_tokens);
    flag(&mut out, c.batch);
    let Breakdown {
        input,
        cached_input,
        cache_write,
        output,
        reasoning,
    } = &c.breakdown;
    for line in [input, cached_input, cache_write, output, reasoning] {
        line_item(&mut out, line.as_ref());
    }
    field(&mut out, Some(js_len(c.model)));
    out.push_str(c.model);
    out.push_str(c.catalog_version);
    out
}

fn line_item(out: &mut String, line: Option<&LineItem>) {
    field(out, line.map(|l| l.tokens));
    field(out, line.and_then(|l| l.usd_per_million));
    field(out, line.and_then(|l| l.cost_usd));
}

/// A reply's usage: inputTokens, outputTokens, cachedInputTokens, cacheWriteTokens,
/// reasoningTokens, estimated, totalTokens, finishReason; then the model's length; then the
/// model and the text.
pub fn response_usage(
    usage: &Usage,
    total_tokens: u64,
    finish_reason: Option<byokit_core::FinishReason>,
    model: &str,
    text: &str,
) -> String {
    let mut out = String::with_capacity(64 + model.len() + text.len());
    let Usage {
        input_tokens,
        output_tokens,
        cached_input_tokens,
        cache_write_tokens,
        reasoning_tokens,
        estimated,
    } = *usage;
    for n in [
        input_tokens,
        output_tokens,
        cached_input_tokens,
        cache_write_tokens,
        reasoning_tokens,
    ] {
        field(&mut out, Some(n));
    }
    flag(&mut out, estimated);
    field(&mut out, Some(total_tokens));
    match finish_reason {
        Some(reason) => variant(&mut out, &reason),
        None => out.push(END),
    }
    field(&mut out, Some(js_len(model)));
    out.push_str(model);
    out.push_str(text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use byokit_core::{Catalog, CostOptions, Provider};

    /// The keys of a serialized value, sorted.
    fn keys(v: impl Serialize) -> Vec<String> {
        let mut keys: Vec<String> = serde_json::to_value(v)
            .expect("serializes")
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    /// The fields the compact form carries, against the keys of the core's serde form: a field
    /// added to `Cost`, `Breakdown`, `LineItem` or `Usage` fails here until the form (and the
    /// JS that reads it) carries it.
    #[test]
    fn the_compact_forms_carry_every_field_of_the_serde_forms() {
        let usage = Usage {
            input_tokens: 300_000,
            output_tokens: 300,
            cached_input_tokens: 1536,
            ..Usage::default()
        };
        let cost = Catalog::embedded()
            .cost(Provider::OpenAi, "gpt-4o", &usage, &CostOptions::default())
            .expect("priced");
        assert_eq!(
            keys(cost),
            [
                "batch",
                "breakdown",
                "catalog_version",
                "cost_usd",
                "model",
                "price_effective",
                "provider",
                "status",
                "tier_above_prompt_tokens",
            ]
        );
        let line = LineItem {
            tokens: 1,
            usd_per_million: None,
            cost_usd: None,
        };
        assert_eq!(keys(line), ["cost_usd", "tokens", "usd_per_million"]);
        let every_line = Breakdown {
            input: Some(line),
            cached_input: Some(line),
            cache_write: Some(line),
            output: Some(line),
            reasoning: Some(line),
        };
        assert_eq!(
            keys(every_line),
            [
                "cache_write",
                "cached_input",
                "input",
                "output",
                "reasoning"
            ]
        );
        assert_eq!(
            keys(usage),
            [
                "cache_write_tokens",
                "cached_input_tokens",
                "estimated",
                "input_tokens",
                "output_tokens",
                "reasoning_tokens",
            ]
        );
    }

    #[test]
    fn a_cost_is_written_field_by_field_with_free_text_last() {
        let usage = Usage {
            input_tokens: 2000,
            output_tokens: 300,
            cached_input_tokens: 1536,
            ..Usage::default()
        };
        let catalog = Catalog::embedded();
        let cost = catalog
            .cost(Provider::OpenAi, "gpt-4o", &usage, &CostOptions::default())
            .expect("priced");
        let text = super::cost(&cost);
        assert_eq!(
            text,
            format!(
                "openai|exact|0.00608|{}||0|464|2.5|0.00116|1536|1.25|0.00192||||300|10|0.003||||6|gpt-4o{}",
                cost.price_effective.map(|d| d.to_string()).unwrap_or_default(),
                catalog.version()
            )
        );
    }

    #[test]
    fn free_text_lengths_count_utf16_units() {
        let text = response_usage(&Usage::default(), 0, None, "modèle-😀", "x");
        assert!(text.starts_with("0|0|0|0|0|0|0||9|modèle-😀x"), "{text}");
    }
}
