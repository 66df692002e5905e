//! Who is calling the REST door, and from where: the `Host` check, the three ways to
//! authenticate (a user's token, the service token with `X-Byokit-User`, a JWT), and the
//! per-user rate limit. Every admitted request carries exactly one [`User`].

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use byokit_core::protocol::{Error, ErrorKind};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::jwt::JwtVerifier;
use super::{Rest, RestError, RestOptions};

/// The header in which the service token names the user of a request.
pub const USER_HEADER: &str = "x-byokit-user";

/// The user a request is for, once admitted, and how they authenticated.
#[derive(Debug, Clone)]
pub(crate) struct User(pub String, pub Via);

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// A user's own token.
    UserToken,
    /// The service token, naming the user.
    ServiceToken,
    /// A JWT of the app's sign-in.
    Jwt,
}

/// The door's admission rules, built once from [`RestOptions`].
pub(crate) struct Auth {
    hosts: Vec<String>,
    service_token: Option<[u8; 32]>,
    jwt: Option<JwtVerifier>,
    limiter: DefaultKeyedRateLimiter<String>,
}

/// A token's SHA-256, as the service token is kept.
pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal in time independent of where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A user id as a request may name it: 1 to 256 characters, none of them control characters.
pub(crate) fn valid_user(user: &str) -> bool {
    (1..=256).contains(&user.chars().count()) && !user.chars().any(char::is_control)
}

impl Auth {
    pub(crate) fn new(options: &RestOptions) -> Auth {
        let per_minute = NonZeroU32::new(options.rate_per_minute)
            .or(NonZeroU32::new(120))
            .unwrap_or(NonZeroU32::MIN);
        let limiter = RateLimiter::keyed(Quota::per_minute(per_minute));
        Auth {
            hosts: options
                .hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            service_token: options.service_token,
            jwt: options.jwt.as_ref().map(JwtVerifier::new),
            limiter,
        }
    }

    /// Whether the `Host` header names this machine or a configured name (against DNS
    /// rebinding: a page of another site cannot reach the door by a name that resolves here).
    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host.as_str(),
        };
        matches!(name, "localhost" | "127.0.0.1" | "[::1]") || self.hosts.iter().any(|h| h == name)
    }

    /// The one user the request is for.
    async fn user(
        &self,
        service: &crate::service::Service,
        headers: &HeaderMap,
    ) -> Result<(String, Via), RestError> {
        let token = headers
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or_default();
        if token.is_empty() {
            return Err(RestError::unauthorized(
                "missing bearer token: a user token, the service token or a sign-in JWT",
            ));
        }
        let named = match headers.get(USER_HEADER) {
            None => None,
            Some(v) => match v.to_str() {
                Ok(u) if valid_user(u) => Some(u.to_owned()),
                _ => {
                    return Err(RestError::invalid(
                        "X-Byokit-User: expected 1 to 256 characters, no control characters",
                    ))
                }
            },
        };
        // (b) The app's backend: its service token, and the user it names.
        if let Some(expected) = &self.service_token {
            if same(expected, &token_hash(token)) {
                return named.map(|u| (u, Via::ServiceToken)).ok_or_else(|| {
                    RestError::invalid("the service token needs the user in X-Byokit-User")
                });
            }
        }
        // (c) A signed-in user's JWT; (a) a user's own token.
        let user = if token.split('.').count() == 3 {
            match &self.jwt {
                Some(jwt) => (jwt.verify(token).await?, Via::Jwt),
                None => return Err(RestError::unauthorized("JWTs are not accepted here")),
            }
        } else {
            match service.http_user(token).await? {
                Some(user) => (user, Via::UserToken),
                None => return Err(RestError::unauthorized("unknown or revoked token")),
            }
        };
        // Only the service token names a user; anyone else is who they signed in as.
        match named {
            Some(other) if other != user.0 => Err(RestError::refused(
                StatusCode::FORBIDDEN,
                "forbidden",
                "only the service token may name a user in X-Byokit-User",
            )),
            _ => Ok(user),
        }
    }

    /// The user's next request to a rate-limited endpoint, or how long to wait for it.
    fn take(&self, user: &str) -> Result<(), RestError> {
        self.limiter
            .check_key(&user.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                RestError::Service(Error::new(
                    ErrorKind::RateLimited {
                        status: None,
                        retry_after_seconds: Some(wait.as_secs_f64()),
                    },
                    "too many settings requests; retry after the time given",
                ))
            })
    }

    /// Forgets the rate-limit state of users who have been quiet.
    pub(crate) fn forget_quiet_users(&self) {
        self.limiter.retain_recent();
    }
}

/// Admits a request (Host, caller, rate limit) and hands the handler its [`User`]. The log
/// names the method, the path and the status, never the query, a header or the body: every
/// failure, and with --log-requests every request.
pub(crate) async fn admit(State(rest): State<Arc<Rest>>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = admitted(&rest, request, next).await;
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if status >= 400 {
        tracing::warn!(target: crate::LOG, %method, %path, status, micros, "{method} {path} {status}");
    } else if rest.service.options().log_requests {
        tracing::info!(target: crate::LOG, %method, %path, status, micros, "{method} {path} {status} in {micros} µs");
    }
    response
}

async fn admitted(rest: &Rest, mut request: Request, next: Next) -> Response {
    let auth = &rest.auth;
    if !auth.host_allowed(request.headers()) {
        return RestError::refused(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            "the Host header must name this machine or a name given with --http-host",
        )
        .into_response();
    }
    let (user, via) = match auth.user(&rest.service, request.headers()).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if request.uri().path().starts_with("/api/settings") {
        if let Err(e) = auth.take(&user) {
            return e.into_response();
        }
    }
    request.extensions_mut().insert(User(user, via));
    next.run(request).await
}
