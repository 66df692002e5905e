//! The REST endpoints: each reads its query or JSON body into the service's parameters, with
//! the admitted [`User`] as their user, and answers the service's result as JSON.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, FromRequest, Request, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use byokit_core::protocol::{
    BudgetSetParams, ConfigSaveParams, ConfigTarget, Error, ErrorKind, HttpTokenParams,
    HttpTokenResult, RoutingSetParams, UsageSummaryParams, UserParams,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::auth::{User, Via};
use super::{ErrorBody, Rest, RestError, MAX_BODY_BYTES};
#[allow(unused_imports)] // named by the OpenAPI annotations only
use byokit_core::{
    budget::{Alert, Budget},
    protocol::{
        BudgetGetResult, ConfigDeleteResult, ConfigGetResult, ConfigTestResult, ConfigView,
        RoutingSettings,
    },
    usage::UsageSummary,
    Provider,
};

type Reply = Result<Response, RestError>;

/// The endpoints, each admitted by [`super::auth::admit`] first; a method an endpoint does not
/// have is a 405 before any authentication.
pub(super) fn routes(rest: Arc<Rest>) -> Router {
    let admit = axum::middleware::from_fn_with_state(Arc::clone(&rest), super::auth::admit);
    Router::new()
        .route(
            "/api/settings/api-config",
            get(config_get)
                .post(config_save)
                .delete(config_delete)
                .route_layer(admit.clone()),
        )
        .route(
            "/api/settings/api-config/test",
            post(config_test).route_layer(admit.clone()),
        )
        .route("/api/settings/usage", get(usage).route_layer(admit.clone()))
        .route(
            "/api/settings/usage/export",
            get(usage_export).route_layer(admit.clone()),
        )
        .route(
            "/api/settings/budget",
            get(budget_get).put(budget_set).route_layer(admit.clone()),
        )
        .route(
            "/api/settings/alerts",
            get(alerts).route_layer(admit.clone()),
        )
        .route(
            "/api/settings/routing",
            get(routing_get).put(routing_set).route_layer(admit.clone()),
        )
        .route(
            "/api/settings/http-token",
            post(http_token).route_layer(admit.clone()),
        )
        .route("/api/catalog", get(catalog).route_layer(admit))
        .with_state(rest)
}

/// A request body, bounded; a body over the bound is a `too_large` error, not a bare 413.
pub(super) struct Body(Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = RestError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(RestError::Service(Error::new(
                    ErrorKind::TooLarge {
                        limit_bytes: MAX_BODY_BYTES as u64,
                    },
                    format!("the body is over {MAX_BODY_BYTES} bytes"),
                )))
            }
            Err(_) => Err(RestError::invalid("the body could not be read")),
        }
    }
}

fn ok<T: Serialize>(value: T) -> Reply {
    Ok(Json(value).into_response())
}

/// The members a request gives, with the user added: a JSON object body (or none), or the
/// query's pairs. Neither may name a user: the request is for the one admitted.
fn with_user(user: &User, mut members: Map<String, Value>) -> Result<Value, RestError> {
    if members.contains_key("user") {
        return Err(RestError::invalid(
            "`user` is not accepted: a request is for the user it authenticates as",
        ));
    }
    members.insert("user".into(), Value::String(user.0.clone()));
    Ok(Value::Object(members))
}

/// The JSON object of a body (no body at all is `{}`; anything else must be JSON).
fn body_members(body: &[u8]) -> Result<Map<String, Value>, RestError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(RestError::invalid("the body must be a JSON object")),
        Err(e) => Err(RestError::Service(Error::new(
            ErrorKind::ParseError,
            format!("the body is not JSON: {e}"),
        ))),
    }
}

/// The JSON object of a body that must be there.
fn required_body(body: &[u8]) -> Result<Map<String, Value>, RestError> {
    if body.is_empty() {
        return Err(RestError::invalid("a JSON object body is required"));
    }
    body_members(body)
}

/// The query's pairs; `numbers` are read as integers.
fn query_members(uri: &Uri, numbers: &[&str]) -> Result<Map<String, Value>, RestError> {
    let mut members = Map::new();
    for (name, value) in form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        let value = if numbers.contains(&name.as_ref()) {
            let n: i64 = value
                .parse()
                .map_err(|_| RestError::invalid(format!("`{name}` must be an integer")))?;
            Value::from(n)
        } else {
            Value::String(value.into_owned())
        };
        if members.insert(name.into_owned(), value).is_some() {
            return Err(RestError::invalid("a query parameter is given twice"));
        }
    }
    Ok(members)
}

fn params<T: DeserializeOwned>(user: &User, members: Map<String, Value>) -> Result<T, RestError> {
    serde_json::from_value(with_user(user, members)?)
        .map_err(|e| RestError::invalid(format!("invalid params: {e}")))
}

fn user_params(user: &User) -> UserParams {
    UserParams {
        user: user.0.clone(),
    }
}

