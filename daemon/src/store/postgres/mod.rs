//! The PostgreSQL store: one database shared by several byokd, for a service with many users.
//!
//! - **One user per transaction.** Every transaction names its user first with
//!   `set_config('byokit.user', …, true)`, local to the transaction, never to the session, so a
//!   pooled connection carries nothing to its next user; row-level security, forced on every
//!   table, then shows and accepts that user's rows only, whatever a query's `WHERE` says
//!   (docs/postgres.md has the threat model).
//! - **No named statements.** Every statement is sent unnamed with its types (`query_typed`): one
//!   round trip, and nothing a transaction-mode pooler (PgBouncer, Supavisor) could lose between
//!   two transactions.
//! - **Across instances, in the database.** The system key's holds take a transaction-scoped
//!   advisory lock per user and month, then count recorded and held tokens; idempotency keys
//!   are a unique constraint; record ids come in blocks from a sequence.
//! - **Records** are batched by a writer task into one transaction (multi-row inserts from
//!   arrays) and acknowledged only after it commits, as in SQLite.

// Defined before the modules, which use it too.
/// Runs `body` in a transaction for `scope` on a pooled connection, and commits it; an error
/// (`?` in `body`) drops the transaction, which rolls it back.
macro_rules! in_tx {
    ($store:expr, $scope:expr, |$tx:ident| $body:block) => {{
        let mut client = $store.pool.get().await?;
        let txn = begin(&mut client, $scope).await?;
        let out: Result<_, StoreError> = {
            let $tx = &txn;
            $body
        };
        let out = out?;
        txn.commit().await?;
        Ok::<_, StoreError>(out)
    }};
}

mod copy;
mod records;
pub mod schema;
mod usage;

use std::path::Path;
use std::sync::Arc;

use byokit_core::budget::{Alert, Budget, BudgetStatus, Month};
use byokit_core::protocol::{ConfigView, HttpTokenInfo, RoutingSettings};
use byokit_core::{Provider, UsageEvent, UsageSummary, Window};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use time::OffsetDateTime;
use tokio_postgres::types::Type;
use tokio_postgres::Row;

use super::{
    Acknowledgement, Commit, HeldTokens, HoldRequest, NewConfig, NewHttpToken, PricedRecord,
    Repriced, Resealer, RoutingInputs, Sealed, Store, StoreError, StoreFuture, StoredConfig,
    SystemHold, TokenHash,
};
use crate::vault::SEAL_VERSION;

pub use copy::{copy_store, CopyProgress, CopyReport};
pub use schema::MIGRATIONS;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Pool,
    writer: records::Writer,
    /// Whether byokd's role bypasses row-level security (a superuser's does): only such a role
    /// can re-seal every user's keys at once.
    bypasses_rls: bool,
}

/// Who a transaction is for.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// One user's rows.
    User(&'a str),
    /// The row of the bearer token with this SHA-256.
    Token(&'a TokenHash),
    /// byokd's own rows: the vault's check value, the migrations.
    Service,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        // The server's code and message only: its detail may quote a row's values.
        StoreError::Database(match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            // With its causes: "error performing TLS handshake: invalid peer certificate: …".
            None => {
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text = format!("{text}: {c}");
                    cause = c.source();
                }
                text
            }
        })
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Database(format!("connection pool: {other}")),
        }
    }
}

use crate::store::columns::{
    count, int, parse_month, parse_payer as payer, parse_policy as policy,
    parse_provider as provider, parse_status as status, usage, TOKEN_COLUMNS,
};
// Instants as stored: to the millisecond, as in SQLite, so that both stores draw a window's
// edges in the same place.
use crate::store::to_ms;

/// The connection's TLS (`sslmode=require`, or `prefer`, in the URL; `disable` for none):
/// rustls, the server's certificate checked against the Mozilla roots, or against the
/// certificates of `ca_file` (PEM) alone when one is given (a database with a private CA).
fn tls(ca_file: Option<&Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    // The process's rustls provider, once (reqwest's clients bring their own).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(ca_file) = ca_file else {
        return Ok(tokio_postgres_rustls::MakeRustlsConnect::with_webpki_roots());
    };
    let bad = |e: &dyn std::fmt::Display| format!("--database-ca-file {}: {e}", ca_file.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(&e))? {
        roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
    }
    if roots.is_empty() {
        return Err(bad(&"no certificate in it"));
    }
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    ))
}

