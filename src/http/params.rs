//! Query strings parsed at the edge into typed parameters. Anything malformed,
//! out of range, unknown or repeated is an [`ApiError::InvalidParameter`]
//! naming the parameter and what is allowed. An empty value means absent, as
//! HTML forms send empty fields. [`Query`] is the axum extractor.
//!
//! Written by hand rather than with `serde_urlencoded` because each failure
//! must name its parameter and say what is allowed (serde's errors name
//! neither), and a repeated parameter must be refused rather than merged.

use std::str::FromStr;

use axum::extract::FromRequestParts;
use http::request::Parts;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

use crate::domain::{BookId, Price, Rating, category_slug};
use crate::http::error::{ApiError, echo};
use crate::store::query::{BookQuery, Order, SortKey};

/// Default and largest `per_page`. 1000 lets one request fetch the catalogue.
pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 1000;
/// Longest accepted free-text value (title, q, category), in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The decoded `name=value` pairs of a query string, checked against the
/// names an endpoint accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes `raw` (without the `?`). Every name must be in `allowed` and
    /// appear at most once.
    pub fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if !allowed.contains(&name.as_ref()) {
                let shown = echo(&name);
                let detail = if allowed.is_empty() {
                    format!("unknown parameter {shown:?}; this endpoint takes no parameters")
                } else {
                    format!(
                        "unknown parameter {shown:?}; allowed: {}",
                        allowed.join(", ")
                    )
                };
                return Err(ApiError::invalid(&name, detail));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(ApiError::invalid(
                    &name,
                    format!("parameter {:?} is given more than once", echo(&name)),
                ));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(QueryParams { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs sorted by name: the same request however its query was written.
    pub fn canonical(&self) -> String {
        let mut pairs: Vec<_> = self.pairs.iter().collect();
        pairs.sort();
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// `name` parsed with `parse`, or `None` when absent. An empty value is
    /// treated as absent, as HTML forms send empty fields.
    fn parsed<T>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(value) => parse(value)
                .map(Some)
                .map_err(|d| ApiError::invalid(name, d)),
        }
    }

    fn text(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.parsed(name, |value| {
            if value.chars().any(char::is_control) {
                return Err(format!("{name} must not contain control characters"));
            }
            let value = value.trim();
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(format!(
                    "{name} must be at most {MAX_TEXT_CHARS} characters"
                ));
            }
            Ok(value.to_owned())
        })
        .map(|v| v.filter(|s| !s.is_empty()))
    }

    fn price(&self, name: &str) -> Result<Option<Price>, ApiError> {
        self.parsed(name, |value| {
            Price::parse_gbp(value).map_err(|_| {
                format!("{name} must be a non-negative amount in GBP with at most two decimals, e.g. 12.5; got {:?}", echo(value))
            })
        })
    }

    fn integer(&self, name: &str, min: u32, max: u32, default: u32) -> Result<u32, ApiError> {
        let parsed = self.parsed(name, |value| {
            u32::from_str(value)
                .ok()
                .filter(|n| (min..=max).contains(n) && value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!(
                        "{name} must be an integer from {min} to {max}; got {:?}",
                        echo(value)
                    )
                })
        })?;
        Ok(parsed.unwrap_or(default))
    }

    fn choice<T: Copy>(&self, name: &str, choices: &[(&str, T)]) -> Result<Option<T>, ApiError> {
        self.parsed(name, |value| {
            choices
                .iter()
                .find(|(word, _)| word.eq_ignore_ascii_case(value))
                .map(|(_, choice)| *choice)
                .ok_or_else(|| {
                    let words: Vec<_> = choices.iter().map(|(w, _)| *w).collect();
                    format!(
                        "{name} must be one of {}; got {:?}",
                        words.join(", "),
                        echo(value)
                    )
                })
        })
    }
}

/// `page` and `per_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub page: u32,
    pub per_page: u32,
}

