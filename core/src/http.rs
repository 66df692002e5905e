//! HTTP requests and response headers as plain data: the core builds requests and reads
//! replies; the host sends the bytes.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::key::mask;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

/// Headers whose values are secrets: masked in `Debug` and in [`HttpRequest::redacted`].
const SECRET_HEADERS: [&str; 3] = ["authorization", "x-api-key", "x-goog-api-key"];

/// A request for the host to send. It carries the API key in a header, so its `Debug` output
/// masks secret headers; use [`HttpRequest::redacted`] for anything that is logged or stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL. Never carries a key (Gemini's key goes in a header, not `?key=`).
    pub url: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl HttpRequest {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A copy with every secret header masked (`Bearer sk-proj-…a1b2`), safe to log.
    pub fn redacted(&self) -> HttpRequest {
        HttpRequest {
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), redact_header(n, v)))
                .collect(),
            ..self.clone()
        }
    }
}

fn redact_header(name: &str, value: &str) -> String {
    if !SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return value.to_owned();
    }
    match value.split_once(' ') {
        Some((scheme, secret)) => format!("{scheme} {}", mask(secret)),
        None => mask(value),
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.redacted();
        f.debug_struct("HttpRequest")
            .field("method", &r.method)
            .field("url", &r.url)
            .field("headers", &r.headers)
            .field("body", &r.body)
            .finish()
    }
}

/// Response headers, looked up by case-insensitive name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of a header, by case-insensitive name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Headers(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_redacted_never_show_the_key() {
        let key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l1b2c";
        let req = HttpRequest {
            method: Method::Post,
            url: "https://api.openai.com/v1/chat/completions".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer {key}")),
                ("content-type".into(), "application/json".into()),
            ],
            body: Some("{}".into()),
        };
        let debug = format!("{req:?}");
        assert!(!debug.contains(key), "{debug}");
        assert!(debug.contains("Bearer sk-proj-…1b2c"), "{debug}");
        assert_eq!(
            req.redacted().header("Authorization"),
            Some("Bearer sk-proj-…1b2c")
        );
        assert_eq!(
            req.redacted().header("content-type"),
            Some("application/json")
        );
        assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {key}").as_str())
        );
    }

    #[test]
    fn headers_are_case_insensitive() {
        let h: Headers = [("Retry-After", " 3 ")].into_iter().collect();
        assert_eq!(h.get("retry-after"), Some("3"));
        assert_eq!(h.get("x"), None);
    }
}
