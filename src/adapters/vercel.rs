//! The Vercel function entry point: the only code that knows `vercel_runtime`.
//!
//! Each `api/` file's `main` is `serve(Route::X)`. The database is opened once
//! per cold start, before the first request; every request then goes through
//! the same dispatch as the local server. Handlers never return `Err` to the
//! runtime (it would become a 500 with the raw error text).

use std::process::ExitCode;
use std::sync::OnceLock;

use bytes::Bytes;
use http::Response;
use vercel_runtime::{Request, run, service_fn};

use super::{api_request, locate_database, open_store, request_id};
use crate::http::{Route, handle};
use crate::store::{Store, StoreError};

/// Serves `route` as a Vercel function. Outside Vercel (no `VERCEL_IPC_PATH`)
/// the runtime listens on `127.0.0.1:$VERCEL_DEV_PORT` (default 3000).
pub fn serve(route: Route) -> ExitCode {
    static STORE: OnceLock<Result<Store, StoreError>> = OnceLock::new();
    let store = STORE.get_or_init(|| open_store(&locate_database()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let service =
        service_fn(move |request: Request| async move { respond(store.as_ref(), route, &request) });
    match runtime.block_on(run(service)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("function runtime stopped: {err}");
            ExitCode::FAILURE
        }
    }
}

fn respond(store: Result<&Store, &StoreError>, route: Route, request: &Request) -> Response<Bytes> {
    let id = request_id(request.headers());
    let api_request = api_request(request.method(), request.uri(), request.headers(), &id);
    handle(store, Some(route), &api_request)
}
