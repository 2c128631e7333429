//! The AWS Lambda adapter in process: the event files under
//! `tests/fixtures/lambda/` (API Gateway HTTP API payload 2.0, Function URL,
//! REST API payload 1.0, written from AWS's documented shapes) go through
//! `lambda_http`'s own event-to-request and response-to-JSON conversion
//! around [`books::adapters::lambda::handler`], exactly as the runtime
//! drives them, and the JSON that would go back to API Gateway is checked.

use std::path::PathBuf;

use books::adapters::lambda;
use books::http::Route;
use lambda_http::request::LambdaRequest;
use lambda_http::{Context, LambdaEvent};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::app::TestApp;

/// The directory of the event files.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lambda")
}

/// The event file `name`.
pub fn event(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).expect("event file")
}

/// The adapter over the committed data, set up as the shared test server
/// is (test accounts, the GitHub trigger against a stand-in).
async fn handler() -> lambda::Handler {
    let github = crate::common::idle_github().await;
    let state = books::adapters::load_state(&crate::app::committed_db(), &Route::ALL)
        .with_auth(Some(crate::app::test_auth()))
        .with_trigger(Some(crate::common::github_trigger(&github)));
    lambda::handler(state)
}

/// What the function would send back to Lambda for `event`, invoked with
/// `request_id` as the context's request id.
async fn invoke(handler: &lambda::Handler, event: &str, request_id: &str) -> Value {
    let request: LambdaRequest = serde_json::from_str(event).expect("an API Gateway event");
    let mut context = Context::default();
    context.request_id = request_id.to_owned();
    let adapter = lambda_http::Adapter::from(handler.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap_or_else(|never| match never {});
    serde_json::to_value(response).expect("response JSON")
}

/// A response header, from `headers` (payload 2.0) or, for payload 1.0,
/// the first of `multiValueHeaders`.
fn header<'a>(response: &'a Value, name: &str) -> Option<&'a str> {
    response["headers"][name]
        .as_str()
        .or_else(|| response["multiValueHeaders"][name][0].as_str())
}

/// The body as JSON, asserting it was sent as text.
fn body(response: &Value) -> Value {
    assert_eq!(response["isBase64Encoded"], false, "{response}");
    serde_json::from_str(response["body"].as_str().expect("a body")).expect("a JSON body")
}

fn status(response: &Value) -> u64 {
    response["statusCode"].as_u64().expect("statusCode")
}

#[tokio::test]
async fn an_http_api_list_read_answers_as_books_serve_with_etag_link_and_cors() {
    let handler = handler().await;
    let response = invoke(&handler, &event("http-api-books-page.json"), "req-list-1").await;
    assert_eq!(status(&response), 200, "{response}");
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&response, "cache-control"),
        Some(books::http::route::CachePolicy::Immutable.cache_control())
    );
    let link = header(&response, "link").expect("a Link header");
    assert!(
        link.contains("rel=\"next\"") && link.contains("rel=\"prev\""),
        "{link}"
    );
    // The platform's request id is the answer's and the logs' request id.
    assert_eq!(header(&response, "x-request-id"), Some("req-list-1"));
    let json = body(&response);
    assert_eq!(json["page"], 2);
    assert_eq!(json["items"].as_array().map(Vec::len), Some(5));

    let served = TestApp::new()
        .get("/api/v1/books?page=2&per_page=5&sort=price&order=desc")
        .await;
    assert_eq!(served.json(), json);
    assert_eq!(served.header("etag"), header(&response, "etag"));
    assert_eq!(served.header("link"), Some(link));
}

#[tokio::test]
async fn a_callers_own_request_id_wins_over_the_platforms() {
    let handler = handler().await;
    let mut event: Value = serde_json::from_str(&event("function-url-health.json")).unwrap();
    event["headers"]["x-request-id"] = "caller-chosen-42".into();
    let response = invoke(&handler, &event.to_string(), "platform-id").await;
    assert_eq!(status(&response), 200, "{response}");
    assert_eq!(header(&response, "x-request-id"), Some("caller-chosen-42"));
    assert_eq!(body(&response)["books"], 1000);
}

