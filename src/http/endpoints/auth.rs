//! Sign-in (JSON, or the OAuth 2.0 password grant's form at its own route)
//! and refresh. Each issues a fresh access and refresh token pair; none
//! keeps anything on the server but the count of failed sign-ins.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde::Deserialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::{JSON, json};
use crate::auth::token::MAX_TOKEN_BYTES;
use crate::auth::{AuthConfig, TokenKind, TokenPair};
use crate::domain::{named_schema, one_of_words};
use crate::http::bearer::AuthReady;
use crate::http::body::{JsonBody, Validate, media_type};
use crate::http::error::{ApiError, Challenge};
use crate::http::params::{NoParams, Query};
use crate::http::route::Route;

/// The longest account name, in characters.
const MAX_USERNAME_CHARS: usize = 64;
/// The longest password a request may hold, in characters.
const MAX_PASSWORD_CHARS: usize = 1024;
/// Password checks run at once; each holds 19 MiB for tens of milliseconds,
/// so a burst of sign-ins queues here instead of exhausting memory (and is
/// answered 503 by the request timeout if it waits too long).
static VERIFICATIONS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));

/// A sign-in, as JSON.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The account name, 1 to 64 characters, none of them a control character.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$",
        examples("admin")
    )]
    pub username: String,
    /// The account's password, 1 to 1024 characters.
    #[schema(min_length = 1, max_length = 1024, format = Password)]
    pub password: String,
}

impl Validate for SignInRequest {
    fn validate(&self) -> Result<(), String> {
        let chars = self.username.chars().count();
        if !(1..=MAX_USERNAME_CHARS).contains(&chars) || self.username.chars().any(char::is_control)
        {
            return Err(format!(
                "username must be 1 to {MAX_USERNAME_CHARS} characters, none of them control"
            ));
        }
        // Characters, as the schema counts them; a password of more than
        // MAX_PASSWORD_BYTES bytes is no account's, and gets the 401.
        if self.password.is_empty() || self.password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(format!(
                "password must be 1 to {MAX_PASSWORD_CHARS} characters"
            ));
        }
        Ok(())
    }
}

/// A sign-in as the OAuth 2.0 password grant sends it (RFC 6749 §4.3.2), as
/// `application/x-www-form-urlencoded`: what Swagger UI's Authorize and
/// OAuth 2.0 client libraries send. Other parameters (`scope`,
/// `client_id`) are ignored, as §3.2 asks.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PasswordGrant {
    /// Always `password`.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// The account name, 1 to 64 characters, none of them a control character.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$",
        examples("admin")
    )]
    pub username: String,
    /// The account's password, 1 to 1024 characters.
    #[schema(min_length = 1, max_length = 1024, format = Password)]
    pub password: String,
}

named_schema!(
    /// The one grant the token endpoint issues tokens for.
    GrantType => one_of_words(&["password"], "The OAuth 2.0 grant: `password`.")
);

/// The password grant's form, checked as the JSON sign-in is.
pub(super) struct GrantForm(SignInRequest);

impl<S: Send + Sync> FromRequest<S> for GrantForm {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = media_type(request.headers())
            .is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::UnsupportedMediaType {
                detail: "the token endpoint takes the OAuth 2.0 password grant as a form (Content-Type: application/x-www-form-urlencoded); JSON sign-in is POST /api/v1/auth/login".to_owned(),
            });
        }
        let axum::Form(grant) = axum::Form::<PasswordGrant>::from_request(request, state)
            .await
            .map_err(|rejection| match rejection.status() {
                http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                    limit_bytes: crate::http::app::MAX_BODY_BYTES,
                },
                _ => ApiError::InvalidBody {
                    detail: "the form needs grant_type=password, username and password".to_owned(),
                },
            })?;
        if grant.grant_type != "password" {
            return Err(ApiError::InvalidBody {
                detail: "grant_type must be password".to_owned(),
            });
        }
        let body = SignInRequest {
            username: grant.username,
            password: grant.password,
        };
        body.validate()
            .map_err(|detail| ApiError::InvalidBody { detail })?;
        Ok(GrantForm(body))
    }
}

/// Sign in
///
/// Exchanges an account's name and password, as JSON, for an access token
/// (send it as `Authorization: Bearer <access_token>`; 15 minutes by
/// default) and a refresh token (7 days by default). A wrong name and a
/// wrong password get the same 401. After ten failures in a row for one
/// name, each further attempt must wait longer (1 s, doubling, up to 15
/// minutes): earlier attempts get 429 with `Retry-After`, without the
/// password being checked. 503 when authentication is not configured. The
/// OAuth 2.0 password grant, as a form, is `POST /api/v1/auth/token`.
#[utoipa::path(post, path = Route::AuthLogin.path(), operation_id = "signIn", tag = "auth",
    request_body = SignInRequest,
    responses((status = 200, description = "Signed in", body = TokenPair)))]
