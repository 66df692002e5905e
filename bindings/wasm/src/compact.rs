//! The compact text forms in which the hot calls (a cost, a reply's usage) return their results:
//! one string of fields that the package's JS (`js/byokit.mjs`) turns into the same object the
//! core's serde form gives, without JSON text or renaming keys on the way. Each form is a fixed
//! number of `|`-terminated fields (ASCII: names, decimal strings, days, counts; `""` for `null`
//! or an absent line), then free text (ids, a reply's text) whose lengths in UTF-16 code units
//! are among the fields, so that no character of it needs escaping.

use byokit_core::{Breakdown, Cost, Date, Decimal, LineItem, Usage};
use serde::Serialize;
use std::fmt::Write;

/// The fixed fields of a form, written into a buffer on the stack with plain copies (at the
/// package's size-first optimisation, `String`'s growing pushes cost more than the figures).
/// Every field is bounded (a decimal takes at most 30 bytes, a count 20, a name or day 16), so
/// the largest form, a cost's 22 fields, takes at most 560 bytes: the buffer never fills, and
/// `put` drops nothing (`the_largest_form_fits` checks it).
struct Fields {
    buf: [u8; 576],
    len: usize,
}

impl Fields {
    fn new() -> Fields {
        Fields {
            buf: [0; 576],
            len: 0,
        }
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        if let Some(to) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            to.copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Ends a field.
    #[inline(always)]
    fn end(&mut self) {
        self.put(b"|");
    }

    /// The fields, then the free text.
    fn finish(&self, free: &[&str]) -> String {
        let fixed = std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default();
        let mut out = String::with_capacity(self.len + free.iter().map(|s| s.len()).sum::<usize>());
        out.push_str(fixed);
        for text in free {
            out.push_str(text);
        }
        out
    }
}

impl Write for Fields {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

/// Writes a unit enum variant by its serde name (`"exact"`, `"tool_calls"`), so that the names
/// stay the core's.
fn variant(out: &mut Fields, v: &impl Serialize) {
    let mut name = [0u8; 32];
    let mut rest = &mut name[..];
    // A unit variant serializes as a JSON string that needs no escaping.
    if serde_json::to_writer(&mut rest, v).is_ok() {
        let len = 32 - rest.len();
        if len >= 2 {
            out.put(&name[1..len - 1]);
        }
    }
    out.end();
}

/// A value written as its `Display` form writes it, without the formatting machinery for the
/// common cases (a call's figures are written by the thousand).
trait Field {
    fn write(&self, out: &mut Fields);
}

/// The decimal digits of `n`, at the end of `buf`.
fn digits(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

impl Field for u64 {
    fn write(&self, out: &mut Fields) {
        out.put(digits(*self, &mut [0; 20]));
    }
}

impl Field for usize {
    fn write(&self, out: &mut Fields) {
        (*self as u64).write(out);
    }
}

const ZEROS: &[u8; 28] = b"0000000000000000000000000000";

/// As `rust_decimal` displays it: every digit of the scale, trailing zeros included (`2.50`),
/// `0.` before a fraction.
impl Field for Decimal {
    fn write(&self, out: &mut Fields) {
        let mantissa = match u64::try_from(self.mantissa()) {
            Ok(m) if !self.is_sign_negative() => m,
            _ => {
                let _ = write!(out, "{self}");
                return;
            }
        };
        let scale = self.scale() as usize; // at most 28
        let mut buf = [0; 20];
        let digits = if mantissa == 0 {
            &[][..]
        } else {
            digits(mantissa, &mut buf)
        };
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            out.put(whole);
            if scale > 0 {
                out.put(b".");
                out.put(fraction);
            }
        } else {
            out.put(b"0");
            if scale > 0 {
                out.put(b".");
                out.put(&ZEROS[..scale - digits.len()]);
                out.put(digits);
            }
        }
    }
}

/// `YYYY-MM-DD`.
impl Field for Date {
    fn write(&self, out: &mut Fields) {
        let (year, month, day) = (self.year(), u8::from(self.month()), self.day());
        if !(0..=9999).contains(&year) {
            let _ = write!(out, "{self}");
            return;
        }
        let mut buf = [0; 20];
        let y = digits(year as u64, &mut buf);
        out.put(&ZEROS[..4 - y.len()]);
        out.put(y);
        for part in [month, day] {
            out.put(&[b'-', b'0' + part / 10, b'0' + part % 10]);
        }
    }
}

/// Writes a value, or `""` for `None`.
fn field(out: &mut Fields, v: Option<impl Field>) {
    if let Some(v) = v {
        v.write(out);
    }
    out.end();
}

fn flag(out: &mut Fields, v: bool) {
    out.put(if v { b"1|" } else { b"0|" });
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
    let mut out = Fields::new();
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
    out.finish(&[c.model, c.catalog_version])
}

fn line_item(out: &mut Fields, line: Option<&LineItem>) {
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
    let mut out = Fields::new();
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
        None => out.end(),
    }
    field(&mut out, Some(js_len(model)));
    out.finish(&[model, text])
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
    fn figures_are_written_as_their_display_forms() {
        let mut decimals = vec![
            Decimal::ZERO,
            Decimal::MAX,
            Decimal::MIN,
            Decimal::NEGATIVE_ONE,
        ];
        for mantissa in [
            0i64,
            1,
            5,
            9,
            10,
            25,
            250,
            608,
            1_000_000,
            123_456_789,
            i64::MAX,
        ] {
            for scale in [0, 1, 2, 5, 6, 9, 12, 19, 20, 28] {
                decimals.push(Decimal::new(mantissa, scale));
                decimals.push(Decimal::new(-mantissa, scale));
            }
        }
        decimals.push(Decimal::from_i128_with_scale(u64::MAX as i128 + 1, 3));
        decimals.push(-Decimal::ZERO);
        let written = |v: &dyn Field| {
            let mut out = Fields::new();
            v.write(&mut out);
            out.finish(&[])
        };
        for d in decimals {
            assert_eq!(written(&d), d.to_string(), "{d:?}");
        }
        for n in [0u64, 7, 10, 99, 1_000_000, u64::MAX] {
            assert_eq!(written(&n), n.to_string());
        }
        for (y, m, d) in [
            (2024, 10, 2),
            (1, 1, 1),
            (0, 12, 31),
            (999, 3, 9),
            (9999, 12, 31),
        ] {
            let date = Date::from_calendar_date(y, time::Month::try_from(m).expect("a month"), d)
                .expect("a day");
            assert_eq!(written(&date), date.to_string());
        }
    }

    #[test]
    fn the_largest_form_fits() {
        let line = LineItem {
            tokens: u64::MAX,
            usd_per_million: Some(Decimal::MIN),
            cost_usd: Some(Decimal::new(1, 28)),
        };
        let cost = Cost {
            provider: Provider::Anthropic,
            model: "m",
            cost_usd: Some(Decimal::MIN),
            breakdown: Breakdown {
                input: Some(line),
                cached_input: Some(line),
                cache_write: Some(line),
                output: Some(line),
                reasoning: Some(line),
            },
            status: byokit_core::CostStatus::Unpriced,
            catalog_version: "v",
            price_effective: Some(Date::MIN),
            tier_above_prompt_tokens: Some(u64::MAX),
            batch: true,
        };
        let text = super::cost(&cost);
        assert_eq!(text.matches('|').count(), 22, "{text}");
        assert!(text.len() <= 560, "{} bytes", text.len());
        assert!(text.ends_with("|1|mv"), "{text}");
    }

    #[test]
    fn free_text_lengths_count_utf16_units() {
        let text = response_usage(&Usage::default(), 0, None, "modèle-😀", "x");
        assert!(text.starts_with("0|0|0|0|0|0|0||9|modèle-😀x"), "{text}");
    }
}
