//! Password hashes (argon2id, PHC strings) and the accounts of
//! `BOOKS_USERS`. A sign-in costs one argon2 verification whether or not the
//! account exists: an unknown name is checked against a dummy hash with the
//! same parameters, so neither the answer nor its timing says which part
//! was wrong.

use std::collections::HashMap;
use std::fmt;

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use super::Role;

/// The longest password accepted, in bytes (argon2 takes any length; a
/// bound keeps a sign-in's cost bounded too).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Hashes `password` with argon2id at OWASP's recommended parameters
/// (19 MiB of memory, 2 passes, 1 lane) and a random 16-byte salt, as a PHC
/// string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
pub fn hash_password(password: &str) -> Result<String, String> {
    if password.is_empty() {
        return Err("the password is empty".to_owned());
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password is longer than {MAX_PASSWORD_BYTES} bytes"
        ));
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default());
    argon2
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| format!("cannot hash the password: {err}"))
}

/// One account of `BOOKS_USERS`.
#[derive(Clone)]
struct Account {
    hash: PasswordHash,
    role: Role,
}

/// Every account, by name.
#[derive(Clone)]
pub struct Accounts {
    by_name: HashMap<String, Account>,
    /// Checked when the name is unknown: the accounts' own parameters, a
    /// fixed salt, an output no password produces in practice.
    dummy: PasswordHash,
}

impl fmt::Debug for Accounts {
    /// Names and roles only: hashes stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<(&str, Role)> = self
            .by_name
            .iter()
            .map(|(name, account)| (name.as_str(), account.role))
            .collect();
        names.sort_unstable();
        f.debug_struct("Accounts")
            .field("accounts", &names)
            .finish()
    }
}

impl Accounts {
    /// Parses `BOOKS_USERS`: `name:PHC-hash:role` entries separated by `;` or
    /// newlines (blank entries are skipped). Errors name the entry by its
    /// position and never repeat a hash.
    pub fn parse(text: &str) -> Result<Accounts, String> {
        let mut by_name = HashMap::new();
        let entries = text
            .split([';', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let position = index + 1;
            let (name, account) =
                parse_entry(entry).map_err(|why| format!("BOOKS_USERS entry {position}: {why}"))?;
            if by_name.insert(name.to_owned(), account).is_some() {
                return Err(format!(
                    "BOOKS_USERS entry {position}: the name {name:?} is given twice"
                ));
            }
        }
        let params_of = by_name.values().next().map(|a: &Account| a.hash.clone());
        Ok(Accounts {
            dummy: dummy_hash(params_of)?,
            by_name,
        })
    }

    /// No accounts: nobody can sign in.
    pub fn none() -> Accounts {
        Accounts::parse("").unwrap_or_else(|_| unreachable!("an empty list parses"))
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The role of `name`, if the account exists (a refresh re-reads it).
    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.by_name.get(name).map(|a| a.role)
    }

    /// The account's role when `password` is its password. Always runs one
    /// argon2 verification (slow by design: call it off the async workers),
    /// whose comparison is constant-time.
    pub fn verify(&self, name: &str, password: &str) -> Option<Role> {
        let account = self.by_name.get(name);
        let hash = account.map_or(&self.dummy, |a| &a.hash);
        let matches = password.len() <= MAX_PASSWORD_BYTES
            && Argon2::default()
                .verify_password(password.as_bytes(), hash)
                .is_ok();
        account.filter(|_| matches).map(|a| a.role)
    }
}

/// `name:hash:role`. The PHC string itself holds `$` and `,` but no `:`.
fn parse_entry(entry: &str) -> Result<(&str, Account), String> {
    let mut parts = entry.split(':');
    let (Some(name), Some(hash), Some(role), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected name:argon2id-PHC-hash:role".to_owned());
    };
    let name = name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err("the name must be 1 to 64 characters, none of them control".to_owned());
    }
    let hash = PasswordHash::new(hash.trim())
        .map_err(|_| format!("the hash of {name:?} is not a PHC string"))?;
    if hash.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "the hash of {name:?} is not argon2id (make one with `books hash-password`)"
        ));
    }
    // Parameters argon2 would refuse make every sign-in of this account fail;
    // refuse them now instead.
    Params::try_from(&hash).map_err(|_| format!("the hash of {name:?} has bad parameters"))?;
    let role = Role::parse(role.trim())
        .ok_or_else(|| format!("the role of {name:?} must be admin or reader"))?;
    Ok((name, Account { hash, role }))
}

