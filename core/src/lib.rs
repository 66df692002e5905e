#![doc = include_str!("../README.md")]

/// `FromStr` for an enum written by name: reads back exactly what its `as_str` writes.
macro_rules! from_as_str {
    ($t:ty, $what:literal, [$($v:expr),+ $(,)?]) => {
        impl std::str::FromStr for $t {
            type Err = crate::UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                [$($v),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| crate::UnknownName { what: $what, name: s.to_owned() })
            }
        }
    };
}

/// A name that is none of an enum's names (`payer "nobody"`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {name:?}")]
pub struct UnknownName {
    /// What was read (`payer`, `cost status`, `budget policy`).
    pub what: &'static str,
    /// What was there.
    pub name: String,
}

pub mod adapters;
pub mod budget;
pub mod catalog;
pub mod chat;
pub mod cost;
pub mod day;
pub mod error;
pub mod estimate;
pub mod gateway;
pub mod http;
pub mod instant;
pub mod json;
pub mod key;
pub mod ledger;
pub mod protocol;
pub mod provider;
pub mod ratelimit;
pub mod routing;
pub mod sse;
mod suggest;
pub mod usage;
pub mod whatif;

pub use adapters::{
    build_chat_request, build_test_request, interpret_test_response, parse_chat_response,
    AdapterError, RequestOptions, StreamAccumulator, StreamSummary, StreamUsage, TestOutcome,
};
pub use budget::{
    Alert, Budget, BudgetPolicy, BudgetReached, BudgetStatus, FiredAlerts, InvalidBudget, Month,
};
pub use chat::{ChatRequest, ChatResponse, FinishReason, Message, Role};
pub use error::{classify_error, ErrorKind, ProviderError};
pub use estimate::{approximate_chat, estimate_chat, estimate_text, EstimateMethod, TokenEstimate};
pub use http::{Headers, HttpRequest, Method};
pub use key::{check_key, ApiKey, KeyProblem};
pub use ledger::{Ledger, OverLimit};
pub use ratelimit::{read_rate_limits, RateLimits};
pub use routing::{
    route, route_in_catalog, Decision, KeyChoice, KeyStatus, Payer, RouteError, RouteRequest,
    RoutingConfig,
};
pub use usage::{summarize, Totals, UsageEvent, UsageSummary, Window, WindowOutOfRange};
pub use whatif::{what_if, WhatIf, Workload};

pub use catalog::{
    Catalog, CatalogError, CatalogFile, CatalogFormat, Model, ModelEntry, PriceSet, ProviderInfo,
    Rates, Tier, UnknownModel, DEFAULT_CATALOG_JSON, DEFAULT_CATALOG_TOML,
};
pub use cost::{
    parse_usd, BillableTokens, Breakdown, Cost, CostError, CostOptions, CostStatus, LineItem,
    TokenClass, Usage,
};
pub use provider::{Provider, UnknownProvider, UsageSemantics};
pub use rust_decimal::Decimal;
pub use time::Date;

#[cfg(test)]
mod names {
    use super::*;
    use crate::budget::BudgetPolicy;

    #[test]
    fn each_name_reads_back_as_written_and_nothing_else_does() {
        for p in [Payer::User, Payer::System] {
            assert_eq!(p.as_str().parse::<Payer>(), Ok(p));
        }
        for c in [
            CostStatus::Exact,
            CostStatus::Estimated,
            CostStatus::Unpriced,
        ] {
            assert_eq!(c.as_str().parse::<CostStatus>(), Ok(c));
        }
        for b in [BudgetPolicy::Block, BudgetPolicy::AllowAndAlert] {
            assert_eq!(b.as_str().parse::<BudgetPolicy>(), Ok(b));
        }
        let e = "User".parse::<Payer>().unwrap_err();
        assert_eq!(e.to_string(), "payer \"User\"");
        assert!("allow-and-alert".parse::<BudgetPolicy>().is_err());
    }
}
