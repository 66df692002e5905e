//! Instants as SQLite stores them (milliseconds); the other columns as every store reads them
//! (`store::columns`).

use super::*;

/// An instant as stored: milliseconds since the Unix epoch (every instant `time` can hold fits).
pub(super) fn ms(at: OffsetDateTime) -> i64 {
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// An instant read back.
pub(crate) fn from_ms(v: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .map_err(|_| StoreError::Damaged(format!("instant {v}")))
}

pub(super) use crate::store::columns::*;
