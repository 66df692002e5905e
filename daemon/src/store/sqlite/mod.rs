//! The SQLite store, byokd's embedded default: configurations (keys encrypted by the vault),
//! usage logs, budgets and alerts, every query scoped to one user.
//!
//! One thread owns the connection and takes commands from a queue. Consecutive writes are grouped
//! into one transaction (group commit), and each is acknowledged only after that transaction has
//! committed: acknowledged means durable. The records of calls answered already (a `chat`) may
//! wait [`LINGER`] for company before their commit ([`Commit::Soon`]). One byokd owns a data dir
//! (its lock), so the system key's holds live in this process (`holds`).

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc};

use byokit_core::budget::{Alert, Budget, BudgetStatus, FiredAlerts, Month};
use byokit_core::protocol::{ConfigView, HttpTokenInfo, RoutingSettings, UsageRecordResult};
use byokit_core::usage::DayGroup;
use byokit_core::{Decimal, Payer, Provider, Totals, UsageEvent, UsageSummary, Window};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::{
    add_to_daily, daily_totals, Acknowledgement, Commit, Daily, HoldRequest, NewConfig,
    NewHttpToken, PricedRecord, Repriced, Resealer, RoutingInputs, Sealed, Store, StoreError,
    StoreFuture, StoredConfig, SystemHold, TokenHash,
};
use crate::store::summary::SummaryPlan;

mod columns;
mod holds;
mod keys;
mod schema;
mod settings;
mod tokens;
mod usage;
mod writer;

// What `byokit store copy` reads a desktop store with, as the SQLite store reads itself.
pub(crate) use columns::from_ms;
pub(crate) use settings::get_budget;

use columns::*;
pub use keys::upgrade_seals;
use keys::*;
use schema::*;
pub use schema::{migrate, open, set_vault_check, vault_check, MIGRATIONS};
use settings::*;
use tokens::*;
use usage::*;
use writer::*;

/// How a command is answered.
type Answer<T> = oneshot::Sender<Result<T, StoreError>>;

/// What the store thread is asked to do.
enum Command {
    /// Record usage under `id` (given out by [`SqliteStore::record`]) unless its idempotency
    /// key is already recorded; committed as `commit` says.
    Record {
        record: PricedRecord,
        id: i64,
        commit: Commit,
        reply: Answer<UsageRecordResult>,
    },
    /// Nothing: answered once everything sent before it has committed.
    Flush { reply: Answer<()> },
    SaveConfig {
        config: NewConfig,
        reply: Answer<ConfigView>,
    },
    Configs {
        user: String,
        reply: Answer<Vec<StoredConfig>>,
    },
    SetRouting {
        user: String,
        settings: RoutingSettings,
        reply: Answer<RoutingSettings>,
    },
    Routing {
        user: String,
        reply: Answer<RoutingSettings>,
    },
    DeleteConfig {
        user: String,
        provider: Option<Provider>,
        key_id: Option<String>,
        reply: Answer<u64>,
    },
    Events {
        user: String,
        since: OffsetDateTime,
        reply: Answer<Vec<UsageEvent>>,
    },
    /// The summary over a window, from daily totals and the edge days' events.
    Summary {
        user: String,
        window: Window,
        cap: Option<u64>,
        reply: Answer<UsageSummary>,
    },
    /// System-paid tokens of the user in a month, as recorded.
    SystemTokens {
        user: String,
        month: Month,
        reply: Answer<u64>,
    },
    SetBudget {
        user: String,
        budget: Budget,
        reply: Answer<()>,
    },
    Budget {
        user: String,
        reply: Answer<Option<Budget>>,
    },
    BudgetStatus {
        user: String,
        month: Month,
        reply: Answer<Option<(Budget, BudgetStatus)>>,
    },
    Alerts {
        user: String,
        reply: Answer<Vec<Alert>>,
    },
    HttpToken {
        user: String,
        name: String,
        reply: Answer<Option<Vec<u8>>>,
    },
    SaveHttpToken {
        token: NewHttpToken,
        reply: Answer<Vec<u8>>,
    },
    HttpTokenUser {
        hash: TokenHash,
        reply: Answer<Option<String>>,
    },
    HttpTokens {
        user: String,
        reply: Answer<Vec<HttpTokenInfo>>,
    },
    RevokeHttpToken {
        user: String,
        name: String,
        reply: Answer<u64>,
    },
    /// Re-seal every stored secret and record the new check value, in one transaction.
    Reseal {
        reseal: Box<Resealer>,
        check: Vec<u8>,
        reply: Answer<u64>,
    },
    InexactRecords {
        user: String,
        since: OffsetDateTime,
        reply: Answer<Vec<(i64, UsageEvent)>>,
    },
    Reprice {
        user: String,
        changes: Vec<Repriced>,
        reply: Answer<u64>,
    },
}

