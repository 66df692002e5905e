//! API keys: a secret type that never shows itself, and per-provider format checks.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::provider::Provider;

/// A provider API key.
///
/// It prints masked in `Debug` and `Display` (a recognisable prefix and the last 4 characters,
/// e.g. `sk-proj-…a1b2`), serializes masked, and its memory is zeroed when it is dropped. The
/// only way to the full key is [`ApiKey::expose`], for the one place that puts it in a header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Zeroizing<String>);

/// Prefixes shown in a masked key, longest first, so a key stays recognisable.
const KNOWN_PREFIXES: [&str; 9] = [
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-proj-",
    "sk-ant-",
    "gsk_",
    "AIza",
    "sk-",
];

impl ApiKey {
    /// Wraps a key. The text is kept as given; [`check_key`] says whether it looks right.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(Zeroizing::new(key.into()))
    }

    /// The full key, for building the request that carries it. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key masked: its known prefix, `…`, and the last 4 characters (`sk-proj-…a1b2`).
    /// A key too short to hide is shown as `…` alone.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    /// `text` with every occurrence of this very key masked, whatever its shape: for messages
    /// built from a provider's reply to a request that carried it (a provider may quote the key
    /// it refused, and a key without a known prefix escapes [`scrub_secrets`]). Known key shapes
    /// are masked too.
    pub fn scrub(&self, text: &str) -> String {
        let key = self.0.trim();
        let text = if key.len() >= 8 && text.contains(key) {
            text.replace(key, &self.masked())
        } else {
            text.to_owned()
        };
        scrub_secrets(&text)
    }
}

/// Masks any secret the way [`ApiKey::masked`] does.
pub fn mask(secret: &str) -> String {
    let secret = secret.trim();
    let chars = secret.chars().count();
    if chars < 12 {
        return "…".to_owned();
    }
    let prefix = KNOWN_PREFIXES
        .iter()
        .find(|p| secret.starts_with(**p))
        .copied()
        .unwrap_or("");
    let tail: String = secret.chars().skip(chars - 4).collect();
    format!("{prefix}…{tail}")
}

/// `text` with every word that looks like an API key (a known key prefix and at least 20
/// characters of key alphabet) masked. Applied to provider messages, which sometimes quote keys.
pub fn scrub_secrets(text: &str) -> String {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_key_char) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_key_char(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        let looks_secret =
            word.len() >= 20 && ["sk-", "gsk_", "AIza"].iter().any(|p| word.starts_with(p));
        if looks_secret {
            out.push_str(&mask(word));
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for ApiKey {
    /// Serializes the masked form: a key is never written out in full.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

impl<'de> Deserialize<'de> for ApiKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(ApiKey::new)
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

/// What is wrong with a pasted key. The messages never contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// Nothing was given.
    #[error("the {provider} API key is empty")]
    Empty {
        /// The provider it was meant for.
        provider: Provider,
    },
    /// Spaces or line breaks around or inside the key, usually pasted along with it.
    #[error("the {provider} API key contains whitespace; paste the key alone")]
    Whitespace {
        /// The provider it was meant for.
        provider: Provider,
    },
    /// The key is wrapped in quotes.
    #[error("the {provider} API key is wrapped in quotes; paste it without them")]
    Quoted {
        /// The provider it was meant for.
        provider: Provider,
    },
    /// It is a key of another provider.
    #[error("this looks like an API key for {other}, not for {provider}")]
    OtherProvider {
        /// The provider it was meant for.
        provider: Provider,
        /// The provider whose format it has.
        other: Provider,
    },
    /// It does not start as the provider's keys do.
    #[error("a {provider} API key starts with `{expected}`")]
    WrongPrefix {
        /// The provider it was meant for.
        provider: Provider,
        /// The prefix its keys have.
        expected: &'static str,
    },
    /// Shorter than the provider's keys: probably cut off when copied.
    #[error("the {provider} API key is too short ({length} characters, at least {minimum} expected); was it cut off when copied?")]
    TooShort {
        /// The provider it was meant for.
        provider: Provider,
        /// Its length.
        length: usize,
        /// The shortest valid length.
        minimum: usize,
    },
    /// Longer than the provider's keys: probably two keys or extra text pasted together.
    #[error(
        "the {provider} API key is too long ({length} characters, at most {maximum} expected)"
    )]
    TooLong {
        /// The provider it was meant for.
        provider: Provider,
        /// Its length.
        length: usize,
        /// The longest valid length.
        maximum: usize,
    },
    /// Characters no key of this provider contains.
    #[error("the {provider} API key contains characters its keys never have")]
    BadCharacters {
        /// The provider it was meant for.
        provider: Provider,
    },
}

