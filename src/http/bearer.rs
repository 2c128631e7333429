//! Who is calling: the `Authorization: Bearer` header (RFC 6750) checked
//! against the authentication settings. [`Admin`] is the extractor of the
//! routes only an admin may call; [`AuthReady`] gives the settings to the
//! routes that sign in. Both answer 503 first when authentication is not
//! configured, so nothing is half open.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{HeaderMap, header};

use super::endpoints::AppState;
use super::error::{ApiError, Challenge};
use crate::auth::token::MAX_TOKEN_BYTES;
use crate::auth::{AuthConfig, Role, TokenKind};

/// A caller whose access token passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The account name (`sub`).
    pub name: String,
    pub role: Role,
}

/// The extractor of admin-only routes: 503 when authentication is not
/// configured, 401 without a valid access token, 403 for another role.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(&parts.headers, state.auth()?)?;
        if caller.role != Role::Admin {
            tracing::info!(
                event = "access_refused",
                user = caller.name.as_str(),
                role = caller.role.as_str()
            );
            return Err(ApiError::Forbidden {
                needed: Role::Admin,
            });
        }
        Ok(Admin(caller))
    }
}

/// The authentication settings, for the routes that issue tokens: 503
/// before the body is even read when they are not configured.
#[derive(Debug, Clone)]
pub struct AuthReady(pub Arc<AuthConfig>);

impl FromRequestParts<AppState> for AuthReady {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        state.auth().cloned().map(AuthReady)
    }
}

/// The caller an access token in `headers` names.
pub fn authenticate(headers: &HeaderMap, auth: &AuthConfig) -> Result<Caller, ApiError> {
    let token = bearer_token(headers).map_err(|challenge| ApiError::Unauthorized { challenge })?;
    let claims = auth
        .keys
        .verify(token, TokenKind::Access)
        .map_err(|reason| {
            // The reason is a fixed description, never the token.
            tracing::info!(event = "token_refused", reason = %reason);
            ApiError::Unauthorized {
                challenge: Challenge::InvalidToken,
            }
        })?;
    Ok(Caller {
        name: claims.sub,
        role: claims.role,
    })
}

/// The token of the one `Authorization: Bearer <token>` header. The scheme
/// is case-insensitive (RFC 9110 §11.1); the token must be a `b64token`
/// (RFC 6750 §2.1) of at most [`MAX_TOKEN_BYTES`].
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, Challenge> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(header::AUTHORIZATION) {
            Challenge::InvalidRequest
        } else {
            Challenge::Missing
        });
    };
    let value = value.to_str().map_err(|_| Challenge::InvalidRequest)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, say) or none at all: the bare challenge
        // says which one this API speaks.
        return Err(if value.trim().is_empty() {
            Challenge::InvalidRequest
        } else {
            Challenge::Missing
        });
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(Challenge::InvalidRequest);
    }
    if token.len() > MAX_TOKEN_BYTES || !is_b64token(token) {
        return Err(Challenge::InvalidToken);
    }
    Ok(token)
}

/// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`: what a
/// bearer token may be made of.
pub fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_header_strict() {
        for value in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER a.b.c",
            "Bearer  a.b.c ",
        ] {
            assert_eq!(bearer_token(&headers(&[value])), Ok("a.b.c"), "{value}");
        }
        let cases = [
            (vec![], Challenge::Missing),
            (vec!["Basic YWRhOnB3"], Challenge::Missing),
            (vec!["Token a.b.c"], Challenge::Missing),
            (vec![""], Challenge::InvalidRequest),
            (vec!["   "], Challenge::InvalidRequest),
            (vec!["Bearer"], Challenge::InvalidRequest),
            (vec!["Bearer "], Challenge::InvalidRequest),
            (
                vec!["Bearer a.b.c", "Bearer a.b.c"],
                Challenge::InvalidRequest,
            ),
            (vec!["Bearer a b c"], Challenge::InvalidToken),
            (vec!["Bearer a.b.c!"], Challenge::InvalidToken),
            (vec!["Bearer ==="], Challenge::InvalidToken),
        ];
        for (values, want) in cases {
            assert_eq!(bearer_token(&headers(&values)), Err(want), "{values:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(
            bearer_token(&headers(&[&long])),
            Err(Challenge::InvalidToken)
        );
    }
}
