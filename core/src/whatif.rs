//! What-if pricing: what the same work costs on every model of the catalog.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::cost::{BillableTokens, CostOptions, CostStatus, Usage};
use crate::provider::Provider;
use crate::routing::KeyLimits;
use crate::usage::UsageEvent;

/// One call's work, independent of how any provider counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Workload {
    /// Every prompt token, cached or not.
    pub prompt_tokens: u64,
    /// The part of the prompt served from a prompt cache.
    pub cached_prompt_tokens: u64,
    /// Every output token, reasoning included.
    pub output_tokens: u64,
}

impl Workload {
    /// The work of a recorded call (cache writes count as prompt tokens).
    pub fn of(event: &UsageEvent) -> Workload {
        let b = BillableTokens::clamped(event.provider, &event.usage);
        Workload {
            prompt_tokens: b.prompt_tokens(),
            cached_prompt_tokens: b.cached_input,
            output_tokens: b.output_tokens(),
        }
    }

    /// The usage `provider` would report for this work.
    pub fn usage_for(&self, provider: Provider) -> Usage {
        let cached = self.cached_prompt_tokens.min(self.prompt_tokens);
        BillableTokens {
            input: self.prompt_tokens - cached,
            cached_input: cached,
            cache_write: 0,
            output: self.output_tokens,
            reasoning: 0,
        }
        .to_usage(provider)
    }
}

/// The cost of the work on one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatIf {
    /// Provider.
    pub provider: Provider,
    /// Model id.
    pub model: String,
    /// The exact cost of all the work; `None` when a part cannot be priced.
    pub cost_usd: Option<Decimal>,
    /// The work fits the provider's free tier, so it costs nothing (Groq: 7,000 requests a day).
    pub free_tier: bool,
}

/// Prices `work` (each workload with how many calls of it) on every current model of the
/// catalog, cheapest first (unpriced last). `days` is the span the calls are spread over, to
/// judge free tiers: Groq's is free within 7,000 requests a day (its per-minute and token limits
/// are assumed met by spreading).
pub fn what_if(catalog: &Catalog, work: &[(Workload, u64)], days: u32) -> Vec<WhatIf> {
    let calls: u64 = work.iter().map(|(_, n)| n).sum();
    let per_day = calls.div_ceil(u64::from(days.max(1)));
    let groq_free = KeyLimits::groq_free_tier()
        .requests_per_day
        .is_some_and(|l| per_day <= u64::from(l));
    let mut rows: Vec<WhatIf> = catalog
        .models(None)
        .filter(|m| !m.deprecated)
        .map(|m| {
            let mut total = Some(Decimal::ZERO);
            for (w, n) in work {
                let cost = m.cost(
                    catalog.version(),
                    &w.usage_for(m.provider),
                    &CostOptions::default(),
                );
                total = match (total, cost) {
                    (Some(t), Ok(c)) if c.status != CostStatus::Unpriced => {
                        c.cost_usd.map(|c| t + c * Decimal::from(*n))
                    }
                    _ => None,
                };
            }
            let free_tier = m.provider == Provider::Groq && groq_free;
            WhatIf {
                provider: m.provider,
                model: m.id.clone(),
                cost_usd: if free_tier {
                    Some(Decimal::ZERO)
                } else {
                    total.map(|t| t.normalize())
                },
                free_tier,
            }
        })
        .collect();
    rows.sort_by(|a, b| match (a.cost_usd, b.cost_usd) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.model.cmp(&b.model)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.model.cmp(&b.model),
    });
    rows
}
