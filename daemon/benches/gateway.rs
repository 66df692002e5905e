//! Gateway benchmark: byokd's OpenAI-compatible endpoint against calling the provider directly,
//! on loopback only, bounded in time.
//!
//! Run: `scripts/bench-gateway.sh` (which builds the release binaries, and can start LiteLLM's
//! proxy on the same mock), or `cargo bench -p byokit-daemon --bench gateway -- [--seconds N]
//! [--rate N] [--connections N] [--litellm URL --litellm-key KEY]` with `byokit-mock` built in the
//! same target directory (or given in `BYOKIT_MOCK`). It starts `byokit-mock` and a release byokd
//! with a user whose OpenAI key points at the mock, then measures, for the mock directly, byokd
//! a bare forwarder (the least any gateway does: an axum endpoint that passes each request to the
//! mock with reqwest and its reply back, nothing parsed, routed or recorded, on threads of its
//! own) and (when given) LiteLLM:
//! 1. latency percentiles at a fixed rate (`--rate`, 200/s), open loop: requests leave on
//!    schedule whether or not earlier ones have returned. Each target other than the mock is
//!    measured with direct calls to the mock interleaved, each at that rate (one to each in
//!    turn), and its added latency is taken against the direct calls of the same moments: this
//!    machine's latency drifts from one phase to the next by more than what is measured;
//! 2. the most requests per second that `--connections` (32) keep-alive connections get;
//! 3. byokd's peak resident memory (`VmHWM`) over the run.
//!
//! Every call through byokd is routed, made with the stored key and recorded in SQLite, as in
//! use. Figures are in `docs/benchmarks.md`.

// A harness binary, not a library.
#![allow(missing_docs, clippy::unwrap_used)]

#[allow(dead_code)] // each harness uses part of it
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{percentile, Daemon};
use serde_json::json;

const OPENAI_KEY: &str =
    "sk-proj-Bn1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2Qr3St4Uv5Wx6Yz7Bn01";

/// The harness's options (the module's doc says what each measures).
#[derive(clap::Parser)]
struct Options {
    /// How long each timed phase runs, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests a second for the latency phase.
    #[arg(long, default_value_t = 200)]
    rate: u64,
    /// Keep-alive connections for the throughput phase.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// A LiteLLM proxy to measure too.
    #[arg(long)]
    litellm: Option<String>,
    /// Its master key.
    #[arg(long, default_value = "sk-bench")]
    litellm_key: String,
}

/// A child process killed on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mock_binary() -> PathBuf {
    std::env::var_os("BYOKIT_MOCK")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_BIN_EXE_byokd")).with_file_name("byokit-mock"))
}

/// Starts byokit-mock; returns it and its base URL.
fn start_mock() -> (Process, String) {
    use std::io::BufRead;
    let path = mock_binary();
    // The fixtures of this checkout: a binary built from another checkout in the same target
    // directory would look for them there.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers");
    let mut child = Command::new(&path)
        .arg("--fixtures")
        .arg(fixtures)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (cargo build --release -p byokit-mock-provider)",
                path.display()
            )
        });
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().trim_start_matches("listening on ").to_owned();
    (Process(child), url)
}

/// One endpoint under test: a base URL, a key, a model.
#[derive(Clone)]
struct Target {
    name: &'static str,
    base: String,
    key: String,
    model: String,
}

struct Latencies {
    p50: Duration,
    p99: Duration,
    errors: u64,
}

fn body(model: &str) -> String {
    json!({"model": model, "messages": [{"role": "user", "content": "What is the capital of Australia?"}]})
        .to_string()
}

