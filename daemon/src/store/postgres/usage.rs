//! Reading usage back: events, summaries from the daily totals (as [`SummaryPlan`] says), the
//! month's spending and system-key tokens; repricing.

use byokit_core::budget::{Budget, Month};
use byokit_core::usage::DayGroup;
use byokit_core::{Decimal, Totals, UsageEvent, UsageSummary, Window};
use time::OffsetDateTime;
use tokio_postgres::types::Type;
use tokio_postgres::{Row, Transaction};

use super::{count, payer, provider, status, to_ms, usage, TOKEN_COLUMNS};
use crate::store::summary::{day_date, day_number, day_start, Span, SummaryPlan};
use crate::store::{daily_totals, Repriced, StoreError};

const EVENT_COLUMNS: &str = "provider, model, feature, payer, prompt_tokens, completion_tokens,
    cached_input_tokens, cache_write_tokens, reasoning_tokens, usage_estimated,
    estimated_cost_usd, cost_status, created_at";

fn event_of(r: &Row) -> Result<UsageEvent, StoreError> {
    Ok(UsageEvent {
        at: r.get("created_at"),
        provider: provider(r.get("provider"))?,
        model: r.get("model"),
        feature: r.get("feature"),
        payer: payer(r.get("payer"))?,
        usage: usage(
            TOKEN_COLUMNS.map(|c| r.get::<_, i64>(c)),
            r.get("usage_estimated"),
        )?,
        cost_usd: r.get("estimated_cost_usd"),
        cost_status: status(r.get("cost_status"))?,
    })
}

/// The user's events with `from ≤ at < until`.
pub(super) async fn events_between(
    tx: &Transaction<'_>,
    user: &str,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<UsageEvent>, StoreError> {
    tx.query_typed(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM api_usage_logs
             WHERE clerk_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id"
        ),
        &[
            (&user, Type::TEXT),
            (&to_ms(from), Type::TIMESTAMPTZ),
            (&to_ms(until), Type::TIMESTAMPTZ),
        ],
    )
    .await?
    .iter()
    .map(event_of)
    .collect()
}

async fn events_in(
    tx: &Transaction<'_>,
    user: &str,
    span: Option<Span>,
) -> Result<Vec<UsageEvent>, StoreError> {
    match span {
        Some((from, until)) => events_between(tx, user, from, until).await,
        None => Ok(Vec::new()),
    }
}

/// The summary of a window.
pub(super) async fn summary(
    tx: &Transaction<'_>,
    user: &str,
    window: Window,
    cap: Option<u64>,
    budget: Option<&Budget>,
) -> Result<UsageSummary, StoreError> {
    let plan = SummaryPlan::new(window);
    let after_end = match plan.after_end() {
        Some((from, until)) => tx
            .query_typed_one(
                "SELECT EXISTS(SELECT 1 FROM api_usage_logs
                 WHERE clerk_id = $1 AND created_at > $2 AND created_at < $3)",
                &[
                    (&user, Type::TEXT),
                    (&to_ms(from), Type::TIMESTAMPTZ),
                    (&to_ms(until), Type::TIMESTAMPTZ),
                ],
            )
            .await?
            .get(0),
        None => false,
    };
    let (from_day, to_day) = plan.days();
    let rows = tx
        .query_typed(
            "SELECT day, provider, payer, feature, model, requests, input_tokens, output_tokens,
                    total_tokens, cost_usd, unpriced_requests, estimated_requests
             FROM usage_daily WHERE clerk_id = $1 AND day >= $2 AND day <= $3",
            &[
                (&user, Type::TEXT),
                (&day_date(from_day), Type::DATE),
                (&day_date(to_day), Type::DATE),
            ],
        )
        .await?;
    let mut groups = Vec::with_capacity(rows.len());
    for r in &rows {
        let day: time::Date = r.get(0);
        let n = |i: usize, what: &str| count(what, r.get::<_, i64>(i));
        groups.push(DayGroup {
            day,
            provider: provider(r.get(1))?,
            payer: payer(r.get(2))?,
            feature: r.get(3),
            model: r.get(4),
            totals: Totals {
                requests: n(5, "requests")?,
                input_tokens: n(6, "input_tokens")?,
                output_tokens: n(7, "output_tokens")?,
                total_tokens: n(8, "total_tokens")?,
                cost_usd: r.get(9),
                unpriced_requests: n(10, "unpriced_requests")?,
                estimated_requests: n(11, "estimated_requests")?,
            },
        });
    }
    let reads = plan.events(after_end);
    let early = events_in(tx, user, reads.early).await?;
    let after_start = events_in(tx, user, reads.after_start).await?;
    let edge = events_in(tx, user, reads.edge).await?;
    Ok(plan.finish(&groups, &reads, [&early, &after_start, &edge], cap, budget))
}

