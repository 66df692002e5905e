//! What byokd keeps, behind one interface the service talks to: [`Store`]. SQLite is the
//! embedded default ([`sqlite`]); a database shared by several daemons implements the same
//! trait, with the operations that must hold across processes (holding system-key tokens
//! against the monthly cap, idempotent records, acknowledging a record only once it is durable)
//! made atomic in the database.
//!
//! Every operation is scoped to one user, named in its arguments.

mod columns;
pub mod postgres;
pub mod sqlite;
pub mod summary;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use byokit_core::budget::{Alert, Budget, BudgetStatus, Month};
use byokit_core::protocol::{
    ConfigView, HttpTokenInfo, RoutingSettings, UsageRecordParams, UsageRecordResult,
};
use byokit_core::{CostStatus, Decimal, Payer, Provider, Totals, UsageEvent, UsageSummary, Window};
use time::OffsetDateTime;
use tokio::sync::oneshot;

pub use sqlite::{
    migrate, open, set_vault_check, upgrade_seals, vault_check, SqliteStore, LINGER, MIGRATIONS,
};

/// A store failure, without any secret in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("storage: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The database (PostgreSQL) failed: its message and code, never a row's values.
    #[error("storage: {0}")]
    Database(String),
    /// The database asked for the transaction to be tried again (a deadlock, a serialization
    /// failure); the store does, a few times.
    #[error("storage: {0}")]
    Retry(String),
    /// A stored value cannot be read back.
    #[error("storage: damaged row: {0}")]
    Damaged(String),
    /// A value the database cannot hold (a count over 2^63 - 1); nothing was stored.
    #[error("storage: out of range: {0}")]
    OutOfRange(String),
    /// The store is shut down.
    #[error("storage: the store is shut down")]
    Closed,
}

/// What a store operation comes to, later.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The answer to a usage record, which comes once the record is durable.
pub type Acknowledgement = oneshot::Receiver<Result<UsageRecordResult, StoreError>>;

/// What byokd keeps: configurations with sealed keys, usage, budgets and alerts, routing
/// settings, bearer tokens, and the system-key tokens that calls in flight hold.
pub trait Store: Send + Sync {
    /// Saves a configuration; it becomes the user's active one.
    fn save_config(&self, config: NewConfig) -> StoreFuture<'_, ConfigView>;
    /// The user's configurations, newest first.
    fn configs(&self, user: &str) -> StoreFuture<'_, Vec<StoredConfig>>;
    /// Deletes one key (by id), a provider's keys, or the active configuration; answers how
    /// many went. If the active one went, the most recently saved of the rest takes over.
    fn delete_config(
        &self,
        user: &str,
        provider: Option<Provider>,
        key_id: Option<String>,
    ) -> StoreFuture<'_, u64>;
    /// What routing reads about the user on every call.
    fn routing_inputs(&self, user: &str) -> StoreFuture<'_, Arc<RoutingInputs>>;

    /// Sends a priced usage record to be stored and returns without waiting for its commit: the
    /// id it is stored under
    /// (a retry of a recorded idempotency key keeps the first id, which the answer gives), and
    /// the answer, which comes once the record is durable. Every read of usage after this call
    /// sees it.
    fn record(
        &self,
        record: PricedRecord,
        commit: Commit,
    ) -> StoreFuture<'_, (i64, Acknowledgement)>;
    /// The user's records after `since` whose cost is not exact (unpriced or estimated), with
    /// their ids, for repricing.
    fn inexact_records(
        &self,
        user: &str,
        since: OffsetDateTime,
    ) -> StoreFuture<'_, Vec<(i64, UsageEvent)>>;
    /// Stores new prices of the user's records, each only if its cost status is still the one
    /// it was repriced from (an exact record is never touched); the daily totals follow.
    /// Answers how many records changed.
    fn reprice(&self, user: &str, changes: Vec<Repriced>) -> StoreFuture<'_, u64>;
    /// Waits until every record sent so far is durable.
    fn flush(&self) -> StoreFuture<'_, ()>;
    /// The user's usage events after `since`.
    fn events(&self, user: &str, since: OffsetDateTime) -> StoreFuture<'_, Vec<UsageEvent>>;
    /// The user's summary over a window, with the system key's monthly `cap` if there is one.
    fn summary(
        &self,
        user: &str,
        window: Window,
        cap: Option<u64>,
    ) -> StoreFuture<'_, UsageSummary>;

    /// The user's system-key tokens of a month: recorded, plus what calls in flight hold.
    fn system_tokens(&self, user: &str, month: Month, now: OffsetDateTime) -> StoreFuture<'_, u64>;
    /// Holds `hold.tokens` of the user's month for a call the system key pays for, if what is
    /// recorded and held, with them, stays within `hold.cap`; `None` if it would not (another
    /// call took the room since routing looked). Atomic against every other hold on the same
    /// store, whichever process makes it.
    fn hold_system_tokens(&self, hold: HoldRequest) -> StoreFuture<'_, Option<SystemHold>>;

