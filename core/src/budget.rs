//! Monthly budgets and their alerts, and the calendar month (UTC) that caps and budgets count in.

use std::collections::BTreeSet;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, Time};

/// A calendar month in UTC: the period of the system key's token cap and of budgets. It starts
/// at 00:00:00 UTC on the 1st.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month, 1–12.
    pub month: u8,
}

impl Month {
    /// The month that contains `at` (taken in UTC).
    pub fn containing(at: OffsetDateTime) -> Month {
        let utc = at.to_offset(time::UtcOffset::UTC);
        Month {
            year: utc.year(),
            month: u8::from(utc.month()),
        }
    }

    /// Its first instant, 00:00:00 UTC on the 1st.
    pub fn start(self) -> OffsetDateTime {
        let month = time::Month::try_from(self.month).unwrap_or(time::Month::January);
        Date::from_calendar_date(self.year, month, 1)
            .unwrap_or(Date::MIN)
            .with_time(Time::MIDNIGHT)
            .assume_utc()
    }

    /// The month after.
    pub fn next(self) -> Month {
        if self.month >= 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Whether `at` falls in this month.
    pub fn contains(self, at: OffsetDateTime) -> bool {
        Month::containing(at) == self
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A month that is not `YYYY-MM` with a month from 1 to 12.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a month (YYYY-MM): {0:?}")]
pub struct BadMonth(pub String);

impl std::str::FromStr for Month {
    type Err = BadMonth;

    /// Reads back what [`Month`]'s `Display` writes: `2026-12`.
    fn from_str(s: &str) -> Result<Month, BadMonth> {
        let bad = || BadMonth(s.to_owned());
        let (year, month) = s.split_once('-').ok_or_else(bad)?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month {
            year: year.parse().map_err(|_| bad())?,
            month,
        })
    }
}

/// What happens when a budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BudgetPolicy {
    /// Refuse calls that would pass the limit.
    #[default]
    Block,
    /// Let calls through; only alert.
    AllowAndAlert,
}

impl BudgetPolicy {
    /// The snake_case name, as serialized: `block` or `allow_and_alert`.
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetPolicy::Block => "block",
            BudgetPolicy::AllowAndAlert => "allow_and_alert",
        }
    }
}

from_as_str!(
    BudgetPolicy,
    "budget policy",
    [BudgetPolicy::Block, BudgetPolicy::AllowAndAlert]
);

/// The default alert thresholds, in percent of the limit.
pub const DEFAULT_ALERT_THRESHOLDS: [u8; 3] = [50, 80, 100];

/// A user's monthly spending limit on their own keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Budget {
    /// The limit per calendar month (UTC), in USD.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    #[serde(deserialize_with = "crate::cost::deserialize_usd")]
    pub monthly_limit_usd: Decimal,
    /// Block, or allow and alert.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<BudgetPolicy>"))]
    pub policy: BudgetPolicy,
    /// Percentages of the limit at which an alert fires, once per month each.
    #[serde(default = "default_thresholds")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<u8>>"))]
    pub alert_thresholds: Vec<u8>,
}

fn default_thresholds() -> Vec<u8> {
    DEFAULT_ALERT_THRESHOLDS.to_vec()
}

impl Budget {
    /// A budget with the default policy (block) and thresholds (50, 80, 100 %).
    pub fn new(monthly_limit_usd: Decimal) -> Budget {
        Budget {
            monthly_limit_usd,
            policy: BudgetPolicy::Block,
            alert_thresholds: default_thresholds(),
        }
    }

    /// The limit a ledger enforces: the monthly limit when blocking, none when only alerting.
    pub fn enforced_limit(&self) -> Option<Decimal> {
        (self.policy == BudgetPolicy::Block).then_some(self.monthly_limit_usd)
    }

    /// Checks what a budget must be: a limit that is not negative, thresholds of 1 to 100 %.
    pub fn validate(&self) -> Result<(), InvalidBudget> {
        if self.monthly_limit_usd.is_sign_negative() && !self.monthly_limit_usd.is_zero() {
            return Err(InvalidBudget(
                "a budget's monthly limit cannot be negative".to_owned(),
            ));
        }
        for &t in &self.alert_thresholds {
            threshold_percent(u32::from(t))?;
        }
        Ok(())
    }

    /// Whether a call on the user's own keys may start when `spent_usd` has been spent in
    /// `month`: under `block`, only while the spending is below the limit (the call that crosses
    /// it completes: its cost is known only at its end); under `allow_and_alert`, always.
    pub fn admit(&self, month: Month, spent_usd: Decimal) -> Result<(), BudgetReached> {
        match self.enforced_limit() {
            Some(limit) if spent_usd >= limit => Err(BudgetReached {
                month,
                limit_usd: limit,
                spent_usd,
            }),
            _ => Ok(()),
        }
    }

