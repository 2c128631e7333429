//! Sign-in and refresh. Both issue a fresh access and refresh token pair;
//! neither keeps anything on the server.

use std::sync::LazyLock;

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde::Deserialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use super::{JSON, json};
use crate::auth::password::MAX_PASSWORD_BYTES;
use crate::auth::token::MAX_TOKEN_BYTES;
use crate::auth::{AuthConfig, TokenKind, TokenPair};
use crate::http::bearer::AuthReady;
use crate::http::body::{JsonBody, Validate, media_type};
use crate::http::error::{ApiError, Challenge};
use crate::http::params::{NoParams, Query};
use crate::http::route::Route;

/// The longest account name, in characters.
const MAX_USERNAME_CHARS: usize = 64;
/// Password checks run at once; each holds 19 MiB for tens of milliseconds,
/// so a burst of sign-ins queues here instead of exhausting memory (and is
/// answered 503 by the request timeout if it waits too long).
static VERIFICATIONS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));

/// A sign-in, as JSON.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The account name, 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64, examples("admin"))]
    pub username: String,
    /// The account's password, 1 to 1024 bytes.
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
        if self.password.is_empty() || self.password.len() > MAX_PASSWORD_BYTES {
            return Err(format!("password must be 1 to {MAX_PASSWORD_BYTES} bytes"));
        }
        Ok(())
    }
}

/// A sign-in as the OAuth 2.0 password grant sends it (RFC 6749 §4.3.2), as
/// `application/x-www-form-urlencoded`: what Swagger UI's Authorize sends.
/// Other parameters (`scope`, `client_id`) are ignored, as §3.2 asks.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PasswordGrant {
    /// `password` when given.
    #[schema(examples("password"))]
    pub grant_type: Option<String>,
    /// The account name.
    pub username: String,
    /// The account's password.
    #[schema(format = Password)]
    pub password: String,
}

/// The sign-in body, JSON or form.
pub(super) struct Credentials(SignInRequest);

impl<S: Send + Sync> FromRequest<S> for Credentials {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = media_type(request.headers())
            .is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !is_form {
            return match JsonBody::<SignInRequest>::from_request(request, state).await {
                Ok(JsonBody(body)) => Ok(Credentials(body)),
                Err(ApiError::UnsupportedMediaType { .. }) => Err(ApiError::UnsupportedMediaType {
                    detail: "sign in with a JSON body (Content-Type: application/json) or an OAuth 2.0 password grant form (application/x-www-form-urlencoded)".to_owned(),
                }),
                Err(other) => Err(other),
            };
        }
        let axum::Form(grant) = axum::Form::<PasswordGrant>::from_request(request, state)
            .await
            .map_err(|rejection| match rejection.status() {
                http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                    limit_bytes: crate::http::app::MAX_BODY_BYTES,
                },
                _ => ApiError::InvalidBody {
                    detail:
                        "the form needs username and password (and grant_type=password, if any)"
                            .to_owned(),
                },
            })?;
        if grant.grant_type.as_deref().is_some_and(|t| t != "password") {
            return Err(ApiError::BadRequest {
                detail: "grant_type must be password".to_owned(),
            });
        }
        let body = SignInRequest {
            username: grant.username,
            password: grant.password,
        };
        body.validate()
            .map_err(|detail| ApiError::InvalidBody { detail })?;
        Ok(Credentials(body))
    }
}

/// Sign in
///
/// Exchanges an account's name and password for an access token (send it as
/// `Authorization: Bearer <access_token>`; 15 minutes by default) and a
/// refresh token (7 days by default). JSON, or the OAuth 2.0 password grant
/// form, so the docs' Authorize button works. A wrong name and a wrong
/// password get the same 401. 503 when authentication is not configured.
#[utoipa::path(post, path = Route::AuthLogin.path(), operation_id = "signIn", tag = "auth",
    request_body(content(
        (SignInRequest = "application/json"),
        (PasswordGrant = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, description = "Signed in", body = TokenPair)))]
pub(super) async fn login(
    AuthReady(auth): AuthReady,
    _: Query<NoParams>,
    Credentials(request): Credentials,
) -> Result<Response, ApiError> {
    let name = request.username.clone();
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
