//! Costs per provider semantics, tiers, batch, price history and the statuses, on a small catalog
//! whose prices are easy to check by hand.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::{
    Catalog, CatalogFile, CostError, CostOptions, CostStatus, Decimal, Provider, Usage,
};
use time::macros::date;

fn small() -> Catalog {
    let text = include_str!("data/small.toml");
    Catalog::from_file(CatalogFile::parse_byokit(text, "small.toml").unwrap()).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn usage(input: u64, cached: u64, cache_write: u64, output: u64, reasoning: u64) -> Usage {
    Usage {
        input_tokens: input,
        cached_input_tokens: cached,
        cache_write_tokens: cache_write,
        output_tokens: output,
        reasoning_tokens: reasoning,
        estimated: false,
    }
}

fn total(c: &Catalog, p: Provider, model: &str, u: Usage) -> Decimal {
    c.cost(p, model, &u, &CostOptions::default())
        .unwrap()
        .cost_usd
        .unwrap()
}

#[test]
fn openai_prompt_tokens_include_the_cached_ones() {
    let c = small();
    // 2000 prompt tokens of which 1536 cached: 464 × 2.50 + 1536 × 1.25 + 300 × 10, per million.
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o",
            &usage(2000, 1536, 0, 300, 0),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(d("0.00608")));
    assert_eq!(cost.status, CostStatus::Exact);
    let b = cost.breakdown;
    assert_eq!(b.input.unwrap().tokens, 464);
    assert_eq!(b.input.unwrap().cost_usd, Some(d("0.00116")));
    assert_eq!(b.cached_input.unwrap().tokens, 1536);
    assert_eq!(b.cached_input.unwrap().cost_usd, Some(d("0.00192")));
    assert_eq!(b.output.unwrap().cost_usd, Some(d("0.003")));
    assert!(b.cache_write.is_none() && b.reasoning.is_none());
}

#[test]
fn openai_completion_tokens_include_reasoning() {
    let c = small();
    // 500 completion tokens of which 400 reasoning: billed 500 output tokens, not 900.
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o",
            &usage(0, 0, 0, 500, 400),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(d("0.005")));
    assert_eq!(cost.breakdown.output.unwrap().tokens, 100);
    assert_eq!(cost.breakdown.reasoning.unwrap().tokens, 400);
    assert_eq!(
        cost.breakdown.reasoning.unwrap().usd_per_million,
        Some(d("10"))
    );
}

#[test]
fn anthropic_cache_reads_and_writes_are_billed_on_top_of_input() {
    let c = small();
    // input 1000 + cache read 2000 + cache write 500, output 100:
    // 1000×3 + 2000×0.30 + 500×3.75 + 100×15 = 3000 + 600 + 1875 + 1500 = 6975 per million.
    let cost = c
        .cost(
            Provider::Anthropic,
            "claude-sonnet-4",
            &usage(1000, 2000, 500, 100, 0),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(d("0.006975")));
    assert_eq!(cost.breakdown.input.unwrap().tokens, 1000);
    assert_eq!(cost.breakdown.cached_input.unwrap().tokens, 2000);
    assert_eq!(cost.breakdown.cache_write.unwrap().tokens, 500);
    // More cache reads than input is normal for Anthropic, not an error.
    assert!(c
        .cost(
            Provider::Anthropic,
            "claude-sonnet-4",
            &usage(10, 5000, 0, 1, 0),
            &CostOptions::default()
        )
        .is_ok());
}

#[test]
fn gemini_thinking_tokens_are_billed_as_output_on_top_of_candidates() {
    let c = small();
    // promptTokenCount 1000 incl. 400 cached; candidates 200, thoughts 300:
    // 600×1.25 + 400×0.3125 + (200+300)×5 = 750 + 125 + 2500 = 3375 per million.
    let cost = c
        .cost(
            Provider::Gemini,
            "gemini-1.5-pro",
            &usage(1000, 400, 0, 200, 300),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(d("0.003375")));
    assert_eq!(cost.breakdown.output.unwrap().tokens, 200);
    assert_eq!(cost.breakdown.reasoning.unwrap().tokens, 300);
}

#[test]
fn cached_tokens_are_never_billed_twice() {
    let c = small();
    // All of the prompt cached costs exactly the cached price, for OpenAI-style providers.
    let all_cached = total(
        &c,
        Provider::OpenAi,
        "gpt-4o",
        usage(1_000_000, 1_000_000, 0, 0, 0),
    );
    assert_eq!(all_cached, d("1.25"));
    let none_cached = total(&c, Provider::OpenAi, "gpt-4o", usage(1_000_000, 0, 0, 0, 0));
    assert_eq!(none_cached, d("2.50"));
}

