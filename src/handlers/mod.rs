//! One function per endpoint: the store and typed parameters in, a
//! serialisable value or an [`ApiError`](crate::http::ApiError) out. No HTTP here.

pub mod books;
pub mod categories;
pub mod health;
pub mod ml;
pub mod ml_features;
pub mod stats;

use serde::Serialize;
use utoipa::ToSchema;

/// The envelope of every paginated list (DESIGN.md §4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// This page, from 1.
    #[schema(minimum = 1)]
    pub page: u32,
    #[schema(schema_with = crate::http::openapi::per_page)]
    pub per_page: u32,
    /// Items over all pages.
    pub total: u64,
    pub total_pages: u64,
}
