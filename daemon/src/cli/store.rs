//! `byokit store copy`: a desktop store into PostgreSQL.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::CliError;
use crate::store::postgres::{copy_store, CopyProgress, PgStore};

/// `byokit store ...`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy a desktop store (a data dir's byokit.db) into a PostgreSQL database that several
    /// byokd share: configurations (keys still sealed), usage, budgets, alerts, routing settings
    /// and bearer tokens. Resumable and idempotent: run it again after an interruption, or
    /// twice, and nothing is copied twice. Stop the data dir's byokd first.
    Copy(CopyArgs),
}

/// `byokit store copy --from DIR --to URL`
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The data dir whose store is copied (its byokit.db and master key).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// The PostgreSQL database (postgres://user@host/db), migrated first if need be.
    #[arg(
        long,
        value_name = "URL",
        env = "BYOKIT_DATABASE_URL",
        hide_env_values = true
    )]
    pub to: String,
    /// Check the database server's TLS certificate against these CA certificates (PEM).
    #[arg(long, value_name = "FILE", env = "BYOKIT_DATABASE_CA_FILE")]
    pub database_ca_file: Option<PathBuf>,
}

pub(crate) fn run(c: StoreCommand, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let StoreCommand::Copy(args) = c;
    // The data dir's byokd must not write while its store is read.
    let _lock = crate::server::lock_data_dir(&args.from).map_err(CliError)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(async {
        let store = PgStore::connect(&args.to, None, args.database_ca_file.as_deref())
            .await
            .map_err(CliError)?;
        let bar = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "usage records {bar:40} {pos}/{len} ({per_sec}, {eta} left)",
            )
            .map_err(|e| CliError(e.to_string()))?,
        );
        let mut progress = |p: CopyProgress| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        };
        let report = copy_store(&args.from, &store, &mut progress)
            .await
            .map_err(CliError)?;
        bar.finish_and_clear();
        Ok::<_, CliError>(report)
    })?;
    writeln!(
        out,
        "copied {} configuration(s), {} usage record(s) ({} already there), {} budget, alert, \
         routing and token row(s)",
        report.configs, report.usage, report.usage_already_there, report.settings
    )?;
    Ok(())
}
