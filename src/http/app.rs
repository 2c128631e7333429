//! The one axum app that every adapter serves: the routes of the route table
//! with their per-route layers (CORS preflight, route tag, `Vary`), and the
//! cross-cutting layers from tower-http (request ids, timeout, body limit,
//! problem+json for every rejection, and per request `Server-Timing`, the
//! access log and the metrics).
//!
//! A Vercel function serves [`api`] over its one route; the Lambda function
//! over every route; `books serve` over every route, with the static site
//! and compression on top.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{from_fn, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower::util::{BoxCloneSyncService, MapRequestLayer, MapResponseLayer};
use tower::{Layer as _, ServiceBuilder};
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::NormalizePath;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::endpoints::{AppState, method_router, not_found};
use super::error::{ApiError, problem_for_status};
use super::observe::observe_requests;
use super::route::{Access, CachePolicy, Methods, Route};

/// The largest request body any route reads: room for a prediction batch of
/// 100 typical books (about 1.5 KB of text each), not for abuse.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long one request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The request id every answer carries and every log line names.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(86_400);

/// The app as every adapter runs it: one boxed service (cloned once per
/// request) over the router and its layers.
pub type App = BoxCloneSyncService<Request, Response, Infallible>;

/// The API's app for `routes`, with every layer. Unknown paths are a 404
/// problem. Inlined, like [`routes_only`], so that constant routes fold;
/// what it calls is compiled once, in the library.
#[inline(always)]
pub fn api(routes: &[Route], state: AppState) -> App {
    finish(routes_only(routes), state)
}

/// The routes of `routes`, each with its own layers, and no fallback.
/// Only the choice of handlers is inlined (a function binary's constant
/// route folds it to its one handler); the rest is compiled once.
#[inline(always)]
pub fn routes_only(routes: &[Route]) -> Router<AppState> {
    routes.iter().fold(Router::new(), |router, &route| {
        add_route(router, route, method_router(route))
    })
}

/// `router` with `route` served by `handler` under the route's own layers.
fn add_route(
    router: Router<AppState>,
    route: Route,
    handler: MethodRouter<AppState>,
) -> Router<AppState> {
    let methods = route.methods();
    let handler = handler
        .fallback(move |method: Method| async move {
            ApiError::MethodNotAllowed {
                method: method.to_string(),
                allowed: methods,
            }
        })
        .layer(
            ServiceBuilder::new()
                .layer(MapResponseLayer::new(move |response| {
                    per_route(route, response)
                }))
                .layer(cors(methods)),
        );
    router.route(route.path(), handler)
}

/// `routes` with the 404 fallback, the state and every layer.
fn finish(routes: Router<AppState>, state: AppState) -> App {
    with_layers(routes.fallback(not_found).with_state(state))
}

/// Wraps `router` (routes and fallback already added) in the cross-cutting
/// layers. The body limit and timeout go inside the router (they change the
/// body types); the rest wrap it once from outside, as one stack: each
/// `Router::layer` would box another service that every request clones.
pub fn with_layers(router: Router) -> App {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    let router = router.layer(
        ServiceBuilder::new()
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                REQUEST_TIMEOUT,
            ))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    );
    let stack = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(MapRequestLayer::new(drop_unsafe_request_id))
        .layer(SetRequestIdLayer::new(request_id.clone(), NewRequestId))
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(MapResponseLayer::new(allow_any_origin))
        .layer(from_fn(observe_requests))
        .layer(map_response(problem_for_bare_errors))
        .service(router);
    BoxCloneSyncService::new(stack)
}

/// Marks an answer that pages of other origins may not read (`/metrics`):
/// it gets no `Access-Control-Allow-Origin`.
#[derive(Debug, Clone, Copy)]
pub struct SameOriginOnly;

/// Any origin may read every other answer (the API is public).
fn allow_any_origin(mut response: Response) -> Response {
    if response.extensions().get::<SameOriginOnly>().is_none() {
        response
            .headers_mut()
            .entry(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .or_insert(HeaderValue::from_static("*"));
    }
    response
}

/// The service an adapter runs: `app` behind one trailing slash's worth
/// of leniency (`/api/v1/books/` is `/api/v1/books`), which routing itself
/// cannot give.
pub fn service<S>(app: S) -> NormalizePath<S> {
    tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash().layer(app)
}

/// Any origin may read; a preflight names the route's own methods, mirrors
/// the headers asked for (so `Authorization` and `Content-Type` pass for the
/// routes that take them) and may be reused for a day.
fn cors(methods: Methods) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(methods.served().to_vec())
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::ETAG,
            header::LINK,
            HeaderName::from_static(REQUEST_ID_HEADER),
        ])
        .max_age(PREFLIGHT_MAX_AGE)
        // With `*` as the origin the answer does not depend on the Origin, so
        // no `Vary` that would split the edge cache by it.
        .vary(Vec::<HeaderName>::new())
}

/// What every answer of `route` carries: the route (for the access log),
/// `Vary: Authorization` where the answer depends on the caller,
/// `Cache-Control: no-store` where the route's answers are never stored, and for a
/// preflight (tower-http answers it 200 with no body) 204, `Allow` and the
/// route's caching.
fn per_route(route: Route, mut response: Response) -> Response {
    let is_preflight = response
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_METHODS);
    let headers = response.headers_mut();
    if route.access() != Access::Public {
        headers.append(header::VARY, HeaderValue::from_static("authorization"));
    }
    // A route whose answers are never stored says so on every answer,
    // its refusals included (a client error is otherwise briefly cacheable).
    if route.cache_policy() == CachePolicy::NoStore {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CachePolicy::NoStore.cache_control()),
        );
    }
    if is_preflight {
        headers.insert(
            header::ALLOW,
            HeaderValue::from_static(route.methods().allow()),
        );
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(route.cache_policy().cache_control()),
        );
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response.extensions_mut().insert(route);
    response
}

/// Every error answer is problem+json: one that a layer or axum made with a
/// plain or empty body (413, a timeout, a rejection) is remade as a problem
/// with the same status, keeping its other headers (`Allow`, say).
async fn problem_for_bare_errors(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = problem_for_status(status).into_response();
    for name in [header::CONTENT_TYPE, header::CONTENT_LENGTH] {
        parts.headers.remove(&name);
    }
    let (problem_parts, body) = problem.into_parts();
    parts.status = problem_parts.status;
    for (name, value) in &problem_parts.headers {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, body)
}

/// The platform's own id for a request, put there by an adapter that has
/// one outside the headers (the Lambda context's request id).
#[derive(Debug, Clone)]
pub struct PlatformRequestId(pub HeaderValue);

/// Fresh request ids: the platform's own when it gave one (an adapter's
/// [`PlatformRequestId`], or `x-vercel-id`), else 16 random hex digits.
#[derive(Debug, Clone, Copy)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, request: &http::Request<B>) -> Option<RequestId> {
        let id = request
            .extensions()
            .get::<PlatformRequestId>()
            .map(|id| &id.0)
            .or_else(|| request.headers().get("x-vercel-id"))
            .filter(|v| is_safe_request_id(v.as_bytes()))
            .cloned()
            .or_else(|| HeaderValue::from_str(&format!("{:016x}", fastrand::u64(..))).ok())?;
        Some(RequestId::new(id))
    }
}

/// A client may send its own `X-Request-Id` to correlate logs, if it is
/// short and plain; any other is dropped and a fresh one made.
fn drop_unsafe_request_id(mut request: Request) -> Request {
    let unsafe_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .is_some_and(|v| !is_safe_request_id(v.as_bytes()));
    if unsafe_id {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=128).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}
