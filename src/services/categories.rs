//! `/categories`: every category with its book count.

use serde::Serialize;
use utoipa::ToSchema;

use super::ServiceError;
use crate::store::Store;
use crate::store::summary::CategorySummary;

/// Not paginated: the catalogue has a few dozen categories.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategorySummary>,
    pub total: usize,
}

pub fn categories(store: &Store) -> Result<CategoryList, ServiceError> {
    let items = store.categories()?;
    Ok(CategoryList {
        total: items.len(),
        items,
    })
}
