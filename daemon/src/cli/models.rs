//! `byokit models`: the catalog with prices per million tokens.

use byokit_core::{Catalog, Model, Provider, Rates};
use clap::Args;
use serde::Serialize;

use super::table::{tokens, usd_per_million, Table};
use super::{write_json, CliError};

/// Arguments of `byokit models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Only this provider's models.
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The JSON shape of `byokit models --json`.
#[derive(Serialize)]
struct Listing<'a> {
    catalog_version: &'a str,
    models: Vec<&'a Model>,
}

pub(super) fn run(
    catalog: &Catalog,
    args: &ModelsArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let provider = args
        .provider
        .as_deref()
        .map(str::parse::<Provider>)
        .transpose()?;
    let models: Vec<&Model> = catalog.models(provider).collect();
    if args.json {
        return write_json(
            out,
            &Listing {
                catalog_version: catalog.version(),
                models,
            },
        );
    }
    let mut table = Table::new([
        "model",
        "context",
        "input",
        "output",
        "cached",
        "cache write",
        "batch in",
        "batch out",
        "since",
    ]);
    let price = |p: Option<byokit_core::Decimal>| p.map_or(String::new(), usd_per_million);
    for m in &models {
        let current = m.current_price();
        let rates = current.map(|p| p.rates).unwrap_or_default();
        let batch: Rates = current.and_then(|p| p.batch).unwrap_or_default();
        let mut id = format!("{}/{}", m.provider, m.id);
        if m.deprecated {
            id.push_str(" (retired)");
        }
        if current.is_some_and(|p| !p.tiers.is_empty()) {
            id.push_str(" *");
        }
        table.row([
            id,
            m.context_window.map_or(String::new(), tokens),
            current.map_or("unpriced".into(), |_| price(rates.input)),
            price(rates.output),
            price(rates.cached_input),
            price(rates.cache_write),
            price(batch.input),
            price(batch.output),
            current.map_or(String::new(), |p| p.effective.to_string()),
        ]);
    }
    writeln!(
        out,
        "{} models, USD per million tokens, catalog {}",
        models.len(),
        catalog.version()
    )?;
    table.write(out, "")?;
    if models
        .iter()
        .any(|m| m.current_price().is_some_and(|p| !p.tiers.is_empty()))
    {
        writeln!(out, "* higher prices above a prompt size: see --json")?;
    }
    Ok(())
}
