//! The OpenAPI description of every query parameter, from the parsers' own
//! limits, defaults and choices, so the document cannot drift from them.

use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};

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
        "limit" => (
            format!(
                "How many similar books to return, best first: 1 to {}.",
                SimilarParams::MAX_LIMIT
            ),
            integer(1, SimilarParams::MAX_LIMIT)
                .default(Some(json!(SimilarParams::DEFAULT_LIMIT))),
            Some(json!(3)),
        ),
        "top" => (
            format!(
                "How many ranked categories each prediction lists, 1 to {MAX_TOP} (at most the model's class count)."
            ),
            integer(1, MAX_TOP).default(Some(json!(DEFAULT_TOP))),
            Some(json!(DEFAULT_TOP)),
        ),
        "split" => (
            "Which books: the whole catalogue, or one side of the train/test split.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words(&SPLITS.map(|(word, _)| word))))
                .default(Some(json!("all"))),
            Some(json!("train")),
        ),
        "test_size" => (
            "The test split's share of the books, strictly between 0 and 1 (at most 6 decimals). The default is the served model's.".into(),
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .exclusive_minimum(Some(0))
                .exclusive_maximum(Some(1))
                .default(Some(json!(DEFAULT_TEST_SIZE))),
            Some(json!(DEFAULT_TEST_SIZE)),
        ),
        "seed" => (
            "The split's seed. The default is the served model's.".into(),
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(MAX_SEED as f64))
                .default(Some(json!(DEFAULT_SEED))),
            Some(json!(DEFAULT_SEED)),
        ),
        "columns" => (
            "The columns to return, comma-separated, each once, in the order given. All of them when absent.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(comma_list_pattern(
                    &all_columns().into_iter().map(Column::name).collect::<Vec<_>>(),
                )))
                .enum_values(None::<Vec<Value>>),
            Some(json!("id,title,description,category")),
        ),
        "fields" => (
            "The fields each book shows, comma-separated (sparse fieldsets: a grid view needs `id,title,price,rating,image_url`). They keep a whole book's order; repeats do not matter. Every field when absent.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(comma_list_pattern(&BookField::ALL.map(BookField::name)))),
            Some(json!("id,title,price,rating,image_url")),
        ),
        "format" => (
            "`json`, or `csv` (RFC 4180, with a header row, as a download). When absent, `Accept: text/csv` asks for CSV.".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(words(&DATA_FORMATS.map(|(word, _)| word))))
                .default(Some(json!("json"))),
            Some(json!("json")),
        ),
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
    // An empty value means absent (as HTML forms send empty fields): said
    // in the schema too, as its first alternative.
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([""]));
    let schema = Schema::AnyOf(AnyOfBuilder::new().item(empty).item(schema).build());
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(format!(
            "{about} An empty value means absent (`?{name}=`)."
        )))
        .schema(Some(schema))
        .example(example)
        .build()
}

/// A comma-separated list of `names`.
fn comma_list_pattern(names: &[&str]) -> String {
    let name = names.join("|");
    // Empty is allowed: an empty value means absent.
    format!("^(({name})(,({name}))*)?$")
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
            .max_length(Some(MAX_TEXT_CHARS))
            // `char::is_control`: the C0 and C1 controls and DEL.
            .pattern(Some("^[^\\u0000-\\u001f\\u007f-\\u009f]*$")),
        Some(json!(example)),
    )
}
