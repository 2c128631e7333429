//! `/health`: a real query against the database, for uptime checks.

use serde::Serialize;

use crate::http::error::ApiError;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub database: &'static str,
    pub books: u64,
    pub scraped_at: Option<String>,
    pub version: &'static str,
}

/// 200 when the database answers a count; 503 when it could not be opened or
/// queried.
pub fn health(store: Result<&Store, &StoreError>) -> Result<Health, ApiError> {
    let store = store.map_err(|_| ApiError::UNAVAILABLE)?;
    let books = store.count_books()?;
    Ok(Health {
        status: "ok",
        database: "ok",
        books,
        scraped_at: store.scraped_at().map(str::to_owned),
        version: crate::VERSION,
    })
}
