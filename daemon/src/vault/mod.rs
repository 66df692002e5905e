//! The key vault: API keys encrypted at rest with XChaCha20-Poly1305.
//!
//! The master key is 32 random bytes in `<data dir>/master.key` (mode 0600), created on first
//! start, or in the OS keyring (the Secret Service on Linux, the Keychain on macOS, the
//! Credential Manager on Windows) for a data dir created with [`MasterKeyHome::Keyring`]: a
//! `master.key.keyring` file then marks the data dir, so that every later start looks there, and
//! fails rather than make a new key when the keyring cannot be reached.
//!
//! Each ciphertext's associated data is its [`KeyBinding`] (user, provider, key id, base URL and
//! model, each length-prefixed after a tag), so a row copied to another user, provider or id, or
//! edited to send the key elsewhere, does not decrypt. The plaintext key exists only in memory,
//! inside an [`ApiKey`].

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
    /// The OS keyring holding the master key cannot be used.
    #[error("the master key is kept in the OS keyring, and {0}")]
    Keyring(String),
}

/// Where a data dir's master key is kept. Chosen when the data dir is created; later starts
/// find it where it is, whatever they ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MasterKeyHome {
    /// `master.key` in the data dir, readable by its owner only.
    #[default]
    File,
    /// The OS keyring, under the service `byokit` and the account `<data dir>/master.key`.
    Keyring,
}

impl std::fmt::Display for MasterKeyHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MasterKeyHome::File => "in master.key",
            MasterKeyHome::Keyring => "in the OS keyring",
        })
    }
}

/// The file that marks a data dir whose master key is in the OS keyring.
const KEYRING_MARKER: &str = "master.key.keyring";

/// Where the master key of `data_dir` is: `master.key` if there is one, the OS keyring if the
/// data dir is marked so, else (a new data dir) `wanted`. Both at once is an error: which key
/// sealed the stored keys cannot be told.
pub fn master_key_home(
    data_dir: &Path,
    wanted: MasterKeyHome,
) -> Result<MasterKeyHome, VaultError> {
    match (
        data_dir.join("master.key").exists(),
        data_dir.join(KEYRING_MARKER).exists(),
    ) {
        (true, true) => Err(VaultError::Keyring(format!(
            "{} also holds master.key (made by a byokd that did not look for the marker?): \
             keep the one that opens the stored keys and remove the other",
            data_dir.display()
        ))),
        (true, false) => Ok(MasterKeyHome::File),
        (false, true) => Ok(MasterKeyHome::Keyring),
        (false, false) => Ok(wanted),
    }
}

/// A keyring failure in words, without the error's own data (some carry the secret's bytes).
fn keyring_error(e: &keyring::Error) -> VaultError {
    VaultError::Keyring(match e {
        keyring::Error::NoDefaultStore => "no OS keyring can be reached (for the Secret Service: \
             a D-Bus session with a keyring daemon, as in a desktop session)"
            .into(),
        keyring::Error::NoStorageAccess(e) => format!("the keyring refused access: {e}"),
        keyring::Error::PlatformFailure(e) => format!("the keyring failed: {e}"),
        keyring::Error::Ambiguous(_) => {
            "the keyring holds more than one entry for this data dir's master key".into()
        }
        _ => "the keyring answered with an unexpected error".into(),
    })
}

/// One place a master key is kept: `master.key`, or `master.key.new` while a rotation runs.
struct Slot {
    home: MasterKeyHome,
    path: PathBuf,
}

