//! A client of byokd for desktop apps: the daemon's JSON-RPC protocol over its local socket.
//! Calls block; call them off the UI thread (Kotlin: `Dispatchers.IO`; Swift: a background task).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use byokit_client::Client;
use byokit_core as core;
use byokit_core::protocol;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::{
    instant, money, ByokitError, ChatMessage, CostStatus, FinishReason, Payer, Provider,
    RouteDecision, RouteInput, TokenUsage, UsageSummary,
};

/// A connection to byokd (through `byokit-client`, the client the CLI uses too). One call at a
/// time travels on it; share it between threads freely (calls queue), or open one per thread
/// for parallel calls. A call fails, never hangs: a request over byokd's 1 MiB limit with
/// `InvalidInput` before anything is sent, a byokd that sends nothing for the read timeout
/// (60 s; 11 minutes for `chat` and `config_test`, which wait for a provider) with
/// `DaemonUnreachable`.
#[derive(uniffi::Object)]
pub struct DaemonClient {
    socket: String,
    client: Mutex<Client>,
}

/// The socket byokd listens on by default: `$BYOKIT_SOCKET`, else
/// `$XDG_RUNTIME_DIR/byokit/byokd.sock`, else `byokd.sock` in the data directory
/// (`$BYOKIT_DATA_DIR`, `$XDG_DATA_HOME/byokit` or `~/.local/share/byokit`); on Windows the
/// named pipe `\\.\pipe\byokit-%USERNAME%` (docs/windows.md).
#[uniffi::export]
pub fn default_socket_path() -> String {
    let data_dir = protocol::default_data_dir(|k| std::env::var_os(k));
    protocol::default_socket(&data_dir, |k| std::env::var_os(k))
        .to_string_lossy()
        .into_owned()
}

/// A stored configuration, as the daemon shows it: the key masked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyConfig {
    /// The key's id.
    pub key_id: String,
    /// The provider.
    pub provider: Provider,
    /// The key, masked (`sk-proj-…a1b2`).
    pub masked_key: String,
    /// Its base URL, if not the provider's.
    pub base_url: Option<String>,
    /// Its model, if chosen.
    pub model: Option<String>,
    /// The active configuration (the most recently saved).
    pub is_active: bool,
    /// When it was saved.
    pub saved_at: SystemTime,
}

impl From<protocol::ConfigView> for KeyConfig {
    fn from(v: protocol::ConfigView) -> Self {
        KeyConfig {
            key_id: v.key_id,
            provider: v.provider.into(),
            masked_key: v.api_key,
            base_url: v.base_url,
            model: v.model,
            is_active: v.is_active,
            saved_at: crate::timestamp(v.saved_at),
        }
    }
}

/// What `config_test` found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct KeyTestResult {
    /// The provider tested.
    pub provider: Provider,
    /// `valid`, an error kind (`invalid_key`, `insufficient_credit`, `rate_limited`, …) or
    /// `unreachable`.
    pub outcome: String,
    /// The provider's message, or why it could not be reached.
    pub message: Option<String>,
    /// The models the key can reach, when valid.
    pub models: Vec<String>,
}

/// One call's usage for the daemon to price and store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsageRecord {
    /// The provider that served the call.
    pub provider: Provider,
    /// The model.
    pub model: String,
    /// Its token counts, as the provider reported them.
    pub usage: TokenUsage,
    /// The feature tag.
    #[uniffi(default = None)]
    pub feature: Option<String>,
    /// Who paid; the user when absent.
    #[uniffi(default = None)]
    pub payer: Option<Payer>,
    /// A retried record with the same key is counted once.
    #[uniffi(default = None)]
    pub idempotency_key: Option<String>,
    /// When the call was made; now when absent.
    #[uniffi(default = None)]
    pub at: Option<SystemTime>,
    /// How long it took.
    #[uniffi(default = None)]
    pub latency_ms: Option<u64>,
}

/// What the daemon stored.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecordedUsage {
    /// The record's id.
    pub id: i64,
    /// Its exact cost, absent when unpriced.
    pub cost_usd: Option<String>,
    /// Exact, estimated or unpriced.
    pub cost_status: CostStatus,
    /// The catalog version it was priced with.
    pub catalog_version: String,
    /// It had been recorded before (same idempotency key): nothing new was stored.
    pub duplicate: bool,
}

/// A chat call for the daemon to route, make with the stored key, and record.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DaemonChatRequest {
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// A model; the routing rules choose when absent.
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// The feature tag (chooses the feature's model, and tags the usage record).
    #[uniffi(default = None)]
    pub feature: Option<String>,
    /// A system prompt.
    #[uniffi(default = None)]
    pub system: Option<String>,
    /// The most output tokens to generate.
    #[uniffi(default = None)]
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    #[uniffi(default = None)]
    pub temperature: Option<f64>,
    /// Stop sequences.
    #[uniffi(default = [])]
    pub stop: Vec<String>,
}