    /// Sets the user's budget.
    fn set_budget(&self, user: &str, budget: Budget) -> StoreFuture<'_, ()>;
    /// The user's budget and where it stands in a month (their own-key spending, exactly).
    fn budget_status(
        &self,
        user: &str,
        month: Month,
    ) -> StoreFuture<'_, Option<(Budget, BudgetStatus)>>;
    /// The user's alerts, newest first.
    fn alerts(&self, user: &str) -> StoreFuture<'_, Vec<Alert>>;
    /// Replaces the user's routing settings.
    fn set_routing(
        &self,
        user: &str,
        settings: RoutingSettings,
    ) -> StoreFuture<'_, RoutingSettings>;
    /// The user's routing settings (the defaults when none are stored).
    fn routing(&self, user: &str) -> StoreFuture<'_, RoutingSettings>;

    /// The user's bearer token of that name, sealed, if there is one.
    fn http_token(&self, user: &str, name: &str) -> StoreFuture<'_, Option<Vec<u8>>>;
    /// Stores a new bearer token under the user's name unless one is there already; answers
    /// the sealed token stored under that name (the new one, or one another call stored first).
    fn save_http_token(&self, token: NewHttpToken) -> StoreFuture<'_, Vec<u8>>;
    /// The user a bearer token belongs to, by its SHA-256.
    fn http_token_user(&self, hash: TokenHash) -> StoreFuture<'_, Option<String>>;
    /// The user's bearer tokens (names and dates, never the tokens).
    fn http_tokens(&self, user: &str) -> StoreFuture<'_, Vec<HttpTokenInfo>>;
    /// Revokes the user's token of that name; answers how many were revoked.
    fn revoke_http_token(&self, user: &str, name: &str) -> StoreFuture<'_, u64>;

    /// Whether other processes share this store (several byokd on one database): then what one
    /// byokd might keep in memory between requests (which user a bearer token is) another may
    /// change, and nothing is kept.
    fn shared(&self) -> bool {
        false
    }

    /// Re-seals every stored secret with `reseal` and records the new master key's `check`
    /// value, in one transaction; answers how many provider keys were re-sealed.
    fn reseal(&self, reseal: Box<Resealer>, check: Vec<u8>) -> StoreFuture<'_, u64>;
}

/// A usage record as the service priced it.
pub struct PricedRecord {
    /// The record as sent.
    pub record: UsageRecordParams,
    /// When the call happened (the record's `at`, else when it was sent).
    pub at: OffsetDateTime,
    /// Its exact cost, when priced.
    pub cost_usd: Option<Decimal>,
    /// Exact, estimated or unpriced.
    pub cost_status: CostStatus,
    /// The catalog that priced it.
    pub catalog_version: String,
}

impl PricedRecord {
    /// The record as an event of the summaries, at the instant the stores keep (milliseconds).
    pub(crate) fn event(&self) -> UsageEvent {
        UsageEvent {
            at: to_ms(self.at),
            provider: self.record.provider,
            model: self.record.model.clone(),
            feature: self.record.feature.clone().unwrap_or_default(),
            payer: self.record.payer,
            usage: self.record.usage,
            cost_usd: self.cost_usd,
            cost_status: self.cost_status,
        }
    }
}