/// The SQLite store: a handle to its writer thread and its reader.
#[derive(Clone)]
pub struct SqliteStore {
    tx: mpsc::Sender<Command>,
    /// Reads, on a second connection: they see what is committed and never wait behind a
    /// batch's commit. `None` for a database without a file (reads then go with the writes).
    reads: Option<mpsc::Sender<Command>>,
    /// The next usage record's id. Ids are given out here, when a record is sent, so that a
    /// caller can answer with the id before the record's commit: this process is the database's
    /// only writer.
    next_usage_id: Arc<AtomicI64>,
    /// What routing reads on every call, per user.
    routing: Arc<RoutingCache>,
    /// System-key tokens held by the calls running now.
    holds: Arc<holds::Holds>,
}

/// [`RoutingInputs`] kept in memory. Every change to them is a command to the store's writer,
/// which clears the user's entry once the change's transaction has ended and before answering
/// it; a read that raced with a change is not kept (the generation moved on).
#[derive(Default)]
struct RoutingCache {
    inner: std::sync::Mutex<(u64, HashMap<String, Arc<RoutingInputs>>)>,
}

/// The most users whose routing inputs are kept; past it, the cache starts again empty.
const ROUTING_CACHE_USERS: usize = 10_000;

impl RoutingCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, Arc<RoutingInputs>>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets one user's inputs, or everyone's.
    fn clear(&self, user: Option<&str>) {
        let mut inner = self.lock();
        inner.0 += 1;
        match user {
            Some(user) => {
                inner.1.remove(user);
            }
            None => inner.1.clear(),
        }
    }
}

/// How long a [`Commit::Soon`] record may wait for others to share its commit.
pub const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// How often a lingering batch looks for more commands: the most a command that must commit at
/// once waits behind one.
const LINGER_STEP: std::time::Duration = std::time::Duration::from_micros(250);

impl Command {
    /// Whether the command may wait up to [`LINGER`] for others to join its transaction.
    fn can_wait(&self) -> bool {
        matches!(
            self,
            Command::Record {
                commit: Commit::Soon,
                ..
            }
        )
    }

    /// Whose routing inputs the command changes: `Some(Some(user))`, `Some(None)` for everyone's
    /// (a re-seal of every key), `None` for nobody's.
    fn changes_routing(&self) -> Option<Option<String>> {
        match self {
            Command::SaveConfig { config, .. } => Some(Some(config.user.clone())),
            Command::DeleteConfig { user, .. }
            | Command::SetRouting { user, .. }
            | Command::SetBudget { user, .. } => Some(Some(user.clone())),
            Command::Reseal { .. } => Some(None),
            Command::Reprice { user, .. } => Some(Some(user.clone())),
            _ => None,
        }
    }

    /// Whether the command deletes or replaces a sealed secret, whose old bytes are then
    /// checkpointed out of the WAL.
    fn erases_secret(&self) -> bool {
        matches!(
            self,
            Command::DeleteConfig { .. }
                | Command::RevokeHttpToken { .. }
                | Command::Reseal { .. }
                | Command::SaveConfig { .. }
        )
    }

    /// Whether the command reads usage records or what they add up to (not the system key's
    /// month, which routing reads with the tokens of calls in flight held apart).
    fn reads_usage(&self) -> bool {
        matches!(
            self,
            Command::Events { .. }
                | Command::InexactRecords { .. }
                | Command::Summary { .. }
                | Command::BudgetStatus { .. }
                | Command::Alerts { .. }
        )
    }

    /// Whether the command only reads, so that it may run on the read connection.
    fn only_reads(&self) -> bool {
        self.reads_usage()
            || matches!(
                self,
                Command::Configs { .. }
                    | Command::HttpToken { .. }
                    | Command::HttpTokenUser { .. }
                    | Command::HttpTokens { .. }
                    | Command::SystemTokens { .. }
                    | Command::Routing { .. }
                    | Command::Budget { .. }
            )
    }
}

