//! byokd's IPC server: JSON-RPC 2.0, one message per line, over a Unix socket in a private
//! directory. Many clients at once; a bad message gets an error reply and the connection goes on.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use byokit_core::adapters::{
    build_chat_request, build_test_request, interpret_test_response, parse_chat_response,
    AdapterError, RequestOptions, StreamAccumulator, StreamSummary, StreamUsage, TestOutcome,
};
use byokit_core::budget::{Budget, Month};
use byokit_core::protocol::{
    codes, BudgetSetParams, ChatParams, ChatResult, ConfigDeleteResult, ConfigGetResult,
    ConfigSaveParams, ConfigTarget, ConfigTestResult, DaemonStatus, RouteParams, RoutingSetParams,
    UsageRecordParams, UsageSummaryParams, UserParams, MAX_MESSAGE_BYTES,
};
use byokit_core::routing::{KeyLimits, SystemKeyPolicy, UserKey};
use byokit_core::{
    approximate_chat, check_key, classify_error, route_in_catalog, what_if, ApiKey, Catalog,
    ChatRequest, ChatResponse, Decision, Headers, HttpRequest, KeyChoice, KeyStatus, Ledger,
    Method, Payer, ProviderError, RouteRequest, RoutingConfig, Usage, Window, Workload,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use crate::paths::{private_dir, private_file};
use crate::store::{
    Command, Commit, NewConfig, RoutingInputs, StoreError, StoreHandle, StoredConfig,
};
use crate::vault::{MasterKeyHome, Vault};

/// How byokd runs.
pub struct Options {
    /// The data directory (database, master key).
    pub data_dir: PathBuf,
    /// Where a new data dir keeps its master key (an existing one keeps it where it is; once
    /// byokd has started, where this one keeps it).
    pub master_key: MasterKeyHome,
    /// The socket path.
    pub socket: PathBuf,
    /// Where to serve the OpenAI-compatible HTTP endpoint (loopback only); off when `None`.
    pub http: Option<std::net::SocketAddr>,
    /// The app's shared system key.
    pub system: SystemKeyOptions,
    /// Timeouts of provider calls.
    pub timeouts: Timeouts,
    /// Log every request (method, outcome, time), not only failures.
    pub log_requests: bool,
}

/// The system key: read from an environment variable at start; when it is unset, users without
/// their own key are refused.
#[derive(Debug, Clone)]
pub struct SystemKeyOptions {
    /// The variable holding the key (`ANTHROPIC_API_KEY`).
    pub key_env: String,
    /// Which provider, model and monthly per-user token cap it serves.
    pub policy: SystemKeyPolicy,
    /// A base URL in place of the provider's (a proxy; a mock in tests).
    pub base_url: Option<String>,
}

/// How long byokd waits on a provider (byokd's flags give the defaults).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: std::time::Duration,
    /// Between two reads, the first byte included.
    pub read: std::time::Duration,
    /// For the whole call, streamed reply included.
    pub total: std::time::Duration,
}

pub(crate) struct State {
    store: StoreHandle,
    /// Replaced whole by a rotation, which holds it for writing from start to end, so that no
    /// key is sealed with the old master key once the rows have been re-sealed.
    vault: tokio::sync::RwLock<Arc<Vault>>,
    catalog: Catalog,
    started: Instant,
    options: Options,
    http: reqwest::Client,
    /// The system key, read from the environment at start; its policy and base URL are in
    /// `options.system`.
    system_key: Option<ApiKey>,
    pub(crate) http_tokens: crate::http::Tokens,
    /// What calls have taught byokd about each key since it started: when it was last used, and
    /// whether the provider refused it or it is failing for now. Routing rotates and skips by it.
    keys_seen: std::sync::Mutex<std::collections::HashMap<String, KeySeen>>,
    /// System-key tokens held by the calls running now, per user.
    system_holds: Arc<SystemHolds>,
    /// Per user, serializes routing decisions that the system key may pay for.
    system_locks: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    shutdown: watch::Sender<bool>,
}

/// System-key tokens held by the calls running now, per user.
type SystemHolds = std::sync::Mutex<std::collections::HashMap<String, Ledger<u64>>>;

impl State {
    /// The system key's policy, when there is a system key.
    fn system(&self) -> Option<&SystemKeyPolicy> {
        self.system_key
            .as_ref()
            .map(|_| &self.options.system.policy)
    }
}

/// A JSON-RPC error.
pub(crate) struct RpcError {
    pub(crate) code: i64,
    pub(crate) message: String,
    /// What a client can act on: `{"kind", …}` for provider errors and routing refusals.
    pub(crate) data: Option<Value>,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// A provider's error reply: its kind, status and retry-after in `data`.
    fn provider(e: &ProviderError) -> RpcError {
        RpcError {
            code: codes::PROVIDER_ERROR,
            message: e.to_string(),
            data: Some(json!({
                "kind": e.kind.as_str(),
                "status": e.status,
                "retry_after_seconds": e.retry_after.map(|d| d.as_secs_f64()),
            })),
        }
    }

    /// A refusal (routing's, a budget's), its kind in `data`.
    fn refused(kind: &str, e: &dyn std::fmt::Display) -> RpcError {
        RpcError {
            code: codes::REFUSED,
            message: e.to_string(),
            data: Some(json!({ "kind": kind })),
        }
    }

    /// The kind in `data`, if any.
    pub(crate) fn kind(&self) -> Option<&str> {
        self.data.as_ref()?.get("kind")?.as_str()
    }

    /// The provider's retry-after in `data`, if any.
    pub(crate) fn retry_after_seconds(&self) -> Option<f64> {
        self.data.as_ref()?.get("retry_after_seconds")?.as_f64()
    }
}

