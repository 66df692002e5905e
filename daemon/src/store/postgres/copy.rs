//! `byokit store copy`: a desktop store (a data dir's byokit.db) into a PostgreSQL database,
//! for an app that moves up to several byokd. Keys stay sealed (the database's byokd use the
//! same master key); usage goes in chunks, each in one transaction with the copy's cursor, so
//! that a copy interrupted anywhere goes on from there and one run twice copies nothing twice.

use std::collections::BTreeMap;
use std::path::Path;

use byokit_core::protocol::UsageRecordParams;
use byokit_core::Decimal;
use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;
use tokio_postgres::types::Type;

use super::records::{id_block, insert, scope_to, write_daily, ID_BLOCK};
use super::{begin, hex, PgStore, Scope};
use crate::store::columns::{
    count, parse_decimal, parse_payer, parse_provider, parse_status, usage, TOKEN_COLUMNS,
};
use crate::store::sqlite::{from_ms, get_budget};
use crate::store::{add_to_daily, Daily, PricedRecord, StoreError};
use crate::vault::SEAL_VERSION;

/// Usage records per transaction: one block of ids, taken as a byokd takes its own.
const CHUNK: i64 = ID_BLOCK;

/// Where a copy stands, for its progress bar.
#[derive(Debug, Clone, Copy)]
pub struct CopyProgress {
    /// Usage records of the store copied so far (this run and earlier ones).
    pub done: u64,
    /// Usage records in the store.
    pub total: u64,
}

/// What a copy did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Configurations copied (keys still sealed); those already there are left.
    pub configs: u64,
    /// Usage records copied by this run.
    pub usage: u64,
    /// Usage records whose idempotency key the database had already (recorded there too).
    pub usage_already_there: u64,
    /// Budgets, alerts, routing settings and bearer tokens copied.
    pub settings: u64,
}

fn sql(e: rusqlite::Error) -> String {
    format!("reading the desktop store: {e}")
}

fn db(e: impl Into<StoreError>) -> String {
    e.into().to_string()
}

/// Copies the store of `data_dir` into `store`'s database, calling `progress` after each chunk.
pub async fn copy_store(
    data_dir: &Path,
    store: &PgStore,
    progress: &mut dyn FnMut(CopyProgress),
) -> Result<CopyReport, String> {
    let path = data_dir.join("byokit.db");
    if !path.exists() {
        return Err(format!("{} has no byokit.db", data_dir.display()));
    }
    let conn = crate::store::open(&path).map_err(|e| e.to_string())?;
    let check = crate::store::vault_check(&conn)
        .map_err(|e| e.to_string())?
        .ok_or("the desktop store has no vault check value: start byokd on it once first")?;
    let old_seals: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM user_api_configs WHERE sealed_version < ?1",
            params![SEAL_VERSION],
            |r| r.get(0),
        )
        .map_err(sql)?;
    if old_seals > 0 {
        return Err(format!(
            "{old_seals} key(s) of the desktop store are sealed the old way: start byokd on it \
             once (it re-seals them), then copy"
        ));
    }
    // The database's keys and this store's must open with one master key: the one the
    // database's byokd will use.
    let home = crate::vault::master_key_home(data_dir, Default::default()).map_err(db_vault)?;
    let vault =
        crate::vault::Vault::open_checked(data_dir, home, Some(&check)).map_err(db_vault)?;
    let stored = store.set_vault_check(&check).await.map_err(db)?;
    if !vault.opens_check(&stored) {
        return Err(
            "the database's keys are sealed by another master key than this store's: copy into \
             an empty database, or one whose byokd use this data dir's master.key"
                .into(),
        );
    }
    let source = hex(&check);
    let mut report = CopyReport::default();
    copy_settings(&conn, store, &mut report).await?;
    copy_usage(&conn, store, &source, &mut report, progress).await?;
    async {
        in_tx!(store, Scope::Service, |tx| {
            tx.execute_typed(
                "UPDATE byokit_store_copies SET finished_at = now(), updated_at = now() WHERE source = $1",
                &[(&source, Type::TEXT)],
            )
            .await?;
            Ok(())
        })
    }
    .await
    .map_err(db)?;
    Ok(report)
}

