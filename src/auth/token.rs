//! HS256 JSON Web Tokens through `jsonwebtoken` (over our HS256-only crypto
//! provider, `auth::hs256`). Every check is pinned: the
//! algorithm (HS256 only, so `none`, other HMACs and every public-key
//! algorithm are refused before the signature is looked at), the issuer,
//! the audience, the token's kind (`typ`: access or refresh), `exp` and
//! `nbf` with a small leeway. A token whose header points at a key elsewhere
//! (`kid`, `jku`, `jwk`, `x5u`, `x5c`) was not made here and is refused.

use std::fmt;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

use super::Role;

/// How long tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            access: Duration::from_secs(15 * 60),
            refresh: Duration::from_secs(7 * 86_400),
        }
    }
}

/// Who issues the tokens (`iss`).
pub const ISSUER: &str = "books";
/// Whom they are for (`aud`).
pub const AUDIENCE: &str = "books-api";
/// How far clocks may disagree when checking `exp` and `nbf`.
pub const LEEWAY: Duration = Duration::from_secs(30);
/// A longer bearer token is refused unread (ours are about 300 bytes).
pub const MAX_TOKEN_BYTES: usize = 4096;

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer` to protected routes.
    Access,
    /// Exchanged at `/auth/refresh` for a new pair, and for nothing else.
    Refresh,
}

/// The claims of every token this service issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The account name.
    pub sub: String,
    pub role: Role,
    pub typ: TokenKind,
    /// Issued at, nbf and exp: seconds since the Unix epoch.
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    /// A random id, unique per token (32 hex digits).
    pub jti: String,
}

/// The answer of a sign-in or a refresh (RFC 6749 §5.1, plus the refresh
/// token's own lifetime).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(examples("Bearer"))]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(examples(900))]
    pub expires_in: u64,
    /// Exchange at `POST /api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    #[schema(examples(604_800))]
    pub refresh_expires_in: u64,
}

/// Why a token was refused. The client is told only that it is invalid;
/// the kind goes to the log.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TokenError {
    #[error("the token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLong,
    #[error("the token's header names a key elsewhere ({0})")]
    ForeignKey(&'static str),
    #[error("a {found:?} token where a {wanted:?} token is needed")]
    WrongKind { wanted: TokenKind, found: TokenKind },
    #[error("the token could not be issued: {0}")]
    Issue(String),
    #[error("{0}")]
    Invalid(String),
}

/// The signing key and the pinned validation rules. Its `Debug` never
/// shows the key.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKeys { .. }")
    }
}

impl TokenKeys {
    /// Keys for the HMAC `secret` (the caller has checked its length; only
    /// an empty one is refused here).
    pub fn new(secret: &[u8]) -> Result<TokenKeys, TokenError> {
        // Keys come first on every path that signs or checks a token.
        super::hs256::install();
        let invalid = |err: jsonwebtoken::errors::Error| TokenError::Invalid(err.to_string());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY.as_secs();
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret).map_err(invalid)?,
            decoding: DecodingKey::from_secret(secret).map_err(invalid)?,
            validation,
        })
    }

    /// A token of `kind` for `sub`, issued at `now` (Unix seconds), valid for `ttl`.
    pub fn issue(
        &self,
        sub: &str,
        role: Role,
        kind: TokenKind,
        ttl: Duration,
        now: u64,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: sub.to_owned(),
            role,
            typ: kind,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl.as_secs()),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            jti: super::random_hex::<16>(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|err| TokenError::Issue(err.to_string()))
    }

    /// An access and a refresh token for `sub`, issued now.
    pub fn issue_pair(
        &self,
        sub: &str,
        role: Role,
        lifetimes: &Lifetimes,
    ) -> Result<TokenPair, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        Ok(TokenPair {
            access_token: self.issue(sub, role, TokenKind::Access, lifetimes.access, now)?,
            token_type: "Bearer",
            expires_in: lifetimes.access.as_secs(),
            refresh_token: self.issue(sub, role, TokenKind::Refresh, lifetimes.refresh, now)?,
            refresh_expires_in: lifetimes.refresh.as_secs(),
        })
    }

    /// The claims of `token` if it passes every check and is of `kind`.
    pub fn verify(&self, token: &str, kind: TokenKind) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLong);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| TokenError::Invalid(err.to_string()))?;
        let header = &data.header;
        let foreign = [
            ("kid", header.kid.is_some()),
            ("jku", header.jku.is_some()),
            ("jwk", header.jwk.is_some()),
            ("x5u", header.x5u.is_some()),
            ("x5c", header.x5c.is_some()),
        ];
        if let Some((name, _)) = foreign.into_iter().find(|(_, present)| *present) {
            return Err(TokenError::ForeignKey(name));
        }
        let claims = data.claims;
        if claims.typ != kind {
            return Err(TokenError::WrongKind {
                wanted: kind,
                found: claims.typ,
            });
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn lifetimes() -> Lifetimes {
        Lifetimes::default()
    }

    #[test]
    fn a_pair_verifies_each_as_its_own_kind_only() {
        let keys = TokenKeys::new(SECRET).unwrap();
        let pair = keys.issue_pair("ada", Role::Admin, &lifetimes()).unwrap();
        assert_eq!(pair.expires_in, 900);
        assert_eq!(pair.refresh_expires_in, 7 * 86_400);
        let access = keys.verify(&pair.access_token, TokenKind::Access).unwrap();
        assert_eq!((access.sub.as_str(), access.role), ("ada", Role::Admin));
        assert_eq!(
            (access.iss.as_str(), access.aud.as_str()),
            (ISSUER, AUDIENCE)
        );
        assert_eq!(access.exp - access.iat, 900);
        let refresh = keys
            .verify(&pair.refresh_token, TokenKind::Refresh)
            .unwrap();
        assert_ne!(access.jti, refresh.jti);
        assert!(matches!(
            keys.verify(&pair.refresh_token, TokenKind::Access),
            Err(TokenError::WrongKind { .. })
        ));
        assert!(matches!(
            keys.verify(&pair.access_token, TokenKind::Refresh),
            Err(TokenError::WrongKind { .. })
        ));
        let other = TokenKeys::new(b"another secret, also 32 bytes long").unwrap();
        assert!(other.verify(&pair.access_token, TokenKind::Access).is_err());
        assert!(!format!("{keys:?}").contains("0123"));
    }

    #[test]
    fn time_is_checked_with_leeway() {
        let keys = TokenKeys::new(SECRET).unwrap();
        let now = jsonwebtoken::get_current_timestamp();
        let ttl = Duration::from_secs(60);
        let just_expired = keys
            .issue("ada", Role::Admin, TokenKind::Access, ttl, now - 70)
            .unwrap();
        assert!(keys.verify(&just_expired, TokenKind::Access).is_ok());
        let expired = keys
            .issue("ada", Role::Admin, TokenKind::Access, ttl, now - 200)
            .unwrap();
        assert!(keys.verify(&expired, TokenKind::Access).is_err());
        let future = keys
            .issue("ada", Role::Admin, TokenKind::Access, ttl, now + 600)
            .unwrap();
        assert!(keys.verify(&future, TokenKind::Access).is_err());
    }
}
