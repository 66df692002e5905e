//! Prices and exact costs.

use std::sync::Arc;

use byokit_core as core;

use crate::{day, money, ByokitError, CostStatus, Provider, TokenUsage};

/// What to price: a call's token counts, as the provider reported them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CostInput {
    /// The provider.
    pub provider: Provider,
    /// A model id or alias (`claude-sonnet-4`, `gpt-4o-2024-08-06`).
    pub model: String,
    /// The token counts.
    pub usage: TokenUsage,
    /// Price with the Batch API prices.
    #[uniffi(default = false)]
    pub batch: bool,
    /// Price with the prices in force on this day (`YYYY-MM-DD`, UTC); the latest when absent.
    #[uniffi(default = None)]
    pub at: Option<String>,
}

/// A token class of a cost breakdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TokenClass {
    /// Uncached input.
    Input,
    /// Input read from the prompt cache.
    CachedInput,
    /// Input written to the prompt cache.
    CacheWrite,
    /// Output other than reasoning.
    Output,
    /// Reasoning output.
    Reasoning,
}

impl From<core::TokenClass> for TokenClass {
    fn from(c: core::TokenClass) -> Self {
        match c {
            core::TokenClass::Input => TokenClass::Input,
            core::TokenClass::CachedInput => TokenClass::CachedInput,
            core::TokenClass::CacheWrite => TokenClass::CacheWrite,
            core::TokenClass::Output => TokenClass::Output,
            core::TokenClass::Reasoning => TokenClass::Reasoning,
        }
    }
}

/// One line of a cost breakdown.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CostLine {
    /// The token class.
    pub token_class: TokenClass,
    /// Billable tokens of this class.
    pub tokens: u64,
    /// The price applied, USD per million tokens; absent when the catalog has none.
    pub usd_per_million: Option<String>,
    /// `tokens × price ÷ 10⁶`, exactly; absent when unpriced.
    pub cost_usd: Option<String>,
}

/// The exact cost of a call.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CostEstimate {
    /// The provider.
    pub provider: Provider,
    /// The model's canonical id (an alias resolved).
    pub model: String,
    /// The total in USD, exact; absent when [`CostStatus::Unpriced`].
    pub cost_usd: Option<String>,
    /// Exact, estimated or unpriced.
    pub status: CostStatus,
    /// The cost per token class with tokens; the priced lines add up to `cost_usd` exactly.
    pub lines: Vec<CostLine>,
    /// The version of the catalog the prices came from.
    pub catalog_version: String,
    /// The day the applied price set took effect.
    pub price_effective: Option<String>,
    /// The prompt-size threshold of the long-prompt tier applied, if one was.
    pub tier_above_prompt_tokens: Option<u64>,
    /// Batch API prices were applied.
    pub batch: bool,
}

impl From<core::Cost<'_>> for CostEstimate {
    fn from(c: core::Cost<'_>) -> Self {
        CostEstimate {
            provider: c.provider.into(),
            model: c.model.to_owned(),
            cost_usd: c.cost_usd.map(money),
            status: c.status.into(),
            lines: c
                .breakdown
                .lines()
                .map(|(class, l)| CostLine {
                    token_class: class.into(),
                    tokens: l.tokens,
                    usd_per_million: l.usd_per_million.map(money),
                    cost_usd: l.cost_usd.map(money),
                })
                .collect(),
            catalog_version: c.catalog_version.to_owned(),
            price_effective: c.price_effective.map(day),
            tier_above_prompt_tokens: c.tier_above_prompt_tokens,
            batch: c.batch,
        }
    }
}

/// Prices in USD per million tokens, as decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Prices {
    /// Uncached input.
    pub input: Option<String>,
    /// Output.
    pub output: Option<String>,
    /// Cached input read.
    pub cached_input: Option<String>,
    /// Cache write.
    pub cache_write: Option<String>,
}

impl From<&core::Rates> for Prices {
    fn from(r: &core::Rates) -> Self {
        Prices {
            input: r.input.map(money),
            output: r.output.map(money),
            cached_input: r.cached_input.map(money),
            cache_write: r.cache_write.map(money),
        }
    }
}

