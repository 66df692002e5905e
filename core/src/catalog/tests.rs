use super::*;
use time::macros::date;

const SMALL: &str = include_str!("../../tests/data/small.toml");

fn small() -> Catalog {
    Catalog::from_file(CatalogFile::parse_byokit(SMALL, "small.toml").unwrap()).unwrap()
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn loads_every_part_of_the_format() {
    let c = small();
    assert_eq!(c.version(), "test.1");
    assert_eq!(
        c.provider_info(Provider::OpenAi).source.as_deref(),
        Some("test data")
    );
    // A provider the file does not describe keeps its id as name.
    assert_eq!(c.provider_info(Provider::Mistral).name, "mistral");

    let gpt = c.find(Provider::OpenAi, "gpt-4o").unwrap();
    assert_eq!(gpt.name.as_deref(), Some("GPT-4o"));
    assert_eq!(gpt.context_window, Some(128_000));
    assert_eq!(gpt.max_output_tokens, Some(16_384));
    assert_eq!(gpt.prices.len(), 2);
    assert_eq!(
        gpt.prices[1].effective,
        date!(2024 - 10 - 02),
        "bare TOML dates are read"
    );
    assert_eq!(gpt.prices[1].batch.unwrap().output, Some(d("5")));

    let sonnet = c.find(Provider::Anthropic, "claude-sonnet-4").unwrap();
    let tier = &sonnet.prices[0].tiers[0];
    assert_eq!(tier.above_prompt_tokens, 200_000);
    assert_eq!(tier.rates.output, Some(d("22.50")));

    // A model without prices is in the catalog, unpriced.
    assert!(c
        .find(Provider::Mistral, "private-finetune")
        .unwrap()
        .prices
        .is_empty());
}

#[test]
fn lookup_by_id_alias_case_and_prefixes() {
    let c = small();
    for name in [
        "gpt-4o",
        "gpt-4o-2024-08-06",
        "GPT-4o-2024-11-20",
        " gpt-4o ",
        "openai/gpt-4o",
    ] {
        assert_eq!(
            c.find(Provider::OpenAi, name).unwrap().id,
            "gpt-4o",
            "{name}"
        );
    }
    assert_eq!(
        c.find(Provider::Gemini, "models/gemini-1.5-pro-002")
            .unwrap()
            .id,
        "gemini-1.5-pro"
    );
    // Lookups are per provider.
    assert!(c.find(Provider::Anthropic, "gpt-4o").is_none());
    assert!(c.find(Provider::OpenAi, "anthropic/gpt-4o").is_none());
}

#[test]
fn unknown_model_suggests_close_names() {
    let c = small();
    let err = c.model(Provider::OpenAi, "gpt-4").unwrap_err();
    assert_eq!(err.suggestions[0], "gpt-4o");
    assert_eq!(
        err.to_string(),
        format!(
            "unknown model `gpt-4` for provider openai (did you mean {}?)",
            err.suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    );
    let err = c.model(Provider::Groq, "qqqqqqqq").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown model `qqqqqqqq` for provider groq"
    );
}

#[test]
fn price_at_picks_the_set_in_force_on_the_day() {
    let gpt = small().find(Provider::OpenAi, "gpt-4o").unwrap().clone();
    assert_eq!(gpt.price_at(None).unwrap().rates.input, Some(d("2.50")));
    assert_eq!(
        gpt.price_at(Some(date!(2024 - 10 - 01)))
            .unwrap()
            .rates
            .input,
        Some(d("5"))
    );
    assert_eq!(
        gpt.price_at(Some(date!(2024 - 10 - 02)))
            .unwrap()
            .rates
            .input,
        Some(d("2.5"))
    );
    assert!(gpt.price_at(Some(date!(2024 - 05 - 12))).is_none());
}

#[test]
fn tier_for_takes_the_highest_threshold_exceeded() {
    let set = PriceSet {
        effective: date!(2025 - 01 - 01),
        rates: Rates::default(),
        batch: None,
        tiers: vec![
            Tier {
                above_prompt_tokens: 128_000,
                rates: Rates::default(),
                batch: None,
            },
            Tier {
                above_prompt_tokens: 200_000,
                rates: Rates::default(),
                batch: None,
            },
        ],
    };
    assert!(
        set.tier_for(128_000).is_none(),
        "the threshold itself is not above it"
    );
    assert_eq!(set.tier_for(128_001).unwrap().above_prompt_tokens, 128_000);
    assert_eq!(set.tier_for(500_000).unwrap().above_prompt_tokens, 200_000);
}

#[test]
fn merge_overrides_a_price_adds_a_model_and_keeps_the_rest() {
    let base = small();
    let overlay = r#"
        version = "acme.3"
        [[models]]
        provider = "openai"
        id = "gpt-4o-2024-08-06"          # an alias names the model to update
        aliases = ["acme-default"]
        [[models.prices]]
        effective = "2024-10-02"
        input = "2.00"
        output = "8.00"

        [[models]]
        provider = "mistral"
        id = "acme-private"
        context_window = 32000
        [[models.prices]]
        effective = "2025-01-01"
        input = "0.10"
        output = "0.30"
    "#;
    let merged = base
        .merged(CatalogFile::parse_byokit(overlay, "acme.toml").unwrap())
        .unwrap();
    assert_eq!(merged.version(), "test.1+acme.3");
    let gpt = merged.find(Provider::OpenAi, "acme-default").unwrap();
    assert_eq!(gpt.id, "gpt-4o");
    assert_eq!(gpt.prices.len(), 2, "same date replaced, older set kept");
    assert_eq!(gpt.prices[1].rates.input, Some(d("2.00")));
    assert_eq!(
        gpt.prices[1].rates.cached_input, None,
        "a replaced set is replaced whole"
    );
    assert_eq!(gpt.prices[0].rates.input, Some(d("5")));
    assert_eq!(
        gpt.context_window,
        Some(128_000),
        "fields the overlay omits are kept"
    );
    assert!(merged.find(Provider::Mistral, "acme-private").is_some());
    // The base catalog is untouched.
    assert_eq!(
        base.find(Provider::OpenAi, "gpt-4o").unwrap().prices[1]
            .rates
            .input,
        Some(d("2.50"))
    );
    assert!(base.find(Provider::Mistral, "acme-private").is_none());
    // Without a version, the source name marks the merge.
    let unversioned = base
        .merged(CatalogFile::parse_byokit("", "empty.toml").unwrap())
        .unwrap();
    assert_eq!(unversioned.version(), "test.1+empty.toml");
}

#[test]
fn merge_refuses_an_alias_that_names_another_model() {
    let overlay = r#"
        [[models]]
        provider = "openai"
        id = "gpt-4o-mini"
        aliases = ["gpt-4o-2024-08-06"]
    "#;
    let err = small()
        .merged(CatalogFile::parse_byokit(overlay, "bad.toml").unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad.toml: entry `openai/gpt-4o-mini`, field `aliases`: alias `gpt-4o-2024-08-06` already names openai/gpt-4o"
    );
}

/// Each malformed file is refused with the file, the entry and the field named.
#[test]
fn malformed_files_name_file_entry_and_field() {
    let cases: &[(&str, &str)] = &[
        (
            "version = 1",
            "f.toml, field `version`: invalid type: integer `1`, expected a string",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"abc\"\noutput = \"1\"",
            "f.toml: entry `openai/x`, field `prices[0].input`: invalid price \"abc\": expected a decimal such as \"2.50\"",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = 2.5\noutput = \"1\"",
            "f.toml: entry `openai/x`, field `prices[0].input`: price 2.5 is a float: write it as a decimal string (\"2.5\") so it stays exact",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"-1\"\noutput = \"1\"",
            "f.toml: entry `openai/x`, field `prices[0].input`: price -1 is negative",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"January\"\ninput = \"1\"\noutput = \"1\"",
            "f.toml: entry `openai/x`, field `prices[0].effective`: invalid date \"January\": expected YYYY-MM-DD",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"1\"",
            "f.toml: entry `openai/x`, field `prices[0]`: missing field `output`",
        ),
        (
            "[[models]]\nprovider = \"opnai\"\nid = \"x\"",
            "f.toml: entry `opnai/x`, field `provider`: unknown provider `opnai` (did you mean `openai`?); known providers: openai, anthropic, groq, gemini, mistral",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\ncontext = 5",
            "f.toml: entry `openai/x`, field `context`: unknown field `context`, expected one of `provider`, `id`, `name`, `aliases`, `context_window`, `max_output_tokens`, `deprecated`, `prices`",
        ),
        (
            "[[models]]\nprovider = \"openai\"",
            "f.toml: entry `models[0]`: missing field `id`",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"1\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"2\"\noutput = \"2\"",
            "f.toml: entry `openai/x`, field `prices[1].effective`: two price sets take effect on 2024-01-01",
        ),
        (
            "[providers.nosuch]\nname = \"x\"",
            "f.toml, field `providers.nosuch`: unknown provider `nosuch`; known providers: openai, anthropic, groq, gemini, mistral",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"1\"\n[[models.prices.tiers]]\nabove_prompt_tokens = 200000\ninput = \"x\"",
            "f.toml: entry `openai/x`, field `prices[0].tiers[0].input`: invalid price \"x\": expected a decimal such as \"2.50\"",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"1\"\n[[models.prices.tiers]]\ninput = \"2\"",
            "f.toml: entry `openai/x`, field `prices[0].tiers[0]`: missing field `above_prompt_tokens`",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\n[[models.prices]]\neffective = \"2024-01-01\"\ninput = \"1\"\noutput = \"1\"\n[models.prices.batch]\ninput = \"0.5\"\nouptut = \"0.5\"",
            "f.toml: entry `openai/x`, field `prices[0].batch.ouptut`: unknown field `ouptut`, expected one of `input`, `output`, `cached_input`, `cache_write`",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\naliases = [\"y\", 3]",
            "f.toml: entry `openai/x`, field `aliases[1]`: invalid type: integer `3`, expected a string",
        ),
        (
            "[[models]]\nprovider = \"openai\"\nid = \"x\"\ncontext_window = \"big\"",
            "f.toml: entry `openai/x`, field `context_window`: invalid type: string \"big\", expected u64",
        ),
        (
            "[providers.openai]\nnom = \"x\"",
            "f.toml, field `providers.openai.nom`: unknown field `nom`, expected `name` or `source`",
        ),
    ];
    for (text, want) in cases {
        let err = CatalogFile::parse_byokit(text, "f.toml").unwrap_err();
        assert_eq!(&err.to_string(), want, "for input:\n{text}");
        assert!(!err.to_string().contains('\n'));
    }
    let err = CatalogFile::parse_byokit("models = [", "f.toml").unwrap_err();
    assert!(err.to_string().starts_with("f.toml: invalid TOML"), "{err}");
    let err = CatalogFile::parse_byokit("{\"models\": 3}", "f.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "f.json, field `models`: invalid type: integer `3`, expected a sequence"
    );
    for (json, field) in [
        (r#"{"models": null}"#, "models"),
        (r#"{"providers": null}"#, "providers"),
        (
            r#"{"models": [{"provider": "openai", "id": "x", "aliases": null}]}"#,
            "aliases",
        ),
        (
            r#"{"models": [{"provider": "openai", "id": "x", "prices": null}]}"#,
            "prices",
        ),
    ] {
        let err = CatalogFile::parse_byokit(json, "f.json").unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("field `{field}`: invalid type: null")),
            "{err}"
        );
    }
}

#[test]
fn catalog_needs_a_version() {
    let err = Catalog::from_file(CatalogFile::parse_byokit("", "v.toml").unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "v.toml: a catalog needs a `version` string"
    );
}

#[test]
fn json_and_toml_forms_are_the_same_catalog() {
    let json = r#"{"version": "j.1", "models": [{"provider": "groq", "id": "m", "aliases": ["m2"],
        "prices": [{"effective": "2025-01-01", "input": "0.05", "output": 1}]}]}"#;
    let toml = "version = \"j.1\"\n[[models]]\nprovider = \"groq\"\nid = \"m\"\naliases = [\"m2\"]\n[[models.prices]]\neffective = \"2025-01-01\"\ninput = \"0.05\"\noutput = 1";
    let a = CatalogFile::parse_byokit(json, "x").unwrap();
    let b = CatalogFile::parse_byokit(toml, "x").unwrap();
    assert_eq!(a, b);
}

