//! Catalog files: byokit's own format (TOML or JSON) and the import formats, parsed into one
//! shape that a [`Catalog`](super::Catalog) is built from or merged with.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use super::{CatalogError, PriceSet, Rates, Tier};
use crate::provider::Provider;

/// What a catalog says about a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInfo {
    /// Display name, e.g. `OpenAI`.
    pub name: String,
    /// Where the provider's prices come from, and when they were checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One model as a catalog file describes it; merged into a catalog by
/// [`Catalog::merged`](super::Catalog::merged). Fields left `None` keep what the catalog had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelEntry {
    /// The provider.
    pub provider: Provider,
    /// The model's canonical id.
    pub id: String,
    /// A display name.
    pub name: Option<String>,
    /// Other ids that resolve to the model.
    pub aliases: Vec<String>,
    /// Maximum context size in tokens.
    pub context_window: Option<u64>,
    /// Maximum output tokens per call.
    pub max_output_tokens: Option<u64>,
    /// Whether the provider has retired the model.
    pub deprecated: Option<bool>,
    /// Price sets, each with its effective date.
    pub prices: Vec<PriceSet>,
}

/// The formats a catalog file can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogFormat {
    /// byokit's own format, in TOML or JSON (see `docs/catalog.md`).
    Byokit,
    /// LiteLLM's `model_prices_and_context_window.json` (per-token prices).
    LiteLlm,
    /// pydantic's genai-prices `data.json` (per-million prices, tiers, dated prices).
    GenaiPrices,
}

impl CatalogFormat {
    /// Guesses a file's format from its content: a JSON array, or an object of providers, is
    /// genai-prices; a JSON object with `sample_spec` or `litellm_provider` entries is LiteLLM;
    /// anything else is byokit's own format.
    pub fn detect(text: &str) -> CatalogFormat {
        if !looks_like_json(text) {
            return CatalogFormat::Byokit;
        }
        if text.trim_start().starts_with('[') {
            return CatalogFormat::GenaiPrices;
        }
        {
            if text.contains("\"litellm_provider\"") || text.contains("\"sample_spec\"") {
                return CatalogFormat::LiteLlm;
            }
            if text.contains("\"api_pattern\"") {
                return CatalogFormat::GenaiPrices;
            }
        }
        CatalogFormat::Byokit
    }
}

impl FromStr for CatalogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "byokit" => Ok(CatalogFormat::Byokit),
            "litellm" => Ok(CatalogFormat::LiteLlm),
            "genai-prices" | "genai_prices" => Ok(CatalogFormat::GenaiPrices),
            other => Err(format!(
                "unknown catalog format `{other}`; known formats: byokit, litellm, genai-prices"
            )),
        }
    }
}

/// A parsed catalog file, ready to build a catalog from or to merge over one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// The name the file was loaded under, used in errors and in merged catalog versions.
    pub source_name: String,
    /// The file's version string, if it has one.
    pub version: Option<String>,
    /// Provider descriptions.
    pub providers: Vec<(Provider, ProviderInfo)>,
    /// The models.
    pub models: Vec<ModelEntry>,
    /// Entries of an imported file that were left out, as `name: reason` (another provider, not
    /// a chat model, no price).
    pub skipped: Vec<String>,
}

impl CatalogFile {
    /// Parses a file in byokit's own format, TOML or JSON (see `docs/catalog.md`).
    pub fn parse_byokit(text: &str, source_name: &str) -> Result<CatalogFile, CatalogError> {
        parse_byokit(text, source_name)
    }

