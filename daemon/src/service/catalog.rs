//! The daemon's catalog: prices for every record (`price`), read again from its files without a
//! restart (`catalog.reload`, SIGHUP), shown to clients (`catalog.get`), and applied afresh to
//! records that had no exact price (`usage.reprice`).

use std::sync::Arc;

use byokit_core::protocol::{
    CatalogGetResult, CatalogReloadResult, UsageRecordParams, UsageRepriceResult,
    UsageSummaryParams,
};
use byokit_core::{Catalog, CostStatus, Window};
use time::OffsetDateTime;

use super::{internal, invalid, Result, Service};
use crate::store::{PricedRecord, Repriced};

impl Service {
    /// A record priced with the catalog as it is now, at the prices in force on the call's day
    /// (the record's `at`, else `now`).
    pub(crate) fn price(&self, record: UsageRecordParams, now: OffsetDateTime) -> PricedRecord {
        let catalog = self.catalog();
        let at = record.at.unwrap_or(now);
        let (cost_usd, cost_status) =
            catalog.recorded_cost(record.provider, &record.model, &record.usage, at.date());
        PricedRecord {
            record,
            at,
            cost_usd,
            cost_status,
            catalog_version: catalog.version().to_owned(),
        }
    }

    /// `catalog.reload`: reads the catalog files again and prices with them from now on. A file
    /// that cannot be read or parsed leaves the catalog as it was.
    pub fn reload_catalog(&self) -> Result<CatalogReloadResult> {
        let sources = crate::catalog_files::read(&self.options.catalog).map_err(invalid)?;
        let today = OffsetDateTime::now_utc().date();
        let catalog = crate::catalog_files::build(&sources, None, today).map_err(invalid)?;
        let result = CatalogReloadResult {
            catalog_version: catalog.version().to_owned(),
            files: sources.iter().map(|s| s.name.clone()).collect(),
            models: catalog.models(None).count() as u64,
        };
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
        *self
            .catalog_sources
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(sources);
        Ok(result)
    }

    /// `catalog.get`: the files the daemon merged over the built-in catalog.
    pub fn catalog_get(&self) -> CatalogGetResult {
        let sources = Arc::clone(
            &self
                .catalog_sources
                .read()
                .unwrap_or_else(|e| e.into_inner()),
        );
        CatalogGetResult {
            catalog_version: self.catalog().version().to_owned(),
            files: sources.as_ref().clone(),
        }
    }

    /// `usage.reprice`: the user's unpriced and estimated records of the last `days` days,
    /// priced again with the catalog as it is now; exact ones are never touched.
    pub async fn usage_reprice(&self, p: UsageSummaryParams) -> Result<UsageRepriceResult> {
        let window =
            Window::new(OffsetDateTime::now_utc(), p.days).map_err(|e| invalid(e.to_string()))?;
        let catalog: Arc<Catalog> = self.catalog();
        let records = self.store.inexact_records(&p.user, window.start()).await?;
        let looked_at = records.len() as u64;
        let changes: Vec<Repriced> = records
            .into_iter()
            .filter_map(|(id, e)| {
                let (cost_usd, cost_status) =
                    catalog.recorded_cost(e.provider, &e.model, &e.usage, e.at.date());
                let changed = cost_status != e.cost_status || cost_usd != e.cost_usd;
                (changed && e.cost_status != CostStatus::Exact).then(|| Repriced {
                    id,
                    from_status: e.cost_status,
                    cost_usd,
                    cost_status,
                    catalog_version: catalog.version().to_owned(),
                })
            })
            .collect();
        let repriced = if changes.is_empty() {
            0
        } else {
            self.store.reprice(&p.user, changes).await?
        };
        Ok(UsageRepriceResult {
            repriced,
            unchanged: looked_at
                .checked_sub(repriced)
                .ok_or_else(|| internal("the store repriced more records than it was given"))?,
            catalog_version: catalog.version().to_owned(),
        })
    }
}
