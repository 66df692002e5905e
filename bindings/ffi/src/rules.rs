//! Routing, budgets, alerts and usage summaries: the core's rules, with time and state passed in.

use std::collections::BTreeSet;
use std::time::SystemTime;

use byokit_core as core;

use crate::{
    day, decimal, instant, money, timestamp, ByokitError, CostStatus, Payer, Provider, TokenUsage,
};

/// The state of one of the user's keys.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum KeyState {
    /// Usable.
    Ok,
    /// The provider refused it (invalid, revoked, no credit): the user must act.
    Invalid {
        /// Why, in words the user can act on.
        reason: String,
    },
    /// Failing for now; skipped until `until`.
    Failing {
        /// When to try it again.
        until: SystemTime,
    },
}

/// One of the user's keys, as routing sees it (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoutingKey {
    /// Its id.
    pub id: String,
    /// Its provider.
    pub provider: Provider,
    /// When it was saved: the most recently saved key's provider is the active one.
    pub saved_at: SystemTime,
    /// Whether it works.
    pub state: KeyState,
    /// Requests per minute it may make, if known (Groq's free tier: 60).
    #[uniffi(default = None)]
    pub requests_per_minute: Option<u32>,
    /// Requests per day it may make, if known (Groq's free tier: 7,000).
    #[uniffi(default = None)]
    pub requests_per_day: Option<u32>,
    /// Tokens per minute it may use, if known.
    #[uniffi(default = None)]
    pub tokens_per_minute: Option<u64>,
}

/// The model a feature uses.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FeatureModel {
    /// The feature tag.
    pub feature: String,
    /// Its provider.
    pub provider: Provider,
    /// Its model.
    pub model: String,
}

/// A provider's default model.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProviderModel {
    /// The provider.
    pub provider: Provider,
    /// Its model.
    pub model: String,
}

/// The app's shared system key: which provider and model it serves, and each user's monthly
/// token cap.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SystemKeyPolicy {
    /// Its provider (Anthropic by default).
    pub provider: Provider,
    /// Its model (`claude-sonnet-4-20250514` by default).
    pub model: String,
    /// Tokens a user may use through it per calendar month (UTC), 1,000,000 by default.
    pub monthly_token_cap: u64,
}

/// The default system key policy: Anthropic `claude-sonnet-4-20250514`, 1,000,000 tokens a month.
#[uniffi::export]
pub fn default_system_key_policy() -> SystemKeyPolicy {
    let d = core::routing::SystemKeyPolicy::default();
    SystemKeyPolicy {
        provider: d.provider.into(),
        model: d.model,
        monthly_token_cap: d.monthly_token_cap,
    }
}

/// Everything routing needs to know about a user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RoutingState {
    /// The user's keys.
    pub keys: Vec<RoutingKey>,
    /// Providers to try, in order, when the active one is rate limited or down.
    #[uniffi(default = [])]
    pub fallback_chain: Vec<Provider>,
    /// Default models per provider, in place of byokit's.
    #[uniffi(default = [])]
    pub provider_models: Vec<ProviderModel>,
    /// Models per feature.
    #[uniffi(default = [])]
    pub feature_models: Vec<FeatureModel>,
    /// The app's system key, if it has one.
    #[uniffi(default = None)]
    pub system: Option<SystemKeyPolicy>,
    /// Tokens the user has used (and has in flight) through the system key this month.
    #[uniffi(default = 0)]
    pub system_tokens_used: u64,
}

/// The call to route.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct RouteInput {
    /// The feature making the call.
    #[uniffi(default = None)]
    pub feature: Option<String>,
    /// A model the caller asks for.
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// An estimate of the call's tokens, counted against the system cap.
    #[uniffi(default = 0)]
    pub estimated_tokens: u64,
}

/// A next choice after a retryable failure.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RouteFallback {
    /// Provider.
    pub provider: Provider,
    /// Model.
    pub model: String,
    /// The user's key to use.
    pub key_id: String,
}

/// Who serves and pays for a call, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RouteDecision {
    /// The provider that serves the call.
    pub provider: Provider,
    /// The model.
    pub model: String,
    /// Who pays.
    pub payer: Payer,
    /// The user's key that serves it; absent when the system key does.
    pub key_id: Option<String>,
    /// Which rule chose what, for logs and UI.
    pub explanation: Vec<String>,
    /// What to try next on a rate limit or outage, in order.
    pub fallbacks: Vec<RouteFallback>,
}