impl From<StoreError> for RpcError {
    fn from(e: StoreError) -> Self {
        RpcError::new(codes::INTERNAL, e.to_string())
    }
}

/// Runs byokd until `daemon.stop` or a termination signal.
pub async fn run(mut options: Options) -> Result<(), String> {
    private_dir(&options.data_dir)
        .map_err(|e| format!("data directory {}: {e}", options.data_dir.display()))?;
    if let Some(dir) = options.socket.parent() {
        private_dir(dir).map_err(|e| format!("socket directory {}: {e}", dir.display()))?;
    }
    if UnixStream::connect(&options.socket).await.is_ok() {
        return Err(format!(
            "a daemon is already listening on {}",
            options.socket.display()
        ));
    }
    let db = options.data_dir.join("byokit.db");
    let conn = crate::store::open(&db).map_err(|e| e.to_string())?;
    private_file(&db).map_err(|e| format!("database {}: {e}", db.display()))?;
    let check = crate::store::vault_check(&conn).map_err(|e| e.to_string())?;
    let home = crate::vault::master_key_home(&options.data_dir, options.master_key)
        .map_err(|e| e.to_string())?;
    if home != options.master_key {
        eprintln!("byokd: this data dir keeps its master key {home}; it stays there");
    }
    // From here on, where this data dir keeps it.
    options.master_key = home;
    let vault = Vault::open_checked(&options.data_dir, home, check.as_deref())
        .map_err(|e| e.to_string())?;
    if check.is_none() {
        crate::store::set_vault_check(&conn, &vault.seal_check()).map_err(|e| e.to_string())?;
    }
    // The socket appears only once the store and the vault are ready: a client that can connect
    // is served.
    let _ = std::fs::remove_file(&options.socket); // a stale socket of a daemon that died
    let listener = UnixListener::bind(&options.socket)
        .map_err(|e| format!("socket {}: {e}", options.socket.display()))?;
    private_file(&options.socket)
        .map_err(|e| format!("socket {}: {e}", options.socket.display()))?;

    let catalog = Catalog::embedded().clone();
    let (shutdown, mut stopped) = watch::channel(false);
    // The system key is read once; it never leaves this process except to its provider.
    let system_key = std::env::var(&options.system.key_env)
        .ok()
        .filter(|k| !k.trim().is_empty())
        .map(ApiKey::new);
    let state = Arc::new(State {
        store: StoreHandle::start(conn, catalog.clone())
            .map_err(|e| format!("opening the store: {e}"))?,
        vault: tokio::sync::RwLock::new(Arc::new(vault)),
        catalog,
        started: Instant::now(),
        http: reqwest::Client::builder()
            .connect_timeout(options.timeouts.connect)
            .read_timeout(options.timeouts.read)
            .timeout(options.timeouts.total)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?,
        system_key,
        http_tokens: crate::http::Tokens::load(&options.data_dir),
        keys_seen: Default::default(),
        system_holds: Default::default(),
        system_locks: Default::default(),
        shutdown,
        options,
    });
    eprintln!("byokd: listening on {}", state.options.socket.display());
    if let Some(addr) = state.options.http {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("--http {addr}: {e}"))?;
        eprintln!(
            "byokd: OpenAI-compatible endpoint on http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        tokio::spawn(crate::http::serve(Arc::clone(&state), listener));
    }
    // The socket file belongs to the user running byokd: peers must be that user.
    let uid = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(&state.options.socket)
            .map_err(|e| format!("socket {}: {e}", state.options.socket.display()))?,
    );
    // SIGTERM (a service manager's stop, `kill`) ends byokd the way `daemon.stop` does, usage
    // records of answered calls committed first.
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Only the OS user that runs byokd may talk to it.
                match stream.peer_cred() {
                    Ok(cred) if cred.uid() == uid => {}
                    _ => {
                        eprintln!("byokd: refused a connection from another user");
                        continue;
                    }
                }
                tokio::spawn(serve(Arc::clone(&state), stream));
            }
            _ = stopped.changed() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    let _ = std::fs::remove_file(&state.options.socket);
    // Every usage record sent so far (calls answered before their record committed) commits
    // before byokd exits.
    if let Err(e) = state.store.flush().await {
        eprintln!("byokd: could not finish storing usage: {e}");
    }
    eprintln!("byokd: stopped");
    Ok(())
}

/// A line as read from a connection.
enum Line {
    Message(Vec<u8>),
    /// A line over [`MAX_MESSAGE_BYTES`], skipped.
    TooLong,
    End,
}

/// Reads one line of at most [`MAX_MESSAGE_BYTES`]; a longer one is skipped to its end.
async fn read_line(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    buf: &mut Vec<u8>,
) -> std::io::Result<Line> {
    buf.clear();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                Line::TooLong
            } else if buf.is_empty() {
                Line::End
            } else {
                Line::Message(std::mem::take(buf))
            });
        }
        let (chunk, used, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_MESSAGE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        reader.consume(used);
        if done {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Message(std::mem::take(buf))
            });
        }
    }
}

/// Requests one connection may have in progress at once.
const IN_FLIGHT_PER_CONNECTION: usize = 256;

/// Serves one connection. Requests are handled concurrently (a client may send many before
/// reading replies, which come back as they finish, matched by `id`), so that concurrent
/// writes share transactions.
///
/// The reader passes each line to one task that runs the connection's requests and writes
/// their replies: replies that are ready together (a commit answers many records) go out in
/// one write.
async fn serve(state: Arc<State>, stream: UnixStream) {
    let (read, write) = stream.into_split();
    let (lines, inbox) = tokio::sync::mpsc::channel::<Line>(IN_FLIGHT_PER_CONNECTION);
    let requests = tokio::spawn(run_requests(state, inbox, write));
    let mut reader = BufReader::new(read);
    let mut buf = Vec::new();
    loop {
        let line = match read_line(&mut reader, &mut buf).await {
            Ok(Line::End) | Err(_) => break,
            Ok(Line::Message(line)) if line.iter().all(u8::is_ascii_whitespace) => continue,
            Ok(line) => line,
        };
        if lines.send(line).await.is_err() {
            break;
        }
    }
    drop(lines);
    let _ = requests.await;
}

