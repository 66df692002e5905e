//! The SQLite store: configurations (keys encrypted by the vault), usage logs, budgets and
//! alerts, every query scoped to one user.
//!
//! One thread owns the connection and takes commands from a queue. Consecutive writes are grouped
//! into one transaction (group commit), and each is acknowledged only after that transaction has
//! committed: acknowledged means durable. The records of calls answered already (a `chat`) may
//! wait [`LINGER`] for company before their commit ([`Commit::Soon`]).

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc};

use byokit_core::budget::{Alert, Budget, BudgetPolicy, BudgetStatus, FiredAlerts, Month};
use byokit_core::protocol::{
    ConfigView, HttpTokenInfo, RoutingSettings, UsageRecordParams, UsageRecordResult,
};
use byokit_core::usage::{DayGroup, Summarizer};
use byokit_core::{
    Catalog, CostStatus, Decimal, Payer, Provider, Totals, Usage, UsageEvent, UsageSummary, Window,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;
use tokio::sync::oneshot;

mod columns;
mod keys;
mod schema;
mod settings;
mod tokens;
mod usage;
mod writer;

use columns::*;
use keys::*;
use schema::*;
pub use schema::{migrate, open, set_vault_check, vault_check, MIGRATIONS};
use settings::*;
use tokens::*;
use usage::*;
use writer::*;

/// A store failure, without any secret in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("storage: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored value cannot be read back.
    #[error("storage: damaged row: {0}")]
    Damaged(String),
    /// A value the database cannot hold (a count over 2^63 - 1); nothing was stored.
    #[error("storage: out of range: {0}")]
    OutOfRange(String),
    /// The store thread is gone.
    #[error("storage: the store is shut down")]
    Closed,
}

/// A stored configuration with its sealed key.
pub struct StoredConfig {
    /// The shown part.
    pub view: ConfigView,
    /// The sealed key.
    pub sealed: Vec<u8>,
}

