//! The key vault: API keys encrypted at rest with XChaCha20-Poly1305.
//!
//! The master key is 32 random bytes in `<data dir>/master.key` (mode 0600), created on first
//! start. Each ciphertext's associated data is `user \0 provider \0 key id`, so a row copied to
//! another user, provider or id does not decrypt. The plaintext key exists only in memory, inside
//! an [`ApiKey`].

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use byokit_core::{ApiKey, Provider};
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::paths::private_file;

/// Nonce length of XChaCha20-Poly1305.
const NONCE: usize = 24;

/// The plaintext of the vault check value.
const CHECK: &[u8] = b"byokit-vault-v1";

/// Why a key could not be sealed or opened. Never carries the key.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The master key file cannot be read or written.
    #[error("master key file {path}: {source}")]
    MasterKey {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The master key file does not hold 32 bytes.
    #[error("master key file {0} is damaged (expected 32 bytes)")]
    BadMasterKey(PathBuf),
    /// A ciphertext does not open under this master key for this user, provider and id.
    #[error("a stored key does not decrypt for its user, provider and id (moved, or damaged)")]
    Tampered,
}

/// Encrypts and decrypts API keys.
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

fn aad(user: &str, provider: Provider, key_id: &str) -> Vec<u8> {
    [
        user.as_bytes(),
        b"\0",
        provider.as_str().as_bytes(),
        b"\0",
        key_id.as_bytes(),
    ]
    .concat()
}

impl Vault {
    /// Opens the vault of `data_dir`, creating its master key on first use.
    pub fn open(data_dir: &Path) -> Result<Vault, VaultError> {
        let path = data_dir.join("master.key");
        let err = |source| VaultError::MasterKey {
            path: path.clone(),
            source,
        };
        let key = match fs::read(&path) {
            Ok(bytes) => Zeroizing::new(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                write_new_private(&path, key.as_slice()).map_err(err)?;
                Zeroizing::new(key.to_vec())
            }
            Err(e) => return Err(err(e)),
        };
        Vault::from_bytes(&key).ok_or(VaultError::BadMasterKey(path))
    }

    /// Opens the vault of `data_dir` for a database whose vault check value is `check`, finishing
    /// an interrupted rotation: if the check opens with `master.key.new` (the rotation committed
    /// but the new key file was not yet renamed), that key is moved into place; a leftover
    /// `master.key.new` of a rotation that never committed is removed.
    pub fn open_checked(data_dir: &Path, check: Option<&[u8]>) -> Result<Vault, VaultError> {
        let new_path = data_dir.join("master.key.new");
        let io_err = |source| VaultError::MasterKey {
            path: new_path.clone(),
            source,
        };
        if let (Some(check), Ok(bytes)) = (check, fs::read(&new_path)) {
            let bytes = Zeroizing::new(bytes);
            if let Some(new) = Vault::from_bytes(&bytes).filter(|v| v.opens_check(check)) {
                fs::rename(&new_path, data_dir.join("master.key")).map_err(io_err)?;
                return Ok(new);
            }
        }
        let vault = Vault::open(data_dir)?;
        if new_path.exists() {
            fs::remove_file(&new_path).map_err(io_err)?;
        }
        match check {
            Some(check) if !vault.opens_check(check) => Err(VaultError::Tampered),
            _ => Ok(vault),
        }
    }

