//! The static site under `public/`: the landing page, the `/docs` page and the
//! Swagger UI assets it loads, and the `/dashboard` page with its script and
//! styles. Vercel publishes `public/` itself; the local server answers the
//! same files, embedded here at build time, at the same paths (and `/docs`
//! and `/dashboard` as `vercel.json` rewrites them).

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::conditional::{self, IfNoneMatch};

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
    asset!("dashboard.html", "text/html; charset=utf-8"),
    asset!("assets/dashboard.js", "text/javascript; charset=utf-8"),
    asset!("assets/dashboard/svg.js", "text/javascript; charset=utf-8"),
    asset!("assets/dashboard/page.js", "text/javascript; charset=utf-8"),
    asset!(
        "assets/dashboard/charts.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("assets/dashboard/live.js", "text/javascript; charset=utf-8"),
    asset!("assets/dashboard.css", "text/css; charset=utf-8"),
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
/// index; `/docs` and `/dashboard` are rewritten to their `.html` files by
/// `vercel.json` (a test checks that the two agree).
pub const ALIASES: &[(&str, &str)] = &[
    ("/", "index.html"),
    ("/docs", "docs.html"),
    ("/dashboard", "dashboard.html"),
];

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
pub fn respond(method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    let index = position(path)?;
    let asset = &ASSETS[index];
    let mut response = if *method == Method::GET || *method == Method::HEAD {
        conditional::respond(
            &IfNoneMatch::from_headers(headers),
            etag(index),
            CACHE_SITE,
            asset.content_type,
            Bytes::from_static(asset.bytes),
        )
    } else {
        let mut refused = StatusCode::METHOD_NOT_ALLOWED.into_response();
        refused
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        refused
    };
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Some(response)
}

/// The strong ETag of `ASSETS[index]`, hashed once per process.
fn etag(index: usize) -> &'static str {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| conditional::etag_of(&[asset.bytes]))
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
        assert_eq!(find("/dashboard").map(|a| a.file), Some("dashboard.html"));
        assert!(find("/assets/dashboard.js").is_some());
        assert!(find("/assets/swagger-ui/swagger-ui-bundle.js").is_some());
        assert!(find("/api/v1/books").is_none());
        assert!(find("/nope").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn conditional_get_and_methods() {
        let none = HeaderMap::new();
        let get = respond(&Method::GET, "/docs", &none).expect("docs");
        assert_eq!(get.status(), StatusCode::OK);
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, get.headers()[header::ETAG].clone());
        let again = respond(&Method::GET, "/docs", &again).expect("docs");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let post = respond(&Method::POST, "/", &none).expect("index");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(respond(&Method::GET, "/api/v1/health", &none).is_none());
    }
}