impl Slot {
    fn new(home: MasterKeyHome, data_dir: &Path, name: &str) -> Slot {
        // The keyring's account names the data dir absolutely.
        let dir = fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned());
        Slot {
            home,
            path: dir.join(name),
        }
    }

    fn entry(&self) -> Result<keyring::Entry, VaultError> {
        keyring::Entry::new("byokit", &self.path.display().to_string())
            .map_err(|e| keyring_error(&e))
    }

    fn file_error(&self, source: io::Error) -> VaultError {
        VaultError::MasterKey {
            path: self.path.clone(),
            source,
        }
    }

    fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, VaultError> {
        match self.home {
            MasterKeyHome::File => match fs::symlink_metadata(&self.path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(self.file_error(e)),
                Ok(meta) => {
                    check_private_file(&meta).map_err(|e| self.file_error(e))?;
                    Ok(Some(Zeroizing::new(
                        fs::read(&self.path).map_err(|e| self.file_error(e))?,
                    )))
                }
            },
            MasterKeyHome::Keyring => match self.entry()?.get_secret() {
                Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(keyring_error(&e)),
            },
        }
    }

    fn write(&self, bytes: &[u8]) -> Result<(), VaultError> {
        match self.home {
            MasterKeyHome::File => {
                write_new_private(&self.path, bytes).map_err(|e| self.file_error(e))
            }
            MasterKeyHome::Keyring => self
                .entry()?
                .set_secret(bytes)
                .map_err(|e| keyring_error(&e)),
        }
    }

    fn remove(&self) -> Result<(), VaultError> {
        match self.home {
            MasterKeyHome::File => match fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(self.file_error(e)),
                _ => Ok(()),
            },
            MasterKeyHome::Keyring => match self.entry()?.delete_credential() {
                Err(e) if !matches!(e, keyring::Error::NoEntry) => Err(keyring_error(&e)),
                _ => Ok(()),
            },
        }
    }
}

/// Keeps `master` as the key a rotation is moving to (`master.key.new`), before its commit.
pub fn stage_master_key(
    data_dir: &Path,
    home: MasterKeyHome,
    master: &[u8],
) -> Result<(), VaultError> {
    Slot::new(home, data_dir, "master.key.new").write(master)
}

/// Finishes a rotation that committed but did not put its new key in place: if the staged key
/// (`master.key.new`) opens `check` (the database's), it becomes the master key and its vault is
/// returned.
pub fn finish_rotation(
    data_dir: &Path,
    home: MasterKeyHome,
    check: &[u8],
) -> Result<Option<Vault>, VaultError> {
    let Some(bytes) = Slot::new(home, data_dir, "master.key.new").read()? else {
        return Ok(None);
    };
    match Vault::from_bytes(&bytes).filter(|v| v.opens_check(check)) {
        Some(new) => {
            promote_master_key(data_dir, home, &bytes)?;
            Ok(Some(new))
        }
        None => Ok(None),
    }
}

/// Makes the staged key `master` the master key, once the rotation has committed.
pub fn promote_master_key(
    data_dir: &Path,
    home: MasterKeyHome,
    master: &[u8],
) -> Result<(), VaultError> {
    let staged = Slot::new(home, data_dir, "master.key.new");
    match home {
        MasterKeyHome::File => {
            fs::rename(&staged.path, data_dir.join("master.key")).map_err(|e| staged.file_error(e))
        }
        MasterKeyHome::Keyring => {
            Slot::new(home, data_dir, "master.key").write(master)?;
            staged.remove()
        }
    }
}

/// Encrypts and decrypts API keys.
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

/// What a provider key is sealed for: whose it is, which provider's, its id, and where and how
/// it is sent. A row edited to send the key elsewhere (`base_url`) or with another model no
/// longer opens.
#[derive(Debug, Clone, Copy)]
pub struct KeyBinding<'a> {
    /// The user.
    pub user: &'a str,
    /// The provider.
    pub provider: Provider,
    /// The key's id.
    pub key_id: &'a str,
    /// Where its requests go instead of the provider's own URL.
    pub base_url: Option<&'a str>,
    /// Its model.
    pub model: Option<&'a str>,
}

/// How provider keys are sealed now: [`KeyBinding`] whole, each field length-prefixed. Rows
/// sealed by earlier versions (`1`: user, provider and key id joined by NUL bytes, which
/// neither bound the destination nor told fields apart) are re-sealed at start
/// ([`Vault::open_legacy_key`]).
pub const SEAL_VERSION: u32 = 2;

