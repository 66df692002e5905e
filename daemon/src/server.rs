//! byokd's process: one daemon per data directory (an exclusive lock held for its life), the
//! store and the vault opened under that lock, then the front ends (the local socket, and the
//! HTTP door when asked) serving one [`Service`] until `daemon.stop` or a signal.

use std::sync::Arc;

use byokit_client::local_socket;
use time::OffsetDateTime;

use crate::paths::{private_dir, private_file, private_file_if_any, remove_stale_socket};
use crate::service::Service;
use crate::signals::{Signal, Signals};
use crate::store::postgres::PgStore;
use crate::store::{SqliteStore, Store};
use crate::vault::Vault;
use crate::LOG;

pub use crate::options::{Options, SystemKeyOptions, Timeouts};

/// The file whose exclusive lock a running byokd holds, in its data directory.
pub const LOCK_FILE: &str = "byokd.lock";

/// Takes the data directory's lock, held until the returned file is dropped (or the process
/// ends, however it ends: the OS releases it). A second byokd on the same data dir stops here,
/// before it touches the database or the socket.
pub(crate) fn lock_data_dir(data_dir: &std::path::Path) -> Result<std::fs::File, String> {
    let path = data_dir.join(LOCK_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&path)
        .map_err(|e| format!("lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another byokd is already serving the data directory {}",
            data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("lock file {}: {e}", path.display())),
    }
}

/// The embedded store: `byokit.db` in the data dir, its keys sealed by the data dir's master key.
fn open_sqlite(options: &mut Options) -> Result<(Arc<dyn Store>, Arc<Vault>), String> {
    let db = options.data_dir.join("byokit.db");
    let mut conn = crate::store::open(&db).map_err(|e| e.to_string())?;
    private_file(&db).map_err(|e| format!("database {}: {e}", db.display()))?;
    // Made 0644 by earlier versions.
    for suffix in ["-wal", "-shm"] {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        private_file_if_any(std::path::Path::new(&name))
            .map_err(|e| format!("database {}{suffix}: {e}", db.display()))?;
    }
    let check = crate::store::vault_check(&conn).map_err(|e| e.to_string())?;
    let home = crate::vault::master_key_home(&options.data_dir, options.master_key)
        .map_err(|e| e.to_string())?;
    if home != options.master_key {
        tracing::info!(target: LOG, "this data dir keeps its master key {home}; it stays there");
    }
    // From here on, where this data dir keeps it.
    options.master_key = home;
    let vault = Vault::open_checked(&options.data_dir, home, check.as_deref())
        .map_err(|e| e.to_string())?;
    if check.is_none() {
        crate::store::set_vault_check(&conn, &vault.seal_check()).map_err(|e| e.to_string())?;
    }
    // Keys sealed by an earlier byokd, bound to user, provider and id only, are bound to where
    // and how they are sent too, before anything uses them.
    let vault = Arc::new(vault);
    let (upgraded, failed) = crate::store::upgrade_seals(
        &mut conn,
        &mut *crate::service::resealer(Arc::clone(&vault), Arc::clone(&vault)),
    )
    .map_err(|e| format!("re-sealing stored keys: {e}"))?;
    if upgraded > 0 {
        tracing::info!(
            target: LOG,
            "{upgraded} stored key(s) re-sealed, bound to their base URL and model; copies of the \
             database made before still open with this master key: `byokit vault rotate` makes \
             them useless"
        );
    }
    for row in failed {
        tracing::warn!(target: LOG, "not used: {row}");
    }
    let store = SqliteStore::start(conn).map_err(|e| format!("opening the store: {e}"))?;
    Ok((Arc::new(store), vault))
}

/// A PostgreSQL database shared with other byokd: migrated (as its owner, when given), its
/// keys sealed by the master key every instance shares (the data dir's, copied to each).
async fn open_postgres(
    options: &mut Options,
    db: &crate::options::DatabaseOptions,
) -> Result<(Arc<dyn Store>, Arc<Vault>), String> {
    let store = PgStore::connect(&db.url, db.owner_url.as_deref(), db.ca_file.as_deref()).await?;
    let check = store.vault_check().await.map_err(|e| e.to_string())?;
    let home = crate::vault::master_key_home(&options.data_dir, options.master_key)
        .map_err(|e| e.to_string())?;
    options.master_key = home;
    let vault =
        Vault::open_checked(&options.data_dir, home, check.as_deref()).map_err(|e| match e {
            crate::vault::VaultError::Tampered => format!(
                "{e}: every byokd serving one database needs the same master key (copy the \
                 first one's master.key into this data dir, docs/postgres.md)"
            ),
            e => e.to_string(),
        })?;
    if check.is_none() {
        // Two byokd starting on an empty database: the first check value stored wins, and the
        // other's master key must open it.
        let stored = store
            .set_vault_check(&vault.seal_check())
            .await
            .map_err(|e| e.to_string())?;
        if !vault.opens_check(&stored) {
            return Err(
                "another byokd stored its master key's check value first, and this \
                        byokd's master key does not open it: copy that byokd's master.key here"
                    .into(),
            );
        }
    }
    Ok((Arc::new(store), Arc::new(vault)))
}

