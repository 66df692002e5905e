//! `vault.rotate`: every stored key re-encrypted under a new master key.

use std::sync::Arc;

use super::{internal, Result, Service};
use crate::store::Sealed;
use crate::vault::{finish_rotation, promote_master_key, stage_master_key, Vault, VaultError};

impl Service {
    /// Re-encrypts every stored key under a new master key, crash-safely: the new key is written
    /// to `master.key.new` first (a file, or a keyring entry of that name); one transaction
    /// re-seals every row and records the new key's check value; only then does it replace
    /// `master.key`. A crash before the commit leaves the old key in force; after it, the next
    /// start or rotation puts the new key in place (`vault::finish_rotation`). Answers how many
    /// keys were re-sealed.
    pub async fn vault_rotate(&self) -> Result<u64> {
        let (data_dir, home) = (&self.options.data_dir, self.options.master_key);
        // Keyring calls block (a D-Bus round trip, perhaps an unlock prompt): off the async
        // threads.
        let blocking = |f: &mut dyn FnMut() -> Result<(), VaultError>| {
            tokio::task::block_in_place(f).map_err(|e| internal(e.to_string()))
        };
        // One rotation at a time, and no key sealed meanwhile.
        let mut current = self.vault.write().await;
        // A rotation whose last step failed is finished first, not staged over.
        blocking(&mut || finish_rotation(data_dir, home, &current.seal_check()).map(drop))?;
        let master = Vault::new_master_key();
        let new = Arc::new(Vault::from_bytes(&master).ok_or_else(|| internal("new master key"))?);
        blocking(&mut || stage_master_key(data_dir, home, &master))?;
        let old = Arc::clone(&current);
        let sealer = Arc::clone(&new);
        let reseal: Box<crate::store::Resealer> = Box::new(move |row| match row {
            Sealed::Key {
                user,
                provider,
                key_id,
                sealed,
            } => {
                let key = old
                    .open_key(user, provider, key_id, sealed)
                    .map_err(|e| e.to_string())?;
                Ok(sealer.seal(user, provider, key_id, &key))
            }
            Sealed::Token { user, name, sealed } => {
                let token = old
                    .open_token(user, name, sealed)
                    .map_err(|e| e.to_string())?;
                Ok(sealer.seal_token(user, name, &token))
            }
        });
        let check = new.seal_check();
        let resealed = self.store.reseal(reseal, check).await?;
        // Committed: the stored keys are sealed with the new key from now on, whatever follows.
        *current = new;
        blocking(&mut || promote_master_key(data_dir, home, &master)).map_err(|e| {
            internal(format!(
                "the keys are re-encrypted, but the new master key stays staged as \
                 master.key.new (the next start or rotation puts it in place): {}",
                e.message
            ))
        })?;
        Ok(resealed)
    }
}
