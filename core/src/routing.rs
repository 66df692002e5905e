//! Which provider, model and key serve a call, and who pays for it.
//!
//! The spec's rule made precise: the user's active configuration (their most recently saved key's
//! provider) when they have one; otherwise the shared system key, while the user's system-paid
//! tokens this calendar month (UTC), reservations included, plus the call's estimate stay within
//! the cap. A bad user key is an error the user sees, never a silent switch to the system key. A
//! pure function of the configuration, the usage so far and `now`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::budget::Month;
use crate::ledger::Ledger;
use crate::provider::Provider;
use crate::ratelimit::RateLimits;

/// Who pays for a call, apart from which provider serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Payer {
    /// The user's own key.
    User,
    /// The app's shared system key (counted against the monthly cap).
    System,
}

impl Payer {
    /// The snake_case name, as serialized: `user` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Payer::User => "user",
            Payer::System => "system",
        }
    }
}

from_as_str!(Payer, "payer", [Payer::User, Payer::System]);

impl std::fmt::Display for Payer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one of the user's keys, written `{"state": "failing", "until": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", try_from = "KeyStatusFields")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all_fields = "camelCase"))]
pub enum KeyStatus {
    /// Usable.
    #[default]
    Ok,
    /// The provider refused it (invalid, revoked, no credit): the user must act.
    Invalid {
        /// Why, in words the user can act on.
        reason: String,
    },
    /// Failing for now (server errors, overload): skipped until then.
    Failing {
        /// When to try it again.
        #[serde(with = "crate::instant")]
        #[cfg_attr(feature = "ts", ts(type = "Instant"))]
        until: OffsetDateTime,
    },
}

/// A [`KeyStatus`] as read: its fields side by side, so that reading one needs no buffering of
/// the object until its tag is found (which an internally tagged enum does: 3.5 KB of the
/// gzipped WebAssembly package, `docs/benchmarks.md`).
#[derive(Deserialize)]
struct KeyStatusFields {
    state: KeyState,
    reason: Option<String>,
    #[serde(default, with = "crate::instant::option")]
    until: Option<OffsetDateTime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyState {
    Ok,
    Invalid,
    Failing,
}

impl TryFrom<KeyStatusFields> for KeyStatus {
    type Error = &'static str;

    fn try_from(f: KeyStatusFields) -> Result<KeyStatus, &'static str> {
        Ok(match f.state {
            KeyState::Ok => KeyStatus::Ok,
            KeyState::Invalid => KeyStatus::Invalid {
                reason: f.reason.ok_or("missing field `reason`")?,
            },
            KeyState::Failing => KeyStatus::Failing {
                until: f.until.ok_or("missing field `until`")?,
            },
        })
    }
}

/// How long a key that is rate limited or failing, without saying for how long, is skipped.
pub const KEY_REST: std::time::Duration = std::time::Duration::from_secs(30);

impl KeyStatus {
    /// What an error reply teaches about the key that got it, at `now`: a key the provider
    /// refuses (bad key, no credit) is invalid until it is saved anew; one rate limited or
    /// failing rests while the provider asks, else [`KEY_REST`]; other errors (a bad request)
    /// say nothing about the key.
    pub fn after_error(e: &crate::error::ProviderError, now: OffsetDateTime) -> Option<KeyStatus> {
        use crate::error::ErrorKind;
        match e.kind {
            ErrorKind::InvalidKey | ErrorKind::InsufficientCredit => Some(KeyStatus::Invalid {
                reason: e.message.clone(),
            }),
            kind if kind.is_retryable() => Some(KeyStatus::Failing {
                until: now + e.retry_after.unwrap_or(KEY_REST),
            }),
            _ => None,
        }
    }
}

