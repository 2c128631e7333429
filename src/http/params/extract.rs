//! The strict query extractor: [`QueryParams`] decodes a query string,
//! refusing unknown and repeated names, and parses its values; an
//! endpoint's type says what it accepts through [`FromQuery`]; [`Query`]
//! is the axum extractor that does both.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::domain::PriceBound;
use crate::http::error::ApiError;
use crate::text::echo;

/// Longest accepted free-text value (title, q, category), in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The decoded `name=value` pairs of a query string, checked against the
/// names an endpoint accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes `raw` (without the `?`). Every name must be in `allowed` and
    /// appear at most once.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if !allowed.contains(&name.as_ref()) {
                let shown = echo(&name);
                let detail = if allowed.is_empty() {
                    format!("unknown parameter {shown:?}; this endpoint takes no parameters")
                } else {
                    format!(
                        "unknown parameter {shown:?}; allowed: {}",
                        allowed.join(", ")
                    )
                };
                return Err(ApiError::invalid(&name, detail));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::invalid(
                    &name,
                    format!("parameter {:?} is given more than once", echo(&name)),
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(QueryParams { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs sorted by name: the same request however its query was written.
    pub fn canonical(&self) -> String {
        let mut pairs: Vec<_> = self.pairs.iter().collect();
        pairs.sort();
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }

    // The parsers below are pub(super): `routes` and `lists` build on them.

    /// `name` parsed with `parse`, or `None` when absent. An empty value is
    /// refused rather than read as absent: a client that means "the
    /// default" leaves the name out, and the document can then give every
    /// parameter its plain type.
    pub(super) fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("") => Err(ApiError::invalid(
                name,
                format!("{name} is empty; leave it out for the default, or give a value"),
            )),
            Some(value) => parse(value)
                .map(Some)
                .map_err(|d| ApiError::invalid(name, d)),
        }
    }

    /// Free text: at most [`MAX_TEXT_CHARS`] characters, no control
    /// characters, not blank; returned trimmed.
    pub(super) fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.parsed(name, |value| {
            if value.chars().any(char::is_control) {
                return Err(format!("{name} must not contain control characters"));
            }
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(format!(
                    "{name} must be at most {MAX_TEXT_CHARS} characters"
                ));
            }
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("{name} is blank; give some text or leave it out"));
            }
            Ok(value.to_owned())
        })
    }

    pub(super) fn price(&self, name: &str) -> Result<Option<PriceBound>, ApiError> {
        self.parsed(name, |value| {
            PriceBound::parse(value).map_err(|_| {
                format!(
                    "{name} must be a number of GBP, 0 or more, e.g. 12.5; got {:?}",
                    echo(value)
                )
            })
        })
    }

    pub(super) fn integer(
        &self,
        name: &str,
        min: u32,
        max: u32,
        default: u32,
    ) -> Result<u32, ApiError> {
        let parsed = self.parsed(name, |value| {
            u32::from_str(value)
                .ok()
                .filter(|n| (min..=max).contains(n) && value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!(
                        "{name} must be an integer from {min} to {max}; got {:?}",
                        echo(value)
                    )
                })
        })?;
        Ok(parsed.unwrap_or(default))
    }

    pub(super) fn choice<T: Copy>(
        &self,
        name: &str,
        choices: &[(&str, T)],
    ) -> Result<Option<T>, ApiError> {
        self.parsed(name, |value| {
            choices
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(value))
                .map(|(_, choice)| *choice)
                .ok_or_else(|| {
                    let words: Vec<_> = choices.iter().map(|(w, _)| *w).collect();
                    format!(
                        "{name} must be one of {}; got {:?}",
                        words.join(", "),
                        echo(value)
                    )
                })
        })
    }
}

/// The parameters of one endpoint, parsed from its query.
pub trait FromQuery: Sized {
    /// The parameter names the endpoint accepts.
    const ALLOWED: &'static [&'static str];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError>;
}

/// The extractor: the checked [`QueryParams`] and what `T` made of them.
#[derive(Debug, Clone)]
pub struct Query<T> {
    pub params: T,
    pub raw: QueryParams,
}

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = QueryParams::parse(parts.uri.query(), T::ALLOWED)?;
        Ok(Query {
            params: T::from_query(&raw)?,
            raw,
        })
    }
}

/// For endpoints that take no parameters.
#[derive(Debug, Clone, Copy)]
pub struct NoParams;

impl FromQuery for NoParams {
    const ALLOWED: &'static [&'static str] = &[];
    fn from_query(_: &QueryParams) -> Result<Self, ApiError> {
        Ok(NoParams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str, allowed: &[&str]) -> Result<QueryParams, ApiError> {
        QueryParams::parse(Some(raw), allowed)
    }

    #[test]
    fn unknown_and_repeated_names_are_rejected() {
        assert!(q("pgae=2", &["page"]).is_err());
        assert!(q("page=1&page=2", &["page"]).is_err());
        assert!(q("page=2", &["page"]).is_ok());
        assert!(q("", &[]).is_ok());
    }
}
