//! Usage records into PostgreSQL: a writer task groups the records that arrive together into
//! one transaction (one multi-row insert per user, from arrays), keeps the daily totals and the
//! budget alerts in the same transaction, and acknowledges each record only once it has
//! committed. Ids come in blocks from a sequence, so that a call can be answered with its
//! record's id before the commit, by any number of byokd at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use byokit_core::budget::{Budget, FiredAlerts, Month};
use byokit_core::protocol::UsageRecordResult;
use byokit_core::{Decimal, UsageEvent};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

use super::{budget, int, status, to_ms};
use crate::store::{add_to_daily, Acknowledgement, Commit, Daily, PricedRecord, StoreError};

/// Adds daily totals to the stored ones (each row updated in place, under its lock).
pub(super) async fn write_daily(tx: &Transaction<'_>, daily: &Daily) -> Result<(), StoreError> {
    if daily.is_empty() {
        return Ok(());
    }
    let mut keys: [Vec<&str>; 5] = Default::default();
    let mut days: Vec<time::Date> = Vec::with_capacity(daily.len());
    let mut n: [Vec<i64>; 6] = Default::default();
    let mut cost: Vec<Decimal> = Vec::with_capacity(daily.len());
    for ((user, day, provider, payer, feature, model), t) in daily {
        days.push(*day);
        for (v, k) in keys.iter_mut().zip([
            user.as_str(),
            provider.as_str(),
            payer.as_str(),
            feature,
            model,
        ]) {
            v.push(k);
        }
        for (v, (what, x)) in n.iter_mut().zip([
            ("requests", t.requests),
            ("input_tokens", t.input_tokens),
            ("output_tokens", t.output_tokens),
            ("total_tokens", t.total_tokens),
            ("unpriced_requests", t.unpriced_requests),
            ("estimated_requests", t.estimated_requests),
        ]) {
            v.push(int(what, x)?);
        }
        cost.push(t.cost_usd);
    }
    tx.execute_typed(
        "INSERT INTO usage_daily (clerk_id, day, provider, payer, feature, model, requests,
           input_tokens, output_tokens, total_tokens, unpriced_requests, estimated_requests, cost_usd)
         SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[],
           $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[],
           $13::numeric[])
         ON CONFLICT (clerk_id, day, provider, payer, feature, model) DO UPDATE SET
           requests = usage_daily.requests + EXCLUDED.requests,
           input_tokens = usage_daily.input_tokens + EXCLUDED.input_tokens,
           output_tokens = usage_daily.output_tokens + EXCLUDED.output_tokens,
           total_tokens = usage_daily.total_tokens + EXCLUDED.total_tokens,
           unpriced_requests = usage_daily.unpriced_requests + EXCLUDED.unpriced_requests,
           estimated_requests = usage_daily.estimated_requests + EXCLUDED.estimated_requests,
           cost_usd = usage_daily.cost_usd + EXCLUDED.cost_usd",
        &[
            (&keys[0], Type::TEXT_ARRAY),
            (&days, Type::DATE_ARRAY),
            (&keys[1], Type::TEXT_ARRAY),
            (&keys[2], Type::TEXT_ARRAY),
            (&keys[3], Type::TEXT_ARRAY),
            (&keys[4], Type::TEXT_ARRAY),
            (&n[0], Type::INT8_ARRAY),
            (&n[1], Type::INT8_ARRAY),
            (&n[2], Type::INT8_ARRAY),
            (&n[3], Type::INT8_ARRAY),
            (&n[4], Type::INT8_ARRAY),
            (&n[5], Type::INT8_ARRAY),
            (&cost, Type::NUMERIC_ARRAY),
        ],
    )
    .await?;
    Ok(())
}

/// How many ids a byokd takes from the sequence at a time: the sequence's `INCREMENT BY`
/// (daemon/migrations/postgres/0001_tables.sql), so that each `nextval` is a block of its own.
pub(super) const ID_BLOCK: i64 = 1000;

/// The first id of a block of [`ID_BLOCK`] ids no other byokd (or copy) will use.
pub(super) async fn id_block(client: &tokio_postgres::Client) -> Result<i64, StoreError> {
    Ok(client
        .query_typed_one("SELECT nextval('api_usage_logs_id_blocks')", &[])
        .await?
        .get(0))
}

