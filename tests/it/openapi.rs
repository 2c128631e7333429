//! The OpenAPI description against the official OpenAPI 3.1 schema, against
//! the code (parameter names, limits, defaults and examples are what the
//! parsers accept), and against the real responses of the local server over
//! the committed data: every response's status is documented for its
//! operation, and its body and headers validate against what is documented.
//! Also the static site: `public/` as the local server serves it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::app::{ADMIN, TestApp, bad_inputs};
use books::http::endpoints::allowed_params;
use books::http::openapi::{self, LOCAL_SERVER, OPENAPI_VERSION, statuses};
use std::time::Duration;

use books::http::route::{Access, CachePolicy, Methods};
use books::http::{AppState, Route, site};
use http_body_util::BodyExt as _;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> &'static Value {
    openapi::document()
}

/// Follows `$ref`s (local JSON pointers) until a value that is not one.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {reference}"));
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    panic!("$ref cycle at {value}");
}

fn operation(route: Route) -> &'static Value {
    let method = match route.methods() {
        Methods::Read => "get",
        Methods::Write => "post",
    };
    let op = &doc()["paths"][route.path()][method];
    assert!(op.is_object(), "no {method} operation for {}", route.path());
    op
}

/// The parameters of `route`'s operation, resolved.
fn parameters(route: Route) -> Vec<&'static Value> {
    operation(route)["parameters"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| resolve(doc(), p))
        .collect()
}

/// A query parameter's schema, plain (no alternative for an empty value,
/// which is refused): its own, or a named component's (`allOf` of the one
/// `$ref`) with the parameter's default beside it.
fn value_schema(p: &Value) -> Value {
    let schema = &p["schema"];
    assert!(schema.get("anyOf").is_none(), "{p}");
    let Some(parts) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    assert_eq!(parts.len(), 1, "{p}");
    let mut named = resolve(doc(), &parts[0]).clone();
    if let Some(default) = schema.get("default") {
        named["default"] = default.clone();
    }
    named
}

fn query_parameters(route: Route) -> Vec<&'static Value> {
    parameters(route)
        .into_iter()
        .filter(|p| p["in"] == "query")
        .collect()
}

/// Validates instances against schemas of the document (their `$ref`s
/// resolved within it), JSON Schema 2020-12 with formats asserted.
#[derive(Default)]
struct Schemas {
    validators: HashMap<String, jsonschema::Validator>,
}

