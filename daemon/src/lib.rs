//! byokd, the local byokit daemon (encrypted key vault, SQLite usage store, JSON-RPC over a
//! local socket), the blocking client it shares with the CLI, and the `byokit` CLI itself.

pub mod cli;
pub mod client;
pub mod http;
pub mod paths;
pub mod server;
pub mod store;
pub mod vault;