/// Runs one connection's requests and writes their replies and notifications, until the reader
/// and every request are done.
async fn run_requests(
    state: Arc<State>,
    mut inbox: tokio::sync::mpsc::Receiver<Line>,
    mut write: tokio::net::unix::OwnedWriteHalf,
) {
    use futures_util::{FutureExt, StreamExt};
    let (notes, mut notes_inbox) = tokio::sync::mpsc::channel::<Vec<u8>>(IN_FLIGHT_PER_CONNECTION);
    let mut pending = futures_util::stream::FuturesUnordered::new();
    let mut out = Vec::new();
    let (mut reading, mut connected) = (true, true);
    while reading || !pending.is_empty() {
        tokio::select! {
            line = inbox.recv(), if reading && pending.len() < IN_FLIGHT_PER_CONNECTION => {
                match line {
                    Some(line) => {
                        let (state, notes) = (Arc::clone(&state), notes.clone());
                        pending.push(async move {
                            match line {
                                Line::Message(line) => handle(&state, &line, &notes).await,
                                Line::TooLong => {
                                    let e = RpcError::new(
                                        codes::INVALID_REQUEST,
                                        format!("message over {MAX_MESSAGE_BYTES} bytes"),
                                    );
                                    Some(reply_bytes(RawValue::NULL, &Err(e)))
                                }
                                Line::End => None, // the reader stops instead of sending it
                            }
                        }.boxed());
                    }
                    None => reading = false,
                }
            }
            Some(reply) = pending.next() => {
                // Every reply that is ready now goes out in the same write, each after the
                // notifications sent before it (a streaming call sends all of its own first).
                let mut ready = Some(reply);
                while let Some(reply) = ready {
                    while let Ok(note) = notes_inbox.try_recv() {
                        out.extend(note);
                    }
                    out.extend(reply.unwrap_or_default());
                    ready = pending.next().now_or_never().flatten();
                }
            }
            Some(note) = notes_inbox.recv() => out.extend(note),
        }
        // Once the client is gone, its requests still finish (a chat's usage is recorded) and
        // their replies are dropped; a streaming chat finds no one to stream to and stops.
        if connected && !out.is_empty() && write.write_all(&out).await.is_err() {
            connected = false;
            notes_inbox.close();
        }
        out.clear();
    }
}

/// A JSON-RPC request as read: its members stay JSON text until they are used, so that the
/// parameters are read once, straight into the method's type.
#[derive(Deserialize)]
struct Request<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    params: Option<&'a RawValue>,
}

/// A member that is present, even as `null` (a request with `"id": null` gets a reply, one
/// without an `id` does not).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// A reply: the request's `id` and either its result or its error.
#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorObject<'a>>,
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
}