    /// Parses `text` in `format`. `source_name` (usually the file name) appears in errors.
    ///
    /// `undated_effective` is the date given to prices that carry none of their own: LiteLLM's
    /// file has no dates, and genai-prices dates only price changes. byokit's own format dates
    /// every price set and ignores it.
    pub fn parse(
        text: &str,
        source_name: &str,
        format: CatalogFormat,
        undated_effective: Date,
    ) -> Result<CatalogFile, CatalogError> {
        match format {
            CatalogFormat::Byokit => CatalogFile::parse_byokit(text, source_name),
            CatalogFormat::LiteLlm => super::litellm::parse(text, source_name, undated_effective),
            CatalogFormat::GenaiPrices => {
                super::genai_prices::parse(text, source_name, undated_effective)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared parsing helpers.

/// JSON starts with an object or an array of values; TOML may start with `[table]` or
/// `[[array.of.tables]]`, never with `[{`, `["`, `[]` or `[1`.
fn looks_like_json(text: &str) -> bool {
    let mut chars = text.trim_start().chars();
    match chars.next() {
        Some('{') => true,
        Some('[') => matches!(
            chars.find(|c| !c.is_whitespace()),
            Some('{' | ']' | '"' | '-' | '0'..='9')
        ),
        _ => false,
    }
}

/// Parses JSON, or TOML, into a JSON value, so every format is read by one set of rules.
pub(super) fn parse_value(text: &str, source: &str) -> Result<serde_json::Value, CatalogError> {
    if looks_like_json(text) {
        serde_json::from_slice(text.as_bytes())
            .map_err(|e| CatalogError::new(source, format!("invalid JSON: {e}")))
    } else {
        parse_toml(text, source)
    }
}

#[cfg(feature = "toml")]
fn parse_toml(text: &str, source: &str) -> Result<serde_json::Value, CatalogError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        CatalogError::new(
            source,
            format!("invalid TOML: {}", e.to_string().trim_end()),
        )
    })?;
    Ok(super::toml_json::toml_to_json(toml::Value::Table(table)))
}

#[cfg(not(feature = "toml"))]
fn parse_toml(_text: &str, source: &str) -> Result<serde_json::Value, CatalogError> {
    Err(CatalogError::new(
        source,
        "not JSON, and this build reads catalogs in JSON only (TOML needs byokit-core's `toml` \
         feature): write the same catalog as JSON",
    ))
}

/// Where in a file a value is read: the file and, inside a model, the entry.
#[derive(Clone, Copy)]
struct Place<'a> {
    source: &'a str,
    entry: Option<&'a str>,
}

impl Place<'_> {
    /// An error about the field at `path` (empty: the entry, or the file, itself).
    fn error(self, path: &str, message: impl fmt::Display) -> CatalogError {
        let err = CatalogError::new(self.source, message.to_string()).field(path);
        match self.entry {
            Some(entry) => err.entry(entry),
            None => err,
        }
    }

    /// `value` read as `T`; a failure names the field at `path`.
    fn read<T: DeserializeOwned>(self, path: &str, value: Value) -> Result<T, CatalogError> {
        T::deserialize(value).map_err(|e| self.error(path, e))
    }
}

/// An object of a byokit catalog file, read field by field: every error names the path to the
/// field at fault (`prices[0].tiers[1].input`), in serde's own words.
struct Fields<'a> {
    map: serde_json::Map<String, Value>,
    path: String,
    place: Place<'a>,
}

impl<'a> Fields<'a> {
    /// `value` as an object found at `path`, with no fields but the `known` ones.
    fn of(
        value: Value,
        path: String,
        place: Place<'a>,
        known: &'static [&'static str],
    ) -> Result<Fields<'a>, CatalogError> {
        let map: serde_json::Map<String, Value> = place.read(&path, value)?;
        let fields = Fields { map, path, place };
        match fields.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(name) => Err(place.error(
                &fields.path_of(name),
                <serde_json::Error as de::Error>::unknown_field(name, known),
            )),
            None => Ok(fields),
        }
    }

    fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// A field that may be absent (or `null`).
    fn optional<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, CatalogError> {
        match self.map.remove(name) {
            Some(value) => self.place.read(&self.path_of(name), value),
            None => Ok(None),
        }
    }

    /// A field that must be there.
    fn required<T: DeserializeOwned>(&mut self, name: &'static str) -> Result<T, CatalogError> {
        match self.map.remove(name) {
            Some(value) => self.place.read(&self.path_of(name), value),
            None => Err(self.place.error(
                &self.path,
                <serde_json::Error as de::Error>::missing_field(name),
            )),
        }
    }

    /// A field that may be absent (then empty), but not `null`.
    fn or_empty<T: DeserializeOwned + Default>(&mut self, name: &str) -> Result<T, CatalogError> {
        match self.map.remove(name) {
            Some(value) => self.place.read(&self.path_of(name), value),
            None => Ok(T::default()),
        }
    }

    /// A list that may be absent (then empty), each item with its path (`prices[0]`).
    fn list(&mut self, name: &str) -> Result<Vec<(String, Value)>, CatalogError> {
        let items: Vec<Value> = self.or_empty(name)?;
        let path = self.path_of(name);
        Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, item)| (format!("{path}[{i}]"), item))
            .collect())
    }
}

