//! Validators and conditional requests (RFC 9110 §8.8 and §13), used by the
//! API and the static site alike: strong `ETag`s and `If-None-Match`.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

/// A strong validator: the first 128 bits of SHA-256 over `parts`, each
/// prefixed with its length so that no two lists of parts collide.
pub fn etag_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    format!("\"{}\"", crate::hex::hex(&hasher.finalize()[..16]))
}

/// A request's `If-None-Match`, as it bears on one resource. Also an axum
/// extractor: it copies this one header, not the request's whole header map.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(Option<HeaderValue>);

impl IfNoneMatch {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        IfNoneMatch(headers.get(header::IF_NONE_MATCH).cloned())
    }

    /// Whether the header lists `etag` (weak comparison, §13.1.2). `*` is not
    /// a listed tag: it matches only a resource that exists (see [`Self::is_any`]).
    pub fn lists(&self, etag: &str) -> bool {
        self.candidates()
            .any(|c| c.strip_prefix("W/").unwrap_or(c) == etag)
    }

    /// `If-None-Match: *`: "any current representation".
    pub fn is_any(&self) -> bool {
        self.candidates().any(|c| c == "*")
    }

    /// Whether a resource that exists with `etag` is not modified.
    pub fn matches_existing(&self, etag: &str) -> bool {
        self.is_any() || self.lists(etag)
    }

    fn candidates(&self) -> impl Iterator<Item = &str> {
        self.0
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .into_iter()
            .flat_map(|h| h.split(',').map(str::trim))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfNoneMatch::from_headers(&parts.headers))
    }
}

/// The headers a 200 and its 304 share (RFC 9110 §15.4.5).
pub fn set_validator(headers: &mut HeaderMap, etag: &str, cache_control: &'static str) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
}

/// 304 Not Modified, with the validator and caching policy of the 200.
pub fn not_modified(etag: &str, cache_control: &'static str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    set_validator(response.headers_mut(), etag, cache_control);
    response
}

/// 304 when `if_none_match` matches the existing `etag`, else a 200 with
/// `body` as `content_type` and the same validator.
pub fn respond(
    if_none_match: &IfNoneMatch,
    etag: &str,
    cache_control: &'static str,
    content_type: &'static str,
    body: Bytes,
) -> Response {
    if if_none_match.matches_existing(etag) {
        return not_modified(etag, cache_control);
    }
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    set_validator(headers, etag, cache_control);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inm(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, value.parse().unwrap());
        headers
    }

    #[test]
    fn weak_comparison_lists_and_star() {
        let tag = etag_of(&[b"a"]);
        assert!(tag.starts_with('"') && tag.len() == 34);
        let listed = inm(&format!("\"x\", W/{tag}"));
        assert!(IfNoneMatch::from_headers(&listed).lists(&tag));
        let star = inm("*");
        assert!(!IfNoneMatch::from_headers(&star).lists(&tag));
        assert!(IfNoneMatch::from_headers(&star).matches_existing(&tag));
        let none = HeaderMap::new();
        assert!(!IfNoneMatch::from_headers(&none).matches_existing(&tag));
        assert_ne!(etag_of(&[b"ab", b""]), etag_of(&[b"a", b"b"]));
    }
}
