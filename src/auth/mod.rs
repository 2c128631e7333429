//! Accounts and tokens, HTTP-free: the configuration read from the
//! environment ([`config`]), argon2id password hashes and the accounts they
//! belong to ([`password`]), and HS256 JSON Web Tokens ([`token`]).
//!
//! Nothing here has a default secret: without `BOOKS_JWT_SECRET` (at least
//! 32 bytes) there is no [`AuthConfig`], and every route that needs one
//! answers 503 while the rest of the API keeps working.

pub mod config;
mod hs256;
pub mod password;
pub mod throttle;
pub mod token;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use config::{AuthConfig, AuthConfigError};
pub use password::{Accounts, hash_password};
pub use throttle::{SignInThrottle, ThrottlePolicy};
pub use token::{Claims, Lifetimes, TokenError, TokenKeys, TokenKind, TokenPair};

/// What an account may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Operates the service: may trigger a scrape and read its status.
    Admin,
    /// Signed in, with no operator rights.
    Reader,
}

impl Role {
    /// The role's name as `BOOKS_USERS` and the tokens spell it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reader => "reader",
        }
    }

    /// Parses `admin` or `reader`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }
}

/// Random bytes from the operating system, as lowercase hex (token ids).
pub(crate) fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    // The OS source only fails on platforms we do not run on; a token id
    // must still be unique, so fall back to a fresh non-OS random value.
    if getrandom::fill(&mut bytes).is_err() {
        bytes.iter_mut().for_each(|b| *b = fastrand::u8(..));
    }
    crate::hex::hex(&bytes)
}
