//! `byokit http`, `byokit vault`, `byokit daemon`: tokens, the master key, byokd itself.

use byokit_core::protocol::{DaemonStatus, HttpTokenInfo, HttpTokenResult, VaultRotateResult};
use clap::{Args, Subcommand};
use serde_json::json;

use super::*;
use crate::cli::{write_json, CliError};

/// `byokit http ...`
#[derive(Debug, Subcommand)]
pub enum HttpCommand {
    /// The user's bearer token for the HTTP endpoint (created on first use, the same until
    /// revoked); `list` and `revoke` manage the user's tokens.
    Token(TokenArgs),
}

/// `byokit http token [--name NAME] [list | revoke NAME]`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TokenArgs {
    /// The token's name (one per app or device).
    #[arg(long, default_value = "default")]
    pub name: String,
    /// List or revoke tokens instead of showing one.
    #[command(subcommand)]
    pub action: Option<TokenAction>,
}

/// `byokit http token list|revoke`
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// The user's tokens: names and creation dates (never the tokens).
    List(JsonFlag),
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

pub(crate) fn http(
    t: &Target,
    c: HttpCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let HttpCommand::Token(args) = c;
    match args.action {
        None => {
            let r: HttpTokenResult =
                serde_json::from_value(t.call("http.token", json!({"name": args.name}))?)?;
            writeln!(out, "{}", r.token)?;
        }
        Some(TokenAction::List(f)) => {
            let v = t.call("http.token.list", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            let tokens: Vec<HttpTokenInfo> = serde_json::from_value(v)?;
            if tokens.is_empty() {
                writeln!(out, "no tokens; `byokit http token` makes one")?;
            }
            for token in tokens {
                writeln!(out, "{}  created {}", token.name, token.created_at.date())?;
            }
        }
        Some(TokenAction::Revoke { name }) => {
            t.call("http.token.revoke", json!({"name": name}))?;
            writeln!(out, "revoked the token {name:?}")?;
        }
    }
    Ok(())
}

/// `byokit vault ...`
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-encrypt every stored key under a new master key (crash-safe).
    Rotate,
}

pub(crate) fn vault(
    t: &Target,
    c: VaultCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        VaultCommand::Rotate => {
            let v = t.connect()?.call("vault.rotate", json!({}))?;
            let r: VaultRotateResult = serde_json::from_value(v)?;
            writeln!(
                out,
                "master key rotated; {} stored key(s) re-encrypted",
                r.resealed
            )?;
            Ok(())
        }
    }
}

/// `byokit daemon ...`
#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Show the running daemon (starting it if needed).
    Status(JsonFlag),
    /// Stop it.
    Stop,
}

pub(crate) fn daemon(
    t: &Target,
    c: DaemonCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        DaemonCommand::Status(f) => {
            let v = t.call("daemon.status", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            let s: DaemonStatus = serde_json::from_value(v)?;
            writeln!(
                out,
                "byokd {} (pid {}), up {} s, socket {}, data {}, catalog {}",
                s.version, s.pid, s.uptime_seconds, s.socket, s.data_dir, s.catalog_version
            )?;
            Ok(())
        }
        DaemonCommand::Stop => {
            match Client::connect(&t.socket) {
                Ok(mut c) => {
                    c.call("daemon.stop", json!({}))?;
                    writeln!(out, "byokd stopped")?;
                }
                Err(_) => writeln!(out, "byokd is not running")?,
            }
            Ok(())
        }
    }
}
