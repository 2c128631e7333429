//! The AWS Lambda entry point: the only code that knows `lambda_http`.
//!
//! One function serves the whole API, where Vercel has one per endpoint.
//! On Vercel each `api/` file is its own deploy unit by design, and a cold
//! start there opens only what its route needs. On Lambda every function is
//! a deploy unit of its own to configure (role, log group, integration,
//! permissions), and a cold instance serves one route only: one function
//! over every route keeps one warm pool for all traffic, so fewer requests
//! meet a cold start, and one zip to build and roll back. Opening the
//! database and the model for every route costs a few milliseconds once per
//! instance (see docs/aws-lambda.md, "Lambda figures").
//!
//! `lambda_http` turns API Gateway HTTP API (payload 2.0, also what Function
//! URLs send) and REST API (1.0) events into `http::Request`s, and our
//! answers back into their response shapes (base64 for non-text bodies).
//! Its events arrive whole, so unlike on Vercel there is no body to stream;
//! the app's body limit still refuses an oversized one. Around the app this
//! adapter does two things: the request id is the Lambda context's (as
//! `x-vercel-id` is on Vercel) unless the caller sent its own, and the path
//! is the one API Gateway received, without a REST API's stage prefix; the
//! answer's `Link` and `Location` paths get that prefix back, so that they
//! resolve where the caller is.
//!
//! The database and the model are found as on Vercel
//! ([`locate_database`]): `data/books.db` and `data/model.json` beside the
//! `bootstrap` executable in the zip, which is Lambda's working directory.

use std::convert::Infallible;
use std::process::ExitCode;

use axum::body::Body;
use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use lambda_http::RequestExt as _;

use super::{load_state, locate_database, respond_whole, run_until_stopped};
use crate::http::app::{self, PlatformRequestId};
use crate::http::{AppState, Route};

/// The service the Lambda runtime calls: one event (already an
/// `http::Request`) in, one whole answer out, never an error.
pub type Handler =
    tower::util::BoxCloneSyncService<lambda_http::Request, http::Response<Full<Bytes>>, Infallible>;

/// Serves every route of the API as one Lambda function, polling the
/// Lambda runtime API (`AWS_LAMBDA_RUNTIME_API`) for events.
pub fn serve() -> ExitCode {
    crate::observe::init_logging();
    let state = load_state(&locate_database(), &Route::ALL);
    let handler = handler(state);
    // One thread: Lambda hands an instance one event at a time, and below
    // 1,769 MB of memory it has less than one vCPU anyway.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    run_until_stopped(runtime, lambda_http::run(handler))
}

/// The whole API over `state`, as the Lambda runtime calls it.
pub fn handler(state: AppState) -> Handler {
    let service = app::service(app::api(&Route::ALL, state));
    Handler::new(tower::service_fn(move |request: lambda_http::Request| {
        let service = service.clone();
        async move { Ok(respond(service, request).await) }
    }))
}

/// One event through the app. Never an `Err`: the runtime would report it
/// as a failed invocation, which API Gateway answers with a bare 500.
async fn respond<S>(service: S, request: lambda_http::Request) -> http::Response<Full<Bytes>>
where
    S: tower::Service<http::Request<Body>, Response = axum::response::Response, Error = Infallible>,
{
    let platform_id = request
        .lambda_context_ref()
        .and_then(|context| HeaderValue::from_str(&context.request_id).ok());
    let path = request.raw_http_path().to_owned();
    let prefix = public_prefix(request.request_context_ref(), &path);
    let (mut parts, body) = request.into_parts();
    if !path.is_empty() {
        parts.uri = without_stage(&parts.uri, &path);
    }
    if let Some(id) = platform_id {
        parts.extensions.insert(PlatformRequestId(id));
    }
    let mut response =
        respond_whole(service, http::Request::from_parts(parts, Body::new(body))).await;
    if !prefix.is_empty() {
        with_prefix(response.headers_mut(), &prefix);
    }
    response.map(Full::new)
}

/// What the caller's URL has before the path the app routes: a REST API's
/// stage (`/prod`), or a custom domain's base path. API Gateway gives the
/// caller's whole path in the request context and the routed one as the
/// event's path; an HTTP API or a Function URL routes the caller's path as
/// it is.
fn public_prefix(context: Option<&lambda_http::request::RequestContext>, path: &str) -> String {
    let Some(lambda_http::request::RequestContext::ApiGatewayV1(context)) = context else {
        return String::new();
    };
    context
        .path
        .as_deref()
        .and_then(|whole| whole.strip_suffix(path))
        .filter(|prefix| prefix.starts_with('/') && !prefix.ends_with('/'))
        .unwrap_or_default()
        .to_owned()
}

/// The absolute-path URLs the API answers with (`Link`'s targets, a
/// `Location`) put back under `prefix`, so that they resolve where the
/// caller is: behind a stage, `/api/v1/...` alone is outside the API.
fn with_prefix(headers: &mut http::HeaderMap, prefix: &str) {
    let rewrite = |value: &HeaderValue, rewritten: fn(&str, &str) -> String| {
        value
            .to_str()
            .ok()
            .and_then(|text| HeaderValue::from_str(&rewritten(text, prefix)).ok())
    };
    if let Some(value) = headers
        .get(http::header::LINK)
        .and_then(|v| rewrite(v, |text, prefix| text.replace("</", &format!("<{prefix}/"))))
    {
        headers.insert(http::header::LINK, value);
    }
    if let Some(value) = headers.get(http::header::LOCATION).and_then(|v| {
        rewrite(v, |text, prefix| match text.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => format!("{prefix}/{rest}"),
            _ => text.to_owned(),
        })
    }) {
        headers.insert(http::header::LOCATION, value);
    }
}

/// `uri` with its path replaced by `path` (as API Gateway received it:
/// a REST API's stage is not part of it), keeping the query.
fn without_stage(uri: &http::Uri, path: &str) -> http::Uri {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    http::Uri::try_from(path_and_query).unwrap_or_else(|_| uri.clone())
}
