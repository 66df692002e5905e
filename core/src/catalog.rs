//! The price catalog: providers, models, aliases and dated prices.
//!
//! The default catalog is `core/catalog/default.toml`, embedded at build time (as compact JSON,
//! [`DEFAULT_CATALOG_JSON`]) and parsed once on first use ([`Catalog::embedded`]). A user's own
//! catalog file, a LiteLLM price file or pydantic's genai-prices data can be merged over it
//! ([`Catalog::merged`]).

mod error;
mod file;
mod genai_prices;
mod litellm;
#[cfg(feature = "toml")]
mod toml_json;

use std::collections::HashMap;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

pub use error::{CatalogError, UnknownModel};
pub use file::{parse_date, CatalogFile, CatalogFormat, ModelEntry, ProviderInfo};

use crate::provider::Provider;
use crate::suggest::closest;

/// The default catalog file as it is written (TOML, with comments on sources).
pub const DEFAULT_CATALOG_TOML: &str = include_str!("../catalog/default.toml");

/// The same catalog as compact JSON, made from [`DEFAULT_CATALOG_TOML`] at build time: what
/// [`Catalog::embedded`] parses.
pub const DEFAULT_CATALOG_JSON: &str =
    include_str!(concat!(env!("OUT_DIR"), "/default-catalog.json"));

/// Prices in USD per million tokens, one per token class. `None` means "not billed / not known":
/// a call that uses a class without a price is costed as [`CostStatus::Unpriced`](crate::CostStatus),
/// never as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rates {
    /// Uncached input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Decimal"))]
    pub input: Option<Decimal>,
    /// Output tokens (reasoning tokens are billed at this rate too).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Decimal"))]
    pub output: Option<Decimal>,
    /// Cached input tokens read from the provider's prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Decimal"))]
    pub cached_input: Option<Decimal>,
    /// Tokens written to the provider's prompt cache (Anthropic's 5-minute cache write).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Decimal"))]
    pub cache_write: Option<Decimal>,
}

/// The token classes a [`Rates`] prices (reasoning is billed at the output price).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateClass {
    Input,
    Output,
    CachedInput,
    CacheWrite,
}

impl Rates {
    /// The price slot of one class, for the importers that fill rates field by field.
    pub(crate) fn slot(&mut self, class: RateClass) -> &mut Option<Decimal> {
        match class {
            RateClass::Input => &mut self.input,
            RateClass::Output => &mut self.output,
            RateClass::CachedInput => &mut self.cached_input,
            RateClass::CacheWrite => &mut self.cache_write,
        }
    }

    /// The same prices written without trailing zeros (`2.50` → `2.5`).
    pub fn normalized(self) -> Rates {
        let n = |p: Option<Decimal>| p.map(|d| d.normalize());
        Rates {
            input: n(self.input),
            output: n(self.output),
            cached_input: n(self.cached_input),
            cache_write: n(self.cache_write),
        }
    }

    /// These rates, with each class that has no price here taken from `fallback`.
    pub fn or(self, fallback: &Rates) -> Rates {
        Rates {
            input: self.input.or(fallback.input),
            output: self.output.or(fallback.output),
            cached_input: self.cached_input.or(fallback.cached_input),
            cache_write: self.cache_write.or(fallback.cache_write),
        }
    }
}

/// A higher price for the *whole* request once its prompt exceeds a size, as Gemini 1.5 Pro
/// charges above 128k prompt tokens.
///
/// In a catalog, a tier's rates are complete: a class that a file's tier does not price keeps
/// the price set's own price (what LiteLLM and genai-prices mean too), and its batch rates fall
/// back to the price set's batch rates in the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tier {
    /// The tier applies when the prompt (input, cached and cache-write tokens together) is
    /// strictly greater than this many tokens.
    pub above_prompt_tokens: u64,
    /// Standard prices in this tier.
    #[serde(flatten)]
    pub rates: Rates,
    /// Batch API prices in this tier, if the provider offers them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub batch: Option<Rates>,
}

/// The prices of one model from one date on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceSet {
    /// The first day (UTC) these prices apply.
    #[cfg_attr(feature = "ts", ts(type = "Day"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(with = "crate::day")]
    pub effective: Date,
    /// Standard (synchronous API) prices.
    #[serde(flatten)]
    pub rates: Rates,
    /// Batch API prices, if the provider offers a batch API for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub batch: Option<Rates>,
    /// Long-prompt tiers, ascending by threshold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<Tier>>"))]
    pub tiers: Vec<Tier>,
}

