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
use byokit_core::protocol::{ConfigView, RoutingSettings, UsageRecordParams, UsageRecordResult};
use byokit_core::usage::{DayGroup, Summarizer};
use byokit_core::{
    Catalog, CostStatus, Decimal, Payer, Provider, Totals, Usage, UsageEvent, UsageSummary, Window,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use std::collections::HashMap;
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// The migrations, in order; `PRAGMA user_version` is the number applied. Never edit one that
/// has shipped: add the next.
pub const MIGRATIONS: &[&str] = &[
    // 1: the spec's two tables, with what exact and explainable usage needs, budgets and alerts.
    "CREATE TABLE user_api_configs (
        id INTEGER PRIMARY KEY,
        clerk_id TEXT NOT NULL,
        key_id TEXT NOT NULL UNIQUE,
        provider TEXT NOT NULL,
        api_key BLOB NOT NULL,            -- XChaCha20-Poly1305: nonce then ciphertext
        api_key_masked TEXT NOT NULL,
        base_url TEXT,
        model TEXT,
        is_active INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,      -- unix milliseconds
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX user_api_configs_user ON user_api_configs (clerk_id, provider);
    CREATE TABLE api_usage_logs (
        id INTEGER PRIMARY KEY,
        clerk_id TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        feature TEXT NOT NULL DEFAULT '',
        payer TEXT NOT NULL,              -- user | system
        prompt_tokens INTEGER NOT NULL,   -- the provider's input count, as reported
        completion_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,    -- every token in and out
        cached_input_tokens INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        reasoning_tokens INTEGER NOT NULL DEFAULT 0,
        usage_estimated INTEGER NOT NULL DEFAULT 0,
        estimated_cost_usd TEXT,          -- exact decimal; NULL when unpriced; never REAL
        cost_status TEXT NOT NULL,        -- exact | estimated | unpriced
        catalog_version TEXT NOT NULL,
        idempotency_key TEXT,
        latency_ms INTEGER,
        outcome TEXT NOT NULL DEFAULT 'ok',
        created_at INTEGER NOT NULL,      -- unix milliseconds
        UNIQUE (clerk_id, idempotency_key)
    );
    CREATE INDEX api_usage_logs_user_time ON api_usage_logs (clerk_id, created_at);
    CREATE TABLE budgets (
        clerk_id TEXT PRIMARY KEY,
        monthly_limit_usd TEXT NOT NULL,
        policy TEXT NOT NULL,
        alert_thresholds TEXT NOT NULL,   -- comma-separated percentages
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        clerk_id TEXT NOT NULL,
        month TEXT NOT NULL,              -- YYYY-MM
        threshold_percent INTEGER NOT NULL,
        spent_usd TEXT NOT NULL,
        limit_usd TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (clerk_id, month, threshold_percent)
    );",
    // 2: which master key the stored keys are sealed with (for crash-safe key rotation).
    "CREATE TABLE vault_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        check_value BLOB NOT NULL
    );",
    // 3: daily totals per (user, day, provider, payer, feature, model), kept with every record,
    // so that a summary reads days, not events. Filled from the logs by `rebuild_daily`.
    "CREATE TABLE usage_daily (
        clerk_id TEXT NOT NULL,
        day INTEGER NOT NULL,             -- days since 1970-01-01, UTC
        provider TEXT NOT NULL,
        payer TEXT NOT NULL,
        feature TEXT NOT NULL,
        model TEXT NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        total_tokens INTEGER NOT NULL,
        cost_usd TEXT NOT NULL,           -- exact decimal sum of the priced calls
        unpriced_requests INTEGER NOT NULL,
        estimated_requests INTEGER NOT NULL,
        PRIMARY KEY (clerk_id, day, provider, payer, feature, model)
    ) WITHOUT ROWID;",
    // 4: per-user routing settings (fallback chain, per-feature models), as JSON.
    "CREATE TABLE routing_settings (
        clerk_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated_at INTEGER NOT NULL
    );",
];

/// Work a migration needs beyond its SQL, by the version it brings the database to.
fn after_migration(tx: &Transaction<'_>, version: usize) -> Result<(), StoreError> {
    if version == 3 {
        rebuild_daily(tx)?;
    }
    Ok(())
}

/// A store failure, without any secret in it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("storage: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A stored value cannot be read back.
    #[error("storage: damaged row: {0}")]
    Damaged(String),
    /// The store thread is gone.
    #[error("storage: the store is shut down")]
    Closed,
}

