//! One function per endpoint: the store and typed parameters in, a
//! serialisable value or an [`ApiError`](crate::http::ApiError) out. No HTTP here.

pub mod books;
pub mod categories;
pub mod health;
pub mod stats;

use serde::Serialize;

/// The envelope of every paginated list (DESIGN.md §4).
#[derive(Debug, Clone, Serialize)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
}