fn db_vault(e: crate::vault::VaultError) -> String {
    format!("the desktop store's master key: {e}")
}

/// A value of the desktop store read back by the rules every store reads by
/// (`store::columns`): a damaged one is named, never a silent default.
fn desktop(e: StoreError) -> String {
    format!("the desktop store: {e}")
}

fn at_ms(v: i64) -> Result<OffsetDateTime, String> {
    from_ms(v).map_err(desktop)
}

fn decimal(s: &str) -> Result<Decimal, String> {
    parse_decimal(s).map_err(desktop)
}

/// A row of the desktop store's configurations.
type ConfigRow = (
    String,
    String,
    String,
    Vec<u8>,
    String,
    Option<String>,
    Option<String>,
    bool,
    i64,
    i64,
);

/// Configurations (keys sealed as they are), budgets, alerts, routing settings and bearer
/// tokens, each user's in one transaction; what the database has already stays.
async fn copy_settings(
    conn: &Connection,
    store: &PgStore,
    report: &mut CopyReport,
) -> Result<(), String> {
    let users: Vec<String> = conn
        .prepare(
            "SELECT clerk_id FROM user_api_configs UNION SELECT clerk_id FROM budgets
             UNION SELECT clerk_id FROM alerts UNION SELECT clerk_id FROM routing_settings
             UNION SELECT clerk_id FROM http_tokens",
        )
        .map_err(sql)?
        .query_map([], |r| r.get(0))
        .map_err(sql)?
        .collect::<Result<_, _>>()
        .map_err(sql)?;
    for user in users {
        let configs: Vec<ConfigRow> = conn
            .prepare(
                "SELECT clerk_id, key_id, provider, api_key, api_key_masked, base_url, model,
                        is_active, created_at, updated_at
                 FROM user_api_configs WHERE clerk_id = ?1 ORDER BY id",
            )
            .map_err(sql)?
            .query_map(params![user], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let mut client = store.pool.get().await.map_err(db)?;
        let tx = begin(&mut client, Scope::User(&user)).await.map_err(db)?;
        // A user with an active configuration in the database keeps it active.
        let has_active: bool = tx
            .query_typed_one(
                "SELECT EXISTS(SELECT 1 FROM user_api_configs WHERE clerk_id = $1 AND is_active)",
                &[(&user, Type::TEXT)],
            )
            .await
            .map_err(db)?
            .get(0);
        let version = SEAL_VERSION as i32;
        for (u, key_id, provider, sealed, masked, base_url, model, active, created, updated) in
            &configs
        {
            let active = *active && !has_active;
            report.configs += tx
                .execute_typed(
                    "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key,
                       api_key_masked, base_url, model, is_active, sealed_version, created_at,
                       updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT (key_id) DO NOTHING",
                    &[
                        (u, Type::TEXT),
                        (key_id, Type::TEXT),
                        (provider, Type::TEXT),
                        (sealed, Type::BYTEA),
                        (masked, Type::TEXT),
                        (base_url, Type::TEXT),
                        (model, Type::TEXT),
                        (&active, Type::BOOL),
                        (&version, Type::INT4),
                        (&at_ms(*created)?, Type::TIMESTAMPTZ),
                        (&at_ms(*updated)?, Type::TIMESTAMPTZ),
                    ],
                )
                .await
                .map_err(db)?;
        }
        if let Some(budget) = get_budget(conn, &user).map_err(desktop)? {
            let thresholds: Vec<i16> = budget
                .alert_thresholds
                .iter()
                .map(|&t| i16::from(t))
                .collect();
            report.settings += tx
                .execute_typed(
                    "INSERT INTO budgets (clerk_id, monthly_limit_usd, policy, alert_thresholds)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (clerk_id) DO NOTHING",
                    &[
                        (&user, Type::TEXT),
                        (&budget.monthly_limit_usd, Type::NUMERIC),
                        (&budget.policy.as_str(), Type::TEXT),
                        (&thresholds, Type::INT2_ARRAY),
                    ],
                )
                .await
                .map_err(db)?;
        }
        let alerts: Vec<(String, i16, String, String, i64)> = conn
            .prepare(
                "SELECT month, threshold_percent, spent_usd, limit_usd, created_at FROM alerts
                 WHERE clerk_id = ?1",
            )
            .map_err(sql)?
            .query_map(params![user], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        for (month, pct, spent, limit, created) in alerts {
            report.settings += tx
                .execute_typed(
                    "INSERT INTO alerts (clerk_id, month, threshold_percent, spent_usd, limit_usd, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (clerk_id, month, threshold_percent) DO NOTHING",
                    &[
                        (&user, Type::TEXT),
                        (&month, Type::TEXT),
                        (&pct, Type::INT2),
                        (&decimal(&spent)?, Type::NUMERIC),
                        (&decimal(&limit)?, Type::NUMERIC),
                        (&at_ms(created)?, Type::TIMESTAMPTZ),
                    ],
                )
                .await
                .map_err(db)?;
        }
        let routing: Option<String> = conn
            .query_row(
                "SELECT settings FROM routing_settings WHERE clerk_id = ?1",
                params![user],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        if let Some(text) = routing {
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("damaged routing settings of {user:?}: {e}"))?;
            report.settings += tx
                .execute_typed(
                    "INSERT INTO routing_settings (clerk_id, settings) VALUES ($1, $2)
                     ON CONFLICT (clerk_id) DO NOTHING",
                    &[(&user, Type::TEXT), (&json, Type::JSONB)],
                )
                .await
                .map_err(db)?;
        }
        let tokens: Vec<(String, Vec<u8>, Vec<u8>, i64)> = conn
            .prepare(
                "SELECT name, token_hash, sealed, created_at FROM http_tokens WHERE clerk_id = ?1",
            )
            .map_err(sql)?
            .query_map(params![user], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        for (name, hash, sealed, created) in tokens {
            report.settings += tx
                .execute_typed(
                    "INSERT INTO http_tokens (clerk_id, name, token_hash, sealed, created_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[
                        (&user, Type::TEXT),
                        (&name, Type::TEXT),
                        (&hash, Type::BYTEA),
                        (&sealed, Type::BYTEA),
                        (&at_ms(created)?, Type::TIMESTAMPTZ),
                    ],
                )
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)?;
    }
    Ok(())
}

/// One usage row of the desktop store, priced as it was.
fn priced(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Result<PricedRecord, String>)> {
    let id: i64 = r.get("id")?;
    let mut tokens = [0i64; 5];
    for (n, column) in tokens.iter_mut().zip(TOKEN_COLUMNS) {
        *n = r.get(column)?;
    }
    let estimated: bool = r.get("usage_estimated")?;
    let (provider, payer, status, cost, created): (String, String, String, Option<String>, i64) = (
        r.get("provider")?,
        r.get("payer")?,
        r.get("cost_status")?,
        r.get("estimated_cost_usd")?,
        r.get("created_at")?,
    );
    let feature: String = r.get("feature")?;
    let latency: Option<i64> = r.get("latency_ms")?;
    let (model, key, version, outcome): (String, Option<String>, String, String) = (
        r.get("model")?,
        r.get("idempotency_key")?,
        r.get("catalog_version")?,
        r.get("outcome")?,
    );
    let user: String = r.get("clerk_id")?;
    let record = (|| -> Result<PricedRecord, StoreError> {
        let at = from_ms(created)?;
        Ok(PricedRecord {
            record: UsageRecordParams {
                user,
                provider: parse_provider(&provider)?,
                model,
                feature: (!feature.is_empty()).then_some(feature),
                usage: usage(tokens, estimated)?,
                payer: parse_payer(&payer)?,
                idempotency_key: key,
                at: Some(at),
                latency_ms: latency.map(|v| count("latency_ms", v)).transpose()?,
                outcome: Some(outcome),
            },
            at,
            cost_usd: cost.as_deref().map(parse_decimal).transpose()?,
            cost_status: parse_status(&status)?,
            catalog_version: version,
        })
    })()
    .map_err(|e| format!("usage {id}: {e}"));
    Ok((id, record))
}

/// Usage, in chunks of [`CHUNK`] after the copy's cursor, each chunk with its daily totals and
/// the cursor's move in one transaction.
async fn copy_usage(
    conn: &Connection,
    store: &PgStore,
    source: &str,
    report: &mut CopyReport,
    progress: &mut dyn FnMut(CopyProgress),
) -> Result<(), String> {
    let total: i64 = conn
        .query_row("SELECT COUNT(*) FROM api_usage_logs", [], |r| r.get(0))
        .map_err(sql)?;
    let mut cursor: i64 = async {
        in_tx!(store, Scope::Service, |tx| {
            tx.execute_typed(
                "INSERT INTO byokit_store_copies (source) VALUES ($1) ON CONFLICT (source) DO NOTHING",
                &[(&source, Type::TEXT)],
            )
            .await?;
            Ok(tx
                .query_typed_one(
                    "SELECT usage_copied_through FROM byokit_store_copies WHERE source = $1",
                    &[(&source, Type::TEXT)],
                )
                .await?
                .get(0))
        })
    }
    .await
    .map_err(db)?;
    let mut client = store.pool.get().await.map_err(db)?;
    let mut stmt = conn
        .prepare("SELECT * FROM api_usage_logs WHERE id > ?1 ORDER BY id LIMIT ?2")
        .map_err(sql)?;
    loop {
        let done: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM api_usage_logs WHERE id <= ?1",
                params![cursor],
                |r| r.get(0),
            )
            .map_err(sql)?;
        progress(CopyProgress {
            done: u64::try_from(done).unwrap_or(0),
            total: u64::try_from(total).unwrap_or(0),
        });
        let rows: Vec<(i64, Result<PricedRecord, String>)> = stmt
            .query_map(params![cursor, CHUNK], priced)
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        let Some(&(last, _)) = rows.last() else { break };
        let mut records = Vec::with_capacity(rows.len());
        for (_, r) in rows {
            records.push(r?);
        }
        let first_id = id_block(&client).await.map_err(db)?;
        let mut by_user: BTreeMap<&str, Vec<(i64, &PricedRecord)>> = BTreeMap::new();
        for (i, r) in (first_id..).zip(&records) {
            by_user.entry(&r.record.user).or_default().push((i, r));
        }
        let tx = client.transaction().await.map_err(db)?;
        for (user, rows) in &by_user {
            scope_to(&tx, user).await.map_err(db)?;
            let inserted = insert(&tx, rows).await.map_err(|e| e.to_string())?;
            let mut daily = Daily::new();
            for (id, r) in rows {
                if inserted.contains(id) {
                    add_to_daily(&mut daily, user, &r.event());
                }
            }
            write_daily(&tx, &daily).await.map_err(|e| e.to_string())?;
            report.usage += inserted.len() as u64;
            report.usage_already_there += (rows.len() - inserted.len()) as u64;
        }
        tx.execute_typed("SELECT set_config('byokit.scope', 'service', true)", &[])
            .await
            .map_err(db)?;
        tx.execute_typed(
            "UPDATE byokit_store_copies SET usage_copied_through = $2, updated_at = now()
             WHERE source = $1",
            &[(&source, Type::TEXT), (&last, Type::INT8)],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        cursor = last;
    }
    Ok(())
}
