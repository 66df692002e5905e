//! Exact costs: token counts, as a provider reports them, to USD with a breakdown per class.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalog::{Catalog, Model, Rates, UnknownModel};
use crate::provider::Provider;

/// Token usage of one call, *exactly as the provider reports it*.
///
/// What each field means depends on the provider (see
/// [`UsageSemantics`](crate::UsageSemantics)): OpenAI's `input_tokens` (`prompt_tokens`)
/// already include the cached tokens, Anthropic's do not. byokit turns these into billable counts
/// without billing any token twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "TokenUsage")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// Input (prompt) tokens as reported.
    pub input_tokens: u64,
    /// Output (completion) tokens as reported.
    pub output_tokens: u64,
    /// Cached input tokens read from the prompt cache.
    pub cached_input_tokens: u64,
    /// Tokens written to the prompt cache (Anthropic).
    pub cache_write_tokens: u64,
    /// Reasoning (thinking) tokens.
    pub reasoning_tokens: u64,
    /// Some of these counts are estimates, not the provider's report.
    pub estimated: bool,
}

/// The billable token classes. Reasoning tokens are billed at the output price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenClass {
    /// Uncached input.
    Input,
    /// Input read from the prompt cache.
    CachedInput,
    /// Input written to the prompt cache.
    CacheWrite,
    /// Output other than reasoning.
    Output,
    /// Reasoning (thinking) output.
    Reasoning,
}

impl TokenClass {
    /// The class's snake_case name, as used in JSON and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenClass::Input => "input",
            TokenClass::CachedInput => "cached_input",
            TokenClass::CacheWrite => "cache_write",
            TokenClass::Output => "output",
            TokenClass::Reasoning => "reasoning",
        }
    }

    /// The price of this class in `rates`.
    pub fn rate(self, rates: &Rates) -> Option<Decimal> {
        match self {
            TokenClass::Input => rates.input,
            TokenClass::CachedInput => rates.cached_input,
            TokenClass::CacheWrite => rates.cache_write,
            TokenClass::Output | TokenClass::Reasoning => rates.output,
        }
    }
}

/// Billable tokens per class, disjoint: each token counted in exactly one class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BillableTokens {
    /// Uncached input.
    pub input: u64,
    /// Cache reads.
    pub cached_input: u64,
    /// Cache writes.
    pub cache_write: u64,
    /// Output other than reasoning.
    pub output: u64,
    /// Reasoning output.
    pub reasoning: u64,
}

impl BillableTokens {
    /// Splits a provider's usage report into disjoint billable classes, by the provider's
    /// [`UsageSemantics`](crate::UsageSemantics). Fails when the report contradicts them
    /// (more cached than input tokens where input includes the cached ones, a cache-write count
    /// from a provider that reports none).
    pub fn from_usage(provider: Provider, usage: &Usage) -> Result<BillableTokens, CostError> {
        let s = provider.usage_semantics();
        let invalid = |message: String| CostError::InvalidUsage { provider, message };
        let input = if s.cached_included_in_input {
            usage.input_tokens.checked_sub(usage.cached_input_tokens).ok_or_else(|| {
                invalid(format!(
                    "cached input tokens ({}) exceed input tokens ({}); {provider} counts cached tokens as part of input",
                    usage.cached_input_tokens, usage.input_tokens
                ))
            })?
        } else {
            usage.input_tokens
        };
        if usage.cache_write_tokens > 0 && !s.reports_cache_writes {
            return Err(invalid(format!(
                "{provider} does not bill cache writes separately; cache-write tokens ({}) are part of its input",
                usage.cache_write_tokens
            )));
        }
        let output = if s.reasoning_included_in_output {
            usage.output_tokens.checked_sub(usage.reasoning_tokens).ok_or_else(|| {
                invalid(format!(
                    "reasoning tokens ({}) exceed output tokens ({}); {provider} counts reasoning tokens as part of output",
                    usage.reasoning_tokens, usage.output_tokens
                ))
            })?
        } else {
            usage.output_tokens
        };
        Ok(BillableTokens {
            input,
            cached_input: usage.cached_input_tokens,
            cache_write: usage.cache_write_tokens,
            output,
            reasoning: usage.reasoning_tokens,
        })
    }