fn routing_config(state: RoutingState) -> Result<core::RoutingConfig, ByokitError> {
    let mut keys = Vec::with_capacity(state.keys.len());
    for k in state.keys {
        keys.push(core::routing::UserKey {
            id: k.id,
            provider: k.provider.into(),
            saved_at: instant(k.saved_at)?,
            last_used_at: None,
            status: match k.state {
                KeyState::Ok => core::KeyStatus::Ok,
                KeyState::Invalid { reason } => core::KeyStatus::Invalid { reason },
                KeyState::Failing { until } => core::KeyStatus::Failing {
                    until: instant(until)?,
                },
            },
            limits: core::routing::KeyLimits {
                requests_per_minute: k.requests_per_minute,
                requests_per_day: k.requests_per_day,
                tokens_per_minute: k.tokens_per_minute,
                ..Default::default()
            },
        });
    }
    Ok(core::RoutingConfig {
        keys,
        fallback_chain: state.fallback_chain.into_iter().map(Into::into).collect(),
        models: core::routing::ModelChoice {
            by_provider: state
                .provider_models
                .into_iter()
                .map(|m| (m.provider.into(), m.model))
                .collect(),
            by_feature: state
                .feature_models
                .into_iter()
                .map(|m| {
                    (
                        m.feature,
                        core::routing::FeatureModel {
                            provider: m.provider.into(),
                            model: m.model,
                        },
                    )
                })
                .collect(),
        },
        system: state.system.map(|s| core::routing::SystemKeyPolicy {
            provider: s.provider.into(),
            model: s.model,
            monthly_token_cap: s.monthly_token_cap,
        }),
    })
}

/// Decides who serves and pays for a call: the user's active key (the most recently saved),
/// else the system key while the month's system tokens stay within the cap. Refusals are
/// `InvalidKey` (the user's key must be fixed; never a silent fall back to the system key),
/// `SystemCapReached` (ask for the user's own key), `NoKey` and `RateLimited`.
#[uniffi::export]
pub fn route(
    state: RoutingState,
    request: RouteInput,
    now: SystemTime,
) -> Result<RouteDecision, ByokitError> {
    let ledger = core::Ledger::new(state.system_tokens_used);
    let config = routing_config(state)?;
    let request = core::RouteRequest {
        feature: request.feature,
        model: request.model,
        estimated_tokens: request.estimated_tokens,
    };
    let now = instant(now)?;
    let d = core::route(&config, &ledger, &request, now)
        .map_err(|e| ByokitError::from_route(&e, now))?;
    Ok(d.into())
}

impl From<core::Decision> for RouteDecision {
    fn from(d: core::Decision) -> Self {
        RouteDecision {
            provider: d.provider.into(),
            model: d.model,
            payer: d.payer.into(),
            key_id: match d.key {
                core::KeyChoice::User { key_id } => Some(key_id),
                core::KeyChoice::System => None,
            },
            explanation: d.explanation,
            fallbacks: d
                .fallbacks
                .into_iter()
                .map(|f| RouteFallback {
                    provider: f.provider.into(),
                    model: f.model,
                    key_id: f.key_id,
                })
                .collect(),
        }
    }
}

/// What happens when a budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BudgetPolicy {
    /// Refuse calls that would pass the limit.
    Block,
    /// Let calls through; only alert.
    AllowAndAlert,
}

/// A monthly spending limit in USD.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Budget {
    /// The limit, a decimal string (`"20"`, `"12.50"`).
    pub monthly_limit_usd: String,
    /// Block or only alert.
    pub policy: BudgetPolicy,
    /// Alert thresholds in percent of the limit, 1 to 100 (byokit's default: 50, 80, 100).
    pub alert_thresholds: Vec<u32>,
}

/// Alert thresholds, each 1 to 100 percent.
fn percents(thresholds: Vec<u32>) -> Result<Vec<u8>, ByokitError> {
    thresholds
        .into_iter()
        .map(|t| {
            core::budget::threshold_percent(t)
                .map_err(|e| ByokitError::invalid_input(e.to_string()))
        })
        .collect()
}

impl TryFrom<Budget> for core::Budget {
    type Error = ByokitError;

    fn try_from(b: Budget) -> Result<Self, ByokitError> {
        let budget = core::Budget {
            monthly_limit_usd: decimal(&b.monthly_limit_usd, "monthly_limit_usd")?,
            policy: match b.policy {
                BudgetPolicy::Block => core::BudgetPolicy::Block,
                BudgetPolicy::AllowAndAlert => core::BudgetPolicy::AllowAndAlert,
            },
            alert_thresholds: percents(b.alert_thresholds)?,
        };
        budget
            .validate()
            .map_err(|e| ByokitError::invalid_input(e.to_string()))?;
        Ok(budget)
    }
}

