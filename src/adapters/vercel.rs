//! The Vercel function entry point: the only code that knows `vercel_runtime`.
//!
//! Each `api/` file's `main` is `serve(Route::X)`. The database (and, for the
//! routes that use it, the model) is opened once per cold start, before the
//! first request; every request then goes through
//! the same axum app as the local server, built over that one route.
//!
//! A thin adapter of our own rather than `vercel_runtime::axum::VercelLayer`:
//! that layer reads the request body whole with no limit before any of our
//! layers can refuse it, and answers every `application/json` response by
//! spawning a task that streams it through a channel. Our bodies are small
//! and already whole, so here the request body streams into the app (under
//! its body limit) and the answer is handed back as one buffer.

use std::process::ExitCode;

use axum::body::Body;
use bytes::Bytes;
use vercel_runtime::{Request, Response, run, service_fn};

use super::{load_state, locate_database, respond_whole, run_until_stopped};
use crate::http::Route;
use crate::http::app::{self, App};

/// Serves `route` as a Vercel function. Outside Vercel (no `VERCEL_IPC_PATH`)
/// the runtime listens on `127.0.0.1:$VERCEL_DEV_PORT` (default 3000).
///
/// Inlined, so that the route folds (which state to load, which handler to
/// route to); the runtime around the app (`run_app`) is compiled once.
#[inline(always)]
pub fn serve(route: Route) -> ExitCode {
    crate::observe::init_logging();
    let state = load_state(&locate_database(), &[route]);
    run_app(app::api(&[route], state))
}

/// Runs `app` under the Vercel runtime until the platform stops it.
fn run_app(app: App) -> ExitCode {
    let service = app::service(app);
    let handler = service_fn(move |request: Request| {
        let service = service.clone();
        async move { respond(service, request).await }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build();
    run_until_stopped(runtime, run(handler))
}

/// One request through the app (the body streams in; the answer goes back
/// whole).
async fn respond<S>(service: S, request: Request) -> Response<Bytes>
where
    S: tower::Service<
            http::Request<Body>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        >,
{
    let (parts, body) = request.into_parts();
    respond_whole(service, http::Request::from_parts(parts, Body::new(body))).await
}
