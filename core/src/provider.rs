//! The LLM providers byokit knows, and how each one counts tokens.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::suggest::closest;

/// An LLM provider whose API byokit speaks.
///
/// The string form (`openai`, `anthropic`, `groq`, `gemini`, `mistral`) is the one used in
/// catalogs, on the command line and in every serialized record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Provider {
    /// OpenAI (`api.openai.com`).
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic (`api.anthropic.com`).
    Anthropic,
    /// Groq (`api.groq.com`, OpenAI-compatible).
    Groq,
    /// Google Gemini (`generativelanguage.googleapis.com`).
    Gemini,
    /// Mistral AI (`api.mistral.ai`).
    Mistral,
}

impl Provider {
    /// Every provider, in catalog order.
    pub const ALL: [Provider; 5] = [
        Provider::OpenAi,
        Provider::Anthropic,
        Provider::Groq,
        Provider::Gemini,
        Provider::Mistral,
    ];

    /// The provider's id: `openai`, `anthropic`, `groq`, `gemini` or `mistral`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Groq => "groq",
            Provider::Gemini => "gemini",
            Provider::Mistral => "mistral",
        }
    }

    /// A dense index (0..5), in the order of [`Provider::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// How this provider's API reports token usage; see [`UsageSemantics`].
    pub const fn usage_semantics(self) -> UsageSemantics {
        match self {
            Provider::OpenAi | Provider::Groq | Provider::Mistral => UsageSemantics {
                cached_included_in_input: true,
                reasoning_included_in_output: true,
                reports_cache_writes: false,
            },
            Provider::Anthropic => UsageSemantics {
                cached_included_in_input: false,
                reasoning_included_in_output: true,
                reports_cache_writes: true,
            },
            Provider::Gemini => UsageSemantics {
                cached_included_in_input: true,
                reasoning_included_in_output: false,
                reports_cache_writes: false,
            },
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider name that byokit does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown provider `{name}`{}; known providers: openai, anthropic, groq, gemini, mistral", did_you_mean(.suggestions))]
pub struct UnknownProvider {
    /// The name that was given.
    pub name: String,
    /// Known provider ids closest to it, best first.
    pub suggestions: Vec<String>,
}

pub(crate) fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => format!(
            " (did you mean {}?)",
            many.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// Parses a provider id, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownProvider {
                name: s.to_owned(),
                suggestions: closest(wanted, Provider::ALL.iter().map(|p| p.as_str()), 2),
            })
    }
}

/// How a provider's usage report relates to what it bills.
///
/// Token counts are always taken *exactly as the provider reports them*; these flags say how to
/// turn them into billable counts without billing any token twice:
///
/// | provider | input field | cached tokens | reasoning tokens | cache writes |
/// |---|---|---|---|---|
/// | OpenAI, Groq, Mistral | `prompt_tokens` | part of `prompt_tokens` | part of `completion_tokens` | not reported |
/// | Anthropic | `input_tokens` | `cache_read_input_tokens`, on top of input | part of `output_tokens` | `cache_creation_input_tokens`, on top of input |
/// | Gemini | `promptTokenCount` | part of `promptTokenCount` | `thoughtsTokenCount`, billed as output on top of `candidatesTokenCount` | not reported |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSemantics {
    /// The reported input count already includes the cached (cache read) tokens.
    pub cached_included_in_input: bool,
    /// The reported output count already includes the reasoning (thinking) tokens.
    pub reasoning_included_in_output: bool,
    /// The provider reports cache-write tokens, billed on top of input.
    pub reports_cache_writes: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_provider_and_round_trips() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Provider>(&json).unwrap(), p);
        }
        assert_eq!(" OpenAI ".parse::<Provider>(), Ok(Provider::OpenAi));
    }

    #[test]
    fn unknown_provider_suggests_the_closest() {
        let err = "antropic".parse::<Provider>().unwrap_err();
        assert_eq!(err.suggestions, vec!["anthropic".to_string()]);
        assert_eq!(
            err.to_string(),
            "unknown provider `antropic` (did you mean `anthropic`?); known providers: openai, anthropic, groq, gemini, mistral"
        );
        let err = "nosuch".parse::<Provider>().unwrap_err();
        assert!(err.to_string().starts_with("unknown provider `nosuch`"));
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn index_matches_all_order() {
        for (i, p) in Provider::ALL.into_iter().enumerate() {
            assert_eq!(p.index(), i);
        }
    }
}
