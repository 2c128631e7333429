//! The OpenAPI 3.1 document, derived with utoipa from the code that serves
//! the API: one operation per handler (`#[utoipa::path]` in
//! [`endpoints`]), its parameters from the parameter
//! types (`IntoParams` in [`params`](super::params)), its bodies from the
//! response types (`ToSchema`). A `Modify` step adds what the route table
//! decides and derive cannot say: each route's statuses ([`statuses`]), its
//! cache and CORS headers, conditional requests, the bearer scheme for
//! authenticated routes, closed body schemas, and the servers. The few
//! schemas derive cannot infer (numbers serialised by hand, constants) are
//! here too.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::{Value, json};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, Schema};
use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityRequirement,
    SecurityScheme,
};
use utoipa::openapi::{Ref, RefOr, Required, Server};
use utoipa::{Modify, OpenApi};

mod responses;
mod schemas;

use responses::{ok_headers, response_name, shared_response, string};

pub(crate) use schemas::{OpenApiDocument, ProblemType};

use super::endpoints;
use super::error::Problem;
use super::params::parameter_schemas;
use super::route::{Access, CachePolicy, Methods, Route, route_table};

/// The security scheme of a pasted bearer token.
const BEARER_SCHEME: &str = "bearer";
/// The security scheme of the OAuth 2.0 password flow (the docs' Authorize).
const PASSWORD_SCHEME: &str = "password";

/// The OpenAPI version the document follows.
pub const OPENAPI_VERSION: &str = "3.1.0";
/// The local server's default address, listed as a server.
pub const LOCAL_SERVER: &str = "http://127.0.0.1:3000";

const SUMMARY: &str = "A JSON API over the books.toscrape.com catalogue: read-only data, and sign-in for its operators.";
const DESCRIPTION: &str = concat!(
    "Every book of [books.toscrape.com](https://books.toscrape.com/), scraped into a prebuilt ",
    "read-only SQLite database and served as JSON. The data changes only with a deploy.\n\n",
    "**Conventions.** Every read endpoint answers `GET` and `HEAD` (no body), and every endpoint ",
    "`OPTIONS` with a CORS preflight (204); the `POST` endpoints take a JSON body (the token ",
    "endpoint, the OAuth 2.0 password grant's form) and their answers are never stored; any other method is a 405. Responses carry `Access-Control-Allow-Origin: *` ",
    "and an `X-Request-Id`. Successful public reads carry a strong `ETag`: send it back in `If-None-Match` ",
    "to get a 304 without a body. Lists are paginated (`page`, `per_page`) in an envelope ",
    "`{items, page, per_page, total, total_pages}` with a `Link` header (RFC 8288) to the first, ",
    "previous, next and last pages. Unknown or repeated query parameters are a 400, and so is an ",
    "empty value (`?category=`): leave a parameter out for its default.\n\n",
    "**Operators** sign in at `POST /api/v1/auth/login` and send the access token as ",
    "`Authorization: Bearer <token>` to the admin routes (here: **Authorize**, the password flow).\n\n",
    "**Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, and ",
    "`parameter` naming the offending query parameter when there is one.\n\n",
    "**Prices** are JSON numbers in GBP with two decimals."
);

/// `ApiDoc`: the derived document, with the paths of the route table's rows
/// in its order (a test pins it to [`Route::ALL`]).
macro_rules! api_doc {
    ($($name:ident: $spec:ident($($arg:expr),*) => $method:ident($($handler:ident)::+), $params:ident;)*) => {
        #[derive(OpenApi)]
        #[openapi(
            info(
                title = "books API",
                version = crate::VERSION,
                description = DESCRIPTION,
                license(name = "MIT", identifier = "MIT"),
            ),
            paths($(endpoints::$($handler)::+),*),
            components(schemas(
                Problem,
                schemas::OpenApiInfo,
                schemas::OpenApiPaths,
                parameter_schemas::SortKey,
                parameter_schemas::SortOrder,
                parameter_schemas::Split,
                parameter_schemas::DataFormat,
            )),
            tags(
                (name = "books", description = "The catalogue: one book, similar books, lists, search, top rated, price range"),
                (name = "categories", description = "The categories of the catalogue"),
                (name = "stats", description = "Figures over the whole catalogue and per category"),
                (name = "ml", description = "The category model (predictions, its model card) and the feature dictionary"),
                (name = "auth", description = "Sign in (JSON or the OAuth 2.0 password grant) and refresh: bearer tokens for the operators' routes"),
                (name = "operations", description = "Admin only: start a scrape (a redeploy on Vercel, in the process under `books serve`) and follow it"),
                (name = "meta", description = "Health of an instance and this description"),
            ),
            modifiers(&RouteTable),
        )]
        struct ApiDoc;
    };
}
route_table!(api_doc);