    /// Where spending stands.
    pub fn status(&self, month: Month, spent_usd: Decimal) -> BudgetStatus {
        let remaining = (self.monthly_limit_usd - spent_usd).max(Decimal::ZERO);
        let percent_used = if self.monthly_limit_usd.is_zero() {
            Decimal::ONE_HUNDRED
        } else {
            (spent_usd * Decimal::ONE_HUNDRED / self.monthly_limit_usd).round_dp(2)
        };
        BudgetStatus {
            month,
            limit_usd: self.monthly_limit_usd,
            spent_usd,
            remaining_usd: remaining,
            percent_used,
            exceeded: spent_usd > self.monthly_limit_usd,
            policy: self.policy,
        }
    }

    /// The alerts that fire now that spending in the month of `at` reached `spent_usd`: each
    /// threshold reached and not yet fired this month, once. `fired` remembers them; a new month
    /// starts it afresh.
    pub fn alerts(
        &self,
        fired: &mut FiredAlerts,
        spent_usd: Decimal,
        at: OffsetDateTime,
    ) -> Vec<Alert> {
        let month = Month::containing(at);
        if fired.month != Some(month) {
            *fired = FiredAlerts {
                month: Some(month),
                thresholds: BTreeSet::new(),
            };
        }
        let mut out = Vec::new();
        let mut thresholds = self.alert_thresholds.clone();
        thresholds.sort_unstable();
        thresholds.dedup();
        for pct in thresholds {
            let at_threshold = self.monthly_limit_usd * Decimal::from(pct) / Decimal::ONE_HUNDRED;
            if spent_usd >= at_threshold && fired.thresholds.insert(pct) {
                out.push(Alert {
                    month,
                    threshold_percent: pct,
                    spent_usd,
                    limit_usd: self.monthly_limit_usd,
                });
            }
        }
        out
    }
}

/// The alerts already fired in a month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct FiredAlerts {
    /// The month they were fired in.
    pub month: Option<Month>,
    /// The thresholds fired, in percent.
    pub thresholds: BTreeSet<u8>,
}

/// A budget alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "BudgetAlert")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    /// The month it belongs to.
    pub month: Month,
    /// The threshold reached, in percent of the limit.
    pub threshold_percent: u8,
    /// Spending when it fired.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub spent_usd: Decimal,
    /// The limit.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub limit_usd: Decimal,
}

/// Where a budget stands in a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetStatus {
    /// The month.
    pub month: Month,
    /// The limit.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub limit_usd: Decimal,
    /// Spent so far.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub spent_usd: Decimal,
    /// Left, never negative.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub remaining_usd: Decimal,
    /// Spent as a percentage of the limit, to 2 decimals.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub percent_used: Decimal,
    /// Spending passed the limit.
    pub exceeded: bool,
    /// The policy.
    pub policy: BudgetPolicy,
}

/// A budget that cannot be: a negative limit, a threshold outside 1 to 100 %.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidBudget(String);

/// An alert threshold, 1 to 100 percent of the limit.
pub fn threshold_percent(percent: u32) -> Result<u8, InvalidBudget> {
    match u8::try_from(percent) {
        Ok(p @ 1..=100) => Ok(p),
        _ => Err(InvalidBudget(format!(
            "alert threshold {percent}% is not between 1 and 100"
        ))),
    }
}

/// A call refused because the month's spending on the user's own keys has reached a budget
/// whose policy is `block`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("your monthly budget of ${limit_usd} is spent (${spent_usd} in {month}); raise it or wait for next month")]
pub struct BudgetReached {
    /// The month.
    pub month: Month,
    /// The limit.
    pub limit_usd: Decimal,
    /// What was spent.
    pub spent_usd: Decimal,
}