#[test]
fn usage_that_contradicts_the_provider_is_refused() {
    let c = small();
    let o = CostOptions::default();
    let err = c
        .cost(Provider::OpenAi, "gpt-4o", &usage(100, 200, 0, 0, 0), &o)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid usage for openai: cached input tokens (200) exceed input tokens (100); openai counts cached tokens as part of input"
    );
    let err = c
        .cost(Provider::OpenAi, "gpt-4o", &usage(100, 0, 0, 10, 20), &o)
        .unwrap_err();
    assert!(matches!(
        err,
        CostError::InvalidUsage {
            provider: Provider::OpenAi,
            ..
        }
    ));
    let err = c
        .cost(Provider::OpenAi, "gpt-4o", &usage(100, 0, 5, 10, 0), &o)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid usage for openai: openai does not bill cache writes separately; cache-write tokens (5) are part of its input"
    );
    let err = c
        .cost(
            Provider::Gemini,
            "gemini-1.5-pro",
            &usage(100, 101, 0, 0, 0),
            &o,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        CostError::InvalidUsage {
            provider: Provider::Gemini,
            ..
        }
    ));
}

#[test]
fn a_long_prompt_tier_prices_the_whole_request() {
    let c = small();
    // Exactly 128,000 prompt tokens: base prices.
    let at = total(
        &c,
        Provider::Gemini,
        "gemini-1.5-pro",
        usage(128_000, 0, 0, 1000, 0),
    );
    assert_eq!(at, d("0.165")); // 128000×1.25 + 1000×5
                                // One more: the tier's prices for every token, output included.
    let cost = c
        .cost(
            Provider::Gemini,
            "gemini-1.5-pro",
            &usage(128_001, 1, 0, 1000, 0),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.tier_above_prompt_tokens, Some(128_000));
    assert_eq!(cost.cost_usd, Some(d("0.330000625"))); // 128000×2.50 + 1×0.625 + 1000×10
                                                       // Anthropic: cache reads and writes count toward the prompt size.
    let cost = c
        .cost(
            Provider::Anthropic,
            "claude-sonnet-4",
            &usage(100_000, 100_000, 1, 0, 0),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.tier_above_prompt_tokens, Some(200_000));
    assert_eq!(cost.breakdown.input.unwrap().usd_per_million, Some(d("6")));
}

#[test]
fn batch_prices() {
    let c = small();
    let batch = CostOptions {
        batch: true,
        at: None,
    };
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o",
            &usage(1_000_000, 0, 0, 1_000_000, 0),
            &batch,
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(d("6.25")));
    assert!(cost.batch);
    // Batch without a cached price: a call with cached tokens is unpriced, not silently zero.
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o",
            &usage(1000, 500, 0, 10, 0),
            &batch,
        )
        .unwrap();
    assert_eq!(cost.status, CostStatus::Unpriced);
    assert_eq!(cost.cost_usd, None);
    assert_eq!(cost.breakdown.cached_input.unwrap().usd_per_million, None);
    assert_eq!(cost.breakdown.input.unwrap().cost_usd, Some(d("0.000625")));
    // No batch API at all: an error that says so.
    let err = c
        .cost(
            Provider::Groq,
            "llama-3.3-70b-versatile",
            &usage(1, 0, 0, 1, 0),
            &batch,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "groq/llama-3.3-70b-versatile has no Batch API prices"
    );
    // A tier without batch prices of its own takes the price set's batch prices.
    let cost = c
        .cost(
            Provider::Gemini,
            "gemini-1.5-pro",
            &usage(200_000, 0, 0, 1_000_000, 0),
            &batch,
        )
        .unwrap();
    assert_eq!(cost.tier_above_prompt_tokens, Some(128_000));
    assert_eq!(cost.cost_usd, Some(d("2.625"))); // 200000×0.625 + 1000000×2.50
}

