//! Pages of a list: which page a caller asks for ([`Pagination`]) and the
//! envelope every paginated answer has ([`ListPage`], DESIGN.md §4).

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// Default and largest `per_page`. 1000 lets one request fetch the catalogue.
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 1000;

/// `page` (from 1) and `per_page` (1 to [`MAX_PER_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub page: u32,
    pub per_page: u32,
}

impl Pagination {
    /// The items before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// The pages `total` items fill.
    pub fn total_pages(self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.per_page))
    }
}

/// The envelope of every paginated list (DESIGN.md §4).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// This page, from 1.
    #[schema(minimum = 1)]
    pub page: u32,
    #[schema(schema_with = per_page)]
    pub per_page: u32,
    /// Items over all pages.
    pub total: u64,
    pub total_pages: u64,
}

/// A list's `per_page`, within the parser's limit.
fn per_page() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_PER_PAGE))
        .build()
}
