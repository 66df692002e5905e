//! # byokit-core
//!
//! The pure logic of byokit, the bring-your-own-key SDK for AI applications: the price catalog,
//! exact costs, and each provider's token semantics. No I/O, no clock, no threads: callers pass
//! text in and get decisions and figures out, so the same rules run natively, in WebAssembly and
//! behind the daemon.
//!
//! ```
//! use byokit_core::{Catalog, CostOptions, Provider, Usage};
//!
//! let catalog = Catalog::embedded();
//! let usage = Usage { input_tokens: 1000, output_tokens: 1000, ..Usage::default() };
//! // `claude-sonnet-4` is an alias of `claude-sonnet-4-20250514`.
//! let cost = catalog.cost(Provider::Anthropic, "claude-sonnet-4", &usage, &CostOptions::default())?;
//! assert_eq!(cost.model, "claude-sonnet-4-20250514");
//! assert_eq!(cost.cost_usd.unwrap().to_string(), "0.018");
//! # Ok::<(), byokit_core::CostError>(())
//! ```

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
