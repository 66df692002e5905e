//! Properties of the cost engine over every model of the default catalog.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::{
    BillableTokens, Catalog, CostOptions, CostStatus, Decimal, Model, Provider, TokenClass, Usage,
};
use proptest::prelude::*;

fn models() -> Vec<&'static Model> {
    Catalog::embedded().models(None).collect()
}

/// A usage report that is valid for the provider: counts that include others are at least as big.
fn valid_usage(provider: Provider, max: u64) -> impl Strategy<Value = Usage> {
    (0..=max, 0..=max, 0..=max, 0..=max, 0..=max).prop_map(move |(a, b, c, e, f)| {
        let s = provider.usage_semantics();
        Usage {
            input_tokens: if s.cached_included_in_input { a + b } else { a },
            cached_input_tokens: b,
            cache_write_tokens: if s.reports_cache_writes { c } else { 0 },
            output_tokens: if s.reasoning_included_in_output {
                e + f
            } else {
                e
            },
            reasoning_tokens: f,
            estimated: false,
        }
    })
}

fn model_and_usage(max: u64) -> impl Strategy<Value = (&'static Model, Usage)> {
    let all = models();
    (0..all.len()).prop_flat_map(move |i| {
        let m = all[i];
        (Just(m), valid_usage(m.provider, max))
    })
}

fn model_and_two_usages(max: u64) -> impl Strategy<Value = (&'static Model, Usage, Usage)> {
    let all = models();
    (0..all.len()).prop_flat_map(move |i| {
        let m = all[i];
        (
            Just(m),
            valid_usage(m.provider, max),
            valid_usage(m.provider, max),
        )
    })
}

/// The smallest prompt size above which any model of the default catalog charges a tier price.
fn smallest_tier() -> u64 {
    models()
        .iter()
        .flat_map(|m| &m.prices)
        .flat_map(|p| &p.tiers)
        .map(|t| t.above_prompt_tokens)
        .min()
        .unwrap_or(u64::MAX)
}

/// The largest draw per token class for which two usages added together stay at or below every
/// tier threshold: a usage's prompt is three draws (uncached input, cached read, cache write).
fn below_every_tier() -> u64 {
    smallest_tier() / (2 * 3)
}

fn add(a: &Usage, b: &Usage) -> Usage {
    Usage {
        input_tokens: a.input_tokens + b.input_tokens,
        output_tokens: a.output_tokens + b.output_tokens,
        cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
        cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
        reasoning_tokens: a.reasoning_tokens + b.reasoning_tokens,
        estimated: false,
    }
}

const VERSION: &str = "prop";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Never negative; priced lines add up to the total to the last digit; each line is exactly
    /// tokens × price ÷ 10⁶ (checked by multiplying back, which a rounded figure would fail).
    #[test]
    fn cost_is_exact_and_never_negative((model, usage) in model_and_usage(2_000_000_000)) {
        let cost = model.cost(VERSION, &usage, &CostOptions::default()).unwrap();
        let tokens = BillableTokens::from_usage(model.provider, &usage).unwrap();
        let mut sum = Decimal::ZERO;
        let mut lines = 0;
        for (class, line) in cost.breakdown.lines() {
            lines += 1;
            let expected_tokens = match class {
                TokenClass::Input => tokens.input,
                TokenClass::CachedInput => tokens.cached_input,
                TokenClass::CacheWrite => tokens.cache_write,
                TokenClass::Output => tokens.output,
                TokenClass::Reasoning => tokens.reasoning,
            };
            prop_assert_eq!(line.tokens, expected_tokens);
            if let (Some(price), Some(c)) = (line.usd_per_million, line.cost_usd) {
                prop_assert!(!c.is_sign_negative() || c.is_zero());
                prop_assert_eq!(c * Decimal::from(1_000_000), Decimal::from(line.tokens) * price);
                sum += c;
            }
        }
        let nonzero = [tokens.input, tokens.cached_input, tokens.cache_write, tokens.output, tokens.reasoning]
            .iter().filter(|&&n| n > 0).count();
        prop_assert_eq!(lines, nonzero);
        match cost.status {
            CostStatus::Exact => prop_assert_eq!(cost.cost_usd, Some(sum)),
            CostStatus::Unpriced => prop_assert_eq!(cost.cost_usd, None),
            CostStatus::Estimated => prop_assert!(false, "nothing was estimated"),
        }
    }

    /// Below every tier threshold, the cost of two calls together is the sum of their costs.
    #[test]
    fn cost_is_additive_where_no_tier_applies((model, a, b) in model_and_two_usages(below_every_tier())) {
        let o = CostOptions::default();
        let (ca, cb, cab) = (
            model.cost(VERSION, &a, &o).unwrap(),
            model.cost(VERSION, &b, &o).unwrap(),
            model.cost(VERSION, &add(&a, &b), &o).unwrap(),
        );
        prop_assert_eq!(cab.tier_above_prompt_tokens, None);
        if let (Some(x), Some(y), Some(z)) = (ca.cost_usd, cb.cost_usd, cab.cost_usd) {
            prop_assert_eq!(x + y, z);
        }
    }

    /// Any report that contradicts the provider's semantics is refused, never priced.
    #[test]
    fn contradictory_usage_is_refused(
        (model, mut usage) in model_and_usage(1_000_000),
        extra in 1u64..1000,
    ) {
        let s = model.provider.usage_semantics();
        prop_assume!(s.cached_included_in_input);
        usage.cached_input_tokens = usage.input_tokens + extra;
        prop_assert!(model.cost(VERSION, &usage, &CostOptions::default()).is_err());
    }
}
