//! `byokit config`: the user's provider keys.

use std::io::Read;

use byokit_core::instant;
use byokit_core::protocol::{ConfigDeleteResult, ConfigGetResult, ConfigTestResult, ConfigView};
use byokit_core::Provider;
use clap::Subcommand;
use serde_json::json;

use super::*;
use crate::cli::{write_json, CliError};

/// `byokit config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the configurations, keys masked.
    Get(JsonFlag),
    /// Save a key, read from standard input (never from the command line); it becomes active.
    Save {
        /// The provider: openai, anthropic, groq, gemini or mistral.
        #[arg(long)]
        provider: String,
        /// A base URL (a proxy, or a mock provider).
        #[arg(long)]
        base_url: Option<String>,
        /// The model to use with it.
        #[arg(long)]
        model: Option<String>,
        /// Keep the provider's other keys: calls rotate among them (without it, the new key
        /// replaces them).
        #[arg(long)]
        add: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a provider's configuration (the active one by default). Usage history stays.
    Delete {
        /// The provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only this key (its id is in `config get --json`).
        #[arg(long)]
        key_id: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Test a configuration with a cheap real request to the provider.
    Test {
        /// The provider (the active configuration's by default).
        #[arg(long)]
        provider: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn provider(name: &Option<String>) -> Result<Option<Provider>, CliError> {
    Ok(name.as_deref().map(str::parse).transpose()?)
}

pub(crate) fn config(
    t: &Target,
    command: ConfigCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match command {
        ConfigCommand::Get(f) => {
            let v = t.call("config.get", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            let got: ConfigGetResult = serde_json::from_value(v)?;
            if got.configs.is_empty() {
                writeln!(
                    out,
                    "no API key configured for {}: the system key is used",
                    t.user
                )?;
            }
            for c in got.configs {
                writeln!(
                    out,
                    "{}{}  {}  saved {}{}{}",
                    if c.is_active { "* " } else { "  " },
                    c.provider,
                    c.api_key,
                    instant::format(c.saved_at).unwrap_or_default(),
                    c.model.map(|m| format!("  model {m}")).unwrap_or_default(),
                    c.base_url.map(|u| format!("  {u}")).unwrap_or_default(),
                )?;
            }
            Ok(())
        }
        ConfigCommand::Save {
            provider: p,
            base_url,
            model,
            add,
            json: as_json,
        } => {
            let p: Provider = p.parse()?;
            let mut key = String::new();
            std::io::stdin().read_to_string(&mut key)?;
            let key = key.trim_end_matches(['\n', '\r']);
            let v = t.call(
                "config.save",
                json!({"provider": p, "api_key": key, "base_url": base_url, "model": model, "add": add}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            let saved: ConfigView = serde_json::from_value(v)?;
            writeln!(
                out,
                "saved {} key {} as the active configuration",
                p, saved.api_key
            )?;
            Ok(())
        }
        ConfigCommand::Delete {
            provider: p,
            key_id,
            json: as_json,
        } => {
            let v = t.call(
                "config.delete",
                json!({"provider": provider(&p)?, "key_id": key_id}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            let r: ConfigDeleteResult = serde_json::from_value(v)?;
            writeln!(
                out,
                "deleted {} configuration(s); usage history is kept",
                r.deleted
            )?;
            Ok(())
        }
        ConfigCommand::Test {
            provider: p,
            json: as_json,
        } => {
            let v = t.call("config.test", json!({"provider": provider(&p)?}))?;
            if as_json {
                return write_json(out, &v);
            }
            let r: ConfigTestResult = serde_json::from_value(v)?;
            match r.outcome.as_str() {
                "valid" => writeln!(
                    out,
                    "{}: the key works ({} models reachable)",
                    r.provider,
                    r.models.len()
                )?,
                outcome => {
                    return Err(CliError(format!(
                        "{}: {}: {}",
                        r.provider,
                        outcome.replace('_', " "),
                        r.message.unwrap_or_default()
                    )))
                }
            }
            Ok(())
        }
    }
}