fn ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn from_ms(v: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A second, read-only connection to an open database.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Opens (creating) the database and applies pending migrations.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies the migrations past the database's `user_version`, each in its own transaction.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        after_migration(&tx, i + 1)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
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
    /// Re-seal every stored key with a new master key, and record the new check value, in one
    /// transaction. Answers how many keys were re-sealed.
    Reseal(
        Box<Resealer>,
        Vec<u8>,
        oneshot::Sender<Result<u64, StoreError>>,
    ),
}

/// Re-seals one stored key: (user, provider, key id, sealed) to the new sealed bytes.
pub type Resealer = dyn FnMut(&str, Provider, &str, &[u8]) -> Result<Vec<u8>, String> + Send;

/// The vault check value stored in the database, if any.
pub fn vault_check(conn: &Connection) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row("SELECT check_value FROM vault_meta WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Stores the vault check value.
pub fn set_vault_check(conn: &Connection, check: &[u8]) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO vault_meta (id, check_value) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET check_value = ?1",
        params![check],
    )?;
    Ok(())
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

/// Commits between two checkpoints: each copies the WAL's new pages into the database file.
const COMMITS_PER_CHECKPOINT: u32 = 100;

/// A thread that checkpoints the WAL when signalled, on a connection of its own, in `PASSIVE`
/// mode: it copies what it can without waiting for the writer or making it wait.
fn start_checkpointer(path: &Path) -> Option<mpsc::SyncSender<()>> {
    let conn = Connection::open(path).ok()?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).ok()?;
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("byokd-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    eprintln!("byokd: WAL checkpoint failed: {e}");
                }
            }
        })
        .ok()?;
    Some(tx)
}

/// How to answer a command once its transaction has ended (given the commit's error, if any).
type Reply = Box<dyn FnOnce(Option<&StoreError>)>;

/// The most commands grouped into one transaction.
const MAX_BATCH: usize = 2048;

/// Runs the commands sent to one connection, consecutive ones in one transaction. The writer's
/// run checkpoints through `checkpoint`, and clears from `routing` what a batch changed once it
/// has ended, before answering it.
fn run(
    mut conn: Connection,
    catalog: Catalog,
    rx: mpsc::Receiver<Command>,
    checkpoint: Option<mpsc::SyncSender<()>>,
    routing: Option<Arc<RoutingCache>>,
) {
    let mut commits = 0;
    while let Ok(first) = rx.recv() {
        // Everything already sent joins the batch; a batch of records whose calls were answered
        // already waits up to LINGER for more.
        let deadline = std::time::Instant::now() + LINGER;
        let mut wait = first.can_wait();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let next = match rx.try_recv() {
                Ok(c) => c,
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if !wait || left.is_zero() {
                        break;
                    }
                    // Sleeping in steps rather than blocking on the queue: a send to a blocked
                    // receiver wakes it, which would be a wake-up per record.
                    std::thread::sleep(left.min(LINGER_STEP));
                    continue;
                }
            };
            wait &= next.can_wait();
            batch.push(next);
        }
        let changed: Vec<Option<String>> = match &routing {
            Some(_) => batch.iter().filter_map(Command::changes_routing).collect(),
            None => Vec::new(),
        };
        // Replies wait until the transaction has committed. A panic (a bug) rolls the batch back
        // and leaves its callers without a reply, but the store goes on serving.
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> Result<(), StoreError> {
                let tx = conn.transaction()?;
                let mut daily = Daily::default();
                for command in batch {
                    replies.push(execute(&tx, &catalog, command, &mut daily));
                }
                add_daily(&tx, daily)?;
                tx.commit()?;
                Ok(())
            },
        ));
        // Whatever the outcome, what routing keeps of the users it touched is read afresh.
        if let Some(routing) = &routing {
            for user in &changed {
                routing.clear(user.as_deref());
            }
        }
        let Ok(result) = result else {
            eprintln!("byokd: a storage batch failed and was rolled back");
            continue;
        };
        let failure = result.err();
        if let Some(e) = &failure {
            eprintln!(
                "byokd: a storage batch of {} command(s) failed: {e}",
                replies.len()
            );
        }
        for reply in replies {
            reply(failure.as_ref());
        }
        if let Some(checkpoint) = &checkpoint {
            commits += 1;
            if commits >= COMMITS_PER_CHECKPOINT {
                commits = 0;
                // Skipped when one is already pending.
                let _ = checkpoint.try_send(());
            }
        }
    }
}

