//! `byokd`: the local byokit daemon. Keeps API keys encrypted, usage in SQLite, and answers
//! JSON-RPC on a local socket. Runs in the foreground; `byokit` starts it in the background.

use std::path::PathBuf;
use std::process::ExitCode;

use byokit_daemon::paths::{default_data_dir, default_socket};
use std::time::Duration;

use byokit_core::routing::SystemKeyPolicy;
use byokit_core::Provider;
use byokit_daemon::options::DatabaseOptions;
use byokit_daemon::server::{run, Options, SystemKeyOptions, Timeouts};
use byokit_daemon::vault::MasterKeyHome;
use clap::Parser;

/// byokd: the local byokit daemon.
#[derive(Parser)]
#[command(name = "byokd", version, about)]
struct Args {
    /// Where the database and the master key live (default: $BYOKIT_DATA_DIR or ~/.local/share/byokit;
    /// on Windows %LOCALAPPDATA%\byokit).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The socket to listen on (default: $BYOKIT_SOCKET or $XDG_RUNTIME_DIR/byokit/byokd.sock; on
    /// Windows the named pipe \\.\pipe\byokit-%USERNAME%).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Also serve an OpenAI-compatible HTTP endpoint and the REST API on this loopback address
    /// (e.g. 127.0.0.1:8787); another address only with --http-public.
    #[arg(long, value_name = "ADDR")]
    http: Option<std::net::SocketAddr>,
    /// The REST API's callers.
    #[command(flatten)]
    rest: byokit_daemon::rest::RestArgs,
    /// The environment variable holding the app's system key, for users without their own.
    #[arg(long, value_name = "VAR", default_value = "ANTHROPIC_API_KEY")]
    system_key_env: String,
    /// The system key's provider.
    #[arg(long, value_name = "PROVIDER", default_value = "anthropic")]
    system_provider: Provider,
    /// The system key's model (default: the provider's default model in byokit's catalog; `byokit
    /// models` lists them).
    #[arg(long, value_name = "MODEL")]
    system_model: Option<String>,
    /// Tokens each user may use through the system key per calendar month (UTC).
    #[arg(long, value_name = "TOKENS", default_value_t = 1_000_000)]
    system_token_cap: u64,
    /// The system key's base URL, in place of the provider's (default: $BYOKIT_SYSTEM_BASE_URL).
    #[arg(long, value_name = "URL", env = "BYOKIT_SYSTEM_BASE_URL")]
    system_base_url: Option<String>,
    /// Seconds to open a connection to a provider.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    connect_timeout: f64,
    /// Seconds a provider may stay silent, before its first byte or between two reads.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    read_timeout: f64,
    /// Seconds a whole provider call may take, streamed reply included.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    total_timeout: f64,
    /// Log every request (method, outcome and time) on standard error, not only failures.
    #[arg(long)]
    log_requests: bool,
    /// How log lines are written on standard error: `text`, or `json` (one object a line, with
    /// `timestamp`, `level`, `target`, `message` and the request's fields).
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    log_format: LogFormat,
    /// The least severe level logged (`error`, `warn`, `info`, `debug`, `trace`), or a filter
    /// such as `byokd=debug,info`. Parameters and keys are never logged, at any level.
    #[arg(long, value_name = "LEVEL", default_value = "info", env = "BYOKIT_LOG")]
    log_level: String,
    /// Where a new data dir keeps its master key: `file` (`master.key`, mode 0600) or `keyring`
    /// (the OS keyring: the Secret Service, the Keychain, the Credential Manager). An existing
    /// data dir keeps it where it is; one whose key is in the keyring does not start without it.
    #[arg(
        long,
        value_name = "WHERE",
        default_value = "file",
        env = "BYOKIT_MASTER_KEY"
    )]
    master_key: MasterKeyHome,
    /// A catalog file merged over the built-in one (byokit TOML/JSON, LiteLLM's or genai-prices'
    /// JSON, detected from the content); may be given several times, later files win. Read again
    /// on `catalog.reload` and SIGHUP. Also read from BYOKIT_CATALOG.
    #[arg(long, value_name = "FILE", env = "BYOKIT_CATALOG")]
    catalog: Vec<PathBuf>,
    /// Accept a configuration's base URL in plain http:// to another machine (the key would
    /// cross the network unencrypted); by default only https://, or http:// to loopback.
    #[arg(long)]
    allow_http_base_url: bool,
    /// Keep configurations and usage in this PostgreSQL database (postgres://user@host/db, TLS
    /// with sslmode=require) instead of byokit.db, shared with other byokd; migrated at start.
    /// Several byokd on one database each have their own data dir holding the same master.key.
    #[arg(
        long,
        value_name = "URL",
        env = "BYOKIT_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Apply the database's migrations as this role (the tables' owner) before serving as
    /// --database-url's role, which then need not own them.
    #[arg(
        long,
        value_name = "URL",
        env = "BYOKIT_DATABASE_OWNER_URL",
        hide_env_values = true,
        requires = "database_url"
    )]
    database_owner_url: Option<String>,
    /// Check the database server's TLS certificate against these CA certificates (PEM) instead
    /// of the Mozilla roots: a database whose certificate a private CA signed.
    #[arg(
        long,
        value_name = "FILE",
        env = "BYOKIT_DATABASE_CA_FILE",
        requires = "database_url"
    )]
    database_ca_file: Option<PathBuf>,
}

