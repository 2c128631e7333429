//! The OpenAPI description of every query parameter, from the parsers' own
//! limits, defaults and choices, so the document cannot drift from them.

use serde_json::{Value, json};
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};

use super::{
    BookIdQuery, DATA_FORMATS, FromQuery, MAX_SEED, MAX_TEXT_CHARS, MAX_TOP, ORDERS, SORT_KEYS,
    SPLITS, SimilarParams, TopParams, TrainingDataParams,
};
use crate::ml::dataset::{Column, all_columns};
use crate::ml::split::{DEFAULT_SEED, DEFAULT_TEST_SIZE};
use crate::services::books::BookField;
use crate::services::ml::DEFAULT_TOP;
use crate::services::page::{DEFAULT_PER_PAGE, MAX_PER_PAGE};

impl IntoParams for TrainingDataParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        Self::ALLOWED
            .iter()
            .map(|name| query_parameter(name, Self::ALLOWED, "id"))
            .collect()
    }
}

impl IntoParams for TopParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        Self::ALLOWED
            .iter()
            .map(|name| query_parameter(name, Self::ALLOWED, "id"))
            .collect()
    }
}

/// Documented as the path parameter it repeats: the path is where a client
/// gives the id.
impl IntoParams for BookIdQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_id()]
    }
}

/// The id, as for `/books/{id}`, then `limit`.
impl IntoParams for SimilarParams {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let limit = Self::ALLOWED[1];
        vec![path_id(), query_parameter(limit, Self::ALLOWED, "")]
    }
}

/// The `{id}` path parameter, which Vercel also passes as `?id=`.
fn path_id() -> Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(
            "The site's own numeric id of the book (from its product URL). \
             An `id` query that disagrees with the path is refused.",
        ))
        .schema(Some(integer(1, u32::MAX).build()))
        .example(Some(json!(1)))
        .build()
}

/// The OpenAPI description of the query parameter `name` of an endpoint
/// that accepts `allowed` and sorts by `default_sort` unless told: its
/// limits, defaults and choices are the parsers' own constants. A name
/// this table does not know gets no description (a test refuses that).
pub(super) fn query_parameter(name: &str, allowed: &[&str], default_sort: &str) -> Parameter {
    // On /books/price-range, min_price/max_price are aliases of min/max.
    let aliases = allowed.contains(&"min");
    let price = |about: &str, example: Option<u32>| {
        (
            format!(
                "{about} In GBP, any number from 0 (`12`, `12.5`). Prices are whole pence, \
                 so a bound between two pennies keeps the prices on its side of it."
            ),
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .minimum(Some(0))
                .into(),
            example.map(|e| json!(e)),
        )
    };
    let (about, schema, example): (String, RefOr<Schema>, Option<Value>) = match name {
        "page" => (
            "The page to return, from 1. Past the last page the list is empty.".into(),
            integer(1, u32::MAX).default(Some(json!(1))).into(),
            Some(json!(1)),
        ),
        "per_page" => (
            format!("Items per page, 1 to {MAX_PER_PAGE}."),
            integer(1, MAX_PER_PAGE)
                .default(Some(json!(DEFAULT_PER_PAGE)))
                .into(),
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
            "Full-text search over title and description: every word (a run of letters and digits) must match, the last one as a prefix. Text with no word matches no book.",
            "light",
        ),
        "min_price" if aliases => price("Alias of `min`: give one or the other.", None),
        "max_price" if aliases => price("Alias of `max`: give one or the other.", None),
        "min_price" | "min" => price("Lowest price, inclusive.", Some(10)),
        "max_price" => price("Highest price, inclusive; not below `min_price`.", Some(50)),
        "max" => price("Highest price, inclusive; not below `min`.", Some(20)),
        "limit" => (
            format!(
                "How many similar books to return, best first: 1 to {}.",
                SimilarParams::MAX_LIMIT
            ),
            integer(1, SimilarParams::MAX_LIMIT)
                .default(Some(json!(SimilarParams::DEFAULT_LIMIT)))
                .into(),
            Some(json!(3)),
        ),
        "top" => (
            format!(
                "How many ranked categories each prediction lists, 1 to {MAX_TOP} (at most the model's class count)."
            ),
            integer(1, MAX_TOP).default(Some(json!(DEFAULT_TOP))).into(),
            Some(json!(DEFAULT_TOP)),
        ),
        "split" => (
            "Which books: the whole catalogue, or one side of the train/test split.".into(),
            named::<components::Split>("all"),
            Some(json!("train")),
        ),
        "test_size" => (
            "The test split's share of the books, strictly between 0 and 1. The default is the served model's.".into(),
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .exclusive_minimum(Some(0))
                .exclusive_maximum(Some(1))
                .default(Some(json!(DEFAULT_TEST_SIZE)))
                .into(),
            Some(json!(DEFAULT_TEST_SIZE)),
        ),
        "seed" => (
            "The split's seed. The default is the served model's.".into(),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(MAX_SEED as f64))
                .default(Some(json!(DEFAULT_SEED)))
                .into(),
            Some(json!(DEFAULT_SEED)),
        ),
        "columns" => (
            "The columns to return, comma-separated, each once, in the order given. All of them when absent.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(comma_list_pattern(
                    &all_columns().into_iter().map(Column::name).collect::<Vec<_>>(),
                )))
                .into(),
            Some(json!("id,title,description,category")),
        ),
        "fields" => (
            "The fields each book shows, comma-separated (sparse fieldsets: a grid view needs `id,title,price,rating,image_url`). They keep a whole book's order; repeats do not matter. Every field when absent.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(comma_list_pattern(&BookField::ALL.map(BookField::name))))
                .into(),
            Some(json!("id,title,price,rating,image_url")),
        ),
        "format" => (
            "`json`, or `csv` (RFC 4180, with a header row, as a download). When absent, `Accept: text/csv` asks for CSV.".into(),
            named::<components::DataFormat>("json"),
            Some(json!("json")),
        ),
        "min_rating" => (
            "Only books rated at least this many stars.".into(),
            integer(1, 5).into(),
            Some(json!(3)),
        ),
        "in_stock" => (
            "`true` for books in stock only, `false` for books out of stock only (`1`/`0` also accepted).".into(),
            ObjectBuilder::new().schema_type(Type::Boolean).into(),
            Some(json!(true)),
        ),
        "sort" => (
            "The sort key (case-insensitive); ties are broken by id, ascending.".into(),
            named::<components::SortKey>(default_sort),
            Some(json!(if default_sort == "price" { "rating" } else { "price" })),
        ),
        "order" => (
            "The sort direction (case-insensitive).".into(),
            named::<components::SortOrder>("asc"),
            Some(json!("desc")),
        ),
        _ => (String::new(), ObjectBuilder::new().into(), None),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(format!(
            "{about} Leave it out for the default: an empty value (`?{name}=`) is refused."
        )))
        .schema(Some(schema))
        .example(example)
        .build()
}

