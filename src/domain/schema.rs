//! Names for schemas that derive cannot name: a client generator names an
//! inline schema after where it appears (`HealthStatus`,
//! `CandidateType0Algorithm`, `GetOpenApiResponse200`), so every such
//! schema gets a type of its own, and with it a component of the document.

/// Declares `$name`, a type that stands for the schema `$schema` in the
/// OpenAPI document under its own name: a field says
/// `#[schema(value_type = $name)]` and the document refers to the component.
macro_rules! named_schema {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::RefOr::T(($schema).into())
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use named_schema;

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A string that is always `value`.
pub fn constant(value: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
        .build()
}

/// A string that is one of `values`, described.
pub fn one_of_words(values: &[&str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}