impl BudgetReached {
    /// The refusal's kind, as errors name it: `budget_reached`.
    pub fn kind(&self) -> &'static str {
        "budget_reached"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_reads_back_what_it_writes_and_nothing_else() {
        for m in [
            Month {
                year: 2026,
                month: 1,
            },
            Month {
                year: 2026,
                month: 12,
            },
            Month {
                year: 987,
                month: 7,
            },
        ] {
            assert_eq!(m.to_string().parse::<Month>(), Ok(m));
        }
        for bad in ["2026-13", "2026-0", "2026", "2026-1x", "-12", ""] {
            assert_eq!(bad.parse::<Month>(), Err(BadMonth(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn a_limit_is_read_exactly_or_refused() {
        let limit = |json: &str| {
            serde_json::from_str::<Budget>(&format!(r#"{{"monthly_limit_usd": {json}}}"#))
                .map(|b| b.monthly_limit_usd.to_string())
        };
        assert_eq!(limit(r#""20.50""#).unwrap(), "20.50");
        assert_eq!(limit("20").unwrap(), "20");
        assert_eq!(limit("20.5").unwrap(), "20.5");
        for bad in [
            r#""1e3""#,
            r#""12,50""#,
            r#""1.00000000000000000000000000001""#,
            "true",
        ] {
            let err = limit(bad).unwrap_err().to_string();
            assert!(err.contains("an amount in USD"), "{bad}: {err}");
        }
    }
    use time::macros::datetime;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn months_roll_over_at_midnight_utc() {
        let last = datetime!(2026-11-30 23:59:59.999 UTC);
        let first = datetime!(2026-12-01 00:00:00 UTC);
        assert_eq!(Month::containing(last).to_string(), "2026-11");
        assert_eq!(Month::containing(first).to_string(), "2026-12");
        // An instant given in another offset counts in UTC.
        assert_eq!(
            Month::containing(datetime!(2026-12-01 00:30 +01:00)).to_string(),
            "2026-11"
        );
        assert_eq!(Month::containing(first).start(), first);
        assert_eq!(
            Month {
                year: 2026,
                month: 12
            }
            .next(),
            Month {
                year: 2027,
                month: 1
            }
        );
    }

    #[test]
    fn each_alert_fires_once_a_month() {
        let budget = Budget::new(d("10"));
        let mut fired = FiredAlerts::default();
        let nov = datetime!(2026-11-10 12:00 UTC);
        assert!(budget.alerts(&mut fired, d("4.99"), nov).is_empty());
        let a = budget.alerts(&mut fired, d("5"), nov);
        assert_eq!(
            a.iter().map(|a| a.threshold_percent).collect::<Vec<_>>(),
            vec![50]
        );
        assert!(
            budget.alerts(&mut fired, d("6"), nov).is_empty(),
            "50% fires only once"
        );
        // A jump past two thresholds fires both.
        let a = budget.alerts(&mut fired, d("10.5"), nov);
        assert_eq!(
            a.iter().map(|a| a.threshold_percent).collect::<Vec<_>>(),
            vec![80, 100]
        );
        // Next month, afresh.
        let dec = datetime!(2026-12-01 00:00 UTC);
        let a = budget.alerts(&mut fired, d("5"), dec);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].month.to_string(), "2026-12");
    }

    #[test]
    fn a_budget_has_a_limit_not_below_zero_and_thresholds_of_1_to_100() {
        assert_eq!(Budget::new(d("0")).validate(), Ok(()));
        let negative = Budget::new(d("-1")).validate().unwrap_err();
        assert_eq!(
            negative.to_string(),
            "a budget's monthly limit cannot be negative"
        );
        for (thresholds, ok) in [
            (vec![1, 50, 100], true),
            (vec![0], false),
            (vec![101], false),
        ] {
            let b = Budget {
                alert_thresholds: thresholds.clone(),
                ..Budget::new(d("10"))
            };
            assert_eq!(b.validate().is_ok(), ok, "{thresholds:?}");
        }
        assert_eq!(threshold_percent(80), Ok(80));
        assert_eq!(
            threshold_percent(300).unwrap_err().to_string(),
            "alert threshold 300% is not between 1 and 100"
        );
    }

    #[test]
    fn a_blocking_budget_admits_calls_until_it_is_spent() {
        let nov = Month {
            year: 2026,
            month: 11,
        };
        let mut budget = Budget::new(d("20"));
        assert_eq!(budget.admit(nov, d("19.999999")), Ok(()));
        let refused = budget.admit(nov, d("20")).unwrap_err();
        assert_eq!(refused.kind(), "budget_reached");
        assert_eq!(
            refused.to_string(),
            "your monthly budget of $20 is spent ($20 in 2026-11); raise it or wait for next month"
        );
        assert!(budget.admit(nov, d("31.5")).is_err());
        budget.policy = BudgetPolicy::AllowAndAlert;
        assert_eq!(budget.admit(nov, d("31.5")), Ok(()));
    }

    #[test]
    fn status_and_enforcement() {
        let mut budget = Budget::new(d("20"));
        let s = budget.status(
            Month {
                year: 2026,
                month: 11,
            },
            d("5"),
        );
        assert_eq!(
            (s.remaining_usd, s.percent_used, s.exceeded),
            (d("15"), d("25"), false)
        );
        assert_eq!(budget.enforced_limit(), Some(d("20")));
        budget.policy = BudgetPolicy::AllowAndAlert;
        assert_eq!(budget.enforced_limit(), None);
        let s = budget.status(
            Month {
                year: 2026,
                month: 11,
            },
            d("25"),
        );
        assert_eq!((s.remaining_usd, s.exceeded), (Decimal::ZERO, true));
    }
}
