//! The one total function from request to response that both adapters call:
//! route, method, parameters, conditional request, handler, headers, log line.
//! Every outcome is a response; nothing here panics or returns an error.

use std::io::Write;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::params::{BookListParams, Pagination, QueryParams, book_id};
use super::route::Route;
use crate::domain::BookId;
use crate::handlers;
use crate::store::query::BookQuery;
use crate::store::{Store, StoreError};

/// What the adapters extract from an HTTP request: all the API looks at.
#[derive(Debug, Clone)]
pub struct ApiRequest<'a> {
    pub method: &'a Method,
    /// The path as requested, e.g. `/api/v1/books/42`.
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    /// Preflight: the headers the browser wants to send.
    pub access_control_request_headers: Option<&'a str>,
    /// Echoed as `X-Request-Id` and logged.
    pub request_id: &'a str,
}

/// The database as a process holds it: opened once, or the reason it could not be.
pub type StoreHandle<'a> = Result<&'a Store, &'a StoreError>;

/// Data changes only with a deploy: browsers keep a minute, the edge a day,
/// and may serve stale for a week while revalidating.
pub const CACHE_DATA: &str = "public, max-age=60, s-maxage=86400, stale-while-revalidate=604800";
/// Health must reflect the instance now: always revalidate.
const CACHE_HEALTH: &str = "no-cache";
const CACHE_CLIENT_ERROR: &str = "public, max-age=60";
const CACHE_NONE: &str = "no-store";
const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";

/// Answers `request` for `route` (`None`: no route matched the path) and
/// writes one JSON log line for it on stdout.
pub fn handle(
    store: StoreHandle<'_>,
    route: Option<Route>,
    request: &ApiRequest<'_>,
) -> Response<Bytes> {
    let started = Instant::now();
    let response = respond(store, route, request);
    log_request(request, route, &response, started);
    response
}

/// Answers `request` without logging it.
pub fn respond(
    store: StoreHandle<'_>,
    route: Option<Route>,
    request: &ApiRequest<'_>,
) -> Response<Bytes> {
    let mut response = match answer(store, route, request) {
        Ok(response) => response,
        Err(err) => problem_response(&err),
    };
    if request.method == Method::HEAD {
        *response.body_mut() = Bytes::new();
    }
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Link, X-Request-Id"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(id) = HeaderValue::from_str(request.request_id) {
        headers.insert("x-request-id", id);
    }
    response
}

/// What a route was asked to do, once its parameters are parsed.
enum Call {
    /// About this instance, now.
    Health,
    /// The OpenAPI description: fixed for the build, needs no database.
    OpenApi,
    /// About the immutable data.
    Data(DataCall),
}

enum DataCall {
    Book(BookId),
    Books(BookQuery, Pagination),
    Categories,
    StatsOverview,
    StatsCategories,
}

fn answer(
    store: StoreHandle<'_>,
    route: Option<Route>,
    request: &ApiRequest<'_>,
) -> Result<Response<Bytes>, ApiError> {
    let route = route.ok_or_else(|| ApiError::RouteNotFound {
        path: request.path.chars().take(200).collect(),
    })?;
    match *request.method {
        Method::GET | Method::HEAD => {}
        Method::OPTIONS => return Ok(preflight(request)),
        _ => {
            return Err(ApiError::MethodNotAllowed {
                method: request.method.to_string(),
            });
        }
    }
    let query = QueryParams::parse(request.query, allowed_params(route))?;
    let call = match plan(route, &query, request.path)? {
        Call::Data(call) => call,
        Call::OpenApi => {
            let body = super::openapi::document_json();
            let etag = etag_of(&[&body]);
            return Ok(conditional(request, body, &etag, CACHE_DATA));
        }
        Call::Health => {
            // Health reports on this instance now: its ETag is of the body itself.
            let body = json(&handlers::health::health(store)?);
            let etag = etag_of(&[&body]);
            return Ok(conditional(request, body, &etag, CACHE_HEALTH));
        }
    };
    let store = store.map_err(|_| ApiError::Unavailable)?;
    // The data is immutable for the life of the process, so the ETag follows
    // from the data's hash and the request alone: a match skips the query.
    let etag = etag_of(&[
        crate::VERSION.as_bytes(),
        store.content_hash().as_bytes(),
        route.path().as_bytes(),
        query.canonical().as_bytes(),
        book_id_bytes(&call).as_bytes(),
    ]);
    if matches_etag(request.if_none_match, &etag) {
        return Ok(not_modified(&etag, CACHE_DATA));
    }
    let (body, link) = match call {
        DataCall::Book(id) => (json(&handlers::books::book(store, id)?), None),
        DataCall::Books(book_query, page) => {
            let list = handlers::books::list(store, &book_query, page)?;
            let link = link_header(request.path, &query, page, list.total_pages);
            (json(&list), link)
        }
        DataCall::Categories => (json(&handlers::categories::categories(store)?), None),
        DataCall::StatsOverview => (json(&handlers::stats::overview(store)?), None),
        DataCall::StatsCategories => (json(&handlers::stats::categories(store)?), None),
    };
    Ok(ok_json(body, &etag, CACHE_DATA, link))
}

/// The query parameters each route accepts.
pub fn allowed_params(route: Route) -> &'static [&'static str] {
    match route {
        Route::Health
        | Route::Categories
        | Route::StatsOverview
        | Route::StatsCategories
        | Route::OpenApi => &[],
        Route::BookById => &["id"],
        Route::Books => BookListParams::BOOKS,
        Route::BooksSearch => BookListParams::SEARCH,
        Route::BooksTopRated => BookListParams::TOP_RATED,
        Route::BooksPriceRange => BookListParams::PRICE_RANGE,
    }
}