impl PriceSet {
    /// The tier that applies to a prompt of `prompt_tokens`, if any: the one with the highest
    /// threshold below it.
    pub fn tier_for(&self, prompt_tokens: u64) -> Option<&Tier> {
        self.tiers
            .iter()
            .filter(|t| prompt_tokens > t.above_prompt_tokens)
            .max_by_key(|t| t.above_prompt_tokens)
    }
}

/// A model in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "ModelInfo")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Model {
    /// The provider that serves it.
    pub provider: Provider,
    /// Its canonical id, as the provider's API accepts it.
    pub id: String,
    /// A display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    /// Other ids that resolve to this model (dated snapshots, short and `-latest` names).
    pub aliases: Vec<String>,
    /// The maximum context (prompt) size in tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub context_window: Option<u64>,
    /// The maximum number of output tokens per call.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_output_tokens: Option<u64>,
    /// The provider has retired or deprecated it; kept so that old usage stays priced.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub deprecated: bool,
    /// Its price sets, oldest first. Empty for a model whose price is unknown.
    pub prices: Vec<PriceSet>,
}

impl Model {
    /// The price set in force on `date` (the latest one that took effect on or before it), or the
    /// latest price set when `date` is `None`.
    pub fn price_at(&self, date: Option<Date>) -> Option<&PriceSet> {
        self.prices
            .iter()
            .filter(|p| date.is_none_or(|d| p.effective <= d))
            .max_by_key(|p| p.effective)
    }

    /// The price set in force now, i.e. the latest one.
    pub fn current_price(&self) -> Option<&PriceSet> {
        self.price_at(None)
    }
}

/// A set of models with their prices, indexed by provider, id and alias.
#[derive(Debug, Clone)]
pub struct Catalog {
    version: String,
    providers: [ProviderInfo; 5],
    models: Vec<Model>,
    /// Per provider: lower-cased id or alias → index into `models`. Keys come from catalog
    /// files, never from callers, so a fast fixed-seed hash is safe here.
    index: [HashMap<String, usize, foldhash::fast::FixedState>; 5],
}

