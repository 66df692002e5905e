//! Import of LiteLLM's and genai-prices' price files, on small files of our own in their formats
//! (expected results: the table at the top of docs/import-formats.md).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::{
    Catalog, CatalogFile, CatalogFormat, CostOptions, Model, PriceSet, Provider, Rates, Usage,
};
use time::macros::date;
use time::Date;

const U: Date = date!(2024 - 01 - 01);

fn base() -> Catalog {
    let text = include_str!("data/small.toml");
    Catalog::from_file(CatalogFile::parse_byokit(text, "small.toml").unwrap()).unwrap()
}

/// `input / output / cached_input / cache_write`, `-` for none, in normalized decimals.
fn rates(r: &Rates) -> String {
    [r.input, r.output, r.cached_input, r.cache_write]
        .map(|p| p.map_or("-".to_owned(), |d| d.normalize().to_string()))
        .join(" / ")
}

fn model<'a>(file: &'a CatalogFile, provider: Provider, id: &str) -> &'a byokit_core::ModelEntry {
    file.models
        .iter()
        .find(|m| m.provider == provider && m.id == id)
        .unwrap_or_else(|| panic!("{provider}/{id} imported"))
}

fn only_set(entry: &byokit_core::ModelEntry) -> &PriceSet {
    assert_eq!(entry.prices.len(), 1, "{}", entry.id);
    &entry.prices[0]
}