/// One line of JSON.
fn json_line<T: Serialize>(message: &T) -> Vec<u8> {
    // Serializing these types into memory cannot fail.
    let mut bytes = serde_json::to_vec(message).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

fn reply_bytes(id: &RawValue, result: &Result<Box<RawValue>, RpcError>) -> Vec<u8> {
    let (result, error) = match result {
        Ok(value) => (Some(&**value), None),
        Err(e) => (
            None,
            Some(ErrorObject {
                code: e.code,
                message: &e.message,
                data: e.data.as_ref(),
            }),
        ),
    };
    json_line(&Reply {
        jsonrpc: "2.0",
        id,
        result,
        error,
    })
}

/// Handles one message: its reply line, or `None` for a notification (no `id`).
async fn handle(
    state: &State,
    line: &[u8],
    out: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Option<Vec<u8>> {
    let started = Instant::now();
    // A request is an object (serde would also read a struct from an array).
    let object = line.trim_ascii_start().starts_with(b"{");
    let request: Request<'_> = match serde_json::from_slice(line) {
        Ok(request) if object => request,
        _ => {
            // Valid JSON that is not a request object is an invalid request, not a parse error.
            let error = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
                Ok(_) => not_a_request(),
                Err(e) => RpcError::new(codes::PARSE_ERROR, format!("not JSON: {e}")),
            };
            return Some(reply_bytes(RawValue::NULL, &Err(error)));
        }
    };
    let text = |member: Option<&RawValue>| {
        member.and_then(|m| serde_json::from_str::<std::borrow::Cow<'_, str>>(m.get()).ok())
    };
    let (Some("2.0"), Some(method)) = (text(request.jsonrpc).as_deref(), text(request.method))
    else {
        return Some(reply_bytes(
            request.id.unwrap_or(RawValue::NULL),
            &Err(not_a_request()),
        ));
    };
    let params = request.params.map_or("{}", RawValue::get);
    let result = if method == "chat" {
        Box::pin(chat_call(state, params, request.id, out)).await
    } else {
        dispatch(state, &method, params).await
    };
    // The log names the method and the outcome, never the parameters (they may hold a key):
    // every failure, and with --log-requests every request.
    match &result {
        Ok(_) if state.options.log_requests => {
            eprintln!("byokd: {method} ok in {} µs", started.elapsed().as_micros())
        }
        Ok(_) => {}
        Err(e) => eprintln!("byokd: {method} error {}: {}", e.code, e.message),
    }
    Some(reply_bytes(request.id?, &result))
}

fn not_a_request() -> RpcError {
    RpcError::new(
        codes::INVALID_REQUEST,
        "not a JSON-RPC 2.0 request (needs \"jsonrpc\": \"2.0\" and a \"method\")",
    )
}

fn parse<T: DeserializeOwned>(params: &str) -> Result<T, RpcError> {
    serde_json::from_str(params)
        .map_err(|e| RpcError::new(codes::INVALID_PARAMS, format!("invalid params: {e}")))
}

fn to_value<T: Serialize>(v: T) -> Result<Box<RawValue>, RpcError> {
    serde_json::value::to_raw_value(&v).map_err(|e| RpcError::new(codes::INTERNAL, e.to_string()))
}

async fn dispatch(state: &State, method: &str, params: &str) -> Result<Box<RawValue>, RpcError> {
    match method {
        "config.save" => Box::pin(config_save(state, parse(params)?)).await,
        "config.get" => config_get(state, parse(params)?).await,
        "config.delete" => {
            let p: ConfigTarget = parse(params)?;
            let deleted = state
                .store
                .ask(|r| Command::DeleteConfig(p.user, p.provider, p.key_id, r))
                .await?;
            to_value(ConfigDeleteResult { deleted })
        }
        "config.test" => Box::pin(config_test(state, parse(params)?)).await,
        "usage.record" => {
            let p: UsageRecordParams = parse(params)?;
            if p.model.trim().is_empty() {
                return Err(RpcError::new(
                    codes::INVALID_PARAMS,
                    "invalid params: `model` is empty",
                ));
            }
            // Answered once the record has committed.
            let (_, committed) =
                state
                    .store
                    .send_record(p, OffsetDateTime::now_utc(), Commit::Now)?;
            let result = committed.await.map_err(|_| StoreError::Closed)??;
            to_value(result)
        }
        "usage.summary" => {
            let p: UsageSummaryParams = parse(params)?;
            let now = OffsetDateTime::now_utc();
            let window = Window::new(now, p.days)
                .map_err(|e| RpcError::new(codes::INVALID_PARAMS, e.to_string()))?;
            let cap = state.system().map(|s| s.monthly_token_cap);
            to_value(
                state
                    .store
                    .ask(|r| Command::Summary(p.user, window, cap, r))
                    .await?,
            )
        }
        "usage.export" => {
            let p: UsageSummaryParams = parse(params)?;
            let window = Window::new(OffsetDateTime::now_utc(), p.days)
                .map_err(|e| RpcError::new(codes::INVALID_PARAMS, e.to_string()))?;
            let mut events = state
                .store
                .ask(|r| Command::Events(p.user, window.start(), r))
                .await?;
            events.sort_by_key(|e| e.at);
            to_value(events)
        }
        "usage.compare" => {
            let p: UsageSummaryParams = parse(params)?;
            let window = Window::new(OffsetDateTime::now_utc(), p.days)
                .map_err(|e| RpcError::new(codes::INVALID_PARAMS, e.to_string()))?;
            let events = state
                .store
                .ask(|r| Command::Events(p.user, window.start(), r))
                .await?;
            let mut work: std::collections::HashMap<Workload, u64> =
                std::collections::HashMap::new();
            for e in &events {
                *work.entry(Workload::of(e)).or_default() += 1;
            }
            let work: Vec<(Workload, u64)> = work.into_iter().collect();
            to_value(what_if(&state.catalog, &work, u32::from(window.days)))
        }
        "route" => Box::pin(route_call(state, parse(params)?)).await,
        "budget.set" => {
            let p: BudgetSetParams = parse(params)?;
            let budget = Budget {
                monthly_limit_usd: p.monthly_limit_usd,
                policy: p.policy,
                alert_thresholds: p.alert_thresholds,
            };
            budget.validate().map_err(|e| {
                RpcError::new(codes::INVALID_PARAMS, format!("invalid params: {e}"))
            })?;
            state
                .store
                .ask(|r| Command::SetBudget(p.user, budget.clone(), r))
                .await?;
            to_value(budget)
        }
        "routing.set" => {
            let p: RoutingSetParams = parse(params)?;
            for (feature, m) in &p.settings.feature_models {
                if let Err(e) = state.catalog.model(m.provider, &m.model) {
                    return Err(RpcError {
                        data: Some(json!({"kind": "unknown_model"})),
                        ..RpcError::new(codes::NOT_FOUND, format!("feature {feature:?}: {e}"))
                    });
                }
            }
            let saved = state
                .store
                .ask(|r| Command::SetRouting(p.user, p.settings, r))
                .await?;
            to_value(saved)
        }
        "routing.get" => {
            let p: UserParams = parse(params)?;
            to_value(state.store.ask(|r| Command::Routing(p.user, r)).await?)
        }
        "budget.get" => {
            let p: UserParams = parse(params)?;
            let month = Month::containing(OffsetDateTime::now_utc());
            match state
                .store
                .ask(|r| Command::BudgetStatus(p.user, month, r))
                .await?
            {
                Some((budget, status)) => to_value(json!({"budget": budget, "status": status})),
                None => to_value(()),
            }
        }
        "alerts.list" => {
            let p: UserParams = parse(params)?;
            to_value(state.store.ask(|r| Command::Alerts(p.user, r)).await?)
        }
        "vault.rotate" => Box::pin(vault_rotate(state)).await,
        "http.token" => {
            let p: UserParams = parse(params)?;
            let token = state
                .http_tokens
                .token_for(&p.user)
                .map_err(|e| RpcError::new(codes::INTERNAL, format!("http tokens: {e}")))?;
            to_value(json!({"user": p.user, "token": token}))
        }
        "daemon.status" => to_value(DaemonStatus {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            uptime_seconds: state.started.elapsed().as_secs(),
            socket: state.options.socket.display().to_string(),
            data_dir: state.options.data_dir.display().to_string(),
            catalog_version: state.catalog.version().to_owned(),
        }),
        "daemon.stop" => {
            let _ = state.shutdown.send(true);
            to_value(json!({"stopping": true}))
        }
        other => Err(RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("unknown method `{other}`"),
        )),
    }
}

