//! The users' configurations with their sealed keys.

use super::*;

pub(super) fn save_config(tx: &Transaction<'_>, c: NewConfig) -> Result<ConfigView, StoreError> {
    let now = OffsetDateTime::now_utc();
    // Saving replaces the provider's keys, unless this key is added to them. Usage history is
    // never touched.
    if !c.add {
        tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND provider = ?2",
            params![c.user, c.provider.as_str()],
        )?;
    }
    tx.execute(
        "UPDATE user_api_configs SET is_active = 0 WHERE clerk_id = ?1",
        params![c.user],
    )?;
    tx.execute(
        "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key, api_key_masked, base_url, model, is_active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8)",
        params![c.user, c.key_id, c.provider.as_str(), c.sealed, c.masked, c.base_url, c.model, ms(now)],
    )?;
    Ok(ConfigView {
        key_id: c.key_id,
        provider: c.provider,
        api_key: c.masked,
        base_url: c.base_url,
        model: c.model,
        is_active: true,
        saved_at: from_ms(ms(now))?,
    })
}

pub(super) fn configs(tx: &Transaction<'_>, user: &str) -> Result<Vec<StoredConfig>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT key_id, provider, api_key, api_key_masked, base_url, model, is_active, updated_at
         FROM user_api_configs WHERE clerk_id = ?1 ORDER BY updated_at DESC, id DESC",
    )?;
    let rows = stmt.query_map(params![user], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, bool>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key_id, provider, sealed, masked, base_url, model, is_active, updated) = row?;
        let provider = parse_provider(&provider)?;
        out.push(StoredConfig {
            view: ConfigView {
                key_id,
                provider,
                api_key: masked,
                base_url,
                model,
                is_active,
                saved_at: from_ms(updated)?,
            },
            sealed,
        });
    }
    Ok(out)
}

pub(super) fn delete_config(
    tx: &Transaction<'_>,
    user: &str,
    provider: Option<Provider>,
    key_id: Option<&str>,
) -> Result<u64, StoreError> {
    let deleted = match (provider, key_id) {
        (_, Some(id)) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND key_id = ?2",
            params![user, id],
        )?,
        (Some(p), None) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND provider = ?2",
            params![user, p.as_str()],
        )?,
        (None, None) => tx.execute(
            "DELETE FROM user_api_configs WHERE clerk_id = ?1 AND is_active = 1",
            params![user],
        )?,
    };
    // If the active one went, the most recently saved of the rest takes over.
    let active: i64 = tx.query_row(
        "SELECT COUNT(*) FROM user_api_configs WHERE clerk_id = ?1 AND is_active = 1",
        params![user],
        |r| r.get(0),
    )?;
    if active == 0 {
        tx.execute(
            "UPDATE user_api_configs SET is_active = 1 WHERE id =
             (SELECT id FROM user_api_configs WHERE clerk_id = ?1 ORDER BY updated_at DESC, id DESC LIMIT 1)",
            params![user],
        )?;
    }
    Ok(deleted as u64)
}

pub(super) fn reseal_all(
    tx: &Transaction<'_>,
    reseal: &mut Resealer,
    check: &[u8],
) -> Result<u64, StoreError> {
    let rows: Vec<(i64, String, String, String, Vec<u8>)> = tx
        .prepare("SELECT id, clerk_id, provider, key_id, api_key FROM user_api_configs")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    for (id, user, provider, key_id, sealed) in &rows {
        let provider: Provider = parse_provider(provider)?;
        let row = Sealed::Key {
            user,
            provider,
            key_id,
            sealed,
        };
        let resealed = reseal(row).map_err(StoreError::Damaged)?;
        tx.execute(
            "UPDATE user_api_configs SET api_key = ?1 WHERE id = ?2",
            params![resealed, id],
        )?;
    }
    reseal_http_tokens(tx, reseal)?;
    set_vault_check(tx, check)?;
    Ok(rows.len() as u64)
}