/// Runs one command inside the batch's transaction; returns how to answer it once the
/// transaction has ended (with the commit's error, if it failed).
fn execute(tx: &Transaction<'_>, catalog: &Catalog, command: Command, daily: &mut Daily) -> Reply {
    fn answer<T: 'static>(
        result: Result<T, StoreError>,
        reply: oneshot::Sender<Result<T, StoreError>>,
    ) -> Reply {
        Box::new(move |commit_error| {
            let result = match commit_error {
                Some(e) => Err(StoreError::Damaged(format!("commit failed: {e}"))),
                None => result,
            };
            let _ = reply.send(result);
        })
    }
    match command {
        Command::Record(p, now, id, _, reply) => {
            answer(record(tx, catalog, p, now, id, daily), reply)
        }
        Command::Flush(reply) => answer(Ok(()), reply),
        Command::SaveConfig(c, reply) => answer(save_config(tx, c), reply),
        Command::Configs(user, reply) => answer(configs(tx, &user), reply),
        Command::DeleteConfig(user, provider, key_id, reply) => {
            answer(delete_config(tx, &user, provider, key_id.as_deref()), reply)
        }
        Command::Events(user, since, reply) => answer(events(tx, &user, since), reply),
        Command::Summary(user, window, cap, reply) => {
            answer(summary(tx, &user, window, cap), reply)
        }
        Command::SystemTokens(user, month, reply) => answer(system_tokens(tx, &user, month), reply),
        Command::SetBudget(user, budget, reply) => answer(set_budget(tx, &user, &budget), reply),
        Command::Budget(user, reply) => answer(get_budget(tx, &user), reply),
        Command::BudgetStatus(user, month, reply) => answer(budget_status(tx, &user, month), reply),
        Command::Alerts(user, reply) => answer(alerts(tx, &user), reply),
        Command::SetRouting(user, settings, reply) => {
            answer(set_routing(tx, &user, settings), reply)
        }
        Command::Routing(user, reply) => answer(routing(tx, &user), reply),
        Command::Reseal(mut reseal, check, reply) => {
            answer(reseal_all(tx, &mut *reseal, &check), reply)
        }
    }
}

/// A batch's additions to the daily totals, by (user, day, provider, payer, feature, model).
type Daily = HashMap<(String, i64, Provider, Payer, String, String), Totals>;

fn day_number(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(86_400)
}

fn day_date(n: i64) -> time::Date {
    (OffsetDateTime::UNIX_EPOCH + time::Duration::days(n)).date()
}

/// Adds a batch's totals to `usage_daily`, in the batch's transaction. Costs are added as exact
/// decimals in Rust.
fn add_daily(tx: &Transaction<'_>, daily: Daily) -> Result<(), StoreError> {
    for ((user, day, provider, payer, feature, model), add) in daily {
        let current: Option<(i64, i64, i64, i64, String, i64, i64)> = tx
            .prepare_cached(
                "SELECT requests, input_tokens, output_tokens, total_tokens, cost_usd, unpriced_requests, estimated_requests
                 FROM usage_daily WHERE clerk_id = ?1 AND day = ?2 AND provider = ?3 AND payer = ?4 AND feature = ?5 AND model = ?6",
            )?
            .query_row(params![user, day, provider.as_str(), payer_str(payer), feature, model], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })
            .optional()?;
        let mut t = match current {
            Some((requests, input, output, total, cost, unpriced, estimated)) => Totals {
                requests: requests as u64,
                input_tokens: input as u64,
                output_tokens: output as u64,
                total_tokens: total as u64,
                cost_usd: parse_decimal(&cost)?,
                unpriced_requests: unpriced as u64,
                estimated_requests: estimated as u64,
            },
            None => Totals::default(),
        };
        t.add(&add);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO usage_daily (clerk_id, day, provider, payer, feature, model, requests, input_tokens,
             output_tokens, total_tokens, cost_usd, unpriced_requests, estimated_requests)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            user,
            day,
            provider.as_str(),
            payer_str(payer),
            feature,
            model,
            t.requests as i64,
            t.input_tokens as i64,
            t.output_tokens as i64,
            t.total_tokens as i64,
            t.cost_usd.normalize().to_string(),
            t.unpriced_requests as i64,
            t.estimated_requests as i64
        ])?;
    }
    Ok(())
}

