//! The database's schema: versioned migrations applied at start, and the vault's check value.

use super::*;

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
    // 5: bearer tokens of the HTTP endpoint, several per user by name: found by their SHA-256,
    // kept sealed by the vault so that `http.token` can show a token again (byokd used to keep
    // them in plain text in http-tokens.json, which it now imports and removes).
    "CREATE TABLE http_tokens (
        id INTEGER PRIMARY KEY,
        clerk_id TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash BLOB NOT NULL UNIQUE,
        sealed BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (clerk_id, name)
    );",
    // 6: the record of each repricing (`usage.reprice`): which record, from what to what, by
    // which catalog. The usage row itself carries its current price.
    "CREATE TABLE usage_repriced (
        id INTEGER PRIMARY KEY,
        usage_id INTEGER NOT NULL REFERENCES api_usage_logs (id),
        clerk_id TEXT NOT NULL,
        repriced_at INTEGER NOT NULL,
        from_cost_usd TEXT,
        from_status TEXT NOT NULL,
        from_catalog_version TEXT NOT NULL,
        to_cost_usd TEXT,
        to_status TEXT NOT NULL,
        to_catalog_version TEXT NOT NULL
    );
    CREATE INDEX usage_repriced_by_user ON usage_repriced (clerk_id, usage_id);",
    // 7: how each key is sealed: `user_api_configs.sealed_version`, added by `after_migration`
    // unless the table has it already. Version 1 bound user, provider and key id (joined by NUL
    // bytes); version 2 binds them length-prefixed with the base URL and model, so that a row
    // edited to send the key elsewhere does not decrypt. byokd re-seals version 1 rows at start,
    // where the master key is at hand (`upgrade_seals`).
    "-- user_api_configs.sealed_version INTEGER NOT NULL DEFAULT 1",
];

/// Work a migration needs beyond its SQL, by the version it brings the database to.
pub(super) fn after_migration(tx: &Transaction<'_>, version: usize) -> Result<(), StoreError> {
    if version == 3 {
        rebuild_daily(tx)?;
    }
    if version == 7 {
        let has: bool = tx.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('user_api_configs') WHERE name = 'sealed_version'",
            [],
            |r| r.get(0),
        )?;
        if !has {
            tx.execute_batch(
                "ALTER TABLE user_api_configs ADD COLUMN sealed_version INTEGER NOT NULL DEFAULT 1;",
            )?;
        }
    }
    Ok(())
}

/// A second, read-only connection to an open database.
pub(super) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Opens (creating) the database and applies pending migrations. A deleted row's bytes are
/// overwritten (`secure_delete`), not left in free pages.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "secure_delete", "ON")?;
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

/// Recomputes `usage_daily` from the logs (migration 3).
pub(super) fn rebuild_daily(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM usage_daily", [])?;
    let users: Vec<String> = tx
        .prepare("SELECT DISTINCT clerk_id FROM api_usage_logs")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for user in users {
        let events = events_between(tx, &user, OffsetDateTime::UNIX_EPOCH, far_future())?;
        add_daily(tx, daily_totals(&user, &events))?;
    }
    Ok(())
}
