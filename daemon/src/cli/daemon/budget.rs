//! `byokit budget`, `byokit alerts`.

use byokit_core::Decimal;
use clap::Subcommand;
use serde_json::json;

use super::*;
use crate::cli::table::usd;
use crate::cli::{write_json, CliError};
use byokit_core::protocol::BudgetGetResult;
use byokit_core::Alert;

/// `byokit budget ...`
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Show the budget and this month's spending.
    Get(JsonFlag),
    /// Set a monthly limit in USD.
    Set {
        /// The limit, e.g. 25 or 12.50.
        #[arg(long)]
        monthly_limit: Decimal,
        /// Only alert instead of blocking calls past the limit.
        #[arg(long)]
        allow_over: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn budget(
    t: &Target,
    c: BudgetCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        BudgetCommand::Get(f) => {
            let v = t.call("budget.get", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            match serde_json::from_value::<Option<BudgetGetResult>>(v)? {
                None => writeln!(out, "no budget set")?,
                Some(BudgetGetResult { budget, status }) => writeln!(
                    out,
                    "{} of {} spent in {} ({}%), policy {}",
                    usd(status.spent_usd),
                    usd(status.limit_usd),
                    status.month,
                    status.percent_used,
                    budget.policy.as_str().replace('_', " ")
                )?,
            }
            Ok(())
        }
        BudgetCommand::Set {
            monthly_limit,
            allow_over,
            json: as_json,
        } => {
            let policy = if allow_over {
                "allow_and_alert"
            } else {
                "block"
            };
            let v = t.call(
                "budget.set",
                json!({"monthly_limit_usd": monthly_limit, "policy": policy}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            writeln!(
                out,
                "budget set: {} a month ({})",
                usd(monthly_limit),
                policy.replace('_', " ")
            )?;
            Ok(())
        }
    }
}

pub(crate) fn alerts(
    t: &Target,
    f: JsonFlag,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let v = t.call("alerts.list", json!({}))?;
    if f.json {
        return write_json(out, &v);
    }
    let list: Vec<Alert> = serde_json::from_value(v)?;
    if list.is_empty() {
        writeln!(out, "no alerts")?;
    }
    for a in list {
        writeln!(
            out,
            "{}%  of {}  reached with {}",
            a.threshold_percent,
            usd(a.limit_usd),
            usd(a.spent_usd)
        )?;
    }
    Ok(())
}