/// The exact sum of the user's own-key costs in a month, from the daily totals.
pub(super) async fn user_spent(
    tx: &Transaction<'_>,
    user: &str,
    month: Month,
) -> Result<Decimal, StoreError> {
    Ok(tx
        .query_typed_one(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM usage_daily
             WHERE clerk_id = $1 AND payer = 'user' AND day >= $2 AND day < $3",
            &[
                (&user, Type::TEXT),
                (&month.start().date(), Type::DATE),
                (&month.next().start().date(), Type::DATE),
            ],
        )
        .await?
        .get::<_, Decimal>(0)
        .normalize())
}

/// The user's system-key tokens of a month: recorded, plus what calls in flight hold at `now`.
/// Holds past their deadline are removed here, by whichever byokd comes first.
pub(super) async fn system_tokens(
    tx: &Transaction<'_>,
    user: &str,
    month: Month,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    tx.execute_typed(
        "DELETE FROM system_holds WHERE clerk_id = $1 AND expires_at <= $2",
        &[(&user, Type::TEXT), (&now, Type::TIMESTAMPTZ)],
    )
    .await?;
    // Held first: a hold is removed only after its call's record has committed, so a call is
    // counted in one or the other (for a moment in both), never in neither.
    let held: i64 = tx
        .query_typed_one(
            "SELECT COALESCE(SUM(tokens), 0)::bigint FROM system_holds
             WHERE clerk_id = $1 AND month = $2",
            &[(&user, Type::TEXT), (&month.to_string(), Type::TEXT)],
        )
        .await?
        .get(0);
    let recorded: i64 = tx
        .query_typed_one(
            "SELECT COALESCE(SUM(total_tokens), 0)::bigint FROM usage_daily
             WHERE clerk_id = $1 AND payer = 'system' AND day >= $2 AND day < $3",
            &[
                (&user, Type::TEXT),
                (&month.start().date(), Type::DATE),
                (&month.next().start().date(), Type::DATE),
            ],
        )
        .await?
        .get(0);
    Ok(count("system tokens", recorded)?.saturating_add(count("held tokens", held)?))
}

/// The user's records after `since` whose cost is not exact, with their ids.
pub(super) async fn inexact_records(
    tx: &Transaction<'_>,
    user: &str,
    since: OffsetDateTime,
) -> Result<Vec<(i64, UsageEvent)>, StoreError> {
    tx.query_typed(
        &format!(
            "SELECT {EVENT_COLUMNS}, id FROM api_usage_logs
             WHERE clerk_id = $1 AND created_at > $2 AND cost_status <> 'exact' ORDER BY id"
        ),
        &[(&user, Type::TEXT), (&to_ms(since), Type::TIMESTAMPTZ)],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get::<_, i64>("id"), event_of(r)?)))
    .collect()
}

/// Stores new prices, each only if the record's status is still the one it was repriced from
/// (never an exact one), notes each change in `usage_repriced`, and recomputes the daily totals
/// of the days touched.
pub(super) async fn reprice(
    tx: &Transaction<'_>,
    user: &str,
    changes: &[Repriced],
) -> Result<u64, StoreError> {
    let mut days = std::collections::BTreeSet::new();
    let mut changed = 0;
    for c in changes {
        let row = tx
            .query_typed_opt(
                "WITH before AS (
                   SELECT id, estimated_cost_usd, catalog_version, created_at FROM api_usage_logs
                   WHERE id = $1 AND clerk_id = $2 AND cost_status = $3 AND cost_status <> 'exact'
                   FOR UPDATE
                 ), changed AS (
                   UPDATE api_usage_logs l SET estimated_cost_usd = $4, cost_status = $5,
                     catalog_version = $6
                   FROM before WHERE l.id = before.id
                   RETURNING l.id
                 )
                 INSERT INTO usage_repriced (usage_id, clerk_id, from_cost_usd, from_status,
                   from_catalog_version, to_cost_usd, to_status, to_catalog_version)
                 SELECT before.id, $2, before.estimated_cost_usd, $3, before.catalog_version,
                   $4, $5, $6
                 FROM before JOIN changed ON changed.id = before.id
                 RETURNING (SELECT created_at FROM before)",
                &[
                    (&c.id, Type::INT8),
                    (&user, Type::TEXT),
                    (&c.from_status.as_str(), Type::TEXT),
                    (&c.cost_usd, Type::NUMERIC),
                    (&c.cost_status.as_str(), Type::TEXT),
                    (&c.catalog_version, Type::TEXT),
                ],
            )
            .await?;
        let Some(row) = row else {
            continue; // repriced meanwhile, or never inexact
        };
        let at: OffsetDateTime = row.get(0);
        days.insert(day_number(at));
        changed += 1;
    }
    for day in days {
        let start = day_start(day);
        tx.execute_typed(
            "DELETE FROM usage_daily WHERE clerk_id = $1 AND day = $2",
            &[(&user, Type::TEXT), (&day_date(day), Type::DATE)],
        )
        .await?;
        let events = events_between(tx, user, start, start + time::Duration::DAY).await?;
        super::records::write_daily(tx, &daily_totals(user, &events)).await?;
    }
    Ok(changed)
}