/// A price in USD per million tokens: a decimal string or an integer, never a float, never
/// negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Price(pub Decimal);

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PriceVisitor;
        impl Visitor<'_> for PriceVisitor {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a price in USD per million tokens, as a decimal string such as \"2.50\"",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Price, E> {
                let d = Decimal::from_str_exact(v.trim())
                    .or_else(|_| Decimal::from_scientific(v.trim()))
                    .map_err(|_| {
                        E::custom(format!(
                            "invalid price {v:?}: expected a decimal such as \"2.50\""
                        ))
                    })?;
                non_negative(d)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Price, E> {
                Ok(Price(Decimal::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Price, E> {
                non_negative(Decimal::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Price, E> {
                Err(E::custom(format!(
                    "price {v} is a float: write it as a decimal string (\"{v}\") so it stays exact"
                )))
            }
        }
        deserializer.deserialize_any(PriceVisitor)
    }
}

fn non_negative<E: de::Error>(d: Decimal) -> Result<Price, E> {
    if d.is_sign_negative() && !d.is_zero() {
        Err(E::custom(format!("price {d} is negative")))
    } else {
        Ok(Price(d))
    }
}

/// A non-negative price from an imported JSON file: a number (read back through its shortest
/// decimal form, which is the decimal its authors wrote, never through float arithmetic) or a
/// numeric string.
pub(super) fn json_decimal(value: &serde_json::Value) -> Result<Decimal, String> {
    use serde_json::Value;
    let d = match value {
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Ok(Decimal::from(u)),
            (None, Some(f)) => Decimal::from_str_exact(&format!("{f}")).map_err(|e| e.to_string()),
            (None, None) => Err(format!("unreadable number {n}")),
        },
        Value::String(s) => Decimal::from_str_exact(s.trim())
            .or_else(|_| Decimal::from_scientific(s.trim()))
            .map_err(|_| format!("invalid price {s:?}: expected a number")),
        other => Err(format!("expected a price, found {other}")),
    }?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(format!("price {d} is negative"));
    }
    Ok(d)
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Day(pub Date);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        parse_date(&s).map(Day).map_err(de::Error::custom)
    }
}

/// Parses a `YYYY-MM-DD` date; a longer timestamp (`2025-06-10T00:00:00Z`) is cut to its date.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let day = s.trim().get(..10).unwrap_or(s.trim());
    crate::day::parse(day).ok_or_else(|| format!("invalid date {s:?}: expected YYYY-MM-DD"))
}

// ---------------------------------------------------------------------------------------------
// byokit's own format.

struct RawModel {
    provider: String,
    id: String,
    name: Option<String>,
    aliases: Vec<String>,
    context_window: Option<u64>,
    max_output_tokens: Option<u64>,
    deprecated: Option<bool>,
    prices: Vec<PriceSet>,
}

fn raw_model(value: Value, place: Place<'_>) -> Result<RawModel, CatalogError> {
    const KNOWN: &[&str] = &[
        "provider",
        "id",
        "name",
        "aliases",
        "context_window",
        "max_output_tokens",
        "deprecated",
        "prices",
    ];
    let mut f = Fields::of(value, String::new(), place, KNOWN)?;
    Ok(RawModel {
        provider: f.required("provider")?,
        id: f.required("id")?,
        name: f.optional("name")?,
        aliases: f
            .list("aliases")?
            .into_iter()
            .map(|(path, alias)| place.read(&path, alias))
            .collect::<Result<_, _>>()?,
        context_window: f.optional("context_window")?,
        max_output_tokens: f.optional("max_output_tokens")?,
        deprecated: f.optional("deprecated")?,
        prices: f
            .list("prices")?
            .into_iter()
            .map(|(path, value)| price_set(value, path, place))
            .collect::<Result<_, _>>()?,
    })
}

fn price_set(value: Value, path: String, place: Place<'_>) -> Result<PriceSet, CatalogError> {
    const KNOWN: &[&str] = &[
        "effective",
        "input",
        "output",
        "cached_input",
        "cache_write",
        "batch",
        "tiers",
    ];
    let mut f = Fields::of(value, path, place, KNOWN)?;
    Ok(PriceSet {
        effective: f.required::<Day>("effective")?.0,
        rates: Rates {
            input: Some(f.required::<Price>("input")?.0),
            output: Some(f.required::<Price>("output")?.0),
            cached_input: price(&mut f, "cached_input")?,
            cache_write: price(&mut f, "cache_write")?,
        },
        batch: batch(&mut f)?,
        tiers: f
            .list("tiers")?
            .into_iter()
            .map(|(path, value)| tier(value, path, place))
            .collect::<Result<_, _>>()?,
    })
}

/// An optional price of a price class, in USD per million tokens.
fn price(f: &mut Fields<'_>, name: &str) -> Result<Option<Decimal>, CatalogError> {
    Ok(f.optional::<Price>(name)?.map(|p| p.0))
}

/// The four price classes, each optional (a tier's, a batch's).
fn rates(f: &mut Fields<'_>) -> Result<Rates, CatalogError> {
    Ok(Rates {
        input: price(f, "input")?,
        output: price(f, "output")?,
        cached_input: price(f, "cached_input")?,
        cache_write: price(f, "cache_write")?,
    })
}

