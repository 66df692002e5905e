//! byokd on PostgreSQL, as a service with many users runs it: several byokd processes on one
//! database, serving as a role held to row-level security. Needs a server:
//! `scripts/test-postgres.sh` starts a cluster of its own and sets BYOKIT_TEST_DATABASE_URL;
//! without it these tests say so and pass.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use byokit_core::Decimal;
use byokit_daemon::client::Client;
use serde_json::{json, Value};

mod common;
use common::{bin, fresh_dir, mock_anthropic, postgres_env, postgres_server, psql};

const ANTHROPIC_KEY: &str =
    "sk-ant-api03-Qw1Er2Ty3Ui4Op5As6Df7Gh8Jk9Lz0Xc1Vb2Nm3Qw4Er5Ty6Ui7Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op-Ab12";

/// The test server, or `None` (and a note) when there is none.
fn server() -> Option<String> {
    let server = postgres_server();
    if server.is_none() {
        eprintln!("no PostgreSQL server (BYOKIT_TEST_DATABASE_URL): scripts/test-postgres.sh runs this test");
    }
    server
}

/// A new database on the server, owned by `owner` (the superuser's when `None`).
fn new_database(server: &str, name: &str, owner: Option<&str>) -> String {
    let admin = format!("{server}/postgres");
    let _ = psql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    let owner = owner.map(|o| format!(" OWNER {o}")).unwrap_or_default();
    psql(&admin, &format!("CREATE DATABASE {name}{owner}")).unwrap();
    format!("{server}/{name}")
}

/// byokd's flags for a system key (in TEST_SYSTEM_KEY) served by the mock at `base`, with a cap
/// of 1,000,000 tokens a month per user.
fn system_key(base: &str) -> Vec<String> {
    [
        "--system-key-env",
        "TEST_SYSTEM_KEY",
        "--system-token-cap",
        "1000000",
        "--system-base-url",
        base,
    ]
    .map(String::from)
    .to_vec()
}

/// A new test dir whose data dir holds the master key of the data dir `from`: a byokd started
/// there opens the keys that one sealed.
fn with_master_key(from: &Path) -> PathBuf {
    let dir = fresh_dir();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::copy(from.join("master.key"), data.join("master.key")).unwrap();
    dir
}

/// A byokd process; killed when dropped.
struct Byokd {
    dir: PathBuf,
    child: Child,
}