    /// A value only this master key opens, stored in the database to tell which key it uses.
    pub fn seal_check(&self) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: CHECK,
                    aad: b"byokit vault check",
                },
            )
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Whether `check` was sealed by this master key.
    pub fn opens_check(&self, check: &[u8]) -> bool {
        check.len() >= NONCE && {
            let (nonce, body) = check.split_at(NONCE);
            self.cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: b"byokit vault check",
                    },
                )
                .is_ok_and(|p| p == CHECK)
        }
    }

    /// A vault with the given master key bytes (32), e.g. a new one during rotation.
    pub fn from_bytes(master: &[u8]) -> Option<Vault> {
        (master.len() == 32).then(|| Vault {
            cipher: XChaCha20Poly1305::new(master.into()),
        })
    }

    /// A fresh random master key.
    pub fn new_master_key() -> Zeroizing<Vec<u8>> {
        Zeroizing::new(XChaCha20Poly1305::generate_key(&mut OsRng).to_vec())
    }

    /// Encrypts `key` for this user, provider and id: nonce followed by ciphertext.
    pub fn seal(&self, user: &str, provider: Provider, key_id: &str, key: &ApiKey) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = aad(user, provider, key_id);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: key.expose().as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    /// Decrypts a sealed key; fails if it was sealed for another user, provider or id.
    pub fn open_key(
        &self,
        user: &str,
        provider: Provider,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<ApiKey, VaultError> {
        if sealed.len() < NONCE {
            return Err(VaultError::Tampered);
        }
        let (nonce, body) = sealed.split_at(NONCE);
        let aad = aad(user, provider, key_id);
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: &aad,
                    },
                )
                .map_err(|_| VaultError::Tampered)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Tampered)?;
        Ok(ApiKey::new(text))
    }
}

/// Writes a new file readable by its owner only, atomically (temp file, fsync, rename).
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_user_provider_and_id() {
        let vault = Vault::from_bytes(&[7u8; 32]).unwrap();
        let key = ApiKey::new("sk-proj-secret-0123456789abcdefghijklmnop");
        let sealed = vault.seal("alice", Provider::OpenAi, "k1", &key);
        assert!(
            !sealed.windows(10).any(|w| w == b"secret-012"),
            "no plaintext in the ciphertext"
        );
        assert_eq!(
            vault
                .open_key("alice", Provider::OpenAi, "k1", &sealed)
                .unwrap(),
            key
        );
        assert!(vault
            .open_key("bob", Provider::OpenAi, "k1", &sealed)
            .is_err());
        assert!(vault
            .open_key("alice", Provider::Groq, "k1", &sealed)
            .is_err());
        assert!(vault
            .open_key("alice", Provider::OpenAi, "k2", &sealed)
            .is_err());
        let other = Vault::from_bytes(&[8u8; 32]).unwrap();
        assert!(other
            .open_key("alice", Provider::OpenAi, "k1", &sealed)
            .is_err());
        assert!(vault
            .open_key("alice", Provider::OpenAi, "k1", &sealed[..10])
            .is_err());
    }

    #[test]
    fn an_interrupted_rotation_finishes_or_rolls_back_at_start() {
        let dir = std::env::temp_dir().join(format!("byokit-vault-rot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let old = Vault::open(&dir).unwrap();
        let old_check = old.seal_check();
        let new_bytes = Vault::new_master_key();
        let new = Vault::from_bytes(&new_bytes).unwrap();
        // Crashed before the commit: the database still says "old"; the new file is dropped.
        write_new_private(&dir.join("master.key.new"), &new_bytes).unwrap();
        let v = Vault::open_checked(&dir, Some(&old_check)).unwrap();
        assert!(v.opens_check(&old_check));
        assert!(!dir.join("master.key.new").exists());
        // Crashed after the commit, before the rename: the database says "new"; finish it.
        write_new_private(&dir.join("master.key.new"), &new_bytes).unwrap();
        let new_check = new.seal_check();
        let v = Vault::open_checked(&dir, Some(&new_check)).unwrap();
        assert!(v.opens_check(&new_check));
        assert!(!dir.join("master.key.new").exists());
        assert_eq!(
            std::fs::read(dir.join("master.key")).unwrap(),
            new_bytes.as_slice()
        );
        // A database sealed under a key that is not there: refuse rather than guess.
        assert!(Vault::open_checked(&dir, Some(&old_check)).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_master_key_is_created_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("byokit-vault-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = ApiKey::new("gsk_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP");
        let sealed = Vault::open(&dir)
            .unwrap()
            .seal("u", Provider::Groq, "k", &key);
        let mode = std::fs::metadata(dir.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // Reopened, the same master key opens what was sealed.
        assert_eq!(
            Vault::open(&dir)
                .unwrap()
                .open_key("u", Provider::Groq, "k", &sealed)
                .unwrap(),
            key
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
