//! The local server (`books serve`): every route of the API in one process,
//! on all cores, plus the static site of `public/` and response compression
//! (Vercel compresses at its edge; here nothing else would).
//!
//! Hardened for a public port: a header-read timeout that also bounds how
//! long an idle keep-alive connection is kept (hyper 1 arms it whenever it
//! waits for a request head), a cap on open connections, back-off when
//! `accept` fails (out of file descriptors, say) instead of spinning, and a
//! graceful shutdown that stops accepting and drains what is in flight.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse as _, Response};
use futures::future::BoxFuture;
use http::header;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{Layer as _, ServiceExt as _};
use tower_http::compression::Compression;
use tower_http::compression::CompressionLayer;

use std::path::PathBuf;

use url::Url;

use super::metrics::{self, METRICS_PATH, MetricsAccess};
use super::{load_state, open_store};
use crate::http::ApiError;
use crate::http::app::App;
use crate::http::{AppState, Route, app, site};
use crate::observe::metrics::RouteLabel;
use crate::scrape::client::ClientConfig;
use crate::scrape::crawl::DEFAULT_CONCURRENCY;
use crate::scraping::{GitHubConfig, LocalScrapeConfig, LocalScraper, ScrapeTrigger};
use crate::store::DB_FILE_NAME;

/// The limits of one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head must arrive whole within this; an idle keep-alive
    /// connection is closed after it too.
    pub header_read_timeout: Duration,
    /// Connections open at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// On shutdown, how long in-flight requests may take to finish.
    pub drain_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// Runs the server until Ctrl-C or SIGTERM. A missing database is not fatal:
/// `/health` then answers 503, as a function would. Without a GitHub
/// repository configured, the scrape trigger scrapes `scrape_base_url` in
/// the process and publishes into the database's directory.
pub fn run_blocking(addr: SocketAddr, db: &Path, scrape_base_url: Url) -> anyhow::Result<ExitCode> {
    crate::observe::init_logging();
    let mut state = load_state(db, &Route::ALL);
    // In the process only when no GitHub repository is meant: a half-done
    // GitHub setting (already logged) leaves the trigger off.
    if !state.has_trigger() && matches!(GitHubConfig::from_env(), Ok(None)) {
        let local = local_trigger(&state, db, scrape_base_url);
        state = state.with_trigger(local);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let shutdown = shutdown_signal();
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!(
            "books API listening on http://{local}/  (endpoints under /api/v1, docs at /docs; Ctrl-C to stop)"
        );
        serve(listener, app(state), shutdown, Limits::default()).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// The in-process trigger: scrapes `base_url` and publishes `books.csv` and
/// `books.db` next to `db` exactly as `books scrape` does, then opens the
/// new database and serves it from the next request on. `None` (logged)
/// when `db` is not named `books.db`, as publishing would write elsewhere.
pub fn local_trigger(state: &AppState, db: &Path, base_url: Url) -> Option<ScrapeTrigger> {
    if db.file_name() != Some(std::ffi::OsStr::new(DB_FILE_NAME)) {
        tracing::warn!(
            event = "trigger_not_configured",
            reason = "the served database is not named books.db, so a scrape cannot replace it"
        );
        return None;
    }
    let data_dir = match db.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let config = LocalScrapeConfig {
        base_url,
        data_dir,
        concurrency: DEFAULT_CONCURRENCY,
        client: ClientConfig::default(),
    };
    tracing::info!(
        event = "trigger_configured",
        mode = "in-process",
        source = config.base_url.as_str(),
        data_dir = config.data_dir.display().to_string().as_str()
    );
    let served = state.clone();
    let swap = Arc::new(move |published: &Path| {
        let store = open_store(published).map_err(|err| err.to_string())?;
        served.replace_store(store);
        Ok(())
    });
    Some(ScrapeTrigger::Local(LocalScraper::new(config, swap)))
}

/// The local server's app: every API route, `/metrics`, the static site for
/// any other GET, compression for the clients that ask for it. Installs the
/// process's metrics recorder (once) and reads who may see the metrics
/// from `BOOKS_METRICS_TOKEN`.
pub fn app(state: AppState) -> CompressWhenAsked {
    app_with_metrics(state, MetricsAccess::from_env())
}

/// [`app()`], with `/metrics` open to `access` (tests give their own).
pub fn app_with_metrics(state: AppState, access: MetricsAccess) -> CompressWhenAsked {
    crate::observe::metrics::install(Route::ALL.len());
    let routes = app::routes_only(&Route::ALL)
        .fallback(move |State(state): State<AppState>, request: Request| {
            let access = access.clone();
            async move { metrics_site_or_not_found(&access, &state, request) }
        })
        .with_state(state);
    CompressWhenAsked::new(app::with_layers(routes))
}

/// gzip or br for a client that accepts either; any other request skips the
/// compression layer, whose pass-through alone cost a fifth of the
/// throughput of small answers under wrk.
///
/// Both variants sit behind one `Arc`: hyper clones the service for every
/// request, and an `Arc` is the cheapest thing to clone.
#[derive(Clone)]
pub struct CompressWhenAsked(Arc<(App, Compression<App>)>);

impl CompressWhenAsked {
    pub fn new(app: App) -> Self {
        let compressed = CompressionLayer::new().layer(app.clone());
        CompressWhenAsked(Arc::new((app, compressed)))
    }
}

/// Whether `Accept-Encoding` names an encoding we compress with.
fn accepts_compression(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|coding| coding.split(';').next())
        .any(|coding| {
            let coding = coding.trim();
            coding.eq_ignore_ascii_case("gzip")
                || coding.eq_ignore_ascii_case("br")
                || coding == "*"
        })
}

impl<B> tower::Service<http::Request<B>> for CompressWhenAsked
where
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both are driven through `oneshot`, which waits for readiness.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let request = request.map(Body::new);
        let (plain, compressed) = &*self.0;
        if accepts_compression(request.headers()) {
            let answer = compressed.clone().oneshot(request);
            Box::pin(async move { Ok(answer.await?.map(Body::new)) })
        } else {
            Box::pin(plain.clone().oneshot(request))
        }
    }
}

