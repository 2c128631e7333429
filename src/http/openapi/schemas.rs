//! The schemas of the HTTP layer's own types that derive cannot infer: a
//! problem's `type`, and the loose description of the document itself.

use utoipa::ToSchema;
use utoipa::openapi::Object;

use crate::services::schema::constant;

/// A problem's `type`: always `about:blank` (RFC 9457 §4.2.1).
pub(crate) fn about_blank() -> Object {
    let mut schema = constant("about:blank");
    schema.format = Some(utoipa::openapi::SchemaFormat::Custom(
        "uri-reference".into(),
    ));
    schema
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
