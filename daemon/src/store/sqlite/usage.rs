//! Usage records and what they add up to: recording (idempotent), events, summaries from the
//! daily totals, the month's spending and system-key tokens.

use super::*;

pub(super) use crate::store::summary::{day_date, day_number, day_start, far_future};

/// The summary of a window, read as [`SummaryPlan`] says.
pub(super) fn summary(
    tx: &Transaction<'_>,
    user: &str,
    window: Window,
    cap: Option<u64>,
) -> Result<UsageSummary, StoreError> {
    let plan = SummaryPlan::new(window);
    let after_end = match plan.after_end() {
        Some((from, until)) => tx
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM api_usage_logs
                 WHERE clerk_id = ?1 AND created_at > ?2 AND created_at < ?3)",
            )?
            .query_row(params![user, ms(from), ms(until)], |r| r.get::<_, bool>(0))?,
        None => false,
    };
    let (from_day, to_day) = plan.days();
    let mut groups = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT day, provider, payer, feature, model, requests, input_tokens, output_tokens, total_tokens, cost_usd,
                    unpriced_requests, estimated_requests
             FROM usage_daily WHERE clerk_id = ?1 AND day >= ?2 AND day <= ?3",
        )?;
        let rows = stmt.query_map(params![user, from_day, to_day], |r| {
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
            groups.push(DayGroup {
                day: day_date(day),
                provider: parse_provider(&provider)?,
                payer: parse_payer(&payer)?,
                feature,
                model,
                totals: Totals {
                    requests: count("requests", n[0])?,
                    input_tokens: count("input_tokens", n[1])?,
                    output_tokens: count("output_tokens", n[2])?,
                    total_tokens: count("total_tokens", n[3])?,
                    cost_usd: parse_decimal(&cost)?,
                    unpriced_requests: count("unpriced_requests", unpriced)?,
                    estimated_requests: count("estimated_requests", estimated)?,
                },
            });
        }
    }
    let reads = plan.events(after_end);
    let read = |span: Option<(OffsetDateTime, OffsetDateTime)>| match span {
        Some((from, until)) => events_between(tx, user, from, until),
        None => Ok(Vec::new()),
    };
    let (early, after_start, edge) = (
        read(reads.early)?,
        read(reads.after_start)?,
        read(reads.edge)?,
    );
    let budget = get_budget(tx, user)?;
    Ok(plan.finish(
        &groups,
        &reads,
        [&early, &after_start, &edge],
        cap,
        budget.as_ref(),
    ))
}

pub(super) fn record(
    tx: &Transaction<'_>,
    priced: PricedRecord,
    id: i64,
    daily: &mut Daily,
) -> Result<UsageRecordResult, StoreError> {
    let event = priced.event();
    let PricedRecord {
        record: p,
        at,
        cost_usd,
        cost_status: status,
        catalog_version,
    } = priced;
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
        p.payer.as_str(),
        int("input_tokens", p.usage.input_tokens)?,
        int("output_tokens", p.usage.output_tokens)?,
        int("total_tokens", p.usage.total_tokens(p.provider))?,
        int("cached_input_tokens", p.usage.cached_input_tokens)?,
        int("cache_write_tokens", p.usage.cache_write_tokens)?,
        int("reasoning_tokens", p.usage.reasoning_tokens)?,
        p.usage.estimated,
        cost_text,
        status.as_str(),
        catalog_version,
        p.idempotency_key,
        p.latency_ms.map(|v| int("latency_ms", v)).transpose()?,
        p.outcome.as_deref().unwrap_or("ok"),
        ms(at),
        id,
    ])?;
    if inserted == 0 {
        // The user's idempotency key is taken: a retry of a stored record, counted once.
        return stored_record(tx, &p.user, p.idempotency_key.as_deref(), id);
    }
    add_to_daily(daily, &p.user, &event);
    if event.user_spend().is_some() {
        fire_alerts(tx, &p.user, at, daily)?;
    }
    Ok(UsageRecordResult {
        id,
        cost_usd,
        cost_status: status,
        catalog_version,
        duplicate: false,
    })
}

/// The record stored earlier under `user`'s idempotency `key`, answering its retry.
pub(super) fn stored_record(
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

/// The day numbers of a month: from its first day, to the next month's first day.
pub(super) fn month_days(month: Month) -> (i64, i64) {
    (day_number(month.start()), day_number(month.next().start()))
}

/// The exact sum of the user's own-key costs in a month, added up in Rust: never an SQL `SUM`
/// over text or floats. Read from the daily totals (a month is whole UTC days), so it costs the
/// same for a user with ten calls as with a million; `pending` adds what the current batch has
/// recorded and not yet added to them.
pub(super) fn user_spent(
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
        let day = day_number(day.midnight().assume_utc());
        if u == user && *payer == Payer::User && (from..to).contains(&day) {
            total += t.cost_usd;
        }
    }
    Ok(total)
}

/// Tokens the user has used through the system key in a month, from the daily totals.
pub(super) fn system_tokens(
    tx: &Transaction<'_>,
    user: &str,
    month: Month,
) -> Result<u64, StoreError> {
    let (from, to) = month_days(month);
    let total: i64 = tx
        .prepare_cached(
            "SELECT COALESCE(SUM(total_tokens), 0) FROM usage_daily
         WHERE clerk_id = ?1 AND payer = 'system' AND day >= ?2 AND day < ?3",
        )?
        .query_row(params![user, from, to], |r| r.get(0))?;
    count("system tokens", total)
}

