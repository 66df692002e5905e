//! `byokit cost`: the exact cost of one call.

use byokit_core::{Catalog, Cost, CostOptions, CostStatus, Date, Provider, Usage};
use clap::Args;

use super::table::{tokens, usd, usd_per_million, Table};
use super::{write_json, CliError};

/// Arguments of `byokit cost`. Token flags are the provider's own usage fields.
#[derive(Debug, Args)]
pub struct CostArgs {
    /// The provider: openai, anthropic, groq, gemini or mistral.
    pub provider: String,
    /// The model id or alias (e.g. claude-sonnet-4, gpt-4o-2024-08-06).
    pub model: String,
    /// Input tokens as reported (OpenAI prompt_tokens, which include cached ones; Anthropic
    /// input_tokens, which exclude them; Gemini promptTokenCount).
    #[arg(long, value_name = "N")]
    pub input: u64,
    /// Output tokens as reported (OpenAI completion_tokens, which include reasoning; Gemini
    /// candidatesTokenCount, which excludes thoughts).
    #[arg(long, value_name = "N")]
    pub output: u64,
    /// Cached input tokens read (OpenAI cached_tokens, Anthropic cache_read_input_tokens, Gemini
    /// cachedContentTokenCount).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cached_input: u64,
    /// Cache-write tokens (Anthropic cache_creation_input_tokens).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cache_write: u64,
    /// Reasoning tokens (OpenAI reasoning_tokens, Gemini thoughtsTokenCount).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub reasoning: u64,
    /// Price with Batch API prices.
    #[arg(long)]
    pub batch: bool,
    /// Price with the prices in force on this day (YYYY-MM-DD) instead of the latest.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub at: Option<Date>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_day(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).map_err(|_| format!("invalid date `{s}`: expected YYYY-MM-DD"))
}

pub(super) fn run(
    catalog: &Catalog,
    args: &CostArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let provider: Provider = args.provider.parse()?;
    let usage = Usage {
        input_tokens: args.input,
        output_tokens: args.output,
        cached_input_tokens: args.cached_input,
        cache_write_tokens: args.cache_write,
        reasoning_tokens: args.reasoning,
        estimated: false,
    };
    let options = CostOptions {
        batch: args.batch,
        at: args.at,
    };
    let cost = catalog.cost(provider, &args.model, &usage, &options)?;
    if args.json {
        write_json(out, &cost)
    } else {
        write_human(&cost, &args.model, out)
    }
}

fn write_human(cost: &Cost<'_>, asked: &str, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let total = match (cost.status, cost.cost_usd) {
        (CostStatus::Unpriced, _) | (_, None) => "unpriced".to_owned(),
        (CostStatus::Estimated, Some(c)) => format!("{} (estimated)", usd(c)),
        (CostStatus::Exact, Some(c)) => usd(c),
    };
    let resolved = if asked.trim() == cost.model {
        String::new()
    } else {
        format!(" ({asked})")
    };
    writeln!(
        out,
        "{}/{}{}: {}",
        cost.provider, cost.model, resolved, total
    )?;

    let mut table = Table::new(["", "tokens", "$/M", "cost"]);
    for (class, line) in cost.breakdown.lines() {
        table.row([
            class.as_str().replace('_', " "),
            tokens(line.tokens),
            line.usd_per_million
                .map_or("no price".into(), usd_per_million),
            line.cost_usd.map_or("-".into(), usd),
        ]);
    }
    if !table.is_empty() {
        table.write(out, "  ")?;
    }
    let mut notes = Vec::new();
    match cost.price_effective {
        Some(day) => notes.push(format!("prices of {day}")),
        None => notes.push("no prices for that day".into()),
    }
    if cost.batch {
        notes.push("Batch API".into());
    }
    if let Some(t) = cost.tier_above_prompt_tokens {
        notes.push(format!("long-prompt tier above {} tokens", tokens(t)));
    }
    notes.push(format!("catalog {}", cost.catalog_version));
    writeln!(out, "  {}", notes.join(", "))?;
    Ok(())
}
