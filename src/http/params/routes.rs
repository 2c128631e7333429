//! The per-route parameter types: what each endpoint accepts, its limits
//! and choices (which `docs` describes), and how its query becomes typed
//! values.

use std::str::FromStr;

use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterIn};

use super::{BookListParams, FromQuery, QueryParams, docs};
use crate::domain::{BookId, Decimal};
use crate::http::error::ApiError;
use crate::ml::dataset::{self, Column};
use crate::ml::split::{Split, SplitRule};
use crate::services::books::{DEFAULT_SIMILAR_LIMIT, FieldSet, MAX_SIMILAR_LIMIT};
use crate::services::ml::TrainingSelection;
use crate::services::page::{DEFAULT_PER_PAGE, MAX_PER_PAGE, Pagination};
use crate::store::query::{BookQuery, Order, SortKey};
use crate::text::echo;

/// `page` and `per_page`, the parameters of every paginated list.
impl FromQuery for Pagination {
    const ALLOWED: &'static [&'static str] = &["page", "per_page"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(Pagination {
            page: query.integer("page", 1, u32::MAX, 1)?,
            per_page: query.integer("per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE)?,
        })
    }
}

pub(super) const SORT_KEYS: [(&str, SortKey); 5] = [
    ("id", SortKey::Id),
    ("title", SortKey::Title),
    ("price", SortKey::Price),
    ("rating", SortKey::Rating),
    ("stock", SortKey::Stock),
];
pub(super) const ORDERS: [(&str, Order); 2] = [("asc", Order::Asc), ("desc", Order::Desc)];

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

/// `/books/{id}`'s one query parameter, the id Vercel repeats as `?id=`.
#[derive(Debug, Clone)]
pub struct BookIdQuery(pub Option<String>);

impl FromQuery for BookIdQuery {
    const ALLOWED: &'static [&'static str] = &["id"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(BookIdQuery(query.get("id").map(str::to_owned)))
    }
}

/// `/books/{id}/similar`: the id Vercel repeats as `?id=`, and how many
/// neighbours to return.
#[derive(Debug, Clone)]
pub struct SimilarParams {
    pub id: Option<String>,
    pub limit: u32,
}

impl SimilarParams {
    /// The default `limit`; the largest is every neighbour stored per book.
    pub const DEFAULT_LIMIT: u32 = DEFAULT_SIMILAR_LIMIT;
    pub const MAX_LIMIT: u32 = MAX_SIMILAR_LIMIT;
}

impl FromQuery for SimilarParams {
    const ALLOWED: &'static [&'static str] = &["id", "limit"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        Ok(SimilarParams {
            id: query.get("id").map(str::to_owned),
            limit: query.integer("limit", 1, Self::MAX_LIMIT, Self::DEFAULT_LIMIT)?,
        })
    }
}

/// `/ml/predictions`' `top`: how many ranked categories each prediction
/// lists (capped at the model's class count).
#[derive(Debug, Clone, Copy)]
pub struct TopParams(pub u32);

/// The largest `top`.
pub const MAX_TOP: u32 = 50;

impl FromQuery for TopParams {
    const ALLOWED: &'static [&'static str] = &["top"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        let default = crate::services::ml::DEFAULT_TOP;
        Ok(TopParams(query.integer("top", 1, MAX_TOP, default)?))
    }
}

/// The representation `/ml/training-data` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    Json,
    Csv,
}

impl DataFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFormat::Json => "json",
            DataFormat::Csv => "csv",
        }
    }
}

pub(crate) const DATA_FORMATS: [(&str, DataFormat); 2] =
    [("json", DataFormat::Json), ("csv", DataFormat::Csv)];
pub(crate) const SPLITS: [(&str, Split); 3] = [
    ("all", Split::All),
    ("train", Split::Train),
    ("test", Split::Test),
];
/// The largest seed: every integer up to it is exact in JSON (and JavaScript).
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// `/ml/training-data`'s parameters: what to select, and how to write it.
#[derive(Debug, Clone)]
pub struct TrainingDataParams {
    pub selection: TrainingSelection,
    /// `None`: chosen by `Accept`.
    pub format: Option<DataFormat>,
}

