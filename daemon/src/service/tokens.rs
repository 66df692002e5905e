//! `http.token`, `http.token.list`, `http.token.revoke`: the bearer tokens of the HTTP endpoint,
//! several per user by name. The store finds a token by its SHA-256 (a request's token is never
//! compared byte by byte with stored ones) and keeps it sealed by the vault, so that
//! `http.token` shows the same token again until it is revoked.

use std::collections::BTreeMap;
use std::path::Path;

use byokit_core::protocol::{
    Error, ErrorKind, HttpTokenInfo, HttpTokenParams, HttpTokenResult, HttpTokenRevokeParams,
    HttpTokenRevokeResult, UserParams,
};
use sha2::{Digest, Sha256};

use super::{internal, invalid, random_hex, Result, Service};
use crate::store::{NewHttpToken, TokenHash};

/// Where byokd kept tokens before they moved into the store: imported once, then removed.
pub(crate) const LEGACY_TOKENS_FILE: &str = "http-tokens.json";

/// A token's SHA-256.
fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// A fresh random token.
fn new_token() -> String {
    format!("byok-{}", random_hex(24))
}

/// A token name: 1 to 64 characters, no control characters.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(invalid(
            "invalid params: `name` must be 1 to 64 characters without control characters",
        ));
    }
    Ok(())
}

impl Service {
    /// `http.token`: the user's token of that name, created on first use.
    pub async fn http_token(&self, p: HttpTokenParams) -> Result<HttpTokenResult> {
        check_name(&p.name)?;
        super::config::check_label("user", &p.user)?;
        // Held while the token is sealed and stored: a rotation waits for it.
        let vault = self.vault.read().await;
        let stored = self.store.http_token(&p.user, &p.name).await?;
        let sealed = match stored {
            Some(sealed) => sealed,
            None => {
                let token = new_token();
                self.store
                    .save_http_token(NewHttpToken {
                        user: p.user.clone(),
                        name: p.name.clone(),
                        hash: hash(&token),
                        sealed: vault.seal_token(&p.user, &p.name, &token),
                    })
                    .await?
            }
        };
        let token = vault
            .open_token(&p.user, &p.name, &sealed)
            .map_err(|e| internal(format!("http token {:?}: {e}", p.name)))?;
        Ok(HttpTokenResult {
            user: p.user,
            name: p.name,
            token: token.to_string(),
        })
    }

    /// `http.token.list`: the user's tokens, by name (never the tokens themselves).
    pub async fn http_tokens(&self, p: UserParams) -> Result<Vec<HttpTokenInfo>> {
        Ok(self.store.http_tokens(&p.user).await?)
    }

    /// `http.token.revoke`: the token stops working at once.
    pub async fn http_token_revoke(
        &self,
        p: HttpTokenRevokeParams,
    ) -> Result<HttpTokenRevokeResult> {
        let revoked = self.store.revoke_http_token(&p.user, &p.name).await?;
        self.token_users
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if revoked == 0 {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no http token named {:?}", p.name),
            ));
        }
        Ok(HttpTokenRevokeResult { revoked })
    }

    /// The user a bearer token of the HTTP endpoint belongs to, if any.
    pub async fn http_user(&self, token: &str) -> Result<Option<String>> {
        if token.is_empty() {
            return Ok(None);
        }
        let hash = hash(token);
        if let Some(user) = self
            .token_users
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
        {
            return Ok(Some(user.clone()));
        }
        let user = self.store.http_token_user(hash).await?;
        // A store that other byokd share is asked every time: a token revoked through one of
        // them stops working at once on all.
        if let Some(user) = user.as_ref().filter(|_| !self.store.shared()) {
            let mut known = self.token_users.write().unwrap_or_else(|e| e.into_inner());
            if known.len() >= TOKEN_CACHE_ENTRIES {
                known.clear();
            }
            known.insert(hash, user.clone());
        }
        Ok(user)
    }

    /// Moves the tokens of `http-tokens.json` (byokd's earlier, plain-text home for them) into
    /// the store, each as its user's `default` token, and removes the file. A file that cannot
    /// be read is left as it is, and said so: its tokens are not lost, and nothing overwrites
    /// it.
    pub(crate) async fn import_legacy_tokens(&self, data_dir: &Path) {
        let path = data_dir.join(LEGACY_TOKENS_FILE);
        let Ok(bytes) = std::fs::read(&path) else {
            return;
        };
        #[derive(serde::Deserialize)]
        struct Legacy {
            tokens: BTreeMap<String, String>,
        }
        let legacy: Legacy = match serde_json::from_slice(&bytes) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(
                    target: crate::LOG,
                    "{} cannot be read ({e}); its tokens are not imported and the file is left \
                     as it is",
                    path.display()
                );
                return;
            }
        };
        let vault = self.vault.read().await;
        for (token, user) in legacy.tokens {
            let saved = self
                .store
                .save_http_token(NewHttpToken {
                    hash: hash(&token),
                    sealed: vault.seal_token(&user, "default", &token),
                    user,
                    name: "default".into(),
                })
                .await;
            if let Err(e) = saved {
                tracing::error!(target: crate::LOG, "importing {}: {e}", path.display());
                return;
            }
        }
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(target: crate::LOG, "{} is imported but stays: {e}", path.display());
        }
    }
}

/// The most token hashes kept in memory; past it, the cache starts again empty.
const TOKEN_CACHE_ENTRIES: usize = 100_000;
