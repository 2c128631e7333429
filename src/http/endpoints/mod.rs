//! The axum handler of every route: extract typed input, call the HTTP-free
//! service in [`crate::services`], and shape the answer under the route's
//! cache policy. [`method_router`] and [`allowed_params`] come from the
//! route table (`route_table!` in [`route`](super::route)), whose rows name
//! the handlers, so a new route cannot be added without its handler.

use std::sync::OnceLock;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use bytes::Bytes;
use http::{HeaderValue, Uri, header};
use serde::Serialize;

use super::conditional::{self, IfNoneMatch, etag_of, not_modified};
use super::error::ApiError;
use super::params::{
    BookIdQuery, BooksParams, FromQuery, ListRequest, NoParams, PriceRangeParams, Query,
    QueryParams, SearchParams, SimilarParams, TopParams, TopRatedParams, TrainingDataParams,
    book_id,
};
use super::route::{Route, route_table};
use crate::services;
use crate::services::books::{BookView, ListedBook, SimilarBooks};
use crate::services::health::ModelEndpointHealth;
use crate::services::page::{ListPage, Pagination};
use crate::store::Store;

pub(super) mod auth;
pub mod cache;
pub(super) mod ml;
pub(super) mod scraping;
mod state;

pub use state::{AppState, StoreSnapshot};

const JSON: &str = "application/json";
const CSV: &str = "text/csv; charset=utf-8; header=present";

/// [`method_router`] and [`allowed_params`], from the route table's rows.
macro_rules! handlers_and_params {
    ($($name:ident: $spec:ident($($arg:expr),*) => $method:ident($($handler:ident)::+), $params:ident;)*) => {
        /// The handler of `route`, for the methods the route table gives it.
        ///
        /// Always inlined: a function binary passes its route as a constant,
        /// so the `match` folds to its one arm and the other routes' handlers
        /// (with what they alone use: the HTTP client, the token crypto, the
        /// model) are not linked into it. Each arm calls a function of its
        /// own, compiled once in the library rather than again in every
        /// binary that names the route.
        #[inline(always)]
        pub fn method_router(route: Route) -> MethodRouter<AppState> {
            match route {
                $(Route::$name => {
                    fn handler() -> MethodRouter<AppState> {
                        $method($($handler)::+)
                    }
                    handler()
                })*
            }
        }

        /// The query parameters each route accepts.
        pub fn allowed_params(route: Route) -> &'static [&'static str] {
            match route {
                $(Route::$name => $params::ALLOWED,)*
            }
        }
    };
}
route_table!(handlers_and_params);

/// Health of this instance
///
/// Runs a real query against the database. 503 with a problem body when the
/// database cannot be opened or queried. In orchestrator mode it also pings
/// the model endpoint and reports how that went (`model_endpoint`), without
/// failing for it. Never cached by shared caches (`no-cache`).
#[utoipa::path(get, path = Route::Health.path(), operation_id = "getHealth", tag = "meta",
    responses((status = 200, description = "OK", body = services::health::Health)))]
async fn health(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    // Health reports on this instance now: its ETag is of the body itself.
    let model_endpoint = match state.serving() {
        Some(Ok(serving)) => Some(ModelEndpointHealth::of(serving.ping().await)),
        Some(Err(_)) => Some(ModelEndpointHealth::misconfigured()),
        None => None,
    };
    let snapshot = state.store_snapshot();
    let body = json(&services::health::health(
        snapshot.as_ref().as_ref(),
        model_endpoint,
    )?);
    let etag = etag_of(&[&body]);
    let cache = Route::Health.cache_policy().cache_control();
    Ok(conditional::respond(
        &if_none_match,
        &etag,
        cache,
        JSON,
        body,
    ))
}

/// This OpenAPI description
///
/// The OpenAPI 3.1 document describing every endpoint. Interactive docs: `/docs`.
#[utoipa::path(get, path = Route::OpenApi.path(), operation_id = "getOpenApi", tag = "meta",
    responses((status = 200, description = "OK", body = super::openapi::OpenApiDocument)))]
async fn openapi(if_none_match: IfNoneMatch, _: Query<NoParams>) -> Response {
    static ETAG: OnceLock<String> = OnceLock::new();
    let body = super::openapi::document_json();
    let etag = ETAG.get_or_init(|| etag_of(&[&body]));
    let cache = Route::OpenApi.cache_policy().cache_control();
    conditional::respond(&if_none_match, etag, cache, JSON, body)
}

/// One book by id
///
/// Every field of the data contract plus the derived `in_stock` and
/// `currency`. 404 when no book has this id; 400 when the id is not a
/// positive integer.
#[utoipa::path(get, path = Route::BookById.path(), operation_id = "getBook", tag = "books",
    params(BookIdQuery), responses((status = 200, description = "OK", body = BookView)))]