impl Byokd {
    /// Starts byokd on `dir` (data and socket) and the database at `url`.
    fn start(dir: &Path, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Byokd {
        Byokd::start_on(dir, Some(url), extra, env)
    }

    /// Starts byokd on `dir` and the database at `url`, or its SQLite store when `None`.
    fn start_on(dir: &Path, url: Option<&str>, extra: &[&str], env: &[(&str, &str)]) -> Byokd {
        Byokd {
            dir: dir.to_owned(),
            child: common::start_byokd(dir, url, extra, env),
        }
    }

    /// A second byokd for the same database: a data dir of its own holding the first one's
    /// master key.
    fn beside(first: &Byokd, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Byokd {
        Byokd::start(&with_master_key(&first.dir.join("data")), url, extra, env)
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("run/byokd.sock")
    }

    fn client(&self) -> Client {
        Client::connect(&self.socket()).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("test.log")).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Byokd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn record(user: &str, key: &str, input: u64, output: u64) -> Value {
    json!({"user": user, "provider": "openai", "model": "gpt-4o", "feature": "chat",
           "usage": {"input_tokens": input, "output_tokens": output}, "idempotency_key": key})
}

#[test]
fn row_level_security_holds_byokds_role_to_one_user_per_transaction() {
    let Some(server) = server() else { return };
    let admin = format!("{server}/postgres");
    // The roles docs/postgres.md describes: the tables' owner applies the migrations; byokd
    // serves as a member of byokit_app, which owns nothing and does not bypass RLS.
    psql(
        &admin,
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'byokit_app') THEN CREATE ROLE byokit_app NOLOGIN; END IF;
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rls_owner') THEN CREATE ROLE rls_owner LOGIN; END IF;
           IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rls_byokd') THEN CREATE ROLE rls_byokd LOGIN IN ROLE byokit_app; END IF;
         END $$",
    )
    .unwrap();
    let owner_url =
        new_database(&server, "rls", Some("rls_owner")).replace("postgres@", "rls_owner@");
    let url = owner_url.replace("rls_owner@", "rls_byokd@");
    let dir = fresh_dir();
    let d = Byokd::start(&dir, &url, &["--database-owner-url", &owner_url], &[]);
    assert!(
        !d.log().contains("bypasses row-level security"),
        "{}",
        d.log()
    );
    let mut c = d.client();
    for (user, n) in [("alice", 3), ("bob", 5)] {
        for i in 0..n {
            c.call(
                "usage.record",
                record(user, &format!("{user}-{i}"), 100, 10),
            )
            .unwrap();
        }
        c.call(
            "budget.set",
            json!({"user": user, "monthly_limit_usd": "10"}),
        )
        .unwrap();
    }
    let as_byokd = |sql: &str| psql(&url, sql);
    // byokd's role owns no table.
    assert_eq!(
        as_byokd("SELECT DISTINCT tableowner FROM pg_tables WHERE tablename IN ('api_usage_logs', 'user_api_configs', 'usage_daily')")
            .unwrap(),
        "rls_owner"
    );
    // Without a user, nothing: not even with SQL that has no WHERE.
    assert_eq!(
        as_byokd("SELECT count(*) FROM api_usage_logs").unwrap(),
        "0"
    );
    assert_eq!(as_byokd("SELECT count(*) FROM usage_daily").unwrap(), "0");
    assert_eq!(as_byokd("SELECT count(*) FROM byokit_vault").unwrap(), "0");
    // Scoped to alice: hers, and only hers, whatever the statement says.
    let scoped = |sql: &str| {
        as_byokd(&format!(
            "BEGIN; SELECT set_config('byokit.user', 'alice', true) \\g /dev/null\n{sql}; ROLLBACK;"
        ))
    };
    assert_eq!(scoped("SELECT count(*) FROM api_usage_logs").unwrap(), "3");
    assert_eq!(
        scoped("SELECT string_agg(DISTINCT clerk_id, ',') FROM api_usage_logs").unwrap(),
        "alice"
    );
    assert_eq!(
        scoped("WITH gone AS (DELETE FROM api_usage_logs RETURNING 1) SELECT count(*) FROM gone")
            .unwrap(),
        "3",
        "a DELETE without WHERE reaches alice's rows only"
    );
    assert_eq!(
        scoped("WITH changed AS (UPDATE budgets SET monthly_limit_usd = 0 RETURNING clerk_id) SELECT string_agg(clerk_id, ',') FROM changed").unwrap(),
        "alice"
    );
    let refused = scoped(
        "INSERT INTO budgets (clerk_id, monthly_limit_usd, policy, alert_thresholds) VALUES ('bob', 1, 'block', '{}')",
    )
    .unwrap_err();
    assert!(refused.contains("row-level security"), "{refused}");
    // A setting local to a transaction does not outlive it on the connection.
    assert_eq!(
        as_byokd(
            "BEGIN; SELECT set_config('byokit.user', 'alice', true) \\g /dev/null\nCOMMIT; SELECT count(*) FROM api_usage_logs"
        )
        .unwrap(),
        "0"
    );
    // Supabase's sign-in (request.jwt.claims, what auth.uid() reads) reads its user's rows and
    // writes nothing: a signed-in user cannot delete their usage to get quota back.
    let supabase = |sql: &str| {
        as_byokd(&format!(
            "BEGIN; SELECT set_config('request.jwt.claims', '{{\"sub\": \"bob\"}}', true) \\g /dev/null\n{sql}; ROLLBACK;"
        ))
    };
    assert_eq!(
        supabase("SELECT count(*) FROM api_usage_logs").unwrap(),
        "5"
    );
    assert_eq!(
        supabase("WITH gone AS (DELETE FROM api_usage_logs RETURNING 1) SELECT count(*) FROM gone")
            .unwrap(),
        "0"
    );
    // The spec's summary function runs as its caller: another user's summary is empty.
    let summary: Value =
        serde_json::from_str(&supabase("SELECT get_user_usage_summary('alice', 30)").unwrap())
            .unwrap();
    assert_eq!(summary["totals"]["requests"], 0);
    let own: Value =
        serde_json::from_str(&supabase("SELECT get_user_usage_summary('bob', 30)").unwrap())
            .unwrap();
    assert_eq!(own["totals"]["requests"], 5);
    // And byokd still serves both, each their own.
    let s = c
        .call("usage.summary", json!({"user": "bob", "days": 1}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 5);
}

#[test]
fn two_daemons_recording_for_the_same_users_at_once_give_exact_totals() {
    let Some(server) = server() else { return };
    record_through_two(&new_database(&server, "two_recorders", None));
}

/// A PgBouncer in transaction mode in front of the test server, when there is one.
fn pooler() -> Option<String> {
    let pooler = postgres_env("BYOKIT_TEST_POOLER_URL");
    if pooler.is_none() {
        eprintln!("no PgBouncer (BYOKIT_TEST_POOLER_URL): scripts/test-postgres.sh runs this test");
    }
    pooler
}

/// Behind a transaction-mode pooler, a transaction may run on any server connection and the
/// next on another: byokd names no statement and sets nothing outside a transaction, so it
/// records and holds the cap there as well.
#[test]
fn behind_a_transaction_pooler_two_daemons_record_and_share_one_cap() {
    let (Some(server), Some(pooler)) = (server(), pooler()) else {
        return;
    };
    new_database(&server, "pooled_records", None);
    record_through_two(&format!("{pooler}/pooled_records"));
    new_database(&server, "pooled_cap", None);
    cap_across_two(&format!("{pooler}/pooled_cap"));
}

/// 2 × 16 clients recording through two byokd on `url`: exact totals in both.
fn record_through_two(url: &str) {
    let url = url.to_owned();
    let a = Byokd::start(&fresh_dir(), &url, &[], &[]);
    let b = Byokd::beside(&a, &url, &[], &[]);
    let users = ["ann", "ben", "cy", "dee"];
    // 2 × 16 clients, each its own connection, all at once.
    let acked: Mutex<Vec<(String, Value)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (d, name) in [(&a, "a"), (&b, "b")] {
            for t in 0..16 {
                let acked = &acked;
                s.spawn(move || {
                    let mut c = d.client();
                    for i in 0..150u64 {
                        let user = users[(t + i as usize) % users.len()];
                        let key = format!("{name}-{t}-{i}");
                        let r = c
                            .call("usage.record", record(user, &key, 1000 + i, 17 * i))
                            .unwrap();
                        acked.lock().unwrap().push((user.to_owned(), r));
                    }
                });
            }
        }
    });
    let acked = acked.into_inner().unwrap();
    assert_eq!(acked.len(), 2 * 16 * 150);
    for user in users {
        let mine: Vec<&Value> = acked
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, r)| r)
            .collect();
        let cost: Decimal = mine
            .iter()
            .map(|r| Decimal::from_str(r["cost_usd"].as_str().unwrap()).unwrap())
            .sum();
        let ids: std::collections::BTreeSet<i64> =
            mine.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), mine.len(), "ids are unique across both byokd");
        // Both byokd read the same totals, exact to the last digit.
        for d in [&a, &b] {
            let s = d
                .client()
                .call("usage.summary", json!({"user": user, "days": 1}))
                .unwrap();
            assert_eq!(s["totals"]["requests"], mine.len() as u64);
            assert_eq!(s["totals"]["cost_usd"], cost.normalize().to_string());
        }
    }
}