/// Recomputes `usage_daily` from the logs (migration 3).
fn rebuild_daily(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM usage_daily", [])?;
    let users: Vec<String> = tx
        .prepare("SELECT DISTINCT clerk_id FROM api_usage_logs")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for user in users {
        let mut daily = Daily::default();
        for e in events_between(tx, &user, OffsetDateTime::UNIX_EPOCH, far_future())? {
            daily
                .entry((
                    user.clone(),
                    day_number(e.at),
                    e.provider,
                    e.payer,
                    e.feature.clone(),
                    e.model.clone(),
                ))
                .or_default()
                .add_event(&e);
        }
        add_daily(tx, daily)?;
    }
    Ok(())
}

fn far_future() -> OffsetDateTime {
    time::Date::MAX.midnight().assume_utc()
}

/// The summary of a window: whole days from `usage_daily`, the two edge days from the logs.
fn summary(
    tx: &Transaction<'_>,
    user: &str,
    window: Window,
    cap: Option<u64>,
) -> Result<UsageSummary, StoreError> {
    let mut s = Summarizer::new(window);
    let first_day = day_number(s.first_day().midnight().assume_utc());
    let end_day = day_number(window.end);
    let month_day = day_number(Month::containing(window.end).start());
    let day_start = |day: i64| day_date(day).midnight().assume_utc();
    // The edge days come whole from the daily totals too, when that is exact: the first day's
    // events at or before the window's start are then taken away (fewer events are read than
    // the whole day's), and the last day comes whole when no event follows the window's end.
    let whole_edges = first_day < end_day;
    let last_day_whole = whole_edges
        && !tx
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM api_usage_logs
                 WHERE clerk_id = ?1 AND created_at > ?2 AND created_at < ?3)",
            )?
            .query_row(
                params![user, ms(window.end), ms(day_start(end_day + 1))],
                |r| r.get::<_, bool>(0),
            )?;
    let mut groups = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT day, provider, payer, feature, model, requests, input_tokens, output_tokens, total_tokens, cost_usd,
                    unpriced_requests, estimated_requests
             FROM usage_daily WHERE clerk_id = ?1 AND day >= ?2 AND day <= ?3",
        )?;
        let rows = stmt.query_map(params![user, first_day.min(month_day), end_day], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                [
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                ],
                r.get::<_, String>(9)?,
                r.get::<_, i64>(10)?,
                r.get::<_, i64>(11)?,
            ))
        })?;
        for row in rows {
            let (day, provider, payer, feature, model, n, cost, unpriced, estimated) = row?;
            groups.push((
                day,
                DayGroup {
                    day: day_date(day),
                    provider: provider
                        .parse()
                        .map_err(|_| StoreError::Damaged(format!("provider {provider}")))?,
                    payer: if payer == "system" {
                        Payer::System
                    } else {
                        Payer::User
                    },
                    feature,
                    model,
                    totals: Totals {
                        requests: n[0] as u64,
                        input_tokens: n[1] as u64,
                        output_tokens: n[2] as u64,
                        total_tokens: n[3] as u64,
                        cost_usd: parse_decimal(&cost)?,
                        unpriced_requests: unpriced as u64,
                        estimated_requests: estimated as u64,
                    },
                },
            ));
        }
    }
    // The events still needed: the smaller part of the first day (those before the window's
    // start, taken away from the whole day, or those after it, added to the day's month share),
    // or the edge days themselves.
    let start_late_in_day =
        whole_edges && window.start() - day_start(first_day) > time::Duration::hours(12);
    let one_day = |day: i64| events_between(tx, user, day_start(day), day_start(day + 1));
    let (early, after_start) = match (whole_edges, start_late_in_day) {
        (true, true) => (
            Vec::new(),
            events_between(
                tx,
                user,
                window.start() - time::Duration::MILLISECOND,
                day_start(first_day + 1),
            )?,
        ),
        (true, false) => (
            events_between(
                tx,
                user,
                day_start(first_day),
                window.start() + time::Duration::MILLISECOND,
            )?,
            Vec::new(),
        ),
        (false, _) => (Vec::new(), Vec::new()),
    };
    let edge = if !whole_edges {
        one_day(first_day)?
    } else if last_day_whole {
        Vec::new()
    } else {
        one_day(end_day)?
    };
    for (day, g) in &groups {
        match *day {
            d if start_late_in_day && d == first_day => s.add_day(g),
            d if whole_edges && d == first_day => s.add_first_day(g),
            d if d == first_day => {}
            d if d == end_day && last_day_whole => s.add_last_day(g),
            d if d == end_day => {}
            _ => s.add_day(g),
        }
    }
    for e in &early {
        s.remove_event(e);
    }
    for e in &after_start {
        s.add_window_event(e);
    }
    for e in &edge {
        s.add_event(e);
    }
    let budget = get_budget(tx, user)?;
    Ok(s.finish(cap, budget.as_ref()))
}

