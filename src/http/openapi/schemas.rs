//! The schemas of the HTTP layer's own types that derive cannot infer: a
//! problem's `type`, and the loose description of the document itself.

use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Object, Ref};

use crate::domain::{constant, named_schema};

named_schema!(
    /// A problem's `type`: always `about:blank` (RFC 9457 §4.2.1).
    ProblemType => about_blank()
);

fn about_blank() -> Object {
    let mut schema = constant("about:blank");
    schema.format = Some(utoipa::openapi::SchemaFormat::Custom(
        "uri-reference".into(),
    ));
    schema.description = Some("Always `about:blank`: the status says what went wrong.".into());
    schema
}

// The 200 body of the OpenAPI route, described loosely (open to the keys
// it does not name): it is this very document, which `tests/it/openapi.rs`
// checks in full.
named_schema!(
    /// An OpenAPI 3.1 document (this one).
    OpenApiDocument => ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("An OpenAPI 3.1 document (this one)."))
        .property(
            "openapi",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^3\.1\.[0-9]+$")),
        )
        .property("info", Ref::from_schema_name("OpenApiInfo"))
        .property("paths", Ref::from_schema_name("OpenApiPaths"))
        .required("openapi")
        .required("info")
        .required("paths")
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
);

named_schema!(
    /// The document's `info`: its title and version, and more.
    OpenApiInfo => open_object(&["title", "version"], "The API's title, version and description.")
);

named_schema!(
    /// The document's `paths`: one entry per path.
    OpenApiPaths => open_object(&[], "Every path of the API, each with its operations.")
);

/// An object with `required` string properties and any others.
fn open_object(required: &[&str], description: &str) -> Object {
    let mut object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)));
    for name in required {
        object = object
            .property(*name, ObjectBuilder::new().schema_type(Type::String))
            .required(*name);
    }
    object.build()
}
