//! The writer: one thread per connection runs the commands, consecutive ones in one
//! transaction (group commit), answers each only once that transaction has committed, keeps the
//! daily totals beside the records and has the WAL checkpointed beside the commits.

use super::*;

/// Commits between two checkpoints: each copies the WAL's new pages into the database file.
pub(super) const COMMITS_PER_CHECKPOINT: u32 = 100;

/// A thread that checkpoints the WAL when signalled, on a connection of its own, in `PASSIVE`
/// mode: it copies what it can without waiting for the writer or making it wait.
pub(super) fn start_checkpointer(path: &Path) -> Option<mpsc::SyncSender<()>> {
    let conn = Connection::open(path).ok()?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).ok()?;
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    std::thread::Builder::new()
        .name("byokd-checkpoint".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(target: crate::LOG, "WAL checkpoint failed: {e}");
                }
            }
        })
        .ok()?;
    Some(tx)
}

/// After a secret was deleted (or re-sealed), copies the WAL into the database file and empties
/// it, so that the old sealed bytes stay neither in the WAL (which would open with the current
/// master key until overwritten) nor in the database's free pages (`secure_delete` zeroes them).
/// Backups and copies made before keep what they held.
fn erase_from_wal(conn: &Connection) {
    // A checkpoint of the checkpointer thread running at that moment makes this one busy: tried
    // again a few times.
    for attempt in 0..5 {
        match conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            r.get::<_, i64>(0)
        }) {
            Ok(0) => return,
            Ok(_) if attempt < 4 => std::thread::sleep(std::time::Duration::from_millis(10)),
            Ok(_) => tracing::warn!(
                target: crate::LOG,
                "a deleted key stays in the WAL until the next checkpoint (a reader was busy)"
            ),
            Err(e) => {
                tracing::warn!(target: crate::LOG, "WAL checkpoint failed: {e}");
                return;
            }
        }
    }
}

/// How to answer a command once its transaction has ended (given the commit's error, if any).
pub(super) type Reply = Box<dyn FnOnce(Option<&StoreError>)>;

/// The most commands grouped into one transaction.
pub(super) const MAX_BATCH: usize = 2048;

/// Runs the commands sent to one connection, consecutive ones in one transaction. The writer's
/// run checkpoints through `checkpoint`, and clears from `routing` what a batch changed once it
/// has ended, before answering it.
pub(super) fn run(
    mut conn: Connection,
    rx: mpsc::Receiver<Command>,
    checkpoint: Option<mpsc::SyncSender<()>>,
    routing: Option<Arc<RoutingCache>>,
) {
    let mut commits = 0;
    while let Ok(first) = rx.recv() {
        // Everything already sent joins the batch; a batch of records whose calls were answered
        // already waits up to LINGER for more.
        let deadline = std::time::Instant::now() + LINGER;
        let mut wait = first.can_wait();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            let next = match rx.try_recv() {
                Ok(c) => c,
                Err(mpsc::TryRecvError::Disconnected) => break,
                Err(mpsc::TryRecvError::Empty) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if !wait || left.is_zero() {
                        break;
                    }
                    // Sleeping in steps rather than blocking on the queue: a send to a blocked
                    // receiver wakes it, which would be a wake-up per record.
                    std::thread::sleep(left.min(LINGER_STEP));
                    continue;
                }
            };
            wait &= next.can_wait();
            batch.push(next);
        }
        let erases = batch.iter().any(Command::erases_secret);
        let changed: Vec<Option<String>> = match &routing {
            Some(_) => batch.iter().filter_map(Command::changes_routing).collect(),
            None => Vec::new(),
        };
        // Replies wait until the transaction has committed. A panic (a bug) rolls the batch back
        // and leaves its callers without a reply, but the store goes on serving.
        let mut replies: Vec<Reply> = Vec::with_capacity(batch.len());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> Result<(), StoreError> {
                let tx = conn.transaction()?;
                let mut daily = Daily::default();
                for command in batch {
                    replies.push(execute(&tx, command, &mut daily));
                }
                add_daily(&tx, daily)?;
                tx.commit()?;
                Ok(())
            },
        ));
        // Whatever the outcome, what routing keeps of the users it touched is read afresh.
        if let Some(routing) = &routing {
            for user in &changed {
                routing.clear(user.as_deref());
            }
        }
        let Ok(result) = result else {
            tracing::error!(target: crate::LOG, "a storage batch failed and was rolled back");
            continue;
        };
        let failure = result.err();
        if let Some(e) = &failure {
            tracing::error!(
                target: crate::LOG,
                "a storage batch of {} command(s) failed: {e}",
                replies.len()
            );
        }
        if erases && failure.is_none() && checkpoint.is_some() {
            erase_from_wal(&conn);
        }
        for reply in replies {
            reply(failure.as_ref());
        }
        if let Some(checkpoint) = &checkpoint {
            commits += 1;
            if commits >= COMMITS_PER_CHECKPOINT {
                commits = 0;
                // Skipped when one is already pending.
                let _ = checkpoint.try_send(());
            }
        }
    }
}

