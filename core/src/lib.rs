#![doc = include_str!("../README.md")]

pub mod catalog;
pub mod cost;
pub mod provider;
mod suggest;

pub use catalog::{
    Catalog, CatalogError, CatalogFile, CatalogFormat, Model, ModelEntry, PriceSet, ProviderInfo,
    Rates, Tier, UnknownModel, DEFAULT_CATALOG_TOML,
};
pub use cost::{
    BillableTokens, Breakdown, Cost, CostError, CostOptions, CostStatus, LineItem, TokenClass,
    Usage,
};
pub use provider::{Provider, UnknownProvider, UsageSemantics};
pub use rust_decimal::Decimal;
pub use time::Date;
