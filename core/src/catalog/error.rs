//! Errors of catalog loading and lookup.

use std::fmt;

use crate::provider::{did_you_mean, Provider};

/// A catalog file that could not be loaded: names the file, the entry and the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    /// The file (or other source) name the caller gave.
    pub source_name: String,
    /// The entry at fault, e.g. `openai/gpt-4o`, when the error is inside one.
    pub entry: Option<String>,
    /// The field at fault within the entry (or file), e.g. `prices[0].input`.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl CatalogError {
    pub(crate) fn new(source_name: &str, message: impl Into<String>) -> Self {
        CatalogError {
            source_name: source_name.to_owned(),
            entry: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn entry(mut self, entry: impl Into<String>) -> Self {
        self.entry = Some(entry.into());
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.field = (!field.is_empty() && field != ".").then_some(field);
        self
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source_name)?;
        if let Some(entry) = &self.entry {
            write!(f, ": entry `{entry}`")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A model name that the catalog does not know for a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model `{name}` for provider {provider}{}", did_you_mean(.suggestions))]
pub struct UnknownModel {
    /// The provider it was looked up under.
    pub provider: Provider,
    /// The name that was given.
    pub name: String,
    /// Known ids and aliases closest to it, best first.
    pub suggestions: Vec<String>,
}