/// Appends `field` preceded by its length.
fn push_field(aad: &mut Vec<u8>, field: &[u8]) {
    aad.extend_from_slice(&(field.len() as u64).to_be_bytes());
    aad.extend_from_slice(field);
}

/// The associated data of a provider key: a tag, then every field of its binding, each
/// preceded by its length (an absent one by a single 0 byte, a present one by 1 and its length).
fn aad(b: &KeyBinding<'_>) -> Vec<u8> {
    let mut aad = b"byokit-key-v2".to_vec();
    push_field(&mut aad, b.user.as_bytes());
    push_field(&mut aad, b.provider.as_str().as_bytes());
    push_field(&mut aad, b.key_id.as_bytes());
    for field in [b.base_url, b.model] {
        match field {
            None => aad.push(0),
            Some(f) => {
                aad.push(1);
                push_field(&mut aad, f.as_bytes());
            }
        }
    }
    aad
}

/// The associated data of seal version 1, for re-sealing old rows only.
fn legacy_aad(user: &str, provider: Provider, key_id: &str) -> Vec<u8> {
    [
        user.as_bytes(),
        b"\0",
        provider.as_str().as_bytes(),
        b"\0",
        key_id.as_bytes(),
    ]
    .concat()
}

/// The associated data of a bearer token of the HTTP endpoint: a tag no provider's name starts
/// with, then the user and the token's name, each preceded by its length.
fn token_aad(user: &str, name: &str) -> Vec<u8> {
    let mut aad = b"byokit-http-token".to_vec();
    for field in [user, name] {
        push_field(&mut aad, field.as_bytes());
    }
    aad
}

impl Vault {
    /// Opens the vault of `data_dir` with its master key in `home`, creating the key on first
    /// use; a data dir whose key is in the keyring is marked so once the keyring has returned it.
    pub fn open(data_dir: &Path, home: MasterKeyHome) -> Result<Vault, VaultError> {
        let slot = Slot::new(home, data_dir, "master.key");
        let marker = data_dir.join(KEYRING_MARKER);
        let key = match slot.read()? {
            Some(key) => key,
            None if home == MasterKeyHome::Keyring && marker.exists() => {
                return Err(VaultError::Keyring(format!(
                    "it has no entry for this data dir (service `byokit`, account `{}`): was the \
                     data dir moved, or the keyring reset?",
                    slot.path.display()
                )));
            }
            None => {
                let key = Vault::new_master_key();
                slot.write(&key)?;
                if home == MasterKeyHome::Keyring
                    && slot.read()?.as_ref().map(|k| &k[..]) != Some(&key[..])
                {
                    return Err(VaultError::Keyring(
                        "it did not return the key just stored".into(),
                    ));
                }
                key
            }
        };
        if home == MasterKeyHome::Keyring && !marker.exists() {
            write_new_private(
                &marker,
                b"The master key of this data dir is in the OS keyring: service `byokit`, \
                  account `<this dir>/master.key`.\n",
            )
            .map_err(|e| slot.file_error(e))?;
        }
        Vault::from_bytes(&key).ok_or(VaultError::BadMasterKey(slot.path))
    }