fn metrics_site_or_not_found(
    access: &MetricsAccess,
    state: &AppState,
    request: Request,
) -> Response {
    let path = request.uri().path();
    if path == METRICS_PATH {
        return metrics::respond(access, state, &request);
    }
    match site::respond(request.method(), path, request.headers()) {
        Some(mut page) => {
            page.extensions_mut().insert(RouteLabel::Site);
            page
        }
        None => ApiError::RouteNotFound {
            path: path.to_owned(),
        }
        .into_response(),
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then stops
/// accepting and waits up to `limits.drain_timeout` for open requests.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    shutdown: impl std::future::Future<Output = ()>,
    limits: Limits,
) where
    S: tower::Service<
            http::Request<hyper::body::Incoming>,
            Response = Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let service = app::service(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.reset();
                    accepted
                }
                Err(err) => {
                    tracing::warn!(event = "accept_failed", error = %err);
                    tokio::time::sleep(backoff.next()).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true)
            .serve_connection(
                TokioIo::new(stream),
                // The peer's address, for `/metrics`.
                TowerToHyperService::new(WithPeer {
                    inner: service.clone(),
                    peer,
                }),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // Clients that hang up mid-request are not our error.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!(event = "shutdown", drained = true),
        () = tokio::time::sleep(limits.drain_timeout) => {
            tracing::warn!(event = "shutdown", drained = false);
        }
    }
}

/// A connection's service: gives a request for `/metrics`, the one answer
/// that depends on who asks, its peer's address as [`ConnectInfo`]. Only
/// that one: an extension on every request would cost each an allocation.
#[derive(Clone)]
struct WithPeer<S> {
    inner: S,
    peer: SocketAddr,
}

impl<S, B> tower::Service<http::Request<B>> for WithPeer<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // As routing will see it, one trailing slash trimmed.
        if request.uri().path().trim_end_matches('/') == METRICS_PATH {
            request.extensions_mut().insert(ConnectInfo(self.peer));
        }
        self.inner.call(request)
    }
}

/// Doubling waits after failed `accept`s, from 5 ms to 1 s.
#[derive(Debug, Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    fn next(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        Duration::from_millis(5u64 << self.failures.min(8)).min(Duration::from_secs(1))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// Resolves on Ctrl-C or SIGTERM.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // Registered now, not at the first poll: a SIGTERM that arrives while
    // the server is still starting then stops it cleanly instead of killing
    // it with the default action.
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}
