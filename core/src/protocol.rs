//! The daemon's IPC protocol: JSON-RPC 2.0, one message per line, over a local socket. The
//! parameter and result types of every method live here so that every client shares them; the
//! protocol is described with an example per method in `docs/protocol.md`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::budget::{BudgetPolicy, DEFAULT_ALERT_THRESHOLDS};
use crate::cost::{CostStatus, Usage};
use crate::key::ApiKey;
use crate::provider::Provider;
use crate::routing::Payer;

pub mod client;
mod error;
pub use error::{Error, ErrorKind};

/// The user a request acts for when it names none (the spec's `clerk_id`).
pub const DEFAULT_USER: &str = "local";

/// The largest message the daemon reads: 1 MiB.
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// byokd's data directory unless told otherwise: `$BYOKIT_DATA_DIR`, else
/// `$XDG_DATA_HOME/byokit`, else `~/.local/share/byokit`; on Windows,
/// [`default_data_dir_windows`]. `env` reads a variable (the core does no I/O: pass
/// `|k| std::env::var_os(k)`); empty values count as unset.
pub fn default_data_dir(env: impl Fn(&str) -> Option<std::ffi::OsString>) -> std::path::PathBuf {
    use std::path::PathBuf;
    if cfg!(windows) {
        return default_data_dir_windows(env);
    }
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("BYOKIT_DATA_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = env("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("byokit");
    }
    env("HOME")
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
        .join(".local/share/byokit")
}

/// byokd's data directory on Windows: `%BYOKIT_DATA_DIR%`, else `%LOCALAPPDATA%\byokit`, else
/// `%USERPROFILE%\AppData\Local\byokit`, else `.\byokit` (which byokd refuses). `env` as for
/// [`default_data_dir`].
pub fn default_data_dir_windows(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> std::path::PathBuf {
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(dir) = env("BYOKIT_DATA_DIR") {
        return dir.into();
    }
    // Joined with `\` whatever the host: the rule reads the same in tests on any OS.
    let mut dir = match (env("LOCALAPPDATA"), env("USERPROFILE")) {
        (Some(local), _) => local,
        (None, Some(mut profile)) => {
            profile.push("\\AppData\\Local");
            profile
        }
        (None, None) => ".".into(),
    };
    dir.push("\\byokit");
    dir.into()
}

/// byokd's socket unless told otherwise: `$BYOKIT_SOCKET`, else
/// `$XDG_RUNTIME_DIR/byokit/byokd.sock`, else `byokd.sock` in `data_dir`; on Windows,
/// [`default_socket_windows`]. `env` as for [`default_data_dir`].
pub fn default_socket(
    data_dir: &std::path::Path,
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> std::path::PathBuf {
    use std::path::PathBuf;
    if cfg!(windows) {
        return default_socket_windows(env);
    }
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(s) = env("BYOKIT_SOCKET") {
        return PathBuf::from(s);
    }
    match env("XDG_RUNTIME_DIR") {
        Some(dir) => PathBuf::from(dir).join("byokit/byokd.sock"),
        None => data_dir.join("byokd.sock"),
    }
}

/// byokd's socket on Windows, a named pipe: `%BYOKIT_SOCKET%`, else `\\.\pipe\byokit-%USERNAME%`
/// (a `\` in the name, which a pipe name cannot hold, as `_`), or `\\.\pipe\byokit` without
/// `USERNAME`. Pipe names are one namespace for the whole machine: the user's name keeps two
/// users' daemons apart, and the pipe's access list keeps each to its user. `env` as for
/// [`default_data_dir`].
pub fn default_socket_windows(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> std::path::PathBuf {
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(s) = env("BYOKIT_SOCKET") {
        return s.into();
    }
    match env("USERNAME") {
        Some(user) => {
            let user = user.to_string_lossy().replace('\\', "_");
            format!("\\\\.\\pipe\\byokit-{user}").into()
        }
        None => "\\\\.\\pipe\\byokit".into(),
    }
}

fn default_user() -> String {
    DEFAULT_USER.to_owned()
}

/// JSON-RPC error codes the daemon answers with.
pub mod codes {
    /// The line is not JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC 2.0 request, or over the size limit.
    pub const INVALID_REQUEST: i64 = -32600;
    /// No such method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// The parameters do not fit the method.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The daemon failed (storage); nothing was changed.
    pub const INTERNAL: i64 = -32603;
    /// A key that does not have its provider's format.
    pub const BAD_KEY: i64 = -32001;
    /// The thing asked for does not exist (no configuration, unknown model).
    pub const NOT_FOUND: i64 = -32002;
    /// Routing refused the call (cap reached, bad key, rate limited).
    pub const REFUSED: i64 = -32003;
    /// The provider answered a `chat` call with an error; `data` holds its kind, status and
    /// retry-after.
    pub const PROVIDER_ERROR: i64 = -32004;
    /// The provider could not be reached.
    pub const UNREACHABLE: i64 = -32005;
}

/// Parameters naming only the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct UserParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
}

impl Default for UserParams {
    fn default() -> Self {
        UserParams {
            user: default_user(),
        }
    }
}

/// `config.save`: store a provider key (encrypted); the most recently saved becomes active.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigSaveParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub user: String,
    /// The provider.
    pub provider: Provider,
    /// The key. Serializes masked, so it must be sent by a client that writes it out itself.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub api_key: ApiKey,
    /// A base URL for this configuration (a proxy, or a mock provider in tests).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub base_url: Option<String>,
    /// The model to use with it.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub model: Option<String>,
    /// Keep the provider's other keys: this one joins them, and calls rotate among them
    /// (least recently used first; a rate-limited or failing key is skipped until it recovers).
    /// Without it, the new key replaces the provider's keys.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub add: bool,
}

/// A stored configuration, as shown: the key masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "KeyConfig")
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigView {
    /// The key's id.
    pub key_id: String,
    /// The provider.
    pub provider: Provider,
    /// The key, masked (`sk-proj-…a1b2`).
    pub api_key: String,
    /// Its base URL, if not the provider's.
    pub base_url: Option<String>,
    /// Its model, if chosen.
    pub model: Option<String>,
    /// Whether it is the active configuration.
    pub is_active: bool,
    /// When it was saved.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub saved_at: OffsetDateTime,
}

/// `config.get`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigGetResult {
    /// The active configuration, if the user has one.
    pub active: Option<ConfigView>,
    /// All of them, newest first.
    pub configs: Vec<ConfigView>,
}