/// Connects a pool to `url` (a `postgres://` URL or a `key=value` string).
///
/// Without an `sslmode` (libpq's default, `prefer`), a database on this machine (loopback, a
/// Unix socket) is reached in plain text, where TLS adds nothing and a local server's certificate
/// is often self-signed (Debian's snakeoil); any other is reached over TLS, its certificate
/// checked. libpq's `prefer` would accept any certificate there; byokd does not.
pub fn pool(url: &str, ca_file: Option<&Path>) -> Result<Pool, String> {
    use tokio_postgres::config::{Host, SslMode};
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| format!("--database-url: not a PostgreSQL URL ({e})"))?;
    let local = config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => crate::options::is_loopback_host(name),
        #[cfg(unix)]
        Host::Unix(_) => true,
    });
    if config.get_ssl_mode() == SslMode::Prefer && local && !url.contains("sslmode=") {
        config.ssl_mode(SslMode::Disable);
    }
    let manager = Manager::from_config(
        config,
        tls(ca_file)?,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(16)
        .build()
        .map_err(|e| format!("--database-url: {e}"))
}

/// Begins a transaction for `scope`.
async fn begin<'c>(
    client: &'c mut deadpool_postgres::Object,
    scope: Scope<'_>,
) -> Result<deadpool_postgres::Transaction<'c>, StoreError> {
    let tx = client.transaction().await?;
    let (name, value) = match scope {
        Scope::User(user) => ("byokit.user", user.to_owned()),
        Scope::Token(hash) => ("byokit.token_hash", hex(hash)),
        Scope::Service => ("byokit.scope", "service".to_owned()),
    };
    tx.query_typed(
        "SELECT set_config($1, $2, true)",
        &[(&name, Type::TEXT), (&value, Type::TEXT)],
    )
    .await?;
    Ok(tx)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl PgStore {
    /// Connects to the database at `url`, applies pending migrations (with `owner_url`'s role
    /// when given: the role byokd serves as need not own the tables), and starts the writer.
    pub async fn connect(
        url: &str,
        owner_url: Option<&str>,
        ca_file: Option<&Path>,
    ) -> Result<PgStore, String> {
        let pool = pool(url, ca_file)?;
        match owner_url {
            Some(owner) => schema::migrate(&pool_of(owner, ca_file)?).await,
            None => schema::migrate(&pool).await,
        }
        .map_err(|e| format!("migrating the database: {e}"))?;
        let client = pool
            .get()
            .await
            .map_err(|e| format!("--database-url: {}", StoreError::from(e)))?;
        let bypasses_rls: bool = client
            .query_typed_one(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .map_err(|e| StoreError::from(e).to_string())?
            .get(0);
        if bypasses_rls {
            tracing::warn!(
                target: crate::LOG,
                "byokd serves as a database role that bypasses row-level security (a superuser?): \
                 fine to try byokd, not for production; docs/postgres.md describes the roles"
            );
        }
        drop(client);
        let writer = records::Writer::start(pool.clone());
        Ok(PgStore {
            pool,
            writer,
            bypasses_rls,
        })
    }

    /// The vault's check value, if one is stored.
    pub async fn vault_check(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client, Scope::Service).await?;
        let row = tx
            .query_typed_opt("SELECT check_value FROM byokit_vault WHERE id = 1", &[])
            .await?;
        tx.commit().await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Stores the vault's check value unless one is there; answers the one stored (another
    /// byokd may have stored its own first: the caller checks that its master key opens it).
    pub async fn set_vault_check(&self, check: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = begin(&mut client, Scope::Service).await?;
        tx.execute_typed(
            "INSERT INTO byokit_vault (id, check_value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            &[(&check, Type::BYTEA)],
        )
        .await?;
        let stored: Vec<u8> = tx
            .query_typed_one("SELECT check_value FROM byokit_vault WHERE id = 1", &[])
            .await?
            .get(0);
        tx.commit().await?;
        Ok(stored)
    }
}

/// A pool for the migrations' role.
fn pool_of(url: &str, ca_file: Option<&Path>) -> Result<Pool, String> {
    pool(url, ca_file).map_err(|e| e.replace("--database-url", "--database-owner-url"))
}

fn config_of(row: &Row) -> Result<StoredConfig, StoreError> {
    let version: i32 = row.get("sealed_version");
    Ok(StoredConfig {
        view: ConfigView {
            key_id: row.get("key_id"),
            provider: provider(row.get("provider"))?,
            api_key: row.get("api_key_masked"),
            base_url: row.get("base_url"),
            model: row.get("model"),
            is_active: row.get("is_active"),
            saved_at: row.get("updated_at"),
        },
        sealed: row.get("api_key"),
        sealed_version: u32::try_from(version)
            .map_err(|_| StoreError::Damaged(format!("seal version {version}")))?,
    })
}

async fn configs(
    tx: &tokio_postgres::Transaction<'_>,
    user: &str,
) -> Result<Vec<StoredConfig>, StoreError> {
    tx.query_typed(
        "SELECT key_id, provider, api_key, api_key_masked, base_url, model, is_active, updated_at,
                sealed_version
         FROM user_api_configs WHERE clerk_id = $1 ORDER BY updated_at DESC, id DESC",
        &[(&user, Type::TEXT)],
    )
    .await?
    .iter()
    .map(config_of)
    .collect()
}

async fn routing(
    tx: &tokio_postgres::Transaction<'_>,
    user: &str,
) -> Result<RoutingSettings, StoreError> {
    let row = tx
        .query_typed_opt(
            "SELECT settings FROM routing_settings WHERE clerk_id = $1",
            &[(&user, Type::TEXT)],
        )
        .await?;
    match row {
        Some(r) => serde_json::from_value(r.get(0))
            .map_err(|e| StoreError::Damaged(format!("routing settings of {user}: {e}"))),
        None => Ok(RoutingSettings::default()),
    }
}

async fn budget(
    tx: &tokio_postgres::Transaction<'_>,
    user: &str,
) -> Result<Option<Budget>, StoreError> {
    let row = tx
        .query_typed_opt(
            "SELECT monthly_limit_usd, policy, alert_thresholds FROM budgets WHERE clerk_id = $1",
            &[(&user, Type::TEXT)],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let thresholds: Vec<i16> = row.get(2);
    Ok(Some(Budget {
        monthly_limit_usd: row.get(0),
        policy: policy(row.get(1))?,
        alert_thresholds: thresholds
            .into_iter()
            .map(|t| u8::try_from(t).map_err(|_| StoreError::Damaged(format!("threshold {t}"))))
            .collect::<Result<_, _>>()?,
    }))
}

impl Store for PgStore {
    fn save_config(&self, c: NewConfig) -> StoreFuture<'_, ConfigView> {
        Box::pin(async move {
            let user = c.user.clone();
            in_tx!(self, Scope::User(&user), |tx| {
                if !c.add {
                    tx.execute_typed(
                        "DELETE FROM user_api_configs WHERE clerk_id = $1 AND provider = $2",
                        &[(&c.user, Type::TEXT), (&c.provider.as_str(), Type::TEXT)],
                    )
                    .await?;
                }
                tx.execute_typed(
                    "UPDATE user_api_configs SET is_active = false WHERE clerk_id = $1",
                    &[(&c.user, Type::TEXT)],
                )
                .await?;
                let version = SEAL_VERSION as i32;
                let saved_at: OffsetDateTime = tx
                    .query_typed_one(
                        "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key,
                                 api_key_masked, base_url, model, is_active, sealed_version,
                                 created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, true, $8, $9, $9)
                             RETURNING updated_at",
                        &[
                            (&c.user, Type::TEXT),
                            (&c.key_id, Type::TEXT),
                            (&c.provider.as_str(), Type::TEXT),
                            (&c.sealed, Type::BYTEA),
                            (&c.masked, Type::TEXT),
                            (&c.base_url, Type::TEXT),
                            (&c.model, Type::TEXT),
                            (&version, Type::INT4),
                            (&to_ms(OffsetDateTime::now_utc()), Type::TIMESTAMPTZ),
                        ],
                    )
                    .await?
                    .get(0);
                Ok(c.view(saved_at))
            })
        })
    }

    fn configs(&self, user: &str) -> StoreFuture<'_, Vec<StoredConfig>> {
        let user = user.to_owned();
        Box::pin(async move { in_tx!(self, Scope::User(&user), |tx| { configs(tx, &user).await }) })
    }

    fn delete_config(
        &self,
        user: &str,
        provider: Option<Provider>,
        key_id: Option<String>,
    ) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                let provider = provider.map(Provider::as_str);
                let deleted = tx
                    .execute_typed(
                        "DELETE FROM user_api_configs WHERE clerk_id = $1 AND CASE
                               WHEN $2::text IS NOT NULL THEN key_id = $2
                               WHEN $3::text IS NOT NULL THEN provider = $3
                               ELSE is_active END",
                        &[
                            (&user, Type::TEXT),
                            (&key_id, Type::TEXT),
                            (&provider, Type::TEXT),
                        ],
                    )
                    .await?;
                // If the active one went, the most recently saved of the rest takes over.
                tx.execute_typed(
                    "UPDATE user_api_configs SET is_active = true WHERE id =
                           (SELECT id FROM user_api_configs WHERE clerk_id = $1
                            ORDER BY updated_at DESC, id DESC LIMIT 1)
                         AND NOT EXISTS (SELECT 1 FROM user_api_configs
                                         WHERE clerk_id = $1 AND is_active)",
                    &[(&user, Type::TEXT)],
                )
                .await?;
                Ok(deleted)
            })
        })
    }

    /// Read every time: another byokd may have changed them.
    fn routing_inputs(&self, user: &str) -> StoreFuture<'_, Arc<RoutingInputs>> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                let (configs, settings, budget) =
                    tokio::try_join!(configs(tx, &user), routing(tx, &user), budget(tx, &user))?;
                Ok(Arc::new(RoutingInputs {
                    configs,
                    settings,
                    budget,
                }))
            })
        })
    }

    fn record(
        &self,
        record: PricedRecord,
        commit: Commit,
    ) -> StoreFuture<'_, (i64, Acknowledgement)> {
        Box::pin(self.writer.record(record, commit))
    }

    fn inexact_records(
        &self,
        user: &str,
        since: OffsetDateTime,
    ) -> StoreFuture<'_, Vec<(i64, UsageEvent)>> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                usage::inexact_records(tx, &user, since).await
            })
        })
    }

    fn reprice(&self, user: &str, changes: Vec<Repriced>) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                usage::reprice(tx, &user, &changes).await
            })
        })
    }

    fn flush(&self) -> StoreFuture<'_, ()> {
        Box::pin(self.writer.flush())
    }

    fn events(&self, user: &str, since: OffsetDateTime) -> StoreFuture<'_, Vec<UsageEvent>> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                usage::events_between(
                    tx,
                    &user,
                    to_ms(since) + time::Duration::MILLISECOND,
                    crate::store::summary::far_future(),
                )
                .await
            })
        })
    }

    fn summary(
        &self,
        user: &str,
        window: Window,
        cap: Option<u64>,
    ) -> StoreFuture<'_, UsageSummary> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                let budget = budget(tx, &user).await?;
                usage::summary(tx, &user, window, cap, budget.as_ref()).await
            })
        })
    }

    fn system_tokens(&self, user: &str, month: Month, now: OffsetDateTime) -> StoreFuture<'_, u64> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                usage::system_tokens(tx, &user, month, now).await
            })
        })
    }

    fn hold_system_tokens(&self, hold: HoldRequest) -> StoreFuture<'_, Option<SystemHold>> {
        Box::pin(async move {
            let user = hold.user.clone();
            let id: Option<i64> = in_tx!(self, Scope::User(&user), |tx| {
                // One hold at a time per user and month, across every byokd: the lock
                // is the transaction's, released at its commit.
                let key = format!("byokit.hold/{}/{}", hold.user, hold.month);
                tx.execute_typed(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                    &[(&key, Type::TEXT)],
                )
                .await?;
                let used = usage::system_tokens(tx, &hold.user, hold.month, hold.now).await?;
                if used.saturating_add(hold.tokens) > hold.cap {
                    return Ok(None);
                }
                let expires = hold.now + hold.ttl;
                let id: i64 = tx
                    .query_typed_one(
                        "INSERT INTO system_holds (clerk_id, month, tokens, expires_at)
                                 VALUES ($1, $2, $3, $4) RETURNING id",
                        &[
                            (&hold.user, Type::TEXT),
                            (&hold.month.to_string(), Type::TEXT),
                            (&int("tokens", hold.tokens)?, Type::INT8),
                            (&expires, Type::TIMESTAMPTZ),
                        ],
                    )
                    .await?
                    .get(0);
                Ok(Some(id))
            })?;
            Ok(id.map(|id| {
                SystemHold::new(Held {
                    pool: self.pool.clone(),
                    user,
                    id,
                    runtime: tokio::runtime::Handle::current(),
                })
            }))
        })
    }

    fn set_budget(&self, user: &str, b: Budget) -> StoreFuture<'_, ()> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                let thresholds: Vec<i16> =
                    b.alert_thresholds.iter().map(|&t| i16::from(t)).collect();
                tx.execute_typed(
                        "INSERT INTO budgets (clerk_id, monthly_limit_usd, policy, alert_thresholds, updated_at)
                         VALUES ($1, $2, $3, $4, now())
                         ON CONFLICT (clerk_id) DO UPDATE SET monthly_limit_usd = EXCLUDED.monthly_limit_usd,
                           policy = EXCLUDED.policy, alert_thresholds = EXCLUDED.alert_thresholds,
                           updated_at = EXCLUDED.updated_at",
                        &[
                            (&user, Type::TEXT),
                            (&b.monthly_limit_usd, Type::NUMERIC),
                            (&b.policy.as_str(), Type::TEXT),
                            (&thresholds, Type::INT2_ARRAY),
                        ],
                    )
                    .await?;
                Ok(())
            })
        })
    }

    fn budget_status(
        &self,
        user: &str,
        month: Month,
    ) -> StoreFuture<'_, Option<(Budget, BudgetStatus)>> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                let Some(b) = budget(tx, &user).await? else {
                    return Ok(None);
                };
                let spent = usage::user_spent(tx, &user, month).await?;
                let status = b.status(month, spent);
                Ok(Some((b, status)))
            })
        })
    }

    fn alerts(&self, user: &str) -> StoreFuture<'_, Vec<Alert>> {
        let user = user.to_owned();
        Box::pin(async move {
            self.writer.flush().await?;
            in_tx!(self, Scope::User(&user), |tx| {
                tx.query_typed(
                    "SELECT month, threshold_percent, spent_usd, limit_usd FROM alerts
                         WHERE clerk_id = $1 ORDER BY created_at DESC, id DESC",
                    &[(&user, Type::TEXT)],
                )
                .await?
                .iter()
                .map(|r| {
                    let pct: i16 = r.get(1);
                    Ok(Alert {
                        month: parse_month(r.get(0))?,
                        threshold_percent: u8::try_from(pct)
                            .map_err(|_| StoreError::Damaged(format!("threshold {pct}")))?,
                        spent_usd: r.get(2),
                        limit_usd: r.get(3),
                    })
                })
                .collect()
            })
        })
    }

    fn set_routing(
        &self,
        user: &str,
        settings: RoutingSettings,
    ) -> StoreFuture<'_, RoutingSettings> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                let json = serde_json::to_value(&settings)
                    .map_err(|e| StoreError::Damaged(format!("routing settings: {e}")))?;
                tx.execute_typed(
                        "INSERT INTO routing_settings (clerk_id, settings, updated_at) VALUES ($1, $2, now())
                         ON CONFLICT (clerk_id) DO UPDATE SET settings = EXCLUDED.settings,
                           updated_at = EXCLUDED.updated_at",
                        &[(&user, Type::TEXT), (&json, Type::JSONB)],
                    )
                    .await?;
                Ok(settings)
            })
        })
    }

    fn routing(&self, user: &str) -> StoreFuture<'_, RoutingSettings> {
        let user = user.to_owned();
        Box::pin(async move { in_tx!(self, Scope::User(&user), |tx| { routing(tx, &user).await }) })
    }

    fn http_token(&self, user: &str, name: &str) -> StoreFuture<'_, Option<Vec<u8>>> {
        let (user, name) = (user.to_owned(), name.to_owned());
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                Ok(tx
                    .query_typed_opt(
                        "SELECT sealed FROM http_tokens WHERE clerk_id = $1 AND name = $2",
                        &[(&user, Type::TEXT), (&name, Type::TEXT)],
                    )
                    .await?
                    .map(|r| r.get(0)))
            })
        })
    }

    fn save_http_token(&self, t: NewHttpToken) -> StoreFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let user = t.user.clone();
            in_tx!(self, Scope::User(&user), |tx| {
                let hash = &t.hash[..];
                tx.execute_typed(
                    "INSERT INTO http_tokens (clerk_id, name, token_hash, sealed)
                         VALUES ($1, $2, $3, $4) ON CONFLICT (clerk_id, name) DO NOTHING",
                    &[
                        (&t.user, Type::TEXT),
                        (&t.name, Type::TEXT),
                        (&hash, Type::BYTEA),
                        (&t.sealed, Type::BYTEA),
                    ],
                )
                .await?;
                Ok(tx
                    .query_typed_one(
                        "SELECT sealed FROM http_tokens WHERE clerk_id = $1 AND name = $2",
                        &[(&t.user, Type::TEXT), (&t.name, Type::TEXT)],
                    )
                    .await?
                    .get(0))
            })
        })
    }

    fn http_token_user(&self, hash: TokenHash) -> StoreFuture<'_, Option<String>> {
        Box::pin(async move {
            in_tx!(self, Scope::Token(&hash), |tx| {
                let hash = &hash[..];
                Ok(tx
                    .query_typed_opt(
                        "SELECT clerk_id FROM http_tokens WHERE token_hash = $1",
                        &[(&hash, Type::BYTEA)],
                    )
                    .await?
                    .map(|r| r.get(0)))
            })
        })
    }

    fn http_tokens(&self, user: &str) -> StoreFuture<'_, Vec<HttpTokenInfo>> {
        let user = user.to_owned();
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                Ok(tx
                        .query_typed(
                            "SELECT name, created_at FROM http_tokens WHERE clerk_id = $1 ORDER BY name",
                            &[(&user, Type::TEXT)],
                        )
                        .await?
                        .iter()
                        .map(|r| HttpTokenInfo {
                            name: r.get(0),
                            created_at: r.get(1),
                        })
                        .collect())
            })
        })
    }

    fn revoke_http_token(&self, user: &str, name: &str) -> StoreFuture<'_, u64> {
        let (user, name) = (user.to_owned(), name.to_owned());
        Box::pin(async move {
            in_tx!(self, Scope::User(&user), |tx| {
                Ok(tx
                    .execute_typed(
                        "DELETE FROM http_tokens WHERE clerk_id = $1 AND name = $2",
                        &[(&user, Type::TEXT), (&name, Type::TEXT)],
                    )
                    .await?)
            })
        })
    }

    /// Several byokd share the database.
    fn shared(&self) -> bool {
        true
    }

    /// Every user's keys and tokens, in one transaction: only a role that bypasses row-level
    /// security sees them all, so byokd refuses with another.
    fn reseal(&self, mut reseal: Box<Resealer>, check: Vec<u8>) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            if !self.bypasses_rls {
                return Err(StoreError::Database(
                    "re-sealing every user's keys needs a database role that bypasses row-level \
                     security: run this byokd with such a role's --database-url for the rotation \
                     (docs/postgres.md)"
                        .into(),
                ));
            }
            in_tx!(self, Scope::Service, |tx| {
                let rows = tx
                        .query_typed(
                            "SELECT id, clerk_id, provider, key_id, base_url, model, sealed_version, api_key
                             FROM user_api_configs FOR UPDATE",
                            &[],
                        )
                        .await?;
                for r in &rows {
                    let (id, user, key_id): (i64, String, String) = (r.get(0), r.get(1), r.get(3));
                    let provider = provider(r.get(2))?;
                    let version: i32 = r.get(6);
                    let sealed: Vec<u8> = r.get(7);
                    let base_url: Option<String> = r.get(4);
                    let model: Option<String> = r.get(5);
                    let resealed = reseal(Sealed::Key {
                        user: &user,
                        provider,
                        key_id: &key_id,
                        base_url: base_url.as_deref(),
                        model: model.as_deref(),
                        version: u32::try_from(version).unwrap_or(0),
                        sealed: &sealed,
                    })
                    .map_err(|e| {
                        StoreError::Damaged(format!(
                            "nothing was re-encrypted: the {provider} key {key_id} of user \
                                 {user:?} ({e}); delete it, then rotate again"
                        ))
                    })?;
                    let version = SEAL_VERSION as i32;
                    tx.execute_typed(
                            "UPDATE user_api_configs SET api_key = $1, sealed_version = $2 WHERE id = $3",
                            &[(&resealed, Type::BYTEA), (&version, Type::INT4), (&id, Type::INT8)],
                        )
                        .await?;
                }
                let tokens = tx
                    .query_typed(
                        "SELECT id, clerk_id, name, sealed FROM http_tokens FOR UPDATE",
                        &[],
                    )
                    .await?;
                for r in &tokens {
                    let (id, user, name, sealed): (i64, String, String, Vec<u8>) =
                        (r.get(0), r.get(1), r.get(2), r.get(3));
                    let resealed = reseal(Sealed::Token {
                        user: &user,
                        name: &name,
                        sealed: &sealed,
                    })
                    .map_err(StoreError::Damaged)?;
                    tx.execute_typed(
                        "UPDATE http_tokens SET sealed = $1 WHERE id = $2",
                        &[(&resealed, Type::BYTEA), (&id, Type::INT8)],
                    )
                    .await?;
                }
                tx.execute_typed(
                    "INSERT INTO byokit_vault (id, check_value) VALUES (1, $1)
                         ON CONFLICT (id) DO UPDATE SET check_value = EXCLUDED.check_value",
                    &[(&check, Type::BYTEA)],
                )
                .await?;
                Ok(rows.len() as u64)
            })
        })
    }
}