/// byokit's default alert thresholds: 50, 80 and 100 percent.
#[uniffi::export]
pub fn default_alert_thresholds() -> Vec<u32> {
    core::budget::DEFAULT_ALERT_THRESHOLDS
        .iter()
        .map(|&t| u32::from(t))
        .collect()
}

/// Where a budget stands in a month.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BudgetStatus {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The limit.
    pub limit_usd: String,
    /// Spent so far.
    pub spent_usd: String,
    /// Left, never negative.
    pub remaining_usd: String,
    /// Spent as a percentage of the limit, to 2 decimals.
    pub percent_used: String,
    /// Spending passed the limit.
    pub exceeded: bool,
    /// The policy.
    pub policy: BudgetPolicy,
}

impl From<core::BudgetStatus> for BudgetStatus {
    fn from(s: core::BudgetStatus) -> Self {
        BudgetStatus {
            month: s.month.to_string(),
            limit_usd: money(s.limit_usd),
            spent_usd: money(s.spent_usd),
            remaining_usd: money(s.remaining_usd),
            percent_used: money(s.percent_used),
            exceeded: s.exceeded,
            policy: match s.policy {
                core::BudgetPolicy::Block => BudgetPolicy::Block,
                core::BudgetPolicy::AllowAndAlert => BudgetPolicy::AllowAndAlert,
            },
        }
    }
}

/// Where `budget` stands when `spent_usd` has been spent in the month of `now`.
#[uniffi::export]
pub fn budget_status(
    budget: Budget,
    spent_usd: String,
    now: SystemTime,
) -> Result<BudgetStatus, ByokitError> {
    let budget = core::Budget::try_from(budget)?;
    let month = core::Month::containing(instant(now)?);
    Ok(budget
        .status(month, decimal(&spent_usd, "spent_usd")?)
        .into())
}

/// A budget alert.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BudgetAlert {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// The threshold reached, in percent.
    pub threshold_percent: u32,
    /// Spent when it fired.
    pub spent_usd: String,
    /// The limit.
    pub limit_usd: String,
}

/// The alerts that fire now that spending in the month of `now` reached `spent_usd`: each
/// threshold reached and not in `fired_this_month` (the thresholds already fired in that
/// month), once. Add the returned thresholds to what you keep.
#[uniffi::export]
pub fn budget_alerts(
    budget: Budget,
    fired_this_month: Vec<u32>,
    spent_usd: String,
    now: SystemTime,
) -> Result<Vec<BudgetAlert>, ByokitError> {
    let budget = core::Budget::try_from(budget)?;
    let now = instant(now)?;
    let mut fired = core::FiredAlerts {
        month: Some(core::Month::containing(now)),
        thresholds: percents(fired_this_month)?
            .into_iter()
            .collect::<BTreeSet<u8>>(),
    };
    Ok(budget
        .alerts(&mut fired, decimal(&spent_usd, "spent_usd")?, now)
        .into_iter()
        .map(|a| BudgetAlert {
            month: a.month.to_string(),
            threshold_percent: a.threshold_percent.into(),
            spent_usd: money(a.spent_usd),
            limit_usd: money(a.limit_usd),
        })
        .collect())
}

/// One call's usage, as stored.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsageEvent {
    /// When it was made.
    pub at: SystemTime,
    /// Which provider served it.
    pub provider: Provider,
    /// The model.
    pub model: String,
    /// The feature tag (`""` for none).
    #[uniffi(default = "")]
    pub feature: String,
    /// Who paid.
    pub payer: Payer,
    /// Its token counts.
    pub usage: TokenUsage,
    /// Its exact cost, absent when unpriced.
    pub cost_usd: Option<String>,
    /// Exact, estimated or unpriced.
    pub cost_status: CostStatus,
}

/// Totals of a set of calls.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsageTotals {
    /// Calls.
    pub requests: u64,
    /// Tokens sent.
    pub input_tokens: u64,
    /// Tokens received.
    pub output_tokens: u64,
    /// Both.
    pub total_tokens: u64,
    /// Cost of the priced calls, exact.
    pub cost_usd: String,
    /// Calls without a price (not in `cost_usd`).
    pub unpriced_requests: u64,
    /// Calls whose counts were estimated.
    pub estimated_requests: u64,
}

