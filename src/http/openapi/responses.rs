//! The document's shared responses (one per error status, and 304) and the
//! headers an answer carries, derived from the route table.

use utoipa::ToSchema;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Header, Object, Ref, Response, ResponseBuilder};

use super::conditional;
use crate::domain::constant;
use crate::http::endpoints::allowed_params;
use crate::http::error::Problem;
use crate::http::route::{CachePolicy, Route};

/// The headers of a successful answer of `route`.
pub(super) fn ok_headers(route: Route) -> Vec<(String, Header)> {
    let cache = route.cache_policy().cache_control();
    // In orchestrator mode the model card follows the model endpoint, whose
    // model changes without a deploy: it is revalidated instead.
    let cache_control = if route == Route::MlModel {
        header(
            "How the answer may be cached: `no-cache` in orchestrator mode (the served model changes without a deploy).",
            one_of(&[cache, CachePolicy::Revalidate.cache_control()]),
        )
    } else {
        header("How the answer may be cached.", constant(cache))
    };
    let mut headers = vec![
        ("Cache-Control", cache_control),
        request_id(),
        allow_origin(),
    ];
    if conditional(route) {
        headers.push(etag());
    }
    if allowed_params(route).contains(&"page") {
        headers.push((
            "Link",
            header(
                "RFC 8288 links to the first, previous, next and last pages (`rel=\"first\"`, `\"prev\"`, `\"next\"`, `\"last\"`).",
                string(),
            ),
        ));
    }
    headers
        .into_iter()
        .map(|(name, header)| (name.to_owned(), header))
        .collect()
}

/// The component name of the shared response for `status`: its reason
/// phrase in one word (`NotModified`).
pub(super) fn response_name(status: u16) -> String {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .split(' ')
        .collect()
}

/// The shared response for an error status (or 304), under its name.
pub(super) fn shared_response(status: u16) -> Option<(String, Response)> {
    if status < 300 {
        return None;
    }
    let name = response_name(status);
    if status == 304 {
        let response = ResponseBuilder::new()
            .description("Not Modified: the `If-None-Match` validator still matches. No body.")
            .header("ETag", etag().1)
            .header(
                "Cache-Control",
                header("As on the 200 it revalidates.", string()),
            )
            .build();
        return Some((name, response));
    }
    let description = match status {
        400 => {
            "Bad Request: a malformed, out-of-range, unknown or repeated parameter (named in `parameter`), or a request missing what it needs."
        }
        401 => {
            "Unauthorized: no bearer token, a malformed `Authorization` header, or a token that is invalid, expired or of the wrong kind (on sign-in: a wrong username or password; which is never said)."
        }
        403 => "Forbidden: a valid token whose account lacks the role the endpoint needs.",
        409 => "Conflict: a scrape is already queued or running.",
        429 => {
            "Too Many Requests: too many failed sign-ins in a row for this account name. The password was not checked; try again after `Retry-After` seconds."
        }
        502 => {
            "Bad Gateway: a service the endpoint calls (GitHub for the scrape routes; the model endpoint in orchestrator mode) failed, could not be reached or answered something unexpected. Its answer is never passed on; `detail` names its status."
        }
        504 => {
            "Gateway Timeout: a service the endpoint calls (GitHub, or the model endpoint) did not answer in time."
        }
        404 => "Not Found: no book has this id.",
        405 => "Method Not Allowed: a method the endpoint does not serve (see `Allow`).",
        413 => "Payload Too Large: the request body is over the limit.",
        415 => "Unsupported Media Type: the request body is not `application/json`.",
        422 => "Unprocessable Entity: well-formed JSON that breaks the endpoint's rules.",
        503 => {
            "Service Unavailable: the catalogue database (or, on the model's routes, the model file) cannot be opened or used; on the sign-in and operators' routes, authentication (or the scrape trigger) is not configured. Try again later."
        }
        _ => "An error, as a problem document.",
    };
    let (request_id, allow_origin) = (request_id(), allow_origin());
    let mut response = ResponseBuilder::new()
        .description(description)
        .header(
            "Cache-Control",
            header(
                "Client errors: `public, max-age=60`; server errors, and every answer of a POST route: `no-store`.",
                string(),
            ),
        )
        .header(request_id.0, request_id.1)
        .header(allow_origin.0, allow_origin.1)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        );
    if status == 429 {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[1-9][0-9]*$"))
            .build();
        response = response.header(
            "Retry-After",
            header("Seconds to wait before the next attempt.", seconds),
        );
    }
    if status == 405 {
        // The Allow values the API can send: those of the routes it serves.
        let allow: Vec<&str> = Route::ALL.iter().map(|r| r.methods().allow()).collect();
        response = response.header(
            "Allow",
            header("The methods the endpoint answers.", one_of(&allow)),
        );
    }
    if matches!(status, 401 | 403) {
        response = response.header(
            "WWW-Authenticate",
            header(
                "The Bearer challenge (RFC 6750), with `error=\"invalid_token\"` for a bad token and `error=\"insufficient_scope\"` on a 403.",
                pattern(r#"^Bearer realm="books""#),
            ),
        );
    }
    Some((name, response.build()))
}

pub(super) fn request_id() -> (&'static str, Header) {
    (
        "X-Request-Id",
        header(
            "The id of this request in the logs (the platform's when it gives one).",
            string(),
        ),
    )
}

pub(super) fn allow_origin() -> (&'static str, Header) {
    (
        "Access-Control-Allow-Origin",
        header("Any origin may read the API.", constant("*")),
    )
}

pub(super) fn etag() -> (&'static str, Header) {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^\"[0-9a-f]{32}\"$"))
        .build();
    (
        "ETag",
        header("A strong validator of the response.", schema),
    )
}

pub(super) fn header(description: &str, schema: Object) -> Header {
    HeaderBuilder::new()
        .schema(schema)
        .description(Some(description))
        .build()
}

pub(super) fn string() -> Object {
    ObjectBuilder::new().schema_type(Type::String).build()
}

/// A string that is one of `values`.
pub(super) fn one_of(values: &[&str]) -> Object {
    let mut values: Vec<&str> = values.to_vec();
    values.dedup();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// A string matching the regular expression `regex`.
pub(super) fn pattern(regex: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(regex))
        .build()
}
