#![doc = include_str!("../README.md")]

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