/// The most records in one transaction.
const MAX_BATCH: usize = 4096;

/// How often a lingering batch looks for more.
const LINGER_STEP: Duration = Duration::from_micros(250);

/// How many times a batch is tried when the database asks for a retry (a deadlock, a
/// serialization failure).
const TRIES: usize = 5;

/// A record on its way to the writer.
struct Pending {
    id: i64,
    record: PricedRecord,
    reply: oneshot::Sender<Result<UsageRecordResult, StoreError>>,
}

enum Message {
    Record(Box<Pending>, Commit),
    Flush(oneshot::Sender<Result<(), StoreError>>),
}

impl Message {
    fn can_wait(&self) -> bool {
        matches!(self, Message::Record(_, Commit::Soon))
    }
}

/// The handle to the writer task.
pub(super) struct Writer {
    queue: mpsc::UnboundedSender<Message>,
    pool: Pool,
    /// The next id and the end of this byokd's block.
    ids: Arc<tokio::sync::Mutex<(i64, i64)>>,
}

impl Writer {
    /// Starts the writer task on `pool`.
    pub(super) fn start(pool: Pool) -> Writer {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool.clone(), rx));
        Writer {
            queue,
            pool,
            ids: Arc::new(tokio::sync::Mutex::new((0, 0))),
        }
    }

    async fn next_id(&self) -> Result<i64, StoreError> {
        let mut ids = self.ids.lock().await;
        if ids.0 >= ids.1 {
            let start = id_block(&*self.pool.get().await?).await?;
            *ids = (start, start + ID_BLOCK);
        }
        let id = ids.0;
        ids.0 += 1;
        Ok(id)
    }

    /// Sends a record; answers its id and the acknowledgement that comes after the commit.
    pub(super) async fn record(
        &self,
        record: PricedRecord,
        commit: Commit,
    ) -> Result<(i64, Acknowledgement), StoreError> {
        let id = self.next_id().await?;
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Message::Record(
                Box::new(Pending { id, record, reply }),
                commit,
            ))
            .map_err(|_| StoreError::Closed)?;
        Ok((id, rx))
    }

    /// Waits until every record sent before has committed.
    pub(super) async fn flush(&self) -> Result<(), StoreError> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Message::Flush(reply))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// How many batches a byokd may have in flight at once, each on a connection of its own. One:
/// measured with `daemon/benches/postgres.rs` on this 2-core machine, four in flight gave fewer
/// records a second (48,179 against 52,484) and a p99 three times as long (131 ms against 45 ms
/// at the same rate), the batches waiting on each other's locks of the same daily rows, while
/// the next batch forms anyway during a commit.
const IN_FLIGHT: usize = 1;

async fn run(pool: Pool, mut rx: mpsc::UnboundedReceiver<Message>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    // Whether the batch before has finished (a flush is answered only once every batch sent
    // before it has).
    let mut previous: Option<oneshot::Receiver<()>> = None;
    while let Some(first) = rx.recv().await {
        let deadline = Instant::now() + crate::store::LINGER;
        let mut wait = first.can_wait();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => {
                    wait &= m.can_wait();
                    batch.push(m);
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if !wait || left.is_zero() {
                        break;
                    }
                    tokio::time::sleep(left.min(LINGER_STEP)).await;
                }
            }
        }
        let mut records = Vec::new();
        let mut flushes = Vec::new();
        for m in batch {
            match m {
                Message::Record(p, _) => records.push(*p),
                Message::Flush(reply) => flushes.push(reply),
            }
        }
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (done, next) = oneshot::channel();
        let before = previous.replace(next);
        let pool = pool.clone();
        tokio::spawn(async move {
            if let Err(e) = commit(&pool, records).await {
                for reply in flushes.drain(..) {
                    let _ = reply.send(Err(StoreError::Database(format!(
                        "a record was not stored: {e}"
                    ))));
                }
            }
            drop(slot);
            if let Some(before) = before {
                let _ = before.await;
            }
            for reply in flushes {
                let _ = reply.send(Ok(()));
            }
            let _ = done.send(());
        });
    }
}