/// The shape of a provider's keys.
struct KeyFormat {
    prefix: &'static str,
    min: usize,
    max: usize,
}

fn format_of(provider: Provider) -> KeyFormat {
    match provider {
        // Legacy user keys are 51 characters; project and service-account keys are longer.
        Provider::OpenAi => KeyFormat {
            prefix: "sk-",
            min: 40,
            max: 300,
        },
        // `sk-ant-api03-` followed by about 95 characters.
        Provider::Anthropic => KeyFormat {
            prefix: "sk-ant-",
            min: 60,
            max: 300,
        },
        // `gsk_` followed by 52 characters.
        Provider::Groq => KeyFormat {
            prefix: "gsk_",
            min: 50,
            max: 100,
        },
        // Google API keys: `AIza` followed by 35 characters.
        Provider::Gemini => KeyFormat {
            prefix: "AIza",
            min: 39,
            max: 39,
        },
        // 32 letters and digits, no prefix.
        Provider::Mistral => KeyFormat {
            prefix: "",
            min: 32,
            max: 32,
        },
    }
}

/// The provider whose key format `key` has, judged by prefix (most specific first).
fn looks_like(key: &str) -> Option<Provider> {
    if key.starts_with("sk-ant-") {
        Some(Provider::Anthropic)
    } else if key.starts_with("sk-") {
        Some(Provider::OpenAi)
    } else if key.starts_with("gsk_") {
        Some(Provider::Groq)
    } else if key.starts_with("AIza") {
        Some(Provider::Gemini)
    } else {
        None
    }
}

