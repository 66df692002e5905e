//! The schema: plain SQL files under `daemon/migrations/postgres/`, one per version, applied in order at
//! start, each in one transaction. Each file records itself in `byokit_migrations`, so that a
//! team can apply them with its own tools instead (`psql -1 -f`): byokd then finds them applied.

use deadpool_postgres::Pool;
use tokio_postgres::types::Type;

use super::{begin, Scope};
use crate::store::StoreError;

/// The migrations, in order: (version, file name, SQL). Never edit one that has shipped: add
/// the next.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_tables.sql",
        include_str!("../../../migrations/postgres/0001_tables.sql"),
    ),
    (
        2,
        "0002_usage_summary.sql",
        include_str!("../../../migrations/postgres/0002_usage_summary.sql"),
    ),
    (
        3,
        "0003_store_copies.sql",
        include_str!("../../../migrations/postgres/0003_store_copies.sql"),
    ),
];

/// Any number the migrations' advisory lock is known by: two byokd starting at once take turns.
const MIGRATION_LOCK: i64 = 0x6279_6f6b_6974; // "byokit"

/// Applies the migrations past the database's version, each in its own transaction under a
/// transaction-scoped advisory lock (a session lock could be taken and released on two different
/// connections behind a pooler); answers the version reached.
pub async fn migrate(pool: &Pool) -> Result<i32, StoreError> {
    let mut client = pool.get().await?;
    let mut version = 0;
    for (v, name, sql) in MIGRATIONS {
        let tx = begin(&mut client, Scope::Service).await?;
        tx.execute_typed(
            "SELECT pg_advisory_xact_lock($1)",
            &[(&MIGRATION_LOCK, Type::INT8)],
        )
        .await?;
        version = current_version(&tx).await?;
        if *v <= version {
            continue; // applied (by another byokd meanwhile, or by hand)
        }
        tx.batch_execute(sql)
            .await
            .map_err(|e| StoreError::Database(format!("{name}: {}", StoreError::from(e))))?;
        // The file records itself in byokit_migrations, for those who apply it with psql.
        tx.commit().await?;
        tracing::info!(target: crate::LOG, "database migrated to version {v} ({name})");
        version = *v;
    }
    Ok(version)
}

/// The last migration recorded (0 for an empty database).
async fn current_version(tx: &tokio_postgres::Transaction<'_>) -> Result<i32, StoreError> {
    let exists: bool = tx
        .query_typed_one("SELECT to_regclass('byokit_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if exists {
        return Ok(tx
            .query_typed_one(
                "SELECT COALESCE(MAX(version), 0) FROM byokit_migrations",
                &[],
            )
            .await?
            .get(0));
    }
    let tables: bool = tx
        .query_typed_one("SELECT to_regclass('api_usage_logs') IS NOT NULL", &[])
        .await?
        .get(0);
    if tables {
        return Err(StoreError::Database(
            "the database has an api_usage_logs table but no byokit_migrations: its tables are \
             not byokit's (the spec's own migration?); use another database or schema"
                .into(),
        ));
    }
    Ok(0)
}