#[test]
fn litellm_sample_imports_as_documented() {
    let text = include_str!("data/litellm_sample.json");
    assert_eq!(CatalogFormat::detect(text), CatalogFormat::LiteLlm);
    let file = CatalogFile::parse(text, "litellm.json", CatalogFormat::LiteLlm, U).unwrap();
    assert_eq!(
        file.models.len(),
        7,
        "{:#?}",
        file.models.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    assert_eq!(file.skipped.len(), 3, "{:?}", file.skipped);
    assert!(file
        .models
        .iter()
        .all(|m| m.prices.iter().all(|p| p.effective == U)));

    let m = model(&file, Provider::OpenAi, "gpt-4.1-mini");
    assert_eq!(
        (m.context_window, m.max_output_tokens),
        (Some(1_047_576), Some(32_768))
    );
    assert_eq!(rates(&only_set(m).rates), "0.4 / 1.6 / 0.1 / -");
    assert_eq!(rates(&only_set(m).batch.unwrap()), "0.2 / 0.8 / 0.05 / -");

    let m = model(&file, Provider::OpenAi, "o1-pro");
    assert_eq!(rates(&only_set(m).rates), "150 / 600 / - / -");

    let m = model(&file, Provider::Anthropic, "claude-sonnet-4-5");
    assert_eq!(m.aliases, vec!["claude-sonnet-latest".to_string()]);
    assert_eq!(rates(&only_set(m).rates), "3 / 15 / 0.3 / 3.75");
    assert_eq!(
        rates(&only_set(m).batch.unwrap()),
        "1.5 / 7.5 / 0.15 / 1.875"
    );

    let m = model(&file, Provider::Gemini, "gemini-1.5-pro");
    let set = only_set(m);
    assert_eq!(rates(&set.rates), "1.25 / 5 / 0.3125 / -");
    assert_eq!(set.tiers.len(), 1);
    assert_eq!(set.tiers[0].above_prompt_tokens, 128_000);
    assert_eq!(rates(&set.tiers[0].rates), "2.5 / 10 / 0.625 / -");
    assert_eq!(rates(&set.tiers[0].batch.unwrap()), "1.25 / 5 / - / -");

    assert_eq!(
        rates(&only_set(model(&file, Provider::Groq, "llama-3.3-70b-versatile")).rates),
        "0.59 / 0.79 / - / -"
    );
    let m = model(&file, Provider::Groq, "openai/gpt-oss-20b");
    assert_eq!(rates(&only_set(m).rates), "0.075 / 0.3 / 0.0375 / -");
    assert!(only_set(m).batch.is_none());
    let m = model(&file, Provider::Mistral, "mistral-large-latest");
    assert_eq!(rates(&only_set(m).rates), "2 / 6 / - / -");
}

#[test]
fn litellm_import_merges_and_prices() {
    let text = include_str!("data/litellm_sample.json");
    let file = CatalogFile::parse(text, "litellm.json", CatalogFormat::LiteLlm, U).unwrap();
    let c = base().merged(file).unwrap();
    assert_eq!(c.version(), "test.1+litellm.json");
    let usage = Usage {
        input_tokens: 1_000_000,
        output_tokens: 1_000_000,
        ..Usage::default()
    };
    let cost = c
        .cost(
            Provider::Anthropic,
            "claude-sonnet-latest",
            &usage,
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd.unwrap().to_string(), "18");
    // A prompt over the tier bills every token at the tier price.
    let big = Usage {
        input_tokens: 200_000,
        output_tokens: 1_000,
        ..Usage::default()
    };
    let cost = c
        .cost(
            Provider::Gemini,
            "gemini-1.5-pro",
            &big,
            &CostOptions::default(),
        )
        .unwrap();
    assert_eq!(cost.cost_usd.unwrap().to_string(), "0.51"); // 200000×2.5 + 1000×10
}

#[test]
fn litellm_malformed_names_entry_and_field() {
    let text = include_str!("data/litellm_malformed.json");
    let err = CatalogFile::parse(text, "bad.json", CatalogFormat::LiteLlm, U).unwrap_err();
    assert_eq!(err.entry.as_deref(), Some("claude-haiku-4-5"));
    assert_eq!(err.field.as_deref(), Some("input_cost_per_token"));
    assert!(
        err.to_string()
            .starts_with("bad.json: entry `claude-haiku-4-5`, field `input_cost_per_token`: "),
        "{err}"
    );
}

#[test]
fn genai_prices_sample_imports_as_documented() {
    let text = include_str!("data/genai_prices_sample.json");
    assert_eq!(CatalogFormat::detect(text), CatalogFormat::GenaiPrices);
    let file = CatalogFile::parse(text, "genai.json", CatalogFormat::GenaiPrices, U).unwrap();
    assert_eq!(
        file.models.len(),
        10,
        "{:#?}",
        file.models.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    assert_eq!(file.skipped.len(), 6, "{:?}", file.skipped);

    let m = model(&file, Provider::Anthropic, "claude-3-5-haiku-latest");
    assert_eq!(m.aliases, vec!["claude-3-5-haiku-20241022".to_string()]);
    assert_eq!(m.deprecated, Some(true));
    assert_eq!(m.name.as_deref(), Some("Claude Haiku 3.5"));
    assert_eq!(rates(&only_set(m).rates), "0.8 / 4 / 0.08 / 1");

    let set = only_set(model(&file, Provider::Anthropic, "claude-sonnet-4-5"));
    assert_eq!(rates(&set.rates), "3 / 15 / 0.3 / 3.75");
    assert_eq!(set.tiers[0].above_prompt_tokens, 200_000);
    assert_eq!(rates(&set.tiers[0].rates), "6 / 22.5 / 0.6 / 7.5");

    let set = only_set(model(&file, Provider::Gemini, "gemini-1.5-pro"));
    assert_eq!(rates(&set.tiers[0].rates), "2.5 / 10 / 0.625 / -");
    let m = model(&file, Provider::Gemini, "gemini-2.0-flash");
    assert_eq!(m.aliases, vec!["gemini-2.0-flash-001".to_string()]);
    assert_eq!(m.context_window, Some(1_048_576));

    assert_eq!(
        rates(&only_set(model(&file, Provider::Groq, "openai/gpt-oss-120b")).rates),
        "0.15 / 0.6 / 0.075 / -"
    );
    let m = model(&file, Provider::Mistral, "mistral-large");
    assert_eq!(
        m.aliases,
        vec![
            "mistral-large-latest".to_string(),
            "mistral-large-2411".to_string()
        ]
    );

    let o3 = model(&file, Provider::OpenAi, "o3");
    assert_eq!(o3.prices.len(), 2);
    assert_eq!(
        (o3.prices[0].effective, rates(&o3.prices[0].rates)),
        (U, "10 / 40 / 2.5 / -".into())
    );
    assert_eq!(
        (o3.prices[1].effective, rates(&o3.prices[1].rates)),
        (date!(2025 - 06 - 10), "2 / 8 / 0.5 / -".into())
    );
    let medium = model(&file, Provider::Mistral, "mistral-medium-latest");
    assert_eq!(medium.prices[1].effective, date!(2025 - 12 - 02));
    assert_eq!(rates(&medium.prices[1].rates), "0.4 / 2 / 0.04 / -");
}

#[test]
fn genai_prices_undated_set_ends_the_day_before_the_first_dated_one() {
    let text = include_str!("data/genai_prices_sample.json");
    let file = CatalogFile::parse(
        text,
        "genai.json",
        CatalogFormat::GenaiPrices,
        date!(2025 - 09 - 01),
    )
    .unwrap();
    let o3 = model(&file, Provider::OpenAi, "o3");
    assert_eq!(o3.prices[0].effective, date!(2025 - 06 - 09));
    let medium = model(&file, Provider::Mistral, "mistral-medium-latest");
    assert_eq!(medium.prices[0].effective, date!(2025 - 09 - 01));

    // Priced by day: o3 before and after its price cut.
    let c = base().merged(file).unwrap();
    let u = Usage {
        input_tokens: 1_000_000,
        output_tokens: 1_000_000,
        ..Usage::default()
    };
    let on = |day| CostOptions {
        batch: false,
        at: Some(day),
    };
    let m: &Model = c.find(Provider::OpenAi, "o3-2025-04-16").unwrap();
    assert_eq!(
        m.cost("v", &u, &on(date!(2025 - 06 - 09)))
            .unwrap()
            .cost_usd
            .unwrap()
            .to_string(),
        "50"
    );
    assert_eq!(
        m.cost("v", &u, &on(date!(2025 - 06 - 10)))
            .unwrap()
            .cost_usd
            .unwrap()
            .to_string(),
        "10"
    );
}

#[test]
fn genai_prices_errors_name_entry_and_field() {
    let text = r#"[{"id": "openai", "models": [{"id": "gpt-x", "match": {"equals": "gpt-x"},
        "prices": {"input_mtok": "lots", "output_mtok": 1}}]}]"#;
    let err = CatalogFile::parse(text, "g.json", CatalogFormat::GenaiPrices, U).unwrap_err();
    assert_eq!(
        err.to_string(),
        "g.json: entry `openai/gpt-x`, field `prices.input_mtok`: invalid price \"lots\": expected a number"
    );
    let text = r#"{"providers": [{"id": "openai", "models": [{"id": "gpt-x", "match": {"equals": "gpt-x"},
        "prices": [{"prices": {"input_mtok": 1, "output_mtok": 1}}, {"constraint": {"start_date": "soon"}, "prices": {"input_mtok": 1, "output_mtok": 1}}]}]}]}"#;
    let err = CatalogFile::parse(text, "g.json", CatalogFormat::GenaiPrices, U).unwrap_err();
    assert_eq!(
        err.to_string(),
        "g.json: entry `openai/gpt-x`, field `prices[1].constraint.start_date`: invalid date \"soon\": expected YYYY-MM-DD"
    );
    let err =
        CatalogFile::parse("{\"x\": 1}", "g.json", CatalogFormat::GenaiPrices, U).unwrap_err();
    assert_eq!(
        err.to_string(),
        "g.json, field `providers`: expected an array of providers"
    );
}
