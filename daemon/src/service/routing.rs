//! `route`, and the routing every call goes through: the user's inputs from the store, what
//! byokd has learnt about each key, and the system key's monthly cap, held by the store.

use std::sync::Arc;

use byokit_core::budget::Month;
use byokit_core::protocol::{Error, ErrorKind, RouteParams};
use byokit_core::routing::{KeyLimits, UserKey};
use byokit_core::{
    route_in_catalog, Decision, KeyStatus, Ledger, Payer, RouteRequest, RoutingConfig,
};
use time::OffsetDateTime;

use super::{Result, Service};
use crate::store::{HoldRequest, RoutingInputs, SystemHold};

/// What byokd has learnt about a key from its calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySeen {
    pub(crate) last_used_at: Option<OffsetDateTime>,
    pub(crate) status: KeyStatus,
}

/// How many times a call routes again when another call took the system key's room between
/// its routing and its hold; past that it is refused as over the cap.
const HOLD_TRIES: usize = 8;

/// A routing decision with what was read to make it.
pub(crate) struct Routed {
    pub(crate) decision: Decision,
    pub(crate) inputs: Arc<RoutingInputs>,
    /// The system-key tokens the call holds, when the system key pays for it.
    pub(crate) system_hold: Option<SystemHold>,
}

impl Service {
    /// `route`: which provider, model and key would serve a call, without making it.
    pub async fn route(&self, p: RouteParams) -> Result<Decision> {
        Ok(self.decide(p, false).await?.decision)
    }

    /// What byokd has learnt about a key from a call: `Ok` when it served (it was used now).
    pub(crate) fn learn(&self, key_id: &str, status: KeyStatus) {
        let mut seen = self.keys_seen.lock().unwrap_or_else(|e| e.into_inner());
        let k = seen.entry(key_id.to_owned()).or_default();
        if status == KeyStatus::Ok {
            k.last_used_at = Some(OffsetDateTime::now_utc());
        }
        k.status = status;
    }

    /// Routes a call for the user: the decision, and the user's routing inputs (configurations,
    /// settings, budget). With `hold`, a call that the system key pays for holds its tokens in
    /// the store until its record is durable, so that calls running at once (in this byokd or
    /// another on the same store) cannot pass the monthly cap together: the store takes a hold
    /// only if the month's recorded and held tokens leave room for it, and a call that finds the
    /// room gone routes again with the new figures.
    pub(crate) async fn decide(&self, p: RouteParams, hold: bool) -> Result<Routed> {
        for _ in 0..HOLD_TRIES {
            let now = OffsetDateTime::now_utc();
            let month = Month::containing(now);
            // The user's configurations and settings come from memory unless they changed; the
            // system key's month is read only when there is a system key.
            let system_tokens = async {
                match self.system() {
                    Some(_) => self.store.system_tokens(&p.user, month, now).await,
                    None => Ok(0),
                }
            };
            let (inputs, used) =
                tokio::try_join!(self.store.routing_inputs(&p.user), system_tokens)?;
            let config = self.routing_config(&inputs, now);
            let request = RouteRequest {
                feature: p.feature.clone(),
                model: p.model.clone(),
                estimated_tokens: p.estimated_tokens,
            };
            let decision =
                route_in_catalog(&self.catalog(), &config, &Ledger::new(used), &request, now)
                    .map_err(|e| Error::new(ErrorKind::from_route(&e, now), e.to_string()))?;
            let system_hold = match (hold, decision.payer, self.system()) {
                (true, Payer::System, Some(system)) => {
                    let request = HoldRequest {
                        user: p.user.clone(),
                        month,
                        tokens: p.estimated_tokens,
                        cap: system.monthly_token_cap,
                        ttl: time::Duration::try_from(self.options.timeouts.total)
                            .unwrap_or(time::Duration::MINUTE * 10)
                            + time::Duration::MINUTE,
                        now,
                    };
                    match self.store.hold_system_tokens(request).await? {
                        Some(hold) => Some(hold),
                        None => continue, // the room went to another call: route again
                    }
                }
                _ => None,
            };
            self.admit_budget(&p.user, &decision, &inputs, now).await?;
            return Ok(Routed {
                decision,
                inputs,
                system_hold,
            });
        }
        Err(Error::new(
            ErrorKind::SystemCapReached,
            "the free tokens of this month are taken by calls running now; please add your own \
             API key to continue",
        ))
    }

    /// A blocking budget stops calls on the user's own keys once the month's spending reaches
    /// it (read exactly, with every call recorded so far).
    async fn admit_budget(
        &self,
        user: &str,
        decision: &Decision,
        inputs: &RoutingInputs,
        now: OffsetDateTime,
    ) -> Result<()> {
        let (Payer::User, Some(budget)) = (decision.payer, &inputs.budget) else {
            return Ok(());
        };
        if budget.enforced_limit().is_none() {
            return Ok(());
        }
        let month = Month::containing(now);
        let spent = self
            .store
            .budget_status(user, month)
            .await?
            .map_or(byokit_core::Decimal::ZERO, |(_, status)| status.spent_usd);
        budget.admit(month, spent).map_err(|e| Error::from(&e))
    }

    /// Routing's configuration: the user's keys with what byokd has learnt of each, their
    /// settings, and the system key.
    fn routing_config(&self, inputs: &RoutingInputs, now: OffsetDateTime) -> RoutingConfig {
        let mut config = RoutingConfig {
            system: self.system().cloned(),
            fallback_chain: inputs.settings.fallback_chain.clone(),
            ..RoutingConfig::default()
        };
        config.models.by_feature = inputs.settings.feature_models.clone();
        let seen = self.keys_seen.lock().unwrap_or_else(|e| e.into_inner());
        for c in &inputs.configs {
            if let Some(model) = &c.view.model {
                config
                    .models
                    .by_provider
                    .insert(c.view.provider, model.clone());
            }
            // The active configuration is the most recently saved one.
            let saved_at = if c.view.is_active {
                now
            } else {
                c.view.saved_at
            };
            let known = seen.get(&c.view.key_id);
            config.keys.push(UserKey {
                id: c.view.key_id.clone(),
                provider: c.view.provider,
                saved_at,
                last_used_at: known.and_then(|k| k.last_used_at),
                status: known.map_or(KeyStatus::Ok, |k| k.status.clone()),
                limits: KeyLimits::default(),
            });
        }
        config
    }
}
