//! Query strings parsed at the edge into typed parameters. Anything malformed,
//! out of range, unknown or repeated is an [`ApiError::InvalidParameter`]
//! naming the parameter and what is allowed; so is an empty value (`?page=`):
//! a client leaves a parameter out for its default, and the document gives
//! every parameter its plain type. [`Query`] is the axum extractor.
//!
//! Written by hand rather than with `serde_urlencoded` because each failure
//! must name its parameter and say what is allowed (serde's errors name
//! neither), and a repeated parameter must be refused rather than merged.
//! `extract` holds that strict extractor ([`Query`], [`QueryParams`],
//! [`FromQuery`]); `routes` each endpoint's parameter type;
//! `lists` turns the list endpoints' parameters into a store query;
//! `docs` describes every parameter for OpenAPI from the same constants.
//!
//! [`ApiError::InvalidParameter`]: crate::http::error::ApiError::InvalidParameter

mod docs;
mod extract;
mod lists;
mod routes;

/// The named schemas of the one-word parameters, for the document's components.
pub(crate) use docs::components as parameter_schemas;
pub use extract::{FromQuery, MAX_TEXT_CHARS, NoParams, Query, QueryParams};
pub use lists::{BookListParams, fts_expression};
pub use routes::{
    BookIdQuery, BooksParams, DataFormat, ListRequest, MAX_SEED, MAX_TOP, PriceRangeParams,
    SearchParams, SimilarParams, TopParams, TopRatedParams, TrainingDataParams, book_id,
};
pub(crate) use routes::{DATA_FORMATS, SPLITS};
// The sort choices, for `lists` to parse and `docs` to describe.
use routes::{ORDERS, SORT_KEYS};