    /// [`BillableTokens::from_usage`] for counting rather than billing: never fails. A report
    /// that contradicts the provider's semantics is clamped (more cached than input tokens where
    /// input includes the cached ones: the cached ones are the whole input), so that totals count
    /// every call.
    pub fn clamped(provider: Provider, usage: &Usage) -> BillableTokens {
        let s = provider.usage_semantics();
        let (input, cached_input, cache_write) = if s.cached_included_in_input {
            let cached = usage.cached_input_tokens.min(usage.input_tokens);
            // Where input includes the cached tokens, it includes any cache write too.
            (usage.input_tokens - cached, cached, 0)
        } else {
            (
                usage.input_tokens,
                usage.cached_input_tokens,
                usage.cache_write_tokens,
            )
        };
        let (output, reasoning) = if s.reasoning_included_in_output {
            let reasoning = usage.reasoning_tokens.min(usage.output_tokens);
            (usage.output_tokens - reasoning, reasoning)
        } else {
            (usage.output_tokens, usage.reasoning_tokens)
        };
        BillableTokens {
            input,
            cached_input,
            cache_write,
            output,
            reasoning,
        }
    }

    /// The usage report `provider` would give for these tokens.
    pub fn to_usage(&self, provider: Provider) -> Usage {
        let s = provider.usage_semantics();
        Usage {
            input_tokens: if s.cached_included_in_input {
                self.prompt_tokens()
            } else {
                self.input
            },
            cached_input_tokens: self.cached_input,
            cache_write_tokens: if s.cached_included_in_input {
                0
            } else {
                self.cache_write
            },
            output_tokens: if s.reasoning_included_in_output {
                self.output_tokens()
            } else {
                self.output
            },
            reasoning_tokens: self.reasoning,
            ..Usage::default()
        }
    }

    /// Every output-side token, reasoning included.
    pub fn output_tokens(&self) -> u64 {
        self.output.saturating_add(self.reasoning)
    }

    /// The size of the prompt: every input-side token, cached or not. Price tiers are chosen by it.
    pub fn prompt_tokens(&self) -> u64 {
        self.input
            .saturating_add(self.cached_input)
            .saturating_add(self.cache_write)
    }

    /// Every billed token, input and output.
    pub fn total(&self) -> u64 {
        self.prompt_tokens()
            .saturating_add(self.output)
            .saturating_add(self.reasoning)
    }

    fn get(&self, class: TokenClass) -> u64 {
        match class {
            TokenClass::Input => self.input,
            TokenClass::CachedInput => self.cached_input,
            TokenClass::CacheWrite => self.cache_write,
            TokenClass::Output => self.output,
            TokenClass::Reasoning => self.reasoning,
        }
    }
}

/// How a call is priced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CostOptions {
    /// Price with the Batch API prices.
    pub batch: bool,
    /// Price with the prices in force on this day (UTC); `None` for the latest prices.
    pub at: Option<Date>,
}

/// An amount in USD written as a decimal string (`"12.50"`), read exactly: spaces around it are
/// ignored, and more digits than a [`Decimal`] holds are refused, never rounded.
pub fn parse_usd(text: &str) -> Option<Decimal> {
    Decimal::from_str_exact(text.trim()).ok()
}

/// Reads an amount in USD by the rule of [`parse_usd`], for `#[serde(deserialize_with = …)]`: a
/// decimal string, or a JSON number (an integer exactly; a fraction by its shortest decimal form,
/// which is what was written).
pub(crate) fn deserialize_usd<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Decimal, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};
    struct Usd;
    impl Visitor<'_> for Usd {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an amount in USD as a decimal string such as \"12.50\"")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Decimal, E> {
            parse_usd(v).ok_or_else(|| E::invalid_value(Unexpected::Str(v), &self))
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: Error>(self, v: f64) -> Result<Decimal, E> {
            parse_usd(&v.to_string()).ok_or_else(|| E::invalid_value(Unexpected::Float(v), &self))
        }
    }
    deserializer.deserialize_any(Usd)
}

