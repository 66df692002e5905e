//! The app's sign-in: a JWT verified with `jsonwebtoken` against the app's JWKS (a file, or an
//! HTTPS URL), its issuer, audience and expiry checked, its user taken from `sub`.
//!
//! The key set is cached: fetched on first use, again after [`JWKS_MAX_AGE`], and at once for a
//! `kid` it does not hold (a rotated key), at most every [`JWKS_MIN_REFRESH`] so that made-up
//! `kid`s cannot hammer the identity provider. While a refresh fails, the keys fetched before
//! go on serving. RS256, RS384, RS512, PS256 and ES256, ES384 are taken from the JWKS; HS256
//! only with a configured shared secret, and never with a key of the JWKS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::auth::valid_user;
use super::RestError;
use crate::LOG;

/// How long a fetched key set is used before it is fetched again.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// The least time between two fetches of the key set.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(5);
/// The most bytes of a key set.
const JWKS_MAX_BYTES: usize = 1024 * 1024;
/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

pub use crate::options::{JwksSource, JwtOptions};

/// The keys fetched last, and when.
#[derive(Default)]
struct Keys {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
}

/// Verifies JWTs; one per daemon.
pub(crate) struct JwtVerifier {
    jwks: Option<JwksSource>,
    issuer: String,
    audience: Option<String>,
    hs256: Option<DecodingKey>,
    http: reqwest::Client,
    cache: std::sync::RwLock<Arc<Keys>>,
    /// Held while the set is fetched; when it was last tried.
    refresh: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
}

/// The asymmetric algorithms taken from a JWKS.
const ASYMMETRIC: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
];

impl JwtVerifier {
    pub(crate) fn new(options: &JwtOptions) -> JwtVerifier {
        JwtVerifier {
            jwks: options.jwks.clone(),
            issuer: options.issuer.clone(),
            audience: options.audience.clone(),
            hs256: options
                .hs256_secret
                .as_ref()
                .and_then(|s| DecodingKey::from_secret(s.as_bytes()).ok()),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            cache: Default::default(),
            refresh: Default::default(),
        }
    }

    /// The user (`sub`) of a valid token.
    pub(crate) async fn verify(&self, token: &str) -> Result<String, RestError> {
        let bad = |what: &str| RestError::unauthorized(format!("invalid JWT: {what}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed header"))?;
        let key = if header.alg == Algorithm::HS256 {
            self.hs256
                .clone()
                .ok_or_else(|| bad("HS256 is not accepted"))?
        } else if ASYMMETRIC.contains(&header.alg) {
            self.key(header.kid.as_deref(), header.alg).await?
        } else {
            return Err(bad("algorithm not accepted"));
        };
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            bad(match e.kind() {
                K::ExpiredSignature => "expired",
                K::ImmatureSignature => "not valid yet",
                K::InvalidIssuer => "wrong issuer",
                K::InvalidAudience => "wrong audience",
                K::InvalidSignature => "bad signature",
                K::MissingRequiredClaim(_) => "a required claim (exp, iss, sub) is missing",
                _ => "cannot be verified",
            })
        })?;
        let user = data.claims.sub;
        if !valid_user(&user) {
            return Err(bad("`sub` is not a valid user id"));
        }
        Ok(user)
    }

    /// The key for `kid` and `alg`, fetching the set again when it is old or lacks the key.
    /// A request whose key is known never waits for a refresh (another request does it).
    async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, RestError> {
        let Some(source) = &self.jwks else {
            return Err(RestError::unauthorized(
                "invalid JWT: no JWKS is configured for its algorithm",
            ));
        };
        let mut keys = self.snapshot();
        let found = find(&keys.keys, kid, alg).is_some();
        if !found {
            let attempt = self.refresh.lock().await;
            keys = self.refresh(attempt, source, kid, alg).await;
        } else if keys.fetched.is_none_or(|t| t.elapsed() > JWKS_MAX_AGE) {
            if let Ok(attempt) = self.refresh.try_lock() {
                keys = self.refresh(attempt, source, kid, alg).await;
            }
        }
        if keys.fetched.is_none() {
            return Err(RestError::refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the sign-in keys (JWKS) cannot be fetched; retry later",
            ));
        }
        let jwk = find(&keys.keys, kid, alg)
            .ok_or_else(|| RestError::unauthorized("invalid JWT: unknown key id"))?;
        DecodingKey::from_jwk(jwk)
            .map_err(|_| RestError::unauthorized("invalid JWT: its key cannot be used"))
    }

    /// The keys as cached now.
    fn snapshot(&self) -> Arc<Keys> {
        Arc::clone(&self.cache.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Fetches the set again unless it is fresh and holds the key, or the last attempt was less
    /// than [`JWKS_MIN_REFRESH`] ago; while it cannot be fetched, the keys held stay.
    async fn refresh(
        &self,
        mut attempt: tokio::sync::MutexGuard<'_, Option<Instant>>,
        source: &JwksSource,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Arc<Keys> {
        let current = self.snapshot();
        let fresh = current.fetched.is_some_and(|t| t.elapsed() <= JWKS_MAX_AGE);
        if (fresh && find(&current.keys, kid, alg).is_some())
            || attempt.is_some_and(|t| t.elapsed() < JWKS_MIN_REFRESH)
        {
            return current;
        }
        *attempt = Some(Instant::now());
        match self.fetch(source).await {
            Ok(keys) => {
                let keys = Arc::new(Keys {
                    keys,
                    fetched: Some(Instant::now()),
                });
                *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&keys);
                keys
            }
            Err(e) => {
                tracing::warn!(target: LOG, "JWKS not refreshed: {e}");
                current
            }
        }
    }

    /// The key set's usable keys (those it cannot read are skipped).
    async fn fetch(&self, source: &JwksSource) -> Result<Vec<Jwk>, String> {
        let bytes = match source {
            JwksSource::File(path) => {
                std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            JwksSource::Url(url) => {
                let mut reply = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| format!("{url}: {}", e.without_url()))?;
                if !reply.status().is_success() {
                    return Err(format!("{url}: HTTP {}", reply.status()));
                }
                let mut body = Vec::new();
                while let Some(chunk) = reply
                    .chunk()
                    .await
                    .map_err(|e| e.without_url().to_string())?
                {
                    body.extend_from_slice(&chunk);
                    if body.len() > JWKS_MAX_BYTES {
                        return Err(format!("{url}: over {JWKS_MAX_BYTES} bytes"));
                    }
                }
                body
            }
        };
        #[derive(serde::Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = serde_json::from_slice(&bytes).map_err(|e| format!("not a JWKS: {e}"))?;
        Ok(set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .collect())
    }
}

/// The key of `kid` (or, for a token without one, the only key of its algorithm's family).
fn find<'k>(keys: &'k [Jwk], kid: Option<&str>, alg: Algorithm) -> Option<&'k Jwk> {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    let fits = |k: &&Jwk| {
        let family = matches!(
            (&k.algorithm, alg),
            (
                P::RSA(_),
                Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256
            ) | (P::EllipticCurve(_), Algorithm::ES256 | Algorithm::ES384)
        );
        let declared = k
            .common
            .key_algorithm
            .is_none_or(|a| a == jsonwebtoken::jwk::KeyAlgorithm::from(alg));
        family && declared
    };
    match kid {
        Some(kid) => keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid))
            .find(fits),
        None => {
            let mut fitting = keys.iter().filter(fits);
            match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
}
