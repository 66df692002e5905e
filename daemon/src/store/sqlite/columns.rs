//! How values are written in and read back from columns: a value that cannot be read back is a
//! damaged row, named, never a silent default.

use super::*;

/// An instant as stored: milliseconds since the Unix epoch (every instant `time` can hold fits).
pub(super) fn ms(at: OffsetDateTime) -> i64 {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// An instant read back.
pub(super) fn from_ms(v: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .map_err(|_| StoreError::Damaged(format!("instant {v}")))
}

/// A count as SQLite holds it (a signed 64-bit integer); a larger one is refused, not wrapped.
pub(super) fn int(what: &str, v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::OutOfRange(format!("{what} {v}")))
}

/// A count read back; a negative one is a damaged row.
pub(super) fn count(what: &str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Damaged(format!("{what} {v}")))
}

pub(super) fn parse_payer(s: &str) -> Result<Payer, StoreError> {
    match s {
        "user" => Ok(Payer::User),
        "system" => Ok(Payer::System),
        other => Err(StoreError::Damaged(format!("payer {other:?}"))),
    }
}

pub(super) fn parse_policy(s: &str) -> Result<BudgetPolicy, StoreError> {
    match s {
        "block" => Ok(BudgetPolicy::Block),
        "allow_and_alert" => Ok(BudgetPolicy::AllowAndAlert),
        other => Err(StoreError::Damaged(format!("budget policy {other:?}"))),
    }
}

pub(super) fn parse_provider(s: &str) -> Result<Provider, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("provider {s:?}")))
}

pub(super) fn parse_decimal(s: &str) -> Result<Decimal, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("decimal {s:?}")))
}

pub(super) fn parse_status(s: &str) -> Result<CostStatus, StoreError> {
    match s {
        "exact" => Ok(CostStatus::Exact),
        "estimated" => Ok(CostStatus::Estimated),
        "unpriced" => Ok(CostStatus::Unpriced),
        other => Err(StoreError::Damaged(format!("cost status {other}"))),
    }
}

pub(super) fn status_str(s: CostStatus) -> &'static str {
    match s {
        CostStatus::Exact => "exact",
        CostStatus::Estimated => "estimated",
        CostStatus::Unpriced => "unpriced",
    }
}

pub(super) fn payer_str(p: Payer) -> &'static str {
    p.as_str()
}

pub(super) fn policy_str(p: BudgetPolicy) -> &'static str {
    p.as_str()
}