/// Whether a cost can be trusted to the last digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CostStatus {
    /// Exact: the provider's own counts times the catalog's prices.
    Exact,
    /// Computed exactly, but from token counts of which some were estimated.
    Estimated,
    /// Not known: the model, or a token class the call used, has no price. Never a silent zero.
    Unpriced,
}

impl CostStatus {
    /// The snake_case name, as serialized: `exact`, `estimated` or `unpriced`.
    pub fn as_str(self) -> &'static str {
        match self {
            CostStatus::Exact => "exact",
            CostStatus::Estimated => "estimated",
            CostStatus::Unpriced => "unpriced",
        }
    }
}

from_as_str!(
    CostStatus,
    "cost status",
    [
        CostStatus::Exact,
        CostStatus::Estimated,
        CostStatus::Unpriced
    ]
);

/// One line of a cost breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct LineItem {
    /// Billable tokens of this class.
    pub tokens: u64,
    /// The price applied, USD per million tokens; `None` when the catalog has none.
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub usd_per_million: Option<Decimal>,
    /// `tokens × usd_per_million / 1,000,000`, exactly; `None` when unpriced.
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub cost_usd: Option<Decimal>,
}

/// A cost broken down per token class; classes with no tokens are absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Breakdown {
    /// Uncached input.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub input: Option<LineItem>,
    /// Cache reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub cached_input: Option<LineItem>,
    /// Cache writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub cache_write: Option<LineItem>,
    /// Output other than reasoning.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub output: Option<LineItem>,
    /// Reasoning output.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reasoning: Option<LineItem>,
}

impl Breakdown {
    /// The lines present, with their classes, in a stable order.
    pub fn lines(&self) -> impl Iterator<Item = (TokenClass, &LineItem)> {
        [
            (TokenClass::Input, &self.input),
            (TokenClass::CachedInput, &self.cached_input),
            (TokenClass::CacheWrite, &self.cache_write),
            (TokenClass::Output, &self.output),
            (TokenClass::Reasoning, &self.reasoning),
        ]
        .into_iter()
        .filter_map(|(class, line)| line.as_ref().map(|l| (class, l)))
    }

    fn slot(&mut self, class: TokenClass) -> &mut Option<LineItem> {
        match class {
            TokenClass::Input => &mut self.input,
            TokenClass::CachedInput => &mut self.cached_input,
            TokenClass::CacheWrite => &mut self.cache_write,
            TokenClass::Output => &mut self.output,
            TokenClass::Reasoning => &mut self.reasoning,
        }
    }
}

/// The cost of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "CostEstimate")
)]
pub struct Cost<'a> {
    /// The provider.
    pub provider: Provider,
    /// The model's canonical id (an alias resolved).
    pub model: &'a str,
    /// The total in USD, exact; `None` when [`CostStatus::Unpriced`].
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub cost_usd: Option<Decimal>,
    /// The cost per token class; the priced lines add up to `cost_usd` to the last digit.
    pub breakdown: Breakdown,
    /// Whether the figure is exact, estimated or unknown.
    pub status: CostStatus,
    /// The version of the catalog the prices came from.
    pub catalog_version: &'a str,
    /// The effective date of the price set applied.
    #[cfg_attr(feature = "ts", ts(type = "Day | null"))]
    #[serde(with = "crate::day::option")]
    pub price_effective: Option<Date>,
    /// The prompt-size threshold of the long-prompt tier applied, if one was.
    pub tier_above_prompt_tokens: Option<u64>,
    /// Whether Batch API prices were applied.
    pub batch: bool,
}

