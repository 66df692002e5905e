//! byokd's service: every operation of the daemon as a typed method that returns one typed
//! error ([`byokit_core::protocol::Error`]). The front ends (JSON-RPC over the local socket, the
//! OpenAI-compatible HTTP door) only translate requests into these calls and errors into their
//! own form; the store below keeps what the service decides, and the core makes every rule.

mod catalog;
mod chat;
mod config;
mod routing;
mod tokens;
mod usage;
mod vault;

use std::sync::Arc;
use std::time::Instant;

use byokit_core::protocol::{CatalogSource, DaemonStatus, Error, ErrorKind};
use byokit_core::routing::SystemKeyPolicy;
use byokit_core::{ApiKey, Catalog};
use tokio::sync::watch;

use crate::gateway::Gateway;
use crate::options::Options;
use crate::store::{Store, StoreError};
use crate::vault::Vault;

pub(crate) use routing::KeySeen;
pub(crate) use vault::resealer;

/// What a service method returns.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// byokd's state and operations: one per daemon, shared by its front ends.
pub struct Service {
    store: Arc<dyn Store>,
    /// Replaced whole by a rotation, which holds it for writing from start to end, so that no
    /// key is sealed with the old master key once the rows have been re-sealed.
    vault: tokio::sync::RwLock<Arc<Vault>>,
    /// The built-in catalog with `options.catalog`'s files merged over it; replaced whole by a
    /// reload.
    catalog: std::sync::RwLock<Arc<Catalog>>,
    /// The files merged into `catalog`, as read.
    catalog_sources: std::sync::RwLock<Arc<Vec<CatalogSource>>>,
    started: Instant,
    options: Options,
    gateway: Gateway,
    /// The system key, read from the environment at start; its policy and base URL are in
    /// `options.system`.
    system_key: Option<ApiKey>,
    /// The users of the bearer tokens seen lately, by the tokens' SHA-256.
    token_users: std::sync::RwLock<std::collections::HashMap<crate::store::TokenHash, String>>,
    /// What calls have taught byokd about each key since it started: when it was last used, and
    /// whether the provider refused it or it is failing for now. Routing rotates and skips by it.
    keys_seen: std::sync::Mutex<std::collections::HashMap<String, KeySeen>>,
    shutdown: watch::Sender<bool>,
}

impl Service {
    /// The service over an open store and vault. `options.master_key` is where this data dir
    /// keeps its master key.
    pub(crate) fn new(
        options: Options,
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        catalog: Catalog,
        catalog_sources: Vec<CatalogSource>,
    ) -> Result<Service, String> {
        // The system key is read once; it never leaves this process except to its provider.
        let system_key = std::env::var(&options.system.key_env)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(ApiKey::new);
        Ok(Service {
            store,
            vault: tokio::sync::RwLock::new(vault),
            catalog: std::sync::RwLock::new(Arc::new(catalog)),
            catalog_sources: std::sync::RwLock::new(Arc::new(catalog_sources)),
            started: Instant::now(),
            gateway: Gateway::new(&options.timeouts)?,
            system_key,
            token_users: Default::default(),
            keys_seen: Default::default(),
            shutdown: watch::channel(false).0,
            options,
        })
    }

    /// How byokd runs.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The catalog prices come from now.
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The system key's policy, when there is a system key.
    fn system(&self) -> Option<&SystemKeyPolicy> {
        self.system_key
            .as_ref()
            .map(|_| &self.options.system.policy)
    }

    /// `daemon.status`.
    pub fn status(&self) -> DaemonStatus {
        DaemonStatus {
            version: env!("CARGO_PKG_VERSION").into(),
            pid: std::process::id(),
            uptime_seconds: self.started.elapsed().as_secs(),
            socket: self.options.socket.display().to_string(),
            data_dir: self.options.data_dir.display().to_string(),
            catalog_version: self.catalog().version().to_owned(),
        }
    }

    /// `daemon.stop`: the front ends stop accepting, and byokd exits once every usage record
    /// sent so far has committed.
    pub fn stop(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves once [`Service::stop`] is called.
    pub async fn stopped(&self) {
        let mut stopped = self.shutdown.subscribe();
        let _ = stopped.wait_for(|s| *s).await;
    }

    /// Commits every usage record sent so far.
    pub async fn flush(&self) -> Result<()> {
        Ok(self.store.flush().await?)
    }
}

/// An invalid parameter, named in `message` (never its value).
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidParams, message)
}

/// A failure of byokd itself.
pub(crate) fn internal(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Internal, message)
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OutOfRange(what) => {
                invalid(format!("invalid params: out of range: {what}"))
            }
            e => internal(e.to_string()),
        }
    }
}

/// `bytes` random bytes from the OS, in hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    use chacha20poly1305::aead::rand_core::RngCore;
    let mut buf = vec![0u8; bytes];
    chacha20poly1305::aead::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