/// A hold of system-key tokens: a row of `system_holds`, updated and deleted by tasks of its
/// own (a hold is dropped where nothing can wait). A hold whose delete never ran (a crash)
/// lapses at its `expires_at`.
struct Held {
    pool: Pool,
    user: String,
    id: i64,
    runtime: tokio::runtime::Handle,
}

impl Held {
    fn run(&self, sql: &'static str, tokens: Option<i64>) {
        let (pool, user, id) = (self.pool.clone(), self.user.clone(), self.id);
        self.runtime.spawn(async move {
            let done: Result<(), StoreError> = async {
                let mut client = pool.get().await?;
                let tx = begin(&mut client, Scope::User(&user)).await?;
                match tokens {
                    Some(t) => {
                        tx.execute_typed(sql, &[(&id, Type::INT8), (&t, Type::INT8)])
                            .await?
                    }
                    None => tx.execute_typed(sql, &[(&id, Type::INT8)]).await?,
                };
                tx.commit().await?;
                Ok(())
            }
            .await;
            if let Err(e) = done {
                tracing::warn!(target: crate::LOG, "a system-key hold was not updated (it lapses at its deadline): {e}");
            }
        });
    }
}

impl HeldTokens for Held {
    fn settle(&self, tokens: u64) {
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        self.run(
            "UPDATE system_holds SET tokens = $2 WHERE id = $1",
            Some(tokens),
        );
    }

    fn release(&self) {
        self.run("DELETE FROM system_holds WHERE id = $1", None);
    }
}