impl Pagination {
    pub const PARAMS: [&'static str; 2] = ["page", "per_page"];

    pub fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(Pagination {
            page: query.integer("page", 1, u32::MAX, 1)?,
            per_page: query.integer("per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE)?,
        })
    }

    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    pub fn total_pages(self, total: u64) -> u64 {
        total.div_ceil(u64::from(self.per_page))
    }
}

const SORT_KEYS: [(&str, SortKey); 5] = [
    ("id", SortKey::Id),
    ("title", SortKey::Title),
    ("price", SortKey::Price),
    ("rating", SortKey::Rating),
    ("stock", SortKey::Stock),
];
const ORDERS: [(&str, Order); 2] = [("asc", Order::Asc), ("desc", Order::Desc)];

/// The id of `/books/{id}`. The path's segment is the id. Vercel also
/// passes it as `?id=` (and may invoke the function at its file's own path,
/// `/books/[id]`, where the query is all there is); an `id` query that
/// disagrees with the path is refused rather than silently preferred.
pub fn book_id(query_id: Option<&str>, path_segment: &str) -> Result<BookId, ApiError> {
    let parse = |raw: &str| {
        raw.parse::<BookId>().map_err(|_| {
            ApiError::invalid(
                "id",
                format!(
                    "id must be a positive integer up to {}; got {:?}",
                    u32::MAX,
                    echo(raw)
                ),
            )
        })
    };
    let query_id = query_id.filter(|q| !q.is_empty());
    if path_segment.is_empty() || path_segment == "[id]" {
        return parse(query_id.unwrap_or(""));
    }
    let id = parse(path_segment)?;
    match query_id {
        Some(raw) if parse(raw)? != id => Err(ApiError::invalid(
            "id",
            format!(
                "the id query ({:?}) disagrees with the id in the path ({id}); give the id once, in the path",
                echo(raw)
            ),
        )),
        _ => Ok(id),
    }
}

/// The parameters of one endpoint, parsed from its query.
pub trait FromQuery: Sized {
    /// The parameter names the endpoint accepts.
    const ALLOWED: &'static [&'static str];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError>;
}

/// The extractor: the checked [`QueryParams`] and what `T` made of them.
#[derive(Debug, Clone)]
pub struct Query<T> {
    pub params: T,
    pub raw: QueryParams,
}

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let raw = QueryParams::parse(parts.uri.query(), T::ALLOWED)?;
        Ok(Query {
            params: T::from_query(&raw)?,
            raw,
        })
    }
}

/// For endpoints that take no parameters.
#[derive(Debug, Clone, Copy)]
pub struct NoParams;

impl FromQuery for NoParams {
    const ALLOWED: &'static [&'static str] = &[];
    fn from_query(_: &QueryParams) -> Result<Self, ApiError> {
        Ok(NoParams)
    }
}

/// `/books/{id}`'s one query parameter, the id Vercel repeats as `?id=`.
#[derive(Debug, Clone)]
pub struct BookIdQuery(pub Option<String>);

impl FromQuery for BookIdQuery {
    const ALLOWED: &'static [&'static str] = &["id"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(BookIdQuery(query.get("id").map(str::to_owned)))
    }
}

/// Documented as the path parameter it repeats: the path is where a client
/// gives the id.
impl IntoParams for BookIdQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let id = integer(1, u32::MAX).build();
        vec![
            ParameterBuilder::new()
                .name(Self::ALLOWED[0])
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some(
                    "The site's own numeric id of the book (from its product URL). \
                     An `id` query that disagrees with the path is refused.",
                ))
                .schema(Some(id))
                .example(Some(json!(1)))
                .build(),
        ]
    }
}

/// A list endpoint's request: which books, which page.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub query: BookQuery,
    pub page: Pagination,
}

/// A list endpoint's parameter type: its names, its parser and its OpenAPI
/// description, which documents exactly the names it accepts (`ALLOWED`).
/// `$sort` is the sort its parser falls back to.
macro_rules! list_params {
    ($(#[$doc:meta])* $name:ident, $allowed:expr, $build:path, sort: $sort:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub ListRequest);

        impl FromQuery for $name {
            const ALLOWED: &'static [&'static str] = $allowed;
            fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
                let (q, page) = $build(query)?;
                Ok($name(ListRequest { query: q, page }))
            }
        }

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                Self::ALLOWED
                    .iter()
                    .map(|name| query_parameter(name, Self::ALLOWED, $sort))
                    .collect()
            }
        }
    };
}