/// Runs byokd until `daemon.stop` or a termination signal.
pub async fn run(mut options: Options) -> Result<(), String> {
    crate::paths::check_data_dir_choice(&options.data_dir)?;
    // Whatever byokd or SQLite creates (the database's -wal and -shm files, temp files) is its
    // owner's alone.
    crate::paths::private_umask();
    private_dir(&options.data_dir)
        .map_err(|e| format!("data directory {}: {e}", options.data_dir.display()))?;
    // Everything below (migrations, the master key, replacing a stale socket) happens under the
    // lock, in one process at a time.
    let _lock = lock_data_dir(&options.data_dir)?;
    // (A named pipe has no directory.)
    #[cfg(unix)]
    if let Some(dir) = options.socket.parent() {
        private_dir(dir).map_err(|e| format!("socket directory {}: {e}", dir.display()))?;
    }
    if local_socket::probe(&options.socket).await {
        return Err(format!(
            "a daemon is already listening on {}",
            options.socket.display()
        ));
    }
    let (store, vault) = match options.database.clone() {
        Some(db) => open_postgres(&mut options, &db).await?,
        None => open_sqlite(&mut options)?,
    };
    let sources = crate::catalog_files::read(&options.catalog)?;
    let catalog = crate::catalog_files::build(&sources, None, OffsetDateTime::now_utc().date())?;
    let service = Arc::new(Service::new(options, store, vault, catalog, sources)?);
    service
        .import_legacy_tokens(&service.options().data_dir)
        .await;
    // The doors open only once the store and the vault are ready, the HTTP one first: a client
    // that can connect to either is served.
    let http = match service.options().http {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("--http {addr}: {e}"))?,
        ),
        None => None,
    };
    let socket = service.options().socket.clone();
    // A stale socket of a daemon that died; nothing else is removed.
    remove_stale_socket(&socket).map_err(|e| format!("socket {}: {e}", socket.display()))?;
    // Made 0600 at once (a named pipe: this user's alone); peers must be byokd's user.
    let listener = local_socket::Listener::bind(&socket)
        .map_err(|e| format!("socket {}: {e}", socket.display()))?;
    tracing::info!(target: LOG, "listening on {}", socket.display());
    if let Some(http) = http {
        tracing::info!(
            target: LOG,
            "OpenAI-compatible endpoint on http://{}",
            http.local_addr().map_err(|e| e.to_string())?
        );
        tokio::spawn(crate::http::serve(Arc::clone(&service), http));
    }
    // SIGTERM (a service manager's stop, `kill`) ends byokd the way `daemon.stop` does, usage
    // records of answered calls committed first; SIGHUP reads the catalog files again.
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(Some(stream)) => {
                    tokio::spawn(crate::rpc::serve(Arc::clone(&service), stream));
                }
                // Only the OS user that runs byokd may talk to it.
                Ok(None) => tracing::warn!(target: LOG, "refused a connection from another user"),
                Err(_) => continue,
            },
            _ = service.stopped() => break,
            signal = signals.next() => match signal {
                Signal::Stop => break,
                Signal::Reload => match service.reload_catalog() {
                    Ok(r) => tracing::info!(target: LOG, "catalog {} loaded ({} models)", r.catalog_version, r.models),
                    Err(e) => tracing::error!(target: LOG, "catalog not reloaded: {}", e.message),
                },
            },
        }
    }
    #[cfg(unix)]
    let _ = std::fs::remove_file(&socket);
    // Every usage record sent so far (calls answered before their record committed) commits
    // before byokd exits.
    if let Err(e) = service.flush().await {
        tracing::error!(target: LOG, "could not finish storing usage: {e}");
    }
    tracing::info!(target: LOG, "stopped");
    Ok(())
}
