//! Orchestrator mode against a loopback stand-in of the model endpoint, for
//! what a real `mlflow models serve` cannot be made to do on cue: fail with
//! a stack trace, stall, close mid-answer, answer nonsense or the wrong
//! number of predictions. Each is a 502 or 504 problem that passes nothing
//! of the answer on, and the API keeps answering. The real MLflow server is
//! in `tests/it/mlflow.rs`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use books::adapters::{load_model, open_store};
use books::http::AppState;
use books::ml::serving::{ModelServing, ServingConfig};
use serde_json::{Value, json};

use crate::app::{committed_db, serve_state as api};

mod stand_in;

use stand_in::{Reply, upstream};

/// The answers of the model routes in orchestrator mode, in process, for the
/// OpenAPI check (`tests/it/openapi.rs`): served predictions, the served
/// model's card and health with the endpoint (200), an endpoint that fails
/// (502) or stalls (504).
pub(crate) async fn orchestrator_answers() -> Vec<crate::openapi::Seen> {
    use books::http::Route;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let card: Value = serde_json::from_slice(
        &std::fs::read(committed_db().with_file_name("model.json")).unwrap(),
    )
    .unwrap();
    let good = upstream(Reply::Describing(Arc::new(card)), Duration::ZERO).await;
    let failing = upstream(Reply::Status(500, "{}"), Duration::ZERO).await;
    let stalled = upstream(Reply::Stall, Duration::ZERO).await;
    let predict = || Some(json!({"instances": [{"title": "x"}]}).to_string());
    let cases = [
        (&good, Route::MlPredictions, predict(), 200),
        // By id: each prediction names its book (`book_id`).
        (
            &good,
            Route::MlPredictions,
            Some(json!({"book_ids": [3]}).to_string()),
            200,
        ),
        (&good, Route::MlModel, None, 200),
        (&good, Route::Health, None, 200),
        (&failing, Route::MlPredictions, predict(), 502),
        (&failing, Route::MlModel, None, 502),
        (&stalled, Route::MlPredictions, predict(), 504),
        (&stalled, Route::MlModel, None, 504),
    ];
    let mut seen = Vec::new();
    for (upstream, route, body, expected) in cases {
        let app = books::http::app::api(&Route::ALL, orchestrated(&upstream.url, false));
        let method = route.methods().served()[0].clone();
        let request = http::Request::builder()
            .method(method.clone())
            .uri(route.path())
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.unwrap_or_default()))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let label = format!(
            "{method} {} in orchestrator mode ({expected})",
            route.path()
        );
        assert_eq!(parts.status.as_u16(), expected, "{label}: {body:?}");
        seen.push(crate::openapi::Seen {
            label,
            route,
            method,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        });
    }
    seen
}

/// The client of `url` with a short timeout, so stalls end quickly.
fn serving(url: &str, max_connections: usize) -> ModelServing {
    let mut config = ServingConfig::new(url).unwrap();
    config.timeout = Duration::from_millis(1000);
    config.connect_timeout = Duration::from_millis(1000);
    config.max_connections = max_connections;
    ModelServing::new(config).unwrap()
}

fn orchestrated(url: &str, with_model_file: bool) -> AppState {
    let db = committed_db();
    let mut state = AppState::new(open_store(&db)).with_serving(Ok(serving(url, 8)));
    if with_model_file {
        state = state.with_model(load_model(&db.with_file_name("model.json")));
    }
    state
}