/// A usage report that cannot be priced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The model is not in the catalog.
    #[error(transparent)]
    UnknownModel(#[from] UnknownModel),
    /// The token counts contradict how the provider reports usage.
    #[error("invalid usage for {provider}: {message}")]
    InvalidUsage {
        /// The provider whose semantics were violated.
        provider: Provider,
        /// What is inconsistent.
        message: String,
    },
    /// Batch prices were asked for a model that has none.
    #[error("{provider}/{model} has no Batch API prices")]
    NoBatchPrice {
        /// The provider.
        provider: Provider,
        /// The model id.
        model: String,
    },
    /// The figures exceed what an exact decimal can hold (28 significant digits, at most 28
    /// after the point): absurd token counts or prices.
    #[error("the cost cannot be computed exactly: too many digits")]
    Overflow,
}

/// An exact, non-negative decimal `mantissa × 10^-scale` in 128 bits: the arithmetic of one
/// cost is done in this form (prices are never negative), then turned into a `Decimal` once per
/// figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fixed {
    mantissa: u128,
    scale: u32,
}

/// Powers of ten that fit a u128 (10^0 ..= 10^38).
const POW10: [u128; 39] = {
    let mut table = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

impl Fixed {
    const ZERO: Fixed = Fixed {
        mantissa: 0,
        scale: 0,
    };

    /// `tokens × usd_per_million / 10⁶`, exactly: a product and a shift of the decimal point.
    fn line(tokens: u64, usd_per_million: Decimal) -> Result<Fixed, CostError> {
        let price = usd_per_million.mantissa().unsigned_abs();
        let mantissa = match u64::try_from(price) {
            // The common case: one widening multiplication, which cannot overflow.
            Ok(p) => u128::from(tokens) * u128::from(p),
            Err(_) => u128::from(tokens)
                .checked_mul(price)
                .ok_or(CostError::Overflow)?,
        };
        Ok(Fixed {
            mantissa,
            scale: usd_per_million.scale() + 6,
        })
    }

    fn checked_add(self, other: Fixed) -> Result<Fixed, CostError> {
        let (a, b) = match self.scale.cmp(&other.scale) {
            std::cmp::Ordering::Equal => (self, other),
            std::cmp::Ordering::Less => (self.rescale(other.scale)?, other),
            std::cmp::Ordering::Greater => (self, other.rescale(self.scale)?),
        };
        Ok(Fixed {
            mantissa: a
                .mantissa
                .checked_add(b.mantissa)
                .ok_or(CostError::Overflow)?,
            scale: a.scale,
        })
    }

    /// The same number with a larger scale.
    fn rescale(self, scale: u32) -> Result<Fixed, CostError> {
        let factor = POW10
            .get((scale - self.scale) as usize)
            .ok_or(CostError::Overflow)?;
        Ok(Fixed {
            mantissa: self
                .mantissa
                .checked_mul(*factor)
                .ok_or(CostError::Overflow)?,
            scale,
        })
    }

    /// The same number as a `Decimal`, without trailing zeros (`0.0060800` → `0.00608`).
    fn to_decimal(self) -> Result<Decimal, CostError> {
        let Fixed {
            mut mantissa,
            mut scale,
        } = self;
        if mantissa == 0 {
            return Ok(Decimal::ZERO);
        }
        // Costs nearly always fit 64 bits, where division by a constant is a multiplication.
        if let Ok(mut m) = u64::try_from(mantissa) {
            while scale >= 4 && m % 10_000 == 0 {
                m /= 10_000;
                scale -= 4;
            }
            while scale > 0 && m % 10 == 0 {
                m /= 10;
                scale -= 1;
            }
            mantissa = u128::from(m);
        } else {
            while scale > 0 && mantissa % 10 == 0 {
                mantissa /= 10;
                scale -= 1;
            }
        }
        let mantissa = i128::try_from(mantissa).map_err(|_| CostError::Overflow)?;
        Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| CostError::Overflow)
    }
}

