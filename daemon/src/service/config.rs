//! `config.*`: the user's provider keys, sealed by the vault before they reach the store.

use byokit_core::adapters::{build_test_request, interpret_test_response, RequestOptions};
use byokit_core::protocol::{
    ConfigDeleteResult, ConfigGetResult, ConfigSaveParams, ConfigTarget, ConfigTestResult,
    ConfigView, Error, ErrorKind, UserParams,
};
use byokit_core::{check_key, ApiKey};
use time::OffsetDateTime;

use super::{internal, invalid, random_hex, Result, Service};
use crate::store::NewConfig;

impl Service {
    /// `config.save`: checks the key's format, seals it and stores it; the most recently saved
    /// becomes active (with `add`, several keys of one provider rotate).
    pub async fn config_save(&self, p: ConfigSaveParams) -> Result<ConfigView> {
        check_key(p.provider, p.api_key.expose())
            .map_err(|e| Error::new(ErrorKind::BadKey, e.to_string()))?;
        if let Some(url) = &p.base_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(
                    "invalid params: `base_url` must start with http:// or https://",
                ));
            }
        }
        let key_id = random_hex(8);
        // Held until the row is saved: a rotation waits for it.
        let vault = self.vault.read().await;
        let sealed = vault.seal(&p.user, p.provider, &key_id, &p.api_key);
        let config = NewConfig {
            user: p.user,
            key_id,
            provider: p.provider,
            sealed,
            masked: p.api_key.masked(),
            base_url: p.base_url,
            model: p.model,
            add: p.add,
        };
        let saved = self.store.save_config(config).await?;
        drop(vault);
        Ok(saved)
    }

    /// `config.get`: the user's configurations, keys masked, and the active one.
    pub async fn config_get(&self, p: UserParams) -> Result<ConfigGetResult> {
        let configs: Vec<_> = self
            .store
            .configs(&p.user)
            .await?
            .into_iter()
            .map(|c| c.view)
            .collect();
        Ok(ConfigGetResult {
            active: configs.iter().find(|c| c.is_active).cloned(),
            configs,
        })
    }

    /// `config.delete`: by provider or key id, or all of the user's; usage is kept.
    pub async fn config_delete(&self, p: ConfigTarget) -> Result<ConfigDeleteResult> {
        let deleted = self
            .store
            .delete_config(&p.user, p.provider, p.key_id)
            .await?;
        Ok(ConfigDeleteResult { deleted })
    }

    /// `config.test`: a cheap real request with the stored key; the outcome in words.
    pub async fn config_test(&self, p: ConfigTarget) -> Result<ConfigTestResult> {
        let configs = self.store.configs(&p.user).await?;
        let config = configs
            .into_iter()
            .find(|c| match (&p.key_id, p.provider) {
                (Some(id), _) => &c.view.key_id == id,
                (None, Some(want)) => c.view.provider == want,
                (None, None) => c.view.is_active,
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    "no such configuration; save one with config.save",
                )
            })?;
        let provider = config.view.provider;
        let key: ApiKey = self
            .vault
            .read()
            .await
            .open_key(&p.user, provider, &config.view.key_id, &config.sealed)
            .map_err(|e| internal(e.to_string()))?;
        let options = RequestOptions {
            base_url: config.view.base_url.clone(),
            browser: false,
        };
        let request = build_test_request(provider, &key, &options);
        let (status, headers, body) = match self.gateway.send(&request).await {
            Ok(r) => r,
            Err(e) => return Ok(ConfigTestResult::unreachable(provider, e)),
        };
        let now = OffsetDateTime::now_utc();
        let reply = interpret_test_response(provider, status, &headers, &body, now);
        Ok(ConfigTestResult::from_reply(provider, reply))
    }
}