/// Request and token limits of a key, known in advance (Groq's free tier) or learned from
/// rate-limit headers, and the calls made with it recently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct KeyLimits {
    /// Requests per minute allowed.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub requests_per_minute: Option<u32>,
    /// Requests per day allowed.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub requests_per_day: Option<u32>,
    /// Tokens per minute allowed.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub tokens_per_minute: Option<u64>,
    /// The last snapshot of the provider's rate-limit headers.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub snapshot: Option<RateLimits>,
    /// Calls in the last 24 hours: when, and how many tokens. Oldest first.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<RecentCall>>"))]
    pub recent: Vec<RecentCall>,
}

/// A call made with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RecentCall {
    /// When it was made.
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub at: OffsetDateTime,
    /// Its tokens (estimated until settled).
    pub tokens: u64,
}

impl KeyLimits {
    /// Groq's free tier as the product spec states it: 60 requests a minute, 7,000 a day.
    pub fn groq_free_tier() -> KeyLimits {
        KeyLimits {
            requests_per_minute: Some(60),
            requests_per_day: Some(7_000),
            ..KeyLimits::default()
        }
    }

    /// Records a call, forgetting those older than a day.
    pub fn record(&mut self, at: OffsetDateTime, tokens: u64) {
        self.recent.retain(|c| c.at > at - Duration::DAY);
        let i = self.recent.partition_point(|c| c.at <= at);
        self.recent.insert(i, RecentCall { at, tokens });
    }

    /// `None` when a call of `tokens` may be sent now, else the instant it may: the limits known
    /// in advance, counted over the calls made, and the provider's last word in its headers.
    pub fn wait_until(&self, now: OffsetDateTime, tokens: u64) -> Option<OffsetDateTime> {
        let mut until: Option<OffsetDateTime> = None;
        let mut later = |t: OffsetDateTime| {
            if t > now {
                until = Some(until.map_or(t, |u| u.max(t)));
            }
        };
        let in_window = |w: Duration| self.recent.iter().filter(move |c| c.at > now - w);
        // A window is full when it holds `limit` calls: the oldest of the last `limit` must age out.
        let full = |limit: u32, w: Duration| {
            let calls: Vec<&RecentCall> = in_window(w).collect();
            let limit = limit as usize;
            (calls.len() >= limit).then(|| calls[calls.len() - limit.max(1)].at + w)
        };
        if let Some(t) = self
            .requests_per_minute
            .and_then(|l| full(l, Duration::MINUTE))
        {
            later(t);
        }
        if let Some(t) = self.requests_per_day.and_then(|l| full(l, Duration::DAY)) {
            later(t);
        }
        if let Some(limit) = self.tokens_per_minute {
            let used: u64 = in_window(Duration::MINUTE).map(|c| c.tokens).sum();
            if used.saturating_add(tokens) > limit {
                if let Some(oldest) = in_window(Duration::MINUTE).next() {
                    later(oldest.at + Duration::MINUTE);
                }
            }
        }
        if let Some(s) = &self.snapshot {
            if s.requests_remaining == Some(0) {
                if let Some(t) = s.requests_reset_at {
                    later(t);
                }
            }
            if s.tokens_remaining.is_some_and(|r| r < tokens) {
                if let Some(t) = s.tokens_reset_at {
                    later(t);
                }
            }
        }
        until
    }
}

/// One of the user's saved keys (the key itself stays in the vault; routing needs its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "RoutingKey")
)]
pub struct UserKey {
    /// The key's id in the store.
    pub id: String,
    /// Its provider.
    pub provider: Provider,
    /// When it was saved: the most recently saved key's provider is the active one.
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub saved_at: OffsetDateTime,
    /// When it was last used, for rotation (least recently used first).
    #[serde(default, with = "crate::instant::option")]
    #[cfg_attr(feature = "ts", ts(optional, type = "Instant"))]
    pub last_used_at: Option<OffsetDateTime>,
    /// Whether it works.
    pub status: KeyStatus,
    /// Its limits and recent calls.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<KeyLimits>"))]
    pub limits: KeyLimits,
}

/// The shared system key's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct SystemKeyPolicy {
    /// The provider that backs it.
    pub provider: Provider,
    /// The model it serves.
    pub model: String,
    /// Tokens each user may use through it per calendar month (UTC).
    pub monthly_token_cap: u64,
}

