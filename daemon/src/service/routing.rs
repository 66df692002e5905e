//! `route`, and the routing every call goes through: the user's inputs from the store, what
//! byokd has learnt about each key, and the system key's tokens held by the calls running now.

use std::sync::Arc;

use byokit_core::budget::Month;
use byokit_core::protocol::{Error, ErrorKind, RouteParams};
use byokit_core::routing::{KeyLimits, UserKey};
use byokit_core::{
    route_in_catalog, Decision, KeyStatus, Ledger, Payer, RouteRequest, RoutingConfig,
};
use time::OffsetDateTime;

use super::{random_hex, Result, Service};
use crate::store::{Command, RoutingInputs};

/// System-key tokens held by the calls running now, per user.
pub(crate) type SystemHolds = std::sync::Mutex<std::collections::HashMap<String, Ledger<u64>>>;

/// What byokd has learnt about a key from its calls.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySeen {
    pub(crate) last_used_at: Option<OffsetDateTime>,
    pub(crate) status: KeyStatus,
}

/// The system-key tokens a call holds while it runs (its estimate, then its actual tokens once
/// known), given back when its record has committed or when its deadline passes.
pub(crate) struct SystemHold {
    holds: Arc<SystemHolds>,
    user: String,
    id: String,
    ttl: time::Duration,
}

impl SystemHold {
    /// Holds the call's actual tokens in place of its estimate: its usage is known and on its
    /// way to the store, where routing will count it once it has committed (and the hold is
    /// dropped).
    pub(crate) fn hold_actual(&self, tokens: u64) {
        let mut holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ledger) = holds.get_mut(&self.user) {
            let _ = ledger.reserve(
                self.id.clone(),
                tokens,
                None,
                OffsetDateTime::now_utc(),
                self.ttl,
            );
        }
    }
}

impl Drop for SystemHold {
    fn drop(&mut self) {
        let mut holds = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ledger) = holds.get_mut(&self.user) {
            ledger.release(&self.id);
            if ledger.outstanding() == 0 {
                holds.remove(&self.user);
            }
        }
    }
}

/// A routing decision with what was read to make it.
pub(crate) struct Routed {
    pub(crate) decision: Decision,
    pub(crate) inputs: Arc<RoutingInputs>,
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
    /// settings, budget). With `hold`, a call that the system key pays for holds its tokens
    /// until its record has committed (see [`SystemHold`]), so that calls running at once
    /// cannot pass the monthly cap together (each is checked against the month's recorded
    /// tokens plus what the others hold).
    pub(crate) async fn decide(&self, p: RouteParams, hold: bool) -> Result<Routed> {
        // One decision at a time per user while the system key may pay: reading what is
        // recorded and holding the new call's share happen together.
        let lock = if self.system().is_some() {
            let lock = Arc::clone(
                self.system_locks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(p.user.clone())
                    .or_default(),
            );
            Some(lock.lock_owned().await)
        } else {
            None
        };
        let now = OffsetDateTime::now_utc();
        // What calls in flight hold, read before what is recorded: a hold is dropped only after
        // its call's record has committed, so a call is always in one or the other (or, for a
        // moment, in both), never in neither.
        let held = {
            let mut holds = self.system_holds.lock().unwrap_or_else(|e| e.into_inner());
            holds.get_mut(&p.user).map_or(0, |ledger| {
                ledger.expire(now);
                ledger.reserved()
            })
        };
        // The user's configurations and settings come from memory unless they changed; the
        // system key's month is read only when there is a system key.
        let system_tokens = async {
            match self.system() {
                Some(_) => {
                    self.store
                        .ask(|r| Command::SystemTokens(p.user.clone(), Month::containing(now), r))
                        .await
                }
                None => Ok(0),
            }
        };
        let (inputs, used) = tokio::try_join!(self.store.routing_inputs(&p.user), system_tokens)?;
        let config = self.routing_config(&inputs, now);
        let estimated = p.estimated_tokens;
        let request = RouteRequest {
            feature: p.feature,
            model: p.model,
            estimated_tokens: estimated,
        };
        let ledger = Ledger::new(used.saturating_add(held));
        let decision = route_in_catalog(&self.catalog, &config, &ledger, &request, now)
            .map_err(|e| Error::new(ErrorKind::from_route(&e, now), e.to_string()))?;
        let system_hold = (hold && decision.payer == Payer::System).then(|| {
            let id = random_hex(8);
            let ttl = time::Duration::try_from(self.options.timeouts.total)
                .unwrap_or(time::Duration::MINUTE * 10)
                + time::Duration::MINUTE;
            self.system_holds
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(p.user.clone())
                .or_insert_with(|| Ledger::new(0))
                // No limit here: routing has just admitted it against the same figures.
                .reserve(id.clone(), estimated, None, now, ttl)
                .ok();
            SystemHold {
                holds: Arc::clone(&self.system_holds),
                user: p.user.clone(),
                id,
                ttl,
            }
        });
        drop(lock);
        // A blocking budget stops calls on the user's own keys once the month's spending
        // reaches it (read exactly, with every call recorded so far); outside the system key's
        // lock, which these calls do not touch.
        if let (Payer::User, Some(budget)) = (decision.payer, &inputs.budget) {
            if budget.enforced_limit().is_some() {
                let month = Month::containing(now);
                let spent = self
                    .store
                    .ask(|r| Command::BudgetStatus(p.user.clone(), month, r))
                    .await?
                    .map_or(byokit_core::Decimal::ZERO, |(_, status)| status.spent_usd);
                budget.admit(month, spent).map_err(|e| Error::from(&e))?;
            }
        }
        Ok(Routed {
            decision,
            inputs,
            system_hold,
        })
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