/// Writes one batch (tried again when the database asks) and answers each record.
async fn commit(pool: &Pool, records: Vec<Pending>) -> Result<(), String> {
    if records.is_empty() {
        return Ok(());
    }
    let mut outcome = Err(StoreError::Closed);
    for attempt in 1..=TRIES {
        outcome = write(pool, &records).await;
        match &outcome {
            Err(StoreError::Retry(e)) if attempt < TRIES => {
                tracing::debug!(target: crate::LOG, "a storage batch is tried again: {e}");
            }
            _ => break,
        }
    }
    match outcome {
        Ok(results) => {
            for (p, result) in records.into_iter().zip(results) {
                let _ = p.reply.send(Ok(result));
            }
            Ok(())
        }
        Err(e) => {
            tracing::error!(
                target: crate::LOG,
                "a storage batch of {} record(s) failed: {e}",
                records.len()
            );
            let failed = || StoreError::Database(format!("the record was not stored: {e}"));
            for p in records {
                let _ = p.reply.send(Err(failed()));
            }
            Err(e.to_string())
        }
    }
}

/// One batch in one transaction: each user's records (in the order of their users, so that
/// every byokd locks rows in the same order) as a multi-row insert, the daily totals, alerts.
///
/// The statements of all users are pipelined: each user's `set_config` and insert (and whether
/// the user has a budget) go out together, answered in one round trip, then each user's daily
/// totals likewise; only duplicates and users with a budget take round trips of their own.
async fn write(pool: &Pool, records: &[Pending]) -> Result<Vec<UsageRecordResult>, StoreError> {
    let mut by_user: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in records.iter().enumerate() {
        by_user.entry(&p.record.record.user).or_default().push(i);
    }
    let rows: Vec<Vec<(i64, &PricedRecord)>> = by_user
        .values()
        .map(|indexes| {
            indexes
                .iter()
                .map(|&i| (records[i].id, &records[i].record))
                .collect()
        })
        .collect();
    let mut client = pool.get().await?;
    let txn = client.transaction().await.map_err(retryable)?;
    let tx: &Transaction<'_> = &txn;
    // 1. Per user, pipelined in order (each future sends its statement when first polled, and
    //    both joins poll in order): who, the insert, the budget.
    let answers = futures_util::future::try_join_all(by_user.keys().zip(&rows).map(
        |(user, rows)| async move {
            let ((), inserted, budget) =
                futures_util::try_join!(scope_to(tx, user), insert(tx, rows), budget(tx, user))?;
            Ok::<_, StoreError>((inserted, budget))
        },
    ))
    .await?;
    let mut results: Vec<Option<UsageRecordResult>> = vec![None; records.len()];
    let mut dailies = Vec::with_capacity(by_user.len());
    for ((user, indexes), (inserted, budget)) in by_user.iter().zip(&answers) {
        let mut daily = Daily::new();
        let mut new_events = Vec::new();
        let mut duplicates = Vec::new();
        for &i in indexes {
            let p = &records[i];
            if inserted.contains(&p.id) {
                let event = p.record.event();
                add_to_daily(&mut daily, user, &event);
                new_events.push((p, event));
                results[i] = Some(UsageRecordResult {
                    id: p.id,
                    cost_usd: p.record.cost_usd,
                    cost_status: p.record.cost_status,
                    catalog_version: p.record.catalog_version.clone(),
                    duplicate: false,
                });
            } else {
                duplicates.push(i);
            }
        }
        // 2. Retries of stored records, and alerts: this user's own round trips.
        if !duplicates.is_empty() || budget.is_some() {
            scope_to(tx, user).await?;
            for i in duplicates {
                results[i] = Some(stored_record(tx, &records[i]).await?);
            }
            if let Some(budget) = budget {
                fire_alerts(tx, user, budget, &new_events).await?;
            }
        }
        dailies.push((*user, daily));
    }
    // 3. Per user, pipelined in order: who, the daily totals.
    futures_util::future::try_join_all(dailies.iter().filter(|(_, d)| !d.is_empty()).map(
        |(user, daily)| async move {
            futures_util::try_join!(scope_to(tx, user), write_daily(tx, daily)).map(|_| ())
        },
    ))
    .await?;
    txn.commit().await.map_err(retryable)?;
    let results: Vec<UsageRecordResult> = results
        .into_iter()
        .map(|r| r.ok_or_else(|| StoreError::Damaged("a record without an answer".into())))
        .collect::<Result<_, _>>()?;
    Ok(results)
}