impl Model {
    /// The cost of a call to this model. `catalog_version` is recorded in the result.
    #[inline]
    pub fn cost<'a>(
        &'a self,
        catalog_version: &'a str,
        usage: &Usage,
        options: &CostOptions,
    ) -> Result<Cost<'a>, CostError> {
        let tokens = BillableTokens::from_usage(self.provider, usage)?;
        let price = self.price_at(options.at);
        let tier = price.and_then(|p| p.tier_for(tokens.prompt_tokens()));
        let rates: Option<&Rates> = match (price, tier, options.batch) {
            (None, _, _) => None,
            (Some(p), None, false) => Some(&p.rates),
            (Some(_), Some(t), false) => Some(&t.rates),
            (Some(p), None, true) => Some(p.batch.as_ref().ok_or_else(|| self.no_batch())?),
            (Some(p), Some(t), true) => {
                // No batch API at all is an error; in a catalog a tier always has batch rates
                // when its price set does (see `Tier`), otherwise the call is unpriced.
                p.batch.as_ref().ok_or_else(|| self.no_batch())?;
                t.batch.as_ref()
            }
        };

        // Built in place: the result is a few hundred bytes, and copies of it are most of the
        // cost of this function otherwise.
        let mut cost = Cost {
            provider: self.provider,
            model: &self.id,
            cost_usd: None,
            breakdown: Breakdown::default(),
            status: CostStatus::Unpriced,
            catalog_version,
            price_effective: price.map(|p| p.effective),
            tier_above_prompt_tokens: tier.map(|t| t.above_prompt_tokens),
            batch: options.batch,
        };
        let mut total = Fixed::ZERO;
        let mut priced = rates.is_some();
        for class in [
            TokenClass::Input,
            TokenClass::CachedInput,
            TokenClass::CacheWrite,
            TokenClass::Output,
            TokenClass::Reasoning,
        ] {
            let n = tokens.get(class);
            if n == 0 {
                continue;
            }
            let rate = rates.and_then(|r| class.rate(r));
            let line_usd = match rate {
                Some(rate) => {
                    let line = Fixed::line(n, rate)?;
                    total = total.checked_add(line)?;
                    Some(line.to_decimal()?)
                }
                None => {
                    priced = false;
                    None
                }
            };
            *cost.breakdown.slot(class) = Some(LineItem {
                tokens: n,
                usd_per_million: rate,
                cost_usd: line_usd,
            });
        }
        if priced {
            cost.cost_usd = Some(total.to_decimal()?);
            cost.status = if usage.estimated {
                CostStatus::Estimated
            } else {
                CostStatus::Exact
            };
        }
        Ok(cost)
    }

    fn no_batch(&self) -> CostError {
        CostError::NoBatchPrice {
            provider: self.provider,
            model: self.id.clone(),
        }
    }
}