/// Re-encrypts every stored key under a new master key, crash-safely: the new key is written to
/// `master.key.new` first (a file, or a keyring entry of that name); one transaction re-seals
/// every row and records the new key's check value; only then does it replace `master.key`. A
/// crash before the commit leaves the old key in force; after it, the next start or rotation
/// puts the new key in place (`vault::finish_rotation`).
async fn vault_rotate(state: &State) -> Result<Box<RawValue>, RpcError> {
    use crate::vault::{finish_rotation, promote_master_key, stage_master_key, VaultError};
    let (data_dir, home) = (&state.options.data_dir, state.options.master_key);
    let internal = |e: String| RpcError::new(codes::INTERNAL, e);
    // Keyring calls block (a D-Bus round trip, perhaps an unlock prompt): off the async threads.
    let blocking = |f: &mut dyn FnMut() -> Result<(), VaultError>| {
        tokio::task::block_in_place(f).map_err(|e| internal(e.to_string()))
    };
    // One rotation at a time, and no key sealed meanwhile.
    let mut current = state.vault.write().await;
    // A rotation whose last step failed is finished first, not staged over.
    blocking(&mut || finish_rotation(data_dir, home, &current.seal_check()).map(drop))?;
    let master = Vault::new_master_key();
    let new =
        Arc::new(Vault::from_bytes(&master).ok_or_else(|| internal("new master key".into()))?);
    blocking(&mut || stage_master_key(data_dir, home, &master))?;
    let old = Arc::clone(&current);
    let sealer = Arc::clone(&new);
    let reseal: Box<crate::store::Resealer> = Box::new(move |user, provider, key_id, sealed| {
        let key = old
            .open_key(user, provider, key_id, sealed)
            .map_err(|e| e.to_string())?;
        Ok(sealer.seal(user, provider, key_id, &key))
    });
    let check = new.seal_check();
    let resealed = state
        .store
        .ask(|r| Command::Reseal(reseal, check, r))
        .await?;
    // Committed: the stored keys are sealed with the new key from now on, whatever follows.
    *current = new;
    blocking(&mut || promote_master_key(data_dir, home, &master)).map_err(|e| {
        internal(format!(
            "the keys are re-encrypted, but the new master key stays staged as master.key.new \
             (the next start or rotation puts it in place): {}",
            e.message
        ))
    })?;
    to_value(json!({"resealed": resealed}))
}

fn new_key_id() -> String {
    random_hex(8)
}

/// `bytes` random bytes from the OS, in hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut buf = vec![0u8; bytes];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

async fn config_save(state: &State, p: ConfigSaveParams) -> Result<Box<RawValue>, RpcError> {
    check_key(p.provider, p.api_key.expose())
        .map_err(|e| RpcError::new(codes::BAD_KEY, e.to_string()))?;
    if let Some(url) = &p.base_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(RpcError::new(
                codes::INVALID_PARAMS,
                "invalid params: `base_url` must start with http:// or https://",
            ));
        }
    }
    let key_id = new_key_id();
    // Held until the row is saved: a rotation waits for it.
    let vault = state.vault.read().await;
    let sealed = vault.seal(&p.user, p.provider, &key_id, &p.api_key);
    let config = NewConfig {
        user: p.user,
        key_id,
        provider: p.provider,
        sealed,
        masked: p.api_key.masked(),
        base_url: p.base_url,
        model: p.model,
        add: p.add,
    };
    let saved = state.store.ask(|r| Command::SaveConfig(config, r)).await?;
    drop(vault);
    to_value(saved)
}

async fn config_get(state: &State, p: UserParams) -> Result<Box<RawValue>, RpcError> {
    let configs: Vec<_> = state
        .store
        .ask(|r| Command::Configs(p.user, r))
        .await?
        .into_iter()
        .map(|c| c.view)
        .collect();
    to_value(ConfigGetResult {
        active: configs.iter().find(|c| c.is_active).cloned(),
        configs,
    })
}

async fn config_test(state: &State, p: ConfigTarget) -> Result<Box<RawValue>, RpcError> {
    let configs = state
        .store
        .ask(|r| Command::Configs(p.user.clone(), r))
        .await?;
    let config = configs
        .into_iter()
        .find(|c| match (&p.key_id, p.provider) {
            (Some(id), _) => &c.view.key_id == id,
            (None, Some(want)) => c.view.provider == want,
            (None, None) => c.view.is_active,
        })
        .ok_or_else(|| {
            RpcError::new(
                codes::NOT_FOUND,
                "no such configuration; save one with config.save",
            )
        })?;
    let provider = config.view.provider;
    let key: ApiKey = state
        .vault
        .read()
        .await
        .open_key(&p.user, provider, &config.view.key_id, &config.sealed)
        .map_err(|e| RpcError::new(codes::INTERNAL, e.to_string()))?;
    let options = RequestOptions {
        base_url: config.view.base_url.clone(),
        browser: false,
    };
    let request = build_test_request(provider, &key, &options);
    let unreachable = |message: String| ConfigTestResult {
        provider,
        outcome: "unreachable".into(),
        message: Some(message),
        models: vec![],
    };
    let (status, headers, body) = match send(&state.http, &request).await {
        Ok(r) => r,
        Err(e) => return to_value(unreachable(e)),
    };
    let result =
        match interpret_test_response(provider, status, &headers, &body, OffsetDateTime::now_utc())
        {
            Ok(TestOutcome::Valid { models, .. }) => ConfigTestResult {
                provider,
                outcome: "valid".into(),
                message: None,
                models,
            },
            Ok(TestOutcome::Failed { error }) => ConfigTestResult {
                provider,
                outcome: error.kind.as_str().into(),
                message: Some(error.message),
                models: vec![],
            },
            Err(e) => unreachable(e.to_string()),
        };
    to_value(result)
}