/// What the store thread is asked to do.
pub enum Command {
    /// Record usage, under the given id (from [`StoreHandle::send_record`]) unless its
    /// idempotency key is already recorded; committed as [`Commit`] says.
    Record(
        UsageRecordParams,
        OffsetDateTime,
        i64,
        Commit,
        oneshot::Sender<Result<UsageRecordResult, StoreError>>,
    ),
    /// Nothing: answered once everything sent before it has committed.
    Flush(oneshot::Sender<Result<(), StoreError>>),
    /// Save a configuration: user, key id, provider, sealed key, masked key, base URL, model.
    SaveConfig(NewConfig, oneshot::Sender<Result<ConfigView, StoreError>>),
    /// The user's configurations, newest first.
    Configs(
        String,
        oneshot::Sender<Result<Vec<StoredConfig>, StoreError>>,
    ),
    /// Replace the user's routing settings.
    SetRouting(
        String,
        RoutingSettings,
        oneshot::Sender<Result<RoutingSettings, StoreError>>,
    ),
    /// The user's routing settings (the defaults when none are stored).
    Routing(String, oneshot::Sender<Result<RoutingSettings, StoreError>>),
    /// Delete one key, a provider's keys, or the active configuration.
    DeleteConfig(
        String,
        Option<Provider>,
        Option<String>,
        oneshot::Sender<Result<u64, StoreError>>,
    ),
    /// The user's events from an instant on.
    Events(
        String,
        OffsetDateTime,
        oneshot::Sender<Result<Vec<UsageEvent>, StoreError>>,
    ),
    /// The user's summary over a window, from daily totals and the edge days' events.
    Summary(
        String,
        Window,
        Option<u64>,
        oneshot::Sender<Result<UsageSummary, StoreError>>,
    ),
    /// System-paid tokens of the user in a month.
    SystemTokens(String, Month, oneshot::Sender<Result<u64, StoreError>>),
    /// Set a budget.
    SetBudget(String, Budget, oneshot::Sender<Result<(), StoreError>>),
    /// A user's budget, if one is set.
    Budget(String, oneshot::Sender<Result<Option<Budget>, StoreError>>),
    /// A user's budget and where it stands in a month (their own-key spending, summed exactly).
    BudgetStatus(
        String,
        Month,
        oneshot::Sender<Result<Option<(Budget, BudgetStatus)>, StoreError>>,
    ),
    /// The alerts of a user, newest first.
    Alerts(String, oneshot::Sender<Result<Vec<Alert>, StoreError>>),
    /// The user's bearer token of that name, sealed, if there is one.
    HttpToken {
        /// The user.
        user: String,
        /// The token's name.
        name: String,
        /// The answer.
        reply: oneshot::Sender<Result<Option<Vec<u8>>, StoreError>>,
    },
    /// Store a new bearer token under the user's name, unless one is there already; answers the
    /// sealed token stored under that name (the new one, or the one another call stored first).
    SaveHttpToken {
        /// The user.
        user: String,
        /// The token's name.
        name: String,
        /// The token's SHA-256.
        hash: TokenHash,
        /// The token, sealed.
        sealed: Vec<u8>,
        /// The answer.
        reply: oneshot::Sender<Result<Vec<u8>, StoreError>>,
    },
    /// The user a bearer token belongs to, by its SHA-256.
    HttpTokenUser {
        /// The token's SHA-256.
        hash: TokenHash,
        /// The answer.
        reply: oneshot::Sender<Result<Option<String>, StoreError>>,
    },
    /// The user's bearer tokens (names and dates, never the tokens).
    HttpTokens {
        /// The user.
        user: String,
        /// The answer.
        reply: oneshot::Sender<Result<Vec<HttpTokenInfo>, StoreError>>,
    },
    /// Revoke the user's token of that name; answers how many were revoked.
    RevokeHttpToken {
        /// The user.
        user: String,
        /// The token's name.
        name: String,
        /// The answer.
        reply: oneshot::Sender<Result<u64, StoreError>>,
    },
    /// Re-seal every stored key with a new master key, and record the new check value, in one
    /// transaction. Answers how many keys were re-sealed.
    Reseal(
        Box<Resealer>,
        Vec<u8>,
        oneshot::Sender<Result<u64, StoreError>>,
    ),
}

/// Re-seals one stored secret: (user, provider, key id, sealed) to the new sealed bytes.
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

/// The SHA-256 of a bearer token: how the store finds it.
pub type TokenHash = [u8; 32];

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

/// A handle to the store thread.
#[derive(Clone)]
pub struct StoreHandle {
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

/// When a usage record's transaction commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commit {
    /// As soon as the store is free: the caller waits for the commit (`usage.record`).
    Now,
    /// Within [`LINGER`]: the call it records has been answered already (a `chat`), so the
    /// records that come meanwhile share its commit (and its fsync). Anything sent after it
    /// that is committed [`Commit::Now`] (a flush before a read of usage, a `usage.record`, a
    /// change of settings) commits it too.
    Soon,
}

/// How long a [`Commit::Soon`] record may wait for others to share its commit.
pub const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// How often a lingering batch looks for more commands: the most a command that must commit at
/// once waits behind one.
const LINGER_STEP: std::time::Duration = std::time::Duration::from_micros(250);

impl Command {
    /// Whether the command may wait up to [`LINGER`] for others to join its transaction.
    fn can_wait(&self) -> bool {
        matches!(self, Command::Record(_, _, _, Commit::Soon, _))
    }

    /// Whose routing inputs the command changes: `Some(Some(user))`, `Some(None)` for everyone's
    /// (a re-seal of every key), `None` for nobody's.
    fn changes_routing(&self) -> Option<Option<String>> {
        match self {
            Command::SaveConfig(c, _) => Some(Some(c.user.clone())),
            Command::DeleteConfig(user, ..)
            | Command::SetRouting(user, ..)
            | Command::SetBudget(user, ..) => Some(Some(user.clone())),
            Command::Reseal(..) => Some(None),
            _ => None,
        }
    }