#[test]
fn format_detection() {
    assert_eq!(
        CatalogFormat::detect("version = \"1\""),
        CatalogFormat::Byokit
    );
    assert_eq!(
        CatalogFormat::detect("{\"version\": \"1\", \"models\": []}"),
        CatalogFormat::Byokit
    );
    assert_eq!(
        CatalogFormat::detect("{\"gpt-4o\": {\"litellm_provider\": \"openai\"}}"),
        CatalogFormat::LiteLlm
    );
    assert_eq!(
        CatalogFormat::detect("[{\"id\": \"openai\"}]"),
        CatalogFormat::GenaiPrices
    );
    assert_eq!(
        "litellm".parse::<CatalogFormat>(),
        Ok(CatalogFormat::LiteLlm)
    );
    assert!("xml".parse::<CatalogFormat>().is_err());
}

#[cfg(feature = "toml")]
#[test]
fn the_embedded_json_is_the_default_toml() {
    let from_toml = CatalogFile::parse_byokit(DEFAULT_CATALOG_TOML, "default.toml").unwrap();
    let from_json = CatalogFile::parse_byokit(DEFAULT_CATALOG_JSON, "default.toml").unwrap();
    assert_eq!(from_toml, from_json);
    assert!(DEFAULT_CATALOG_JSON.len() < DEFAULT_CATALOG_TOML.len());
    // Read apart from the conversion both sides share: the JSON holds every `[[models]]` table
    // of the TOML text, its version line, and prices as the strings written.
    let json: serde_json::Value = serde_json::from_str(DEFAULT_CATALOG_JSON).unwrap();
    let tables = DEFAULT_CATALOG_TOML
        .lines()
        .filter(|l| l.trim() == "[[models]]")
        .count();
    assert_eq!(json["models"].as_array().unwrap().len(), tables);
    let version = DEFAULT_CATALOG_TOML
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .unwrap()
        .trim()
        .trim_matches('"');
    assert_eq!(json["version"], version);
    let gpt_4o = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == "openai" && m["id"] == "gpt-4o")
        .unwrap();
    assert_eq!(
        gpt_4o["prices"].as_array().unwrap().last().unwrap()["input"],
        "2.50"
    );
}