/// How the production server is described.
const PRODUCTION_SERVER: &str = "Production";

/// The production URL, fixed at build time: `BOOKS_PUBLIC_URL` (a full URL),
/// else Vercel's `VERCEL_PROJECT_PRODUCTION_URL` (a host name). Without
/// either, the relative server `/` (the origin the docs were loaded from)
/// covers production.
fn production_url() -> Option<String> {
    if let Some(url) = option_env!("BOOKS_PUBLIC_URL").filter(|u| !u.is_empty()) {
        return Some(url.trim_end_matches('/').to_owned());
    }
    option_env!("VERCEL_PROJECT_PRODUCTION_URL")
        .filter(|host| !host.is_empty())
        .map(|host| format!("https://{}", host.trim_end_matches('/')))
}

/// The status of a successful answer of `route`: 202 where the work goes on
/// after the answer, else 200.
pub fn success_status(route: Route) -> u16 {
    if route == Route::ScrapingTrigger {
        202
    } else {
        200
    }
}

/// The statuses `route` can answer a request with, in order. The one place
/// they are derived from the route table.
pub fn statuses(route: Route) -> Vec<u16> {
    // Every route answers, refuses a bad query, and refuses other methods.
    let mut statuses = vec![success_status(route), 400, 405];
    if conditional(route) {
        statuses.push(304);
    }
    // A book that does not exist, in the path or among predictions' book ids.
    if route.path().contains("{id}") || route == Route::MlPredictions {
        statuses.push(404);
    }
    if route.methods() == Methods::Write {
        // A JSON body: too large, not JSON, or failing the endpoint's rules.
        statuses.extend([413, 415, 422]);
    }
    // Sign-in and refresh refuse bad credentials; the protected routes a
    // missing or bad token (401) and another role (403).
    if route.uses_auth() {
        statuses.push(401);
    }
    if route.access() != Access::Public {
        statuses.push(403);
    }
    if route == Route::ScrapingTrigger {
        // A scrape already queued or running.
        statuses.push(409);
    }
    if route.signs_in() {
        // Too many failed sign-ins for the account name.
        statuses.push(429);
    }
    // GitHub, or in orchestrator mode the model endpoint, failed or did not
    // answer in time (health reports the model endpoint, never fails for it).
    if route.uses_trigger() || (route.uses_model_serving() && route != Route::Health) {
        statuses.extend([502, 504]);
    }
    // Only the description itself is served without the database.
    if route != Route::OpenApi {
        statuses.push(503);
    }
    statuses.sort_unstable();
    statuses
}

/// Whether `route` answers with an `ETag` and honours `If-None-Match`.
fn conditional(route: Route) -> bool {
    route.methods() == Methods::Read && route.cache_policy() != CachePolicy::NoStore
}

fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// The document as a JSON value.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(openapi()).unwrap_or(Value::Null))
}

/// Where the committed document is, from the crate's root: what client
/// generators read, and what reviewers see change with the contract.
pub const COMMITTED_PATH: &str = "docs/openapi.json";

/// The committed document, compiled in.
const COMMITTED: &[u8] = include_bytes!("../../../docs/openapi.json");

/// The document as served: the committed `docs/openapi.json`, plus the
/// production server when the build knows its URL. Serving those bytes
/// rather than deriving them costs a function's cold start nothing (deriving
/// and printing took about 5 ms); the test
/// `the_committed_document_is_the_derived_one` keeps them equal to
/// [`derived_json`].
pub fn document_json() -> Bytes {
    static JSON: OnceLock<Bytes> = OnceLock::new();
    JSON.get_or_init(|| match production_url() {
        None => Bytes::from_static(COMMITTED),
        Some(url) => Bytes::from(with_production_server(COMMITTED, &url)),
    })
    .clone()
}

