//! `vault.rotate`: every stored key re-encrypted under a new master key.

use std::sync::Arc;

use super::{internal, Result, Service};
use crate::store::{Resealer, Sealed};
use crate::vault::{
    finish_rotation, promote_master_key, stage_master_key, KeyBinding, Vault, VaultError,
};

/// Re-seals stored secrets: opens each with `old` as its seal version says, and seals it with
/// `new` at the current version (the same vault for `new` upgrades old rows in place).
pub(crate) fn resealer(old: Arc<Vault>, new: Arc<Vault>) -> Box<Resealer> {
    Box::new(move |row| match row {
        Sealed::Key {
            user,
            provider,
            key_id,
            base_url,
            model,
            version,
            sealed,
        } => {
            let binding = KeyBinding {
                user,
                provider,
                key_id,
                base_url,
                model,
            };
            let key = match version {
                1 => old.open_legacy_key(user, provider, key_id, sealed),
                _ => old.open_key(&binding, sealed),
            }
            .map_err(|e| e.to_string())?;
            Ok(new.seal(&binding, &key))
        }
        Sealed::Token { user, name, sealed } => {
            let token = old
                .open_token(user, name, sealed)
                .map_err(|e| e.to_string())?;
            Ok(new.seal_token(user, name, &token))
        }
    })
}

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
        let reseal = resealer(Arc::clone(&current), Arc::clone(&new));
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

#[cfg(test)]
mod tests {
    use super::*;
    use byokit_core::{ApiKey, Provider};

    #[test]
    fn keys_of_the_old_seal_version_are_resealed_bound_to_where_they_go() {
        let path = std::env::temp_dir().join(format!("byokit-upgrade-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut conn = crate::store::open(&path).unwrap();
        let vault = Arc::new(Vault::from_bytes(&[9u8; 32]).unwrap());
        let key = ApiKey::new("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");
        let insert = |id: &str, sealed: Vec<u8>| {
            conn.execute(
                "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key, api_key_masked,
                 base_url, model, is_active, created_at, updated_at)
                 VALUES ('alice', ?1, 'groq', ?2, 'gsk_…gH7i', 'http://127.0.0.1:9/v1', NULL, 1, 0, 0)",
                rusqlite::params![id, sealed],
            )
            .unwrap();
        };
        // As an earlier byokd sealed it, and one damaged.
        insert("k1", vault.seal_legacy("alice", Provider::Groq, "k1", &key));
        insert("k2", vec![0; 80]);
        let mut upgrade = resealer(Arc::clone(&vault), Arc::clone(&vault));
        let (done, failed) = crate::store::upgrade_seals(&mut conn, &mut *upgrade).unwrap();
        assert_eq!(done, 1);
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].contains("k2") && failed[0].contains("\"alice\""),
            "{failed:?}"
        );
        let row = |id: &str| -> (Vec<u8>, u32) {
            conn.query_row(
                "SELECT api_key, sealed_version FROM user_api_configs WHERE key_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        let (sealed, version) = row("k1");
        assert_eq!(version, crate::vault::SEAL_VERSION);
        let binding = KeyBinding {
            user: "alice",
            provider: Provider::Groq,
            key_id: "k1",
            base_url: Some("http://127.0.0.1:9/v1"),
            model: None,
        };
        assert_eq!(vault.open_key(&binding, &sealed).unwrap(), key);
        let elsewhere = KeyBinding {
            base_url: Some("http://127.0.0.1:8/attacker"),
            ..binding
        };
        assert!(vault.open_key(&elsewhere, &sealed).is_err());
        // The damaged row is kept as it was, for its owner to delete.
        assert_eq!(row("k2"), (vec![0; 80], 1));
        // Once done, a later start has nothing to re-seal.
        let (done, failed) = crate::store::upgrade_seals(&mut conn, &mut *upgrade).unwrap();
        assert_eq!((done, failed.len()), (0, 1));
        drop(conn);
        let _ = std::fs::remove_file(&path);
    }
}