/// `config.delete` and `config.test`: one provider's configuration, or the active one; for
/// `config.test`, also a key not saved yet (`api_key`, with its `provider`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigTarget {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub user: String,
    /// The provider; the active configuration's when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub provider: Option<Provider>,
    /// One key of the provider (`config.delete` only); all its keys when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub key_id: Option<String>,
    /// `config.test` only: a key typed but not saved, tested as it would be sent (with
    /// `provider`, and `base_url` when it goes elsewhere). Never stored.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub api_key: Option<ApiKey>,
    /// `config.test` with `api_key` only: where its requests would go instead of the
    /// provider's URL.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub base_url: Option<String>,
}

/// `routing.set`: how byokd routes the user's calls beyond the active key. Replaces the previous
/// settings whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingSetParams {
    /// The user.
    #[serde(default = "default_user")]
    pub user: String,
    /// The settings.
    #[serde(flatten)]
    pub settings: RoutingSettings,
}

/// A user's routing settings (`routing.get`'s and `routing.set`'s result).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingSettings {
    /// Providers to try, in order, when the active one is rate limited or down (each with the
    /// user's own key for it).
    #[serde(default)]
    pub fallback_chain: Vec<Provider>,
    /// The provider and model a feature's calls use, by feature tag.
    #[serde(default)]
    pub feature_models: std::collections::BTreeMap<String, crate::routing::FeatureModel>,
}

/// `config.delete`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigDeleteResult {
    /// How many configurations were deleted. Usage history is never deleted.
    pub deleted: u64,
}

/// `config.test`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigTestResult {
    /// The provider tested.
    pub provider: Provider,
    /// `valid`, the provider's error kind, or `unreachable`.
    pub outcome: ConfigTestOutcome,
    /// The provider's message, or why it could not be reached.
    pub message: Option<String>,
    /// The models the key can reach, when valid.
    #[serde(default)]
    pub models: Vec<String>,
}

impl ConfigTestResult {
    /// The result of a test request: what the provider's reply said
    /// ([`crate::interpret_test_response`]), or why it could not be read.
    pub fn from_reply(
        provider: Provider,
        reply: Result<crate::TestOutcome, crate::AdapterError>,
    ) -> ConfigTestResult {
        match reply {
            Ok(crate::TestOutcome::Valid { models, .. }) => ConfigTestResult {
                provider,
                outcome: ConfigTestOutcome::Valid,
                message: None,
                models,
            },
            Ok(crate::TestOutcome::Failed { error }) => ConfigTestResult {
                provider,
                outcome: error.kind.into(),
                message: Some(error.message),
                models: vec![],
            },
            Err(e) => ConfigTestResult::unreachable(provider, e.to_string()),
        }
    }

