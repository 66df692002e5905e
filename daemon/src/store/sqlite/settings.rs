//! Each user's budget, its alerts and their routing settings.

use super::*;

/// Stores the budget alerts that the month's spending now reaches, once each.
pub(super) fn fire_alerts(
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

pub(super) fn set_routing(
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

pub(super) fn routing(tx: &Transaction<'_>, user: &str) -> Result<RoutingSettings, StoreError> {
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

pub(super) fn set_budget(tx: &Transaction<'_>, user: &str, b: &Budget) -> Result<(), StoreError> {
    let thresholds: Vec<String> = b.alert_thresholds.iter().map(u8::to_string).collect();
    tx.execute(
        "INSERT INTO budgets (clerk_id, monthly_limit_usd, policy, alert_thresholds, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (clerk_id) DO UPDATE SET monthly_limit_usd = ?2, policy = ?3, alert_thresholds = ?4, updated_at = ?5",
        params![user, b.monthly_limit_usd.to_string(), b.policy.as_str(), thresholds.join(","), ms(OffsetDateTime::now_utc())],
    )?;
    Ok(())
}

pub(super) fn budget_status(
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

pub(crate) fn get_budget(tx: &Connection, user: &str) -> Result<Option<Budget>, StoreError> {
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
        policy: parse_policy(&policy)?,
        alert_thresholds: thresholds
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<u8>()
                    .map_err(|_| StoreError::Damaged(format!("alert threshold {t:?}")))
            })
            .collect::<Result<_, _>>()?,
    }))
}

pub(super) fn alerts(tx: &Transaction<'_>, user: &str) -> Result<Vec<Alert>, StoreError> {
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
        out.push(Alert {
            month: parse_month(&month)?,
            threshold_percent: pct,
            spent_usd: parse_decimal(&spent)?,
            limit_usd: parse_decimal(&limit)?,
        });
    }
    Ok(out)
}