/// Names the user the transaction's next statements are for (row-level security's scope).
pub(super) async fn scope_to(tx: &Transaction<'_>, user: &str) -> Result<(), StoreError> {
    tx.execute_typed(
        "SELECT set_config('byokit.user', $1, true)",
        &[(&user, Type::TEXT)],
    )
    .await
    .map_err(retryable)?;
    Ok(())
}

/// A database error, marked for a retry when the database asks for one.
fn retryable(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::T_R_SERIALIZATION_FAILURE =>
        {
            StoreError::Retry(StoreError::from(e).to_string())
        }
        _ => e.into(),
    }
}

/// Inserts one user's records; answers the ids inserted (the others' idempotency keys were
/// taken).
pub(super) async fn insert(
    tx: &Transaction<'_>,
    group: &[(i64, &PricedRecord)],
) -> Result<BTreeSet<i64>, StoreError> {
    let len = group.len();
    let mut ids = Vec::with_capacity(len);
    let mut text: [Vec<&str>; 7] = Default::default();
    let mut n: [Vec<i64>; 8] = Default::default();
    let mut estimated = Vec::with_capacity(len);
    let mut cost: Vec<Option<Decimal>> = Vec::with_capacity(len);
    let mut keys: Vec<Option<&str>> = Vec::with_capacity(len);
    let mut latency: Vec<Option<i64>> = Vec::with_capacity(len);
    let mut at = Vec::with_capacity(len);
    for &(id, p) in group {
        let (r, u) = (&p.record, &p.record.usage);
        let (input, output) = u.sent_and_received(r.provider);
        ids.push(id);
        for (v, s) in text.iter_mut().zip([
            r.user.as_str(),
            r.provider.as_str(),
            r.model.as_str(),
            r.feature.as_deref().unwrap_or(""),
            r.payer.as_str(),
            p.cost_status.as_str(),
            p.catalog_version.as_str(),
        ]) {
            v.push(s);
        }
        for (v, (what, x)) in n.iter_mut().zip([
            ("input_tokens", u.input_tokens),
            ("output_tokens", u.output_tokens),
            ("cached_input_tokens", u.cached_input_tokens),
            ("cache_write_tokens", u.cache_write_tokens),
            ("reasoning_tokens", u.reasoning_tokens),
            ("billed input tokens", input),
            ("billed output tokens", output),
            ("total_tokens", input.saturating_add(output)),
        ]) {
            v.push(int(what, x)?);
        }
        estimated.push(u.estimated);
        cost.push(p.cost_usd);
        keys.push(r.idempotency_key.as_deref());
        latency.push(r.latency_ms.map(|v| int("latency_ms", v)).transpose()?);
        at.push(to_ms(p.at));
    }
    let outcomes: Vec<&str> = group
        .iter()
        .map(|(_, p)| p.record.outcome.as_deref().unwrap_or("ok"))
        .collect();
    let rows = tx
        .query_typed(
            "INSERT INTO api_usage_logs (id, clerk_id, provider, model, feature, payer, cost_status,
               catalog_version, prompt_tokens, completion_tokens, cached_input_tokens,
               cache_write_tokens, reasoning_tokens, input_tokens, output_tokens, total_tokens,
               usage_estimated, estimated_cost_usd, idempotency_key, latency_ms, created_at, outcome)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
               $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::bigint[],
               $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],
               $17::boolean[], $18::numeric[], $19::text[], $20::bigint[], $21::timestamptz[],
               $22::text[])
             ON CONFLICT (clerk_id, idempotency_key) DO NOTHING
             RETURNING id",
            &[
                (&ids, Type::INT8_ARRAY),
                (&text[0], Type::TEXT_ARRAY),
                (&text[1], Type::TEXT_ARRAY),
                (&text[2], Type::TEXT_ARRAY),
                (&text[3], Type::TEXT_ARRAY),
                (&text[4], Type::TEXT_ARRAY),
                (&text[5], Type::TEXT_ARRAY),
                (&text[6], Type::TEXT_ARRAY),
                (&n[0], Type::INT8_ARRAY),
                (&n[1], Type::INT8_ARRAY),
                (&n[2], Type::INT8_ARRAY),
                (&n[3], Type::INT8_ARRAY),
                (&n[4], Type::INT8_ARRAY),
                (&n[5], Type::INT8_ARRAY),
                (&n[6], Type::INT8_ARRAY),
                (&n[7], Type::INT8_ARRAY),
                (&estimated, Type::BOOL_ARRAY),
                (&cost, Type::NUMERIC_ARRAY),
                (&keys, Type::TEXT_ARRAY),
                (&latency, Type::INT8_ARRAY),
                (&at, Type::TIMESTAMPTZ_ARRAY),
                (&outcomes, Type::TEXT_ARRAY),
            ],
        )
        .await
        .map_err(retryable)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The record stored earlier under the same idempotency key, answering its retry.