async fn book_by_id(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    segment: Result<Path<String>, PathRejection>,
    query: Query<BookIdQuery>,
) -> Result<Response, ApiError> {
    let id = book_id(query.params.0.as_deref(), &path_segment(segment)?)?;
    immutable(
        &state,
        &if_none_match,
        Route::BookById,
        &id.to_string(),
        |store| Ok((json(&services::books::book(store, id)?), None)),
    )
}

/// Books similar to one book
///
/// The books whose title and description read most alike, by the cosine
/// similarity of their TF-IDF vectors (the vocabulary fitted on the whole
/// catalogue), computed when the database is built. Most similar first:
/// score descending, ties by id ascending; the book itself is never among
/// them. `limit` (default 5, at most 20) caps the list. 404 when no book has
/// this id; 400 when the id is not a positive integer or `limit` is out of
/// range.
#[utoipa::path(get, path = Route::BookSimilar.path(), operation_id = "listSimilarBooks", tag = "books",
    params(SimilarParams), responses((status = 200, description = "OK", body = SimilarBooks)))]
async fn similar(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    segment: Result<Path<String>, PathRejection>,
    query: Query<SimilarParams>,
) -> Result<Response, ApiError> {
    let id = book_id(query.params.id.as_deref(), &path_segment(segment)?)?;
    let limit = query.params.limit;
    immutable(
        &state,
        &if_none_match,
        Route::BookSimilar,
        &format!("{id}?limit={limit}"),
        |store| Ok((json(&services::books::similar(store, id, limit)?), None)),
    )
}

/// The `{id}` segment of a path, as given (`book_id` parses it).
fn path_segment(segment: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    segment
        .map(|Path(segment)| segment)
        .map_err(|_| ApiError::invalid("id", "id must be a positive integer"))
}

/// List the catalogue
///
/// Every book, paginated, with optional filters (ANDed) and a sort. Ties in
/// any sort are broken by id, ascending. `per_page=1000` fetches the whole
/// catalogue at once.
#[utoipa::path(get, path = Route::Books.path(), operation_id = "listBooks", tag = "books",
    params(BooksParams), responses((status = 200, description = "OK", body = ListPage<ListedBook>)))]
async fn books(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    query: Query<BooksParams>,
) -> Result<Response, ApiError> {
    list(
        &state,
        &if_none_match,
        Route::Books,
        &query.raw,
        &query.params.0,
    )
}

/// Search books
///
/// By `title` (case-insensitive substring; `%` and `_` are literal
/// characters), `category` (case-insensitive, by name or slug) and `q` (full
/// text over title and description, every word required, the last one as a
/// prefix, ranked by relevance). Criteria are ANDed; at least one is
/// required (else 400). No match is a 200 with an empty list.
#[utoipa::path(get, path = Route::BooksSearch.path(), operation_id = "searchBooks", tag = "books",
    params(SearchParams), responses((status = 200, description = "OK", body = ListPage<ListedBook>)))]
async fn search(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    query: Query<SearchParams>,
) -> Result<Response, ApiError> {
    list(
        &state,
        &if_none_match,
        Route::BooksSearch,
        &query.raw,
        &query.params.0,
    )
}

/// Books with the highest rating first
///
/// Rating descending; books with the same rating in ascending id order.
#[utoipa::path(get, path = Route::BooksTopRated.path(), operation_id = "listTopRatedBooks", tag = "books",
    params(TopRatedParams), responses((status = 200, description = "OK", body = ListPage<ListedBook>)))]
async fn top_rated(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    query: Query<TopRatedParams>,
) -> Result<Response, ApiError> {
    list(
        &state,
        &if_none_match,
        Route::BooksTopRated,
        &query.raw,
        &query.params.0,
    )
}

/// Books in a price range
///
/// Prices in GBP, both bounds inclusive. Either bound may be omitted, not
/// both. `min_price`/`max_price` are aliases of `min`/`max` (give one name
/// per bound). Cheapest first unless `sort`/`order` say otherwise.
#[utoipa::path(get, path = Route::BooksPriceRange.path(), operation_id = "listBooksByPriceRange", tag = "books",
    params(PriceRangeParams), responses((status = 200, description = "OK", body = ListPage<ListedBook>)))]
async fn price_range(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    query: Query<PriceRangeParams>,
) -> Result<Response, ApiError> {
    list(
        &state,
        &if_none_match,
        Route::BooksPriceRange,
        &query.raw,
        &query.params.0,
    )
}

/// Every category
///
/// Name, slug and number of books of every category, by name. Not paginated.
#[utoipa::path(get, path = Route::Categories.path(), operation_id = "listCategories", tag = "categories",
    responses((status = 200, description = "OK", body = services::categories::CategoryList)))]