#[test]
fn two_daemons_never_admit_more_than_the_system_cap_between_them() {
    let Some(server) = server() else { return };
    cap_across_two(&new_database(&server, "one_cap", None));
}

/// 24 calls at once through two byokd on `url`, with room for exactly ten under the cap.
fn cap_across_two(url: &str) {
    let (base, served) = mock_anthropic(Duration::from_millis(800));
    let flags = system_key(&base);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let env = [("TEST_SYSTEM_KEY", ANTHROPIC_KEY)];
    let a = Byokd::start(&fresh_dir(), url, &flags, &env);
    let b = Byokd::beside(&a, url, &flags, &env);
    // What each call holds while it runs: byokd's estimate of its prompt and its output.
    let ask = json!({"user": "edge", "max_output_tokens": 500,
                     "messages": [{"role": "user", "content": "hi"}]});
    let request: byokit_core::ChatRequest = serde_json::from_value(ask.clone()).unwrap();
    let (prompt, output) = byokit_core::approximate_chat(&request, 1024);
    let hold = prompt.tokens + output;
    // The month so far: all but the room of exactly ten calls.
    let before = 1_000_000 - 10 * hold;
    a.client()
        .call(
            "usage.record",
            json!({"user": "edge", "provider": "anthropic", "model": "claude-sonnet-4",
                   "payer": "system", "usage": {"input_tokens": before, "output_tokens": 0}}),
        )
        .unwrap();
    let s = b
        .client()
        .call("usage.summary", json!({"user": "edge", "days": 1}))
        .unwrap();
    assert_eq!(s["system_quota"]["used_tokens"], before);
    // 24 calls at once, 12 through each byokd: exactly ten fit.
    let results = common::chats_at_once(24, |i| if i % 2 == 0 { &a } else { &b }.client(), &ask);
    common::assert_cap_admitted(&results, 10, &served);
    // What they used is recorded, once, and the month stays within the cap.
    let used: u64 = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|r| {
            r["usage"]["input_tokens"].as_u64().unwrap()
                + r["usage"]["output_tokens"].as_u64().unwrap()
        })
        .sum();
    // Each byokd's answered calls are recorded within moments of their reply (its reads wait
    // for them); read through both, the month is complete.
    b.client()
        .call("usage.summary", json!({"user": "edge", "days": 1}))
        .unwrap();
    let s = a
        .client()
        .call("usage.summary", json!({"user": "edge", "days": 1}))
        .unwrap();
    assert_eq!(s["system_quota"]["used_tokens"], before + used);
    assert!(before + used <= 1_000_000);
}

