//! The list endpoints' parameters: each endpoint's accepted names and how
//! they become a [`BookQuery`] and a page.

use super::{FromQuery, ORDERS, QueryParams, SORT_KEYS};
use crate::domain::{PriceBound, Rating, category_slug};
use crate::http::error::ApiError;
use crate::services::books::{BookField, FieldSet};
use crate::services::page::Pagination;
use crate::store::query::{BookQuery, Order, SortKey};
use crate::text::echo;

/// Builds the [`BookQuery`] for each list endpoint from its parameters.
pub struct BookListParams;

impl BookListParams {
    /// `/books`: filters, sort and order.
    pub const BOOKS: &'static [&'static str] = &[
        "page",
        "per_page",
        "category",
        "min_price",
        "max_price",
        "min_rating",
        "in_stock",
        "sort",
        "order",
        "fields",
    ];
    /// `/books/search`.
    pub const SEARCH: &'static [&'static str] =
        &["page", "per_page", "title", "category", "q", "fields"];
    /// `/books/top-rated`.
    pub const TOP_RATED: &'static [&'static str] = &["page", "per_page", "category", "fields"];
    /// `/books/price-range`: `min_price`/`max_price` are aliases of `min`/`max`.
    pub const PRICE_RANGE: &'static [&'static str] = &[
        "page",
        "per_page",
        "min",
        "max",
        "min_price",
        "max_price",
        "sort",
        "order",
        "fields",
    ];

    pub fn books(query: &QueryParams) -> Result<(BookQuery, Pagination), ApiError> {
        let page = Pagination::from_query(query)?;
        let mut q = paged(page);
        q.category_slug = category(query)?;
        let min = query.price("min_price")?;
        let max = query.price("max_price")?;
        check_range(min.as_ref(), max.as_ref(), "min_price", "max_price")?;
        q.min_price = min.map(|bound| bound.lowest_price());
        q.max_price = max.map(|bound| bound.highest_price());
        q.min_rating = query.parsed("min_rating", |v| {
            v.parse::<Rating>().map_err(|_| {
                format!(
                    "min_rating must be an integer from 1 to 5; got {:?}",
                    echo(v)
                )
            })
        })?;
        q.in_stock = query.choice(
            "in_stock",
            &[("true", true), ("false", false), ("1", true), ("0", false)],
        )?;
        q.sort = query.choice("sort", &SORT_KEYS)?.unwrap_or(SortKey::Id);
        q.order = query.choice("order", &ORDERS)?.unwrap_or(Order::Asc);
        Ok((q, page))
    }

    pub fn search(query: &QueryParams) -> Result<(BookQuery, Pagination), ApiError> {
        let page = Pagination::from_query(query)?;
        let mut q = paged(page);
        q.title_contains = query.text("title")?;
        q.category_slug = category(query)?;
        if let Some(text) = query.text("q")? {
            q.full_text = Some(fts_expression(&text));
            q.sort = SortKey::Relevance;
        }
        if q.title_contains.is_none() && q.category_slug.is_none() && q.full_text.is_none() {
            return Err(ApiError::BadRequest {
                detail: "give at least one of title, category or q".to_owned(),
            });
        }
        Ok((q, page))
    }

    pub fn top_rated(query: &QueryParams) -> Result<(BookQuery, Pagination), ApiError> {
        let page = Pagination::from_query(query)?;
        let mut q = paged(page);
        q.category_slug = category(query)?;
        q.sort = SortKey::Rating;
        q.order = Order::Desc;
        Ok((q, page))
    }

    pub fn price_range(query: &QueryParams) -> Result<(BookQuery, Pagination), ApiError> {
        let page = Pagination::from_query(query)?;
        let mut q = paged(page);
        let min = price_bound(query, "min", "min_price")?;
        let max = price_bound(query, "max", "max_price")?;
        if min.is_none() && max.is_none() {
            return Err(ApiError::BadRequest {
                detail: "give min, max or both (GBP, inclusive)".to_owned(),
            });
        }
        if let (Some((low, low_name)), Some((high, high_name))) = (&min, &max) {
            check_range(Some(low), Some(high), low_name, high_name)?;
        }
        q.min_price = min.map(|(bound, _)| bound.lowest_price());
        q.max_price = max.map(|(bound, _)| bound.highest_price());
        q.sort = query.choice("sort", &SORT_KEYS)?.unwrap_or(SortKey::Price);
        q.order = query.choice("order", &ORDERS)?.unwrap_or(Order::Asc);
        Ok((q, page))
    }
}

