//! Schema pieces the services' views share and derive cannot infer.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{ObjectBuilder, Type};

/// A string that is always `value`.
pub fn constant(value: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
        .build()
}

/// `currency`: the ISO 4217 code of every price.
pub fn gbp() -> Object {
    let mut schema = constant("GBP");
    schema.description = Some("ISO 4217 code of every price.".into());
    schema
}
