//! Load harness for byokd on PostgreSQL: two release byokd on one database, on loopback.
//!
//! Run: `BYOKIT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:PORT cargo bench -p
//! byokit-daemon --bench postgres` (options after `--`: `--seconds N`, `--clients N` per byokd,
//! `--rate N`, `--events N`). It measures:
//! 1. durable `usage.record` throughput from two byokd at once, clients pipelining;
//! 2. round-trip latency percentiles at a fixed total rate, spread over both;
//! 3. `usage.summary` over 90 days for one user among `--events` stored events (written
//!    straight into the database with SQL, daily totals included, as byokd would have).
//!
//! Figures are in `docs/benchmarks.md`.

// A harness binary, not a library.
#![allow(missing_docs, clippy::unwrap_used)]

#[allow(dead_code)] // each harness uses part of it
mod common;

use std::process::Command;
use std::time::Instant;

use common::{
    bench_server, createdb, percentile, pipelined_records, record_round_trips, Daemon, LoadOptions,
};
use serde_json::json;

fn options() -> LoadOptions {
    LoadOptions::from_args(10_000_000)
}

/// Two byokd on one new database; the second has the first one's master key.
fn two(url: &str, tag: &str) -> (Daemon, Daemon) {
    let base = std::env::temp_dir().join(format!("byokd-pgbench-{}-{tag}", std::process::id()));
    let (a_dir, b_dir) = (base.with_extension("a"), base.with_extension("b"));
    for d in [&a_dir, &b_dir] {
        let _ = std::fs::remove_dir_all(d);
        std::fs::create_dir_all(d).unwrap();
    }
    let a = Daemon::start(&a_dir, &["--database-url", url]);
    let data = b_dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    std::fs::copy(a_dir.join("data/master.key"), data.join("master.key")).unwrap();
    let b = Daemon::start(&b_dir, &["--database-url", url]);
    (a, b)
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(server) = bench_server() else {
        eprintln!(
            "set BYOKIT_BENCH_DATABASE_URL to a PostgreSQL server (scripts/postgres.sh starts one)"
        );
        return;
    };
    let o = options();
    let url = createdb(&server, "bench_two");
    let (a, b) = two(&url, "tput");
    let sockets = [a.socket(), b.socket()];

    // 1. Throughput: both byokd at once, each client keeping 64 records in flight.
    let (total, elapsed) = pipelined_records(&sockets, o.clients, 64, o.seconds);
    println!(
        "usage.record throughput, two byokd x {} clients, 64 in flight each, {elapsed:.1} s: {total} durable records, {:.0} records/s",
        o.clients,
        total as f64 / elapsed
    );

    // 2. Latency at a fixed total rate, spread over both byokd's clients: enough of them (one
    //    request in flight each, 40 a second) that the rate is reached.
    let clients = (2 * o.clients).max(usize::try_from(o.rate / 40).unwrap_or(usize::MAX));
    let all = record_round_trips(&sockets, clients, o.rate, o.seconds);
    println!(
        "usage.record round trip at {} records/s asked, {:.0} reached, {clients} clients over two byokd, {} s ({} records): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        o.rate,
        all.len() as f64 / o.seconds as f64,
        o.seconds,
        all.len(),
        percentile(&all, 0.50).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
    );
    drop((a, b));

    // 3. The 90-day summary of one user among many stored events: 1,000 users, the one asked
    //    for with 1 in 1,000 of them, spread over 90 days; daily totals as byokd keeps them.
    let url = createdb(&server, "bench_summary");
    let dir = std::env::temp_dir().join(format!("byokd-pgbench-{}-summary", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let a = Daemon::start(&dir, &["--database-url", &url]);
    let started = Instant::now();
    psql(
        &url,
        &format!(
            "INSERT INTO api_usage_logs (id, clerk_id, provider, model, feature, payer,
               prompt_tokens, completion_tokens, input_tokens, output_tokens, total_tokens,
               estimated_cost_usd, cost_status, catalog_version, created_at)
             SELECT 1000000000 + g, 'u' || (g % 1000), 'openai', 'gpt-4o-mini',
               (ARRAY['chat', 'resume', 'cover_letter'])[1 + g % 3], 'user', 1500, 400, 1500, 400,
               1900, 0.000465, 'exact', 'bench',
               now() - (g % 7776000) * interval '1 second'
             FROM generate_series(1, {}) g;
             INSERT INTO usage_daily
             SELECT clerk_id, (created_at AT TIME ZONE 'UTC')::date, provider, payer, feature,
               model, count(*), sum(input_tokens), sum(output_tokens), sum(total_tokens),
               sum(estimated_cost_usd), 0, 0
             FROM api_usage_logs GROUP BY 1, 2, 3, 4, 5, 6;
             ANALYZE;",
            o.events
        ),
    );
    println!(
        "{} events written with SQL in {:.0} s",
        o.events,
        started.elapsed().as_secs_f64()
    );
    let mut c = a.client();
    let mut times = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let s = c
            .call("usage.summary", json!({"user": "u7", "days": 90}))
            .unwrap();
        times.push(t.elapsed());
        assert!(s["totals"]["requests"].as_u64().unwrap() > 0);
    }
    times.sort_unstable();
    println!(
        "usage.summary of one user (1 in 1,000) among {} stored events, 90 days: median {:.2} ms, best {:.2} ms (21 runs)",
        o.events,
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}
