//! The whole-catalogue figures the store computes once per database: the
//! categories, their statistics and the overview.

use crate::domain::Price;

/// A category and how many books it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CategorySummary {
    #[schema(examples("Historical Fiction"))]
    pub name: String,
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", examples("historical-fiction"))]
    pub slug: String,
    pub book_count: u32,
}

/// Per-category figures for `/stats/categories`. Prices in pence.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryStats {
    pub name: String,
    pub slug: String,
    pub book_count: u32,
    pub average_price_pence: f64,
    pub min_price: Price,
    pub max_price: Price,
    pub average_rating: f64,
    pub total_stock: u64,
}

/// Catalogue-wide figures for `/stats/overview`.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub total_books: u64,
    pub total_categories: u64,
    pub average_price_pence: f64,
    pub min_price: Price,
    pub max_price: Price,
    pub median_price_pence: f64,
    /// Books per rating, index 0 for one star.
    pub rating_distribution: [u64; 5],
    pub average_rating: f64,
    pub books_in_stock: u64,
    pub total_stock: u64,
}