pub(super) fn events(
    tx: &Transaction<'_>,
    user: &str,
    since: OffsetDateTime,
) -> Result<Vec<UsageEvent>, StoreError> {
    events_between(tx, user, since + time::Duration::MILLISECOND, far_future())
}

/// The user's events with `from ≤ at < until`.
pub(super) fn events_between(
    tx: &Transaction<'_>,
    user: &str,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<UsageEvent>, StoreError> {
    events_matching(tx, user, ms(from), ms(until), None)
}

/// The user's events with `from ≤ created_at < until` (in milliseconds), or only the one with
/// that `id`.
fn events_matching(
    tx: &Transaction<'_>,
    user: &str,
    from: i64,
    until: i64,
    id: Option<i64>,
) -> Result<Vec<UsageEvent>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT provider, model, feature, payer, prompt_tokens, completion_tokens, cached_input_tokens,
                cache_write_tokens, reasoning_tokens, usage_estimated, estimated_cost_usd, cost_status, created_at
         FROM api_usage_logs WHERE clerk_id = ?1 AND created_at >= ?2 AND created_at < ?3
         AND (?4 IS NULL OR id = ?4)",
    )?;
    let rows = stmt.query_map(params![user, from, until, id], |r| {
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
        out.push(UsageEvent {
            at: from_ms(at)?,
            provider: parse_provider(&provider)?,
            model,
            feature,
            payer: parse_payer(&payer)?,
            usage: usage(n, estimated)?,
            cost_usd: cost.map(|c| parse_decimal(&c)).transpose()?,
            cost_status: parse_status(&status)?,
        });
    }
    Ok(out)
}

/// The user's records after `since` whose cost is not exact, with their ids.
pub(super) fn inexact_records(
    tx: &Transaction<'_>,
    user: &str,
    since: OffsetDateTime,
) -> Result<Vec<(i64, UsageEvent)>, StoreError> {
    let ids: Vec<(i64, i64)> = tx
        .prepare_cached(
            "SELECT id, created_at FROM api_usage_logs
             WHERE clerk_id = ?1 AND created_at > ?2 AND cost_status != 'exact' ORDER BY id",
        )?
        .query_map(params![user, ms(since)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for (id, at) in ids {
        out.push((id, event_by_id(tx, user, id, at)?));
    }
    Ok(out)
}

/// One record as an event.
fn event_by_id(
    tx: &Transaction<'_>,
    user: &str,
    id: i64,
    at: i64,
) -> Result<UsageEvent, StoreError> {
    // The record's own millisecond, narrowed to its id.
    events_matching(tx, user, at, at + 1, Some(id))?
        .pop()
        .ok_or_else(|| StoreError::Damaged(format!("usage record {id}")))
}

/// Stores new prices, each only if the record's status is still the one it was repriced from
/// (never an exact one), notes each change in `usage_repriced`, and recomputes the daily
/// totals of the days touched.
pub(super) fn reprice(
    tx: &Transaction<'_>,
    user: &str,
    changes: &[Repriced],
) -> Result<u64, StoreError> {
    let now = ms(OffsetDateTime::now_utc());
    let mut days = std::collections::BTreeSet::new();
    let mut changed = 0;
    for c in changes {
        let before: Option<(Option<String>, String, i64)> = tx
            .prepare_cached(
                "SELECT estimated_cost_usd, catalog_version, created_at FROM api_usage_logs
                 WHERE id = ?1 AND clerk_id = ?2 AND cost_status = ?3 AND cost_status != 'exact'",
            )?
            .query_row(params![c.id, user, c.from_status.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((cost_before, version_before, at)) = before else {
            continue; // repriced meanwhile, or never inexact
        };
        tx.prepare_cached(
            "UPDATE api_usage_logs SET estimated_cost_usd = ?1, cost_status = ?2, catalog_version = ?3
             WHERE id = ?4",
        )?
        .execute(params![
            c.cost_usd.map(|d| d.to_string()),
            c.cost_status.as_str(),
            c.catalog_version,
            c.id
        ])?;
        tx.prepare_cached(
            "INSERT INTO usage_repriced (usage_id, clerk_id, repriced_at, from_cost_usd, from_status,
             from_catalog_version, to_cost_usd, to_status, to_catalog_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            c.id,
            user,
            now,
            cost_before,
            c.from_status.as_str(),
            version_before,
            c.cost_usd.map(|d| d.to_string()),
            c.cost_status.as_str(),
            c.catalog_version
        ])?;
        days.insert(day_number(from_ms(at)?));
        changed += 1;
    }
    for day in days {
        tx.execute(
            "DELETE FROM usage_daily WHERE clerk_id = ?1 AND day = ?2",
            params![user, day],
        )?;
        let start = day_start(day);
        let events = events_between(tx, user, start, start + time::Duration::DAY)?;
        add_daily(tx, daily_totals(user, &events))?;
    }
    Ok(changed)
}
