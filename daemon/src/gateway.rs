//! The provider calls' I/O: byokd's HTTP client sends the requests the core builds and hands back
//! what came. Which request, which key, when to retry and where to fall back are decided
//! elsewhere (the core and the service); nothing here knows a provider.

use byokit_core::{Headers, HttpRequest, Method};

use crate::options::Timeouts;

/// byokd's HTTP client for provider calls.
#[derive(Clone)]
pub(crate) struct Gateway {
    http: reqwest::Client,
}

impl Gateway {
    /// A client with byokd's timeouts.
    pub(crate) fn new(timeouts: &Timeouts) -> Result<Gateway, String> {
        // No redirects: a provider URL answering 3xx would have the key's header (`x-api-key`,
        // `x-goog-api-key`, which reqwest keeps across origins) sent wherever it points.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .timeout(timeouts.total)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Gateway { http })
    }

    /// Sends a request the core built; returns the response as it starts.
    pub(crate) async fn open(&self, request: &HttpRequest) -> Result<reqwest::Response, String> {
        let mut builder = match request.method {
            Method::Get => self.http.get(&request.url),
            Method::Post => self.http.post(&request.url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        // reqwest's errors name the URL at most, never the headers that carry the key.
        builder
            .send()
            .await
            .map_err(|e| e.without_url().to_string())
    }

    /// Sends a request the core built; returns status, headers and body.
    pub(crate) async fn send(
        &self,
        request: &HttpRequest,
    ) -> Result<(u16, Headers, Vec<u8>), String> {
        Ok(read_all(self.open(request).await?).await)
    }
}

/// A whole response: status, headers, body (empty if it broke off).
pub(crate) async fn read_all(response: reqwest::Response) -> (u16, Headers, Vec<u8>) {
    let status = response.status().as_u16();
    let headers: Headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| {
            v.to_str()
                .ok()
                .map(|v| (n.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, headers, body)
}