    /// Opens the vault of `data_dir` for a database whose vault check value is `check`, finishing
    /// an interrupted rotation: if the check opens with `master.key.new` (the rotation committed
    /// but the new key was not yet moved into place), that key is moved into place; a leftover
    /// `master.key.new` of a rotation that never committed is removed. The same holds for the
    /// keyring's entries of those names.
    pub fn open_checked(
        data_dir: &Path,
        home: MasterKeyHome,
        check: Option<&[u8]>,
    ) -> Result<Vault, VaultError> {
        if let Some(new) = check
            .map(|check| finish_rotation(data_dir, home, check))
            .transpose()?
            .flatten()
        {
            return Ok(new);
        }
        let vault = Vault::open(data_dir, home)?;
        Slot::new(home, data_dir, "master.key.new").remove()?;
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

    /// Encrypts `key` for its binding (user, provider, id, base URL, model): nonce followed by
    /// ciphertext, of [`SEAL_VERSION`].
    pub fn seal(&self, binding: &KeyBinding<'_>, key: &ApiKey) -> Vec<u8> {
        self.seal_bytes(&aad(binding), key.expose().as_bytes())
    }

    /// Decrypts a sealed key; fails if it was sealed for another binding (user, provider, id,
    /// base URL or model), or by an earlier seal version.
    pub fn open_key(&self, binding: &KeyBinding<'_>, sealed: &[u8]) -> Result<ApiKey, VaultError> {
        self.open_with(&aad(binding), sealed)
    }

    /// Decrypts a key of seal version 1 (bound to user, provider and id only), to re-seal it.
    pub fn open_legacy_key(
        &self,
        user: &str,
        provider: Provider,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<ApiKey, VaultError> {
        self.open_with(&legacy_aad(user, provider, key_id), sealed)
    }

    /// Encrypts `key` the way seal version 1 did, to test re-sealing.
    #[cfg(test)]
    pub(crate) fn seal_legacy(
        &self,
        user: &str,
        provider: Provider,
        key_id: &str,
        key: &ApiKey,
    ) -> Vec<u8> {
        self.seal_bytes(&legacy_aad(user, provider, key_id), key.expose().as_bytes())
    }

    fn open_with(&self, aad: &[u8], sealed: &[u8]) -> Result<ApiKey, VaultError> {
        let plain = self.open_bytes(aad, sealed)?;
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Tampered)?;
        Ok(ApiKey::new(text))
    }

    /// Encrypts a bearer token of the HTTP endpoint for this user and token name.
    pub fn seal_token(&self, user: &str, name: &str, token: &str) -> Vec<u8> {
        self.seal_bytes(&token_aad(user, name), token.as_bytes())
    }

    /// Decrypts a sealed bearer token; fails if it was sealed for another user or name.
    pub fn open_token(
        &self,
        user: &str,
        name: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<String>, VaultError> {
        let plain = self.open_bytes(&token_aad(user, name), sealed)?;
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Tampered)?;
        Ok(Zeroizing::new(text.to_owned()))
    }

    /// Nonce followed by the ciphertext of `msg` bound to `aad`.
    fn seal_bytes(&self, aad: &[u8], msg: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg, aad })
            // Encryption fails only for messages over 256 GiB.
            .unwrap_or_default();
        [nonce.as_slice(), &sealed].concat()
    }

    fn open_bytes(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < NONCE {
            return Err(VaultError::Tampered);
        }
        let (nonce, body) = sealed.split_at(NONCE);
        Ok(Zeroizing::new(
            self.cipher
                .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
                .map_err(|_| VaultError::Tampered)?,
        ))
    }
}

/// Refuses a master key file that is not a regular file of this OS user readable by it alone:
/// a key others could read may have been copied, and one they could write may not be ours.
#[cfg(unix)]
fn check_private_file(meta: &fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let problem = if !meta.file_type().is_file() {
        "is not a regular file"
    } else if meta.uid() != rustix::process::getuid().as_raw() {
        "belongs to another OS user"
    } else if meta.mode() & 0o077 != 0 {
        "can be read or written by other OS users (it should be 0600; if others may have \
         read it, `chmod 600` it and run `byokit vault rotate`)"
    } else {
        return Ok(());
    };
    Err(io::Error::new(io::ErrorKind::PermissionDenied, problem))
}

/// Refuses a master key file that is not a regular file. On Windows the file's access is its
/// data directory's, inherited from `%LOCALAPPDATA%` (the user, SYSTEM and administrators):
/// docs/windows.md.
#[cfg(not(unix))]
fn check_private_file(meta: &fs::Metadata) -> io::Result<()> {
    if meta.file_type().is_file() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "is not a regular file",
        ))
    }
}

/// Writes a new file readable by its owner only, atomically (temp file, fsync, rename). The
/// temp file is created anew with mode 0600 (never opened if it exists: a leftover one is
/// removed first, and a symlink in its place is removed, not followed).
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    match fs::remove_file(&tmp) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    // The rename itself made durable (Windows opens no directory as a file; NTFS logs it).
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
