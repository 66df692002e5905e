//! Token estimates, for reserving quota before a call: always labelled as estimates.
//!
//! OpenAI models are counted with their real tokenizer (`o200k_base` for gpt-4o, gpt-4.1, the
//! o-series and later; `cl100k_base` for gpt-4 and gpt-3.5) when the `tokenizer` feature is on (the
//! default; it embeds the tokenizer tables). Everything else uses an approximation of 4 characters
//! a token, which is close for English text and errs low for code and other scripts.

use serde::Serialize;

use crate::chat::ChatRequest;
use crate::provider::Provider;

/// How an estimate was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimateMethod {
    /// OpenAI's `o200k_base` tokenizer.
    O200kBase,
    /// OpenAI's `cl100k_base` tokenizer.
    Cl100kBase,
    /// About 4 characters a token.
    CharacterApproximation,
}

/// An estimated token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenEstimate {
    /// The estimate.
    pub tokens: u64,
    /// How it was made.
    pub method: EstimateMethod,
}

/// About 4 characters a token, rounded up.
pub fn approximate_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

/// The tokenizer an OpenAI model uses, by its id.
fn openai_tokenizer(model: &str) -> Option<EstimateMethod> {
    let m = model.trim().to_ascii_lowercase();
    if m.starts_with("gpt-4o")
        || m.starts_with("gpt-4.1")
        || m.starts_with("gpt-4.5")
        || m.starts_with("gpt-5")
        || m.starts_with("gpt-6")
        || (m.starts_with('o') && m[1..].starts_with(|c: char| c.is_ascii_digit()))
    {
        Some(EstimateMethod::O200kBase)
    } else if m.starts_with("gpt-4") || m.starts_with("gpt-3.5") {
        Some(EstimateMethod::Cl100kBase)
    } else {
        None
    }
}

/// Counts the tokens of `text` as `provider`'s `model` would, or approximates them.
pub fn estimate_text(provider: Provider, model: &str, text: &str) -> TokenEstimate {
    let method = match provider {
        Provider::OpenAi => {
            openai_tokenizer(model).unwrap_or(EstimateMethod::CharacterApproximation)
        }
        _ => EstimateMethod::CharacterApproximation,
    };
    TokenEstimate {
        tokens: count(method, text),
        method,
    }
}

#[cfg(feature = "tokenizer")]
fn count(method: EstimateMethod, text: &str) -> u64 {
    match method {
        EstimateMethod::O200kBase => tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(text)
            .len() as u64,
        EstimateMethod::Cl100kBase => tiktoken_rs::cl100k_base_singleton()
            .encode_ordinary(text)
            .len() as u64,
        EstimateMethod::CharacterApproximation => approximate_tokens(text),
    }
}

#[cfg(not(feature = "tokenizer"))]
fn count(_method: EstimateMethod, text: &str) -> u64 {
    approximate_tokens(text)
}

/// Tokens OpenAI's chat format adds per message and to prime the reply.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;

/// Estimates the prompt tokens of a chat request, plus its `max_output_tokens` (or `default_output`
/// when unset) as the output: what a reservation should hold.
pub fn estimate_chat(
    provider: Provider,
    request: &ChatRequest,
    default_output: u64,
) -> (TokenEstimate, u64) {
    chat_estimate(request, default_output, |text| {
        estimate_text(provider, &request.model, text)
    })
}

/// [`estimate_chat`] with the 4-characters-a-token approximation for every model: for a
/// long-running process that would rather not hold the tokenizer tables in memory (what they
/// cost byokd is in docs/benchmarks.md) for a figure that is settled against the provider's own
/// counts anyway.
pub fn approximate_chat(request: &ChatRequest, default_output: u64) -> (TokenEstimate, u64) {
    chat_estimate(request, default_output, |text| TokenEstimate {
        tokens: approximate_tokens(text),
        method: EstimateMethod::CharacterApproximation,
    })
}

fn chat_estimate(
    request: &ChatRequest,
    default_output: u64,
    estimate: impl Fn(&str) -> TokenEstimate,
) -> (TokenEstimate, u64) {
    let texts = request
        .system
        .iter()
        .chain(request.messages.iter().map(|m| &m.content));
    let mut method = EstimateMethod::CharacterApproximation;
    let mut tokens = REPLY_PRIMING;
    for text in texts {
        let e = estimate(text);
        method = e.method;
        tokens += e.tokens + PER_MESSAGE;
    }
    let output = request.max_output_tokens.map_or(default_output, u64::from);
    (TokenEstimate { tokens, method }, output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Message;

    #[test]
    fn the_approximate_chat_estimate_is_labelled_a_character_approximation() {
        let request = ChatRequest {
            model: "gpt-4o".into(),
            system: Some("Be brief.".into()),
            messages: vec![Message {
                role: crate::chat::Role::User,
                content: "What is the capital of Australia?".into(),
            }],
            max_output_tokens: Some(100),
            temperature: None,
            stop: vec![],
            stream: false,
        };
        let (prompt, output) = approximate_chat(&request, 1024);
        assert_eq!(prompt.method, EstimateMethod::CharacterApproximation);
        // 3 to prime the reply, then 3 a message plus a token per 4 characters (9 and 33).
        assert_eq!((prompt.tokens, output), (3 + 3 + 3 + 3 + 9, 100));
    }

    #[test]
    fn approximation_is_four_characters_a_token() {
        assert_eq!(approximate_tokens(""), 0);
        assert_eq!(approximate_tokens("abcd"), 1);
        assert_eq!(approximate_tokens("abcde"), 2);
        assert_eq!(approximate_tokens("café"), 1);
    }

    #[test]
    fn openai_models_pick_their_tokenizer() {
        assert_eq!(
            openai_tokenizer("gpt-4o-mini"),
            Some(EstimateMethod::O200kBase)
        );
        assert_eq!(
            openai_tokenizer("o3-2025-04-16"),
            Some(EstimateMethod::O200kBase)
        );
        assert_eq!(
            openai_tokenizer("gpt-3.5-turbo"),
            Some(EstimateMethod::Cl100kBase)
        );
        assert_eq!(
            openai_tokenizer("gpt-4-turbo"),
            Some(EstimateMethod::Cl100kBase)
        );
        assert_eq!(openai_tokenizer("omni-moderation-latest"), None);
        assert_eq!(
            estimate_text(Provider::Anthropic, "claude-sonnet-4", "abcdefgh").method,
            EstimateMethod::CharacterApproximation
        );
    }

    #[cfg(feature = "tokenizer")]
    #[test]
    fn the_real_tokenizer_counts_openai_prompts() {
        // "Hello, world!" is 4 tokens in both encodings: "Hello", ",", " world", "!".
        assert_eq!(
            estimate_text(Provider::OpenAi, "gpt-4o", "Hello, world!").tokens,
            4
        );
        assert_eq!(
            estimate_text(Provider::OpenAi, "gpt-3.5-turbo", "Hello, world!").tokens,
            4
        );
        let request = ChatRequest {
            model: "gpt-4o".into(),
            system: Some("Be brief.".into()),
            messages: vec![Message::user("Hello, world!")],
            max_output_tokens: Some(100),
            ..ChatRequest::default()
        };
        let (prompt, output) = estimate_chat(Provider::OpenAi, &request, 1000);
        // "Be brief." is 3 tokens; 2 messages × 3 + 3 priming.
        assert_eq!(
            (prompt.tokens, prompt.method, output),
            (3 + 4 + 6 + 3, EstimateMethod::O200kBase, 100)
        );
    }
}
