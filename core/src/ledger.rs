//! Race-free quotas: reserve an estimate before a call, settle with the actual usage after it,
//! and let reservations that are never settled expire.
//!
//! A [`Ledger`] counts one quantity (tokens through the system key, or a budget's USD) for one
//! period. Admission compares what is settled *plus every outstanding reservation* plus the new
//! estimate with the limit, so N concurrent calls cannot overshoot it by more than the error of
//! their estimates. A crashed call's reservation expires at its deadline instead of blocking the
//! user forever (the false "budget exceeded" refusals of leaked reservations).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// How long an unsettled reservation holds its place by default: longer than any call's total
/// timeout.
pub const DEFAULT_RESERVATION_TTL: Duration = Duration::minutes(10);

/// An amount a ledger counts: tokens (`u64`) or money (`Decimal`).
pub trait Amount: Copy + Ord + Default + std::fmt::Debug {
    /// `self + other`, saturating at the type's maximum.
    fn plus(self, other: Self) -> Self;
}

impl Amount for u64 {
    fn plus(self, other: u64) -> u64 {
        self.saturating_add(other)
    }
}

impl Amount for Decimal {
    fn plus(self, other: Decimal) -> Decimal {
        self.saturating_add(other)
    }
}

/// One outstanding reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation<A> {
    /// The estimate held.
    pub amount: A,
    /// When it lapses if never settled.
    #[serde(with = "crate::instant")]
    pub expires_at: OffsetDateTime,
}

/// A refusal: admitting the estimate would pass the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("limit reached: {settled:?} used and {reserved:?} reserved of {limit:?}, {requested:?} more asked")]
pub struct OverLimit<A: std::fmt::Debug> {
    /// Settled so far in the period.
    pub settled: A,
    /// Held by outstanding reservations.
    pub reserved: A,
    /// The new call's estimate.
    pub requested: A,
    /// The limit.
    pub limit: A,
}

/// Settled usage and outstanding reservations of one quantity in one period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger<A> {
    settled: A,
    reservations: BTreeMap<String, Reservation<A>>,
}

impl<A: Amount> Ledger<A> {
    /// An empty ledger that starts from `settled` (what the store already recorded).
    pub fn new(settled: A) -> Ledger<A> {
        Ledger {
            settled,
            reservations: BTreeMap::new(),
        }
    }

    /// What is settled.
    pub fn settled(&self) -> A {
        self.settled
    }

    /// What outstanding reservations hold (expired ones included until [`Ledger::expire`]).
    pub fn reserved(&self) -> A {
        self.reservations
            .values()
            .fold(A::default(), |sum, r| sum.plus(r.amount))
    }

    /// Settled plus reserved: what admission compares with the limit.
    pub fn committed(&self) -> A {
        self.settled.plus(self.reserved())
    }

    /// Number of outstanding reservations.
    pub fn outstanding(&self) -> usize {
        self.reservations.len()
    }

    /// Drops the reservations whose deadline has passed; returns how many.
    pub fn expire(&mut self, now: OffsetDateTime) -> usize {
        let before = self.reservations.len();
        self.reservations.retain(|_, r| r.expires_at > now);
        before - self.reservations.len()
    }

    /// Whether `estimate` more fits: `settled + live reservations + estimate ≤ limit`, where a
    /// reservation is live until its deadline (and `except`, the id being re-reserved, does not
    /// count). A limit of `None` admits everything. Reaching the limit exactly is allowed.
    pub fn check(
        &self,
        estimate: A,
        limit: Option<A>,
        now: OffsetDateTime,
        except: Option<&str>,
    ) -> Result<(), OverLimit<A>> {
        let Some(limit) = limit else { return Ok(()) };
        let reserved = self
            .reservations
            .iter()
            .filter(|(k, r)| r.expires_at > now && Some(k.as_str()) != except)
            .fold(A::default(), |sum, (_, r)| sum.plus(r.amount));
        if self.settled.plus(reserved).plus(estimate) > limit {
            return Err(OverLimit {
                settled: self.settled,
                reserved,
                requested: estimate,
                limit,
            });
        }
        Ok(())
    }

    /// Reserves `estimate` under `id` if [`Ledger::check`] admits it, dropping expired
    /// reservations first. Reserving an id again replaces its reservation.
    pub fn reserve(
        &mut self,
        id: impl Into<String>,
        estimate: A,
        limit: Option<A>,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<(), OverLimit<A>> {
        self.expire(now);
        let id = id.into();
        self.check(estimate, limit, now, Some(&id))?;
        self.reservations.insert(
            id,
            Reservation {
                amount: estimate,
                expires_at: now + ttl,
            },
        );
        Ok(())
    }

    /// Replaces the reservation `id` (if it is still there) by the actual amount. Settling an
    /// expired or unknown reservation still records the actual amount: the call did happen.
    pub fn settle(&mut self, id: &str, actual: A) {
        self.reservations.remove(id);
        self.settled = self.settled.plus(actual);
    }

    /// Drops a reservation without recording anything (the call failed before using anything).
    pub fn release(&mut self, id: &str) {
        self.reservations.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::minutes(minutes)
    }

    #[test]
    fn reserve_settle_and_the_exact_boundary() {
        let mut l = Ledger::new(999_000u64);
        // Exactly reaching the cap is allowed; one more token is not.
        assert!(l
            .reserve("a", 1_000, Some(1_000_000), t(0), DEFAULT_RESERVATION_TTL)
            .is_ok());
        assert_eq!(l.committed(), 1_000_000);
        let err = l
            .reserve("b", 1, Some(1_000_000), t(0), DEFAULT_RESERVATION_TTL)
            .unwrap_err();
        assert_eq!(
            (err.settled, err.reserved, err.requested),
            (999_000, 1_000, 1)
        );
        // The call used less than estimated: room again.
        l.settle("a", 400);
        assert_eq!((l.settled(), l.reserved()), (999_400, 0));
        assert!(l
            .reserve("b", 600, Some(1_000_000), t(0), DEFAULT_RESERVATION_TTL)
            .is_ok());
    }

    #[test]
    fn unsettled_reservations_expire() {
        let mut l = Ledger::new(0u64);
        l.reserve("crashed", 900, Some(1_000), t(0), Duration::minutes(10))
            .unwrap();
        assert!(l
            .reserve("next", 200, Some(1_000), t(9), Duration::minutes(10))
            .is_err());
        // At the deadline the crashed call's hold is gone.
        assert!(l
            .reserve("next", 200, Some(1_000), t(10), Duration::minutes(10))
            .is_ok());
        assert_eq!(l.outstanding(), 1);
        // Settling late still counts what was used.
        l.settle("crashed", 50);
        assert_eq!(l.settled(), 50);
    }

    #[test]
    fn money_ledgers_work_the_same() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let mut l = Ledger::new(d("9.99"));
        assert!(l
            .reserve("x", d("0.02"), Some(d("10")), t(0), DEFAULT_RESERVATION_TTL)
            .is_err());
        assert!(l
            .reserve("x", d("0.01"), Some(d("10")), t(0), DEFAULT_RESERVATION_TTL)
            .is_ok());
        l.release("x");
        assert_eq!(l.committed(), d("9.99"));
    }
}
