//! byokd's REST door: the spec's settings endpoints (`/api/settings/api-config`, `…/test`,
//! `/api/settings/usage?days=N`) and what the roadmap adds (budget, alerts, routing, usage
//! export, the catalog), served beside the OpenAI-compatible `/v1` on byokd's `--http` address.
//!
//! Every request is for exactly one user, who is the caller: a user's own bearer token
//! (`byokit http token`), the app backend's service token naming the user in `X-Byokit-User`,
//! or a JWT of the app's sign-in, checked against its JWKS ([`jwt`]). A body never names a user.
//! Like `/v1`, the door only translates: each endpoint is one [`Service`] call, and a
//! [`protocol::Error`](byokit_core::protocol::Error) becomes its HTTP status by the rule `/v1`
//! answers by (`status_of` in `crate::status`), with a JSON body `{"error": {"kind", "message", …}}`.

mod auth;
pub mod jwt;
mod openapi;
mod routes;

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use byokit_core::protocol::{Error, ErrorKind};
use serde_json::Value;

use crate::service::Service;

pub use crate::options::RestOptions;

/// The REST door's flags, shared by `byokd`'s command line.
#[derive(Debug, Clone, clap::Args)]
pub struct RestArgs {
    /// Allow `--http` on an address other than loopback (for a web app's backend on another
    /// machine). byokd speaks plain HTTP: put TLS in a reverse proxy in front of it.
    #[arg(long)]
    pub http_public: bool,
    /// A `Host` name the REST door answers to besides localhost (the name a reverse proxy
    /// forwards); may be given several times.
    #[arg(long = "http-host", value_name = "NAME")]
    pub http_hosts: Vec<String>,
    /// A file holding the app backend's service token, which names the user of each request in
    /// `X-Byokit-User` (also $BYOKIT_SERVICE_TOKEN_FILE). Never the token itself on the command
    /// line.
    #[arg(long, value_name = "FILE", env = "BYOKIT_SERVICE_TOKEN_FILE")]
    pub service_token_file: Option<PathBuf>,
    /// The app's sign-in keys: a JWKS file, or its `https://` URL (plain `http://` only on
    /// loopback). Signed-in users' JWTs are then accepted, their user being `sub`.
    #[arg(long, value_name = "FILE|URL", env = "BYOKIT_JWT_JWKS")]
    pub jwt_jwks: Option<String>,
    /// The issuer (`iss`) every JWT must name; required with --jwt-jwks or --jwt-hs256-secret-file.
    #[arg(long, value_name = "ISSUER", env = "BYOKIT_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The audience (`aud`) every JWT must name (Supabase: `authenticated`); unchecked when
    /// absent (Clerk's session tokens have none).
    #[arg(long, value_name = "AUDIENCE", env = "BYOKIT_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// A file holding a shared secret for HS256 JWTs (Supabase's legacy JWT secret); HS256 is
    /// refused without it.
    #[arg(long, value_name = "FILE", env = "BYOKIT_JWT_HS256_SECRET_FILE")]
    pub jwt_hs256_secret_file: Option<PathBuf>,
    /// An origin whose browser pages may call the REST door (CORS), e.g.
    /// `https://app.example.com`; may be given several times. No CORS headers without it.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,
    /// Requests per minute each user may make to `/api/settings/*`.
    #[arg(long, value_name = "N", default_value_t = 120)]
    pub rest_rate_limit: u32,
}