impl Catalog {
    /// The default catalog embedded in this build, parsed on first use.
    pub fn embedded() -> &'static Catalog {
        static EMBEDDED: OnceLock<Catalog> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            CatalogFile::parse_byokit(DEFAULT_CATALOG_JSON, "default.toml")
                .and_then(Catalog::from_file)
                // The embedded file is checked by the test suite; a build with a broken one is a bug.
                .expect("the embedded default catalog is valid")
        })
    }

    /// Builds a catalog from a parsed file, which must carry a `version`.
    pub fn from_file(file: CatalogFile) -> Result<Catalog, CatalogError> {
        let version = file.version.clone().ok_or_else(|| {
            CatalogError::new(&file.source_name, "a catalog needs a `version` string")
        })?;
        let mut catalog = Catalog {
            version,
            providers: Provider::ALL.map(|p| ProviderInfo {
                name: p.as_str().to_owned(),
                source: None,
            }),
            models: Vec::new(),
            index: Default::default(),
        };
        catalog.apply(file)?;
        Ok(catalog)
    }

    /// A new catalog: this one with `file` merged over it.
    ///
    /// A model that already exists (by provider and id or alias) keeps what the file does not
    /// say: the file's aliases are added, its name, context window and flags replace the old ones,
    /// and its price sets replace those of the same effective date and are added to the others.
    /// A model that does not exist yet is added. The new catalog's version is
    /// `<this version>+<the file's version, or its source name>`.
    pub fn merged(&self, file: CatalogFile) -> Result<Catalog, CatalogError> {
        let mut merged = self.clone();
        let suffix = file
            .version
            .clone()
            .unwrap_or_else(|| file.source_name.clone());
        merged.version = format!("{}+{}", self.version, suffix);
        merged.apply(file)?;
        Ok(merged)
    }

    fn apply(&mut self, file: CatalogFile) -> Result<(), CatalogError> {
        for (provider, info) in file.providers {
            self.providers[provider.index()] = info;
        }
        for entry in file.models {
            self.apply_entry(&file.source_name, entry)?;
        }
        Ok(())
    }

    fn apply_entry(&mut self, source: &str, entry: ModelEntry) -> Result<(), CatalogError> {
        let entry_name = format!("{}/{}", entry.provider, entry.id);
        let p = entry.provider.index();
        let at = match self.index[p].get(&entry.id.to_ascii_lowercase()) {
            Some(&i) => i,
            None => {
                self.models.push(Model {
                    provider: entry.provider,
                    id: entry.id.clone(),
                    name: None,
                    aliases: Vec::new(),
                    context_window: None,
                    max_output_tokens: None,
                    deprecated: false,
                    prices: Vec::new(),
                });
                let i = self.models.len() - 1;
                self.index[p].insert(entry.id.to_ascii_lowercase(), i);
                i
            }
        };
        for alias in &entry.aliases {
            match self.index[p].get(&alias.to_ascii_lowercase()) {
                Some(&other) if other != at => {
                    return Err(CatalogError::new(
                        source,
                        format!(
                            "alias `{alias}` already names {}/{}",
                            entry.provider, self.models[other].id
                        ),
                    )
                    .entry(&entry_name)
                    .field("aliases"));
                }
                Some(_) => {}
                None => {
                    self.index[p].insert(alias.to_ascii_lowercase(), at);
                    self.models[at].aliases.push(alias.clone());
                }
            }
        }
        let model = &mut self.models[at];
        if entry.name.is_some() {
            model.name = entry.name;
        }
        if entry.context_window.is_some() {
            model.context_window = entry.context_window;
        }
        if entry.max_output_tokens.is_some() {
            model.max_output_tokens = entry.max_output_tokens;
        }
        if let Some(deprecated) = entry.deprecated {
            model.deprecated = deprecated;
        }
        for mut set in entry.prices {
            // Prices without trailing zeros keep every cost's digits short.
            set.rates = set.rates.normalized();
            set.batch = set.batch.map(Rates::normalized);
            for tier in &mut set.tiers {
                tier.rates = tier.rates.normalized();
                tier.batch = tier.batch.map(Rates::normalized);
                tier.rates = tier.rates.or(&set.rates);
                if let Some(batch) = &set.batch {
                    tier.batch = Some(tier.batch.unwrap_or_default().or(batch));
                }
            }
            model.prices.retain(|old| old.effective != set.effective);
            model.prices.push(set);
        }
        model.prices.sort_by_key(|p| p.effective);
        Ok(())
    }

    /// The catalog's version string, recorded with every cost computed from it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// What the catalog says about a provider: its display name and where its prices come from.
    pub fn provider_info(&self, provider: Provider) -> &ProviderInfo {
        &self.providers[provider.index()]
    }

    /// Looks a model up by id or alias; `None` when it is not in the catalog.
    #[inline]
    ///
    /// Matching ignores ASCII case and surrounding whitespace, and accepts the forms providers
    /// and tools commonly add: a `models/` prefix (Gemini) or a `<provider>/` prefix
    /// (`openai/gpt-4o`, as LiteLLM writes it).
    pub fn find(&self, provider: Provider, name: &str) -> Option<&Model> {
        let index = &self.index[provider.index()];
        let hit = if name.bytes().any(|b| b.is_ascii_uppercase() || b == b' ') {
            index.get(name.trim().to_ascii_lowercase().as_str())
        } else {
            index.get(name)
        };
        hit.or_else(|| {
            let lower = name.trim().to_ascii_lowercase();
            let stripped = lower
                .strip_prefix("models/")
                .or_else(|| lower.strip_prefix(&format!("{}/", provider.as_str())))?;
            index.get(stripped)
        })
        .map(|&i| &self.models[i])
    }

    /// Looks a model up like [`Catalog::find`], with an error that suggests the closest known
    /// names when it is not found.
    pub fn model(&self, provider: Provider, name: &str) -> Result<&Model, UnknownModel> {
        self.find(provider, name).ok_or_else(|| UnknownModel {
            provider,
            name: name.to_owned(),
            suggestions: closest(
                name,
                self.index[provider.index()].keys().map(String::as_str),
                3,
            ),
        })
    }

    /// Every model, optionally of one provider only, in catalog order.
    pub fn models(&self, provider: Option<Provider>) -> impl Iterator<Item = &Model> + '_ {
        self.models
            .iter()
            .filter(move |m| provider.is_none_or(|p| m.provider == p))
    }
}

#[cfg(test)]
mod tests;