#[tokio::test]
async fn query_strings_are_decoded_the_same_from_both_payload_versions() {
    let handler = handler().await;
    // 2.0 sends the raw query (`%20` and `+`); 1.0 sends it decoded, and its
    // path has no stage prefix even though the stage is `prod`.
    let raw = invoke(&handler, &event("http-api-search-encoded.json"), "q2").await;
    let decoded = invoke(&handler, &event("rest-api-search.json"), "q1").await;
    assert_eq!(status(&raw), 200, "{raw}");
    assert_eq!(status(&decoded), 200, "{decoded}");
    let served = TestApp::new()
        .get("/api/v1/books/search?title=light%20in%20the&per_page=3")
        .await;
    assert_eq!(served.status, 200);
    let expected = served.json();
    assert_eq!(expected["items"][0]["id"], 1000, "{expected}");
    assert_eq!(body(&raw), expected);
    assert_eq!(body(&decoded), expected);
    assert_eq!(header(&raw, "etag"), served.header("etag"));
    assert_eq!(header(&decoded, "etag"), served.header("etag"));
    // REST API answers carry their headers as lists only.
    assert_eq!(decoded["headers"], serde_json::json!({}), "{decoded}");
    assert_eq!(
        decoded["multiValueHeaders"]["content-type"],
        serde_json::json!(["application/json"])
    );
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_is_a_304() {
    let handler = handler().await;
    let template = event("http-api-book-if-none-match.json");
    let stale = invoke(&handler, &template.replace("{etag}", "stale"), "etag-1").await;
    assert_eq!(status(&stale), 200, "{stale}");
    let etag = header(&stale, "etag").expect("an ETag").to_owned();
    assert_eq!(body(&stale)["title"], "A Light in the Attic");

    let unquoted = etag.trim_matches('"');
    let fresh = invoke(&handler, &template.replace("{etag}", unquoted), "etag-2").await;
    assert_eq!(status(&fresh), 304, "{fresh}");
    assert_eq!(header(&fresh, "etag"), Some(etag.as_str()));
    assert_eq!(
        header(&fresh, "cache-control"),
        Some(books::http::route::CachePolicy::Immutable.cache_control())
    );
    assert!(
        fresh["body"].as_str().unwrap_or_default().is_empty(),
        "{fresh}"
    );
}

#[tokio::test]
async fn a_preflight_names_the_routes_methods_and_mirrors_the_headers() {
    let handler = handler().await;
    let response = invoke(&handler, &event("http-api-preflight.json"), "pre").await;
    assert_eq!(status(&response), 204, "{response}");
    assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
    let methods = header(&response, "access-control-allow-methods").unwrap_or_default();
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(
        header(&response, "access-control-allow-headers"),
        Some("content-type,authorization")
    );
    assert_eq!(header(&response, "access-control-max-age"), Some("86400"));
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
}

#[tokio::test]
async fn refusals_are_problem_json_sent_as_text() {
    let handler = handler().await;
    for (file, expected, parameter) in [
        ("http-api-missing-book.json", 404, None),
        ("http-api-bad-parameter.json", 400, Some("per_page")),
        ("function-url-predictions-malformed.json", 400, None),
    ] {
        let response = invoke(&handler, &event(file), file).await;
        assert_eq!(status(&response), expected, "{file}: {response}");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/problem+json"),
            "{file}"
        );
        assert_eq!(header(&response, "access-control-allow-origin"), Some("*"));
        let problem = body(&response);
        assert_eq!(problem["status"], expected, "{file}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        if let Some(parameter) = parameter {
            assert_eq!(problem["parameter"], parameter, "{file}");
        }
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem_though_the_event_is_whole() {
    let handler = handler().await;
    let mut event: Value = serde_json::from_str(&event("http-api-predictions.json")).unwrap();
    let padding = "x".repeat(books::http::app::MAX_BODY_BYTES);
    event["body"] = serde_json::json!({"book_ids": [1000], "padding": padding})
        .to_string()
        .into();
    event["headers"]
        .as_object_mut()
        .unwrap()
        .remove("content-length");
    let response = invoke(&handler, &event.to_string(), "big").await;
    assert_eq!(status(&response), 413, "{}", response["body"]);
    assert_eq!(
        header(&response, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(body(&response)["status"], 413);
}

#[tokio::test]
async fn prediction_and_login_posts_read_their_bodies_text_or_base64() {
    let handler = handler().await;
    for file in ["http-api-predictions.json", "rest-api-predictions.json"] {
        let response = invoke(&handler, &event(file), file).await;
        assert_eq!(status(&response), 200, "{file}: {response}");
        assert_eq!(header(&response, "cache-control"), Some("no-store"));
        let json = body(&response);
        assert_eq!(json["predictions"][0]["book_id"], 1000, "{file}");
        assert_eq!(json["model"]["served_by"], "model-file");
        assert!(json["predictions"][0]["category"].is_string(), "{json}");
    }
    // The Function URL sends the login body base64-encoded.
    let login = invoke(&handler, &event("function-url-login-base64.json"), "login").await;
    assert_eq!(status(&login), 200, "{login}");
    assert_eq!(header(&login, "cache-control"), Some("no-store"));
    let tokens = body(&login);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    let access = tokens["access_token"].as_str().expect("an access token");
    // The token opens an admin route through the same function.
    let mut status_event: Value = serde_json::from_str(&event("function-url-health.json")).unwrap();
    status_event["rawPath"] = "/api/v1/scraping/status".into();
    status_event["requestContext"]["http"]["path"] = "/api/v1/scraping/status".into();
    status_event["headers"]["authorization"] = format!("Bearer {access}").into();
    let status_response = invoke(&handler, &status_event.to_string(), "status").await;
    assert_eq!(status(&status_response), 200, "{status_response}");
    assert_eq!(body(&status_response)["mode"], "github-actions");
}

#[tokio::test]
async fn behind_a_rest_api_stage_links_and_locations_keep_the_stage() {
    let handler = handler().await;
    // A page of a list through the `prod` stage: every link target is
    // under `/prod`, where API Gateway routes it back to this function.
    let mut page: Value = serde_json::from_str(&event("rest-api-search.json")).unwrap();
    page["queryStringParameters"] =
        serde_json::json!({"title": "the", "per_page": "3", "page": "2"});
    page["multiValueQueryStringParameters"] =
        serde_json::json!({"title": ["the"], "per_page": ["3"], "page": ["2"]});
    let response = invoke(&handler, &page.to_string(), "stage-links").await;
    assert_eq!(status(&response), 200, "{response}");
    let links = header(&response, "link").expect("a Link header");
    let targets: Vec<&str> = links
        .split(", ")
        .map(|link| link.split_once('>').expect("<target>").0)
        .collect();
    assert_eq!(targets.len(), 4, "{links}");
    for target in targets {
        assert!(
            target.starts_with("</prod/api/v1/books/search?"),
            "{target} in {links}"
        );
    }
    // Without a stage (an HTTP API's $default), the links are the API's own.
    let plain = invoke(&handler, &event("http-api-books-page.json"), "no-stage").await;
    let links = header(&plain, "link").expect("a Link header");
    assert!(links.starts_with("</api/v1/books?"), "{links}");

    // The trigger's Location, through the stage too.
    let mut trigger: Value = serde_json::from_str(&event("rest-api-search.json")).unwrap();
    trigger["httpMethod"] = "POST".into();
    trigger["path"] = Route::ScrapingTrigger.path().into();
    trigger["requestContext"]["path"] = format!("/prod{}", Route::ScrapingTrigger.path()).into();
    trigger["queryStringParameters"] = Value::Null;
    trigger["multiValueQueryStringParameters"] = Value::Null;
    let bearer = format!("Bearer {}", crate::app::admin_token());
    trigger["headers"]["authorization"] = bearer.clone().into();
    trigger["multiValueHeaders"]["authorization"] = serde_json::json!([bearer]);
    trigger["headers"]["content-type"] = "application/json".into();
    trigger["multiValueHeaders"]["content-type"] = serde_json::json!(["application/json"]);
    trigger["body"] = r#"{"reason":"the stage test"}"#.into();
    let response = invoke(&handler, &trigger.to_string(), "stage-location").await;
    assert_eq!(status(&response), 202, "{response}");
    assert_eq!(
        header(&response, "location"),
        Some("/prod/api/v1/scraping/status")
    );
}
