//! Load harness for byokd over its real socket, on loopback only, bounded in time.
//!
//! Run: `cargo bench -p byokit-daemon --bench load` (options after `--`: `--seconds N`,
//! `--clients N`, `--rate N`, `--events N`). It starts a release byokd on a temporary data
//! directory and measures:
//! 1. durable `usage.record` throughput from N clients (each record acknowledged after commit);
//! 2. round-trip latency percentiles at a fixed total rate;
//! 3. `usage.summary` time for a user with `--events` stored events over 90 days.
//!
//! Figures are in `docs/benchmarks.md`.

// A harness binary, not a library.
#![allow(missing_docs, clippy::unwrap_used)]

#[allow(dead_code)] // each harness uses part of it
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use byokit_daemon::client::Client;
use common::{percentile, pipelined_records, record_round_trips, Daemon, LoadOptions};
use serde_json::json;

fn options() -> LoadOptions {
    LoadOptions::from_args(1_000_000)
}

fn record(c: &mut Client, user: &str, n: u64) {
    c.call(
        "usage.record",
        json!({"user": user, "provider": "openai", "model": "gpt-4o-mini", "feature": "portfolio_chat",
               "usage": {"input_tokens": 1500, "output_tokens": 400}, "idempotency_key": format!("{user}-{n}")}),
    )
    .unwrap();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` (which builds and runs benches in test mode)
    // does not: then there is nothing to check here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let o = options();
    let dir = std::env::temp_dir().join(format!("byokd-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let daemon = Daemon::start(&dir, &[]);
    let socket = dir.join("byokd.sock");

    // 1. Throughput: N clients recording as fast as acknowledgements come.
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    std::thread::scope(|s| {
        for i in 0..o.clients {
            let (socket, done, stop) = (socket.clone(), Arc::clone(&done), Arc::clone(&stop));
            s.spawn(move || {
                let mut c = Client::connect(&socket).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    record(&mut c, &format!("tput{i}"), n);
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(Duration::from_secs(o.seconds));
        stop.store(true, Ordering::Relaxed);
    });
    let elapsed = started.elapsed().as_secs_f64();
    let total = done.load(Ordering::Relaxed);
    println!(
        "usage.record throughput, {} clients, one request in flight each, {:.1} s: {total} durable records, {:.0} records/s",
        o.clients,
        elapsed,
        total as f64 / elapsed
    );

    // 1b. The same with pipelining: each client keeps 64 requests in flight on its connection.
    let (total, elapsed) =
        pipelined_records(std::slice::from_ref(&socket), o.clients, 64, o.seconds);
    println!(
        "usage.record throughput, {} clients, 64 in flight each, {:.1} s: {total} durable records, {:.0} records/s",
        o.clients,
        elapsed,
        total as f64 / elapsed
    );

    // 2. Latency at a fixed total rate, spread over the clients.
    let all = record_round_trips(std::slice::from_ref(&socket), o.clients, o.rate, o.seconds);
    println!(
        "usage.record round trip at {} records/s for {} s ({} records): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        o.rate,
        o.seconds,
        all.len(),
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    drop(daemon);

    if common::bench_server().is_some() {
        println!("(the summary over stored events on PostgreSQL: --bench postgres)");
        return;
    }

    // 3. A summary over a user with many stored events across 90 days, written straight into a
    //    fresh database (the same schema byokd uses), then asked of byokd.
    let dir2 = dir.with_extension("summary");
    let _ = std::fs::remove_dir_all(&dir2);
    std::fs::create_dir_all(dir2.join("data")).unwrap();
    {
        let mut conn = byokit_daemon::store::open(&dir2.join("data/byokit.db")).unwrap();
        let tx = conn.transaction().unwrap();
        let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        let span_ms = 90 * 86_400_000i64 - 60_000;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO api_usage_logs (clerk_id, provider, model, feature, payer, prompt_tokens, completion_tokens, total_tokens,
                     estimated_cost_usd, cost_status, catalog_version, created_at) VALUES ('big', ?1, ?2, ?3, ?4, 1500, 400, 1900, ?5, 'exact', 'load', ?6)",
                )
                .unwrap();
            let models = [
                ("openai", "gpt-4o-mini"),
                ("anthropic", "claude-sonnet-4-20250514"),
                ("groq", "llama-3.3-70b-versatile"),
                ("gemini", "gemini-2.5-flash"),
            ];
            let features = [
                "portfolio_chat",
                "resume_generation",
                "cover_letter",
                "ai_assistant",
                "job_matching",
            ];
            for i in 0..o.events {
                let (p, m) = models[(i % 4) as usize];
                let payer = if i % 5 == 0 { "system" } else { "user" };
                let at = now_ms - (i as i64 * span_ms / o.events as i64);
                stmt.execute(rusqlite::params![
                    p,
                    m,
                    features[(i % 5) as usize],
                    payer,
                    "0.000465",
                    at
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
        // Fill the daily totals from the logs, as the migration that added them does.
        conn.execute_batch(
            "DROP TABLE usage_daily; DROP TABLE routing_settings; DROP TABLE http_tokens;
             DROP TABLE usage_repriced; PRAGMA user_version = 2;",
        )
        .unwrap();
        drop(conn);
        byokit_daemon::store::open(&dir2.join("data/byokit.db")).unwrap();
    }
    let daemon = Daemon::start(&dir2, &[]);
    let mut c = daemon.client();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let s = c
            .call("usage.summary", json!({"user": "big", "days": 90}))
            .unwrap();
        times.push(t.elapsed());
        assert_eq!(s["totals"]["requests"].as_u64(), Some(o.events));
    }
    times.sort_unstable();
    println!(
        "usage.summary over {} stored events, 90 days: median {:.1} ms, best {:.1} ms (5 runs)",
        o.events,
        times[2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
    drop(daemon);
}
