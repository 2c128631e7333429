//! The ways requests arrive: as a Vercel function ([`vercel`]), as an AWS
//! Lambda function ([`lambda`]) or at the local server ([`server`]). All serve the same axum app
//! ([`crate::http::app`]); they differ only in how requests reach it.

pub mod lambda;
pub mod metrics;
pub mod server;
pub mod vercel;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

use crate::auth::AuthConfig;
use crate::http::{AppState, Route};
use crate::ml::model::locate_model;
use crate::ml::serving::{ModelServing, ServingConfig};
use crate::ml::{ModelError, ModelFile, ModelSummary};
use crate::scraping::{ConfigError, GitHubActions, GitHubConfig, ScrapeTrigger};
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

/// Opens the store once for the process, logging the outcome.
pub fn open_store(path: &Path) -> Result<Store, StoreError> {
    let opened = Store::open(path);
    let shown = path.display().to_string();
    match &opened {
        Ok(store) => tracing::info!(
            event = "store_opened",
            path = shown.as_str(),
            scraped_at = store.scraped_at().unwrap_or(""),
            content_hash = store.content_hash()
        ),
        Err(err) => tracing::error!(
            event = "store_unavailable",
            path = shown.as_str(),
            error = %err
        ),
    }
    opened
}

/// What a process serving `routes` needs: the database at `db`; the model
/// (next to it, or `$BOOKS_MODEL`) only when one of the routes uses it; the
/// authentication settings only when one of them signs in or checks callers.
#[inline(always)]
pub fn load_state(db: &Path, routes: &[Route]) -> AppState {
    let mut state = AppState::new(open_store(db))
        .with_response_cache(crate::http::endpoints::cache::ResponseCache::budget_from_env());
    let serving = routes
        .iter()
        .any(|route| route.uses_model_serving())
        .then(load_serving)
        .flatten();
    // In orchestrator mode predictions never read the model file; the card
    // and the feature dictionary still may, and they need only its summary,
    // not its 3 MB of weights.
    let orchestrated = serving.is_some();
    let predicts_from_file = !orchestrated && routes.contains(&Route::MlPredictions);
    if predicts_from_file {
        state = state.with_model(load_model(&locate_model(db)));
    } else if routes.iter().any(|route| route.uses_model()) {
        state = state.with_model_summary(load_model_summary(&locate_model(db)));
    }
    if let Some(serving) = serving {
        state = state.with_serving(serving);
    }
    if routes.iter().any(|route| route.uses_auth()) {
        state = state.with_auth(load_auth());
    }
    if routes.iter().any(|route| route.uses_trigger()) {
        state = state.with_trigger(github_trigger().ok().flatten());
    }
    state
}

/// The GitHub Actions trigger, when `BOOKS_GITHUB_REPO` and
/// `BOOKS_GITHUB_TOKEN` configure one (`Ok(None)`: neither is set). A
/// half-done or invalid setting is logged (never the token) and is an `Err`:
/// the trigger then stays off rather than doing something else.
pub fn github_trigger() -> Result<Option<ScrapeTrigger>, ConfigError> {
    match GitHubConfig::from_env() {
        Ok(Some(config)) => {
            tracing::info!(
                event = "trigger_configured",
                mode = "github-actions",
                repo = config.repo(),
                git_ref = config.git_ref()
            );
            Ok(Some(ScrapeTrigger::GitHub(GitHubActions::new(config))))
        }
        Ok(None) => Ok(None),
        Err(err) => {
            tracing::warn!(event = "trigger_not_configured", reason = %err);
            Err(err)
        }
    }
}

/// Reads the authentication settings from the environment, logging the
/// outcome (never the secret): `None` keeps sign-in and the protected routes
/// closed (503) while the rest of the API answers.
pub fn load_auth() -> Option<AuthConfig> {
    match AuthConfig::from_env() {
        Ok(config) => {
            tracing::info!(
                event = "auth_configured",
                accounts = config.accounts.len() as u64
            );
            if config.accounts.is_empty() {
                tracing::warn!(
                    event = "auth_no_accounts",
                    hint = "set BOOKS_USERS (see `books hash-password`); nobody can sign in"
                );
            }
            Some(config)
        }
        Err(err) => {
            tracing::warn!(event = "auth_not_configured", reason = %err);
            None
        }
    }
}

/// The model endpoint's client when `BOOKS_MODEL_SERVING_URL` sets one
/// (orchestrator mode), logging the outcome; `Some(Err)` when the setting is
/// wrong, so predictions answer 503 instead of quietly using the file.
pub fn load_serving() -> Option<Result<ModelServing, String>> {
    let configured = ServingConfig::from_env()
        .transpose()?
        .and_then(ModelServing::new);
    match &configured {
        Ok(serving) => {
            let config = serving.config();
            tracing::info!(
                event = "model_serving_configured",
                url = config.shown().as_str(),
                connect_timeout_ms = config.connect_timeout.as_millis() as u64,
                timeout_ms = config.timeout.as_millis() as u64,
                max_connections = config.max_connections as u64
            );
        }
        Err(reason) => tracing::error!(
            event = "model_serving_not_configured",
            reason = reason.as_str()
        ),
    }
    Some(configured)
}

/// Loads the model file once for the process, logging the outcome.
pub fn load_model(path: &Path) -> Result<ModelFile, ModelError> {
    let started = std::time::Instant::now();
    let loaded = ModelFile::open(path);
    let shown = path.display().to_string();
    match &loaded {
        Ok(model) => tracing::info!(
            event = "model_loaded",
            path = shown.as_str(),
            name = model.name.as_str(),
            version = model.version.as_str(),
            load_ms = started.elapsed().as_secs_f64() * 1000.0
        ),
        Err(err) => tracing::error!(
            event = "model_unavailable",
            path = shown.as_str(),
            error = %err
        ),
    }
    loaded
}

/// Reads the summary of the model at `path` (its card, classes and
/// version), logging the outcome as [`load_model`] does; `None` when it
/// cannot be read.
pub fn load_model_summary(path: &Path) -> Option<ModelSummary> {
    let started = std::time::Instant::now();
    let shown = path.display().to_string();
    match ModelSummary::open(path) {
        Ok(summary) => {
            tracing::info!(
                event = "model_loaded",
                path = shown.as_str(),
                name = summary.name.as_str(),
                version = summary.version.as_str(),
                weights = false,
                load_ms = started.elapsed().as_secs_f64() * 1000.0
            );
            Some(summary)
        }
        Err(err) => {
            tracing::error!(event = "model_unavailable", path = shown.as_str(), error = %err);
            None
        }
    }
}

/// One request through the app, its answer collected into one buffer, as
/// the serverless platforms take it. Never an `Err`: a platform would turn
/// one into a bare 500.
pub(crate) async fn respond_whole<S>(
    service: S,
    request: http::Request<Body>,
) -> http::Response<Bytes>
where
    S: tower::Service<http::Request<Body>, Response = axum::response::Response, Error = Infallible>,
{
    let response = match service.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    // Our answers are whole buffers already; collecting cannot fail.
    let bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    http::Response::from_parts(parts, bytes)
}

/// Runs a platform's event loop (`serve`) on `runtime` until it stops:
/// success when it ends cleanly, else the reason logged and a failure.
pub(crate) fn run_until_stopped<E: std::fmt::Display>(
    runtime: std::io::Result<tokio::runtime::Runtime>,
    serve: impl Future<Output = Result<(), E>>,
) -> ExitCode {
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(event = "runtime_failed", error = %err);
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(event = "runtime_stopped", error = %err);
            ExitCode::FAILURE
        }
    }
}
