//! The `byokit` command line: argument parsing, catalog loading, and one module per command.

mod cost;
mod daemon;
mod models;
mod store;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use byokit_core::{Catalog, CatalogFormat};
use clap::{Parser, Subcommand};

/// byokit: bring-your-own-key prices, costs and usage for LLM providers.
#[derive(Debug, Parser)]
#[command(name = "byokit", version, about, long_about = None)]
pub struct Cli {
    /// A catalog file merged over the built-in one: byokit TOML/JSON, LiteLLM's
    /// model_prices_and_context_window.json or genai-prices data.json (detected from the content).
    /// May be given several times; later files win. Also read from BYOKIT_CATALOG.
    #[arg(long, global = true, env = "BYOKIT_CATALOG", value_name = "FILE")]
    pub catalog: Vec<PathBuf>,

    /// The format of the --catalog files, when detection is not wanted.
    #[arg(long, global = true, value_name = "byokit|litellm|genai-prices")]
    pub catalog_format: Option<CatalogFormat>,

    /// byokd's socket (default: $BYOKIT_SOCKET, else $XDG_RUNTIME_DIR/byokit/byokd.sock, else in
    /// the data directory; on Windows the named pipe \\.\pipe\byokit-%USERNAME%).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// byokd's data directory, for starting it (default: $BYOKIT_DATA_DIR or ~/.local/share/byokit;
    /// on Windows %LOCALAPPDATA%\byokit).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The user to act for (the spec's clerk_id).
    #[arg(long, global = true, default_value = byokit_core::protocol::DEFAULT_USER)]
    pub user: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The exact cost of a call, from token counts as the provider reports them.
    Cost(cost::CostArgs),
    /// The models in the catalog with their prices per million tokens.
    Models(models::ModelsArgs),
    /// API key configurations (kept encrypted by byokd).
    #[command(subcommand)]
    Config(daemon::ConfigCommand),
    /// Usage: a summary over the last N days, or `usage record`.
    Usage(daemon::UsageArgs),
    /// Who would serve and pay for a call now, and why.
    Route(daemon::RouteArgs),
    /// Ask a model through byokd, with the key routing picks; the usage is recorded.
    Chat(daemon::ChatArgs),
    /// Fallback providers and per-feature models.
    #[command(subcommand)]
    Routing(daemon::RoutingCommand),
    /// The monthly budget.
    #[command(subcommand)]
    Budget(daemon::BudgetCommand),
    /// Budget alerts fired.
    Alerts(daemon::JsonFlag),
    /// What your own usage would have cost on every model of the catalog.
    Compare(daemon::CompareArgs),
    /// The key vault.
    #[command(subcommand)]
    Vault(daemon::VaultCommand),
    /// The OpenAI-compatible HTTP endpoint (`byokd --http 127.0.0.1:PORT`).
    #[command(subcommand)]
    Http(daemon::HttpCommand),
    /// The daemon itself.
    #[command(subcommand)]
    Daemon(daemon::DaemonCommand),
    /// The store itself: `store copy` moves a desktop store into PostgreSQL.
    #[command(subcommand)]
    Store(store::StoreCommand),
}

/// A failure reported to the user as one line on stderr, with exit code 1.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    match run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("byokit: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one parsed command, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let catalog = || load_catalog(&cli.catalog, cli.catalog_format);
    let data_dir = cli
        .data_dir
        .clone()
        .unwrap_or_else(crate::paths::default_data_dir);
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| crate::paths::default_socket(&data_dir));
    // A socket named without its data dir may belong to a daemon of any data dir: byokd is
    // started only for a data dir the user chose or the default socket's own.
    let named =
        |flag: bool, var: &str| flag || std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let start_in = (!named(cli.socket.is_some(), "BYOKIT_SOCKET")
        || named(cli.data_dir.is_some(), "BYOKIT_DATA_DIR"))
    .then_some(data_dir);
    let daemon = daemon::Target {
        socket,
        start_in,
        user: cli.user.clone(),
    };
    match cli.command {
        Command::Cost(args) => cost::run(&catalog()?, &args, out),
        Command::Models(args) => {
            // Without --catalog, a running byokd's catalog (the one it prices with).
            let from_daemon = match cli.catalog.is_empty() {
                true => daemon::daemon_catalog(&daemon)?,
                false => None,
            };
            match from_daemon {
                Some(c) => models::run(&c, &args, out),
                None => models::run(&catalog()?, &args, out),
            }
        }
        Command::Config(c) => daemon::config(&daemon, c, out),
        Command::Usage(a) => daemon::usage(&daemon, a, out),
        Command::Route(a) => daemon::route(&daemon, a, out),
        Command::Chat(a) => daemon::chat(&daemon, a, out),
        Command::Routing(c) => daemon::routing(&daemon, c, out),
        Command::Budget(c) => daemon::budget(&daemon, c, out),
        Command::Alerts(a) => daemon::alerts(&daemon, a, out),
        Command::Compare(a) => daemon::compare(&daemon, a, out),
        Command::Vault(c) => daemon::vault(&daemon, c, out),
        Command::Http(c) => daemon::http(&daemon, c, out),
        Command::Daemon(c) => daemon::daemon(&daemon, c, out),
        Command::Store(c) => store::run(c, out),
    }
}

/// The built-in catalog with the given files merged over it, in order.
fn load_catalog(files: &[PathBuf], format: Option<CatalogFormat>) -> Result<Catalog, CliError> {
    let today = time::OffsetDateTime::now_utc().date();
    let sources = crate::catalog_files::read(files).map_err(CliError)?;
    crate::catalog_files::build(&sources, format, today).map_err(CliError)
}

/// Writes a JSON value, pretty-printed, with a final newline.
fn write_json(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