fn record(
    tx: &Transaction<'_>,
    catalog: &Catalog,
    p: UsageRecordParams,
    now: OffsetDateTime,
    id: i64,
    daily: &mut Daily,
) -> Result<UsageRecordResult, StoreError> {
    let at = p.at.unwrap_or(now);
    let (cost_usd, status) = catalog.recorded_cost(p.provider, &p.model, &p.usage, at.date());
    let cost_text = cost_usd.map(|c| c.to_string());
    let inserted = tx.prepare_cached(
        "INSERT INTO api_usage_logs (clerk_id, provider, model, feature, payer, prompt_tokens, completion_tokens,
            total_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, usage_estimated,
            estimated_cost_usd, cost_status, catalog_version, idempotency_key, latency_ms, outcome, created_at, id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
         ON CONFLICT (clerk_id, idempotency_key) DO NOTHING",
    )?
    .execute(params![
        p.user,
        p.provider.as_str(),
        p.model,
        p.feature.as_deref().unwrap_or(""),
        payer_str(p.payer),
        p.usage.input_tokens as i64,
        p.usage.output_tokens as i64,
        p.usage.total_tokens(p.provider) as i64,
        p.usage.cached_input_tokens as i64,
        p.usage.cache_write_tokens as i64,
        p.usage.reasoning_tokens as i64,
        p.usage.estimated,
        cost_text,
        status_str(status),
        catalog.version(),
        p.idempotency_key,
        p.latency_ms.map(|v| v as i64),
        p.outcome.as_deref().unwrap_or("ok"),
        ms(at),
        id,
    ])?;
    if inserted == 0 {
        // The user's idempotency key is taken: a retry of a stored record, counted once.
        return stored_record(tx, &p.user, p.idempotency_key.as_deref(), id);
    }
    let event = UsageEvent {
        at,
        provider: p.provider,
        model: p.model,
        feature: p.feature.unwrap_or_default(),
        payer: p.payer,
        usage: p.usage,
        cost_usd,
        cost_status: status,
    };
    daily
        .entry((
            p.user.clone(),
            day_number(at),
            event.provider,
            event.payer,
            event.feature.clone(),
            event.model.clone(),
        ))
        .or_default()
        .add_event(&event);
    if p.payer == Payer::User && cost_usd.is_some() {
        fire_alerts(tx, &p.user, at, daily)?;
    }
    Ok(UsageRecordResult {
        id,
        cost_usd,
        cost_status: status,
        catalog_version: catalog.version().to_owned(),
        duplicate: false,
    })
}