    /// The provider could not be reached (or answered with something unreadable).
    pub fn unreachable(provider: Provider, message: String) -> ConfigTestResult {
        ConfigTestResult {
            provider,
            outcome: ConfigTestOutcome::Unreachable,
            message: Some(message),
            models: vec![],
        }
    }
}

/// What a test of a stored key came to: `valid`, one of the provider's error kinds, or
/// `unreachable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConfigTestOutcome {
    /// The key works.
    Valid,
    /// The key is wrong, revoked or missing.
    InvalidKey,
    /// The key may not do this (model access, region, organization).
    PermissionDenied,
    /// Out of credit or quota.
    InsufficientCredit,
    /// Rate limited for now (the key itself may be fine).
    RateLimited,
    /// The provider is overloaded.
    Overloaded,
    /// The provider failed.
    ServerError,
    /// The provider refused the test request.
    BadRequest,
    /// The test's model does not exist for this key.
    ModelNotFound,
    /// The provider could not be reached.
    Unreachable,
}

impl ConfigTestOutcome {
    /// The snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        use crate::error::ErrorKind as K;
        match self {
            ConfigTestOutcome::Valid => "valid",
            ConfigTestOutcome::Unreachable => "unreachable",
            ConfigTestOutcome::InvalidKey => K::InvalidKey.as_str(),
            ConfigTestOutcome::PermissionDenied => K::PermissionDenied.as_str(),
            ConfigTestOutcome::InsufficientCredit => K::InsufficientCredit.as_str(),
            ConfigTestOutcome::RateLimited => K::RateLimited.as_str(),
            ConfigTestOutcome::Overloaded => K::Overloaded.as_str(),
            ConfigTestOutcome::ServerError => K::ServerError.as_str(),
            ConfigTestOutcome::BadRequest => K::BadRequest.as_str(),
            ConfigTestOutcome::ModelNotFound => K::ModelNotFound.as_str(),
        }
    }
}

impl From<crate::error::ErrorKind> for ConfigTestOutcome {
    fn from(kind: crate::error::ErrorKind) -> Self {
        use crate::error::ErrorKind as K;
        match kind {
            K::InvalidKey => ConfigTestOutcome::InvalidKey,
            K::PermissionDenied => ConfigTestOutcome::PermissionDenied,
            K::InsufficientCredit => ConfigTestOutcome::InsufficientCredit,
            K::RateLimited => ConfigTestOutcome::RateLimited,
            K::Overloaded => ConfigTestOutcome::Overloaded,
            K::ServerError => ConfigTestOutcome::ServerError,
            K::BadRequest => ConfigTestOutcome::BadRequest,
            K::ModelNotFound => ConfigTestOutcome::ModelNotFound,
        }
    }
}

/// `usage.record`: one call's usage, exactly as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "UsageRecord")
)]
pub struct UsageRecordParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
    /// The provider.
    pub provider: Provider,
    /// The model.
    pub model: String,
    /// The feature (`portfolio_chat`, …).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub feature: Option<String>,
    /// The token counts, as the provider reported them.
    #[cfg_attr(feature = "ts", ts(type = "Partial<TokenUsage>"))]
    pub usage: Usage,
    /// Who paid; the user's own key unless said.
    #[serde(default = "user_payer")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Payer>"))]
    pub payer: Payer,
    /// A key that makes a retried record count once.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub idempotency_key: Option<String>,
    /// When the call was made; now when absent.
    #[serde(default, with = "crate::instant::option")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub at: Option<OffsetDateTime>,
    /// How long the call took.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub latency_ms: Option<u64>,
    /// `ok`, or the error kind the call ended with.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub outcome: Option<String>,
}

fn user_payer() -> Payer {
    Payer::User
}

/// `usage.record`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct UsageRecordResult {
    /// The record's id.
    pub id: i64,
    /// Its exact cost, or `null` when unpriced.
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub cost_usd: Option<Decimal>,
    /// `exact`, `estimated` or `unpriced`.
    pub cost_status: CostStatus,
    /// The catalog version it was priced with.
    pub catalog_version: String,
    /// The record had been made before (same idempotency key): nothing new was stored.
    pub duplicate: bool,
}

/// `usage.summary`: a window of `days` days ending now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct UsageSummaryParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
    /// The window, 1–365 days.
    #[serde(default = "thirty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<i64>"))]
    pub days: i64,
}