list_params!(
    /// `/books`: filters, sort and order.
    BooksParams,
    BookListParams::BOOKS,
    BookListParams::books,
    sort: "id"
);
list_params!(
    /// `/books/search`.
    SearchParams,
    BookListParams::SEARCH,
    BookListParams::search,
    sort: "id"
);
list_params!(
    /// `/books/top-rated`.
    TopRatedParams,
    BookListParams::TOP_RATED,
    BookListParams::top_rated,
    sort: "id"
);
list_params!(
    /// `/books/price-range`.
    PriceRangeParams,
    BookListParams::PRICE_RANGE,
    BookListParams::price_range,
    sort: "price"
);

/// The OpenAPI description of the query parameter `name` of an endpoint
/// that accepts `allowed` and sorts by `default_sort` unless told: its
/// limits, defaults and choices are the parsers' own constants. A name
/// this table does not know gets no description (a test refuses that).
fn query_parameter(name: &str, allowed: &[&str], default_sort: &str) -> Parameter {
    // On /books/price-range, min_price/max_price are aliases of min/max.
    let aliases = allowed.contains(&"min");
    let price = |about: &str, example: Option<u32>| {
        (
            format!("{about} In GBP, at most two decimals (`12.5`, `12.50`)."),
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0)),
            example.map(|e| json!(e)),
        )
    };
    let words = |choices: &[&str]| choices.iter().map(|w| json!(w)).collect::<Vec<_>>();
    let (about, schema, example): (String, ObjectBuilder, Option<Value>) = match name {
        "page" => (
            "The page to return, from 1. Past the last page the list is empty.".into(),
            integer(1, u32::MAX).default(Some(json!(1))),
            Some(json!(1)),
        ),
        "per_page" => (
            format!("Items per page, 1 to {MAX_PER_PAGE}."),
            integer(1, MAX_PER_PAGE).default(Some(json!(DEFAULT_PER_PAGE))),
            Some(json!(DEFAULT_PER_PAGE)),
        ),
        "category" => text(
            "A category, by name or slug, case-insensitively (`Poetry`, `historical-fiction`).",
            "poetry",
        ),
        "title" => text(
            "A case-insensitive substring of the title; `%` and `_` are literal.",
            "attic",
        ),
        "q" => text(
            "Full-text search over title and description: every word must match, the last one as a prefix.",
            "light",
        ),
        "min_price" if aliases => price("Alias of `min`: give one or the other.", None),
        "max_price" if aliases => price("Alias of `max`: give one or the other.", None),
        "min_price" | "min" => price("Lowest price, inclusive.", Some(10)),
        "max_price" => price("Highest price, inclusive; not below `min_price`.", Some(50)),
        "max" => price("Highest price, inclusive; not below `min`.", Some(20)),
        "min_rating" => (
            "Only books rated at least this many stars.".into(),
            integer(1, 5),
            Some(json!(3)),
        ),
        "in_stock" => (
            "`true` for books in stock only, `false` for books out of stock only (`1`/`0` also accepted).".into(),
            ObjectBuilder::new().schema_type(Type::Boolean),
            Some(json!(true)),
        ),
        "sort" => (
            "The sort key (case-insensitive); ties are broken by id, ascending.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words(&SORT_KEYS.map(|(word, _)| word))))
                .default(Some(json!(default_sort))),
            Some(json!(if default_sort == "price" { "rating" } else { "price" })),
        ),
        "order" => (
            "The sort direction (case-insensitive).".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words(&ORDERS.map(|(word, _)| word))))
                .default(Some(json!("asc"))),
            Some(json!("desc")),
        ),
        _ => (String::new(), ObjectBuilder::new(), None),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(format!(
            "{about} An empty value means absent (`?{name}=`)."
        )))
        .schema(Some(schema.build()))
        .example(example)
        .build()
}

fn integer(min: u32, max: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
}