async fn stored_record(tx: &Transaction<'_>, p: &Pending) -> Result<UsageRecordResult, StoreError> {
    let r = &p.record.record;
    let row = tx
        .query_typed_opt(
            "SELECT id, estimated_cost_usd, cost_status, catalog_version FROM api_usage_logs
             WHERE clerk_id = $1 AND idempotency_key = $2",
            &[(&r.user, Type::TEXT), (&r.idempotency_key, Type::TEXT)],
        )
        .await
        .map_err(retryable)?
        .ok_or_else(|| StoreError::Damaged(format!("usage id {} is taken", p.id)))?;
    Ok(UsageRecordResult {
        id: row.get(0),
        cost_usd: row.get(1),
        cost_status: status(row.get(2))?,
        catalog_version: row.get(3),
        duplicate: true,
    })
}

/// Stores the budget alerts that the user's spending reaches with each new record, once each,
/// with the spending at the record that crossed them.
async fn fire_alerts(
    tx: &Transaction<'_>,
    user: &str,
    budget: &Budget,
    new: &[(&Pending, UsageEvent)],
) -> Result<(), StoreError> {
    let paid = |e: &UsageEvent| e.user_spend().is_some();
    if !new.iter().any(|(_, e)| paid(e)) {
        return Ok(());
    }
    // Each month's spending before this batch, and its alerts fired so far.
    let mut months: HashMap<Month, (Decimal, FiredAlerts)> = HashMap::new();
    for (_, e) in new {
        if !paid(e) {
            continue;
        }
        let month = Month::containing(e.at);
        if let std::collections::hash_map::Entry::Vacant(slot) = months.entry(month) {
            let spent = super::usage::user_spent(tx, user, month).await?;
            let fired: Vec<i16> = tx
                .query_typed(
                    "SELECT threshold_percent FROM alerts WHERE clerk_id = $1 AND month = $2",
                    &[(&user, Type::TEXT), (&month.to_string(), Type::TEXT)],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let thresholds = fired
                .into_iter()
                .filter_map(|t| u8::try_from(t).ok())
                .collect();
            slot.insert((
                spent,
                FiredAlerts {
                    month: Some(month),
                    thresholds,
                },
            ));
        }
    }
    // Record by record, as they arrived: the spending after each, and what it crosses.
    for (_, e) in new {
        let month = Month::containing(e.at);
        let Some((spent, fired)) = months.get_mut(&month) else {
            continue;
        };
        let Some(added) = e.user_spend() else {
            continue;
        };
        *spent += added;
        for alert in budget.alerts(fired, *spent, e.at) {
            tx.execute_typed(
                "INSERT INTO alerts (clerk_id, month, threshold_percent, spent_usd, limit_usd, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (clerk_id, month, threshold_percent) DO NOTHING",
                &[
                    (&user, Type::TEXT),
                    (&month.to_string(), Type::TEXT),
                    (&i16::from(alert.threshold_percent), Type::INT2),
                    (&alert.spent_usd, Type::NUMERIC),
                    (&alert.limit_usd, Type::NUMERIC),
                    (&e.at, Type::TIMESTAMPTZ),
                ],
            )
            .await?;
        }
    }
    Ok(())
}