pub(super) async fn login(
    AuthReady(auth): AuthReady,
    _: Query<NoParams>,
    JsonBody(request): JsonBody<SignInRequest>,
) -> Result<Response, ApiError> {
    sign_in(auth, request).await
}

/// Get a token (OAuth 2.0 password grant)
///
/// The OAuth 2.0 resource owner password grant (RFC 6749 §4.3), as a form:
/// what the docs' **Authorize** button and OAuth 2.0 client libraries send.
/// The same accounts, answers and throttling as `POST /api/v1/auth/login`.
#[utoipa::path(post, path = Route::AuthToken.path(), operation_id = "issueToken", tag = "auth",
    request_body(content((PasswordGrant = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Signed in", body = TokenPair)))]
pub(super) async fn token(
    AuthReady(auth): AuthReady,
    _: Query<NoParams>,
    GrantForm(request): GrantForm,
) -> Result<Response, ApiError> {
    sign_in(auth, request).await
}

/// Checks `request`'s password, unless its name must wait, and answers a
/// token pair or the refusal.
async fn sign_in(
    auth: std::sync::Arc<AuthConfig>,
    request: SignInRequest,
) -> Result<Response, ApiError> {
    let name = request.username.clone();
    if let Err(retry_after) = auth.throttle.attempt(&name, Instant::now()) {
        tracing::info!(event = "sign_in", outcome = "throttled");
        return Err(ApiError::SignInThrottled { retry_after });
    }
    let checked = auth.clone();
    let role = {
        let _permit = VERIFICATIONS
            .acquire()
            .await
            .map_err(|_| ApiError::Status {
                status: http::StatusCode::SERVICE_UNAVAILABLE,
            })?;
        tokio::task::spawn_blocking(move || {
            checked
                .accounts
                .verify(&request.username, &request.password)
        })
        .await
        .map_err(|_| ApiError::Status {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
        })?
    };
    let Some(role) = role else {
        tracing::info!(event = "sign_in", outcome = "refused");
        return Err(ApiError::SignInFailed);
    };
    auth.throttle.succeeded(&name);
    tracing::info!(
        event = "sign_in",
        outcome = "ok",
        user = name.as_str(),
        role = role.as_str()
    );
    tokens(&auth, &name, role)
}

/// A refresh.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of an earlier sign-in or refresh.
    #[schema(min_length = 1, max_length = 4096)]
    pub refresh_token: String,
}

impl Validate for RefreshRequest {
    fn validate(&self) -> Result<(), String> {
        if self.refresh_token.is_empty() || self.refresh_token.len() > MAX_TOKEN_BYTES {
            return Err(format!(
                "refresh_token must be 1 to {MAX_TOKEN_BYTES} bytes"
            ));
        }
        Ok(())
    }
}

/// Refresh a sign-in
///
/// Exchanges a refresh token for a new access and refresh token pair. The
/// account must still exist, and the new tokens carry its current role.
/// Refresh tokens are not kept on the server: an old one stays valid until
/// it expires, unless the account is removed or the secret is rotated. An
/// invalid, expired or access token gets 401.
#[utoipa::path(post, path = Route::AuthRefresh.path(), operation_id = "refreshToken", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, description = "A new pair", body = TokenPair)))]
pub(super) async fn refresh(
    AuthReady(auth): AuthReady,
    _: Query<NoParams>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Response, ApiError> {
    let invalid = ApiError::Unauthorized {
        challenge: Challenge::InvalidToken,
    };
    let claims = match auth.keys.verify(&request.refresh_token, TokenKind::Refresh) {
        Ok(claims) => claims,
        Err(reason) => {
            tracing::info!(event = "token_refused", reason = %reason);
            return Err(invalid);
        }
    };
    let Some(role) = auth.accounts.role_of(&claims.sub) else {
        tracing::info!(
            event = "refresh",
            outcome = "refused",
            reason = "no such account"
        );
        return Err(invalid);
    };
    tracing::info!(
        event = "refresh",
        outcome = "ok",
        user = claims.sub.as_str()
    );
    tokens(&auth, &claims.sub, role)
}

/// A fresh token pair, never stored anywhere on the way (RFC 6749 §5.1).
fn tokens(auth: &AuthConfig, name: &str, role: crate::auth::Role) -> Result<Response, ApiError> {
    let pair: TokenPair = auth
        .keys
        .issue_pair(name, role, &auth.lifetimes)
        .map_err(|err| {
            tracing::error!(event = "token_issue_failed", error = %err);
            ApiError::AuthNotConfigured
        })?;
    let cache = Route::AuthLogin.cache_policy().cache_control();
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JSON)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        json(&pair),
    )
        .into_response())
}
