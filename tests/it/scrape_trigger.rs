//! The scrape trigger of the real `books serve`, in the process: an admin
//! triggers a scrape of a site the test serves (the generated 45-book site),
//! follows it on the status route to success, and sees the served data
//! change, while a steady stream of requests during the swap all succeed. A
//! scrape that fails leaves the served data, and the files, byte for byte.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app::{ADMIN, Reply, auth_env, committed_db};
use crate::common::{BOOKS, Fault, Site, product_path};
use crate::metrics::sample;
use crate::served::Served;

/// The committed data, copied into a fresh directory the server may replace.
fn data_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = committed_db().parent().expect("data dir").to_owned();
    for file in ["books.csv", "books.db"] {
        std::fs::copy(data.join(file), dir.path().join(file)).expect("copy");
    }
    dir
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    files.sort();
    files
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn admin_token(server: &Served) -> String {
    let body = json!({"username": ADMIN.0, "password": ADMIN.1}).to_string();
    let response = client()
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sign in");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn trigger(server: &Served, token: &str, reason: &str) -> Reply {
    let response = client()
        .post(server.url("/api/v1/scraping/trigger"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(json!({ "reason": reason }).to_string())
        .send()
        .await
        .expect("trigger");
    Reply::read(response).await
}

async fn status(server: &Served, token: &str) -> Value {
    let response = client()
        .get(server.url("/api/v1/scraping/status"))
        .bearer_auth(token)
        .send()
        .await
        .expect("status");
    let reply = Reply::read(response).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()
}

/// Polls the status until the run has ended; its last state.
async fn finished_run(server: &Served, token: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = status(server, token).await;
        if status["run"]["state"] != "running" {
            return status;
        }
        assert!(Instant::now() < deadline, "the run did not end: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn health(server: &Served) -> Value {
    let response = client()
        .get(server.url("/api/v1/health"))
        .send()
        .await
        .expect("health");
    Reply::read(response).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triggered_scrape_replaces_the_served_data_without_a_failed_request() {
    // The first listing page answers after a second, so the run is
    // certainly still going when the second trigger comes.
    let (site, base_url) = Site::generate()
        .script(
            "/catalogue/page-1.html",
            vec![Fault::Hang(Duration::from_secs(1))],
        )
        .start()
        .await;
    let data = data_copy();
    let db = data.path().join("books.db");
    let server = Served::start(&db, &["--scrape-base-url", base_url.as_str()], &auth_env());
    let token = admin_token(&server).await;
    let before = health(&server).await;
    assert_eq!(before["books"], 1000);
    let idle = status(&server, &token).await;
    assert_eq!(idle["mode"], "in-process");
    assert_eq!(idle["run"], Value::Null);

    // Requests all the way through the swap, each one checked.
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (stop, answered, failed) = (stop.clone(), answered.clone(), failed.clone());
        let urls = [
            server.url("/api/v1/books/1"),
            server.url("/api/v1/books?per_page=50"),
        ];
        tokio::spawn(async move {
            let client = client();
            while !stop.load(Ordering::Relaxed) {
                for url in &urls {
                    let ok = match client.get(url).send().await {
                        Ok(response) => response.status() == 200 && response.text().await.is_ok(),
                        Err(_) => false,
                    };
                    let counter = if ok { &answered } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };

    let reply = trigger(&server, &token, "end-to-end test").await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.header("location"), Some("/api/v1/scraping/status"));
    let accepted = reply.json();
    assert_eq!(accepted["mode"], "in-process");
    assert_eq!(accepted["reason"], "end-to-end test");
    assert_eq!(accepted["run"]["state"], "running");
    let again = trigger(&server, &token, "too soon").await;
    assert_eq!(again.problem(409)["status"], 409);

    let ended = finished_run(&server, &token).await;
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load task");
    let run = &ended["run"];
    assert_eq!(run["state"], "succeeded", "{ended}");
    assert_eq!(run["reason"], "end-to-end test");
    assert_eq!(run["book_count"], BOOKS);
    assert_eq!(run["failures"], 0);
    assert!(run["pages"].as_u64() >= Some(u64::from(BOOKS)), "{run}");
    assert!(run["finished_at"].is_string());
    assert_eq!(ended["data"]["content_hash"], run["content_hash"]);
    assert_ne!(run["content_hash"], idle["data"]["content_hash"]);
    assert!(idle["data"]["content_hash"].is_string(), "{idle}");

    // The served data is the new scrape; the files are too.
    let after = health(&server).await;
    assert_eq!(after["books"], BOOKS, "{after}");
    let csv = std::fs::read_to_string(data.path().join("books.csv")).expect("csv");
    assert_eq!(csv.lines().count(), BOOKS as usize + 1);
    assert!(!site.hits(&product_path(BOOKS)).is_empty());
    let (answered, failed) = (
        answered.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed",
        answered + failed
    );
    assert!(answered > 20, "only {answered} requests during the scrape");

    // The metrics tell the same story, and name the new data.
    let metrics = server.text("/metrics").await;
    for (series, value) in [
        (
            "books_scrape_triggers_total{mode=\"in-process\",outcome=\"started\"}",
            1.0,
        ),
        (
            "books_scrape_triggers_total{mode=\"in-process\",outcome=\"already_running\"}",
            1.0,
        ),
        ("books_scrape_runs_total{outcome=\"succeeded\"}", 1.0),
        (
            "books_scrape_run_duration_seconds_count{outcome=\"succeeded\"}",
            1.0,
        ),
        ("books_data_books", f64::from(BOOKS)),
    ] {
        assert_eq!(sample(&metrics, series), Some(value), "{series}\n{metrics}");
    }
    let new_hash = run["content_hash"].as_str().expect("hash");
    assert!(
        metrics.contains(&format!("books_data_info{{content_hash=\"{new_hash}\"")),
        "{metrics}"
    );
    let logs = server.stop();
    assert!(
        logs.contains("\"event\":\"scrape_run_finished\""),
        "{logs:.3000}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scrape_leaves_the_served_data_and_the_files_untouched() {
    // One product page is missing for good.
    let (_site, base_url) = Site::generate()
        .always(&product_path(7), Fault::Status(404))
        .start()
        .await;
    let data = data_copy();
    let files = snapshot(data.path());
    let db = data.path().join("books.db");
    let server = Served::start(&db, &["--scrape-base-url", base_url.as_str()], &auth_env());
    let token = admin_token(&server).await;
    let before = health(&server).await;
    let reply = trigger(&server, &token, "").await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.json()["reason"], "api");
    let ended = finished_run(&server, &token).await;
    let run = &ended["run"];
    assert_eq!(run["state"], "failed", "{ended}");
    assert!(
        run["error"]
            .as_str()
            .is_some_and(|e| e.contains(&product_path(7))),
        "{run}"
    );
    assert_eq!(run["content_hash"], Value::Null);
    assert_eq!(health(&server).await, before);
    assert_eq!(snapshot(data.path()), files, "the data files changed");
    // The trigger is free again.
    let reply = trigger(&server, &token, "retry").await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    finished_run(&server, &token).await;
    assert_eq!(snapshot(data.path()), files);
    let metrics = server.text("/metrics").await;
    assert_eq!(
        sample(&metrics, "books_scrape_runs_total{outcome=\"failed\"}"),
        Some(2.0),
        "{metrics}"
    );
}

/// The trigger's body is optional (none at all); when given it is a JSON
/// trigger request (an object: `null` is not one), or a 4xx problem. Against the shared server, whose
/// trigger dispatches to a GitHub stand-in that accepts every run.
#[tokio::test]
async fn the_trigger_body_is_optional_and_checked() {
    let app = crate::app::TestApp::new();
    let path = "/api/v1/scraping/trigger";
    let json = Some("application/json");
    let long = json!({ "reason": "r".repeat(201) }).to_string();
    let cases: Vec<(Option<&str>, String, u16)> = vec![
        (None, String::new(), 202),
        (json, String::new(), 202),
        (json, "  \n".into(), 202),
        (json, "null".into(), 422),
        (json, "{}".into(), 202),
        (json, r#"{"reason":"nightly"}"#.into(), 202),
        (
            Some("application/merge-patch+json"),
            r#"{"reason":"x"}"#.into(),
            202,
        ),
        (json, "{".into(), 400),
        (json, "reason=x".into(), 400),
        (Some("text/plain"), "please".into(), 415),
        (None, r#"{"reason":"x"}"#.into(), 415),
        (json, r#"{"reason":5}"#.into(), 422),
        (json, r#"{"reason":"x","force":true}"#.into(), 422),
        (json, r#"{"reason":"a\u0007b"}"#.into(), 422),
        (json, "[]".into(), 422),
        (json, long, 422),
    ];
    for (content_type, body, status) in cases {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| ("content-type", t))
            .into_iter()
            .collect();
        let label = format!("{content_type:?} {body:.40}");
        let reply = app
            .send(reqwest::Method::POST, path, &headers, Some(body))
            .await;
        assert_eq!(reply.status, status, "{label}: {}", reply.text);
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{label}");
        if status == 202 {
            assert_eq!(reply.json()["mode"], "github-actions");
        } else {
            reply.problem(status);
        }
    }
}
