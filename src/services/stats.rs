//! `/stats/overview` and `/stats/categories`: figures over the catalogue.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::Object;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};

use super::ServiceError;
use super::schema::Currency;
use crate::domain::{Decimal2, Price, named_schema};
use crate::store::Store;

/// Catalogue-wide figures. Prices in GBP.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OverviewView {
    pub total_books: u64,
    pub total_categories: u64,
    /// Mean price.
    pub average_price: Decimal2,
    /// Lowest price.
    pub min_price: Price,
    /// Highest price.
    pub max_price: Price,
    /// Median price.
    pub median_price: Decimal2,

    /// Books per star rating, keyed "1" to "5".
    #[schema(value_type = RatingDistribution)]
    pub rating_distribution: BTreeMap<String, u64>,
    /// Mean stars, two decimals.
    #[schema(value_type = f64, minimum = 0, maximum = 5)]
    pub average_rating: Decimal2,
    pub books_in_stock: u64,
    pub total_stock: u64,
    #[schema(value_type = Currency)]
    pub currency: &'static str,
    /// When the data was scraped (RFC 3339, UTC); null if the database does not say.
    #[schema(required = true, format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub scraped_at: Option<String>,
}

/// Figures for one category. Prices in GBP.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryStatsView {
    pub name: String,
    pub slug: String,
    pub book_count: u32,
    /// Mean price.
    pub average_price: Decimal2,
    /// Lowest price.
    pub min_price: Price,
    /// Highest price.
    pub max_price: Price,
    /// Mean stars, two decimals.
    #[schema(value_type = f64, minimum = 0, maximum = 5)]
    pub average_rating: Decimal2,
    pub total_stock: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryStatsList {
    pub items: Vec<CategoryStatsView>,
    pub total: usize,
    #[schema(value_type = Currency)]
    pub currency: &'static str,
}

fn pounds(pence: f64) -> Decimal2 {
    Decimal2(pence / 100.0)
}

pub fn overview(store: &Store) -> Result<OverviewView, ServiceError> {
    let o = store.overview()?;
    Ok(OverviewView {
        total_books: o.total_books,
        total_categories: o.total_categories,
        average_price: pounds(o.average_price_pence),
        min_price: o.min_price,
        max_price: o.max_price,
        median_price: pounds(o.median_price_pence),
        rating_distribution: (1..=5)
            .zip(o.rating_distribution)
            .map(|(stars, count)| (stars.to_string(), count))
            .collect(),
        average_rating: Decimal2(o.average_rating),
        books_in_stock: o.books_in_stock,
        total_stock: o.total_stock,
        currency: "GBP",
        scraped_at: store.scraped_at().map(str::to_owned),
    })
}

pub fn categories(store: &Store) -> Result<CategoryStatsList, ServiceError> {
    let items: Vec<_> = store
        .category_stats()?
        .into_iter()
        .map(|c| CategoryStatsView {
            name: c.name,
            slug: c.slug,
            book_count: c.book_count,
            average_price: pounds(c.average_price_pence),
            min_price: c.min_price,
            max_price: c.max_price,
            average_rating: Decimal2(c.average_rating),
            total_stock: c.total_stock,
        })
        .collect();
    Ok(CategoryStatsList {
        total: items.len(),
        items,
        currency: "GBP",
    })
}

named_schema!(
    /// Books per star rating: exactly the keys "1" to "5".
    RatingDistribution => rating_distribution()
);

fn rating_distribution() -> Object {
    let count = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .build();
    let mut schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("Books per star rating."));
    for stars in ["1", "2", "3", "4", "5"] {
        schema = schema.property(stars, count.clone()).required(stars);
    }
    schema
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .build()
}