/// A chat call's reply, with what it cost.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DaemonChatReply {
    /// The reply.
    pub text: String,
    /// Why it stopped.
    pub finish_reason: Option<FinishReason>,
    /// The provider that served it.
    pub provider: Provider,
    /// The model, as the provider named it.
    pub model: String,
    /// Who paid.
    pub payer: Payer,
    /// Tokens as the provider reported them.
    pub usage: TokenUsage,
    /// The recorded usage's id.
    pub usage_id: i64,
    /// Its exact cost, absent when unpriced.
    pub cost_usd: Option<String>,
    /// Exact, estimated or unpriced.
    pub cost_status: CostStatus,
}

/// byokd's state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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

fn decode<T: DeserializeOwned>(v: Value, method: &str) -> Result<T, ByokitError> {
    serde_json::from_value(v).map_err(|e| ByokitError::MalformedResponse {
        reason: format!("unexpected {method} reply from byokd: {e}"),
    })
}

/// A timeout in seconds, as a duration.
fn duration(s: f64) -> Result<Duration, ByokitError> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| ByokitError::invalid_input(format!("timeout: {s} is not a number of seconds")))
}

impl DaemonClient {
    fn call_json(&self, method: &str, params: Value) -> Result<Value, ByokitError> {
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        client.call(method, params).map_err(|e| self.error(e))
    }

    fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T, ByokitError> {
        decode(self.call_json(method, params)?, method)
    }

    /// A failed call as the case the caller can act on.
    fn error(&self, e: byokit_client::Error) -> ByokitError {
        use byokit_client::Error as E;
        match e {
            E::Rpc(e) => e.into(),
            E::Malformed(e) => ByokitError::MalformedResponse {
                reason: e.to_string(),
            },
            e => ByokitError::DaemonUnreachable {
                reason: format!("byokd at {}: {e}", self.socket),
            },
        }
    }
}

fn provider_name(p: Provider) -> &'static str {
    core::Provider::from(p).as_str()
}

#[uniffi::export]
impl DaemonClient {
    /// Connects to byokd on `socket` ([`default_socket_path`] when absent). Fails with
    /// `DaemonUnreachable` when no byokd answers there (start it with `byokd`, or any `byokit`
    /// command).
    #[uniffi::constructor]
    pub fn connect(socket: Option<String>) -> Result<std::sync::Arc<DaemonClient>, ByokitError> {
        let socket = socket.unwrap_or_else(default_socket_path);
        let client =
            Client::connect(socket.as_ref()).map_err(|e| ByokitError::DaemonUnreachable {
                reason: e.to_string(),
            })?;
        Ok(std::sync::Arc::new(DaemonClient {
            client: Mutex::new(client),
            socket,
        }))
    }

    /// How long a call waits for byokd's next line before failing with `DaemonUnreachable`
    /// (60 s unless set). Calls that wait for a provider (`chat`, `config_test`) have their own
    /// ([`DaemonClient::set_provider_read_timeout`]).
    pub fn set_read_timeout(&self, seconds: f64) -> Result<(), ByokitError> {
        let timeout = duration(seconds)?;
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        client.set_read_timeout(timeout);
        Ok(())
    }

    /// The same for `chat` and `config_test` (11 minutes unless set: byokd gives a provider
    /// call and its retries up to 10 minutes).
    pub fn set_provider_read_timeout(&self, seconds: f64) -> Result<(), ByokitError> {
        let timeout = duration(seconds)?;
        let mut client = self.client.lock().unwrap_or_else(|p| p.into_inner());
        client.set_provider_read_timeout(timeout);
        Ok(())
    }

    /// Calls any method with JSON parameters; returns the JSON result. For methods this client
    /// has no typed call for (`budget.set`, `alerts.list`, `usage.export`, …).
    pub fn call_raw(&self, method: String, params_json: String) -> Result<String, ByokitError> {
        let params: Value = serde_json::from_str(&params_json)
            .map_err(|e| ByokitError::invalid_input(format!("params: {e}")))?;
        Ok(self.call_json(&method, params)?.to_string())
    }

    /// `daemon.status`.
    pub fn status(&self) -> Result<DaemonStatus, ByokitError> {
        let s: protocol::DaemonStatus = self.call("daemon.status", json!({}))?;
        Ok(DaemonStatus {
            version: s.version,
            pid: s.pid,
            uptime_seconds: s.uptime_seconds,
            socket: s.socket,
            data_dir: s.data_dir,
            catalog_version: s.catalog_version,
        })
    }