impl SqliteStore {
    /// Starts the store's threads on an open connection.
    pub fn start(conn: Connection) -> Result<SqliteStore, StoreError> {
        let reader = conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|p| open_reader(Path::new(p)).ok());
        let reads = reader.map(|reader| {
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name("byokd-store-reads".into())
                .spawn(move || run(reader, rx, None, None))
                .expect("the store's read thread starts");
            tx
        });
        // Ids continue after the largest ever used (an empty table starts at 1).
        let next_usage_id = conn.query_row(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM api_usage_logs",
            [],
            |r| r.get::<_, i64>(0),
        )?;
        // The WAL is copied into the database file by a thread of its own, so that commits
        // never wait for a checkpoint (SQLite's automatic ones run inside a commit).
        let checkpoint = conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|p| start_checkpointer(Path::new(p)));
        if checkpoint.is_some() {
            if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", 0) {
                tracing::warn!(target: crate::LOG, "cannot turn off automatic WAL checkpoints: {e}");
            }
        }
        let (tx, rx) = mpsc::channel();
        let routing = Arc::<RoutingCache>::default();
        let changes = Arc::clone(&routing);
        std::thread::Builder::new()
            .name("byokd-store".into())
            .spawn(move || run(conn, rx, checkpoint, Some(changes)))
            .expect("the store thread starts");
        Ok(SqliteStore {
            tx,
            reads,
            next_usage_id: Arc::new(AtomicI64::new(next_usage_id)),
            routing,
            holds: Default::default(),
        })
    }

    /// Sends a command and waits for its answer.
    async fn ask<T>(&self, make: impl FnOnce(Answer<T>) -> Command) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let command = make(tx);
        let queue = match &self.reads {
            Some(reads) if command.only_reads() => {
                // A read of usage sees every record sent before it, committed or not yet (a
                // chat's record is sent before its reply and commits after it).
                if command.reads_usage() {
                    self.flush_now().await?;
                }
                reads
            }
            _ => &self.tx,
        };
        queue.send(command).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Waits until everything sent before has committed, so that a read sees it.
    async fn flush_now(&self) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Flush { reply })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// The system-paid tokens of the user's month, as recorded.
    async fn recorded_system_tokens(&self, user: &str, month: Month) -> Result<u64, StoreError> {
        let user = user.to_owned();
        self.ask(|reply| Command::SystemTokens { user, month, reply })
            .await
    }
}

