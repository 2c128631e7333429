//! The static site under `public/`: the landing page, the `/docs` page and the
//! Swagger UI assets it loads. Vercel publishes `public/` itself; the local
//! server answers the same files, embedded here at build time, at the same
//! paths (and `/docs` as `vercel.json` rewrites it).

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use sha2::{Digest, Sha256};

/// One file of `public/`.
#[derive(Debug)]
pub struct Asset {
    /// The path under `public/`, which is also its URL path after `/`.
    pub file: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

macro_rules! asset {
    ($file:literal, $content_type:literal) => {
        Asset {
            file: $file,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../public/", $file)),
        }
    };
}

/// Every file the site serves. A test checks this against `public/`.
pub const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("docs.html", "text/html; charset=utf-8"),
    asset!("assets/docs.js", "text/javascript; charset=utf-8"),
    asset!("assets/docs.css", "text/css; charset=utf-8"),
    asset!(
        "assets/swagger-ui/swagger-ui-bundle.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "assets/swagger-ui/swagger-ui.css",
        "text/css; charset=utf-8"
    ),
    asset!("assets/swagger-ui/LICENSE", "text/plain; charset=utf-8"),
    asset!("assets/swagger-ui/NOTICE", "text/plain; charset=utf-8"),
    asset!("assets/swagger-ui/VERSION", "text/plain; charset=utf-8"),
];

/// URL paths that name a file other than themselves: `/` is the directory
/// index; `/docs` is rewritten to `/docs.html` by `vercel.json` (a test checks
/// that the two agree).
pub const ALIASES: &[(&str, &str)] = &[("/", "index.html"), ("/docs", "docs.html")];

/// Revalidate every time (cheap: a 304 on a matching `ETag`), so a rebuilt
/// server never shows a stale page.
const CACHE_SITE: &str = "no-cache";

/// The file `path` names, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    position(path).map(|index| &ASSETS[index])
}

fn position(path: &str) -> Option<usize> {
    let file = ALIASES
        .iter()
        .find(|(alias, _)| *alias == path)
        .map(|(_, file)| *file)
        .or_else(|| path.strip_prefix('/'))?;
    ASSETS.iter().position(|asset| asset.file == file)
}

/// The answer for a site path, or `None` when `path` is not one (the caller
/// then hands the request to the API).
pub fn respond(
    method: &Method,
    path: &str,
    if_none_match: Option<&str>,
) -> Option<Response<Bytes>> {
    let index = position(path)?;
    let asset = &ASSETS[index];
    let etag = etag(index);
    let mut response = Response::new(Bytes::new());
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_SITE));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if *method != Method::GET && *method != Method::HEAD {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return Some(response);
    }
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    let matches = if_none_match.is_some_and(|h| {
        h.split(',')
            .map(str::trim)
            .any(|c| c == "*" || c.strip_prefix("W/").unwrap_or(c) == etag)
    });
    if matches {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return Some(response);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if *method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.bytes.len()));
    } else {
        *response.body_mut() = Bytes::from_static(asset.bytes);
    }
    Some(response)
}

/// The strong ETag of `ASSETS[index]`, hashed once per process.
fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.bytes);
                let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    });
    tags.get(index).map_or("", String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_files_resolve() {
        assert_eq!(find("/").map(|a| a.file), Some("index.html"));
        assert_eq!(find("/docs").map(|a| a.file), Some("docs.html"));
        assert_eq!(find("/docs.html").map(|a| a.file), Some("docs.html"));
        assert!(find("/assets/swagger-ui/swagger-ui-bundle.js").is_some());
        assert!(find("/api/v1/books").is_none());
        assert!(find("/nope").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn conditional_get_and_methods() {
        let get = respond(&Method::GET, "/docs", None).expect("docs");
        assert_eq!(get.status(), StatusCode::OK);
        let etag = get.headers()[header::ETAG].to_str().expect("etag");
        let again = respond(&Method::GET, "/docs", Some(etag)).expect("docs");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.body().is_empty());
        let post = respond(&Method::POST, "/", None).expect("index");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        let head = respond(&Method::HEAD, "/", None).expect("index");
        assert!(head.body().is_empty());
        assert!(respond(&Method::GET, "/api/v1/health", None).is_none());
    }
}