/// How log lines are written.
#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    /// One line of text a message.
    Text,
    /// One JSON object a line.
    Json,
}

/// Sends byokd's log lines to standard error, as `format` says, from `level` on.
fn init_logs(format: LogFormat, level: &str) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| format!("--log-level {level}: {e}"))?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    match format {
        LogFormat::Text => logs.try_init(),
        LogFormat::Json => logs.json().flatten_event(true).try_init(),
    }
    .map_err(|e| format!("logs: {e}"))
}

/// A positive number of seconds.
fn seconds(flag: &str, value: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("--{flag} {value}: expected a positive number of seconds"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = init_logs(args.log_format, &args.log_level) {
        eprintln!("byokd: {e}");
        return ExitCode::FAILURE;
    }
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let socket = args.socket.unwrap_or_else(|| default_socket(&data_dir));
    if let Some(addr) = args
        .http
        .filter(|a| !a.ip().is_loopback() && !args.rest.http_public)
    {
        eprintln!("byokd: --http {addr}: only a loopback address (127.0.0.1, ::1) is allowed without --http-public");
        return ExitCode::FAILURE;
    }
    let rest = match args.rest.options() {
        Ok(rest) => rest,
        Err(e) => {
            eprintln!("byokd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let timeouts = match (|| {
        Ok::<_, String>(Timeouts {
            connect: seconds("connect-timeout", args.connect_timeout)?,
            read: seconds("read-timeout", args.read_timeout)?,
            total: seconds("total-timeout", args.total_timeout)?,
        })
    })() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("byokd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let system_model = args
        .system_model
        .unwrap_or_else(|| byokit_core::routing::default_model(args.system_provider).to_owned());
    let system = SystemKeyOptions {
        key_env: args.system_key_env,
        policy: SystemKeyPolicy {
            provider: args.system_provider,
            model: system_model,
            monthly_token_cap: args.system_token_cap,
        },
        base_url: args.system_base_url,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("byokd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Options {
        data_dir,
        socket,
        http: args.http,
        rest,
        system,
        timeouts,
        log_requests: args.log_requests,
        master_key: args.master_key,
        catalog: args.catalog,
        allow_http_base_url: args.allow_http_base_url,
        database: args.database_url.map(|url| DatabaseOptions {
            url,
            owner_url: args.database_owner_url,
            ca_file: args.database_ca_file,
        }),
    })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("byokd: {e}");
            ExitCode::FAILURE
        }
    }
}