#[test]
fn history_prices_a_call_with_the_prices_of_its_day() {
    let c = small();
    let u = usage(1_000_000, 0, 0, 1_000_000, 0);
    let on = |day| CostOptions {
        batch: false,
        at: Some(day),
    };
    let old = c
        .cost(Provider::OpenAi, "gpt-4o", &u, &on(date!(2024 - 06 - 01)))
        .unwrap();
    assert_eq!(old.cost_usd, Some(d("20")));
    assert_eq!(old.price_effective, Some(date!(2024 - 05 - 13)));
    let new = c
        .cost(Provider::OpenAi, "gpt-4o", &u, &on(date!(2024 - 10 - 02)))
        .unwrap();
    assert_eq!(new.cost_usd, Some(d("12.5")));
    // Before the model had a price: unpriced, never zero.
    let before = c
        .cost(Provider::OpenAi, "gpt-4o", &u, &on(date!(2024 - 01 - 01)))
        .unwrap();
    assert_eq!(before.status, CostStatus::Unpriced);
    assert_eq!(before.cost_usd, None);
    assert_eq!(before.price_effective, None);
}

#[test]
fn a_model_without_prices_is_unpriced() {
    let c = small();
    let cost = c
        .cost(
            Provider::Mistral,
            "private-finetune",
            &usage(10, 0, 0, 10, 0),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.status, CostStatus::Unpriced);
    assert_eq!(cost.cost_usd, None);
    assert_eq!(cost.breakdown.input.unwrap().tokens, 10);
}

#[test]
fn estimated_usage_is_labelled() {
    let c = small();
    let mut u = usage(1000, 0, 0, 100, 0);
    u.estimated = true;
    let cost = c
        .cost(Provider::OpenAi, "gpt-4o", &u, &CostOptions::default())
        .unwrap();
    assert_eq!(cost.status, CostStatus::Estimated);
    assert_eq!(cost.cost_usd, Some(d("0.0035")));
}

#[test]
fn zero_usage_costs_exactly_zero() {
    let c = small();
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o",
            &Usage::default(),
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd, Some(Decimal::ZERO));
    assert_eq!(cost.status, CostStatus::Exact);
    assert_eq!(cost.breakdown.lines().count(), 0);
}

#[test]
fn cost_serializes_money_as_decimal_strings() {
    let c = small();
    let cost = c
        .cost(
            Provider::OpenAi,
            "gpt-4o-2024-08-06",
            &usage(2000, 1536, 0, 300, 0),
            &CostOptions::default(),
        )
        .unwrap();
    let json = serde_json::to_value(&cost).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "provider": "openai",
            "model": "gpt-4o",
            "cost_usd": "0.00608",
            "breakdown": {
                "input": {"tokens": 464, "usd_per_million": "2.5", "cost_usd": "0.00116"},
                "cached_input": {"tokens": 1536, "usd_per_million": "1.25", "cost_usd": "0.00192"},
                "output": {"tokens": 300, "usd_per_million": "10", "cost_usd": "0.003"}
            },
            "status": "exact",
            "catalog_version": "test.1",
            "price_effective": "2024-10-02",
            "tier_above_prompt_tokens": null,
            "batch": false
        })
    );
}

#[test]
fn unknown_model_is_an_error_not_a_zero() {
    let err = small()
        .cost(
            Provider::OpenAi,
            "gpt-5-imaginary",
            &usage(1, 0, 0, 1, 0),
            &CostOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, CostError::UnknownModel(_)));
    assert!(err
        .to_string()
        .starts_with("unknown model `gpt-5-imaginary` for provider openai"));
}

#[test]
fn groq_and_mistral_count_like_openai() {
    // Both speak OpenAI's usage format: prompt_tokens include cached ones, and no cache writes.
    let c = Catalog::embedded();
    for (p, model) in [
        (Provider::Groq, "llama-3.3-70b-versatile"),
        (Provider::Mistral, "mistral-small-latest"),
    ] {
        let s = p.usage_semantics();
        assert!(
            s.cached_included_in_input && s.reasoning_included_in_output && !s.reports_cache_writes
        );
        let err = c
            .cost(p, model, &usage(10, 11, 0, 1, 0), &CostOptions::default())
            .unwrap_err();
        assert!(matches!(err, CostError::InvalidUsage { .. }), "{p}");
        let m = c.find(p, model).unwrap();
        let r = m.current_price().unwrap().rates;
        let cost = c
            .cost(
                p,
                model,
                &usage(1_000_000, 0, 0, 1_000_000, 0),
                &CostOptions::default(),
            )
            .unwrap();
        assert_eq!(
            cost.cost_usd,
            Some(r.input.unwrap() + r.output.unwrap()),
            "{p}"
        );
    }
}