/// A parameter whose values are the component `T`'s, with its default.
fn named<T: ToSchema>(default: &str) -> RefOr<Schema> {
    AllOfBuilder::new()
        .item(Ref::from_schema_name(T::name()))
        .default(Some(json!(default)))
        .into()
}

/// The choices of the parameters that take one word: components of their
/// own, so that a client generator names each once (`SortKey`, not
/// `ListBooksSortType1` and `ListBooksByPriceRangeSort`).
pub(crate) mod components {
    use super::{DATA_FORMATS, ORDERS, SORT_KEYS, SPLITS};
    use crate::domain::{named_schema, one_of_words};

    named_schema!(
        /// `sort`.
        SortKey => one_of_words(&SORT_KEYS.map(|(word, _)| word), "A sort key; ties are broken by id, ascending.")
    );
    named_schema!(
        /// `order`.
        SortOrder => one_of_words(&ORDERS.map(|(word, _)| word), "A sort direction.")
    );
    named_schema!(
        /// `split`.
        Split => one_of_words(&SPLITS.map(|(word, _)| word), "The whole catalogue, or one side of the train/test split.")
    );
    named_schema!(
        /// `format`.
        DataFormat => one_of_words(&DATA_FORMATS.map(|(word, _)| word), "A representation of the training data.")
    );
}

/// A comma-separated list of one or more `names`.
fn comma_list_pattern(names: &[&str]) -> String {
    let name = names.join("|");
    format!("^({name})(,({name}))*$")
}

fn integer(min: u32, max: u32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min))
        .maximum(Some(max))
}

/// A free-text parameter, as [`QueryParams::text`] checks it.
fn text(about: &str, example: &str) -> (String, RefOr<Schema>, Option<Value>) {
    (
        format!(
            "{about} 1 to {MAX_TEXT_CHARS} characters, not all spaces; control characters are refused."
        ),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_TEXT_CHARS))
            .pattern(Some(TEXT_PATTERN))
            .into(),
        Some(json!(example)),
    )
}

/// No control character (`char::is_control`: the C0 and C1 controls and
/// DEL), and at least one character that is not white space either
/// (`char::is_whitespace` beyond the controls: U+0020, U+00A0, U+1680,
/// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), as `trim` sees it.
const TEXT_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*\
    [^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]\
    [^\\u0000-\\u001f\\u007f-\\u009f]*$";
