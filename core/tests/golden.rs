//! The default catalog against a golden table of published prices, and its invariants.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::{Catalog, Decimal, Provider};

const GOLDEN: &str = include_str!("../../tests/fixtures/prices/golden.csv");

fn cell(s: &str) -> Option<Decimal> {
    (!s.is_empty()).then(|| s.parse().unwrap_or_else(|_| panic!("bad decimal {s:?}")))
}

#[test]
fn current_prices_match_the_published_prices() {
    let catalog = Catalog::embedded();
    let mut lines = GOLDEN.lines();
    assert_eq!(
        lines.next(),
        Some(
            "provider,model,input,output,cached_input,cache_write,batch_input,batch_output,source"
        )
    );
    let mut rows = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 9, "{line}");
        let provider: Provider = f[0].parse().unwrap();
        let model = catalog
            .find(provider, f[1])
            .unwrap_or_else(|| panic!("{}/{} is in the catalog", f[0], f[1]));
        let price = model.current_price().unwrap();
        let batch = price.batch.unwrap_or_default();
        let got = [
            price.rates.input,
            price.rates.output,
            price.rates.cached_input,
            price.rates.cache_write,
            batch.input,
            batch.output,
        ];
        let want = [f[2], f[3], f[4], f[5], f[6], f[7]].map(cell);
        assert_eq!(
            got, want,
            "{}/{} (input, output, cached, cache write, batch in, batch out)",
            f[0], f[1]
        );
        rows += 1;
    }
    assert!(rows >= 25, "{rows} rows");
}

#[test]
fn the_default_catalog_is_complete_and_consistent() {
    let catalog = Catalog::embedded();
    assert!(!catalog.version().is_empty());
    for p in Provider::ALL {
        assert!(
            catalog.models(Some(p)).count() >= 5,
            "{p} has its main models"
        );
        let info = catalog.provider_info(p);
        assert!(
            info.source.as_deref().is_some_and(|s| !s.is_empty()),
            "{p} notes its source"
        );
    }
    for m in catalog.models(None) {
        assert!(!m.prices.is_empty(), "{}/{} has a price", m.provider, m.id);
        assert!(
            m.context_window.is_some(),
            "{}/{} has a context window",
            m.provider,
            m.id
        );
        for set in &m.prices {
            assert!(set.rates.input.is_some() && set.rates.output.is_some());
            let mut last = 0;
            for t in &set.tiers {
                assert!(t.above_prompt_tokens > last);
                last = t.above_prompt_tokens;
                // Long prompts never cost less.
                assert!(
                    t.rates.input >= set.rates.input,
                    "{}/{} tier",
                    m.provider,
                    m.id
                );
            }
        }
        // Every alias resolves back to its model.
        for alias in &m.aliases {
            assert_eq!(catalog.find(m.provider, alias).unwrap().id, m.id, "{alias}");
        }
    }
}

#[test]
fn every_model_the_spec_names_is_there() {
    let catalog = Catalog::embedded();
    for (p, id) in [
        (Provider::Groq, "llama-3.3-70b-versatile"),
        (Provider::Groq, "llama-3.1-70b-versatile"),
        (Provider::Groq, "mixtral-8x7b-32768"),
        (Provider::OpenAi, "gpt-4o"),
        (Provider::OpenAi, "gpt-4o-mini"),
        (Provider::OpenAi, "gpt-3.5-turbo"),
        (Provider::Anthropic, "claude-sonnet-4-20250514"),
        (Provider::Anthropic, "claude-3-5-sonnet-20241022"),
        (Provider::Anthropic, "claude-3-haiku-20240307"),
        // and the main families the catalog promises
        (Provider::OpenAi, "gpt-4.1"),
        (Provider::OpenAi, "gpt-4.1-mini"),
        (Provider::OpenAi, "gpt-4.1-nano"),
        (Provider::OpenAi, "o3"),
        (Provider::OpenAi, "o4-mini"),
        (Provider::OpenAi, "o1"),
        (Provider::Anthropic, "claude-opus-4"),
        (Provider::Anthropic, "claude-sonnet-4"),
        (Provider::Anthropic, "claude-3-5-haiku-20241022"),
        (Provider::Anthropic, "claude-3-7-sonnet-20250219"),
        (Provider::Gemini, "gemini-1.5-pro"),
        (Provider::Gemini, "gemini-1.5-flash"),
        (Provider::Gemini, "gemini-2.0-flash"),
        (Provider::Gemini, "gemini-2.5-pro"),
        (Provider::Gemini, "gemini-2.5-flash"),
        (Provider::Mistral, "mistral-large-latest"),
        (Provider::Mistral, "mistral-small-latest"),
        (Provider::Mistral, "codestral-latest"),
    ] {
        assert!(catalog.find(p, id).is_some(), "{p}/{id}");
    }
    // Gemini 1.5 Pro bills the whole request at a higher price above 128k prompt tokens.
    let pro = catalog.find(Provider::Gemini, "gemini-1.5-pro").unwrap();
    assert_eq!(
        pro.current_price().unwrap().tiers[0].above_prompt_tokens,
        128_000
    );
}