    /// `config.save`: stores `api_key` encrypted; it becomes the active configuration. The
    /// reply shows it masked.
    pub fn config_save(
        &self,
        user: String,
        provider: Provider,
        api_key: String,
        model: Option<String>,
        base_url: Option<String>,
    ) -> Result<KeyConfig, ByokitError> {
        let v: protocol::ConfigView = self.call(
            "config.save",
            json!({"user": user, "provider": provider_name(provider), "api_key": api_key,
                   "model": model, "base_url": base_url}),
        )?;
        Ok(v.into())
    }

    /// `config.get`: the user's configurations, newest (the active one) first.
    pub fn config_get(&self, user: String) -> Result<Vec<KeyConfig>, ByokitError> {
        let r: protocol::ConfigGetResult = self.call("config.get", json!({"user": user}))?;
        Ok(r.configs.into_iter().map(KeyConfig::from).collect())
    }

    /// `config.delete`: deletes one provider's configuration (the active one when absent); usage
    /// history stays. Returns how many were deleted.
    pub fn config_delete(
        &self,
        user: String,
        provider: Option<Provider>,
    ) -> Result<u64, ByokitError> {
        let r: protocol::ConfigDeleteResult = self.call(
            "config.delete",
            json!({"user": user, "provider": provider.map(provider_name)}),
        )?;
        Ok(r.deleted)
    }

    /// `config.test`: asks the provider whether the stored key works.
    pub fn config_test(
        &self,
        user: String,
        provider: Option<Provider>,
    ) -> Result<KeyTestResult, ByokitError> {
        let r: protocol::ConfigTestResult = self.call(
            "config.test",
            json!({"user": user, "provider": provider.map(provider_name)}),
        )?;
        Ok(KeyTestResult {
            provider: r.provider.into(),
            outcome: r.outcome.as_str().to_owned(),
            message: r.message,
            models: r.models,
        })
    }

    /// `usage.record`: the daemon prices the call and stores it; acknowledged once durable.
    pub fn usage_record(
        &self,
        user: String,
        record: UsageRecord,
    ) -> Result<RecordedUsage, ByokitError> {
        let at = record
            .at
            .map(instant)
            .transpose()?
            .map(|t| {
                core::instant::format(t)
                    .ok_or_else(|| ByokitError::invalid_input("at: not writable in RFC 3339"))
            })
            .transpose()?;
        let usage = core::Usage::from(record.usage);
        let r: protocol::UsageRecordResult = self.call(
            "usage.record",
            json!({"user": user, "provider": provider_name(record.provider),
                   "model": record.model, "feature": record.feature, "usage": usage,
                   "payer": record.payer.map(core::Payer::from).unwrap_or(core::Payer::User),
                   "idempotency_key": record.idempotency_key, "at": at,
                   "latency_ms": record.latency_ms}),
        )?;
        Ok(RecordedUsage {
            id: r.id,
            cost_usd: r.cost_usd.map(money),
            cost_status: r.cost_status.into(),
            catalog_version: r.catalog_version,
            duplicate: r.duplicate,
        })
    }

    /// `usage.summary`: the user's usage over the last `days` days, from the daemon's store.
    pub fn usage_summary(&self, user: String, days: u16) -> Result<UsageSummary, ByokitError> {
        let s: core::UsageSummary =
            self.call("usage.summary", json!({"user": user, "days": days}))?;
        Ok(s.into())
    }

    /// `route`: who would serve and pay for a call, and why.
    pub fn route(&self, user: String, request: RouteInput) -> Result<RouteDecision, ByokitError> {
        let d: core::Decision = self.call(
            "route",
            json!({"user": user, "feature": request.feature, "model": request.model,
                   "estimated_tokens": request.estimated_tokens}),
        )?;
        Ok(d.into())
    }

    /// `chat`: the daemon routes the call, makes it with the stored key (retrying and falling
    /// back as configured) and records its usage.
    pub fn chat(
        &self,
        user: String,
        request: DaemonChatRequest,
    ) -> Result<DaemonChatReply, ByokitError> {
        let messages: Vec<core::Message> = request
            .messages
            .into_iter()
            .map(core::Message::from)
            .collect();
        let r: protocol::ChatResult = self.call(
            "chat",
            json!({"user": user, "feature": request.feature, "model": request.model,
                   "system": request.system, "messages": messages,
                   "max_output_tokens": request.max_output_tokens,
                   "temperature": request.temperature, "stop": request.stop}),
        )?;
        Ok(DaemonChatReply {
            text: r.text,
            finish_reason: r.finish_reason.map(Into::into),
            provider: r.provider.into(),
            model: r.model,
            payer: r.payer.into(),
            usage: r.usage.into(),
            usage_id: r.usage_id,
            cost_usd: r.cost_usd.map(money),
            cost_status: r.cost_status.into(),
        })
    }
}