/// A hash with `like`'s algorithm and parameters (or the defaults), so that
/// checking a password against it costs what checking a real one does.
fn dummy_hash(like: Option<PasswordHash>) -> Result<PasswordHash, String> {
    fn bad(err: impl fmt::Display) -> String {
        format!("cannot build the dummy hash: {err}")
    }
    let salt = Salt::new(b"books-unknown-user").map_err(bad)?;
    let output = Output::new(&[0u8; 32]).map_err(bad)?;
    // Without accounts, the default parameters, written out rather than
    // hashed: only the algorithm, version and parameters are kept, and a
    // hash would cost every function that loads the accounts ~20 ms at start.
    let template = match like {
        Some(hash) => hash,
        None => PasswordHash::new(&format!(
            "$argon2id$v={}$m={},t={},p={}",
            u32::from(Version::V0x13),
            Params::DEFAULT_M_COST,
            Params::DEFAULT_T_COST,
            Params::DEFAULT_P_COST
        ))
        .map_err(bad)?,
    };
    Ok(PasswordHash {
        salt: Some(salt),
        hash: Some(output),
        ..template
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let accounts = Accounts::parse(&format!("ada:{hash}:admin; bob:{hash}:reader")).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts.verify("ada", "correct horse"), Some(Role::Admin));
        assert_eq!(accounts.verify("bob", "correct horse"), Some(Role::Reader));
        assert_eq!(accounts.verify("ada", "wrong"), None);
        assert_eq!(accounts.verify("eve", "correct horse"), None);
        assert_eq!(accounts.verify("ada", &"x".repeat(2000)), None);
        assert!(!format!("{accounts:?}").contains("argon2"));
    }

    #[test]
    fn bad_entries_are_refused_without_repeating_the_hash() {
        let hash = hash_password("pw").unwrap();
        for (text, want) in [
            ("ada:nothash:admin".to_owned(), "not a PHC string"),
            (format!("ada:{hash}:root"), "admin or reader"),
            (format!("ada:{hash}"), "expected name"),
            (format!(":{hash}:admin"), "1 to 64"),
            (format!("ada:{hash}:admin\nada:{hash}:reader"), "twice"),
            (
                "ada:$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA:admin"
                    .to_owned(),
                "not argon2id",
            ),
        ] {
            let err = Accounts::parse(&text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
            assert!(!err.contains("$argon2"), "{err}");
        }
        assert!(Accounts::parse(" ; \n").unwrap().is_empty());
        assert!(hash_password("").is_err());
    }

    #[test]
    fn the_dummy_costs_what_an_account_does() {
        let strong = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        let accounts = Accounts::parse(&format!("ada:{strong}:admin")).unwrap();
        assert_eq!(
            accounts.dummy.params,
            PasswordHash::new(&strong).unwrap().params
        );
        assert_eq!(accounts.verify("nobody", "pw"), None);
    }

    #[test]
    fn without_accounts_the_dummy_has_the_default_parameters() {
        let default = PasswordHash::new(&hash_password("pw").unwrap()).unwrap();
        let dummy = Accounts::none().dummy;
        assert_eq!(dummy.algorithm, default.algorithm);
        assert_eq!(dummy.version, default.version);
        assert_eq!(dummy.params, default.params);
        assert_eq!(Accounts::none().verify("nobody", "pw"), None);
    }
}