fn plan(route: Route, query: &QueryParams, path: &str) -> Result<Call, ApiError> {
    let call = match route {
        Route::Health => return Ok(Call::Health),
        Route::OpenApi => return Ok(Call::OpenApi),
        Route::BookById => {
            let segment = path
                .trim_end_matches('/')
                .strip_prefix("/api/v1/books/")
                .filter(|s| !s.is_empty());
            DataCall::Book(book_id(query, segment)?)
        }
        Route::Books => {
            let (q, page) = BookListParams::books(query)?;
            DataCall::Books(q, page)
        }
        Route::BooksSearch => {
            let (q, page) = BookListParams::search(query)?;
            DataCall::Books(q, page)
        }
        Route::BooksTopRated => {
            let (q, page) = BookListParams::top_rated(query)?;
            DataCall::Books(q, page)
        }
        Route::BooksPriceRange => {
            let (q, page) = BookListParams::price_range(query)?;
            DataCall::Books(q, page)
        }
        Route::Categories => DataCall::Categories,
        Route::StatsOverview => DataCall::StatsOverview,
        Route::StatsCategories => DataCall::StatsCategories,
    };
    Ok(Call::Data(call))
}

/// The id when it came from the path (the canonical query does not hold it).
fn book_id_bytes(call: &DataCall) -> String {
    match call {
        DataCall::Book(id) => id.to_string(),
        _ => String::new(),
    }
}

fn json<T: Serialize>(value: &T) -> Bytes {
    // Serialising our own plain structs to a Vec cannot fail; an empty
    // object is still valid JSON should it ever.
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(b"{}"))
}

/// A strong validator: the first 128 bits of SHA-256 over `parts`.
fn etag_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2).
fn matches_etag(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    header.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// 304 when the client already holds `etag`, else the 200 that `body` makes.
fn conditional(
    request: &ApiRequest<'_>,
    body: Bytes,
    etag: &str,
    cache_control: &'static str,
) -> Response<Bytes> {
    if matches_etag(request.if_none_match, etag) {
        not_modified(etag, cache_control)
    } else {
        ok_json(body, etag, cache_control, None)
    }
}

/// A 200 JSON answer with its validator, caching policy and page links.
fn ok_json(
    body: Bytes,
    etag: &str,
    cache_control: &'static str,
    link: Option<String>,
) -> Response<Bytes> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set_validator(headers, etag, cache_control);
    if let Some(value) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LINK, value);
    }
    response
}

fn not_modified(etag: &str, cache_control: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    set_validator(response.headers_mut(), etag, cache_control);
    response
}

/// The headers a 200 and its 304 share (RFC 9110 §15.4.5).
fn set_validator(headers: &mut http::HeaderMap, etag: &str, cache_control: &'static str) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
}

/// An RFC 9457 problem response for `err`.
pub fn problem_response(err: &ApiError) -> Response<Bytes> {
    let status = err.status();
    let mut response = Response::new(json(&err.problem()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    let cache = if status.is_server_error() {
        CACHE_NONE
    } else {
        CACHE_CLIENT_ERROR
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
    }
    response
}

/// The CORS preflight answer: any origin may GET, for a day.
fn preflight(request: &ApiRequest<'_>) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOWED_METHODS),
    );
    let allow_headers = request
        .access_control_request_headers
        .and_then(|h| HeaderValue::from_str(h).ok())
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow_headers);
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_DATA));
    response
}

/// RFC 8288 links to the first, previous, next and last pages, as the
/// request's own path with its query and another `page`.
fn link_header(
    path: &str,
    query: &QueryParams,
    page: Pagination,
    total_pages: u64,
) -> Option<String> {
    let url = |target: u64| {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in query.pairs().iter().filter(|(n, _)| n != "page") {
            out.append_pair(name, value);
        }
        out.append_pair("page", &target.to_string());
        format!("<{path}?{}>", out.finish())
    };
    let current = u64::from(page.page);
    let last = total_pages.max(1);
    let mut links = vec![format!("{}; rel=\"first\"", url(1))];
    if current > 1 {
        links.push(format!("{}; rel=\"prev\"", url((current - 1).min(last))));
    }
    if current < total_pages {
        links.push(format!("{}; rel=\"next\"", url(current + 1)));
    }
    links.push(format!("{}; rel=\"last\"", url(last)));
    Some(links.join(", "))
}

/// One JSON line per request on stdout: the platform's log drain (or a
/// terminal) gets method, path, status, latency and size, with the request id.
fn log_request(
    request: &ApiRequest<'_>,
    route: Option<Route>,
    response: &Response<Bytes>,
    started: Instant,
) {
    #[derive(Serialize)]
    struct Line<'a> {
        ts: String,
        level: &'static str,
        event: &'static str,
        request_id: &'a str,
        method: &'a str,
        path: &'a str,
        query: &'a str,
        route: Option<&'static str>,
        status: u16,
        duration_us: u128,
        bytes: usize,
    }
    let status = response.status();
    let line = Line {
        ts: humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
        level: if status.is_server_error() {
            "error"
        } else {
            "info"
        },
        event: "request",
        request_id: request.request_id,
        method: request.method.as_str(),
        path: request.path,
        query: request.query.unwrap_or(""),
        route: route.map(Route::path),
        status: status.as_u16(),
        duration_us: started.elapsed().as_micros(),
        bytes: response.body().len(),
    };
    if let Ok(mut text) = serde_json::to_vec(&line) {
        text.push(b'\n');
        // A closed stdout must not fail the request.
        let _ = std::io::stdout().lock().write_all(&text);
    }
}

/// A fresh request id: 16 hex digits.
pub fn new_request_id() -> String {
    format!("{:016x}", fastrand::u64(..))
}