fn thirty() -> i64 {
    30
}

/// `route`: who would serve and pay for a call now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RouteParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
    /// The feature.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub feature: Option<String>,
    /// A model the caller insists on.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub model: Option<String>,
    /// Estimated tokens of the call.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<u64>"))]
    pub estimated_tokens: u64,
}

/// `chat`: an AI call made by byokd with the key routing picks; byokd records its usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct ChatParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
    /// The feature making the call.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub feature: Option<String>,
    /// A model the caller insists on; else routing's choice.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub model: Option<String>,
    /// A system prompt.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub system: Option<String>,
    /// The conversation.
    pub messages: Vec<crate::chat::Message>,
    /// The most output tokens.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub stop: Vec<String>,
    /// Stream the reply: `chat.delta` notifications (`{"id", "text"}`) come before the result.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<bool>"))]
    pub stream: bool,
}

/// The method of the notification a streaming `chat` sends for each piece of text.
pub const CHAT_DELTA: &str = "chat.delta";

/// A [`CHAT_DELTA`] notification's parameters: the next piece of a streaming chat's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct ChatDelta {
    /// The `id` of the `chat` request it belongs to.
    #[cfg_attr(feature = "ts", ts(type = "number | string | null"))]
    pub id: serde_json::Value,
    /// The text.
    pub text: String,
}

/// `chat`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "DaemonChatReply")
)]
pub struct ChatResult {
    /// The reply.
    pub text: String,
    /// Why it stopped.
    pub finish_reason: Option<crate::chat::FinishReason>,
    /// The provider that served it.
    pub provider: Provider,
    /// The model, as the provider named it.
    pub model: String,
    /// Who paid.
    pub payer: Payer,
    /// Tokens as the provider reported them.
    pub usage: Usage,
    /// The recorded usage's id.
    pub usage_id: i64,
    /// Its exact cost, or `null` when unpriced.
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub cost_usd: Option<Decimal>,
    /// `exact`, `estimated` or `unpriced`.
    pub cost_status: CostStatus,
}

/// `budget.set`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetSetParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub user: String,
    /// The monthly limit in USD, a decimal string.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    #[serde(deserialize_with = "crate::cost::deserialize_usd")]
    pub monthly_limit_usd: Decimal,
    /// `block` or `allow_and_alert`.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<BudgetPolicy>"))]
    pub policy: BudgetPolicy,
    /// Alert thresholds in percent.
    #[serde(default = "default_thresholds")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<u8>>"))]
    pub alert_thresholds: Vec<u8>,
}

fn default_thresholds() -> Vec<u8> {
    DEFAULT_ALERT_THRESHOLDS.to_vec()
}

fn default_token_name() -> String {
    "default".to_owned()
}

/// `http.token`: the user's bearer token for the HTTP endpoint under a name, created on first
/// use and the same on every later call until revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpTokenParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub user: String,
    /// The token's name (one per app or device): `default` unless given.
    #[serde(default = "default_token_name")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub name: String,
}

/// `http.token`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpTokenResult {
    /// The user it acts for.
    pub user: String,
    /// Its name.
    pub name: String,
    /// The bearer token (`byok-…`).
    pub token: String,
}

/// One of `http.token.list`'s tokens: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct HttpTokenInfo {
    /// Its name.
    pub name: String,
    /// When it was created.
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub created_at: OffsetDateTime,
}

/// `http.token.revoke`: the token of that name stops working at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct HttpTokenRevokeParams {
    /// The user.
    #[serde(default = "default_user")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub user: String,
    /// The token's name.
    pub name: String,
}

/// `http.token.revoke`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct HttpTokenRevokeResult {
    /// How many tokens were revoked (0 or 1).
    pub revoked: u64,
}

/// `usage.reprice`'s result: the user's records of the window that were unpriced or estimated,
/// priced again with the daemon's catalog as it is now (at the prices in force on each call's
/// day). Exact records are never repriced; each change is kept with what it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct UsageRepriceResult {
    /// Records whose price changed.
    pub repriced: u64,
    /// Records looked at whose price is still what it was (their model still has no price).
    pub unchanged: u64,
    /// The catalog that priced them.
    pub catalog_version: String,
}

/// A catalog file as the daemon read it: its name (the path it was read from) and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct CatalogSource {
    /// Where it was read from.
    pub name: String,
    /// Its text (byokit TOML or JSON, LiteLLM's or genai-prices' JSON).
    pub text: String,
}

