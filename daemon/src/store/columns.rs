//! How values are read back from a store's columns, whichever the database: a value that cannot
//! be read back is a damaged row, named, never a silent default; a count the database cannot hold
//! is refused, never wrapped.

use byokit_core::budget::{BudgetPolicy, Month};
use byokit_core::{CostStatus, Decimal, Payer, Provider};

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