impl Default for SystemKeyPolicy {
    /// The spec's: Anthropic `claude-sonnet-4-20250514`, 1,000,000 tokens a month.
    fn default() -> Self {
        SystemKeyPolicy {
            provider: Provider::Anthropic,
            model: default_model(Provider::Anthropic).into(),
            monthly_token_cap: 1_000_000,
        }
    }
}

/// Which model to use when the call does not name one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct ModelChoice {
    /// A default model per provider (else [`default_model`]).
    #[serde(default)]
    #[cfg_attr(
        feature = "ts",
        ts(optional, as = "Option<BTreeMap<Provider, String>>")
    )]
    pub by_provider: BTreeMap<Provider, String>,
    /// A model per feature (`portfolio_chat`, `resume_generation`, …), used when the feature's
    /// provider is the one serving the call.
    #[serde(default)]
    #[cfg_attr(
        feature = "ts",
        ts(optional, as = "Option<BTreeMap<String, FeatureModel>>")
    )]
    pub by_feature: BTreeMap<String, FeatureModel>,
}

/// A feature's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeatureModel {
    /// The provider it belongs to.
    pub provider: Provider,
    /// The model id.
    pub model: String,
}

/// A provider's model when nobody chose one.
pub fn default_model(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => "gpt-4o-mini",
        Provider::Anthropic => "claude-sonnet-4-20250514",
        Provider::Groq => "llama-3.3-70b-versatile",
        Provider::Gemini => "gemini-2.5-flash",
        Provider::Mistral => "mistral-small-latest",
    }
}

/// Everything routing needs to know about one user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RoutingConfig {
    /// The user's saved keys.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<UserKey>>"))]
    pub keys: Vec<UserKey>,
    /// Providers to move to, in order, when the active one's keys are all rate limited or
    /// failing (only providers the user has keys for).
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<Provider>>"))]
    pub fallback_chain: Vec<Provider>,
    /// Model preferences.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<ModelChoice>"))]
    pub models: ModelChoice,
    /// The system key, if the app has one.
    #[cfg_attr(feature = "ts", ts(optional = nullable))]
    pub system: Option<SystemKeyPolicy>,
}

/// What the call wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RouteRequest {
    /// The feature making the call.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub feature: Option<String>,
    /// A model the caller insists on.
    #[cfg_attr(feature = "ts", ts(optional))]
    pub model: Option<String>,
    /// The call's estimated tokens (prompt plus expected output), reserved before it runs.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<u64>"))]
    pub estimated_tokens: u64,
}

/// Which key serves a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all_fields = "camelCase"))]
pub enum KeyChoice {
    /// One of the user's keys.
    User {
        /// Its id.
        key_id: String,
    },
    /// The system key.
    System,
}

/// A routing decision, with the reasons for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(rename_all = "camelCase", rename = "RouteDecision")
)]
pub struct Decision {
    /// The provider that serves the call.
    pub provider: Provider,
    /// The model.
    pub model: String,
    /// The key.
    pub key: KeyChoice,
    /// Who pays.
    pub payer: Payer,
    /// Why, one rule a line, for logs and UI.
    pub explanation: Vec<String>,
    /// What to try next, in order, if this call fails with a rate limit or an outage.
    pub fallbacks: Vec<Fallback>,
}

/// A next choice after a retryable failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Fallback {
    /// Provider.
    pub provider: Provider,
    /// Model.
    pub model: String,
    /// Key id.
    pub key_id: String,
}

/// Why a call cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The active provider's keys are all invalid: the user must fix their key.
    #[error("your {provider} API key does not work ({reason}); update it in your API settings")]
    InvalidKey {
        /// The active provider.
        provider: Provider,
        /// The provider's reason.
        reason: String,
    },
    /// The user has no key and the system key's monthly cap would be passed.
    #[error("you have used {used} of your {cap} free tokens this month ({month}); please add your own API key to continue")]
    SystemCapReached {
        /// Tokens used and reserved this month.
        used: u64,
        /// The cap.
        cap: u64,
        /// The month.
        month: Month,
    },
    /// The user has no key and the app has no system key.
    #[error("no API key is configured; please add your own API key")]
    NoKey,
    /// Every usable key is rate limited or failing right now.
    #[error("all your keys are rate limited; try again at {retry_at}")]
    RateLimited {
        /// When the first of them frees up.
        retry_at: OffsetDateTime,
    },
}