async fn categories(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    immutable(&state, &if_none_match, Route::Categories, "", |store| {
        Ok((json(&services::categories::categories(store)?), None))
    })
}

/// Figures over the whole catalogue
///
/// Totals, average/min/max/median price, the rating distribution keyed "1"
/// to "5", the average rating, stock figures and when the data was scraped.
#[utoipa::path(get, path = Route::StatsOverview.path(), operation_id = "getStatsOverview", tag = "stats",
    responses((status = 200, description = "OK", body = services::stats::OverviewView)))]
async fn stats_overview(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    immutable(&state, &if_none_match, Route::StatsOverview, "", |store| {
        Ok((json(&services::stats::overview(store)?), None))
    })
}

/// Figures per category
///
/// For every category, by name: book count, average/min/max price, average
/// rating and total stock.
#[utoipa::path(get, path = Route::StatsCategories.path(), operation_id = "getCategoryStats", tag = "stats",
    responses((status = 200, description = "OK", body = services::stats::CategoryStatsList)))]
async fn stats_categories(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    immutable(
        &state,
        &if_none_match,
        Route::StatsCategories,
        "",
        |store| Ok((json(&services::stats::categories(store)?), None)),
    )
}

/// A page of books, with its `Link` header.
fn list(
    state: &AppState,
    if_none_match: &IfNoneMatch,
    route: Route,
    raw: &QueryParams,
    request: &ListRequest,
) -> Result<Response, ApiError> {
    let canonical = raw.canonical();
    immutable(state, if_none_match, route, &canonical, |store| {
        let page = services::books::list(store, &request.query, request.page, request.fields)?;
        // From the route and the canonical query alone, like the key: the
        // kept answer's links are right for every request it serves.
        let link = link_header(route.path(), raw, request.page, page.total_pages);
        Ok((json(&page), Some(link)))
    })
}

/// An answer derived from the immutable data alone. Its ETag follows from
/// the data's hash and the request (`key`: the canonical query or the id),
/// so a listed tag answers 304 without a query. `If-None-Match: *` matches
/// only once `produce` has shown the resource exists.
fn immutable(
    state: &AppState,
    if_none_match: &IfNoneMatch,
    route: Route,
    key: &str,
    produce: impl FnOnce(&Store) -> Result<(Bytes, Option<String>), ApiError>,
) -> Result<Response, ApiError> {
    immutable_as(state, if_none_match, route, key, JSON, produce)
}

/// [`immutable`], answering as `content_type`.
fn immutable_as(
    state: &AppState,
    if_none_match: &IfNoneMatch,
    route: Route,
    key: &str,
    content_type: &'static str,
    produce: impl FnOnce(&Store) -> Result<(Bytes, Option<String>), ApiError>,
) -> Result<Response, ApiError> {
    let snapshot = state.store_snapshot();
    let store = opened(&snapshot)?;
    let cache = route.cache_policy().cache_control();
    let etag = etag_of(&[
        crate::VERSION.as_bytes(),
        store.content_hash().as_bytes(),
        route.path().as_bytes(),
        key.as_bytes(),
    ]);
    if if_none_match.lists(&etag) {
        return Ok(not_modified(&etag, cache));
    }
    // The ETag names the answer (data, version, route, canonical key), so
    // an answer made once serves every later request for it.
    let (body, link) = match state.responses().get(&etag) {
        Some(kept) => kept,
        None => {
            let made = produce(store)?;
            state.responses().insert(&etag, &made);
            made
        }
    };
    let mut response = conditional::respond(if_none_match, &etag, cache, content_type, body);
    if let Some(value) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, value);
    }
    Ok(response)
}

/// The database of `snapshot`, or 503 when it could not be opened.
fn opened(snapshot: &StoreSnapshot) -> Result<&Store, ApiError> {
    snapshot
        .as_ref()
        .as_ref()
        .map_err(|_| ApiError::UNAVAILABLE)
}

fn json<T: Serialize>(value: &T) -> Bytes {
    // Serialising our own plain structs to a Vec cannot fail; an empty
    // object is still valid JSON should it ever.
    serde_json::to_vec(value)
        .map(Bytes::from)
        .unwrap_or_else(|_| Bytes::from_static(b"{}"))
}

/// RFC 8288 links to the first, previous, next and last pages: the route's
/// path with the query's parameters, sorted, and another `page`.
fn link_header(path: &str, query: &QueryParams, page: Pagination, total_pages: u64) -> String {
    let url = |target: u64| {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        let mut pairs: Vec<_> = query.pairs().iter().filter(|(n, _)| n != "page").collect();
        pairs.sort();
        for (name, value) in pairs {
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
    links.join(", ")
}

/// The answer for a path no route serves.
pub async fn not_found(uri: Uri) -> Response {
    ApiError::RouteNotFound {
        path: uri.path().to_owned(),
    }
    .into_response()
}
