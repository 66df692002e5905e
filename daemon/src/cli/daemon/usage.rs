//! `byokit usage`, `byokit compare`: what the user spent, and what it would cost elsewhere.

use byokit_core::{Decimal, Payer, Provider, Usage};
use clap::{Args, Subcommand};
use serde_json::json;

use byokit_core::protocol::{UsageRecordResult, UsageRepriceResult};
use byokit_core::usage::CSV_HEADER;
use byokit_core::{Totals, UsageSummary};
use byokit_core::{UsageEvent, WhatIf};

use super::*;
use crate::cli::table::Table;
use crate::cli::{write_json, CliError};

/// `byokit usage [--days N] [--json]`, or `byokit usage record ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct UsageArgs {
    /// The window, 1 to 365 days.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Record usage instead.
    #[command(subcommand)]
    pub record: Option<UsageCommand>,
}

/// `byokit usage record` and `byokit usage export`.
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Every recorded call of the last N days, oldest first, as JSON Lines or CSV.
    Export {
        /// The window, 1 to 365 days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// `jsonl` or `csv`.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
    /// Price again the records of the last N days that were unpriced or estimated, with the
    /// daemon's catalog as it is now (`byokd --catalog`, reloaded by SIGHUP); exact records are
    /// never repriced.
    Reprice {
        /// The window, 1 to 365 days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Record one call's usage (token counts as the provider reported them).
    Record {
        /// The provider.
        #[arg(long)]
        provider: String,
        /// The model.
        #[arg(long)]
        model: String,
        /// The feature.
        #[arg(long)]
        feature: Option<String>,
        /// Input tokens as reported.
        #[arg(long)]
        input: u64,
        /// Output tokens as reported.
        #[arg(long)]
        output: u64,
        /// Cached input tokens.
        #[arg(long, default_value_t = 0)]
        cached_input: u64,
        /// Cache-write tokens.
        #[arg(long, default_value_t = 0)]
        cache_write: u64,
        /// Reasoning tokens.
        #[arg(long, default_value_t = 0)]
        reasoning: u64,
        /// The call went through the system key.
        #[arg(long)]
        system: bool,
        /// Makes a retried record count once.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn usage(
    t: &Target,
    args: UsageArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    if let Some(UsageCommand::Export { days, format }) = &args.record {
        return export(t, *days, format, out);
    }
    if let Some(UsageCommand::Reprice { days, json }) = &args.record {
        let v = t.call("usage.reprice", json!({"days": days}))?;
        if *json {
            return write_json(out, &v);
        }
        let r: UsageRepriceResult = serde_json::from_value(v)?;
        writeln!(
            out,
            "repriced {} records with catalog {}; {} still without an exact price",
            r.repriced, r.catalog_version, r.unchanged
        )?;
        return Ok(());
    }
    if let Some(UsageCommand::Record {
        provider: p,
        model,
        feature,
        input,
        output,
        cached_input,
        cache_write,
        reasoning,
        system,
        idempotency_key,
        json: as_json,
    }) = args.record
    {
        let p: Provider = p.parse()?;
        let usage = Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached_input,
            cache_write_tokens: cache_write,
            reasoning_tokens: reasoning,
            estimated: false,
        };
        let payer = if system { Payer::System } else { Payer::User };
        let v = t.call(
            "usage.record",
            json!({"provider": p, "model": model, "feature": feature, "usage": usage, "payer": payer, "idempotency_key": idempotency_key}),
        )?;
        if as_json {
            return write_json(out, &v);
        }
        let r: UsageRecordResult = serde_json::from_value(v)?;
        let cost = r
            .cost_usd
            .map_or("unpriced".to_owned(), |c| format!("${c}"));
        writeln!(
            out,
            "recorded #{}: {cost}{}",
            r.id,
            if r.duplicate {
                " (already recorded)"
            } else {
                ""
            }
        )?;
        return Ok(());
    }
    let v = t.call("usage.summary", json!({"days": args.days}))?;
    if args.json {
        return write_json(out, &v);
    }
    write_summary(&serde_json::from_value(v)?, args.days, out)
}

fn export(
    t: &Target,
    days: i64,
    format: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    if format != "jsonl" && format != "csv" {
        return Err(CliError(format!(
            "unknown export format `{format}`; use jsonl or csv"
        )));
    }
    let v = t.call("usage.export", json!({"days": days}))?;
    let events: Vec<UsageEvent> = serde_json::from_value(v)?;
    if format == "jsonl" {
        for e in &events {
            serde_json::to_writer(&mut *out, e)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    writeln!(out, "{CSV_HEADER}")?;
    for e in &events {
        writeln!(out, "{}", e.csv_row())?;
    }
    Ok(())
}

/// `byokit compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The window of your usage to re-price, 1 to 365 days.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// Show this many models (cheapest first).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn compare(
    t: &Target,
    a: CompareArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let v = t.call("usage.compare", json!({"days": a.days}))?;
    if a.json {
        return write_json(out, &v);
    }
    writeln!(
        out,
        "Your last {} days of usage, re-priced on each model (cheapest first):",
        a.days
    )?;
    let mut table = Table::new(["model", "cost", ""]);
    let rows: Vec<WhatIf> = serde_json::from_value(v)?;
    for row in rows.into_iter().take(a.top) {
        table.row([
            format!("{}/{}", row.provider, row.model),
            row.cost_usd.map_or("?".into(), usd),
            if row.free_tier {
                "free tier".into()
            } else {
                String::new()
            },
        ]);
    }
    table.write(out, "  ")?;
    Ok(())
}

fn write_summary(
    s: &UsageSummary,
    days: i64,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let t = &s.totals;
    writeln!(
        out,
        "Last {days} days: {} requests, {} tokens ({} in, {} out), {}",
        tokens(t.requests),
        tokens(t.total_tokens),
        tokens(t.input_tokens),
        tokens(t.output_tokens),
        usd(t.cost_usd)
    )?;
    if t.unpriced_requests > 0 {
        writeln!(
            out,
            "({} requests could not be priced and are not in the cost)",
            tokens(t.unpriced_requests)
        )?;
    }
    let named = |m: &std::collections::BTreeMap<String, Totals>| -> Vec<(String, Totals)> {
        m.iter().map(|(n, t)| (n.clone(), *t)).collect()
    };
    let by_provider = s.by_provider.iter().map(|(p, t)| (p.to_string(), *t));
    for (title, groups) in [
        ("provider", by_provider.collect()),
        ("feature", named(&s.by_feature)),
        ("model", named(&s.by_model)),
    ] {
        if groups.is_empty() {
            continue;
        }
        writeln!(out)?;
        let mut table = Table::new([title, "requests", "tokens", "cost"]);
        for (name, t) in groups {
            let name = if name.is_empty() {
                "(none)".into()
            } else {
                name
            };
            table.row([
                name,
                tokens(t.requests),
                tokens(t.total_tokens),
                usd(t.cost_usd),
            ]);
        }
        table.write(out, "  ")?;
    }
    // A bar per day, scaled to the busiest day's cost.
    let max = s
        .by_day
        .iter()
        .map(|d| d.totals.cost_usd)
        .max()
        .unwrap_or_default();
    if !max.is_zero() {
        writeln!(out, "\n  cost per day")?;
        for d in &s.by_day {
            let width = (d.totals.cost_usd * Decimal::from(40) / max)
                .round()
                .try_into()
                .unwrap_or(0usize);
            writeln!(
                out,
                "  {}  {:<40}  {}",
                d.date,
                "█".repeat(width),
                usd(d.totals.cost_usd)
            )?;
        }
    }
    if let Some(q) = &s.system_quota {
        writeln!(
            out,
            "\nSystem key: {} of {} tokens used this month, {} left",
            tokens(q.used_tokens),
            tokens(q.cap_tokens),
            tokens(q.left_tokens)
        )?;
    }
    if let Some(b) = &s.budget {
        writeln!(
            out,
            "Budget: {} of {} spent this month ({}%)",
            usd(b.spent_usd),
            usd(b.limit_usd),
            b.percent_used
        )?;
    }
    Ok(())
}