fn batch(f: &mut Fields<'_>) -> Result<Option<Rates>, CatalogError> {
    const KNOWN: &[&str] = &["input", "output", "cached_input", "cache_write"];
    let Some(value) = f.optional::<Value>("batch")? else {
        return Ok(None);
    };
    rates(&mut Fields::of(value, f.path_of("batch"), f.place, KNOWN)?).map(Some)
}

fn tier(value: Value, path: String, place: Place<'_>) -> Result<Tier, CatalogError> {
    const KNOWN: &[&str] = &[
        "above_prompt_tokens",
        "input",
        "output",
        "cached_input",
        "cache_write",
        "batch",
    ];
    let mut f = Fields::of(value, path, place, KNOWN)?;
    Ok(Tier {
        above_prompt_tokens: f.required("above_prompt_tokens")?,
        rates: rates(&mut f)?,
        batch: batch(&mut f)?,
    })
}

fn parse_byokit(text: &str, source: &str) -> Result<CatalogFile, CatalogError> {
    let file = Place {
        source,
        entry: None,
    };
    let mut f = Fields::of(
        parse_value(text, source)?,
        String::new(),
        file,
        &["version", "providers", "models"],
    )?;
    let version = f.optional("version")?;
    let raw_providers: serde_json::Map<String, Value> = f.or_empty("providers")?;
    let raw_models = f.list("models")?;
    let mut providers = Vec::with_capacity(raw_providers.len());
    for (key, value) in raw_providers {
        let path = format!("providers.{key}");
        let provider = key.parse::<Provider>().map_err(|e| file.error(&path, e))?;
        let mut p = Fields::of(value, path, file, &["name", "source"])?;
        let info = ProviderInfo {
            name: p.required("name")?,
            source: p.optional("source")?,
        };
        providers.push((provider, info));
    }
    let mut models = Vec::with_capacity(raw_models.len());
    for (path, value) in raw_models {
        let entry = entry_name(&value).unwrap_or(path);
        let place = Place {
            source,
            entry: Some(&entry),
        };
        models.push(model_entry(raw_model(value, place)?, source, &entry)?);
    }
    Ok(CatalogFile {
        source_name: source.to_owned(),
        version,
        providers,
        models,
        skipped: Vec::new(),
    })
}

fn entry_name(value: &serde_json::Value) -> Option<String> {
    let id = value.get("id")?.as_str()?;
    Some(match value.get("provider").and_then(|p| p.as_str()) {
        Some(p) => format!("{p}/{id}"),
        None => id.to_owned(),
    })
}

fn model_entry(raw: RawModel, source: &str, entry: &str) -> Result<ModelEntry, CatalogError> {
    let err =
        |field: &str, message: String| CatalogError::new(source, message).entry(entry).field(field);
    let provider = raw
        .provider
        .parse::<Provider>()
        .map_err(|e| err("provider", e.to_string()))?;
    if raw.id.trim().is_empty() {
        return Err(err("id", "a model id must not be empty".into()));
    }
    if let Some(i) = raw.aliases.iter().position(|a| a.trim().is_empty()) {
        return Err(err(
            &format!("aliases[{i}]"),
            "an alias must not be empty".into(),
        ));
    }
    let mut prices: Vec<PriceSet> = Vec::with_capacity(raw.prices.len());
    for (i, mut set) in raw.prices.into_iter().enumerate() {
        if prices.iter().any(|p| p.effective == set.effective) {
            return Err(err(
                &format!("prices[{i}].effective"),
                format!("two price sets take effect on {}", set.effective),
            ));
        }
        for (j, t) in set.tiers.iter().enumerate() {
            if set.tiers[..j]
                .iter()
                .any(|old| old.above_prompt_tokens == t.above_prompt_tokens)
            {
                return Err(err(
                    &format!("prices[{i}].tiers[{j}].above_prompt_tokens"),
                    format!(
                        "two tiers start above {} prompt tokens",
                        t.above_prompt_tokens
                    ),
                ));
            }
        }
        set.tiers.sort_by_key(|t| t.above_prompt_tokens);
        prices.push(set);
    }
    prices.sort_by_key(|p| p.effective);
    Ok(ModelEntry {
        provider,
        id: raw.id.trim().to_owned(),
        name: raw.name,
        aliases: raw
            .aliases
            .into_iter()
            .map(|a| a.trim().to_owned())
            .collect(),
        context_window: raw.context_window,
        max_output_tokens: raw.max_output_tokens,
        deprecated: raw.deprecated,
        prices,
    })
}