/// `catalog.get`'s result: the files the daemon merged over the built-in catalog, in order, so
/// that a client builds the very catalog the daemon prices with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct CatalogGetResult {
    /// The merged catalog's version.
    pub catalog_version: String,
    /// The files merged over the built-in catalog, in order.
    pub files: Vec<CatalogSource>,
}

/// `catalog.reload`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct CatalogReloadResult {
    /// The new catalog's version.
    pub catalog_version: String,
    /// The files read, in order.
    pub files: Vec<String>,
    /// How many models it knows.
    pub models: u64,
}

/// `vault.rotate`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct VaultRotateResult {
    /// How many stored keys were re-encrypted under the new master key.
    pub resealed: u64,
}

/// `budget.get`'s result when the user has a budget (`null` when not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BudgetGetResult {
    /// The budget.
    pub budget: crate::budget::Budget,
    /// Where it stands this month.
    pub status: crate::budget::BudgetStatus,
}

/// `daemon.status`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct DaemonStatus {
    /// byokd's version.
    pub version: String,
    /// Its process id.
    pub pid: u32,
    /// Seconds since it started.
    pub uptime_seconds: u64,
    /// The socket it listens on.
    pub socket: String,
    /// Its data directory.
    pub data_dir: String,
    /// The price catalog's version.
    pub catalog_version: String,
}

#[cfg(test)]
mod path_tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::Path;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into())
    }

    #[test]
    fn the_data_dir_and_socket_follow_the_environment_in_order() {
        let home = [("HOME", "/home/u")];
        assert_eq!(
            default_data_dir(env(&home)),
            Path::new("/home/u/.local/share/byokit")
        );
        let xdg = [("HOME", "/home/u"), ("XDG_DATA_HOME", "/d")];
        assert_eq!(default_data_dir(env(&xdg)), Path::new("/d/byokit"));
        let own = [("XDG_DATA_HOME", "/d"), ("BYOKIT_DATA_DIR", "/b")];
        assert_eq!(default_data_dir(env(&own)), Path::new("/b"));
        // An empty value is unset.
        let empty = [("HOME", "/home/u"), ("XDG_DATA_HOME", "")];
        assert_eq!(
            default_data_dir(env(&empty)),
            Path::new("/home/u/.local/share/byokit")
        );
        let data = Path::new("/b");
        assert_eq!(default_socket(data, env(&[])), Path::new("/b/byokd.sock"));
        let run = [("XDG_RUNTIME_DIR", "/run/user/7")];
        assert_eq!(
            default_socket(data, env(&run)),
            Path::new("/run/user/7/byokit/byokd.sock")
        );
        let set = [
            ("XDG_RUNTIME_DIR", "/run/user/7"),
            ("BYOKIT_SOCKET", "/s.sock"),
        ];
        assert_eq!(default_socket(data, env(&set)), Path::new("/s.sock"));
    }

    #[test]
    fn on_windows_the_data_dir_is_in_local_app_data_and_the_socket_a_named_pipe() {
        let user = [
            ("USERNAME", "ada"),
            ("USERPROFILE", r"C:\Users\ada"),
            ("LOCALAPPDATA", r"C:\Users\ada\AppData\Local"),
        ];
        assert_eq!(
            default_data_dir_windows(env(&user)),
            Path::new(r"C:\Users\ada\AppData\Local\byokit")
        );
        assert_eq!(
            default_data_dir_windows(env(&user[..2])),
            Path::new(r"C:\Users\ada\AppData\Local\byokit")
        );
        assert_eq!(default_data_dir_windows(env(&[])), Path::new(r".\byokit"));
        let own = [("LOCALAPPDATA", r"C:\L"), ("BYOKIT_DATA_DIR", r"D:\b")];
        assert_eq!(default_data_dir_windows(env(&own)), Path::new(r"D:\b"));
        assert_eq!(
            default_socket_windows(env(&user)),
            Path::new(r"\\.\pipe\byokit-ada")
        );
        let domain = [("USERNAME", r"CORP\ada")];
        assert_eq!(
            default_socket_windows(env(&domain)),
            Path::new(r"\\.\pipe\byokit-CORP_ada")
        );
        assert_eq!(
            default_socket_windows(env(&[])),
            Path::new(r"\\.\pipe\byokit")
        );
        let set = [("USERNAME", "ada"), ("BYOKIT_SOCKET", r"\\.\pipe\mine")];
        assert_eq!(
            default_socket_windows(env(&set)),
            Path::new(r"\\.\pipe\mine")
        );
    }
}