async fn route_call(state: &State, p: RouteParams) -> Result<Box<RawValue>, RpcError> {
    to_value(decide(state, p, false).await?.0)
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
    fn hold_actual(&self, tokens: u64) {
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

/// Routes a call for the user: the decision, and the user's routing inputs (configurations,
/// settings, budget). With `hold`, a call that the system key pays for holds its tokens until
/// its record has committed (see [`SystemHold`]), so that calls
/// running at once cannot pass the monthly cap together (each is checked against the month's
/// recorded tokens plus what the others hold).
async fn decide(
    state: &State,
    p: RouteParams,
    hold: bool,
) -> Result<(Decision, Arc<RoutingInputs>, Option<SystemHold>), RpcError> {
    // One decision at a time per user while the system key may pay: reading what is recorded
    // and holding the new call's share happen together.
    let lock = if state.system().is_some() {
        let lock = Arc::clone(
            state
                .system_locks
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
    // What calls in flight hold, read before what is recorded: a hold is dropped only after its
    // call's record has committed, so a call is always in one or the other (or, for a moment,
    // in both), never in neither.
    let held = {
        let mut holds = state.system_holds.lock().unwrap_or_else(|e| e.into_inner());
        holds.get_mut(&p.user).map_or(0, |ledger| {
            ledger.expire(now);
            ledger.reserved()
        })
    };
    // The user's configurations and settings come from memory unless they changed; the system
    // key's month is read only when there is a system key.
    let system_tokens = async {
        match state.system() {
            Some(_) => {
                state
                    .store
                    .ask(|r| Command::SystemTokens(p.user.clone(), Month::containing(now), r))
                    .await
            }
            None => Ok(0),
        }
    };
    let (inputs, used) = tokio::try_join!(state.store.routing_inputs(&p.user), system_tokens)?;
    let mut config = RoutingConfig {
        system: state.system().cloned(),
        fallback_chain: inputs.settings.fallback_chain.clone(),
        ..RoutingConfig::default()
    };
    config.models.by_feature = inputs.settings.feature_models.clone();
    {
        let seen = state.keys_seen.lock().unwrap_or_else(|e| e.into_inner());
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
    }
    let estimated = p.estimated_tokens;
    let request = RouteRequest {
        feature: p.feature,
        model: p.model,
        estimated_tokens: estimated,
    };
    let ledger = Ledger::new(used.saturating_add(held));
    let decision = route_in_catalog(&state.catalog, &config, &ledger, &request, now)
        .map_err(|e| RpcError::refused(e.kind(), &e))?;
    let system_hold = (hold && decision.payer == Payer::System).then(|| {
        let id = new_key_id();
        let ttl = time::Duration::try_from(state.options.timeouts.total)
            .unwrap_or(time::Duration::MINUTE * 10)
            + time::Duration::MINUTE;
        state
            .system_holds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(p.user.clone())
            .or_insert_with(|| Ledger::new(0))
            // No limit here: routing has just admitted it against the same figures.
            .reserve(id.clone(), estimated, None, now, ttl)
            .ok();
        SystemHold {
            holds: Arc::clone(&state.system_holds),
            user: p.user.clone(),
            id,
            ttl,
        }
    });
    drop(lock);
    // A blocking budget stops calls on the user's own keys once the month's spending reaches it
    // (read exactly, with every call recorded so far); outside the system key's lock, which
    // these calls do not touch.
    if let (Payer::User, Some(budget)) = (decision.payer, &inputs.budget) {
        if budget.enforced_limit().is_some() {
            let month = Month::containing(now);
            let spent = state
                .store
                .ask(|r| Command::BudgetStatus(p.user.clone(), month, r))
                .await?
                .map_or(byokit_core::Decimal::ZERO, |(_, status)| status.spent_usd);
            budget
                .admit(month, spent)
                .map_err(|e| RpcError::refused(e.kind(), &e))?;
        }
    }
    Ok((decision, inputs, system_hold))
}

/// Makes an AI call for the user with the key routing picks, and records its usage.
pub(crate) async fn chat(state: &State, p: ChatParams) -> Result<ChatResult, RpcError> {
    chat_with(state, p, None).await
}

/// Makes an AI call for the user with the key routing picks, and records its usage. With a
/// `sink`, the call streams: each text delta is sent to it as it comes, and if the receiver is
/// gone (the client disconnected) the call stops and what was generated is still recorded, with
/// the output estimated when the provider never said.
pub(crate) async fn chat_with(
    state: &State,
    p: ChatParams,
    sink: Option<tokio::sync::mpsc::Sender<String>>,
) -> Result<ChatResult, RpcError> {
    if p.messages.is_empty() {
        return Err(RpcError::new(
            codes::INVALID_PARAMS,
            "invalid params: `messages` is empty",
        ));
    }
    let mut request = ChatRequest {
        model: p.model.clone().unwrap_or_default(),
        system: p.system,
        messages: p.messages,
        max_output_tokens: p.max_output_tokens,
        temperature: p.temperature,
        stop: p.stop,
        stream: sink.is_some(),
    };
    // Approximated: exact counts settle the reservation, and the tokenizer tables would triple
    // byokd's memory.
    let (prompt, output) = approximate_chat(&request, 1024);
    let route = RouteParams {
        user: p.user.clone(),
        feature: p.feature.clone(),
        model: p.model.clone(),
        estimated_tokens: prompt.tokens + output,
    };
    // Held until the call's usage has committed.
    let (decision, inputs, system_hold) = decide(state, route, true).await?;
    // The routed key first, then the decision's fallbacks, each tried with retries. Once a reply
    // has started, it is not retried.
    let mut candidates = vec![(
        decision.provider,
        decision.model.clone(),
        decision.key.clone(),
    )];
    for f in &decision.fallbacks {
        candidates.push((
            f.provider,
            f.model.clone(),
            KeyChoice::User {
                key_id: f.key_id.clone(),
            },
        ));
    }
    let started = Instant::now();
    let mut last_error = RpcError::new(codes::UNREACHABLE, "no provider could be tried");
    let mut served = None;
    'candidates: for (provider, model, key_choice) in candidates {
        let (key, base_url) = credentials(state, &p.user, &key_choice, &inputs.configs).await?;
        let key_id = match &key_choice {
            KeyChoice::User { key_id } => Some(key_id.clone()),
            KeyChoice::System => None,
        };
        let learn = |status: Option<KeyStatus>| {
            if let Some(id) = &key_id {
                let mut seen = state.keys_seen.lock().unwrap_or_else(|e| e.into_inner());
                let k = seen.entry(id.clone()).or_default();
                match status {
                    Some(status) => k.status = status,
                    None => {
                        k.last_used_at = Some(OffsetDateTime::now_utc());
                        k.status = KeyStatus::Ok;
                    }
                }
            }
        };
        request.model = model.clone();
        let http = build_chat_request(
            provider,
            &request,
            &key,
            &RequestOptions {
                base_url,
                browser: false,
            },
        )
        .map_err(|e| RpcError::new(codes::INVALID_PARAMS, e.to_string()))?;
        for attempt in 0..=MAX_RETRIES {
            let wait = match open(&state.http, &http).await {
                Ok(response) if response.status().is_success() => {
                    learn(None);
                    served = Some((provider, model, response));
                    break 'candidates;
                }
                Ok(response) => {
                    let (status, headers, body) = read_all(response).await;
                    let e = classify_error(provider, status, &headers, &body);
                    last_error = RpcError::provider(&e);
                    if let Some(status) = KeyStatus::after_error(&e, OffsetDateTime::now_utc()) {
                        learn(Some(status));
                    }
                    // A bad key or a bad request is never retried, nor sent elsewhere.
                    if !e.kind.is_retryable() {
                        return Err(last_error);
                    }
                    e.retry_after
                }
                Err(e) => {
                    last_error =
                        RpcError::new(codes::UNREACHABLE, format!("{provider} unreachable: {e}"));
                    None
                }
            };
            let delay = backoff(attempt, wait);
            if attempt == MAX_RETRIES || delay > MAX_WAIT {
                break; // on to the next key or provider
            }
            tokio::time::sleep(delay).await;
        }
    }
    let Some((provider, routed_model, mut response)) = served else {
        return Err(last_error);
    };
    let (reply, outcome) = match sink {
        None => {
            let (_, _, body) = read_all(response).await;
            let reply = parse_chat_response(provider, &body).map_err(|e| match &e {
                AdapterError::Provider(pe) => RpcError::provider(pe),
                _ => RpcError::new(codes::PROVIDER_ERROR, e.to_string()),
            })?;
            (reply, "ok")
        }
        Some(sink) => {
            let mut acc = StreamAccumulator::new(provider);
            let mut outcome = "ok";
            'reading: loop {
                match response.chunk().await {
                    Ok(Some(bytes)) => match acc.push(&bytes) {
                        Ok(deltas) => {
                            for delta in deltas {
                                if sink.send(delta).await.is_err() {
                                    outcome = "client_disconnected";
                                    break 'reading;
                                }
                            }
                        }
                        Err(AdapterError::Provider(e)) => {
                            // An error event mid-stream: what came before it is still recorded.
                            last_error = RpcError::provider(&e);
                            outcome = "provider_error";
                            break 'reading;
                        }
                        Err(e) => {
                            last_error = RpcError::new(codes::PROVIDER_ERROR, e.to_string());
                            outcome = "provider_error";
                            break 'reading;
                        }
                    },
                    Ok(None) => break,
                    Err(_) => {
                        outcome = "stream_interrupted";
                        break;
                    }
                }
            }
            let text_so_far = acc.text().to_owned();
            let summary = acc.finish().unwrap_or(StreamSummary {
                text: text_so_far,
                finish_reason: None,
                model: None,
                usage: StreamUsage::Unknown {
                    estimate: Usage {
                        estimated: true,
                        ..Usage::default()
                    },
                },
            });
            let usage = match summary.usage {
                StreamUsage::Reported { usage } => usage,
                // Never zero: the output from the text, the prompt from its estimate, labelled.
                StreamUsage::Unknown { estimate } => Usage {
                    input_tokens: prompt.tokens,
                    ..estimate
                },
            };
            let reply = ChatResponse {
                text: summary.text,
                finish_reason: summary.finish_reason,
                model: summary.model.unwrap_or_default(),
                usage,
            };
            (reply, outcome)
        }
    };
    let decision = Decision {
        provider,
        model: routed_model,
        ..decision
    };
    let model = if reply.model.is_empty() {
        decision.model.clone()
    } else {
        reply.model.clone()
    };
    let now = OffsetDateTime::now_utc();
    let record = UsageRecordParams {
        user: p.user,
        provider: decision.provider,
        model: model.clone(),
        feature: p.feature,
        usage: reply.usage,
        payer: decision.payer,
        idempotency_key: None,
        // Priced by the store on the `now` it is sent with: the same as the reply's below.
        at: None,
        latency_ms: Some(started.elapsed().as_millis() as u64),
        outcome: Some(outcome.into()),
    };
    // The reply does not wait for the record's commit, which would make it wait for a disk
    // flush without keeping anything safer: a crash before the commit loses the record whether
    // the reply went out or not. The record commits within `store::LINGER`, sharing the commit
    // with the calls answered meanwhile. Reads of usage wait for it (`StoreHandle::flush`), and the
    // system key's hold, now of the call's actual tokens, stays until it has committed: routing
    // never misses the call (for a moment after the commit it may count it twice, never less).
    let (cost_usd, cost_status) =
        state
            .catalog
            .recorded_cost(record.provider, &record.model, &record.usage, now.date());
    if let Some(hold) = &system_hold {
        hold.hold_actual(reply.usage.total_tokens(decision.provider));
    }
    let (usage_id, committed) = state.store.send_record(record, now, Commit::Soon)?;
    // The store logs a failed commit; the hold, if any, waits for the commit's answer.
    if let Some(hold) = system_hold {
        tokio::spawn(async move {
            let _ = committed.await;
            drop(hold);
        });
    }
    if outcome == "provider_error" {
        return Err(last_error);
    }
    Ok(ChatResult {
        text: reply.text,
        finish_reason: reply.finish_reason,
        provider: decision.provider,
        model,
        payer: decision.payer,
        usage: reply.usage,
        usage_id,
        cost_usd,
        cost_status,
    })
}

/// `chat` over IPC. With `"stream": true` each text delta goes to the client as a `chat.delta`
/// notification (`{"id": <the request's id>, "text": "..."}`) before the result.
async fn chat_call(
    state: &State,
    params: &str,
    id: Option<&RawValue>,
    out: &tokio::sync::mpsc::Sender<Vec<u8>>,
) -> Result<Box<RawValue>, RpcError> {
    let p: ChatParams = parse(params)?;
    if !p.stream {
        return to_value(chat(state, p).await?);
    }
    let (tx, mut deltas) = tokio::sync::mpsc::channel::<String>(64);
    let (out, id) = (out.clone(), id.unwrap_or(RawValue::NULL).to_owned());
    let forward = tokio::spawn(async move {
        while let Some(text) = deltas.recv().await {
            let note = json!({"jsonrpc": "2.0", "method": "chat.delta", "params": {"id": id, "text": text}});
            if out.send(json_line(&note)).await.is_err() {
                return; // the client is gone; dropping `deltas` tells the call
            }
        }
    });
    let result = chat_with(state, p, Some(tx)).await;
    // Every delta is on its way before the result.
    let _ = forward.await;
    to_value(result?)
}

/// Retries of one key on a rate limit, an overload, a server error or a lost connection.
const MAX_RETRIES: u32 = 2;
/// The longest wait before a retry; a longer retry-after moves on to the next key or provider.
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// The wait before retry `attempt + 1`: jittered exponential backoff from 250 ms, at least the
/// provider's retry-after.
fn backoff(attempt: u32, retry_after: Option<std::time::Duration>) -> std::time::Duration {
    use chacha20poly1305::aead::rand_core::RngCore;
    let base = 250u64.saturating_mul(1 << attempt.min(10)).min(8_000);
    let jitter = chacha20poly1305::aead::OsRng.next_u64() % (base / 2 + 1);
    let backoff = std::time::Duration::from_millis(base / 2 + jitter);
    retry_after.map_or(backoff, |r| r.max(backoff))
}

/// The key and base URL of a routed choice.
async fn credentials(
    state: &State,
    user: &str,
    choice: &KeyChoice,
    configs: &[StoredConfig],
) -> Result<(ApiKey, Option<String>), RpcError> {
    match choice {
        KeyChoice::User { key_id } => {
            let c = configs
                .iter()
                .find(|c| &c.view.key_id == key_id)
                .ok_or_else(|| {
                    RpcError::new(codes::NOT_FOUND, "the routed configuration is gone")
                })?;
            let key = state
                .vault
                .read()
                .await
                .open_key(user, c.view.provider, key_id, &c.sealed)
                .map_err(|e| RpcError::new(codes::INTERNAL, e.to_string()))?;
            Ok((key, c.view.base_url.clone()))
        }
        KeyChoice::System => {
            let key = state
                .system_key
                .clone()
                .ok_or_else(|| RpcError::new(codes::REFUSED, "no system key"))?;
            Ok((key, state.options.system.base_url.clone()))
        }
    }
}

/// What byokd has learnt about a key from its calls.
#[derive(Debug, Clone, Default)]
struct KeySeen {
    last_used_at: Option<OffsetDateTime>,
    status: KeyStatus,
}

/// Sends a request the core built; returns the response as it starts.
async fn open(http: &reqwest::Client, request: &HttpRequest) -> Result<reqwest::Response, String> {
    let mut builder = match request.method {
        Method::Get => http.get(&request.url),
        Method::Post => http.post(&request.url),
    };
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    // reqwest's errors name the URL at most, never the headers that carry the key.
    builder
        .send()
        .await
        .map_err(|e| e.without_url().to_string())
}

/// A whole response: status, headers, body (empty if it broke off).
async fn read_all(response: reqwest::Response) -> (u16, Headers, Vec<u8>) {
    let status = response.status().as_u16();
    let headers: Headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| {
            v.to_str()
                .ok()
                .map(|v| (n.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let body = response
        .bytes()
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (status, headers, body)
}

/// Sends a request the core built; returns status, headers and body.
async fn send(
    http: &reqwest::Client,
    request: &HttpRequest,
) -> Result<(u16, Headers, Vec<u8>), String> {
    Ok(read_all(open(http, request).await?).await)
}
