//! The users' configurations with their sealed keys.

use super::*;
use crate::vault::SEAL_VERSION;

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
        "INSERT INTO user_api_configs (clerk_id, key_id, provider, api_key, api_key_masked, base_url, model, is_active, created_at, updated_at, sealed_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?8, ?9)",
        params![c.user, c.key_id, c.provider.as_str(), c.sealed, c.masked, c.base_url, c.model, ms(now), SEAL_VERSION],
    )?;
    Ok(c.view(from_ms(ms(now))?))
}

pub(super) fn configs(tx: &Transaction<'_>, user: &str) -> Result<Vec<StoredConfig>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT key_id, provider, api_key, api_key_masked, base_url, model, is_active, updated_at, sealed_version
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
            r.get::<_, u32>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key_id, provider, sealed, masked, base_url, model, is_active, updated, version) = row?;
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
            sealed_version: version,
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

/// A configuration row with what its key is sealed for.
type SealedRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    u32,
    Vec<u8>,
);

/// The configuration rows whose key is sealed by a version before `below` (every row for
/// `u32::MAX`).
fn sealed_rows(tx: &Transaction<'_>, below: u32) -> Result<Vec<SealedRow>, StoreError> {
    Ok(tx
        .prepare(
            "SELECT id, clerk_id, provider, key_id, base_url, model, sealed_version, api_key
             FROM user_api_configs WHERE sealed_version < ?1",
        )?
        .query_map(params![below], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })?
        .collect::<Result<_, _>>()?)
}

/// Re-seals one row with `reseal`, stored with the current seal version; the row's description
/// (never its key) when it does not open.
fn reseal_row(
    tx: &Transaction<'_>,
    reseal: &mut Resealer,
    row: &SealedRow,
) -> Result<Result<(), String>, StoreError> {
    let (id, user, provider, key_id, base_url, model, version, sealed) = row;
    let provider: Provider = parse_provider(provider)?;
    let sealed = Sealed::Key {
        user,
        provider,
        key_id,
        base_url: base_url.as_deref(),
        model: model.as_deref(),
        version: *version,
        sealed,
    };
    match reseal(sealed) {
        Ok(resealed) => {
            tx.execute(
                "UPDATE user_api_configs SET api_key = ?1, sealed_version = ?2 WHERE id = ?3",
                params![resealed, SEAL_VERSION, id],
            )?;
            Ok(Ok(()))
        }
        Err(e) => Ok(Err(format!(
            "the {provider} key {key_id} of user {user:?} ({e}); delete it with `byokit --user \
             {user} config delete --key-id {key_id}` (and save it again)"
        ))),
    }
}

pub(super) fn reseal_all(
    tx: &Transaction<'_>,
    reseal: &mut Resealer,
    check: &[u8],
) -> Result<u64, StoreError> {
    let rows = sealed_rows(tx, u32::MAX)?;
    for row in &rows {
        reseal_row(tx, reseal, row)?.map_err(|e| {
            StoreError::Damaged(format!("nothing was re-encrypted: {e}, then rotate again"))
        })?;
    }
    reseal_http_tokens(tx, reseal)?;
    set_vault_check(tx, check)?;
    Ok(rows.len() as u64)
}

/// Re-seals with the current seal version every key sealed by an earlier one (in one
/// transaction), with `reseal`, which opens a row the way its version did. Answers how many were
/// re-sealed, and the rows that did not open, described (they stay as they were, and byokd
/// does not use them).
pub fn upgrade_seals(
    conn: &mut Connection,
    reseal: &mut Resealer,
) -> Result<(u64, Vec<String>), StoreError> {
    let tx = conn.transaction()?;
    let (mut done, mut failed) = (0, Vec::new());
    for row in &sealed_rows(&tx, SEAL_VERSION)? {
        match reseal_row(&tx, reseal, row)? {
            Ok(()) => done += 1,
            Err(e) => failed.push(e),
        }
    }
    tx.commit()?;
    Ok((done, failed))
}
