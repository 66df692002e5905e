//! How values are read back from a store's columns, whichever the database: a value that cannot
//! be read back is a damaged row, named, never a silent default; a count the database cannot hold
//! is refused, never wrapped.

use byokit_core::budget::{BudgetPolicy, Month};
use byokit_core::{CostStatus, Decimal, Payer, Provider, Usage};

use super::StoreError;

/// A count as a database holds it (a signed 64-bit integer); a larger one is refused.
pub(crate) fn int(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::OutOfRange(format!("{what} {v}")))
}

/// A count read back; a negative one is a damaged row.
pub(crate) fn count(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Damaged(format!("{what} {v}")))
}

pub(crate) fn parse_payer(s: &str) -> Result<Payer, StoreError> {
    s.parse().map_err(damaged)
}

pub(crate) fn parse_policy(s: &str) -> Result<BudgetPolicy, StoreError> {
    s.parse().map_err(damaged)
}

pub(crate) fn parse_provider(s: &str) -> Result<Provider, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("provider {s:?}")))
}

pub(crate) fn parse_decimal(s: &str) -> Result<Decimal, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("decimal {s:?}")))
}

pub(crate) fn parse_status(s: &str) -> Result<CostStatus, StoreError> {
    s.parse().map_err(damaged)
}

/// A name the core does not know, as a damaged row (`payer "nobody"`).
fn damaged(e: byokit_core::UnknownName) -> StoreError {
    StoreError::Damaged(e.to_string())
}

pub(crate) fn parse_month(s: &str) -> Result<Month, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("month {s:?}")))
}

/// The token columns of a usage record, in the order of [`TOKEN_COLUMNS`].
pub(crate) const TOKEN_COLUMNS: [&str; 5] = [
    "prompt_tokens",
    "completion_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
];

/// A usage record's tokens read back ([`TOKEN_COLUMNS`]' values, in order).
pub(crate) fn usage(tokens: [i64; 5], estimated: bool) -> Result<Usage, StoreError> {
    let [input, output, cached, write, reasoning] = tokens;
    Ok(Usage {
        input_tokens: count(TOKEN_COLUMNS[0], input)?,
        output_tokens: count(TOKEN_COLUMNS[1], output)?,
        cached_input_tokens: count(TOKEN_COLUMNS[2], cached)?,
        cache_write_tokens: count(TOKEN_COLUMNS[3], write)?,
        reasoning_tokens: count(TOKEN_COLUMNS[4], reasoning)?,
        estimated,
    })
}