    /// Whether the command reads usage records or what they add up to (not the system key's
    /// month, which routing reads with the tokens of calls in flight held apart).
    fn reads_usage(&self) -> bool {
        matches!(
            self,
            Command::Events(..)
                | Command::Summary(..)
                | Command::BudgetStatus(..)
                | Command::Alerts(..)
        )
    }

    /// Whether the command only reads, so that it may run on the read connection.
    fn only_reads(&self) -> bool {
        self.reads_usage()
            || matches!(
                self,
                Command::Configs(..)
                    | Command::HttpToken { .. }
                    | Command::HttpTokenUser { .. }
                    | Command::HttpTokens { .. }
                    | Command::SystemTokens(..)
                    | Command::Routing(..)
                    | Command::Budget(..)
            )
    }
}

impl StoreHandle {
    /// Starts the store thread on an open connection.
    pub fn start(conn: Connection, catalog: Catalog) -> Result<StoreHandle, StoreError> {
        let reader = conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|p| open_reader(Path::new(p)).ok());
        let reads = reader.map(|reader| {
            let (tx, rx) = mpsc::channel();
            let catalog = catalog.clone();
            std::thread::Builder::new()
                .name("byokd-store-reads".into())
                .spawn(move || run(reader, catalog, rx, None, None))
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
                eprintln!("byokd: cannot turn off automatic WAL checkpoints: {e}");
            }
        }
        let (tx, rx) = mpsc::channel();
        let routing = Arc::<RoutingCache>::default();
        let changes = Arc::clone(&routing);
        std::thread::Builder::new()
            .name("byokd-store".into())
            .spawn(move || run(conn, catalog, rx, checkpoint, Some(changes)))
            .expect("the store thread starts");
        Ok(StoreHandle {
            tx,
            reads,
            next_usage_id: Arc::new(AtomicI64::new(next_usage_id)),
            routing,
        })
    }

    /// Sends a usage record to be stored and returns at once: the id it is stored under (a
    /// retry of a recorded idempotency key keeps the first id, which the answer gives), and the
    /// answer, which comes once the record has committed. A command sent after this one (a
    /// [`Command::Flush`], a summary after a flush) sees it.
    pub fn send_record(
        &self,
        p: UsageRecordParams,
        now: OffsetDateTime,
        commit: Commit,
    ) -> Result<
        (
            i64,
            oneshot::Receiver<Result<UsageRecordResult, StoreError>>,
        ),
        StoreError,
    > {
        let id = self.next_usage_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Record(p, now, id, commit, tx))
            .map_err(|_| StoreError::Closed)?;
        Ok((id, rx))
    }

    /// Waits until everything sent before has committed, so that a read sees it.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Flush(tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// The user's configurations and routing settings, from memory when nothing changed them
    /// since they were last read.
    pub async fn routing_inputs(&self, user: &str) -> Result<Arc<RoutingInputs>, StoreError> {
        let generation = {
            let inner = self.routing.lock();
            if let Some(inputs) = inner.1.get(user) {
                return Ok(Arc::clone(inputs));
            }
            inner.0
        };
        let (configs, settings, budget) = tokio::try_join!(
            self.ask(|r| Command::Configs(user.to_owned(), r)),
            self.ask(|r| Command::Routing(user.to_owned(), r)),
            self.ask(|r| Command::Budget(user.to_owned(), r)),
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
            inner.1.insert(user.to_owned(), Arc::clone(&inputs));
        }
        Ok(inputs)
    }

    /// Sends a command and waits for its answer.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> Command,
    ) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        let command = make(tx);
        let queue = match &self.reads {
            Some(reads) if command.only_reads() => {
                // A read of usage sees every record sent before it, committed or not yet (a
                // chat's record is sent before its reply and commits after it).
                if command.reads_usage() {
                    self.flush().await?;
                }
                reads
            }
            _ => &self.tx,
        };
        queue.send(command).map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}
