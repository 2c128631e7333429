//! `ApiError`: every way a request can fail, mapped to a status and an RFC 9457
//! `application/problem+json` body in this one place. Rejections that come
//! from axum or tower (an unknown method, a body over the limit, a timeout)
//! are turned into the same problems by [`problem_for_status`].

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use super::route::Methods;
use crate::auth::Role;
use crate::services::ServiceError;
use crate::store::StoreError;
use crate::text::{echo, truncate};

/// No problem `detail` is longer than this, in characters.
const MAX_DETAIL_CHARS: usize = 400;

/// Client errors may be cached briefly (the same request fails the same way
/// until the next deploy); server errors never.
const CACHE_CLIENT_ERROR: &str = "public, max-age=60";
const CACHE_NONE: &str = "no-store";

/// A request that cannot be answered with data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A query parameter (or the id path segment) is malformed or out of range.
    InvalidParameter { parameter: String, detail: String },
    /// The request as a whole is incomplete (e.g. a search with no criteria).
    BadRequest { detail: String },
    /// The request body is not well-formed JSON.
    MalformedBody { detail: String },
    /// The body is well-formed JSON that fails the endpoint's rules.
    InvalidBody { detail: String },
    /// The body is not JSON (`Content-Type`).
    UnsupportedMediaType { detail: String },
    /// The body is larger than the limit.
    PayloadTooLarge { limit_bytes: usize },
    /// No book has this id.
    BookNotFound { id: String },
    /// No endpoint at this path.
    RouteNotFound { path: String },
    /// The endpoint exists but not for this method.
    MethodNotAllowed { method: String, allowed: Methods },
    /// The database cannot be opened or queried. `cause` goes to the error
    /// log when the response is made, never to the client.
    Unavailable { cause: Option<String> },
    /// The model file is missing or corrupt (the cause was logged at start).
    ModelUnavailable,
    /// The request took longer than the server allows.
    Timeout,
    /// No usable credentials: none, a malformed `Authorization` header, or
    /// a token that failed a check. Which check is never said.
    Unauthorized { challenge: Challenge },
    /// A sign-in with a wrong name or password (never says which).
    SignInFailed,
    /// Too many failed sign-ins for this account name: try again after the
    /// wait (the password was not checked).
    SignInThrottled { retry_after: std::time::Duration },
    /// A valid token whose account lacks the role the route needs.
    Forbidden { needed: Role },
    /// `/metrics` without the configured metrics token (`BOOKS_METRICS_TOKEN`).
    MetricsTokenRequired,
    /// `/metrics` from a client that is not on loopback (or came through a
    /// proxy), when no metrics token is configured.
    MetricsLoopbackOnly,
    /// `BOOKS_JWT_SECRET` is missing or short: sign-in and every protected
    /// route are closed, the rest of the API answers.
    AuthNotConfigured,
    /// Neither a GitHub repository nor an in-process scrape is configured.
    TriggerNotConfigured,
    /// The request conflicts with work in progress (a scrape already running).
    Conflict { detail: String },
    /// A service we called failed or answered nonsense (its body is never
    /// passed on).
    BadGateway { detail: String },
    /// A service we called did not answer in time.
    GatewayTimeout { detail: String },
    /// Any other status a layer answered with (kept as problem+json).
    Status { status: StatusCode },
}

/// What a 401's `WWW-Authenticate` says (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No credentials, or another scheme than Bearer: the bare challenge.
    Missing,
    /// The header is malformed (two of them, `Bearer` with no token).
    InvalidRequest,
    /// A token that is malformed, forged, expired or of the wrong kind.
    InvalidToken,
}

impl Challenge {
    /// The `WWW-Authenticate` value; every challenge names the realm `books`.
    pub const fn header(self) -> &'static str {
        match self {
            Challenge::Missing => "Bearer realm=\"books\"",
            Challenge::InvalidRequest => "Bearer realm=\"books\", error=\"invalid_request\"",
            Challenge::InvalidToken => "Bearer realm=\"books\", error=\"invalid_token\"",
        }
    }
}

