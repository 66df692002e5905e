//! `usage.*`, `budget.*`, `alerts.list` and `routing.get|set`: what the user has spent and the
//! settings that govern it.

use std::collections::HashMap;

use byokit_core::budget::{Budget, Month};
use byokit_core::protocol::{
    BudgetGetResult, BudgetSetParams, Error, ErrorKind, RoutingSetParams, RoutingSettings,
    UsageRecordParams, UsageRecordResult, UsageSummaryParams, UserParams,
};
use byokit_core::{what_if, Alert, UsageEvent, UsageSummary, WhatIf, Window, Workload};
use time::OffsetDateTime;

use super::{invalid, Result, Service};
use crate::store::{Commit, StoreError};

impl Service {
    /// `usage.record`: answered once the record has committed (idempotent by its key).
    pub async fn usage_record(&self, p: UsageRecordParams) -> Result<UsageRecordResult> {
        if p.model.trim().is_empty() {
            return Err(invalid("invalid params: `model` is empty"));
        }
        let record = self.price(p, OffsetDateTime::now_utc());
        let (_, committed) = self.store.record(record, Commit::Now).await?;
        Ok(committed.await.map_err(|_| StoreError::Closed)??)
    }

    /// `usage.summary`: totals by provider, feature, model and day over the last `days` days,
    /// with the system key's quota.
    pub async fn usage_summary(&self, p: UsageSummaryParams) -> Result<UsageSummary> {
        let window = window(p.days)?;
        let cap = self.system().map(|s| s.monthly_token_cap);
        Ok(self.store.summary(&p.user, window, cap).await?)
    }

    /// `usage.export`: every usage event of the window, oldest first.
    pub async fn usage_export(&self, p: UsageSummaryParams) -> Result<Vec<UsageEvent>> {
        let window = window(p.days)?;
        let mut events = self.store.events(&p.user, window.start()).await?;
        events.sort_by_key(|e| e.at);
        Ok(events)
    }

    /// `usage.compare`: what the window's work would have cost on each model.
    pub async fn usage_compare(&self, p: UsageSummaryParams) -> Result<Vec<WhatIf>> {
        let window = window(p.days)?;
        let events = self.store.events(&p.user, window.start()).await?;
        let mut work: HashMap<Workload, u64> = HashMap::new();
        for e in &events {
            *work.entry(Workload::of(e)).or_default() += 1;
        }
        let work: Vec<(Workload, u64)> = work.into_iter().collect();
        Ok(what_if(&self.catalog(), &work, u32::from(window.days)))
    }

    /// `budget.set`.
    pub async fn budget_set(&self, p: BudgetSetParams) -> Result<Budget> {
        let budget = Budget {
            monthly_limit_usd: p.monthly_limit_usd,
            policy: p.policy,
            alert_thresholds: p.alert_thresholds,
        };
        budget
            .validate()
            .map_err(|e| invalid(format!("invalid params: {e}")))?;
        self.store.set_budget(&p.user, budget.clone()).await?;
        Ok(budget)
    }

    /// `budget.get`: the budget and where it stands this month, if the user has one.
    pub async fn budget_get(&self, p: UserParams) -> Result<Option<BudgetGetResult>> {
        let month = Month::containing(OffsetDateTime::now_utc());
        Ok(self
            .store
            .budget_status(&p.user, month)
            .await?
            .map(|(budget, status)| BudgetGetResult { budget, status }))
    }

    /// `alerts.list`: the user's budget alerts, newest first.
    pub async fn alerts(&self, p: UserParams) -> Result<Vec<Alert>> {
        Ok(self.store.alerts(&p.user).await?)
    }

    /// `routing.set`: fallback providers and per-feature models (each model checked against
    /// the catalog).
    pub async fn routing_set(&self, p: RoutingSetParams) -> Result<RoutingSettings> {
        for (feature, m) in &p.settings.feature_models {
            if let Err(e) = self.catalog().model(m.provider, &m.model) {
                return Err(Error::new(
                    ErrorKind::UnknownModel {
                        suggestions: e.suggestions.clone(),
                    },
                    format!("feature {feature:?}: {e}"),
                ));
            }
        }
        Ok(self.store.set_routing(&p.user, p.settings).await?)
    }

    /// `routing.get`.
    pub async fn routing_get(&self, p: UserParams) -> Result<RoutingSettings> {
        Ok(self.store.routing(&p.user).await?)
    }
}

/// The window of the last `days` days.
fn window(days: i64) -> Result<Window> {
    Window::new(OffsetDateTime::now_utc(), days).map_err(|e| invalid(e.to_string()))
}
