//! The system key's tokens held by the calls in flight. One byokd owns a SQLite data dir (its
//! lock), so they live in this process: a hold is taken under the user's turn, against what is
//! recorded plus what the other calls hold.

use std::sync::atomic::AtomicU64;

use byokit_core::Ledger;

use super::*;
use crate::store::HeldTokens;

/// Every user's held tokens, and whose turn it is to take a hold.
#[derive(Default)]
pub(super) struct Holds {
    ledgers: std::sync::Mutex<HashMap<String, Ledger<u64>>>,
    turns: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    next_id: AtomicU64,
}

impl Holds {
    fn ledgers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Ledger<u64>>> {
        self.ledgers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user's turn to take a hold, held until the guard is dropped.
    pub(super) async fn turn(&self, user: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let turn = Arc::clone(
            self.turns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(user.to_owned())
                .or_default(),
        );
        turn.lock_owned().await
    }

    /// The tokens the user's calls hold at `now` (holds past their deadline lapse).
    pub(super) fn held(&self, user: &str, now: OffsetDateTime) -> u64 {
        self.ledgers().get_mut(user).map_or(0, |ledger| {
            ledger.expire(now);
            ledger.reserved()
        })
    }

    /// Holds the request's tokens (the caller has checked them against the cap in its turn).
    pub(super) fn hold(holds: &Arc<Holds>, request: &HoldRequest) -> SystemHold {
        let id = holds.next_id.fetch_add(1, Ordering::Relaxed).to_string();
        holds
            .ledgers()
            .entry(request.user.clone())
            .or_insert_with(|| Ledger::new(0))
            // No limit here: it has just been checked against the same figures.
            .reserve(id.clone(), request.tokens, None, request.now, request.ttl)
            .ok();
        SystemHold::new(Held {
            holds: Arc::clone(holds),
            user: request.user.clone(),
            id,
            ttl: request.ttl,
        })
    }
}

/// One call's hold.
struct Held {
    holds: Arc<Holds>,
    user: String,
    id: String,
    ttl: time::Duration,
}

impl HeldTokens for Held {
    fn settle(&self, tokens: u64) {
        if let Some(ledger) = self.holds.ledgers().get_mut(&self.user) {
            let _ = ledger.reserve(
                self.id.clone(),
                tokens,
                None,
                OffsetDateTime::now_utc(),
                self.ttl,
            );
        }
    }

    fn release(&self) {
        let mut ledgers = self.holds.ledgers();
        if let Some(ledger) = ledgers.get_mut(&self.user) {
            ledger.release(&self.id);
            if ledger.outstanding() == 0 {
                ledgers.remove(&self.user);
            }
        }
    }
}