impl Store for SqliteStore {
    fn save_config(&self, config: NewConfig) -> StoreFuture<'_, ConfigView> {
        Box::pin(self.ask(move |reply| Command::SaveConfig { config, reply }))
    }

    fn configs(&self, user: &str) -> StoreFuture<'_, Vec<StoredConfig>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Configs { user, reply }))
    }

    fn delete_config(
        &self,
        user: &str,
        provider: Option<Provider>,
        key_id: Option<String>,
    ) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::DeleteConfig {
            user,
            provider,
            key_id,
            reply,
        }))
    }

    /// From memory when nothing changed them since they were last read.
    fn routing_inputs(&self, user: &str) -> StoreFuture<'_, Arc<RoutingInputs>> {
        let user = user.to_owned();
        Box::pin(async move {
            let generation = {
                let inner = self.routing.lock();
                if let Some(inputs) = inner.1.get(&user) {
                    return Ok(Arc::clone(inputs));
                }
                inner.0
            };
            let (configs, settings, budget) = tokio::try_join!(
                self.ask(|reply| Command::Configs {
                    user: user.clone(),
                    reply
                }),
                self.ask(|reply| Command::Routing {
                    user: user.clone(),
                    reply
                }),
                self.ask(|reply| Command::Budget {
                    user: user.clone(),
                    reply
                }),
            )?;
            let inputs = Arc::new(RoutingInputs {
                configs,
                settings,
                budget,
            });
            let mut inner = self.routing.lock();
            if inner.0 == generation {
                if inner.1.len() >= ROUTING_CACHE_USERS {
                    inner.1.clear();
                }
                inner.1.insert(user, Arc::clone(&inputs));
            }
            Ok(inputs)
        })
    }

    fn record(
        &self,
        record: PricedRecord,
        commit: Commit,
    ) -> StoreFuture<'_, (i64, Acknowledgement)> {
        let id = self.next_usage_id.fetch_add(1, Ordering::Relaxed);
        let (reply, rx) = oneshot::channel();
        let sent = self
            .tx
            .send(Command::Record {
                record,
                id,
                commit,
                reply,
            })
            .map_err(|_| StoreError::Closed);
        Box::pin(std::future::ready(sent.map(|()| (id, rx))))
    }

    fn inexact_records(
        &self,
        user: &str,
        since: OffsetDateTime,
    ) -> StoreFuture<'_, Vec<(i64, UsageEvent)>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::InexactRecords { user, since, reply }))
    }

    fn reprice(&self, user: &str, changes: Vec<Repriced>) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Reprice {
            user,
            changes,
            reply,
        }))
    }

    fn flush(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.flush_now())
    }

    fn events(&self, user: &str, since: OffsetDateTime) -> StoreFuture<'_, Vec<UsageEvent>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Events { user, since, reply }))
    }

    fn summary(
        &self,
        user: &str,
        window: Window,
        cap: Option<u64>,
    ) -> StoreFuture<'_, UsageSummary> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Summary {
            user,
            window,
            cap,
            reply,
        }))
    }

    fn system_tokens(&self, user: &str, month: Month, now: OffsetDateTime) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(async move {
            // What calls in flight hold, read before what is recorded: a hold is dropped only
            // after its call's record has committed, so a call is always in one or the other
            // (or, for a moment, in both), never in neither.
            let held = self.holds.held(&user, now);
            let recorded = self.recorded_system_tokens(&user, month).await?;
            Ok(recorded.saturating_add(held))
        })
    }

    fn hold_system_tokens(&self, hold: HoldRequest) -> StoreFuture<'_, Option<SystemHold>> {
        Box::pin(async move {
            // One hold at a time per user: reading what is recorded and holding the new call's
            // share happen together.
            let _turn = self.holds.turn(&hold.user).await;
            let held = self.holds.held(&hold.user, hold.now);
            let recorded = self.recorded_system_tokens(&hold.user, hold.month).await?;
            let total = recorded.saturating_add(held).saturating_add(hold.tokens);
            Ok((total <= hold.cap).then(|| holds::Holds::hold(&self.holds, &hold)))
        })
    }

    fn set_budget(&self, user: &str, budget: Budget) -> StoreFuture<'_, ()> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::SetBudget {
            user,
            budget,
            reply,
        }))
    }

    fn budget_status(
        &self,
        user: &str,
        month: Month,
    ) -> StoreFuture<'_, Option<(Budget, BudgetStatus)>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::BudgetStatus { user, month, reply }))
    }

    fn alerts(&self, user: &str) -> StoreFuture<'_, Vec<Alert>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Alerts { user, reply }))
    }

    fn set_routing(
        &self,
        user: &str,
        settings: RoutingSettings,
    ) -> StoreFuture<'_, RoutingSettings> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::SetRouting {
            user,
            settings,
            reply,
        }))
    }

    fn routing(&self, user: &str) -> StoreFuture<'_, RoutingSettings> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::Routing { user, reply }))
    }

    fn http_token(&self, user: &str, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        let (user, name) = (user.to_owned(), name.to_owned());
        Box::pin(self.ask(move |reply| Command::HttpToken { user, name, reply }))
    }

    fn save_http_token(&self, token: NewHttpToken) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(self.ask(move |reply| Command::SaveHttpToken { token, reply }))
    }

    fn http_token_user(&self, hash: TokenHash) -> StoreFuture<'_, Option<String>> {
        Box::pin(self.ask(move |reply| Command::HttpTokenUser { hash, reply }))
    }

    fn http_tokens(&self, user: &str) -> StoreFuture<'_, Vec<HttpTokenInfo>> {
        let user = user.to_owned();
        Box::pin(self.ask(move |reply| Command::HttpTokens { user, reply }))
    }

    fn revoke_http_token(&self, user: &str, name: &str) -> StoreFuture<'_, u64> {
        let (user, name) = (user.to_owned(), name.to_owned());
        Box::pin(self.ask(move |reply| Command::RevokeHttpToken { user, name, reply }))
    }

    fn reseal(&self, reseal: Box<Resealer>, check: Vec<u8>) -> StoreFuture<'_, u64> {
        Box::pin(self.ask(move |reply| Command::Reseal {
            reseal,
            check,
            reply,
        }))
    }
}
