//! `/health`: a real query against the database, for uptime checks.

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    #[schema(schema_with = crate::http::openapi::ok)]
    pub status: &'static str,
    #[schema(schema_with = crate::http::openapi::ok)]
    pub database: &'static str,
    /// Books the database holds, counted now.
    pub books: u64,
    /// When the data was scraped (RFC 3339, UTC); null if the database does not say.
    #[schema(required = true, format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub scraped_at: Option<String>,
    /// The API's version.
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
