//! What the daemon's benchmark harnesses share: a release byokd on a folder of its own, and
//! percentiles.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use byokit_daemon::client::Client;

/// A byokd on `dir` (data in `dir/data`, socket `dir/byokd.sock`); killed, and its folder
/// removed, when dropped.
pub struct Daemon {
    child: Child,
    dir: PathBuf,
}

impl Daemon {
    /// Starts byokd with `extra` arguments and waits until it answers on its socket. With
    /// BYOKIT_BENCH_DATABASE_URL (a PostgreSQL server's URL, without a database), byokd keeps
    /// its store in a new database there (unless `extra` names one).
    pub fn start(dir: &Path, extra: &[&str]) -> Daemon {
        let database: Vec<String> = match extra.contains(&"--database-url") {
            true => Vec::new(),
            false => bench_database()
                .map(|url| vec!["--database-url".to_owned(), url])
                .unwrap_or_default(),
        };
        let daemon = Daemon {
            child: Command::new(env!("CARGO_BIN_EXE_byokd"))
                .arg("--data-dir")
                .arg(dir.join("data"))
                .arg("--socket")
                .arg(dir.join("byokd.sock"))
                .args(&database)
                .args(extra)
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Client::connect(&daemon.socket()).is_err() {
            assert!(Instant::now() < deadline, "byokd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        daemon
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("byokd.sock")
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.socket()).unwrap()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The `p` percentile (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The PostgreSQL server the benchmarks run on, if BYOKIT_BENCH_DATABASE_URL names one.
pub fn bench_server() -> Option<String> {
    std::env::var("BYOKIT_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new, empty database on the benchmark server.
pub fn bench_database() -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let server = bench_server()?;
    let name = format!(
        "bench_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    Some(createdb(&server, &name))
}

/// A new, empty database `name` on `server` (one left by an earlier run dropped first).
pub fn createdb(server: &str, name: &str) -> String {
    let admin = format!("{server}/postgres");
    let _ = Command::new("dropdb")
        .args([
            "--if-exists",
            "--force",
            &format!("--maintenance-db={admin}"),
            name,
        ])
        .status();
    assert!(
        Command::new("createdb")
            .arg(format!("--maintenance-db={admin}"))
            .arg(name)
            .status()
            .unwrap()
            .success(),
        "createdb {name}"
    );
    format!("{server}/{name}")
}

/// The process's arguments without the `--bench` that `cargo bench` gives every harness.
pub fn harness_args() -> impl Iterator<Item = String> {
    std::env::args().filter(|a| a != "--bench")
}

/// The load harnesses' options: `--seconds N`, `--clients N`, `--rate N`, `--events N`.
#[derive(clap::Parser)]
pub struct LoadOptions {
    /// How long each timed phase runs, in seconds.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Client threads (per byokd).
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Records a second for the latency phase.
    #[arg(long, default_value_t = 5_000)]
    pub rate: u64,
    /// Events stored for the summary phase (each harness has its default).
    #[arg(long)]
    pub events: u64,
}

impl LoadOptions {
    /// From the process's arguments, with `events` stored events unless `--events` says.
    pub fn from_args(events: u64) -> LoadOptions {
        use clap::{CommandFactory, FromArgMatches};
        let matches = LoadOptions::command()
            // (clap takes a default as a `&'static str`; a harness parses its arguments once.)
            .mut_arg("events", |a| a.default_value(&*events.to_string().leak()))
            .get_matches_from(harness_args());
        LoadOptions::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// A `usage.record` request line of `user`, the `n`th it sends (its idempotency key `user-n`).
pub fn record_line(user: &str, n: u64) -> String {
    let mut l = serde_json::json!({"jsonrpc": "2.0", "id": n, "method": "usage.record", "params": {
        "user": user, "provider": "openai", "model": "gpt-4o-mini", "feature": "chat",
        "usage": {"input_tokens": 1500, "output_tokens": 400}, "idempotency_key": format!("{user}-{n}")}})
    .to_string();
    l.push('\n');
    l
}

/// Durable `usage.record` throughput: `clients` clients on each of `sockets`, each keeping
/// `in_flight` requests in flight on its connection (a new one sent as each is acknowledged), for
/// `seconds`. Answers the records acknowledged and the seconds it took.
pub fn pipelined_records(
    sockets: &[PathBuf],
    clients: usize,
    in_flight: u64,
    seconds: u64,
) -> (u64, f64) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        for (d, socket) in sockets.iter().enumerate() {
            for i in 0..clients {
                let (done, stop) = (&done, &stop);
                s.spawn(move || {
                    let user = format!("tput{d}-{i}");
                    let stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let mut sent = 0u64;
                    for _ in 0..in_flight {
                        writer
                            .write_all(record_line(&user, sent).as_bytes())
                            .unwrap();
                        sent += 1;
                    }
                    let mut reply = String::new();
                    loop {
                        reply.clear();
                        if reader.read_line(&mut reply).unwrap() == 0 {
                            return;
                        }
                        assert!(reply.contains("\"result\""), "{reply}");
                        done.fetch_add(1, Ordering::Relaxed);
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        writer
                            .write_all(record_line(&user, sent).as_bytes())
                            .unwrap();
                        sent += 1;
                    }
                });
            }
        }
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
    });
    (
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    )
}

/// Round trips of `usage.record` at `rate` records a second in all, spread over `clients`
/// clients with one request in flight each (client `i` on `sockets[i % sockets.len()]`), for
/// `seconds`; sorted.
pub fn record_round_trips(
    sockets: &[PathBuf],
    clients: usize,
    rate: u64,
    seconds: u64,
) -> Vec<Duration> {
    let interval = Duration::from_secs_f64(clients as f64 / rate.max(1) as f64);
    let mut all: Vec<Duration> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                let socket = &sockets[i % sockets.len()];
                s.spawn(move || {
                    let mut c = Client::connect(socket).unwrap();
                    let user = format!("lat{i}");
                    let mut times = Vec::new();
                    let begin = Instant::now();
                    let mut next = begin;
                    let mut n = 0u64;
                    while begin.elapsed() < Duration::from_secs(seconds) {
                        let now = Instant::now();
                        if now < next {
                            std::thread::sleep(next - now);
                        }
                        let t = Instant::now();
                        c.call(
                            "usage.record",
                            serde_json::json!({"user": user, "provider": "openai", "model": "gpt-4o-mini",
                                "feature": "portfolio_chat", "usage": {"input_tokens": 1500, "output_tokens": 400},
                                "idempotency_key": format!("{user}-{n}")}),
                        )
                        .unwrap();
                        times.push(t.elapsed());
                        n += 1;
                        next += interval;
                    }
                    times
                })
            })
            .collect();
        for h in handles {
            all.extend(h.join().unwrap());
        }
    });
    all.sort_unstable();
    all
}