#[test]
fn a_hold_left_by_a_dead_byokd_lapses_and_the_next_byokd_removes_it() {
    let Some(server) = server() else { return };
    let url = new_database(&server, "dead_hold", None);
    let (base, served) = mock_anthropic(Duration::ZERO);
    let flags = system_key(&base);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let env = [("TEST_SYSTEM_KEY", ANTHROPIC_KEY)];
    let d = Byokd::start(&fresh_dir(), &url, &flags, &env);
    // A byokd that died mid-call left holds: one still within its deadline, taking the whole
    // month, and one past it.
    let hold = |tokens: u64, expires: &str| {
        psql(
            &url,
            &format!(
                "INSERT INTO system_holds (clerk_id, month, tokens, expires_at)
                 VALUES ('gone', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'), {tokens}, now() + interval '{expires}')"
            ),
        )
        .unwrap();
    };
    hold(1_000_000, "1 minute");
    let ask = json!({"user": "gone", "max_output_tokens": 100, "messages": [{"role": "user", "content": "hi"}]});
    let refused = d
        .client()
        .call("chat", ask.clone())
        .unwrap_err()
        .to_string();
    assert!(refused.contains("please add your own API key"), "{refused}");
    psql(
        &url,
        "UPDATE system_holds SET expires_at = now() - interval '1 second'",
    )
    .unwrap();
    hold(500_000, "-1 second");
    let r = d.client().call("chat", ask).unwrap();
    assert_eq!(r["payer"], "system");
    assert_eq!(served.load(Ordering::SeqCst), 1);
    // Gone from the table, once the call's own hold is given back too.
    let deadline = Instant::now() + Duration::from_secs(5);
    while psql(&url, "SELECT count(*) FROM system_holds").unwrap() != "0" {
        assert!(Instant::now() < deadline, "the lapsed holds stay");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killing_one_daemon_under_load_loses_nothing_it_acknowledged() {
    let Some(server) = server() else { return };
    let url = new_database(&server, "kill_one", None);
    let mut a = Byokd::start(&fresh_dir(), &url, &[], &[]);
    let b = Byokd::beside(&a, &url, &[], &[]);
    // Every key a client sent, and whether it was acknowledged.
    let sent: Mutex<Vec<(String, bool)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (d, name) in [(&a, "a"), (&b, "b")] {
            for t in 0..8 {
                let (socket, sent) = (d.socket(), &sent);
                s.spawn(move || {
                    let Ok(mut c) = Client::connect(&socket) else {
                        return;
                    };
                    for i in 0..400 {
                        let key = format!("{name}-{t}-{i}");
                        let ok = c
                            .call("usage.record", record("crash", &key, 100, 10))
                            .is_ok();
                        sent.lock().unwrap().push((key, ok));
                        if !ok {
                            return; // its byokd died under it
                        }
                    }
                });
            }
        }
        // Let the load run on both, then SIGKILL one mid-flight.
        let deadline = Instant::now() + Duration::from_secs(30);
        while sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, ok)| *ok && k.starts_with("a-"))
            .count()
            < 1000
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        a.kill();
    });
    let sent = sent.into_inner().unwrap();
    let acked: Vec<&String> = sent.iter().filter(|(_, ok)| *ok).map(|(k, _)| k).collect();
    assert!(acked.iter().filter(|k| k.starts_with("a-")).count() >= 1000);
    assert!(
        sent.iter().any(|(k, ok)| !ok && k.starts_with("a-")),
        "the kill came while a's clients were recording"
    );
    // The clients of the dead byokd send their unacknowledged records again, to the other, with
    // the same idempotency keys; every acknowledged one comes back a duplicate.
    let mut c = b.client();
    for (key, ok) in &sent {
        let r = c
            .call("usage.record", record("crash", key, 100, 10))
            .unwrap();
        if *ok {
            assert_eq!(r["duplicate"], true, "{key} was acknowledged but lost");
        }
    }
    let stored = c
        .call("usage.summary", json!({"user": "crash", "days": 1}))
        .unwrap()["totals"]["requests"]
        .as_u64()
        .unwrap();
    assert_eq!(stored, sent.len() as u64, "every record once, none twice");
}

