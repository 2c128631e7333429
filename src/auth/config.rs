//! The authentication settings, from the environment only. There is no
//! default secret: a missing or short `BOOKS_JWT_SECRET` is an
//! [`AuthConfigError`], and the routes that need it answer 503 (fail closed).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

use super::password::Accounts;
use super::throttle::SignInThrottle;
use super::token::{Lifetimes, TokenKeys};

/// The HMAC key of every token, at least [`MIN_SECRET_BYTES`] bytes.
pub const SECRET_ENV: &str = "BOOKS_JWT_SECRET";
/// The accounts: `name:PHC-hash:role` entries separated by `;` or newlines.
pub const USERS_ENV: &str = "BOOKS_USERS";
/// The access tokens' lifetime (e.g. `15m`), default 15 minutes.
pub const ACCESS_TTL_ENV: &str = "BOOKS_JWT_ACCESS_TTL";
/// The refresh tokens' lifetime (e.g. `7d`), default 7 days.
pub const REFRESH_TTL_ENV: &str = "BOOKS_JWT_REFRESH_TTL";
/// HS256 keys shorter than the hash's output are refused (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = 32;

/// Everything sign-in and the protected routes need.
#[derive(Clone)]
pub struct AuthConfig {
    pub keys: TokenKeys,
    pub accounts: Accounts,
    pub lifetimes: Lifetimes,
    /// Failed sign-ins per account name, shared by every clone.
    pub throttle: Arc<SignInThrottle>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("accounts", &self.accounts)
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

/// Why authentication is not configured. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AuthConfigError {
    #[error("{SECRET_ENV} is not set")]
    SecretMissing,
    #[error("{SECRET_ENV} is {0} bytes; at least {MIN_SECRET_BYTES} are needed")]
    SecretTooShort(usize),
    #[error("{0}")]
    Accounts(String),
    #[error("{0}")]
    Lifetime(String),
}

impl AuthConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<AuthConfig, AuthConfigError> {
        AuthConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a test's map).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<AuthConfig, AuthConfigError> {
        let secret = lookup(SECRET_ENV)
            .filter(|s| !s.is_empty())
            .ok_or(AuthConfigError::SecretMissing)?;
        if secret.len() < MIN_SECRET_BYTES {
            return Err(AuthConfigError::SecretTooShort(secret.len()));
        }
        let accounts = Accounts::parse(&lookup(USERS_ENV).unwrap_or_default())
            .map_err(AuthConfigError::Accounts)?;
        let defaults = Lifetimes::default();
        let access = lifetime(&lookup, ACCESS_TTL_ENV, defaults.access)?;
        let refresh = lifetime(&lookup, REFRESH_TTL_ENV, defaults.refresh)?;
        if !(Duration::from_secs(60)..=Duration::from_secs(86_400)).contains(&access) {
            return Err(AuthConfigError::Lifetime(format!(
                "{ACCESS_TTL_ENV} must be from 1 minute to 1 day"
            )));
        }
        if !(access..=Duration::from_secs(90 * 86_400)).contains(&refresh) {
            return Err(AuthConfigError::Lifetime(format!(
                "{REFRESH_TTL_ENV} must be from the access lifetime to 90 days"
            )));
        }
        Ok(AuthConfig {
            keys: TokenKeys::new(secret.as_bytes()).map_err(|_| AuthConfigError::SecretMissing)?,
            accounts,
            lifetimes: Lifetimes { access, refresh },
            throttle: Arc::default(),
        })
    }
}

/// A humantime duration (`15m`, `7d`, `3600s`) from `name`, or `default`.
fn lifetime(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: Duration,
) -> Result<Duration, AuthConfigError> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(text) => humantime::parse_duration(text.trim()).map_err(|_| {
            AuthConfigError::Lifetime(format!(
                "{name} must be a duration such as 15m or 7d; got {:?}",
                crate::text::echo(&text)
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<AuthConfig, AuthConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuthConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn the_secret_is_required_and_long() {
        assert_eq!(from(&[]).unwrap_err(), AuthConfigError::SecretMissing);
        assert_eq!(
            from(&[(SECRET_ENV, "")]).unwrap_err(),
            AuthConfigError::SecretMissing
        );
        let short = "s".repeat(31);
        let err = from(&[(SECRET_ENV, &short)]).unwrap_err();
        assert_eq!(err, AuthConfigError::SecretTooShort(31));
        assert!(!err.to_string().contains(&short));
        let config = from(&[(SECRET_ENV, &"s".repeat(32))]).unwrap();
        assert!(config.accounts.is_empty());
        assert_eq!(config.lifetimes, Lifetimes::default());
    }

    #[test]
    fn lifetimes_are_configurable_within_bounds() {
        let secret = "s".repeat(40);
        let config = from(&[
            (SECRET_ENV, &secret),
            (ACCESS_TTL_ENV, "5m"),
            (REFRESH_TTL_ENV, "1day"),
        ])
        .unwrap();
        assert_eq!(config.lifetimes.access, Duration::from_secs(300));
        assert_eq!(config.lifetimes.refresh, Duration::from_secs(86_400));
        for (name, value) in [
            (ACCESS_TTL_ENV, "soon"),
            (ACCESS_TTL_ENV, "10s"),
            (ACCESS_TTL_ENV, "2days"),
            (REFRESH_TTL_ENV, "1m"),
            (REFRESH_TTL_ENV, "1year"),
        ] {
            let err = from(&[(SECRET_ENV, &secret), (name, value)]).unwrap_err();
            assert!(
                matches!(err, AuthConfigError::Lifetime(_)),
                "{name}={value}"
            );
        }
    }
}