impl RouteError {
    /// The refusal's kind, as the daemon's errors name it in `data.kind`: `invalid_key`,
    /// `system_cap_reached`, `no_key` or `rate_limited`.
    pub fn kind(&self) -> &'static str {
        match self {
            RouteError::InvalidKey { .. } => "invalid_key",
            RouteError::SystemCapReached { .. } => "system_cap_reached",
            RouteError::NoKey => "no_key",
            RouteError::RateLimited { .. } => "rate_limited",
        }
    }
}

/// [`route`], with the caller's model held to `catalog`: a model the catalog knows only for
/// providers other than the one routed to (an app written for OpenAI asking for `gpt-4o-mini`,
/// a user whose key is Anthropic's) is not sent there; the routed provider's own model is (the
/// feature's or the default), and the decision says so. A name no catalog knows (a fine-tune)
/// is passed on as asked.
pub fn route_in_catalog(
    catalog: &crate::catalog::Catalog,
    config: &RoutingConfig,
    system_usage: &Ledger<u64>,
    request: &RouteRequest,
    now: OffsetDateTime,
) -> Result<Decision, RouteError> {
    let decision = route(config, system_usage, request, now)?;
    let Some(asked) = request.model.as_deref() else {
        return Ok(decision);
    };
    let known_here = catalog.find(decision.provider, asked).is_some();
    let known_elsewhere = Provider::ALL
        .iter()
        .any(|&other| catalog.find(other, asked).is_some());
    if known_here || !known_elsewhere {
        return Ok(decision);
    }
    let unnamed = RouteRequest {
        model: None,
        ..request.clone()
    };
    let mut again = route(config, system_usage, &unnamed, now)?;
    again.explanation.push(format!(
        "model {asked} asked for, but it is not a {} model: used {} instead",
        again.provider, again.model
    ));
    Ok(again)
}

