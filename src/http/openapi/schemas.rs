//! The schemas derive cannot infer, used by the response types' derives:
//! numbers serialised by hand with two decimals, constants, closed maps, and
//! the loose description of the document itself.

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Object, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::constant;
use crate::domain::{Decimal2, Price};
use crate::http::params::{MAX_PER_PAGE, SimilarParams};

/// A price or a derived figure: serialised by hand as a JSON number with
/// two decimals, which derive cannot see.
fn two_decimals(description: &str, example: f64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .description(Some(description))
        .examples([example])
        .into()
}

impl PartialSchema for Price {
    fn schema() -> RefOr<Schema> {
        two_decimals("An amount in GBP, written with two decimals.", 51.77)
    }
}

impl ToSchema for Price {}

impl PartialSchema for Decimal2 {
    fn schema() -> RefOr<Schema> {
        two_decimals(
            "A derived figure (an average, a median), written with two decimals.",
            35.07,
        )
    }
}

impl ToSchema for Decimal2 {}

/// `currency`: the ISO 4217 code of every price.
pub(crate) fn gbp() -> Object {
    let mut schema = constant("GBP");
    schema.description = Some("ISO 4217 code of every price.".into());
    schema
}

/// A list's `per_page`, within the parser's limit.
pub(crate) fn per_page() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_PER_PAGE))
        .build()
}

/// `/books/{id}/similar`'s `limit`, within the parser's limit.
pub(crate) fn similar_limit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(SimilarParams::MAX_LIMIT))
        .description(Some("The most items asked for (`limit`)."))
        .build()
}

/// `status` and `database` of a healthy instance.
pub(crate) fn ok() -> Object {
    constant("ok")
}

/// A problem's `type`: always `about:blank` (RFC 9457 §4.2.1).
pub(crate) fn about_blank() -> Object {
    let mut schema = constant("about:blank");
    schema.format = Some(utoipa::openapi::SchemaFormat::Custom(
        "uri-reference".into(),
    ));
    schema
}

/// Books per star rating: exactly the keys "1" to "5".
pub(crate) fn rating_distribution() -> Object {
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

// The 200 body of the OpenAPI route, described loosely: it is this very
// document, which `tests/it/openapi.rs` checks in full.
/// An OpenAPI 3.1 document (this one).
#[derive(ToSchema)]
#[allow(dead_code)] // Described, never built.
pub(crate) struct OpenApiDocument {
    #[schema(pattern = r"^3\.1\.[0-9]+$")]
    openapi: String,
    #[schema(value_type = Object)]
    info: (),
    #[schema(value_type = Object)]
    paths: (),
}