/// An instant as the stores keep it: to the millisecond.
pub(crate) fn to_ms(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

/// What records add to a store's daily totals, by (user, UTC day, provider, payer, feature,
/// model). Ordered: a PostgreSQL batch updates, and so locks, its rows in this order, the same in
/// every byokd, so that two batches never wait on each other in a circle.
pub(crate) type Daily =
    std::collections::BTreeMap<(String, time::Date, Provider, Payer, String, String), Totals>;

/// Adds an event of `user` to the daily totals.
pub(crate) fn add_to_daily(daily: &mut Daily, user: &str, e: &UsageEvent) {
    daily
        .entry((
            user.to_owned(),
            summary::day_date(summary::day_number(e.at)),
            e.provider,
            e.payer,
            e.feature.clone(),
            e.model.clone(),
        ))
        .or_default()
        .add_event(e);
}

/// The daily totals of a user's events.
pub(crate) fn daily_totals(user: &str, events: &[UsageEvent]) -> Daily {
    let mut daily = Daily::new();
    for e in events {
        add_to_daily(&mut daily, user, e);
    }
    daily
}

/// A record's new price.
pub struct Repriced {
    /// The record's id.
    pub id: i64,
    /// The status it had, which it must still have to be changed.
    pub from_status: CostStatus,
    /// The new cost.
    pub cost_usd: Option<Decimal>,
    /// The new status.
    pub cost_status: CostStatus,
    /// The catalog that priced it now.
    pub catalog_version: String,
}

/// A stored configuration with its sealed key.
pub struct StoredConfig {
    /// The shown part.
    pub view: ConfigView,
    /// The sealed key.
    pub sealed: Vec<u8>,
    /// How it was sealed ([`crate::vault::SEAL_VERSION`] for every row byokd can use).
    pub sealed_version: u32,
}

/// A configuration to save.
pub struct NewConfig {
    /// The user.
    pub user: String,
    /// Its new key id.
    pub key_id: String,
    /// The provider.
    pub provider: Provider,
    /// The sealed key.
    pub sealed: Vec<u8>,
    /// The key masked.
    pub masked: String,
    /// Base URL.
    pub base_url: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Keep the provider's other keys.
    pub add: bool,
}

impl NewConfig {
    /// The saved configuration as a user sees it (masked, active), saved at `saved_at`.
    pub fn view(self, saved_at: OffsetDateTime) -> ConfigView {
        ConfigView {
            key_id: self.key_id,
            provider: self.provider,
            api_key: self.masked,
            base_url: self.base_url,
            model: self.model,
            is_active: true,
            saved_at,
        }
    }
}

/// What routing reads about a user on every call: their configurations (keys sealed), routing
/// settings and budget.
pub struct RoutingInputs {
    /// The configurations, newest first.
    pub configs: Vec<StoredConfig>,
    /// The routing settings.
    pub settings: RoutingSettings,
    /// The budget, if one is set.
    pub budget: Option<Budget>,
}

/// When a usage record is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// As soon as the store is free: the caller waits for the acknowledgement (`usage.record`).
    Now,
    /// Soon, sharing the commit with the records that come meanwhile: the call it records has
    /// been answered already (a `chat`). Anything committed [`Commit::Now`] after it (a flush
    /// before a read of usage, a `usage.record`, a change of settings) commits it too.
    Soon,
}

/// A new bearer token to store.
pub struct NewHttpToken {
    /// The user.
    pub user: String,
    /// The token's name.
    pub name: String,
    /// The token's SHA-256.
    pub hash: TokenHash,
    /// The token, sealed.
    pub sealed: Vec<u8>,
}

/// The SHA-256 of a bearer token: how the store finds it.
pub type TokenHash = [u8; 32];

/// Re-seals one stored secret: what it was sealed for and its sealed bytes, to the new sealed
/// bytes.
pub type Resealer = dyn FnMut(Sealed<'_>) -> Result<Vec<u8>, String> + Send;

/// A sealed secret as stored, with what it was sealed for.
pub enum Sealed<'a> {
    /// A provider key of a configuration.
    Key {
        /// The user.
        user: &'a str,
        /// The provider.
        provider: Provider,
        /// The key's id.
        key_id: &'a str,
        /// Where its requests go instead of the provider's URL.
        base_url: Option<&'a str>,
        /// Its model.
        model: Option<&'a str>,
        /// How it was sealed (a row of an earlier version is re-sealed with the current one).
        version: u32,
        /// The sealed key.
        sealed: &'a [u8],
    },
    /// A bearer token of the HTTP endpoint.
    Token {
        /// The user.
        user: &'a str,
        /// The token's name.
        name: &'a str,
        /// The sealed token.
        sealed: &'a [u8],
    },
}

/// A call's request to hold system-key tokens of the user's month.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    /// The user.
    pub user: String,
    /// The month whose cap it counts against.
    pub month: Month,
    /// The tokens to hold (the call's estimate).
    pub tokens: u64,
    /// The monthly cap per user.
    pub cap: u64,
    /// When the hold lapses if nobody gives it back (the call's longest life).
    pub ttl: time::Duration,
    /// Now.
    pub now: OffsetDateTime,
}

/// What a store does with a hold: settle it at the call's actual tokens, give it back.
pub trait HeldTokens: Send + Sync {
    /// Holds `tokens` in place of the estimate.
    fn settle(&self, tokens: u64);
    /// Gives the tokens back.
    fn release(&self);
}

/// System-key tokens held for a call in flight: its estimate, then its actual tokens once
/// known; given back when dropped (after the call's record is durable, so that routing counts
/// the call either as held or as recorded, never as neither) or when its deadline passes.
pub struct SystemHold(Box<dyn HeldTokens>);

impl SystemHold {
    /// A hold kept by a store.
    pub fn new(held: impl HeldTokens + 'static) -> SystemHold {
        SystemHold(Box::new(held))
    }

    /// Holds the call's actual tokens in place of its estimate: its usage is known and on its
    /// way to the store, where routing will count it once it is durable (and the hold dropped).
    pub fn settle(&self, tokens: u64) {
        self.0.settle(tokens);
    }
}

impl Drop for SystemHold {
    fn drop(&mut self) {
        self.0.release();
    }
}