/// A model of the catalog, with its current prices.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModelInfo {
    /// The provider.
    pub provider: Provider,
    /// The canonical id.
    pub id: String,
    /// A display name.
    pub name: Option<String>,
    /// Other names it answers to.
    pub aliases: Vec<String>,
    /// Context window in tokens.
    pub context_window: Option<u64>,
    /// Maximum output tokens.
    pub max_output_tokens: Option<u64>,
    /// Retired or about to be.
    pub deprecated: bool,
    /// The latest price set's day of effect.
    pub price_effective: Option<String>,
    /// The latest standard prices.
    pub prices: Option<Prices>,
    /// The latest Batch API prices.
    pub batch_prices: Option<Prices>,
}

impl From<&core::Model> for ModelInfo {
    fn from(m: &core::Model) -> Self {
        let current = m.current_price();
        ModelInfo {
            provider: m.provider.into(),
            id: m.id.clone(),
            name: m.name.clone(),
            aliases: m.aliases.clone(),
            context_window: m.context_window,
            max_output_tokens: m.max_output_tokens,
            deprecated: m.deprecated,
            price_effective: current.map(|p| day(p.effective)),
            prices: current.map(|p| Prices::from(&p.rates)),
            batch_prices: current.and_then(|p| p.batch.as_ref()).map(Prices::from),
        }
    }
}

enum Inner {
    Embedded,
    Loaded(Box<core::Catalog>),
}

/// A price catalog: the one embedded in this build, or a user's file merged over it.
#[derive(uniffi::Object)]
pub struct Catalog {
    inner: Inner,
}

impl Catalog {
    fn get(&self) -> &core::Catalog {
        match &self.inner {
            Inner::Embedded => core::Catalog::embedded(),
            Inner::Loaded(c) => c,
        }
    }
}

#[uniffi::export]
impl Catalog {
    /// The catalog embedded in this build.
    #[uniffi::constructor]
    pub fn embedded() -> Arc<Catalog> {
        Arc::new(Catalog {
            inner: Inner::Embedded,
        })
    }

    /// A catalog file (byokit TOML or JSON, LiteLLM or genai-prices, detected) merged over the
    /// embedded catalog. `today` (`YYYY-MM-DD`) dates prices that the file does not date.
    #[uniffi::constructor]
    pub fn load(text: String, today: String) -> Result<Arc<Catalog>, ByokitError> {
        let date = core::catalog::parse_date(&today).map_err(ByokitError::invalid_input)?;
        let file =
            core::CatalogFile::parse(&text, "catalog", core::CatalogFormat::detect(&text), date)
                .map_err(|e| ByokitError::invalid_catalog(e.to_string()))?;
        let merged = core::Catalog::embedded()
            .merged(file)
            .map_err(|e| ByokitError::invalid_catalog(e.to_string()))?;
        Ok(Arc::new(Catalog {
            inner: Inner::Loaded(Box::new(merged)),
        }))
    }

    /// The catalog's version string.
    pub fn version(&self) -> String {
        self.get().version().to_owned()
    }

    /// The exact cost of a call.
    pub fn estimate_cost(&self, input: CostInput) -> Result<CostEstimate, ByokitError> {
        let at = input
            .at
            .as_deref()
            .map(core::catalog::parse_date)
            .transpose()
            .map_err(ByokitError::invalid_input)?;
        let options = core::CostOptions {
            batch: input.batch,
            at,
        };
        self.get()
            .cost(
                input.provider.into(),
                &input.model,
                &input.usage.into(),
                &options,
            )
            .map(CostEstimate::from)
            .map_err(|e| match e {
                core::CostError::UnknownModel(m) => m.into(),
                other => ByokitError::invalid_input(other.to_string()),
            })
    }

    /// The catalog's models, of one provider when given.
    pub fn list_models(&self, provider: Option<Provider>) -> Vec<ModelInfo> {
        self.get()
            .models(provider.map(Into::into))
            .map(ModelInfo::from)
            .collect()
    }

    /// The model `name` (id or alias) of `provider`.
    pub fn model(&self, provider: Provider, name: String) -> Result<ModelInfo, ByokitError> {
        self.get()
            .model(provider.into(), &name)
            .map(ModelInfo::from)
            .map_err(ByokitError::from)
    }
}

/// The exact cost of a call, priced with the embedded catalog.
#[uniffi::export]
pub fn estimate_cost(input: CostInput) -> Result<CostEstimate, ByokitError> {
    Catalog::embedded().estimate_cost(input)
}

/// The embedded catalog's models, of one provider when given.
#[uniffi::export]
pub fn list_models(provider: Option<Provider>) -> Vec<ModelInfo> {
    Catalog::embedded().list_models(provider)
}