impl RestArgs {
    /// The options these flags give; the files are read now.
    pub fn options(&self) -> Result<RestOptions, String> {
        let secret = |flag: &str, path: &PathBuf| {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--{flag} {}: {e}", path.display()))?;
            let text = text.trim().to_owned();
            if text.len() < 32 {
                return Err(format!(
                    "--{flag} {}: the secret must be at least 32 characters",
                    path.display()
                ));
            }
            Ok(zeroize::Zeroizing::new(text))
        };
        let service_token = match &self.service_token_file {
            Some(path) => Some(auth::token_hash(&secret("service-token-file", path)?)),
            None => None,
        };
        let hs256 = match &self.jwt_hs256_secret_file {
            Some(path) => Some(secret("jwt-hs256-secret-file", path)?),
            None => None,
        };
        let jwt = match (&self.jwt_jwks, hs256, &self.jwt_issuer) {
            (None, None, _) => None,
            (_, _, None) => {
                return Err("--jwt-issuer is required to accept JWTs".into());
            }
            (jwks, hs256, Some(issuer)) => Some(jwt::JwtOptions {
                jwks: jwks.as_deref().map(jwt::JwksSource::parse).transpose()?,
                issuer: issuer.clone(),
                audience: self.jwt_audience.clone(),
                hs256_secret: hs256,
            }),
        };
        for origin in &self.cors_origins {
            if HeaderValue::from_str(origin).is_err() || !origin.contains("://") {
                return Err(format!(
                    "--cors-origin {origin}: expected scheme://host[:port]"
                ));
            }
        }
        Ok(RestOptions {
            hosts: self.http_hosts.clone(),
            service_token,
            jwt,
            cors_origins: self.cors_origins.clone(),
            rate_per_minute: self.rest_rate_limit,
        })
    }
}

/// The most bytes a REST request's body may have.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the REST handlers share.
pub(crate) struct Rest {
    service: Arc<Service>,
    auth: auth::Auth,
}

/// The REST door's routes, for byokd's HTTP server.
pub(crate) fn router(service: Arc<Service>) -> axum::Router {
    let options = &service.options().rest;
    let cors = (!options.cors_origins.is_empty()).then(|| {
        let origins: Vec<HeaderValue> = options
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
            ])
            .max_age(std::time::Duration::from_secs(600))
    });
    let rest = Arc::new(Rest {
        auth: auth::Auth::new(options),
        service,
    });
    // The rate limiter forgets users who have been quiet, so that it does not grow without end.
    let quiet = Arc::downgrade(&rest);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            match quiet.upgrade() {
                Some(rest) => rest.auth.forget_quiet_users(),
                None => return,
            }
        }
    });
    let document = openapi::json();
    let router = routes::routes(rest)
        .route(
            "/openapi.json",
            axum::routing::get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// A REST request's failure: a service error, or the door's own refusal (who is calling, from
/// where) with its status.
#[derive(Debug)]
pub(crate) enum RestError {
    /// What the service answered.
    Service(Error),
    /// A refusal before any service call.
    Refused {
        status: StatusCode,
        kind: &'static str,
        message: String,
    },
}

impl RestError {
    fn refused(status: StatusCode, kind: &'static str, message: impl Into<String>) -> RestError {
        RestError::Refused {
            status,
            kind,
            message: message.into(),
        }
    }

    /// 401: no caller could be identified.
    pub(crate) fn unauthorized(message: impl Into<String>) -> RestError {
        RestError::refused(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 400: the request itself is wrong.
    pub(crate) fn invalid(message: impl Into<String>) -> RestError {
        RestError::Service(Error::new(ErrorKind::InvalidParams, message))
    }
}

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        RestError::Service(e)
    }
}

/// Every REST error's body.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong.
    error: ErrorDetail,
}

/// What went wrong: the kind a caller acts on, a message for people, and the kind's own fields
/// (`retry_after_seconds`, `status`, `suggestions`, `limit_bytes`) when it has them.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// `unauthorized`, `forbidden`, `forbidden_host`, `unavailable`, or a service error's kind
    /// (`invalid_params`, `not_found`, `rate_limited`, …).
    kind: String,
    /// What was wrong, in words; never a key.
    message: String,
    /// The kind's own fields.
    #[serde(flatten)]
    #[schema(ignore)]
    fields: serde_json::Map<String, Value>,
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        match self {
            RestError::Service(e) => {
                let (status, _, _) = crate::status::status_of(&e.kind);
                let mut fields = match serde_json::to_value(&e.kind) {
                    Ok(Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                };
                fields.remove("kind");
                let body = ErrorBody {
                    error: ErrorDetail {
                        kind: e.kind.as_str().to_owned(),
                        message: e.message.clone(),
                        fields,
                    },
                };
                let mut response = (status, Json(body)).into_response();
                crate::status::set_retry_after(&mut response, &e.kind);
                response
            }
            RestError::Refused {
                status,
                kind,
                message,
            } => {
                let body = ErrorBody {
                    error: ErrorDetail {
                        kind: kind.to_owned(),
                        message,
                        fields: serde_json::Map::new(),
                    },
                };
                (status, Json(body)).into_response()
            }
        }
    }
}
