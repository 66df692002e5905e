//! Bearer tokens of the HTTP endpoint: found by their SHA-256, kept sealed.

use super::*;

pub(super) fn http_token(
    tx: &Transaction<'_>,
    user: &str,
    name: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT sealed FROM http_tokens WHERE clerk_id = ?1 AND name = ?2")?
        .query_row(params![user, name], |r| r.get(0))
        .optional()?)
}

pub(super) fn save_http_token(
    tx: &Transaction<'_>,
    t: &NewHttpToken,
) -> Result<Vec<u8>, StoreError> {
    let (user, name) = (&t.user, &t.name);
    tx.prepare_cached(
        "INSERT INTO http_tokens (clerk_id, name, token_hash, sealed, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (clerk_id, name) DO NOTHING",
    )?
    .execute(params![
        user,
        name,
        &t.hash[..],
        t.sealed,
        ms(OffsetDateTime::now_utc())
    ])?;
    http_token(tx, user, name)?
        .ok_or_else(|| StoreError::Damaged(format!("http token {name:?} of {user:?}")))
}

pub(super) fn http_token_user(
    tx: &Transaction<'_>,
    hash: &TokenHash,
) -> Result<Option<String>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT clerk_id FROM http_tokens WHERE token_hash = ?1")?
        .query_row(params![&hash[..]], |r| r.get(0))
        .optional()?)
}

pub(super) fn http_tokens(
    tx: &Transaction<'_>,
    user: &str,
) -> Result<Vec<HttpTokenInfo>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT name, created_at FROM http_tokens WHERE clerk_id = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map(params![user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (name, created) = row?;
        out.push(HttpTokenInfo {
            name,
            created_at: from_ms(created)?,
        });
    }
    Ok(out)
}

pub(super) fn revoke_http_token(
    tx: &Transaction<'_>,
    user: &str,
    name: &str,
) -> Result<u64, StoreError> {
    let revoked = tx.execute(
        "DELETE FROM http_tokens WHERE clerk_id = ?1 AND name = ?2",
        params![user, name],
    )?;
    Ok(revoked as u64)
}

/// Re-seals every token, in a rotation's transaction.
pub(super) fn reseal_http_tokens(
    tx: &Transaction<'_>,
    reseal: &mut Resealer,
) -> Result<(), StoreError> {
    let rows: Vec<(i64, String, String, Vec<u8>)> = tx
        .prepare("SELECT id, clerk_id, name, sealed FROM http_tokens")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    for (id, user, name, sealed) in &rows {
        let row = Sealed::Token { user, name, sealed };
        let resealed = reseal(row).map_err(StoreError::Damaged)?;
        tx.execute(
            "UPDATE http_tokens SET sealed = ?1 WHERE id = ?2",
            params![resealed, id],
        )?;
    }
    Ok(())
}
