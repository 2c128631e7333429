//! The two ways requests arrive: as a Vercel function ([`vercel`]) or at the
//! local server ([`server`]). Both turn an HTTP request into an
//! [`ApiRequest`] and hand it to the same dispatch.

pub mod server;
pub mod vercel;

use std::path::{Path, PathBuf};

use http::{HeaderMap, header};

use crate::http::ApiRequest;
use crate::store::{Store, StoreError};

/// The environment variable naming the database file.
pub const DB_ENV: &str = "BOOKS_DB";
/// Where the database is, relative to the working directory (or the executable).
pub const DB_RELATIVE_PATH: &str = "data/books.db";

/// Finds the database: `$BOOKS_DB` if set; else `data/books.db` under the
/// working directory (where Vercel's `includeFiles` puts it); else next to
/// the executable (`data/books.db`, then `books.db`).
pub fn locate_database() -> PathBuf {
    if let Some(path) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let in_working_dir = PathBuf::from(DB_RELATIVE_PATH);
    if in_working_dir.is_file() {
        return in_working_dir;
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned));
    if let Some(dir) = exe_dir {
        for candidate in [dir.join(DB_RELATIVE_PATH), dir.join("books.db")] {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    in_working_dir
}

/// Opens the store once for the process, logging the outcome as a JSON line.
pub fn open_store(path: &Path) -> Result<Store, StoreError> {
    let opened = Store::open(path);
    let line = match &opened {
        Ok(store) => serde_json::json!({
            "level": "info", "event": "store_opened", "path": path.display().to_string(),
            "scraped_at": store.scraped_at(), "content_hash": store.content_hash(),
        }),
        Err(err) => serde_json::json!({
            "level": "error", "event": "store_unavailable", "path": path.display().to_string(),
            "error": err.to_string(),
        }),
    };
    eprintln!("{line}");
    opened
}

/// The request id: the platform's when it gave one, else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-vercel-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(crate::http::dispatch::new_request_id)
}

/// Borrows what the API needs from a request's parts.
fn api_request<'a>(
    method: &'a http::Method,
    uri: &'a http::Uri,
    headers: &'a HeaderMap,
    request_id: &'a str,
) -> ApiRequest<'a> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    ApiRequest {
        method,
        path: uri.path(),
        query: uri.query(),
        if_none_match: text(header::IF_NONE_MATCH),
        access_control_request_headers: text(header::ACCESS_CONTROL_REQUEST_HEADERS),
        request_id,
    }
}