#[utoipa::path(get, path = "/api/settings/api-config", tag = "settings", summary = "The user's keys, masked, and the active one",
    responses(
        (status = 200, description = "The configurations, keys masked", body = ConfigGetResult),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn config_get(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
) -> Reply {
    ok(rest.service.config_get(user_params(&user)).await?)
}

#[utoipa::path(post, path = "/api/settings/api-config", tag = "settings", summary = "Saves a key; the most recently saved becomes active (`add` keeps the provider's other keys)",
    request_body = ConfigSaveParams,
    responses(
        (status = 201, description = "Saved, the key masked", body = ConfigView),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn config_save(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    Body(body): Body,
) -> Reply {
    let p: ConfigSaveParams = params(&user, required_body(&body)?)?;
    let view = Box::pin(rest.service.config_save(p)).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `DELETE` by `?provider=` and/or `?key_id=` (or the same in a JSON body).
#[utoipa::path(delete, path = "/api/settings/api-config", tag = "settings", summary = "Deletes the keys of a provider, one key, or all of the user's; usage is kept",
    params(("provider" = Option<Provider>, Query, description = "The provider whose keys go"), ("key_id" = Option<String>, Query, description = "One key")),
    responses(
        (status = 200, description = "How many were deleted", body = ConfigDeleteResult),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn config_delete(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    uri: Uri,
    Body(body): Body,
) -> Reply {
    let mut members = query_members(&uri, &[])?;
    for (k, v) in body_members(&body)? {
        if members.insert(k, v).is_some() {
            return Err(RestError::invalid(
                "a parameter is both in the query and the body",
            ));
        }
    }
    let p: ConfigTarget = params(&user, members)?;
    ok(rest.service.config_delete(p).await?)
}

#[utoipa::path(post, path = "/api/settings/api-config/test", tag = "settings", summary = "Tests a key with a cheap real request to its provider",
    request_body(content = Option<ConfigTarget>, description = "The provider whose stored key to test (the active key when absent), or a key not saved yet: `provider` with `api_key` (and `base_url`), never stored"),
    responses(
        (status = 200, description = "The outcome, in the provider's words when it refused", body = ConfigTestResult),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn config_test(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    Body(body): Body,
) -> Reply {
    let p: ConfigTarget = params(&user, body_members(&body)?)?;
    if p.key_id.is_some() {
        return Err(RestError::invalid("`key_id` is not accepted by the test"));
    }
    ok(Box::pin(rest.service.config_test(p)).await?)
}

#[utoipa::path(get, path = "/api/settings/usage", tag = "settings", summary = "Usage over the last `days` days: totals by provider, feature, model and day, the system quota and the budget",
    params(("days" = Option<u16>, Query, minimum = 1, maximum = 365, description = "The window (default 30)")),
    responses(
        (status = 200, description = "The summary; money as decimal strings", body = UsageSummary),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn usage(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    uri: Uri,
) -> Reply {
    let p: UsageSummaryParams = params(&user, query_members(&uri, &["days"])?)?;
    ok(rest.service.usage_summary(p).await?)
}

/// How usage is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum ExportFormat {
    /// CSV with a header row (RFC 4180).
    Csv,
    /// One JSON object a line.
    Jsonl,
}

/// `?days=N&format=csv|jsonl`: every event of the window, oldest first.
#[utoipa::path(get, path = "/api/settings/usage/export", tag = "settings", summary = "Every usage event of the window, oldest first, as CSV or JSON Lines",
    params(("days" = Option<u16>, Query, minimum = 1, maximum = 365, description = "The window (default 30)"), ("format" = Option<ExportFormat>, Query, description = "`csv` (default) or `jsonl`")),
    responses(
        (status = 200, description = "The events", content((String = "text/csv"), (String = "application/x-ndjson"))),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn usage_export(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    uri: Uri,
) -> Reply {
    let mut members = query_members(&uri, &["days"])?;
    let format = match members.remove("format") {
        None => ExportFormat::Csv,
        Some(f) => serde_json::from_value(f)
            .map_err(|_| RestError::invalid("`format` must be `csv` or `jsonl`"))?,
    };
    let p: UsageSummaryParams = params(&user, members)?;
    let events = rest.service.usage_export(p).await?;
    let (kind, text) = if format == ExportFormat::Csv {
        let mut text = format!("{}\n", byokit_core::usage::CSV_HEADER);
        for e in &events {
            text.push_str(&e.csv_row());
            text.push('\n');
        }
        ("text/csv; charset=utf-8", text)
    } else {
        let mut text = String::new();
        for e in &events {
            let line = serde_json::to_string(e)
                .map_err(|e| RestError::Service(crate::service::internal(e.to_string())))?;
            text.push_str(&line);
            text.push('\n');
        }
        ("application/x-ndjson", text)
    };
    Ok(([(header::CONTENT_TYPE, kind)], text).into_response())
}

#[utoipa::path(get, path = "/api/settings/budget", tag = "settings", summary = "The monthly budget and where it stands, or null",
    responses(
        (status = 200, description = "The budget, or null when there is none", body = Option<BudgetGetResult>),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn budget_get(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
) -> Reply {
    ok(rest.service.budget_get(user_params(&user)).await?)
}

#[utoipa::path(put, path = "/api/settings/budget", tag = "settings", summary = "Sets the monthly budget",
    request_body = BudgetSetParams,
    responses(
        (status = 200, description = "The budget", body = Budget),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn budget_set(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    Body(body): Body,
) -> Reply {
    let members = required_body(&body)?;
    // Money is a decimal string here, never a JSON number (which a client may have rounded).
    if members
        .get("monthly_limit_usd")
        .is_some_and(|v| !v.is_string())
    {
        return Err(RestError::invalid(
            "`monthly_limit_usd` must be a decimal string, e.g. \"25.00\"",
        ));
    }
    let p: BudgetSetParams = params(&user, members)?;
    ok(rest.service.budget_set(p).await?)
}

#[utoipa::path(get, path = "/api/settings/alerts", tag = "settings", summary = "The budget alerts, newest first",
    responses(
        (status = 200, description = "The alerts", body = Vec<Alert>),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn alerts(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
) -> Reply {
    ok(rest.service.alerts(user_params(&user)).await?)
}

#[utoipa::path(get, path = "/api/settings/routing", tag = "settings", summary = "Fallback providers and per-feature models",
    responses(
        (status = 200, description = "The routing settings", body = RoutingSettings),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn routing_get(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
) -> Reply {
    ok(rest.service.routing_get(user_params(&user)).await?)
}

#[utoipa::path(put, path = "/api/settings/routing", tag = "settings", summary = "Replaces the routing settings (each model checked against the catalog)",
    request_body = RoutingSettings,
    responses(
        (status = 200, description = "The routing settings", body = RoutingSettings),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn routing_set(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    Body(body): Body,
) -> Reply {
    let p: RoutingSetParams = params(&user, required_body(&body)?)?;
    ok(rest.service.routing_set(p).await?)
}

/// The user's bearer token for `/v1` (and this API) under a name, made on first use and the
/// same on every later call until revoked: for an app's backend that makes the user's AI calls
/// through byokd's OpenAI-compatible door. Not for a JWT: a short-lived sign-in does not turn
/// itself into a lasting token.
#[utoipa::path(post, path = "/api/settings/http-token", tag = "settings", summary = "The user's bearer token for the OpenAI-compatible /v1 (not with a JWT)",
    request_body(content = Option<HttpTokenParams>, description = "The token's name (`default` when absent)"),
    responses(
        (status = 200, description = "The token", body = HttpTokenResult),
        (status = "4XX", description = "Refused (`forbidden` with a JWT)", body = ErrorBody),
        (status = "5XX", description = "byokd failed", body = ErrorBody),
    ),
)]
pub(super) async fn http_token(
    State(rest): State<Arc<Rest>>,
    Extension(user): Extension<User>,
    Body(body): Body,
) -> Reply {
    if user.1 == Via::Jwt {
        return Err(RestError::refused(
            StatusCode::FORBIDDEN,
            "forbidden",
            "a token is issued to the service token or a user token, not to a JWT",
        ));
    }
    let p: HttpTokenParams = params(&user, body_members(&body)?)?;
    ok(rest.service.http_token(p).await?)
}

/// The catalog's models with their prices (`/api/catalog`).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct CatalogModels {
    /// The catalog's version.
    catalog_version: String,
    /// Its models that are not deprecated; prices in USD per million tokens, decimal strings.
    models: Vec<CatalogModel>,
}

/// A model of `/api/catalog`, with the price a call made today is priced at.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct CatalogModel {
    #[serde(flatten)]
    model: byokit_core::Model,
    /// The price set in force today (UTC): the latest that has taken effect; `null` when none
    /// has yet.
    price_today: Option<byokit_core::PriceSet>,
}

/// The catalog's models with their prices, for a model picker.
#[utoipa::path(get, path = "/api/catalog", tag = "catalog", summary = "The catalog's models with their prices per million tokens, for a model picker",
    responses(
        (status = 200, description = "The models", body = CatalogModels),
        (status = "4XX", description = "Refused: the error's kind says why (`unauthorized`, `forbidden`, `forbidden_host`, `invalid_params`, `parse_error`, `too_large`, `not_found`, `rate_limited` with `Retry-After`, ...)", body = ErrorBody),
        (status = "5XX", description = "byokd or the provider failed (`unavailable` while the sign-in keys cannot be fetched)", body = ErrorBody),
    ),
)]
pub(super) async fn catalog(State(rest): State<Arc<Rest>>) -> Reply {
    let catalog = rest.service.catalog();
    let today = time::OffsetDateTime::now_utc().date();
    ok(CatalogModels {
        catalog_version: catalog.version().to_owned(),
        models: catalog
            .models(None)
            .filter(|m| !m.deprecated)
            .map(|m| CatalogModel {
                price_today: m.price_at(Some(today)).cloned(),
                model: m.clone(),
            })
            .collect(),
    })
}