/// The first server's entry as the document prints it; the production
/// server goes right after it.
const FIRST_SERVER_END: &str =
    "\"description\": \"This deployment (the origin serving these docs)\"\n    },\n";

/// `document` with the production server `url` listed second, printed as
/// the rest of the document is.
fn with_production_server(document: &[u8], url: &str) -> Vec<u8> {
    let anchor = FIRST_SERVER_END.as_bytes();
    let Some(at) = document.windows(anchor.len()).position(|w| w == anchor) else {
        return document.to_vec();
    };
    let at = at + anchor.len();
    let url = Value::from(url).to_string();
    let entry = format!(
        "    {{\n      \"url\": {url},\n      \"description\": \"{PRODUCTION_SERVER}\"\n    }},\n"
    );
    [&document[..at], entry.as_bytes(), &document[at..]].concat()
}

/// The document derived from the code: pretty JSON, `openapi` first and
/// paths in the route table's order.
pub fn derived_json() -> Vec<u8> {
    serde_json::to_vec_pretty(openapi()).unwrap_or_else(|_| b"{}".to_vec())
}

/// What the route table decides, added to the derived document.
struct RouteTable;

impl Modify for RouteTable {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        // utoipa 5's `Info` has no `summary` (new in 3.1); its flattened
        // extensions carry it.
        doc.info
            .extensions
            .get_or_insert_with(Default::default)
            .insert("summary".into(), json!(SUMMARY));
        doc.servers = Some(servers());

        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `POST /api/v1/auth/login`: `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            PASSWORD_SCHEME,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(Password::new(
                    Route::AuthToken.path(),
                    Scopes::new(),
                ))],
                "The OAuth 2.0 password grant at the token route: what the docs' Authorize button uses. The token it gets is the bearer token.",
            )),
        );
        for schema in components.schemas.values_mut() {
            close(schema);
        }
        for route in Route::ALL {
            for status in statuses(route) {
                if let Some((name, response)) = shared_response(status) {
                    components.responses.insert(name, response.into());
                }
            }
            let item = doc.paths.paths.get_mut(route.path());
            let operation = item.and_then(|item| match route.methods() {
                Methods::Read => item.get.as_mut(),
                Methods::Write => item.post.as_mut(),
            });
            if let Some(operation) = operation {
                complete(route, operation);
            }
        }
    }
}

/// The servers the committed document lists; the served one adds the
/// production server when the build knows it ([`document_json`]).
fn servers() -> Vec<Server> {
    vec![
        Server::builder()
            .url("/")
            .description(Some("This deployment (the origin serving these docs)"))
            .build(),
        Server::builder()
            .url(LOCAL_SERVER)
            .description(Some("Local server (`books serve`)"))
            .build(),
    ]
}

/// Every body the API sends is closed: an undocumented field in a real
/// response fails the contract tests. An object gets `additionalProperties:
/// false`; a composition (a flattened field) `unevaluatedProperties: false`,
/// which sees through its `allOf` parts (left open, or they would refuse
/// each other's fields).
fn close(schema: &mut RefOr<Schema>) {
    match schema {
        RefOr::T(Schema::Object(object)) if !object.properties.is_empty() => {
            object
                .additional_properties
                .get_or_insert_with(|| Box::new(AdditionalProperties::FreeForm(false)));
            object.properties.values_mut().for_each(close);
        }
        RefOr::T(Schema::Array(array)) => {
            if let ArrayItems::RefOrSchema(items) = &mut array.items {
                close(items);
            }
        }
        RefOr::T(Schema::AllOf(all_of)) => {
            all_of
                .extensions
                .get_or_insert_with(Default::default)
                .insert("unevaluatedProperties".into(), json!(false));
        }
        _ => {}
    }
}

/// Adds to `route`'s operation what the route table says about it.
fn complete(route: Route, operation: &mut Operation) {
    // The trigger's body may be left out: said with `required: false` on a
    // plain reference, which generators turn into an optional argument
    // (a `oneOf` with `null` makes some of them send `null`, or nothing
    // they can serialise).
    if route == Route::ScrapingTrigger
        && let Some(body) = operation.request_body.as_mut()
    {
        body.required = Some(Required::False);
    }
    if conditional(route) {
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(
                ParameterBuilder::new()
                    .name("If-None-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The `ETag` of a response you hold: if it still matches, the answer is a 304 without a body.",
                    ))
                    .schema(Some(string()))
                    .build(),
            );
    }
    if route.access() != Access::Public {
        // A token from the sign-in route, pasted in (bearer) or fetched by the
        // docs' Authorize button (the password flow): either will do.
        operation.security = Some(vec![
            SecurityRequirement::new(BEARER_SCHEME, Vec::<String>::new()),
            SecurityRequirement::new(PASSWORD_SCHEME, Vec::<String>::new()),
        ]);
    }
    let success = success_status(route);
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut(&success.to_string()) {
        ok.headers.extend(ok_headers(route));
    }
    for status in statuses(route).into_iter().filter(|s| *s != success) {
        let name = response_name(status);
        responses.insert(
            status.to_string(),
            RefOr::Ref(Ref::from_response_name(name)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_a_path_with_its_methods_operation() {
        let paths = &openapi().paths.paths;
        let documented: Vec<&str> = paths.keys().map(String::as_str).collect();
        let table: Vec<&str> = Route::ALL.iter().map(|r| r.path()).collect();
        assert_eq!(documented, table, "paths in the route table's order");
        for route in Route::ALL {
            let item = &paths[route.path()];
            let (read, write) = (item.get.is_some(), item.post.is_some());
            let expected = route.methods() == Methods::Read;
            assert_eq!((read, write), (expected, !expected), "{}", route.path());
            let others = [
                &item.put,
                &item.delete,
                &item.patch,
                &item.head,
                &item.options,
            ];
            assert!(others.iter().all(|op| op.is_none()), "{}", route.path());
            if route.methods() == Methods::Write {
                // One media type per body, so a generated client takes one
                // body type: JSON, but the OAuth 2.0 password grant's form.
                let body = item.post.as_ref().and_then(|op| op.request_body.as_ref());
                let types: Vec<&str> = body
                    .map(|b| b.content.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let expected = if route == Route::AuthToken {
                    "application/x-www-form-urlencoded"
                } else {
                    "application/json"
                };
                assert_eq!(types, [expected], "{}", route.path());
            }
        }
    }

    #[test]
    fn statuses_follow_the_route_table() {
        assert_eq!(statuses(Route::Books), [200, 304, 400, 405, 503]);
        assert_eq!(statuses(Route::BookById), [200, 304, 400, 404, 405, 503]);
        assert_eq!(statuses(Route::BookSimilar), [200, 304, 400, 404, 405, 503]);
        assert_eq!(statuses(Route::OpenApi), [200, 304, 400, 405]);
        assert_eq!(response_name(304), "NotModified");
        assert_eq!(response_name(503), "ServiceUnavailable");
    }

    #[test]
    fn served_json_keeps_openapi_first() {
        let json = derived_json();
        let text = std::str::from_utf8(&json).expect("utf-8");
        assert!(
            text.starts_with("{\n  \"openapi\": \"3.1.0\""),
            "{text:.80}"
        );
    }

    /// With a production URL known at build time, the served document lists
    /// it second, exactly as a derivation would.
    #[test]
    fn the_production_server_is_listed_second() {
        let url = "https://books.example/\"quoted\"";
        let served = with_production_server(&derived_json(), url);
        let served: Value = serde_json::from_slice(&served).expect("still JSON");
        let mut derived = openapi().clone();
        let production = Server::builder()
            .url(url)
            .description(Some(PRODUCTION_SERVER))
            .build();
        derived
            .servers
            .get_or_insert_with(Vec::new)
            .insert(1, production);
        assert_eq!(served, serde_json::to_value(&derived).unwrap());
        assert_eq!(served["servers"][1]["url"], url);
    }

    /// The served document is the committed file; it must be what the code
    /// derives. `BOOKS_BLESS=1 cargo test --lib openapi` rewrites the file.
    #[test]
    fn the_committed_document_is_the_derived_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED_PATH);
        let derived = derived_json();
        if std::env::var_os("BOOKS_BLESS").is_some() {
            std::fs::write(&path, &derived).expect("write the committed document");
            return;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == derived,
            "{COMMITTED_PATH} is not the document the code derives (the API changed): \
             run `BOOKS_BLESS=1 cargo test --lib openapi`, review the diff and commit it"
        );
    }
}
