//! byokd, the local byokit daemon (encrypted key vault, SQLite usage store, JSON-RPC over a
//! local socket), the blocking client it shares with the CLI, and the `byokit` CLI itself.
//!
//! Layers, top to bottom, each knowing only those below it: the front ends (`rpc`'s socket,
//! [`http`]'s OpenAI-compatible door, [`rest`]'s settings endpoints) translate requests into [`service::Service`] calls; the
//! service decides with the core's rules and keeps what it decides in the [`store`]; the
//! `gateway` does the provider calls' I/O.

pub mod catalog_files;
pub mod cli;
pub mod client;
mod gateway;
pub mod http;
pub mod options;
pub mod paths;
pub mod rest;
mod rpc;
pub mod server;
pub mod service;
mod signals;
mod status;
pub mod store;
pub mod vault;

/// The target of byokd's log lines (`byokd: …` in text, `"target": "byokd"` in JSON).
pub(crate) const LOG: &str = "byokd";