/// The record stored earlier under `user`'s idempotency `key`, answering its retry.
fn stored_record(
    tx: &Transaction<'_>,
    user: &str,
    key: Option<&str>,
    id: i64,
) -> Result<UsageRecordResult, StoreError> {
    let existing = tx
        .prepare_cached(
            "SELECT id, estimated_cost_usd, cost_status, catalog_version FROM api_usage_logs
             WHERE clerk_id = ?1 AND idempotency_key = ?2",
        )?
        .query_row(params![user, key], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let Some((id, cost, status, version)) = existing else {
        return Err(StoreError::Damaged(format!("usage id {id} is taken")));
    };
    Ok(UsageRecordResult {
        id,
        cost_usd: cost.map(|c| parse_decimal(&c)).transpose()?,
        cost_status: parse_status(&status)?,
        catalog_version: version,
        duplicate: true,
    })
}

/// Stores the budget alerts that the month's spending now reaches, once each.
fn fire_alerts(
    tx: &Transaction<'_>,
    user: &str,
    at: OffsetDateTime,
    pending: &Daily,
) -> Result<(), StoreError> {
    let Some(budget) = get_budget(tx, user)? else {
        return Ok(());
    };
    let month = Month::containing(at);
    let spent = user_spent(tx, user, month, Some(pending))?;
    let mut fired = FiredAlerts {
        month: Some(month),
        thresholds: Default::default(),
    };
    let mut stmt = tx.prepare_cached(
        "SELECT threshold_percent FROM alerts WHERE clerk_id = ?1 AND month = ?2",
    )?;
    for t in stmt.query_map(params![user, month.to_string()], |r| r.get::<_, u8>(0))? {
        fired.thresholds.insert(t?);
    }
    for alert in budget.alerts(&mut fired, spent, at) {
        tx.execute(
            "INSERT OR IGNORE INTO alerts (clerk_id, month, threshold_percent, spent_usd, limit_usd, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![user, month.to_string(), alert.threshold_percent, alert.spent_usd.to_string(), alert.limit_usd.to_string(), ms(at)],
        )?;
    }
    Ok(())
}

fn set_routing(
    tx: &Transaction<'_>,
    user: &str,
    settings: RoutingSettings,
) -> Result<RoutingSettings, StoreError> {
    let text = serde_json::to_string(&settings)
        .map_err(|e| StoreError::Damaged(format!("routing settings: {e}")))?;
    tx.prepare_cached(
        "INSERT INTO routing_settings (clerk_id, settings, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (clerk_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
    )?
    .execute(params![user, text, ms(OffsetDateTime::now_utc())])?;
    Ok(settings)
}

fn routing(tx: &Transaction<'_>, user: &str) -> Result<RoutingSettings, StoreError> {
    let text: Option<String> = tx
        .prepare_cached("SELECT settings FROM routing_settings WHERE clerk_id = ?1")?
        .query_row(params![user], |r| r.get(0))
        .optional()?;
    match text {
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| StoreError::Damaged(format!("routing settings of {user}: {e}"))),
        None => Ok(RoutingSettings::default()),
    }
}

/// The day numbers of a month: from its first day, to the next month's first day.
fn month_days(month: Month) -> (i64, i64) {
    (day_number(month.start()), day_number(month.next().start()))
}

/// The exact sum of the user's own-key costs in a month, added up in Rust: never an SQL `SUM`
/// over text or floats. Read from the daily totals (a month is whole UTC days), so it costs the
/// same for a user with ten calls as with a million; `pending` adds what the current batch has
/// recorded and not yet added to them.
fn user_spent(
    tx: &Transaction<'_>,
    user: &str,
    month: Month,
    pending: Option<&Daily>,
) -> Result<Decimal, StoreError> {
    let (from, to) = month_days(month);
    let mut stmt = tx.prepare_cached(
        "SELECT cost_usd FROM usage_daily WHERE clerk_id = ?1 AND payer = 'user' AND day >= ?2 AND day < ?3",
    )?;
    let mut total = Decimal::ZERO;
    for c in stmt.query_map(params![user, from, to], |r| r.get::<_, String>(0))? {
        total += parse_decimal(&c?)?;
    }
    for ((u, day, _, payer, _, _), t) in pending.into_iter().flatten() {
        if u == user && *payer == Payer::User && (from..to).contains(day) {
            total += t.cost_usd;
        }
    }
    Ok(total)
}

/// Tokens the user has used through the system key in a month, from the daily totals.
fn system_tokens(tx: &Transaction<'_>, user: &str, month: Month) -> Result<u64, StoreError> {
    let (from, to) = month_days(month);
    let total: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(total_tokens), 0) FROM usage_daily
         WHERE clerk_id = ?1 AND payer = 'system' AND day >= ?2 AND day < ?3",
        )?
        .query_row(params![user, from, to], |r| r.get(0))?;
    Ok(total.max(0) as u64)
}

fn save_config(tx: &Transaction<'_>, c: NewConfig) -> Result<ConfigView, StoreError> {
    let now = OffsetDateTime::now_utc();
    // Saving replaces the provider's keys, unless this key is added to them. Usage history is
    // never touched.
    if !c.add {
        tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND provider = ?2",
            params![c.user, c.provider.as_str()],
        )?;
    }
    tx.execute(
        "UPDATE user_api_configs SET is_active = 0 WHERE clerk_id = ?1",
        params![c.user],
    )?;
    tx.execute(
        "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key, api_key_masked, base_url, model, is_active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)",
        params![c.user, c.key_id, c.provider.as_str(), c.sealed, c.masked, c.base_url, c.model, ms(now)],
    )?;
    Ok(ConfigView {
        key_id: c.key_id,
        provider: c.provider,
        api_key: c.masked,
        base_url: c.base_url,
        model: c.model,
        is_active: true,
        saved_at: from_ms(ms(now)),
    })
}