impl From<core::Totals> for UsageTotals {
    fn from(t: core::Totals) -> Self {
        UsageTotals {
            requests: t.requests,
            input_tokens: t.input_tokens,
            output_tokens: t.output_tokens,
            total_tokens: t.total_tokens,
            cost_usd: money(t.cost_usd),
            unpriced_requests: t.unpriced_requests,
            estimated_requests: t.estimated_requests,
        }
    }
}

/// Totals of one group (a provider, a feature, `provider/model`, a payer).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupTotals {
    /// The group's name.
    pub name: String,
    /// Its totals.
    pub totals: UsageTotals,
}

/// Totals of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DayTotals {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Its totals.
    pub totals: UsageTotals,
    /// Its totals per provider (the providers called that day), adding up to `totals`.
    pub by_provider: Vec<GroupTotals>,
}

/// The system key's quota in a month.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuotaStatus {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Tokens used through the system key.
    pub used_tokens: u64,
    /// The cap.
    pub cap_tokens: u64,
    /// Left, never negative.
    pub left_tokens: u64,
}

/// Usage over a window, with breakdowns whose parts add up to the totals exactly.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UsageSummary {
    /// The window's first instant (exclusive).
    pub start: SystemTime,
    /// Its last instant.
    pub end: SystemTime,
    /// Its length in days.
    pub days: u16,
    /// Everything in the window.
    pub totals: UsageTotals,
    /// Per provider.
    pub by_provider: Vec<GroupTotals>,
    /// Per feature (`""` for calls without one).
    pub by_feature: Vec<GroupTotals>,
    /// Per `provider/model`.
    pub by_model: Vec<GroupTotals>,
    /// Per payer (`user`, `system`).
    pub by_payer: Vec<GroupTotals>,
    /// Per UTC day, days without calls included.
    pub by_day: Vec<DayTotals>,
    /// The system key's quota, if a cap was given.
    pub system_quota: Option<QuotaStatus>,
    /// The budget, if one was given.
    pub budget: Option<BudgetStatus>,
}

fn groups<K: ToString>(m: std::collections::BTreeMap<K, core::Totals>) -> Vec<GroupTotals> {
    m.into_iter()
        .map(|(k, t)| GroupTotals {
            name: k.to_string(),
            totals: t.into(),
        })
        .collect()
}

impl From<core::UsageSummary> for UsageSummary {
    fn from(s: core::UsageSummary) -> Self {
        UsageSummary {
            start: timestamp(s.window.start()),
            end: timestamp(s.window.end),
            days: s.window.days,
            totals: s.totals.into(),
            by_provider: groups(s.by_provider),
            by_feature: groups(s.by_feature),
            by_model: groups(s.by_model),
            by_payer: groups(s.by_payer),
            by_day: s
                .by_day
                .into_iter()
                .map(|d| DayTotals {
                    date: day(d.date),
                    totals: d.totals.into(),
                    by_provider: groups(d.by_provider),
                })
                .collect(),
            system_quota: s.system_quota.map(|q| QuotaStatus {
                month: q.month.to_string(),
                used_tokens: q.used_tokens,
                cap_tokens: q.cap_tokens,
                left_tokens: q.left_tokens,
            }),
            budget: s.budget.map(Into::into),
        }
    }
}

/// A summary of `events` over the `days` (1–365) ending at `now`. With `system_token_cap`, the
/// summary shows the system key's quota; with `budget`, where the budget stands (user-paid
/// costs). Events outside the window still count toward this month's quota and budget.
#[uniffi::export]
pub fn summarize(
    events: Vec<UsageEvent>,
    days: u16,
    now: SystemTime,
    system_token_cap: Option<u64>,
    budget: Option<Budget>,
) -> Result<UsageSummary, ByokitError> {
    let window = core::Window::new(instant(now)?, i64::from(days))
        .map_err(|e| ByokitError::invalid_input(e.to_string()))?;
    let budget = budget.map(core::Budget::try_from).transpose()?;
    let mut core_events = Vec::with_capacity(events.len());
    for e in events {
        core_events.push(core::UsageEvent {
            at: instant(e.at)?,
            provider: e.provider.into(),
            model: e.model,
            feature: e.feature,
            payer: e.payer.into(),
            usage: e.usage.into(),
            cost_usd: e
                .cost_usd
                .as_deref()
                .map(|c| decimal(c, "cost_usd"))
                .transpose()?,
            cost_status: e.cost_status.into(),
        });
    }
    Ok(core::summarize(&core_events, window, system_token_cap, budget.as_ref()).into())
}