async fn call(client: &reqwest::Client, t: &Target, body: &str) -> bool {
    let response = client
        .post(format!("{}/chat/completions", t.base))
        .bearer_auth(&t.key)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await;
    match response {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// Requests at `rate` per second to each of `targets` for `seconds`, open loop, interleaved:
/// one to each in turn, evenly spaced, so that all of them are measured at the same moments.
async fn fixed_rate(targets: &[&Target], rate: u64, seconds: u64) -> Vec<Latencies> {
    let client = reqwest::Client::new();
    let bodies: Vec<Arc<String>> = targets.iter().map(|t| Arc::new(body(&t.model))).collect();
    // Warm the connection pool.
    for (t, body) in targets.iter().zip(&bodies) {
        for _ in 0..20 {
            call(&client, t, body).await;
        }
    }
    let n = targets.len() as u64;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / (rate * n).max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for k in 0..rate * seconds * n {
        tick.tick().await;
        let i = (k % n) as usize;
        let (client, t, body, tx) = (
            client.clone(),
            targets[i].clone(),
            Arc::clone(&bodies[i]),
            tx.clone(),
        );
        tokio::spawn(async move {
            let start = Instant::now();
            let ok = call(&client, &t, &body).await;
            let _ = tx.send((i, start.elapsed(), ok));
        });
    }
    drop(tx);
    let mut times = vec![Vec::new(); targets.len()];
    let mut errors = vec![0; targets.len()];
    while let Some((i, d, ok)) = rx.recv().await {
        if ok {
            times[i].push(d);
        } else {
            errors[i] += 1;
        }
    }
    targets
        .iter()
        .zip(times)
        .zip(errors)
        .map(|((t, mut times), errors)| {
            times.sort();
            assert!(!times.is_empty(), "{}: no request succeeded", t.name);
            Latencies {
                p50: percentile(&times, 0.50),
                p99: percentile(&times, 0.99),
                errors,
            }
        })
        .collect()
}

/// Requests per second that `connections` connections get, each sending as soon as its last
/// reply is read.
async fn throughput(t: &Target, connections: usize, seconds: u64) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let body = Arc::new(body(&t.model));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (t, done, errors, stop, body) = (
            t.clone(),
            Arc::clone(&done),
            Arc::clone(&errors),
            Arc::clone(&stop),
            Arc::clone(&body),
        );
        tasks.push(tokio::spawn(async move {
            // One client per connection, so that each keeps its own.
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                if call(&client, &t, &body).await {
                    done.fetch_add(1, Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    (rate, errors.load(Ordering::Relaxed))
}

/// The bare forwarder: `POST /v1/chat/completions` passed to `upstream` (the mock's OpenAI base)
/// as it came, headers and body, and the reply back as it came. Runs on a runtime and threads
/// of its own; returns its base URL.
fn start_forwarder(upstream: String) -> String {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, StatusCode};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let client = reqwest::Client::new();
            let forward = move |headers: HeaderMap, body: Bytes| {
                let (client, url) = (client.clone(), format!("{upstream}/chat/completions"));
                async move {
                    let mut request = client.post(url).body(body);
                    for name in ["authorization", "content-type"] {
                        if let Some(v) = headers.get(name) {
                            request = request.header(name, v.as_bytes());
                        }
                    }
                    match request.send().await {
                        Ok(r) => {
                            let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                            (status, r.bytes().await.unwrap_or_default())
                        }
                        Err(_) => (StatusCode::BAD_GATEWAY, Bytes::new()),
                    }
                }
            };
            let app =
                axum::Router::new().route("/v1/chat/completions", axum::routing::post(forward));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://127.0.0.1:{port}/v1")
}

/// Peak resident memory of a process, in MB.
fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` (which builds and runs benches in test mode)
    // does not: then there is nothing to check here.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let o = <Options as clap::Parser>::parse_from(common::harness_args());
    let (_mock, mock_url) = start_mock();

    let dir = std::env::temp_dir().join(format!("byokd-gateway-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let byokd = Daemon::start(&dir, &["--http", &format!("127.0.0.1:{port}")]);
    let mut client = byokd.client();
    client
        .call(
            "config.save",
            json!({"user": "bench", "provider": "openai", "api_key": OPENAI_KEY,
                   "base_url": format!("{mock_url}/openai/v1")}),
        )
        .unwrap();
    let token = client.call("http.token", json!({"user": "bench"})).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut targets = vec![
        Target {
            name: "mock provider, directly",
            base: format!("{mock_url}/openai/v1"),
            key: OPENAI_KEY.to_owned(),
            model: "gpt-4o-mini".to_owned(),
        },
        Target {
            name: "byokd",
            base: format!("http://127.0.0.1:{port}/v1"),
            key: token,
            model: "gpt-4o-mini".to_owned(),
        },
        Target {
            name: "bare forwarder",
            base: start_forwarder(format!("{mock_url}/openai/v1")),
            key: OPENAI_KEY.to_owned(),
            model: "gpt-4o-mini".to_owned(),
        },
    ];
    if let Some(url) = &o.litellm {
        targets.push(Target {
            name: "LiteLLM proxy",
            base: url.trim_end_matches('/').to_owned(),
            key: o.litellm_key.clone(),
            model: "gpt-4o-mini".to_owned(),
        });
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{} s per phase; {} requests/s for latency; {} connections for throughput",
        o.seconds, o.rate, o.connections
    );
    let direct = &targets[0];
    for (n, t) in targets.iter().enumerate() {
        // The direct calls alone; every other target with direct calls interleaved, its added
        // latency taken against those.
        let (l, added) = if n == 0 {
            let l = runtime.block_on(fixed_rate(&[t], o.rate, o.seconds));
            (l.into_iter().next().unwrap(), String::new())
        } else {
            let mut both = runtime.block_on(fixed_rate(&[direct, t], o.rate, o.seconds));
            let (l, d) = (both.pop().unwrap(), both.pop().unwrap());
            let added = format!(
                "; added p50 {}, p99 {} (direct p50 {}, p99 {} alongside)",
                ms(l.p50.saturating_sub(d.p50)),
                ms(l.p99.saturating_sub(d.p99)),
                ms(d.p50),
                ms(d.p99)
            );
            (l, added)
        };
        let (rps, errors) = runtime.block_on(throughput(t, o.connections, o.seconds));
        println!(
            "{:<24} p50 {}, p99 {} at {}/s ({} errors){added}; max {:.0} requests/s at {} connections ({} errors)",
            t.name,
            ms(l.p50),
            ms(l.p99),
            o.rate,
            l.errors,
            rps,
            o.connections,
            errors
        );
        if t.name == "byokd" {
            if let Some(mb) = peak_rss_mb(byokd.pid()) {
                println!("{:<24} peak resident memory {mb:.1} MB", "byokd");
            }
            let recorded = client
                .call("usage.summary", json!({"user": "bench", "days": 1}))
                .unwrap()["totals"]["requests"]
                .clone();
            println!("{:<24} usage records stored: {recorded}", "byokd");
        }
    }
    drop(byokd); // and its folder
}