/// Checks that `key` has the shape of a `provider` key, catching the common mistakes: a key of
/// another provider (`sk-ant-` keys also start with `sk-`), whitespace or quotes pasted along,
/// a truncated key. A key that passes may still be revoked: only a test request tells.
pub fn check_key(provider: Provider, key: &str) -> Result<(), KeyProblem> {
    if key.trim().is_empty() {
        return Err(KeyProblem::Empty { provider });
    }
    if key.chars().any(char::is_whitespace) {
        return Err(KeyProblem::Whitespace { provider });
    }
    if ['"', '\'', '`', '“', '”']
        .iter()
        .any(|q| key.starts_with(*q) || key.ends_with(*q))
    {
        return Err(KeyProblem::Quoted { provider });
    }
    if let Some(other) = looks_like(key).filter(|o| *o != provider) {
        return Err(KeyProblem::OtherProvider { provider, other });
    }
    let format = format_of(provider);
    if !key.starts_with(format.prefix) {
        return Err(KeyProblem::WrongPrefix {
            provider,
            expected: format.prefix,
        });
    }
    if !key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(KeyProblem::BadCharacters { provider });
    }
    let length = key.chars().count();
    if length < format.min {
        return Err(KeyProblem::TooShort {
            provider,
            length,
            minimum: format.min,
        });
    }
    if length > format.max {
        return Err(KeyProblem::TooLong {
            provider,
            length,
            maximum: format.max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI: &str =
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6lMn9oPq2rSt5uVw8xYz1a1b2";
    const ANTHROPIC: &str = "sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7zY6xW5vU4tS3rQ2pO1nM0lK9jI8hG7fE6dC5bA4zY3xW2vU1tS0rQ-AbCdEfAA";
    const GROQ: &str = "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";
    const GEMINI: &str = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q";
    const MISTRAL: &str = "aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV";

    #[test]
    fn masks_keep_prefix_and_last_four() {
        let key = ApiKey::new(OPENAI);
        assert_eq!(key.masked(), "sk-proj-…a1b2");
        assert_eq!(format!("{key}"), "sk-proj-…a1b2");
        assert_eq!(format!("{key:?}"), "ApiKey(sk-proj-…a1b2)");
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"sk-proj-…a1b2\"");
        assert_eq!(ApiKey::new(ANTHROPIC).masked(), "sk-ant-api03-…EfAA");
        assert_eq!(ApiKey::new(GROQ).masked(), "gsk_…gH7i");
        assert_eq!(ApiKey::new(GEMINI).masked(), "AIza…5p6Q");
        assert_eq!(ApiKey::new(MISTRAL).masked(), "…T0uV");
        assert_eq!(ApiKey::new("short").masked(), "…");
        for k in [OPENAI, ANTHROPIC, GROQ, GEMINI, MISTRAL] {
            let shown = format!("{:?} {}", ApiKey::new(k), ApiKey::new(k));
            assert!(!shown.contains(&k[..k.len() - 4]), "{shown}");
        }
    }

    #[test]
    fn scrub_masks_keys_in_text() {
        let text =
            format!("Incorrect API key provided: {OPENAI}. Also {GROQ}, not sk-short or task-ids.");
        let scrubbed = scrub_secrets(&text);
        assert_eq!(
            scrubbed,
            "Incorrect API key provided: sk-proj-…a1b2. Also gsk_…gH7i, not sk-short or task-ids."
        );
        assert_eq!(scrub_secrets("plain text é"), "plain text é");
    }

    #[test]
    fn the_key_in_use_is_masked_whatever_its_shape() {
        for k in [OPENAI, ANTHROPIC, GROQ, GEMINI, MISTRAL] {
            let key = ApiKey::new(k);
            let text = format!("Incorrect API key provided: {k}. (key={k})");
            let scrubbed = key.scrub(&text);
            assert!(!scrubbed.contains(&k[..k.len() - 4]), "{scrubbed}");
            assert!(scrubbed.contains(&key.masked()), "{scrubbed}");
        }
        // A message without the key is left as it is.
        assert_eq!(ApiKey::new(MISTRAL).scrub("Unauthorized"), "Unauthorized");
    }

    #[test]
    fn deserializes_the_full_key() {
        let key: ApiKey = serde_json::from_str(&format!("\"{GROQ}\"")).unwrap();
        assert_eq!(key.expose(), GROQ);
    }

    #[test]
    fn valid_keys_pass() {
        for (p, k) in [
            (Provider::OpenAi, OPENAI),
            (Provider::Anthropic, ANTHROPIC),
            (Provider::Groq, GROQ),
            (Provider::Gemini, GEMINI),
            (Provider::Mistral, MISTRAL),
        ] {
            assert_eq!(check_key(p, k), Ok(()), "{p}");
        }
    }

    #[test]
    fn common_mistakes_are_named() {
        use KeyProblem::*;
        let p = Provider::OpenAi;
        assert_eq!(check_key(p, ""), Err(Empty { provider: p }));
        assert_eq!(
            check_key(p, &format!(" {OPENAI}\n")),
            Err(Whitespace { provider: p })
        );
        assert_eq!(
            check_key(p, &format!("\"{OPENAI}\"")),
            Err(Quoted { provider: p })
        );
        assert_eq!(
            check_key(p, ANTHROPIC),
            Err(OtherProvider {
                provider: p,
                other: Provider::Anthropic
            })
        );
        assert_eq!(
            check_key(Provider::Anthropic, OPENAI),
            Err(OtherProvider {
                provider: Provider::Anthropic,
                other: Provider::OpenAi
            })
        );
        assert_eq!(
            check_key(Provider::Groq, &GROQ[..30]),
            Err(TooShort {
                provider: Provider::Groq,
                length: 30,
                minimum: 50
            })
        );
        assert_eq!(
            check_key(Provider::Gemini, &format!("{GEMINI}x")),
            Err(TooLong {
                provider: Provider::Gemini,
                length: 40,
                maximum: 39
            })
        );
        assert_eq!(
            check_key(Provider::Mistral, "aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0u!"),
            Err(BadCharacters {
                provider: Provider::Mistral
            })
        );
        assert_eq!(
            check_key(Provider::Gemini, MISTRAL),
            Err(WrongPrefix {
                provider: Provider::Gemini,
                expected: "AIza"
            })
        );
        let message = check_key(p, ANTHROPIC).unwrap_err().to_string();
        assert_eq!(
            message,
            "this looks like an API key for anthropic, not for openai"
        );
    }
}
