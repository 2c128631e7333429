//! The two ways requests arrive: as a Vercel function ([`vercel`]) or at the
//! local server ([`server`]). Both serve the same axum app
//! ([`crate::http::app`]); they differ only in how requests reach it.

pub mod server;
pub mod vercel;

use std::path::{Path, PathBuf};

use crate::http::{AppState, Route};
use crate::ml::model::locate_model;
use crate::ml::{ModelError, ModelFile};
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

/// What a process serving `routes` needs: the database at `db`, and the
/// model (next to it, or `$BOOKS_MODEL`) only when one of the routes uses it.
pub fn load_state(db: &Path, routes: &[Route]) -> AppState {
    let state = AppState::new(open_store(db));
    if routes.iter().any(|route| route.uses_model()) {
        state.with_model(load_model(&locate_model(db)))
    } else {
        state
    }
}

/// Loads the model file once for the process, logging the outcome.
pub fn load_model(path: &Path) -> Result<ModelFile, ModelError> {
    let started = std::time::Instant::now();
    let loaded = ModelFile::load(path);
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