/// A free-text parameter, as [`QueryParams::text`] checks it.
fn text(about: &str, example: &str) -> (String, ObjectBuilder, Option<Value>) {
    (
        format!("{about} At most {MAX_TEXT_CHARS} characters; control characters are refused."),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_TEXT_CHARS)),
        Some(json!(example)),
    )
}

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
    ];
    /// `/books/search`.
    pub const SEARCH: &'static [&'static str] = &["page", "per_page", "title", "category", "q"];
    /// `/books/top-rated`.
    pub const TOP_RATED: &'static [&'static str] = &["page", "per_page", "category"];
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
    ];

    pub fn books(query: &QueryParams) -> Result<(BookQuery, Pagination), ApiError> {
        let page = Pagination::from_query(query)?;
        let mut q = paged(page);
        q.category_slug = category(query)?;
        q.min_price = query.price("min_price")?;
        q.max_price = query.price("max_price")?;
        check_range(q.min_price, q.max_price, "min_price", "max_price")?;
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
            let expression = fts_expression(&text).ok_or_else(|| {
                ApiError::invalid("q", "q must contain at least one letter or digit")
            })?;
            q.full_text = Some(expression);
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
        if let (Some((low, low_name)), Some((high, high_name))) = (min, max) {
            check_range(Some(low), Some(high), low_name, high_name)?;
        }
        let (min, max) = (min.map(|(p, _)| p), max.map(|(p, _)| p));
        q.min_price = min;
        q.max_price = max;
        q.sort = query.choice("sort", &SORT_KEYS)?.unwrap_or(SortKey::Price);
        q.order = query.choice("order", &ORDERS)?.unwrap_or(Order::Asc);
        Ok((q, page))
    }
}

/// A price bound given as `name` or its `alias` (not both), with the name used.
fn price_bound(
    query: &QueryParams,
    name: &'static str,
    alias: &'static str,
) -> Result<Option<(Price, &'static str)>, ApiError> {
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
    min: Option<Price>,
    max: Option<Price>,
    min_name: &str,
    max_name: &str,
) -> Result<(), ApiError> {
    match (min, max) {
        (Some(min), Some(max)) if min > max => Err(ApiError::invalid(
            min_name,
            format!("{min_name} ({min}) must not be greater than {max_name} ({max})"),
        )),
        _ => Ok(()),
    }
}

/// Turns free text into a safe FTS5 expression: every word quoted (so FTS5
/// operators and punctuation are plain text), all required, the last one a
/// prefix so a query typed so far already matches. `None` when no word is left.
pub fn fts_expression(text: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(32)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut expression: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    expression.push(format!("\"{last}\"*"));
    Some(expression.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: &str, allowed: &[&str]) -> Result<QueryParams, ApiError> {
        QueryParams::parse(Some(raw), allowed)
    }

    #[test]
    fn unknown_and_repeated_names_are_rejected() {
        assert!(q("pgae=2", &["page"]).is_err());
        assert!(q("page=1&page=2", &["page"]).is_err());
        assert!(q("page=2", &["page"]).is_ok());
        assert!(q("", &[]).is_ok());
    }

    #[test]
    fn pagination_limits() {
        let page = |raw| Pagination::from_query(&q(raw, &Pagination::PARAMS).unwrap());
        assert_eq!(
            page("").unwrap(),
            Pagination {
                page: 1,
                per_page: 20
            }
        );
        assert!(page("page=0").is_err());
        assert!(page("page=abc").is_err());
        assert!(page("page=-1").is_err());
        assert!(page("page=+1").is_err());
        assert!(page("per_page=0").is_err());
        assert!(page("per_page=1001").is_err());
        assert_eq!(page("per_page=1000").unwrap().per_page, 1000);
        assert_eq!(page("page=3&per_page=20").unwrap().offset(), 40);
    }

    #[test]
    fn the_path_id_wins_and_a_disagreeing_query_is_refused() {
        let id = |q: Option<&str>, p: &str| book_id(q, p).map(|id| id.to_string());
        assert_eq!(id(None, "5").unwrap(), "5");
        assert_eq!(id(Some("5"), "5").unwrap(), "5");
        assert_eq!(id(Some(""), "5").unwrap(), "5");
        assert_eq!(id(Some("5"), "[id]").unwrap(), "5");
        assert!(id(Some("5"), "1").is_err());
        assert!(id(Some("abc"), "1").is_err());
        assert!(id(None, "[id]").is_err());
        assert!(id(None, "abc").is_err());
    }

    #[test]
    fn fts_expressions_are_quoted_words() {
        assert_eq!(
            fts_expression("light attic").unwrap(),
            "\"light\" \"attic\"*"
        );
        assert_eq!(fts_expression("\" OR NEAR(").unwrap(), "\"OR\" \"NEAR\"*");
        assert_eq!(fts_expression("--- !!"), None);
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
    }
}