#[test]
fn a_database_migrated_by_hand_to_each_earlier_version_is_brought_up_keeping_its_rows() {
    let Some(server) = server() else { return };
    let latest = byokit_daemon::store::postgres::MIGRATIONS.len();
    for version in 1..latest {
        let url = new_database(&server, &format!("from_v{version}"), None);
        brought_up_from(&url, version);
    }
}

/// A database that a team brought to `version` with its own tools, with usage a byokd of that
/// version stored, started on by today's byokd.
fn brought_up_from(url: &str, version: usize) {
    let url = url.to_owned();
    for (_, name, _) in &byokit_daemon::store::postgres::MIGRATIONS[..version] {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/postgres")
            .join(name);
        let sql = std::fs::read_to_string(file).unwrap();
        psql(&url, &format!("BEGIN;\n{sql}\nCOMMIT;")).unwrap();
    }
    psql(
        &url,
        "BEGIN;
         SELECT set_config('byokit.user', 'old', true);
         INSERT INTO api_usage_logs (id, clerk_id, provider, model, feature, payer, prompt_tokens,
           completion_tokens, input_tokens, output_tokens, total_tokens, estimated_cost_usd,
           cost_status, catalog_version, created_at)
         VALUES (1, 'old', 'openai', 'gpt-4o', 'chat', 'user', 1000, 100, 1000, 100, 1100, 0.0035,
           'exact', 'test', now() - interval '1 hour');
         INSERT INTO usage_daily VALUES ('old', (now() - interval '1 hour')::date, 'openai', 'user',
           'chat', 'gpt-4o', 1, 1000, 100, 1100, 0.0035, 0, 0);
         COMMIT;",
    )
    .unwrap();
    assert_eq!(
        psql(&url, "SELECT max(version) FROM byokit_migrations").unwrap(),
        version.to_string()
    );
    let d = Byokd::start(&fresh_dir(), &url, &[], &[]);
    assert_eq!(
        psql(
            &url,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM byokit_migrations"
        )
        .unwrap(),
        (1..=byokit_daemon::store::postgres::MIGRATIONS.len())
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let s = d
        .client()
        .call("usage.summary", json!({"user": "old", "days": 2}))
        .unwrap();
    assert_eq!(s["totals"]["requests"], 1);
    assert_eq!(s["totals"]["cost_usd"], "0.0035");
    common::assert_sql_summary_equals(&url, "old", &s);
    // Served as the server's superuser, which row-level security does not hold: said once.
    assert_eq!(
        d.log().matches("bypasses row-level security").count(),
        1,
        "{}",
        d.log()
    );
    // Another byokd starting on it finds nothing to do.
    let again = Byokd::beside(&d, &url, &[], &[]);
    assert!(!again.log().contains("migrated"), "{}", again.log());
}

/// `byokit store copy` with the test server's database; answers its exit status and output.
fn store_copy(data_dir: &Path, url: &str) -> Child {
    Command::new(bin("byokit"))
        .args(["store", "copy", "--from"])
        .arg(data_dir)
        .args(["--to", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished(copy: Child) -> String {
    let out = copy.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_desktop_store_moves_into_postgres_once_with_its_keys_still_sealed() {
    let Some(server) = server() else { return };
    let url = new_database(&server, "moving_up", None);
    let (base, served) = mock_anthropic(Duration::ZERO);
    // A desktop byokd with a key, calls, many records, a budget with its alerts, a token.
    let dir = fresh_dir();
    let desktop = Byokd::start_on(&dir, None, &[], &[]);
    let mut c = desktop.client();
    c.call(
        "config.save",
        json!({"user": "mo", "provider": "anthropic", "api_key": ANTHROPIC_KEY, "base_url": base}),
    )
    .unwrap();
    c.call("budget.set", json!({"user": "mo", "monthly_limit_usd": "0.01", "policy": "allow_and_alert", "alert_thresholds": [50, 100]})).unwrap();
    for _ in 0..3 {
        c.call("chat", json!({"user": "mo", "feature": "cover_letter", "messages": [{"role": "user", "content": "hi"}]})).unwrap();
    }
    std::thread::scope(|s| {
        for t in 0..16 {
            let desktop = &desktop;
            s.spawn(move || {
                let mut c = desktop.client();
                for i in 0..750 {
                    let user = ["mo", "jo", "flo"][i % 3];
                    let key = (i % 2 == 0).then(|| format!("{t}-{i}"));
                    c.call("usage.record", json!({"user": user, "provider": "openai", "model": "gpt-4o-mini",
                        "feature": "resume", "usage": {"input_tokens": 1000 + i, "output_tokens": 50}, "idempotency_key": key}))
                        .unwrap();
                }
            });
        }
    });
    let token = c
        .call("http.token", json!({"user": "mo", "name": "web"}))
        .unwrap();
    let before: Vec<Value> = ["mo", "jo", "flo"]
        .iter()
        .map(|u| {
            c.call("usage.summary", json!({"user": u, "days": 30}))
                .unwrap()
        })
        .collect();
    let alerts = c.call("alerts.list", json!({"user": "mo"})).unwrap();
    assert_eq!(alerts.as_array().unwrap().len(), 2, "{alerts}");
    let configs = c.call("config.get", json!({"user": "mo"})).unwrap();
    c.call("daemon.stop", json!({})).unwrap();
    drop(c);
    let data = dir.join("data");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(desktop.socket()).is_ok() {
        assert!(Instant::now() < deadline, "the desktop byokd did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The copy, stopped dead after its first chunk, then run again to the end: it goes on from
    // where it was, copying nothing twice.
    let mut first = store_copy(&data, &url);
    let copied_through = || {
        psql(&url, "SELECT set_config('byokit.scope', 'service', false) \\g /dev/null\nSELECT COALESCE(max(usage_copied_through), 0) FROM byokit_store_copies")
            .unwrap_or_default()
            .parse::<i64>()
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while copied_through() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = first.kill();
    let _ = first.wait();
    let at_kill = copied_through();
    assert!(at_kill > 0, "the first chunk committed");
    if at_kill >= 12_003 {
        eprintln!("note: the first copy finished before it could be stopped");
    }
    // The second run copies exactly the records after the first one's cursor, none twice.
    let left: i64 = rusqlite::Connection::open(data.join("byokit.db"))
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM api_usage_logs WHERE id > ?1",
            [at_kill],
            |r| r.get(0),
        )
        .unwrap();
    let out = finished(store_copy(&data, &url));
    assert!(
        out.contains(&format!("{left} usage record(s) (0 already there)")),
        "{left} left after the cursor: {out}"
    );
    let again = finished(store_copy(&data, &url));
    assert!(
        again.starts_with("copied 0 configuration(s), 0 usage record(s) (0 already there)"),
        "{again}"
    );
    assert_eq!(
        psql(&url, "SELECT count(*) FROM api_usage_logs").unwrap(),
        "12003",
        "every record once"
    );
    // A byokd on the database, with the desktop's master key, serves it all as before.
    let server_side = Byokd::start(&with_master_key(&data), &url, &[], &[]);
    let mut c = server_side.client();
    for (user, was) in ["mo", "jo", "flo"].iter().zip(&before) {
        let now = c
            .call("usage.summary", json!({"user": user, "days": 30}))
            .unwrap();
        for part in common::SQL_SUMMARY_PARTS {
            assert_eq!(now[part], was[part], "{user}: {part}");
        }
    }
    assert_eq!(
        c.call("alerts.list", json!({"user": "mo"})).unwrap(),
        alerts
    );
    assert_eq!(
        c.call("config.get", json!({"user": "mo"})).unwrap(),
        configs
    );
    assert_eq!(
        c.call("http.token", json!({"user": "mo", "name": "web"}))
            .unwrap(),
        token
    );
    // The key opens: a call goes out with it.
    let calls = served.load(Ordering::SeqCst);
    c.call(
        "chat",
        json!({"user": "mo", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    assert_eq!(served.load(Ordering::SeqCst), calls + 1);
    drop(desktop);
}

#[test]
fn tls_to_the_database_is_checked_against_the_ca_given() {
    let Some(server) = server() else { return };
    let Some(ca) = postgres_env("BYOKIT_TEST_DATABASE_CA") else {
        eprintln!("no CA of the test server (BYOKIT_TEST_DATABASE_CA): scripts/test-postgres.sh runs this test");
        return;
    };
    new_database(&server, "over_tls", None);
    let url = format!("{server}/over_tls?sslmode=require");
    // With the server's CA: served, over TLS.
    let d = Byokd::start(&fresh_dir(), &url, &["--database-ca-file", &ca], &[]);
    d.client()
        .call("usage.record", record("tls", "one", 10, 1))
        .unwrap();
    assert_eq!(
        psql(
            &format!("{server}/postgres"),
            "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = 'over_tls'"
        )
        .unwrap(),
        "t",
        "byokd's connections use TLS"
    );
    // Against the Mozilla roots, which did not sign it: refused, and said why.
    let dir = fresh_dir();
    let out = Command::new(bin("byokd"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--socket")
        .arg(dir.join("run/byokd.sock"))
        .args(["--database-url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("certificate") || err.contains("Certificate"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