/// `fields`: the comma-separated names of the book fields each item shows
/// (repeats and order do not matter); every field when absent.
pub(super) fn fields(query: &QueryParams) -> Result<FieldSet, ApiError> {
    let fields = query.parsed("fields", |value| {
        value
            .split(',')
            .map(|name| {
                BookField::from_name(name).ok_or_else(|| {
                    let known: Vec<&str> = BookField::ALL.map(BookField::name).to_vec();
                    format!(
                        "fields: unknown field {:?}; known: {}",
                        echo(name),
                        known.join(", ")
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(FieldSet::of)
    })?;
    Ok(fields.unwrap_or(FieldSet::ALL))
}

/// A price bound given as `name` or its `alias` (not both), with the name used.
fn price_bound(
    query: &QueryParams,
    name: &'static str,
    alias: &'static str,
) -> Result<Option<(PriceBound, &'static str)>, ApiError> {
    match (query.price(name)?, query.price(alias)?) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            alias,
            format!("give {name} or its alias {alias}, not both"),
        )),
        (Some(price), None) => Ok(Some((price, name))),
        (None, Some(price)) => Ok(Some((price, alias))),
        (None, None) => Ok(None),
    }
}

fn paged(page: Pagination) -> BookQuery {
    let mut q = BookQuery::all(page.per_page);
    q.offset = page.offset();
    q
}

/// `category`, by name or slug, case-insensitively: both become the slug.
fn category(query: &QueryParams) -> Result<Option<String>, ApiError> {
    Ok(query.text("category")?.map(|name| category_slug(&name)))
}

fn check_range(
    min: Option<&PriceBound>,
    max: Option<&PriceBound>,
    min_name: &str,
    max_name: &str,
) -> Result<(), ApiError> {
    match (min, max) {
        (Some(min), Some(max)) if min.is_above(max) => Err(ApiError::invalid(
            min_name,
            format!("{min_name} ({min}) must not be greater than {max_name} ({max})"),
        )),
        _ => Ok(()),
    }
}

/// Turns free text into a safe FTS5 expression: every word quoted (so FTS5
/// operators and punctuation are plain text), all required, the last one a
/// prefix so a query typed so far already matches. Text with no letter or
/// digit has no word to find: it becomes the empty phrase, which matches no
/// book (a search for nothing finds nothing, rather than a 400 for text the
/// document allows).
pub fn fts_expression(text: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .collect();
    let Some((last, rest)) = words.split_last() else {
        return "\"\"".to_owned();
    };
    let mut expression: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    expression.push(format!("\"{last}\"*"));
    expression.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Price;

    fn q(raw: &str, allowed: &[&str]) -> Result<QueryParams, ApiError> {
        QueryParams::parse(Some(raw), allowed)
    }

    #[test]
    fn fts_expressions_are_quoted_words() {
        assert_eq!(fts_expression("light attic"), "\"light\" \"attic\"*");
        assert_eq!(fts_expression("\" OR NEAR("), "\"OR\" \"NEAR\"*");
        assert_eq!(fts_expression("--- !!"), "\"\"");
    }

    #[test]
    fn price_range_needs_a_bound_and_order() {
        let pr = |raw| BookListParams::price_range(&q(raw, BookListParams::PRICE_RANGE).unwrap());
        assert!(pr("").is_err());
        assert!(pr("min=10&max=5").is_err());
        assert!(pr("min=10&min_price=11").is_err());
        let (query, _) = pr("min_price=10&max=20").unwrap();
        assert_eq!(query.min_price, Some(Price::from_pence(1000)));
        assert_eq!(query.max_price, Some(Price::from_pence(2000)));
        // Bounds finer than a penny apply to whole pence; equal bounds are
        // a range, even when no whole penny lies in it.
        let (query, _) = pr("min=10.005&max=10.005").unwrap();
        assert_eq!(query.min_price, Some(Price::from_pence(1001)));
        assert_eq!(query.max_price, Some(Price::from_pence(1000)));
        assert!(pr("min=10.006&max=10.005").is_err());
    }
}