impl Schemas {
    fn errors(&mut self, schema: &Value, instance: &Value) -> Vec<String> {
        let key = schema.to_string();
        let validator = self.validators.entry(key).or_insert_with(|| {
            // The whole document as the root, so `#/components/...` resolves;
            // its OpenAPI keys are unknown keywords to JSON Schema.
            let mut root = doc().clone();
            root["allOf"] = json!([schema]);
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema {schema} does not compile: {e}"))
        });
        validator
            .iter_errors(instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }

    fn assert_valid(&mut self, schema: &Value, instance: &Value, context: &str) {
        let errors = self.errors(schema, instance);
        assert!(
            errors.is_empty(),
            "{context}: {instance:.300} does not match {schema}: {errors:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// The document itself.

#[tokio::test]
async fn the_served_document_is_the_one_built_from_the_code() {
    let app = TestApp::new();
    let reply = app.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.header("etag").is_some());
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(&reply.json(), doc());
    assert!(reply.text.starts_with("{\n  \"openapi\": \"3.1."));
}

#[test]
fn the_document_validates_against_the_official_openapi_3_1_schema() {
    let path = root().join("tests/fixtures/openapi-3.1/schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc())
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The validator does reject what is not OpenAPI 3.1.
    let mut broken = doc().clone();
    broken["openapi"] = json!("3.0.3");
    assert!(!validator.is_valid(&broken));
    let mut broken = doc().clone();
    broken["paths"]["/api/v1/books"]["get"]["responses"]["200"] = json!({"content": {}});
    assert!(
        !validator.is_valid(&broken),
        "a response needs a description"
    );
}

#[test]
fn the_document_parses_as_openapi_3_1_and_every_reference_resolves() {
    let text = String::from_utf8(openapi::document_json().to_vec()).expect("utf-8");
    // OpenAPI 3.1 lets a URL be relative (§4.3); oas3 types `tokenUrl` as an
    // absolute URL, so it reads the document with the local server's.
    let relative = format!("\"tokenUrl\": \"{}\"", Route::AuthToken.path());
    assert!(text.contains(&relative), "the password flow's tokenUrl");
    let text = text.replace(
        &relative,
        &format!(
            "\"tokenUrl\": \"{LOCAL_SERVER}{}\"",
            Route::AuthToken.path()
        ),
    );
    let spec = oas3::from_json(&text).expect("oas3 parses the document");
    let version = spec.validate_version().expect("a supported version");
    assert_eq!(version.to_string(), OPENAPI_VERSION);
    assert_eq!(version.major, 3);
    assert_eq!(version.minor, 1);

    let operations: Vec<_> = spec.operations().collect();
    assert_eq!(operations.len(), Route::ALL.len());
    for (path, method, op) in operations {
        let route = Route::ALL
            .into_iter()
            .find(|r| r.path() == path)
            .unwrap_or_else(|| panic!("{path} is not in the route table"));
        let expected = match route.methods() {
            Methods::Read => http::Method::GET,
            Methods::Write => http::Method::POST,
        };
        assert_eq!(method, expected, "{path}");
        let params = op
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(params.len(), parameters(route).len(), "{path}");
        let responses = op.responses(&spec);
        let raw = operation(route)["responses"]
            .as_object()
            .expect("responses");
        assert_eq!(
            responses.len(),
            raw.len(),
            "{path}: a response $ref is dangling"
        );
        for (status, response) in responses {
            for (media_type, media) in &response.content {
                media
                    .schema(&spec)
                    .unwrap_or_else(|e| panic!("{path} {status} {media_type}: {e}"));
            }
        }
    }

    // Every $ref anywhere resolves; every component schema is a valid JSON
    // Schema 2020-12 document.
    fn walk(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.push(r.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let mut refs = Vec::new();
    walk(doc(), &mut refs);
    assert!(refs.len() > 50);
    for reference in refs {
        resolve(doc(), &json!({ "$ref": reference }));
    }
    for (name, schema) in doc()["components"]["schemas"].as_object().expect("schemas") {
        if let Err(e) = jsonschema::meta::validate(schema) {
            panic!("components/schemas/{name}: {e}");
        }
    }
}

#[test]
fn operations_are_complete_and_consistent() {
    let declared_tags: BTreeSet<&str> = doc()["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].as_str().expect("tag name"))
        .collect();
    let mut ids = BTreeSet::new();
    let mut used_tags = BTreeSet::new();
    for route in Route::ALL {
        let op = operation(route);
        let id = op["operationId"].as_str().expect("operationId");
        assert!(ids.insert(id), "duplicate operationId {id}");
        for key in ["summary", "description"] {
            assert!(
                op[key].as_str().is_some_and(|s| !s.is_empty()),
                "{} lacks a {key}",
                route.path()
            );
        }
        let tags = op["tags"].as_array().expect("tags");
        assert_eq!(tags.len(), 1);
        let tag = tags[0].as_str().expect("tag");
        assert!(declared_tags.contains(tag), "undeclared tag {tag}");
        used_tags.insert(tag);

        // Documented statuses are exactly the ones the route can answer.
        let documented: Vec<u16> = op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .map(|k| k.parse().expect("numeric status"))
            .collect();
        let mut expected = statuses(route).to_vec();
        expected.sort_unstable();
        let mut documented_sorted = documented.clone();
        documented_sorted.sort_unstable();
        assert_eq!(documented_sorted, expected, "{}", route.path());
        let success = openapi::success_status(route);
        let always: Vec<u16> = match route.methods() {
            Methods::Read if cacheable(route) => vec![200, 304, 400, 405],
            Methods::Read => vec![200, 400, 405],
            Methods::Write => vec![success, 400, 405, 413, 415, 422],
        };
        for status in &always {
            assert!(expected.contains(status), "{} lacks {status}", route.path());
        }

        // Only an authenticated route asks for a token: pasted, or from the
        // password flow.
        let bearer = json!([{"bearer": []}, {"password": []}]);
        let authenticated = route.access() != Access::Public;
        assert_eq!(
            op.get("security") == Some(&bearer),
            authenticated,
            "{}",
            route.path()
        );

        // Path templates and path parameters agree.
        let in_path: BTreeSet<String> = route
            .path()
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect();
        let path_params: BTreeSet<String> = parameters(route)
            .into_iter()
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true))
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect();
        assert_eq!(in_path, path_params, "{}", route.path());
    }
    assert_eq!(used_tags, declared_tags, "a declared tag is unused");
    assert_eq!(
        doc()["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "An access token from `POST /api/v1/auth/login`: `Authorization: Bearer <token>`."}),
    );
    let password = &doc()["components"]["securitySchemes"]["password"];
    assert_eq!(password["type"], "oauth2");
    assert_eq!(
        password["flows"]["password"]["tokenUrl"],
        Route::AuthToken.path()
    );

    let servers: Vec<&str> = doc()["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| s["url"].as_str().expect("url"))
        .collect();
    assert_eq!(
        servers.first(),
        Some(&"/"),
        "the relative server comes first"
    );
    assert!(servers.contains(&LOCAL_SERVER));
}

// ---------------------------------------------------------------------------
// The parameters against the code.

#[test]
fn documented_parameters_are_exactly_the_accepted_ones() {
    let mut schemas = Schemas::default();
    for route in Route::ALL {
        let documented: BTreeSet<&str> = parameters(route)
            .into_iter()
            .filter(|p| p["in"] != "header")
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let accepted: BTreeSet<&str> = allowed_params(route).iter().copied().collect();
        assert_eq!(documented, accepted, "{}", route.path());
        for p in parameters(route) {
            let name = p["name"].as_str().expect("name");
            let context = format!("{} {name}", route.path());
            assert!(
                p["description"].as_str().is_some_and(|d| d.len() > 10),
                "{context}: no description"
            );
            let schema = if p["in"] == "query" {
                value_schema(p)
            } else {
                p["schema"].clone()
            };
            assert!(schema["type"].is_string(), "{context}: no type");
            let description = p["description"].as_str().unwrap_or_default();
            if p["in"] == "query" {
                assert!(
                    description.contains("an empty value (`?"),
                    "{context}: {description}"
                );
            }
            // Free text (a length limit, no enum) refuses control characters.
            if schema["type"] == "string"
                && schema.get("enum").is_none()
                && schema.get("maxLength").is_some()
                && p["in"] == "query"
            {
                assert!(
                    description.contains("control characters are refused"),
                    "{context}: {description}"
                );
            }
            if let Some(example) = p.get("example") {
                schemas.assert_valid(&schema, example, &format!("{context} example"));
            }
            if let Some(default) = schema.get("default") {
                schemas.assert_valid(&schema, default, &format!("{context} default"));
            }
        }
        // The one header parameter is the conditional request.
        let headers: Vec<_> = parameters(route)
            .into_iter()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().expect("name"))
            .collect();
        let conditional: &[&str] = if cacheable(route) {
            &["If-None-Match"]
        } else {
            &[]
        };
        assert_eq!(headers, conditional, "{}", route.path());
    }
}

/// A query that makes `route` answer 200, to which a parameter under test is
/// added (so search has a criterion and price-range a bound).
fn base_query(route: Route, testing: &str) -> &'static str {
    match route {
        Route::BooksSearch if !["title", "category", "q"].contains(&testing) => "title=light",
        Route::BooksPriceRange if ["min", "min_price"].contains(&testing) => "max=100",
        Route::BooksPriceRange => "min=0",
        _ => "",
    }
}

fn url(route: Route, base: &str, name: &str, value: &str) -> String {
    let path = route.path().replace("{id}", "1");
    let pair = format!(
        "{name}={}",
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
    );
    if base.is_empty() {
        format!("{path}?{pair}")
    } else {
        format!("{path}?{base}&{pair}")
    }
}

#[tokio::test]
async fn documented_limits_defaults_and_enums_are_the_parsers() {
    let app = TestApp::new();
    let mut checked = 0;
    for route in Route::ALL {
        for p in query_parameters(route) {
            let name = p["name"].as_str().expect("name");
            let schema = value_schema(p);
            let base = base_query(route, name);
            let mut good: Vec<String> = Vec::new();
            let mut bad: Vec<String> = Vec::new();
            match schema["type"].as_str() {
                Some("integer") => {
                    let min = schema["minimum"].as_u64().expect("integer minimum");
                    let max = schema["maximum"].as_u64().expect("integer maximum");
                    good.extend([min.to_string(), max.to_string()]);
                    bad.extend([(max + 1).to_string(), "1.5".into(), "x".into()]);
                    if min > 0 {
                        bad.push((min - 1).to_string());
                    }
                }
                // A share: strictly between its bounds.
                Some("number") if schema.get("exclusiveMaximum").is_some() => {
                    assert_eq!(schema["exclusiveMinimum"], 0, "{name}");
                    assert_eq!(schema["exclusiveMaximum"], 1, "{name}");
                    good.extend([
                        "0.1".into(),
                        "0.5".into(),
                        "0.999999".into(),
                        "0.9999999999999999".into(),
                        "1e-05".into(),
                    ]);
                    bad.extend([
                        "0".into(),
                        "1".into(),
                        "1.5".into(),
                        "-0.2".into(),
                        "NaN".into(),
                    ]);
                }
                // An amount in GBP.
                Some("number") => {
                    assert_eq!(schema["minimum"], 0, "{name}");
                    good.extend([
                        "0".into(),
                        "12.5".into(),
                        "12.50".into(),
                        "1.234".into(),
                        "1e2".into(),
                    ]);
                    bad.extend(["-0.01".into(), "NaN".into()]);
                }
                Some("string") if schema.get("enum").is_some() => {
                    for value in schema["enum"].as_array().expect("enum") {
                        let value = value.as_str().expect("string enum");
                        good.extend([value.to_owned(), value.to_uppercase()]);
                    }
                    bad.push("zzz".into());
                }
                // A list of names: the example, and a name that is none.
                Some("string")
                    if schema.get("pattern").is_some() && schema.get("maxLength").is_none() =>
                {
                    let pattern = schema["pattern"].as_str().expect("pattern");
                    let example = p["example"].as_str().expect("a string example");
                    good.push(example.to_owned());
                    bad.extend(["zzz".into(), format!("{example},zzz")]);
                    assert!(!pattern.is_empty());
                }
                Some("string") => {
                    let max = schema["maxLength"].as_u64().expect("maxLength") as usize;
                    good.push("b".repeat(max));
                    bad.extend(["b".repeat(max + 1), " ".repeat(3)]);
                }
                Some("boolean") => {
                    good.extend(["true".into(), "false".into()]);
                    bad.push("maybe".into());
                }
                other => panic!("{name}: undocumented type {other:?}"),
            }
            // An empty value is refused, whatever the type: a client leaves
            // the parameter out for its default.
            bad.push(String::new());
            for value in good {
                let url = url(route, base, name, &value);
                let reply = call(&app, route, &url).await;
                assert_eq!(reply.status, 200, "{url}: {}", reply.text);
                checked += 1;
            }
            for value in bad {
                let url = url(route, base, name, &value);
                let problem = call(&app, route, &url).await.problem(400);
                assert_eq!(problem["parameter"], name, "{url}");
                checked += 1;
            }
            // The documented default is what an absent parameter means.
            if let Some(default) = schema.get("default") {
                let default = match default {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                // The same path as `url` gives, with the id filled in.
                let path = route.path().replace("{id}", "1");
                let with = call(&app, route, &url(route, base, name, &default)).await;
                let plain = if base.is_empty() {
                    path.clone()
                } else {
                    format!("{path}?{base}")
                };
                let without = call(&app, route, &plain).await;
                assert_eq!(with.status, 200);
                assert_eq!(
                    with.json(),
                    without.json(),
                    "{path} default {name}={default}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} checks");
}

#[tokio::test]
async fn every_operation_answers_its_documented_examples() {
    let app = TestApp::new();
    let mut schemas = Schemas::default();
    for route in Route::ALL {
        let mut path = route.path().to_owned();
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for p in parameters(route) {
            let Some(example) = p.get("example") else {
                continue;
            };
            let value = match example {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = p["name"].as_str().expect("name");
            match p["in"].as_str() {
                Some("path") => path = path.replace(&format!("{{{name}}}"), &value),
                _ => {
                    pairs.append_pair(name, &value);
                }
            }
        }
        let query = pairs.finish();
        let url = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let reply = call(&app, route, &url).await;
        let success = openapi::success_status(route);
        assert_eq!(reply.status, success, "{url}: {}", reply.text);
        let body = reply.json();
        let schema = &operation(route)["responses"][success.to_string()]["content"]["application/json"]
            ["schema"];
        schemas.assert_valid(schema, &body, &url);
        // A documented request body takes the sample.
        if let Some(sample) = sample_body(route) {
            let (media_type, _) = crate::app::encoded_body(&sample);
            let body_schema = &operation(route)["requestBody"]["content"][media_type]["schema"];
            // A form's fields, as the JSON object the schema describes.
            let sample = match &sample {
                Value::String(form) => Value::Object(
                    url::form_urlencoded::parse(form.as_bytes())
                        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                        .collect(),
                ),
                json => json.clone(),
            };
            schemas.assert_valid(body_schema, &sample, &format!("{url} request body"));
        }
        if body.get("total_pages").is_some() {
            assert!(
                body["total"].as_u64() > Some(0),
                "{url}: the examples find nothing"
            );
        }
    }
}

#[tokio::test]
async fn the_body_schemas_refuse_undocumented_fields() {
    let app = TestApp::new();
    let mut schemas = Schemas::default();
    // The OpenAPI route's body is described loosely: it is the document.
    for route in Route::ALL.into_iter().filter(|r| *r != Route::OpenApi) {
        let url = sample(route);
        let body = call(&app, route, &url).await.json();
        let success = openapi::success_status(route).to_string();
        let schema =
            &operation(route)["responses"][success]["content"]["application/json"]["schema"];
        let mut pointers = vec![String::new()];
        if body["items"].get(0).is_some() {
            pointers.push("/items/0".into());
        }
        for pointer in pointers {
            let mut extra = body.clone();
            extra.pointer_mut(&pointer).expect("pointer")["undocumented"] = json!(1);
            assert!(
                !schemas.errors(schema, &extra).is_empty(),
                "{url}: an undocumented field at {pointer:?} passes"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// The real responses against the document.

/// A response as seen, from the server or from dispatch in process.
pub(crate) struct Seen {
    pub label: String,
    pub route: Route,
    pub method: Method,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Checks `seen` against its operation: a documented status, the documented
/// content type and schema (or no body), and the required headers.
fn check(seen: &Seen, schemas: &mut Schemas) {
    let label = &seen.label;
    let op = operation(seen.route);
    let response = op["responses"]
        .get(seen.status.to_string())
        .map(|r| resolve(doc(), r))
        .unwrap_or_else(|| panic!("{label}: status {} is not documented", seen.status));
    assert!(response["description"].is_string());

    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let header = resolve(doc(), header);
        let value = seen
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok());
        // Every documented header is always sent.
        let value = value.unwrap_or_else(|| panic!("{label}: no {name} header"));
        schemas.assert_valid(&header["schema"], &json!(value), &format!("{label} {name}"));
    }

    let content = response.get("content").and_then(Value::as_object);
    if seen.method == Method::HEAD || content.is_none() {
        assert!(
            seen.body.is_empty(),
            "{label}: a body where none is documented"
        );
        return;
    }
    let content_type = seen
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{label}: no content-type"));
    let media = content
        .and_then(|c| c.get(content_type))
        .unwrap_or_else(|| panic!("{label}: content-type {content_type} is not documented"));
    let body: Value = serde_json::from_slice(&seen.body)
        .unwrap_or_else(|e| panic!("{label}: body is not JSON: {e}"));
    schemas.assert_valid(&media["schema"], &body, label);
    if content_type == "application/problem+json" {
        assert_eq!(body["status"], seen.status, "{label}");
    }
}

/// A request to an app whose GitHub is at the address: method, path,
/// `Authorization`, body, and the status it must get.
type RefusalCase<'a> = (
    std::net::SocketAddr,
    Method,
    &'a str,
    Option<&'a str>,
    Option<String>,
    u16,
);

/// The refusals of sign-in and the operators' routes, in process: bad
/// credentials (401), a reader (403), and a GitHub that is busy (409), fails
/// (502) or stalls (504).
async fn operators_refusals() -> Vec<Seen> {
    use crate::common::{respond, serve};
    use books::auth::{Role, TokenKind};
    use hyper::StatusCode;

    let busy = serve(|path: String| async move {
        let run = json!({"id": 1, "status": "in_progress", "conclusion": null, "event": "workflow_dispatch",
            "display_title": "Deploy", "created_at": "2026-12-01T05:17:00Z",
            "updated_at": "2026-12-01T05:18:00Z", "html_url": "https://github.com/books-toscrape/books/actions/runs/1"});
        if path.ends_with("/runs") {
            respond(StatusCode::OK, json!({"total_count": 1, "workflow_runs": [run]}).to_string())
        } else {
            respond(StatusCode::NO_CONTENT, "")
        }
    })
    .await;
    let failing = serve(|_| async { respond(StatusCode::INTERNAL_SERVER_ERROR, "boom") }).await;
    let stalled = serve(|_| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        respond(StatusCode::OK, "{}")
    })
    .await;
    let app_with = |github: std::net::SocketAddr| {
        let config = books::scraping::GitHubConfig::new("books-toscrape/books", "test-token")
            .and_then(|c| c.with_api_url(&format!("http://{github}")))
            .expect("config")
            .with_timeouts(Duration::from_millis(300), Duration::from_millis(300));
        let trigger =
            books::scraping::ScrapeTrigger::GitHub(books::scraping::GitHubActions::new(config));
        let state = AppState::new(books::store::Store::open(&crate::app::committed_db()))
            .with_auth(Some(crate::app::test_auth()))
            .with_trigger(Some(trigger));
        books::http::app::api(&Route::ALL, state)
    };
    let admin = format!("Bearer {}", crate::app::admin_token());
    let reader = format!(
        "Bearer {}",
        crate::app::token_for(crate::app::READER.0, Role::Reader, TokenKind::Access)
    );
    let trigger = Route::ScrapingTrigger.path();
    let status = Route::ScrapingStatus.path();
    let wrong_password = json!({"username": ADMIN.0, "password": "wrong"}).to_string();
    let bad_refresh = json!({"refresh_token": "a.b.c"}).to_string();
    let cases: Vec<RefusalCase> = vec![
        (
            busy,
            Method::POST,
            Route::AuthLogin.path(),
            None,
            Some(wrong_password),
            401,
        ),
        (
            busy,
            Method::POST,
            Route::AuthRefresh.path(),
            None,
            Some(bad_refresh),
            401,
        ),
        (busy, Method::POST, trigger, None, None, 401),
        (busy, Method::GET, status, None, None, 401),
        (busy, Method::POST, trigger, Some(&reader), None, 403),
        (busy, Method::GET, status, Some(&reader), None, 403),
        (busy, Method::POST, trigger, Some(&admin), None, 409),
        (failing, Method::POST, trigger, Some(&admin), None, 502),
        (failing, Method::GET, status, Some(&admin), None, 502),
        (stalled, Method::POST, trigger, Some(&admin), None, 504),
        (stalled, Method::GET, status, Some(&admin), None, 504),
    ];
    let mut seen = Vec::new();
    for (github, method, path, authorization, body, expected) in cases {
        let mut request = http::Request::builder().method(method.clone()).uri(path);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(axum::body::Body::from(body.unwrap_or_default()))
            .expect("request");
        let response = app_with(github).oneshot(request).await.expect("answer");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        let label = format!("{method} {path} ({expected})");
        assert_eq!(parts.status.as_u16(), expected, "{label}: {body:?}");
        if expected == 401 {
            assert!(parts.headers.contains_key("www-authenticate"), "{label}");
        }
        seen.push(Seen {
            label,
            route: Route::resolve(path).expect("route"),
            method,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        });
    }
    seen
}

/// Whether `route`'s answers carry an `ETag` and honour `If-None-Match`.
fn cacheable(route: Route) -> bool {
    route.methods() == Methods::Read && route.cache_policy() != CachePolicy::NoStore
}

/// A request that `route` answers with success.
fn sample(route: Route) -> String {
    match route {
        Route::BookById => "/api/v1/books/1".into(),
        Route::BookSimilar => "/api/v1/books/1/similar".into(),
        Route::BooksSearch => "/api/v1/books/search?title=light".into(),
        Route::BooksPriceRange => "/api/v1/books/price-range?min=10&max=20".into(),
        other => other.path().into(),
    }
}

/// The JSON body a write `route` answers 200 to.
fn sample_body(route: Route) -> Option<Value> {
    match route {
        Route::MlPredictions => Some(json!({"instances": [
            {"title": "The Haunting of Hill House", "description": "A ghost story."}
        ]})),
        Route::AuthLogin => Some(json!({"username": ADMIN.0, "password": ADMIN.1})),
        Route::AuthToken => Some(crate::app::admin_password_grant()),
        Route::ScrapingTrigger => Some(json!({"reason": "the OpenAPI tests"})),
        Route::AuthRefresh => Some(json!({"refresh_token": crate::app::token_for(
            ADMIN.0,
            books::auth::Role::Admin,
            books::auth::TokenKind::Refresh
        )})),
        _ => None,
    }
}

/// `url` called the way `route` is meant to be: GET, or POST of its sample body.
async fn call(app: &TestApp, route: Route, url: &str) -> crate::app::Reply {
    match sample_body(route) {
        Some(body) => app.post_sample(url, &body).await,
        None => app.get(url).await,
    }
}

/// Requests, good and bad, with the status each must get.
/// Requests over every route: good ones here, and the one table of bad
/// inputs (those whose path names a route).
fn table() -> Vec<(Method, String, u16)> {
    let mut rows: Vec<(Method, String, u16)> = [
        "/api/v1/health",
        "/api/v1/books",
        "/api/v1/books/",
        "/api/v1/books?page=2&per_page=5&sort=price&order=desc",
        "/api/v1/books?category=Poetry&min_price=10&max_price=50&min_rating=3&in_stock=true",
        "/api/v1/books?in_stock=false",
        "/api/v1/books?page=999",
        "/api/v1/books?per_page=1000",
        "/api/v1/books?fields=title,id,price,rating,image_url&per_page=3",
        "/api/v1/books?fields=in_stock&page=999",
        "/api/v1/books/1",
        "/api/v1/books/1000/",
        "/api/v1/books/4294967295",
        "/api/v1/books/1/similar",
        "/api/v1/books/1000/similar/?limit=20",
        "/api/v1/books/5/similar?limit=1&id=5",
        "/api/v1/books/4294967295/similar",
        "/api/v1/books/search?title=light",
        "/api/v1/books/search?q=love&category=poetry",
        "/api/v1/books/search?title=100%25",
        "/api/v1/books/search?title=zzzzzz",
        "/api/v1/books/search?title=%27%20OR%201%3D1%20--",
        "/api/v1/books/top-rated",
        "/api/v1/books/top-rated?category=travel&per_page=3",
        "/api/v1/books/top-rated?fields=currency,description&per_page=3",
        "/api/v1/books/search?title=light&fields=title",
        "/api/v1/books/price-range?min=10&fields=price,tax,price_excl_tax",
        "/api/v1/books/price-range?min=10&max=20",
        "/api/v1/books/price-range?min_price=50",
        "/api/v1/books/price-range?max=10.5&sort=rating&order=desc",
        "/api/v1/categories",
        "/api/v1/stats/overview",
        "/api/v1/stats/categories",
        "/api/v1/openapi.json",
    ]
    .into_iter()
    .map(|path| {
        // The largest id is well-formed but names no book.
        let status = if path.contains("/4294967295") {
            404
        } else {
            200
        };
        (Method::GET, path.to_owned(), status)
    })
    .collect();
    for bad in bad_inputs() {
        let path = bad.path.split('?').next().unwrap_or(&bad.path);
        if Route::resolve(path).is_some() {
            rows.push((bad.method, bad.path, bad.status));
        }
    }
    // An admin read takes no parameters (the admin's token goes along).
    rows.push((
        Method::GET,
        format!("{}?since=yesterday", Route::ScrapingStatus.path()),
        400,
    ));
    for route in Route::ALL {
        let (served, refused): (Vec<Method>, Vec<Method>) = [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ]
        .into_iter()
        .partition(|m| route.methods().served().contains(m));
        // GET is in the list above already; a write route's POST is sent
        // with its body (below).
        for method in served.into_iter().filter(|m| *m == Method::HEAD) {
            rows.push((method, sample(route), 200));
        }
        for method in refused {
            rows.push((method, sample(route), 405));
        }
    }
    rows
}

#[tokio::test]
async fn every_real_response_is_documented_and_matches_its_schema() {
    let app = TestApp::new();
    let mut schemas = Schemas::default();
    let mut covered: BTreeMap<&'static str, BTreeSet<u16>> = BTreeMap::new();
    let mut record = |seen: &Seen, schemas: &mut Schemas| {
        check(seen, schemas);
        covered
            .entry(seen.route.path())
            .or_default()
            .insert(seen.status);
    };

    for (method, url, expected) in table() {
        let reply = app.request(method.clone(), &url, &[]).await;
        let path = url.split('?').next().unwrap_or(&url);
        let route = Route::resolve(path).unwrap_or_else(|| panic!("{url} names no route"));
        let label: String = format!("{method} {url}").chars().take(120).collect();
        assert_eq!(reply.status, expected, "{label}: {}", reply.text);
        let seen = Seen {
            label,
            route,
            method,
            status: reply.status,
            headers: reply.headers,
            body: reply.text.into_bytes(),
        };
        record(&seen, &mut schemas);
    }

    // Each write route: its sample body answered, and every way a body can
    // be wrong.
    for route in Route::ALL {
        let Some(good) = sample_body(route) else {
            continue;
        };
        let url = sample(route);
        let (media_type, good) = crate::app::encoded_body(&good);
        let mut bodies: Vec<(&str, String, u16)> = if route == Route::AuthToken {
            let form = "application/x-www-form-urlencoded";
            [
                (form, good.clone(), openapi::success_status(route)),
                (form, "username=ada".into(), 422),
                ("application/json", good, 415),
                (form, "grant_type=password".into(), 422),
            ]
            .into()
        } else {
            [
                (media_type, good.clone(), openapi::success_status(route)),
                ("application/json", "{".into(), 400),
                ("text/plain", good, 415),
                ("application/json", "{\"instances\":[]}".into(), 422),
            ]
            .into()
        };
        if route.signs_in() {
            // Failed sign-ins for one name, until the next must wait (429);
            // a name of this test's own, so no other test is slowed.
            let name = format!("contract-{route:?}");
            let wrong = if route == Route::AuthToken {
                format!("grant_type=password&username={name}&password=wrong")
            } else {
                json!({"username": name, "password": "wrong"}).to_string()
            };
            for _ in 0..10 {
                bodies.push((media_type, wrong.clone(), 401));
            }
            bodies.push((media_type, wrong, 429));
        }
        if route == Route::MlPredictions {
            // A book id no book has.
            let missing = json!({"book_ids": [99999]}).to_string();
            bodies.push(("application/json", missing, 404));
        }
        // A form has no syntax to break: its 400 is a query's.
        let mut bodies: Vec<(String, &str, String, u16)> = bodies
            .into_iter()
            .map(|(content_type, body, expected)| (url.clone(), content_type, body, expected))
            .collect();
        if route == Route::AuthToken {
            let form = crate::app::encoded_body(&crate::app::admin_password_grant());
            bodies.push((format!("{url}?unknown=1"), form.0, form.1, 400));
        }
        for (url, content_type, body, expected) in bodies {
            let headers = [("content-type", content_type)];
            let reply = app.send(Method::POST, &url, &headers, Some(body)).await;
            assert_eq!(reply.status, expected, "POST {url}: {}", reply.text);
            let seen = Seen {
                label: format!("POST {url} ({expected})"),
                route,
                method: Method::POST,
                status: reply.status,
                headers: reply.headers,
                body: reply.text.into_bytes(),
            };
            record(&seen, &mut schemas);
        }
        // Too large: in process, as over TCP the server may close the
        // connection before the client has finished sending.
        let oversized = format!(
            "{{\"instances\":[{{\"title\":\"{}\"}}]}}",
            "a".repeat(books::http::app::MAX_BODY_BYTES)
        );
        let state = books::adapters::load_state(&crate::app::committed_db(), &[route])
            .with_auth(Some(crate::app::test_auth()));
        let request = http::Request::post(&url)
            .header("content-type", media_type)
            .header(
                "authorization",
                format!("Bearer {}", crate::app::admin_token()),
            )
            .body(axum::body::Body::from(oversized))
            .expect("request");
        let response = books::http::app::api(&[route], state)
            .oneshot(request)
            .await
            .expect("answer");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        assert_eq!(parts.status.as_u16(), 413, "POST {url} too large");
        let seen = Seen {
            label: format!("POST {url} (413)"),
            route,
            method: Method::POST,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        };
        record(&seen, &mut schemas);
    }

    // A conditional request with the ETag of a 200 is a 304, on every read route.
    for route in Route::ALL.into_iter().filter(|r| cacheable(*r)) {
        let url = sample(route);
        let first = app.get(&url).await;
        let etag = first.header("etag").expect("etag").to_owned();
        let reply = app
            .request(Method::GET, &url, &[("if-none-match", &etag)])
            .await;
        assert_eq!(reply.status, 304, "{url}");
        let seen = Seen {
            label: format!("GET {url} If-None-Match"),
            route,
            method: Method::GET,
            status: reply.status,
            headers: reply.headers,
            body: reply.text.into_bytes(),
        };
        record(&seen, &mut schemas);
    }

    // Without its database, every route that needs it is a 503 (in process:
    // the same app the server and the functions serve).
    let missing = root().join("target/no-such-dir/books.db");
    let store = books::store::Store::open(&missing);
    assert!(store.is_err(), "a database at {missing:?}");
    let without_db = books::http::app::api(&Route::ALL, AppState::new(store));
    for route in Route::ALL {
        let url = sample(route);
        let request = match sample_body(route) {
            Some(body) => http::Request::post(&url)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string())),
            None => http::Request::get(&url).body(axum::body::Body::empty()),
        }
        .expect("request");
        let response = without_db.clone().oneshot(request).await.expect("answer");
        let expected = if route == Route::OpenApi { 200 } else { 503 };
        assert_eq!(response.status().as_u16(), expected, "{url}");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        let method = route.methods().served()[0].clone();
        let seen = Seen {
            label: format!("{method} {url} without a database"),
            route,
            method,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        };
        record(&seen, &mut schemas);
    }

    for seen in operators_refusals().await {
        record(&seen, &mut schemas);
    }
    for seen in crate::model_serving::orchestrator_answers().await {
        record(&seen, &mut schemas);
    }

    // Every documented status of every operation was seen.
    for route in Route::ALL {
        let seen = covered.get(route.path()).cloned().unwrap_or_default();
        let documented: BTreeSet<u16> = statuses(route).iter().copied().collect();
        assert_eq!(seen, documented, "{}: documented vs seen", route.path());
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_documented_problem() {
    let app = TestApp::new();
    let mut schemas = Schemas::default();
    for path in [
        "/api/v1/nope",
        "/api/v2/books",
        "/api/v1/books/1/2",
        "/api/v1/books/1/similar/2",
        "/favicon.ico",
    ] {
        let reply = app.get(path).await;
        let body = reply.problem(404);
        schemas.assert_valid(
            &json!({"$ref": "#/components/schemas/Problem"}),
            &body,
            path,
        );
    }
}

// ---------------------------------------------------------------------------
// The static site.

fn public_files(dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("public dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            public_files(&path, found);
        } else if path.file_name().is_some_and(|n| n != ".gitkeep") {
            let relative = path
                .strip_prefix(root().join("public"))
                .expect("under public");
            found.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[tokio::test]
async fn the_local_server_serves_exactly_the_files_of_public() {
    let mut on_disk = BTreeSet::new();
    public_files(&root().join("public"), &mut on_disk);
    let embedded: BTreeSet<String> = site::ASSETS.iter().map(|a| a.file.to_owned()).collect();
    assert_eq!(embedded, on_disk, "site::ASSETS and public/ differ");

    let app = TestApp::new();
    for asset in site::ASSETS {
        let bytes = std::fs::read(root().join("public").join(asset.file)).expect("read");
        assert_eq!(asset.bytes, bytes.as_slice(), "{} is stale", asset.file);
        let url = format!("/{}", asset.file);
        let reply = app.get(&url).await;
        assert_eq!(reply.status, 200, "{url}");
        assert_eq!(reply.header("content-type"), Some(asset.content_type));
        assert_eq!(reply.text.as_bytes(), bytes.as_slice(), "{url}");
        let etag = reply.header("etag").expect("etag").to_owned();
        let again = app
            .request(Method::GET, &url, &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, 304, "{url}");
    }
    for (alias, file) in site::ALIASES {
        let reply = app.get(alias).await;
        assert_eq!(reply.status, 200, "{alias}");
        let bytes = std::fs::read(root().join("public").join(file)).expect("read");
        assert_eq!(reply.text.as_bytes(), bytes.as_slice(), "{alias}");
    }
    let head = app.request(Method::HEAD, "/docs", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
    assert_eq!(app.request(Method::POST, "/docs", &[]).await.status, 405);
}

#[test]
fn local_aliases_are_the_rewrites_vercel_applies() {
    let text = std::fs::read_to_string(root().join("vercel.json")).expect("vercel.json");
    let config: Value = serde_json::from_str(&text).expect("vercel.json parses");
    let rewrites: BTreeMap<&str, &str> = config["rewrites"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| {
                    (
                        r["source"].as_str().expect("source"),
                        r["destination"].as_str().expect("destination"),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (alias, file) in site::ALIASES {
        if *alias == "/" {
            // Vercel serves public/index.html at / as the directory index.
            assert_eq!(*file, "index.html");
            continue;
        }
        let destination = format!("/{file}");
        assert_eq!(
            rewrites.get(alias),
            Some(&destination.as_str()),
            "vercel.json must rewrite {alias} to {destination}, as the local server does"
        );
    }
}

/// The `src`/`href` attribute values of an HTML page.
fn links(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for attribute in ["src", "href"] {
        let marker = format!(" {attribute}=\"");
        for piece in html.split(&marker).skip(1) {
            if let Some(value) = piece.split('"').next() {
                found.push((attribute.to_owned(), value.replace("&amp;", "&")));
            }
        }
    }
    found
}

#[test]
fn the_pages_load_nothing_from_another_origin() {
    for page in ["index.html", "docs.html", "dashboard.html"] {
        let html = std::fs::read_to_string(root().join("public").join(page)).expect("page");
        for (attribute, value) in links(&html) {
            let external = value.starts_with("http:")
                || value.starts_with("https:")
                || value.starts_with("//");
            if !external {
                continue;
            }
            // Only plain links may leave the site; nothing the page loads.
            let tag_of_value = html
                .split(&format!("{attribute}=\"{value}\""))
                .next()
                .and_then(|before| before.rsplit('<').next())
                .unwrap_or("");
            assert!(
                tag_of_value.starts_with("a "),
                "{page} loads {value} from another origin"
            );
        }
        assert!(!html.contains("<style>@import"), "{page}");
        assert!(!html.contains("url(http"), "{page}");
    }
    let docs = std::fs::read_to_string(root().join("public/docs.html")).expect("docs");
    let loaded: Vec<String> = links(&docs)
        .into_iter()
        .filter(|(attribute, value)| attribute == "src" || value.starts_with("/assets/"))
        .map(|(_, value)| value)
        .collect();
    assert!(loaded.len() >= 3, "{loaded:?}");
    for value in loaded {
        let asset = site::find(&value).unwrap_or_else(|| panic!("docs.html loads {value}"));
        assert!(!asset.bytes.is_empty());
    }
    let init =
        std::str::from_utf8(site::find("/assets/docs.js").expect("docs.js").bytes).expect("utf-8");
    assert!(init.contains("url: \"/api/v1/openapi.json\""));
    assert!(
        init.contains("validatorUrl: null"),
        "no online validator badge"
    );
}

#[test]
fn the_landing_page_links_the_docs_and_every_endpoint() {
    let html = std::fs::read_to_string(root().join("public/index.html")).expect("index");
    let hrefs: Vec<String> = links(&html)
        .into_iter()
        .filter(|(attribute, _)| attribute == "href")
        .map(|(_, value)| value)
        .collect();
    assert!(hrefs.iter().any(|h| h == "/docs"), "no link to /docs");
    assert!(
        hrefs.iter().any(|h| h == "/dashboard"),
        "no link to /dashboard"
    );
    // A public read is linked; a POST or an admin route is tried from the
    // docs (its operation's anchor), not followed from a link.
    for route in Route::ALL {
        let linked = if route.methods() == Methods::Read && route.access() == Access::Public {
            hrefs.iter().any(|href| {
                let path = href.split('?').next().unwrap_or(href);
                path.starts_with("/api/") && Route::resolve(path) == Some(route)
            })
        } else {
            let op = operation(route);
            let anchor = format!(
                "/docs#/{}/{}",
                op["tags"][0].as_str().expect("tag"),
                op["operationId"].as_str().expect("operationId")
            );
            hrefs.contains(&anchor)
        };
        assert!(linked, "the landing page does not link {}", route.path());
    }
}

#[test]
fn the_vendored_swagger_ui_is_the_pinned_one() {
    let script =
        std::fs::read_to_string(root().join("scripts/vendor-swagger-ui.sh")).expect("script");
    let pinned = script
        .lines()
        .find_map(|l| l.strip_prefix("VERSION="))
        .expect("VERSION= in the script");
    let vendored = std::str::from_utf8(
        site::find("/assets/swagger-ui/VERSION")
            .expect("VERSION file")
            .bytes,
    )
    .expect("utf-8")
    .trim()
    .to_owned();
    assert_eq!(vendored, pinned);
    let bundle = site::find("/assets/swagger-ui/swagger-ui-bundle.js").expect("bundle");
    assert!(bundle.bytes.len() > 1_000_000);
    assert!(!String::from_utf8_lossy(bundle.bytes).contains("sourceMappingURL="));
}