fn configs(tx: &Transaction<'_>, user: &str) -> Result<Vec<StoredConfig>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT key_id, provider, api_key, api_key_masked, base_url, model, is_active, updated_at
         FROM user_api_configs WHERE clerk_id = ?1 ORDER BY updated_at DESC, id DESC",
    )?;
    let rows = stmt.query_map(params![user], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key_id, provider, sealed, masked, base_url, model, is_active, updated) = row?;
        let provider = provider
            .parse()
            .map_err(|_| StoreError::Damaged(format!("provider {provider}")))?;
        out.push(StoredConfig {
            view: ConfigView {
                key_id,
                provider,
                api_key: masked,
                base_url,
                model,
                is_active,
                saved_at: from_ms(updated),
            },
            sealed,
        });
    }
    Ok(out)
}

fn delete_config(
    tx: &Transaction<'_>,
    user: &str,
    provider: Option<Provider>,
    key_id: Option<&str>,
) -> Result<u64, StoreError> {
    let deleted = match (provider, key_id) {
        (_, Some(id)) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND key_id = ?2",
            params![user, id],
        )?,
        (Some(p), None) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND provider = ?2",
            params![user, p.as_str()],
        )?,
        (None, None) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND is_active = 1",
            params![user],
        )?,
    };
    // If the active one went, the most recently saved of the rest takes over.
    let active: i64 = tx.query_row(
        "SELECT COUNT(*) FROM user_api_configs WHERE clerk_id = ?1 AND is_active = 1",
        params![user],
        |r| r.get(0),
    )?;
    if active == 0 {
        tx.execute(
            "UPDATE user_api_configs SET is_active = 1 WHERE id =
             (SELECT id FROM user_api_configs WHERE clerk_id = ?1 ORDER BY updated_at DESC, id DESC LIMIT 1)",
            params![user],
        )?;
    }
    Ok(deleted as u64)
}

fn events(
    tx: &Transaction<'_>,
    user: &str,
    since: OffsetDateTime,
) -> Result<Vec<UsageEvent>, StoreError> {
    events_between(tx, user, since + time::Duration::MILLISECOND, far_future())
}

/// The user's events with `from ≤ at < until`.
fn events_between(
    tx: &Transaction<'_>,
    user: &str,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<UsageEvent>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT provider, model, feature, payer, prompt_tokens, completion_tokens, cached_input_tokens,
                cache_write_tokens, reasoning_tokens, usage_estimated, estimated_cost_usd, cost_status, created_at
         FROM api_usage_logs WHERE clerk_id = ?1 AND created_at >= ?2 AND created_at < ?3",
    )?;
    let rows = stmt.query_map(params![user, ms(from), ms(until)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            [
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, i64>(8)?,
            ],
            r.get::<_, bool>(9)?,
            r.get::<_, Option<String>>(10)?,
            r.get::<_, String>(11)?,
            r.get::<_, i64>(12)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (provider, model, feature, payer, n, estimated, cost, status, at) = row?;
        let n = n.map(|v| v.max(0) as u64);
        out.push(UsageEvent {
            at: from_ms(at),
            provider: provider
                .parse()
                .map_err(|_| StoreError::Damaged(format!("provider {provider}")))?,
            model,
            feature,
            payer: if payer == "system" {
                Payer::System
            } else {
                Payer::User
            },
            usage: Usage {
                input_tokens: n[0],
                output_tokens: n[1],
                cached_input_tokens: n[2],
                cache_write_tokens: n[3],
                reasoning_tokens: n[4],
                estimated,
            },
            cost_usd: cost.map(|c| parse_decimal(&c)).transpose()?,
            cost_status: parse_status(&status)?,
        });
    }
    Ok(out)
}

