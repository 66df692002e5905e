//! The commands that talk to byokd: config, usage, route, budget, alerts, daemon.

mod admin;
mod budget;
mod calls;
mod config;
mod usage;

pub use admin::*;
pub use budget::*;
pub use calls::*;
pub use config::*;
pub use usage::*;

use std::path::PathBuf;

use clap::Args;
use serde_json::{json, Value};

use super::table::{tokens, usd};
use super::CliError;
use crate::client::Client;

/// Where byokd is, and who we act for.
pub(crate) struct Target {
    pub socket: PathBuf,
    /// The data dir to start byokd on when none answers; `None` when the socket was named
    /// without one (it may be another data dir's daemon).
    pub start_in: Option<PathBuf>,
    pub user: String,
}

impl Target {
    /// Connects, starting byokd when none is running and its data dir is known.
    fn connect(&self) -> Result<Client, CliError> {
        match &self.start_in {
            Some(data_dir) => Ok(Client::connect_or_start(&self.socket, data_dir)?),
            None => Client::connect(&self.socket).map_err(|e| {
                CliError(format!(
                    "{e}; no byokd answers on {}, and without --data-dir (or $BYOKIT_DATA_DIR) \
                     byokit does not know which data dir to start one on",
                    self.socket.display()
                ))
            }),
        }
    }

    fn call(&self, method: &str, mut params: Value) -> Result<Value, CliError> {
        params["user"] = json!(self.user);
        Ok(self.connect()?.call(method, params)?)
    }
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The catalog a running byokd prices with (its files merged over the built-in catalog), or
/// `None` when no daemon answers (none is started for this).
pub(crate) fn daemon_catalog(t: &Target) -> Result<Option<byokit_core::Catalog>, CliError> {
    let Ok(mut client) = Client::connect(&t.socket) else {
        return Ok(None);
    };
    let v = client.call("catalog.get", json!({}))?;
    let got: byokit_core::protocol::CatalogGetResult = serde_json::from_value(v)?;
    let today = time::OffsetDateTime::now_utc().date();
    let catalog = crate::catalog_files::build(&got.files, None, today).map_err(CliError)?;
    Ok(Some(catalog))
}
