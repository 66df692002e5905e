//! How byokd runs: the options its flags set, shared by the process (`server`), the service
//! and the gateway.

use std::path::PathBuf;

use byokit_core::routing::SystemKeyPolicy;

use crate::vault::MasterKeyHome;

/// How byokd runs.
pub struct Options {
    /// The data directory (database, master key).
    pub data_dir: PathBuf,
    /// Where a new data dir keeps its master key (an existing one keeps it where it is; once
    /// byokd has started, where this one keeps it).
    pub master_key: MasterKeyHome,
    /// The socket path.
    pub socket: PathBuf,
    /// Where to serve the OpenAI-compatible HTTP endpoint and the REST door; off when `None`.
    pub http: Option<std::net::SocketAddr>,
    /// Who the REST door admits, from where.
    pub rest: RestOptions,
    /// The app's shared system key.
    pub system: SystemKeyOptions,
    /// Timeouts of provider calls.
    pub timeouts: Timeouts,
    /// Log every request (method, outcome, time), not only failures.
    pub log_requests: bool,
    /// Catalog files merged over the built-in catalog, in order (read again by
    /// `catalog.reload` and SIGHUP).
    pub catalog: Vec<PathBuf>,
    /// Accept a configuration's `base_url` in plain `http://` to another machine (by default
    /// only `https://`, or `http://` to loopback).
    pub allow_http_base_url: bool,
    /// A PostgreSQL database in place of the data dir's SQLite file.
    pub database: Option<DatabaseOptions>,
}

/// The PostgreSQL database several byokd share.
#[derive(Clone)]
pub struct DatabaseOptions {
    /// The role byokd serves as (`--database-url`): held to row-level security.
    pub url: String,
    /// The role that applies the migrations (`--database-owner-url`), when not the same.
    pub owner_url: Option<String>,
    /// The CA certificates (PEM) the server's TLS certificate is checked against in place of
    /// the Mozilla roots (`--database-ca-file`).
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for DatabaseOptions {
    /// Without the URLs, which may hold passwords.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseOptions { .. }")
    }
}

/// The system key: read from an environment variable at start; when it is unset, users without
/// their own key are refused.
#[derive(Debug, Clone)]
pub struct SystemKeyOptions {
    /// The variable holding the key (`ANTHROPIC_API_KEY`).
    pub key_env: String,
    /// Which provider, model and monthly per-user token cap it serves.
    pub policy: SystemKeyPolicy,
    /// A base URL in place of the provider's (a proxy; a mock in tests).
    pub base_url: Option<String>,
}

/// How long byokd waits on a provider (byokd's flags give the defaults).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: std::time::Duration,
    /// Between two reads, the first byte included.
    pub read: std::time::Duration,
    /// For the whole call, streamed reply included.
    pub total: std::time::Duration,
}

/// How the REST door admits callers (byokd's flags, `rest::RestArgs`).
#[derive(Default)]
pub struct RestOptions {
    /// `Host` names answered besides loopback's (the public name a reverse proxy forwards).
    pub hosts: Vec<String>,
    /// The SHA-256 of the app backend's service token, if it has one.
    pub service_token: Option<[u8; 32]>,
    /// The app's sign-in, if its JWTs are accepted.
    pub jwt: Option<JwtOptions>,
    /// Origins whose browsers may call the door (CORS); none when empty.
    pub cors_origins: Vec<String>,
    /// Requests per minute each user may make to `/api/settings/*` (0: the default, 120).
    pub rate_per_minute: u32,
}

/// How JWTs are checked.
pub struct JwtOptions {
    /// The key set of asymmetric keys, if any.
    pub jwks: Option<JwksSource>,
    /// The `iss` every token must have.
    pub issuer: String,
    /// The `aud` every token must have, when set.
    pub audience: Option<String>,
    /// The shared secret of HS256 tokens, when they are accepted.
    pub hs256_secret: Option<zeroize::Zeroizing<String>>,
}

/// Where the key set comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS file, read again as the cache says.
    File(std::path::PathBuf),
    /// An `https://` URL (or `http://` on loopback).
    Url(String),
}

impl JwksSource {
    /// A URL if it has a scheme, else a file; plain `http://` only for a loopback host.
    pub fn parse(text: &str) -> Result<JwksSource, String> {
        if let Some(rest) = text.strip_prefix("http://") {
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
            if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
                return Err(format!(
                    "--jwt-jwks {text}: only https:// (plain http:// is allowed on loopback only)"
                ));
            }
            return Ok(JwksSource::Url(text.to_owned()));
        }
        if text.starts_with("https://") {
            return Ok(JwksSource::Url(text.to_owned()));
        }
        if text.contains("://") {
            return Err(format!(
                "--jwt-jwks {text}: expected a file or an https:// URL"
            ));
        }
        Ok(JwksSource::File(text.into()))
    }
}

/// Whether a URL's host (`localhost`, `127.0.0.1`, `[::1]`, …) names this machine: where a key
/// or a database password may go in plain text.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