fn set_budget(tx: &Transaction<'_>, user: &str, b: &Budget) -> Result<(), StoreError> {
    let thresholds: Vec<String> = b.alert_thresholds.iter().map(u8::to_string).collect();
    tx.execute(
        "INSERT INTO budgets (clerk_id, monthly_limit_usd, policy, alert_thresholds, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (clerk_id) DO UPDATE SET monthly_limit_usd = ?2, policy = ?3, alert_thresholds = ?4, updated_at = ?5",
        params![user, b.monthly_limit_usd.to_string(), policy_str(b.policy), thresholds.join(","), ms(OffsetDateTime::now_utc())],
    )?;
    Ok(())
}

fn budget_status(
    tx: &Transaction<'_>,
    user: &str,
    month: Month,
) -> Result<Option<(Budget, BudgetStatus)>, StoreError> {
    let Some(budget) = get_budget(tx, user)? else {
        return Ok(None);
    };
    let status = budget.status(month, user_spent(tx, user, month, None)?);
    Ok(Some((budget, status)))
}

fn get_budget(tx: &Transaction<'_>, user: &str) -> Result<Option<Budget>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT monthly_limit_usd, policy, alert_thresholds FROM budgets WHERE clerk_id = ?1",
        )?
        .query_row(params![user], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?;
    let Some((limit, policy, thresholds)) = row else {
        return Ok(None);
    };
    Ok(Some(Budget {
        monthly_limit_usd: parse_decimal(&limit)?,
        policy: if policy == "allow_and_alert" {
            BudgetPolicy::AllowAndAlert
        } else {
            BudgetPolicy::Block
        },
        alert_thresholds: thresholds
            .split(',')
            .filter_map(|t| t.parse().ok())
            .collect(),
    }))
}

fn alerts(tx: &Transaction<'_>, user: &str) -> Result<Vec<Alert>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT month, threshold_percent, spent_usd, limit_usd FROM alerts WHERE clerk_id = ?1 ORDER BY created_at DESC, id DESC",
    )?;
    let rows = stmt.query_map(params![user], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u8>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (month, pct, spent, limit) = row?;
        let (y, m) = month
            .split_once('-')
            .ok_or_else(|| StoreError::Damaged(format!("month {month}")))?;
        out.push(Alert {
            month: Month {
                year: y
                    .parse()
                    .map_err(|_| StoreError::Damaged(format!("month {month}")))?,
                month: m
                    .parse()
                    .map_err(|_| StoreError::Damaged(format!("month {month}")))?,
            },
            threshold_percent: pct,
            spent_usd: parse_decimal(&spent)?,
            limit_usd: parse_decimal(&limit)?,
        });
    }
    Ok(out)
}

fn reseal_all(
    tx: &Transaction<'_>,
    reseal: &mut Resealer,
    check: &[u8],
) -> Result<u64, StoreError> {
    let rows: Vec<(i64, String, String, String, Vec<u8>)> = tx
        .prepare("SELECT id, clerk_id, provider, key_id, api_key FROM user_api_configs")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, user, provider, key_id, sealed) in &rows {
        let provider: Provider = provider
            .parse()
            .map_err(|_| StoreError::Damaged(format!("provider {provider}")))?;
        let resealed = reseal(user, provider, key_id, sealed).map_err(StoreError::Damaged)?;
        tx.execute(
            "UPDATE user_api_configs SET api_key = ?1 WHERE id = ?2",
            params![resealed, id],
        )?;
    }
    set_vault_check(tx, check)?;
    Ok(rows.len() as u64)
}

fn parse_decimal(s: &str) -> Result<Decimal, StoreError> {
    s.parse()
        .map_err(|_| StoreError::Damaged(format!("decimal {s:?}")))
}

fn parse_status(s: &str) -> Result<CostStatus, StoreError> {
    match s {
        "exact" => Ok(CostStatus::Exact),
        "estimated" => Ok(CostStatus::Estimated),
        "unpriced" => Ok(CostStatus::Unpriced),
        other => Err(StoreError::Damaged(format!("cost status {other}"))),
    }
}

fn status_str(s: CostStatus) -> &'static str {
    match s {
        CostStatus::Exact => "exact",
        CostStatus::Estimated => "estimated",
        CostStatus::Unpriced => "unpriced",
    }
}

fn payer_str(p: Payer) -> &'static str {
    match p {
        Payer::User => "user",
        Payer::System => "system",
    }
}

fn policy_str(p: BudgetPolicy) -> &'static str {
    match p {
        BudgetPolicy::Block => "block",
        BudgetPolicy::AllowAndAlert => "allow_and_alert",
    }
}
