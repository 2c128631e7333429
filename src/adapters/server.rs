//! The local server: every route of the API in one process, on all cores,
//! with the same dispatch as the Vercel functions.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::{api_request, open_store, request_id};
use crate::http::{Route, handle, site};
use crate::store::{Store, StoreError};

/// Runs the server until Ctrl-C (or SIGTERM). A missing database is not
/// fatal: `/health` then answers 503, as a function would.
pub fn run_blocking(addr: SocketAddr, db: &Path) -> anyhow::Result<ExitCode> {
    let store = Arc::new(open_store(db));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!("books API listening on http://{local}/  (endpoints under /api/v1, docs at /docs; Ctrl-C to stop)");
        serve(listener, store, shutdown_signal()).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Accepts connections on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    store: Arc<Result<Store, StoreError>>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                // Out of file descriptors and the like: keep serving.
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let store = Arc::clone(&store);
                async move { Ok::<_, Infallible>(route_request(store.as_ref().as_ref(), &request)) }
            });
            // Clients that hang up mid-request are not our error.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Every path: the static site of `public/` (`/`, `/docs` and their assets),
/// then the API's routes; anything else is a 404 problem.
fn route_request(
    store: Result<&Store, &StoreError>,
    request: &Request<Incoming>,
) -> Response<Full<Bytes>> {
    let id = request_id(request.headers());
    let api = api_request(request.method(), request.uri(), request.headers(), &id);
    if let Some(page) = site::respond(api.method, api.path, api.if_none_match) {
        return page.map(Full::new);
    }
    handle(store, Route::resolve(api.path), &api).map(Full::new)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