/// Decides who serves and pays for a call. `system_usage` is the user's system-key ledger for
/// the month of `now`.
pub fn route(
    config: &RoutingConfig,
    system_usage: &Ledger<u64>,
    request: &RouteRequest,
    now: OffsetDateTime,
) -> Result<Decision, RouteError> {
    let mut why = Vec::new();
    let Some(active) = config.keys.iter().max_by_key(|k| k.saved_at) else {
        return route_system(config, system_usage, request, now, why);
    };
    let active = active.provider;
    why.push(format!(
        "active configuration: {active} (most recently saved key)"
    ));

    // The active provider first, then the fallback chain, each provider once.
    let mut order = vec![active];
    for p in &config.fallback_chain {
        if !order.contains(p) {
            order.push(*p);
        }
    }
    let mut usable: Vec<(Provider, &UserKey)> = Vec::new();
    let mut first_free: Option<OffsetDateTime> = None;
    for (i, provider) in order.iter().copied().enumerate() {
        let keys: Vec<&UserKey> = config
            .keys
            .iter()
            .filter(|k| k.provider == provider)
            .collect();
        if keys.is_empty() {
            why.push(format!("fallback {provider}: no key saved"));
            continue;
        }
        // The active provider's keys all refused: the user must see it, not be switched.
        if let (0, KeyStatus::Invalid { reason }) = (i, &keys[0].status) {
            if keys
                .iter()
                .all(|k| matches!(k.status, KeyStatus::Invalid { .. }))
            {
                return Err(RouteError::InvalidKey {
                    provider,
                    reason: reason.clone(),
                });
            }
        }
        let mut ready: Vec<&UserKey> = Vec::new();
        for key in keys {
            match &key.status {
                KeyStatus::Invalid { .. } => why.push(format!("key {} skipped: invalid", key.id)),
                KeyStatus::Failing { until } if *until > now => {
                    why.push(format!("key {} skipped: failing until {until}", key.id));
                    first_free = Some(first_free.map_or(*until, |f| f.min(*until)));
                }
                _ => match key.limits.wait_until(now, request.estimated_tokens) {
                    Some(t) => {
                        why.push(format!("key {} skipped: rate limited until {t}", key.id));
                        first_free = Some(first_free.map_or(t, |f| f.min(t)));
                    }
                    None => ready.push(key),
                },
            }
        }
        // Rotation: least recently used first (never used before any), then newest saved.
        ready.sort_by_key(|k| (k.last_used_at, std::cmp::Reverse(k.saved_at)));
        usable.extend(ready.into_iter().map(|k| (provider, k)));
    }
    let Some(((provider, key), rest)) = usable.split_first() else {
        // The active provider has a key that is not invalid, so it is limited or failing.
        return Err(RouteError::RateLimited {
            retry_at: first_free.unwrap_or(now),
        });
    };
    if *provider != active {
        why.push(format!("{active} unavailable: falling back to {provider}"));
    }
    why.push(format!(
        "key {} (least recently used of the ready keys)",
        key.id
    ));
    let model = choose_model(config, *provider, request, &mut why);
    let fallbacks = rest
        .iter()
        .map(|(p, k)| Fallback {
            provider: *p,
            model: choose_model(config, *p, request, &mut Vec::new()),
            key_id: k.id.clone(),
        })
        .collect();
    Ok(Decision {
        provider: *provider,
        model,
        key: KeyChoice::User {
            key_id: key.id.clone(),
        },
        payer: Payer::User,
        explanation: why,
        fallbacks,
    })
}

fn route_system(
    config: &RoutingConfig,
    system_usage: &Ledger<u64>,
    request: &RouteRequest,
    now: OffsetDateTime,
    mut why: Vec<String>,
) -> Result<Decision, RouteError> {
    why.push("no key of the user's: the system key".into());
    let Some(system) = &config.system else {
        return Err(RouteError::NoKey);
    };
    let month = Month::containing(now);
    let cap = system.monthly_token_cap;
    if let Err(over) = system_usage.check(request.estimated_tokens, Some(cap), now, None) {
        return Err(RouteError::SystemCapReached {
            used: over.settled.saturating_add(over.reserved),
            cap,
            month,
        });
    }
    why.push(format!(
        "system cap: {} used or reserved + {} estimated ≤ {cap} tokens in {month}",
        system_usage.committed(),
        request.estimated_tokens
    ));
    let model = match &request.model {
        Some(m) => {
            why.push(format!("model {m}: asked by the caller"));
            m.clone()
        }
        None => {
            why.push(format!("model {}: the system key's", system.model));
            system.model.clone()
        }
    };
    Ok(Decision {
        provider: system.provider,
        model,
        key: KeyChoice::System,
        payer: Payer::System,
        explanation: why,
        fallbacks: Vec::new(),
    })
}

fn choose_model(
    config: &RoutingConfig,
    provider: Provider,
    request: &RouteRequest,
    why: &mut Vec<String>,
) -> String {
    if let Some(m) = &request.model {
        why.push(format!("model {m}: asked by the caller"));
        return m.clone();
    }
    if let Some(feature) = &request.feature {
        if let Some(f) = config.models.by_feature.get(feature) {
            if f.provider == provider {
                why.push(format!("model {}: chosen for feature {feature}", f.model));
                return f.model.clone();
            }
            why.push(format!(
                "feature {feature}'s model is for {}, not {provider}",
                f.provider
            ));
        }
    }
    if let Some(m) = config.models.by_provider.get(&provider) {
        why.push(format!("model {m}: the default chosen for {provider}"));
        return m.clone();
    }
    let m = default_model(provider);
    why.push(format!("model {m}: byokit's default for {provider}"));
    m.to_owned()
}