async fn post(api: &str, path: &str, body: Value) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new()
        .post(format!("{api}{path}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap(), headers)
}

async fn get(api: &str, path: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{api}{path}")).await.unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_predictions_are_sent_as_dataframe_split_and_shaped_like_phase_one() {
    let upstream = upstream(Reply::Predictions { extra_rows: 0 }, Duration::ZERO).await;
    let api = api(orchestrated(&upstream.url, false)).await;
    let body = json!({"instances": [
        {"title": "Ghosts", "description": "a haunted house"},
        {"title": "Verses"},
    ]});
    let (status, answer, _) = post(&api, "/api/v1/ml/predictions?top=2", body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["model"],
        json!({"name": "book-category", "version": "standin000000001", "served_by": "mlflow"})
    );
    // Ranked by probability, the tie (Art, Mystery) by name.
    let expected = json!({"category": "Poetry", "probability": 0.5, "top": [
        {"category": "Poetry", "probability": 0.5},
        {"category": "Art", "probability": 0.25},
    ]});
    assert_eq!(answer["predictions"], json!([expected, expected]));

    // By id: the catalogue's text is sent.
    let (status, answer, _) = post(&api, "/api/v1/ml/predictions", json!({"book_ids": [2]})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["predictions"][0]["book_id"], 2);

    let received = upstream.received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let head = received[0].head.to_ascii_lowercase();
    assert!(head.starts_with("post /invocations http/1.1"), "{head}");
    assert!(
        head.contains("\r\ncontent-type: application/json"),
        "{head}"
    );
    let sent: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(
        sent,
        json!({"dataframe_split": {
            "columns": ["title", "description"],
            // A left-out description is sent as "", never null.
            "data": [["Ghosts", "a haunted house"], ["Verses", ""]],
        }})
    );
    let sent: Value = serde_json::from_slice(&received[1].body).unwrap();
    let (_, book) = get(&api, "/api/v1/books/2").await;
    assert_eq!(
        sent["dataframe_split"]["data"],
        json!([[book["title"], book["description"]]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_are_502_or_504_problems_and_the_api_stays_up() {
    let trace = r#"{"error_code": "BAD_REQUEST", "stack_trace": "Traceback (most recent call last):\n  File \"/srv/models/secret_path.py\""}"#;
    let cases = [
        (
            Reply::Status(500, trace),
            502,
            "the model endpoint answered 500",
        ),
        (
            Reply::Status(400, trace),
            502,
            "the model endpoint answered 400",
        ),
        (
            Reply::Status(415, "{}"),
            502,
            "the model endpoint answered 415",
        ),
        (
            Reply::Stall,
            504,
            "the model endpoint did not answer within 1000 ms",
        ),
        (
            Reply::CutShort,
            502,
            "the model endpoint's answer is malformed: cut short",
        ),
        (
            Reply::Body("{\"predictions\": [{\"probabilities\": "),
            502,
            "the model endpoint's answer is malformed: not the JSON expected",
        ),
        (
            Reply::Body(
                r#"{"predictions": [{"probabilities": {"a": NaN, "b": 1.0}, "model_version": "v"}]}"#,
            ),
            502,
            "the model endpoint's answer is malformed: not the JSON expected",
        ),
        (
            Reply::Body(
                r#"{"predictions": [{"probabilities": {"a": 0.9, "b": 0.9}, "model_version": "v"}]}"#,
            ),
            502,
            "the model endpoint's answer is malformed: probabilities that do not sum to 1",
        ),
        (
            Reply::Predictions { extra_rows: 1 },
            502,
            "the model endpoint's answer is malformed: not one prediction per book",
        ),
    ];
    for (reply, status, detail) in cases {
        let upstream = upstream(reply, Duration::ZERO).await;
        let api = api(orchestrated(&upstream.url, true)).await;
        let (got, problem, headers) = post(
            &api,
            "/api/v1/ml/predictions",
            json!({"instances": [{"title": "x"}]}),
        )
        .await;
        assert_eq!(
            (got, problem["detail"].as_str()),
            (status, Some(detail)),
            "{problem}"
        );
        assert_eq!(problem["status"], status);
        assert_eq!(headers["content-type"], "application/problem+json");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(!problem.to_string().contains("Traceback"), "{problem}");
        // Never retried: the endpoint was reached (or timed out) once.
        assert_eq!(upstream.received.lock().unwrap().len(), 1, "{detail}");
        let (health, _) = get(&api, "/api/v1/books/1").await;
        assert_eq!(health, 200, "the API still answers after: {detail}");
    }

    // Nothing listens at a port that was just free: one retry, then 502.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let api = api(orchestrated(&url, false)).await;
    let (got, problem, _) = post(
        &api,
        "/api/v1/ml/predictions",
        json!({"instances": [{"title": "x"}]}),
    )
    .await;
    assert_eq!(got, 502, "{problem}");
    assert_eq!(problem["detail"], "the model endpoint could not be reached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_are_bounded_by_the_pool() {
    let upstream = upstream(
        Reply::Predictions { extra_rows: 0 },
        Duration::from_millis(100),
    )
    .await;
    // Time enough for three waves of two calls (waiting counts in it), so
    // the bound, not the clock, decides.
    let mut config = ServingConfig::new(&upstream.url).unwrap();
    config.max_connections = 2;
    let serving = ModelServing::new(config).unwrap();
    let state = AppState::new(open_store(&committed_db())).with_serving(Ok(serving));
    let api = api(state).await;
    let calls = (0..6).map(|i| {
        let api = api.clone();
        async move {
            let body = json!({"instances": [{"title": format!("book {i}")}]});
            post(&api, "/api/v1/ml/predictions", body).await.0
        }
    });
    let statuses = futures::future::join_all(calls).await;
    assert_eq!(statuses, [200; 6]);
    assert_eq!(upstream.received.lock().unwrap().len(), 6);
    assert!(
        upstream.peak.load(Ordering::SeqCst) <= 2,
        "{}",
        upstream.peak.load(Ordering::SeqCst)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_model_endpoint_without_failing_for_it() {
    let up = upstream(Reply::Predictions { extra_rows: 0 }, Duration::ZERO).await;
    let api_up = api(orchestrated(&up.url, false)).await;
    let (status, health) = get(&api_up, "/api/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["model_endpoint"]["status"], "ok", "{health}");
    assert!(health["model_endpoint"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(
        up.received.lock().unwrap()[0]
            .head
            .starts_with("GET /ping HTTP/1.1")
    );

    let failing = upstream(Reply::Status(503, "{}"), Duration::ZERO).await;
    let (status, health) = get(
        &api(orchestrated(&failing.url, false)).await,
        "/api/v1/health",
    )
    .await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        health["model_endpoint"],
        json!({"status": "error", "http_status": 503})
    );

    let stalled = upstream(Reply::Stall, Duration::ZERO).await;
    let (status, health) = get(
        &api(orchestrated(&stalled.url, false)).await,
        "/api/v1/health",
    )
    .await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["model_endpoint"], json!({"status": "timeout"}));

    // Phase 1: no model endpoint, nothing said about one.
    let state = AppState::new(open_store(&committed_db()));
    let (_, health) = get(&api(state).await, "/api/v1/health").await;
    assert!(health.get("model_endpoint").is_none(), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_card_falls_back_to_the_file_and_says_so() {
    let failing = upstream(Reply::Status(500, "{}"), Duration::ZERO).await;
    let (status, view) = get(
        &api(orchestrated(&failing.url, true)).await,
        "/api/v1/ml/model",
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["served_by"].as_str(), view["card_source"].as_str()),
        (Some("mlflow"), Some("model-file"))
    );
    assert!(view["card"]["evaluation"].is_object());

    // Neither the endpoint nor a file can describe the model.
    let (status, problem) = get(
        &api(orchestrated(&failing.url, false)).await,
        "/api/v1/ml/model",
    )
    .await;
    assert_eq!(status, 502, "{problem}");

    // Phase 1 says where its card comes from too.
    let db = committed_db();
    let state =
        AppState::new(open_store(&db)).with_model(load_model(&db.with_file_name("model.json")));
    let (_, view) = get(&api(state).await, "/api/v1/ml/model").await;
    assert_eq!(
        (view["served_by"].as_str(), view["card_source"].as_str()),
        (Some("model-file"), Some("model-file"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_serving_setting_is_a_503_not_a_silent_fallback() {
    let db = committed_db();
    let state = AppState::new(open_store(&db))
        .with_model(load_model(&db.with_file_name("model.json")))
        .with_serving(Err("BOOKS_MODEL_SERVING_URL is not a URL".into()));
    let api = api(state).await;
    let (status, problem, _) = post(
        &api,
        "/api/v1/ml/predictions",
        json!({"instances": [{"title": "x"}]}),
    )
    .await;
    assert_eq!(status, 503, "{problem}");
    let (status, health) = get(&api, "/api/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["model_endpoint"], json!({"status": "misconfigured"}));
}