impl FromQuery for TrainingDataParams {
    const ALLOWED: &'static [&'static str] = &["split", "test_size", "seed", "columns", "format"];
    fn from_query(query: &QueryParams) -> Result<Self, ApiError> {
        let test_size = query.parsed("test_size", |value| {
            // Strictly between 0 and 1, read exactly: 0.99999999999999999
            // is a share (its nearest f64 is 1, every book on the test side).
            Decimal::parse(value)
                .filter(|n| !n.is_negative() && n.floor_scaled(0) == 0 && n.ceil_scaled(0) == 1)
                .map(|number| number.approximate())
                .ok_or_else(|| {
                    format!(
                        "test_size must be a number strictly between 0 and 1, e.g. 0.2; got {:?}",
                        echo(value)
                    )
                })
        })?;
        let seed = query.parsed("seed", |value| {
            u64::from_str(value)
                .ok()
                .filter(|n| *n <= MAX_SEED && value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!(
                        "seed must be an integer from 0 to {MAX_SEED}; got {:?}",
                        echo(value)
                    )
                })
        })?;
        let columns = query
            .parsed("columns", parse_columns)?
            .unwrap_or_else(dataset::all_columns);
        let default = SplitRule::default();
        Ok(TrainingDataParams {
            selection: TrainingSelection {
                split: query.choice("split", &SPLITS)?.unwrap_or(Split::All),
                rule: SplitRule {
                    seed: seed.unwrap_or(default.seed),
                    test_size: test_size.unwrap_or(default.test_size),
                },
                columns,
            },
            format: query.choice("format", &DATA_FORMATS)?,
        })
    }
}

/// A comma-separated list of known column names, each at most once.
fn parse_columns(value: &str) -> Result<Vec<Column>, String> {
    let mut columns: Vec<Column> = Vec::new();
    for name in value.split(',').map(str::trim) {
        let column = dataset::column(name).ok_or_else(|| {
            let names: Vec<&str> = dataset::all_columns()
                .into_iter()
                .map(Column::name)
                .collect();
            format!(
                "columns: unknown column {:?}; known: {}",
                echo(name),
                names.join(", ")
            )
        })?;
        if columns.iter().any(|c| c.name() == column.name()) {
            return Err(format!("columns: {name:?} is listed twice"));
        }
        columns.push(column);
    }
    Ok(columns)
}

/// A list endpoint's request: which books, which page.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub query: BookQuery,
    pub page: Pagination,
    /// What each book shows.
    pub fields: FieldSet,
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
                let fields = super::lists::fields(query)?;
                Ok($name(ListRequest { query: q, page, fields }))
            }
        }

        impl IntoParams for $name {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                Self::ALLOWED
                    .iter()
                    .map(|name| docs::query_parameter(name, Self::ALLOWED, $sort))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::similar::NEIGHBOURS;

    fn q(raw: &str, allowed: &[&str]) -> Result<QueryParams, ApiError> {
        QueryParams::parse(Some(raw), allowed)
    }

    #[test]
    fn pagination_limits() {
        let page = |raw| Pagination::from_query(&q(raw, Pagination::ALLOWED).unwrap());
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
    fn similar_limit_is_one_to_the_stored_neighbours() {
        let limit = |raw| {
            SimilarParams::from_query(&q(raw, SimilarParams::ALLOWED).unwrap()).map(|p| p.limit)
        };
        assert_eq!(limit("").unwrap(), 5);
        assert_eq!(limit("limit=1").unwrap(), 1);
        assert_eq!(limit("limit=20").unwrap(), 20);
        for bad in [
            "limit=",
            "limit=0",
            "limit=21",
            "limit=-1",
            "limit=+3",
            "limit=2.0",
            "limit=x",
        ] {
            assert!(limit(bad).is_err(), "{bad}");
        }
        assert_eq!(SimilarParams::MAX_LIMIT as usize, NEIGHBOURS);
    }
}