impl Catalog {
    /// The cost of a call: looks the model up by id or alias and prices `usage` with it.
    ///
    /// ```
    /// use byokit_core::{Catalog, CostOptions, Provider, Usage};
    ///
    /// let usage = Usage { input_tokens: 2000, cached_input_tokens: 1536, output_tokens: 300, ..Usage::default() };
    /// let cost = Catalog::embedded().cost(Provider::OpenAi, "gpt-4o", &usage, &CostOptions::default())?;
    /// assert_eq!(cost.cost_usd.unwrap().to_string(), "0.00608");
    /// # Ok::<(), byokit_core::CostError>(())
    /// ```
    #[inline]
    pub fn cost(
        &self,
        provider: Provider,
        model: &str,
        usage: &Usage,
        options: &CostOptions,
    ) -> Result<Cost<'_>, CostError> {
        self.model(provider, model)?
            .cost(self.version(), usage, options)
    }

    /// What a recorded call costs: priced with the prices in force on `day`, the day it was
    /// made; a model the catalog does not know (or contradictory usage) is unpriced, never 0.
    pub fn recorded_cost(
        &self,
        provider: Provider,
        model: &str,
        usage: &Usage,
        day: time::Date,
    ) -> (Option<Decimal>, CostStatus) {
        let options = CostOptions {
            batch: false,
            at: Some(day),
        };
        match self.cost(provider, model, usage, &options) {
            Ok(c) => (c.cost_usd, c.status),
            Err(_) => (None, CostStatus::Unpriced),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_call_is_priced_on_its_day_and_an_unknown_model_is_unpriced() {
        let catalog = Catalog::embedded();
        let usage = Usage {
            input_tokens: 2_000,
            cached_input_tokens: 1_536,
            output_tokens: 300,
            ..Usage::default()
        };
        let day = time::macros::date!(2026 - 11 - 28);
        assert_eq!(
            catalog.recorded_cost(Provider::OpenAi, "gpt-4o", &usage, day),
            (Some(dec("0.00608")), CostStatus::Exact)
        );
        assert_eq!(
            catalog.recorded_cost(Provider::OpenAi, "my-finetune", &usage, day),
            (None, CostStatus::Unpriced)
        );
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn fixed(s: &str) -> Fixed {
        let d = dec(s);
        Fixed {
            mantissa: d.mantissa().unsigned_abs(),
            scale: d.scale(),
        }
    }

    #[test]
    fn to_decimal_drops_trailing_zeros_only() {
        for (input, want) in [
            ("0.00608000", "0.00608"),
            ("12.50", "12.5"),
            ("100", "100"),
            ("0.000", "0"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "7922816251426433759354395.0000",
                "7922816251426433759354395",
            ),
        ] {
            let d = fixed(input).to_decimal().unwrap();
            assert_eq!(d.to_string(), want);
            assert_eq!(d, dec(input));
        }
        // Beyond 96 bits of mantissa, or 28 decimals, a Decimal cannot hold it exactly.
        let huge = Fixed {
            mantissa: u128::MAX,
            scale: 0,
        };
        assert_eq!(huge.to_decimal(), Err(CostError::Overflow));
        let tiny = Fixed {
            mantissa: 1,
            scale: 29,
        };
        assert_eq!(tiny.to_decimal(), Err(CostError::Overflow));
    }

    #[test]
    fn line_shifts_the_decimal_point_exactly() {
        let line = |t, p| Fixed::line(t, dec(p)).unwrap().to_decimal().unwrap();
        assert_eq!(line(464, "2.50"), dec("0.00116"));
        assert_eq!(line(1, "0.075"), dec("0.000000075"));
        assert_eq!(line(0, "3"), Decimal::ZERO);
        assert_eq!(line(u64::MAX, "1000"), dec("18446744073709551.615"));
    }

    #[test]
    fn sums_across_scales_are_exact() {
        let sum = fixed("0.00116").checked_add(fixed("0.0019200")).unwrap();
        let sum = sum.checked_add(fixed("0.003")).unwrap();
        assert_eq!(sum.to_decimal().unwrap().to_string(), "0.00608");
        assert_eq!(
            fixed("4")
                .checked_add(Fixed {
                    mantissa: 1,
                    scale: 38
                })
                .map(|_| ()),
            Err(CostError::Overflow)
        );
    }
}

#[cfg(test)]
mod clamped_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Where a report fits its provider's semantics, counting splits it as billing does, and
        /// the split turns back into the same report; where it does not, counting still gives
        /// every token a class and never fails.
        #[test]
        fn counting_and_billing_split_a_report_alike(
            p in 0usize..5,
            input in 0u64..1_000_000,
            cached in 0u64..1_000_000,
            cache_write in 0u64..1_000_000,
            output in 0u64..1_000_000,
            reasoning in 0u64..1_000_000,
        ) {
            let provider = Provider::ALL[p];
            let usage = Usage {
                input_tokens: input,
                cached_input_tokens: cached,
                cache_write_tokens: cache_write,
                output_tokens: output,
                reasoning_tokens: reasoning,
                ..Usage::default()
            };
            let counted = BillableTokens::clamped(provider, &usage);
            match BillableTokens::from_usage(provider, &usage) {
                Ok(billed) => {
                    prop_assert_eq!(counted, billed);
                    prop_assert_eq!(counted.to_usage(provider), usage);
                }
                Err(_) => prop_assert!(counted.prompt_tokens() <= input + cached + cache_write),
            }
        }
    }
}
