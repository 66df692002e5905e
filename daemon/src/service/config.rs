//! `config.*`: the user's provider keys, sealed by the vault before they reach the store.

use byokit_core::adapters::{build_test_request, interpret_test_response, RequestOptions};
use byokit_core::protocol::{
    ConfigDeleteResult, ConfigGetResult, ConfigSaveParams, ConfigTarget, ConfigTestResult,
    ConfigView, Error, ErrorKind, UserParams,
};
use byokit_core::{check_key, ApiKey};
use time::OffsetDateTime;

use super::{internal, invalid, random_hex, Result, Service};
use crate::store::{NewConfig, StoredConfig};
use crate::vault::{KeyBinding, SEAL_VERSION};

/// Refuses control characters (a NUL, a line break) in a name that binds a sealed secret or
/// ends up in a log line, and names longer than 1,024 bytes.
pub(crate) fn check_label(what: &str, value: &str) -> Result<()> {
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "invalid params: `{what}` contains a control character"
        )));
    }
    if value.len() > 1024 {
        return Err(invalid(format!(
            "invalid params: `{what}` is longer than 1024 bytes"
        )));
    }
    Ok(())
}

impl Service {
    /// A key typed by a user, with the base URL it goes to: its provider's format (a key of
    /// another provider is `bad_key`), and a base URL the key may be sent to.
    fn check_new_key(
        &self,
        provider: byokit_core::Provider,
        key: &str,
        base_url: Option<&str>,
    ) -> Result<()> {
        check_key(provider, key).map_err(|e| Error::new(ErrorKind::BadKey, e.to_string()))?;
        if let Some(url) = base_url {
            check_label("base_url", url)?;
            self.check_base_url(url)?;
        }
        Ok(())
    }

    /// Refuses a base URL that is not `https://`, or `http://` to this machine (a local proxy,
    /// a mock provider), unless byokd runs with `--allow-http-base-url`: the key would cross the
    /// network in clear.
    fn check_base_url(&self, url: &str) -> Result<()> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| invalid("invalid params: `base_url` is not a URL (https://host/path)"))?;
        let loopback = parsed
            .host_str()
            .is_some_and(crate::options::is_loopback_host);
        match parsed.scheme() {
            "https" if parsed.host().is_some() => Ok(()),
            "http" if loopback || self.options.allow_http_base_url => Ok(()),
            "http" => Err(invalid(
                "invalid params: `base_url` must be https:// (plain http:// only to this \
                 machine, unless byokd runs with --allow-http-base-url)",
            )),
            _ => Err(invalid(
                "invalid params: `base_url` must start with http:// or https://",
            )),
        }
    }

    /// Opens a stored configuration's key, bound to its user, provider, id, base URL and model.
    pub(crate) async fn open_key(&self, user: &str, c: &StoredConfig) -> Result<ApiKey> {
        let binding = KeyBinding {
            user,
            provider: c.view.provider,
            key_id: &c.view.key_id,
            base_url: c.view.base_url.as_deref(),
            model: c.view.model.as_deref(),
        };
        if c.sealed_version != SEAL_VERSION {
            return Err(internal(format!(
                "the {} key {} is sealed the way an earlier byokd sealed keys and did not open \
                 when byokd re-sealed it at start; delete it and save it again",
                c.view.provider, c.view.key_id
            )));
        }
        self.vault
            .read()
            .await
            .open_key(&binding, &c.sealed)
            .map_err(|e| {
                internal(format!(
                    "the {} key {}: {e}; delete it and save it again",
                    c.view.provider, c.view.key_id
                ))
            })
    }
}

impl Service {
    /// `config.save`: checks the key's format, seals it and stores it; the most recently saved
    /// becomes active (with `add`, several keys of one provider rotate).
    pub async fn config_save(&self, p: ConfigSaveParams) -> Result<ConfigView> {
        check_label("user", &p.user)?;
        self.check_new_key(p.provider, p.api_key.expose(), p.base_url.as_deref())?;
        if let Some(model) = &p.model {
            check_label("model", model)?;
        }
        let key_id = random_hex(8);
        // Held until the row is saved: a rotation waits for it.
        let vault = self.vault.read().await;
        let binding = KeyBinding {
            user: &p.user,
            provider: p.provider,
            key_id: &key_id,
            base_url: p.base_url.as_deref(),
            model: p.model.as_deref(),
        };
        let sealed = vault.seal(&binding, &p.api_key);
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

    /// `config.delete`: by provider or key id, or the active one; usage is kept.
    pub async fn config_delete(&self, p: ConfigTarget) -> Result<ConfigDeleteResult> {
        if p.api_key.is_some() || p.base_url.is_some() {
            return Err(invalid(
                "invalid params: `api_key` and `base_url` are for config.test",
            ));
        }
        let deleted = self
            .store
            .delete_config(&p.user, p.provider, p.key_id)
            .await?;
        Ok(ConfigDeleteResult { deleted })
    }

    /// `config.test`: a cheap real request with the stored key, or with a key typed but not
    /// saved (`api_key`, checked as `config.save` checks it, never stored); the outcome in words.
    pub async fn config_test(&self, p: ConfigTarget) -> Result<ConfigTestResult> {
        let (provider, key, base_url) = match p.api_key {
            Some(key) => {
                let provider = p.provider.ok_or_else(|| {
                    invalid("invalid params: `provider` is needed to test an `api_key`")
                })?;
                if p.key_id.is_some() {
                    return Err(invalid(
                        "invalid params: `key_id` and `api_key` name two different keys",
                    ));
                }
                self.check_new_key(provider, key.expose(), p.base_url.as_deref())?;
                (provider, key, p.base_url)
            }
            None => {
                if p.base_url.is_some() {
                    return Err(invalid(
                        "invalid params: `base_url` goes with `api_key` (a stored key is tested \
                         where it is sent)",
                    ));
                }
                self.stored_key(&p).await?
            }
        };
        let options = RequestOptions {
            base_url,
            browser: false,
        };
        let request = build_test_request(provider, &key, &options);
        let (status, headers, body) = match self.gateway.send(&request).await {
            Ok(r) => r,
            Err(e) => return Ok(ConfigTestResult::unreachable(provider, key.scrub(&e))),
        };
        let now = OffsetDateTime::now_utc();
        let reply = interpret_test_response(provider, status, &headers, &body, now);
        let mut result = ConfigTestResult::from_reply(provider, reply);
        // A provider may quote the key it refused.
        result.message = result.message.map(|m| key.scrub(&m));
        Ok(result)
    }

    /// The stored key `p` names (the active one by default), opened, with where it is sent.
    async fn stored_key(
        &self,
        p: &ConfigTarget,
    ) -> Result<(byokit_core::Provider, ApiKey, Option<String>)> {
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
        let key: ApiKey = self.open_key(&p.user, &config).await?;
        Ok((config.view.provider, key, config.view.base_url))
    }
}