/// Runs one command inside the batch's transaction; returns how to answer it once the
/// transaction has ended (with the commit's error, if it failed).
pub(super) fn execute(tx: &Transaction<'_>, command: Command, daily: &mut Daily) -> Reply {
    fn answer<T: 'static>(
        result: Result<T, StoreError>,
        reply: oneshot::Sender<Result<T, StoreError>>,
    ) -> Reply {
        Box::new(move |commit_error| {
            let result = match commit_error {
                Some(e) => Err(StoreError::Damaged(format!("commit failed: {e}"))),
                None => result,
            };
            let _ = reply.send(result);
        })
    }
    match command {
        Command::Record {
            record: p,
            id,
            reply,
            ..
        } => answer(record(tx, p, id, daily), reply),
        Command::Flush { reply } => answer(Ok(()), reply),
        Command::SaveConfig { config, reply } => answer(save_config(tx, config), reply),
        Command::Configs { user, reply } => answer(configs(tx, &user), reply),
        Command::DeleteConfig {
            user,
            provider,
            key_id,
            reply,
        } => answer(delete_config(tx, &user, provider, key_id.as_deref()), reply),
        Command::Events { user, since, reply } => answer(events(tx, &user, since), reply),
        Command::Summary {
            user,
            window,
            cap,
            reply,
        } => answer(summary(tx, &user, window, cap), reply),
        Command::SystemTokens { user, month, reply } => {
            answer(system_tokens(tx, &user, month), reply)
        }
        Command::SetBudget {
            user,
            budget,
            reply,
        } => answer(set_budget(tx, &user, &budget), reply),
        Command::Budget { user, reply } => answer(get_budget(tx, &user), reply),
        Command::BudgetStatus { user, month, reply } => {
            answer(budget_status(tx, &user, month), reply)
        }
        Command::Alerts { user, reply } => answer(alerts(tx, &user), reply),
        Command::SetRouting {
            user,
            settings,
            reply,
        } => answer(set_routing(tx, &user, settings), reply),
        Command::Routing { user, reply } => answer(routing(tx, &user), reply),
        Command::HttpToken { user, name, reply } => answer(http_token(tx, &user, &name), reply),
        Command::SaveHttpToken { token, reply } => answer(save_http_token(tx, &token), reply),
        Command::HttpTokenUser { hash, reply } => answer(http_token_user(tx, &hash), reply),
        Command::HttpTokens { user, reply } => answer(http_tokens(tx, &user), reply),
        Command::RevokeHttpToken { user, name, reply } => {
            answer(revoke_http_token(tx, &user, &name), reply)
        }
        Command::Reseal {
            mut reseal,
            check,
            reply,
        } => answer(reseal_all(tx, &mut *reseal, &check), reply),
        Command::InexactRecords { user, since, reply } => {
            answer(inexact_records(tx, &user, since), reply)
        }
        Command::Reprice {
            user,
            changes,
            reply,
        } => answer(reprice(tx, &user, &changes), reply),
    }
}

/// Adds a batch's totals to `usage_daily`, in the batch's transaction. Costs are added as exact
/// decimals in Rust.
pub(super) fn add_daily(tx: &Transaction<'_>, daily: Daily) -> Result<(), StoreError> {
    for ((user, day, provider, payer, feature, model), add) in daily {
        let day = day_number(day.midnight().assume_utc());
        let current: Option<(i64, i64, i64, i64, String, i64, i64)> = tx
            .prepare_cached(
                "SELECT requests, input_tokens, output_tokens, total_tokens, cost_usd, unpriced_requests, estimated_requests
                 FROM usage_daily WHERE clerk_id = ?1 AND day = ?2 AND provider = ?3 AND payer = ?4 AND feature = ?5 AND model = ?6",
            )?
            .query_row(params![user, day, provider.as_str(), payer.as_str(), feature, model], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })
            .optional()?;
        let mut t = match current {
            Some((requests, input, output, total, cost, unpriced, estimated)) => Totals {
                requests: count("requests", requests)?,
                input_tokens: count("input_tokens", input)?,
                output_tokens: count("output_tokens", output)?,
                total_tokens: count("total_tokens", total)?,
                cost_usd: parse_decimal(&cost)?,
                unpriced_requests: count("unpriced_requests", unpriced)?,
                estimated_requests: count("estimated_requests", estimated)?,
            },
            None => Totals::default(),
        };
        t.add(&add);
        tx.prepare_cached(
            "INSERT OR REPLACE INTO usage_daily (clerk_id, day, provider, payer, feature, model, requests, input_tokens,
             output_tokens, total_tokens, cost_usd, unpriced_requests, estimated_requests)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            user,
            day,
            provider.as_str(),
            payer.as_str(),
            feature,
            model,
            int("requests", t.requests)?,
            int("input_tokens", t.input_tokens)?,
            int("output_tokens", t.output_tokens)?,
            int("total_tokens", t.total_tokens)?,
            t.cost_usd.normalize().to_string(),
            int("unpriced_requests", t.unpriced_requests)?,
            int("estimated_requests", t.estimated_requests)?
        ])?;
    }
    Ok(())
}
