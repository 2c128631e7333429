//! `/categories`: every category with its book count.

use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::store::Store;
use crate::store::query::CategorySummary;

/// Not paginated: the catalogue has a few dozen categories.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategorySummary>,
    pub total: usize,
}

pub fn categories(store: &Store) -> Result<CategoryList, ApiError> {
    let items = store.categories()?;
    Ok(CategoryList {
        total: items.len(),
        items,
    })
}