impl ApiError {
    pub fn invalid(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: echo(parameter),
            detail: detail.into(),
        }
    }

    /// The database is unavailable, with no more to say (it never opened).
    pub const UNAVAILABLE: ApiError = ApiError::Unavailable { cause: None };

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. }
            | ApiError::BadRequest { .. }
            | ApiError::MalformedBody { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidBody { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BookNotFound { .. } | ApiError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable { .. } | ApiError::ModelUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized { .. } | ApiError::SignInFailed => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } | ApiError::MetricsLoopbackOnly => StatusCode::FORBIDDEN,
            ApiError::MetricsTokenRequired => StatusCode::UNAUTHORIZED,
            ApiError::AuthNotConfigured | ApiError::TriggerNotConfigured => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::SignInThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            ApiError::GatewayTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Status { status } => *status,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, parameter) = match self {
            ApiError::InvalidParameter { parameter, detail } => {
                (detail.clone(), Some(parameter.clone()))
            }
            ApiError::BadRequest { detail }
            | ApiError::MalformedBody { detail }
            | ApiError::InvalidBody { detail }
            | ApiError::UnsupportedMediaType { detail } => (detail.clone(), None),
            ApiError::PayloadTooLarge { limit_bytes } => (
                format!("the request body is larger than {limit_bytes} bytes"),
                None,
            ),
            ApiError::BookNotFound { id } => (format!("no book has id {}", echo(id)), None),
            ApiError::RouteNotFound { path } => (
                format!(
                    "no endpoint at {}; see /docs for the list of endpoints",
                    echo(path)
                ),
                None,
            ),
            ApiError::MethodNotAllowed { method, allowed } => (
                format!(
                    "{} is not allowed here; allowed: {}",
                    echo(method),
                    allowed.allow()
                ),
                None,
            ),
            ApiError::Unavailable { .. } => (
                "the catalogue database is unavailable; try again later".to_owned(),
                None,
            ),
            ApiError::ModelUnavailable => (
                "the model is unavailable; the rest of the API still answers".to_owned(),
                None,
            ),
            ApiError::Timeout => (
                "the request took too long to answer; try again later".to_owned(),
                None,
            ),
            ApiError::Unauthorized { challenge } => (
                match challenge {
                    Challenge::Missing => "this endpoint needs a bearer token: send `Authorization: Bearer <access token>` (sign in at POST /api/v1/auth/login)",
                    Challenge::InvalidRequest => "the Authorization header is malformed: send exactly one, `Authorization: Bearer <access token>`",
                    Challenge::InvalidToken => "the token is invalid or expired: sign in again, or refresh it",
                }
                .to_owned(),
                None,
            ),
            ApiError::SignInFailed => ("the username or password is wrong".to_owned(), None),
            ApiError::SignInThrottled { retry_after } => (
                format!(
                    "too many failed sign-ins for this account; try again in {} s",
                    retry_seconds(*retry_after)
                ),
                None,
            ),
            ApiError::Forbidden { needed } => (
                format!("this endpoint needs the {} role", needed.as_str()),
                None,
            ),
            ApiError::MetricsTokenRequired => (
                "the metrics need the metrics token: send `Authorization: Bearer <BOOKS_METRICS_TOKEN>`"
                    .to_owned(),
                None,
            ),
            ApiError::MetricsLoopbackOnly => (
                "the metrics are served to loopback clients only, not through a proxy nor to another site's page; set BOOKS_METRICS_TOKEN to scrape them from elsewhere"
                    .to_owned(),
                None,
            ),
            ApiError::AuthNotConfigured => ("authentication is not configured".to_owned(), None),
            ApiError::TriggerNotConfigured => {
                ("scraping trigger is not configured".to_owned(), None)
            }
            ApiError::Conflict { detail }
            | ApiError::BadGateway { detail }
            | ApiError::GatewayTimeout { detail } => (detail.clone(), None),
            ApiError::Status { status } => (
                status
                    .canonical_reason()
                    .map_or_else(|| format!("status {status}"), |r| r.to_lowercase()),
                None,
            ),
        };
        Problem {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: truncate(&detail, MAX_DETAIL_CHARS),
            parameter,
        }
    }
}

impl From<ServiceError> for ApiError {
    /// Each service failure's status: a missing book 404, input only the
    /// data can refuse 422, the database or model 503, the model endpoint
    /// 502 when it failed and 504 when it did not answer in time.
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::BookNotFound { id } => ApiError::BookNotFound { id },
            ServiceError::InvalidInput { detail } => ApiError::InvalidBody { detail },
            ServiceError::Unavailable { cause } => ApiError::Unavailable { cause },
            ServiceError::ModelUnavailable => ApiError::ModelUnavailable,
            ServiceError::UpstreamFailed { detail } => ApiError::BadGateway { detail },
            ServiceError::UpstreamTimedOut { detail } => ApiError::GatewayTimeout { detail },
        }
    }
}

impl From<StoreError> for ApiError {
    /// A store failure on a request path: the cause is kept for the error log
    /// (written when the response is made), never shown to the client.
    fn from(err: StoreError) -> Self {
        ApiError::Unavailable {
            cause: Some(err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Unavailable { cause: Some(cause) } = &self {
            tracing::error!(event = "store_error", error = %cause);
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // Answers about credentials (or a caller's attempts) depend on the
        // caller: never stored.
        let about_caller = matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS
        );
        let cache = if status.is_server_error() || about_caller {
            CACHE_NONE
        } else {
            CACHE_CLIENT_ERROR
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        match self {
            ApiError::MethodNotAllowed { allowed, .. } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allowed.allow()));
            }
            ApiError::Unauthorized { challenge } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge.header()),
                );
            }
            ApiError::MetricsTokenRequired => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"metrics\""),
                );
            }
            ApiError::SignInFailed => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(Challenge::Missing.header()),
                );
            }
            ApiError::SignInThrottled { retry_after } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_seconds(retry_after)),
                );
            }
            ApiError::Forbidden { .. } => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"books\", error=\"insufficient_scope\"",
                    ),
                );
            }
            _ => {}
        }
        response
    }
}

/// `Retry-After`'s whole seconds: rounded up, so a client that waits them
/// is never early.
fn retry_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The problem for an error status that a layer (not a handler) answered
/// with, e.g. tower-http's 413 or axum's 405.
pub fn problem_for_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit_bytes: super::app::MAX_BODY_BYTES,
        },
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ApiError::Timeout,
        status => ApiError::Status { status },
    }
}

/// An RFC 9457 problem document. `type` is `about:blank`, so `title` is the
/// status's reason phrase; `parameter` names the offending query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(value_type = super::openapi::ProblemType)]
    pub problem_type: &'static str,
    /// The status's reason phrase.
    #[schema(examples("Bad Request"))]
    pub title: &'static str,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong and what is allowed.
    #[schema(examples("per_page must be an integer from 1 to 1000; got \"0\""))]
    pub detail: String,
    /// The query parameter (or `id`) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, examples("per_page"))]
    pub parameter: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    // (How echoes are cut: `crate::text`'s own test.)
    #[test]
    fn echoes_in_problems_are_cut() {
        let long = "é".repeat(10_000);
        let problem = ApiError::invalid(&long, format!("unknown {}", echo(&long))).problem();
        assert!(problem.parameter.unwrap().len() < 200);
        assert!(problem.detail.len() < 300);
    }
}
