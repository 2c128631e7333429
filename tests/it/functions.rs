//! The real Vercel function binaries, started as they run outside Vercel (no
//! `VERCEL_IPC_PATH`: the runtime listens on `127.0.0.1:$VERCEL_DEV_PORT`),
//! each from a working directory laid out like a deployed function
//! (`data/books.db` beside it, and `data/model.json` for the functions that
//! use the model; no `BOOKS_DB`), called over HTTP.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use books::http::Route;
use serde_json::Value;

use crate::app::{ADMIN, token_for};

/// A function process, killed on drop.
struct Function {
    child: Child,
    addr: SocketAddr,
}

impl Function {
    /// Starts the binary of `route` in `workdir` and waits until it listens.
    fn start(route: Route, workdir: &Path) -> Function {
        Function::start_with(route, workdir, &[])
    }

    /// [`start`](Self::start), with more environment.
    fn start_with(route: Route, workdir: &Path, env: &[(&str, &str)]) -> Function {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(binary(route))
            .current_dir(workdir)
            .envs(crate::app::auth_env())
            .envs(env.iter().copied())
            .env("VERCEL_DEV_PORT", port.to_string())
            .env_remove("VERCEL_IPC_PATH")
            .env_remove("BOOKS_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("function binary starts");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "{route:?} did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Function { child, addr }
    }

    async fn get(&self, path_and_query: &str) -> (u16, reqwest::header::HeaderMap, String) {
        self.send(&Sample::get(path_and_query)).await
    }

    async fn send(&self, sample: &Sample) -> (u16, reqwest::header::HeaderMap, String) {
        let url = format!("http://{}{}", self.addr, sample.path);
        let client = reqwest::Client::new();
        let mut request = match &sample.body {
            None => client.get(url),
            Some(body) => {
                let (content_type, text) = crate::app::encoded_body(body);
                client
                    .post(url)
                    .header("content-type", content_type)
                    .body(text)
            }
        };
        let protected = Route::resolve(sample.path.split('?').next().unwrap_or_default())
            .is_some_and(|r| r.access() != books::http::route::Access::Public);
        if protected {
            request = request.bearer_auth(crate::app::admin_token());
        }
        let response = request
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("body"))
    }

    /// Stops the process and returns what it wrote on stdout.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        out
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary Cargo built for `route`'s `[[bin]]`.
fn binary(route: Route) -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_books"));
    exe.with_file_name(format!(
        "{}{}",
        route.bin_name(),
        std::env::consts::EXE_SUFFIX
    ))
}

/// A working directory like a deployed function's: `data/books.db`, and
/// `data/model.json` and its compact twin `data/model.bin` when `route`
/// uses the model (as vercel.json bundles them).
fn deployed_layout(route: Route) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("data")).expect("data dir");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files = vec!["books.db"];
    if route.uses_model() {
        files.extend(["model.json", "model.bin"]);
    }
    for file in files {
        std::fs::copy(data.join(file), dir.path().join("data").join(file)).expect("copy data");
    }
    dir
}

/// A request: a GET, or a POST of a JSON body.
struct Sample {
    path: String,
    body: Option<Value>,
}

impl Sample {
    fn get(path: &str) -> Sample {
        Sample {
            path: path.to_owned(),
            body: None,
        }
    }
}

/// A request for `route` as Vercel forwards it: the public path, and the
/// dynamic segment also as `?id=`.
fn sample_request(route: Route) -> Sample {
    match route {
        Route::BookById => Sample::get("/api/v1/books/1000?id=1000"),
        Route::BookSimilar => Sample::get("/api/v1/books/1000/similar?id=1000"),
        Route::BooksSearch => Sample::get("/api/v1/books/search?title=attic"),
        Route::BooksPriceRange => Sample::get("/api/v1/books/price-range?min=10&max=20"),
        Route::MlPredictions => Sample {
            path: route.path().to_owned(),
            body: Some(serde_json::json!({"book_ids": [1000]})),
        },
        Route::AuthLogin => Sample {
            path: route.path().to_owned(),
            body: Some(serde_json::json!({"username": ADMIN.0, "password": ADMIN.1})),
        },
        Route::AuthToken => Sample {
            path: route.path().to_owned(),
            body: Some(crate::app::admin_password_grant()),
        },
        Route::AuthRefresh => Sample {
            path: route.path().to_owned(),
            body: Some(serde_json::json!({"refresh_token": token_for(
                ADMIN.0,
                books::auth::Role::Admin,
                books::auth::TokenKind::Refresh
            )})),
        },
        Route::ScrapingTrigger => Sample {
            path: route.path().to_owned(),
            body: Some(serde_json::json!({"reason": "the function test"})),
        },
        other => Sample::get(other.path()),
    }
}

#[tokio::test]
async fn every_function_binary_answers_its_route_with_real_data() {
    // The operators' functions dispatch to a GitHub stand-in with no runs.
    let github = crate::common::idle_github().await;
    let github_env = [
        ("BOOKS_GITHUB_REPO", "books-toscrape/books"),
        ("BOOKS_GITHUB_TOKEN", "test-token"),
        ("BOOKS_GITHUB_API_URL", github.as_str()),
    ];
    for route in Route::ALL {
        let workdir = deployed_layout(route);
        let function = Function::start_with(route, workdir.path(), &github_env);
        let request = sample_request(route);
        let (status, headers, body) = function.send(&request).await;
        let success = books::http::openapi::success_status(route);
        assert_eq!(status, success, "{route:?} {}: {body}", request.path);
        // Public reads carry an ETag; other answers are never stored.
        let stored = route.cache_policy() != books::http::route::CachePolicy::NoStore;
        assert_eq!(headers.get("etag").is_some(), stored, "{route:?}");
        if !stored {
            assert_eq!(
                headers.get("cache-control").and_then(|v| v.to_str().ok()),
                Some("no-store"),
                "{route:?}"
            );
        }
        assert_eq!(
            headers
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            Some("*")
        );
        let json: Value = serde_json::from_str(&body).expect("JSON body");
        match route {
            Route::Health => assert_eq!(json["books"], 1000),
            Route::BookById => assert_eq!(json["title"], "A Light in the Attic"),
            Route::BookSimilar => {
                assert_eq!(json["book_id"], 1000);
                assert_eq!(json["items"].as_array().map(Vec::len), Some(5));
            }
            Route::Books | Route::BooksTopRated => assert_eq!(json["total"], 1000),
            Route::BooksSearch => assert_eq!(json["items"][0]["id"], 1000),
            Route::BooksPriceRange => assert!(json["total"].as_u64().unwrap() > 0),
            Route::Categories | Route::StatsCategories => assert_eq!(json["total"], 50),
            Route::StatsOverview => assert_eq!(json["total_stock"], 8585),
            Route::OpenApi => assert_eq!(json["openapi"], "3.1.0"),
            Route::MlPredictions => {
                assert_eq!(json["predictions"][0]["book_id"], 1000);
                assert_eq!(json["model"]["served_by"], "model-file");
            }
            Route::MlModel => assert_eq!(json["name"], "book-category"),
            Route::ScrapingTrigger => {
                assert_eq!(json["mode"], "github-actions");
                assert_eq!(json["reason"], "the function test");
                assert_eq!(
                    headers.get("location").and_then(|v| v.to_str().ok()),
                    Some("/api/v1/scraping/status")
                );
            }
            Route::ScrapingStatus => {
                assert_eq!(json["mode"], "github-actions");
                assert_eq!(json["runs"], serde_json::json!([]));
                assert_eq!(
                    json["data"]["content_hash"].as_str().map(str::len),
                    Some(64)
                );
            }
            Route::AuthLogin | Route::AuthToken | Route::AuthRefresh => {
                assert_eq!(json["token_type"], "Bearer");
                assert_eq!(json["expires_in"], 900);
                assert!(json["access_token"].as_str().is_some_and(|t| t.len() > 100));
            }
            Route::MlTrainingData => assert_eq!(json["count"], 1000),
            Route::MlFeatures => {
                assert_eq!(json["data"]["books"], 1000);
                // The model bundled with it: the targets' findings are there.
                assert!(json["model"]["version"].is_string(), "{json}");
                assert!(json["targets"][0]["finding"].is_object(), "{json}");
            }
        }
        // One JSON log line per request on stdout.
        let log = function.stop();
        let line = log
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|l| l["event"] == "request")
            .unwrap_or_else(|| panic!("{route:?}: no request log line in {log:?}"));
        assert_eq!(line["status"], success);
        let method = if request.body.is_some() {
            "POST"
        } else {
            "GET"
        };
        assert_eq!(line["method"], method);
        assert!(line["duration_us"].is_u64());
        assert!(line["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
}

#[tokio::test]
async fn the_id_function_takes_the_path_id_and_the_rewrites_query() {
    let workdir = deployed_layout(Route::BookById);
    let function = Function::start(Route::BookById, workdir.path());
    // Vercel's rewrite: the id arrives as ?id=, with the public path or the
    // function's own file path.
    let (status, _, body) = function.get("/api/v1/books/[id]?id=1").await;
    assert_eq!(status, 200, "{body}");
    let book: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(book["id"], 1);
    let (status, _, _) = function.get("/api/v1/books/7").await;
    assert_eq!(status, 200);
    let (status, _, body) = function.get("/api/v1/books/x?id=abc").await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = function.get("/api/v1/books/99999?id=99999").await;
    assert_eq!(status, 404);
    // The path wins; a query that disagrees with it is refused.
    let (status, _, body) = function.get("/api/v1/books/1?id=5").await;
    assert_eq!(status, 400, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["parameter"], "id");
    // Only its own route: another endpoint's path is a 404 problem here.
    let (status, headers, _) = function.get("/api/v1/categories").await;
    assert_eq!(status, 404);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
}

#[tokio::test]
async fn the_similar_function_takes_the_path_id_and_the_rewrites_query() {
    let workdir = deployed_layout(Route::BookSimilar);
    let function = Function::start(Route::BookSimilar, workdir.path());
    // As Vercel's rewrite sends it: ?id=, with the function's file path or
    // the public one.
    for path in [
        "/api/v1/books/[id]/similar?id=1&limit=3",
        "/api/v1/books/1/similar?id=1&limit=3",
        "/api/v1/books/1/similar?limit=3",
    ] {
        let (status, _, body) = function.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["book_id"], 1, "{path}");
        assert_eq!(json["items"].as_array().map(Vec::len), Some(3), "{path}");
    }
    for (path, status) in [
        ("/api/v1/books/1/similar?id=5", 400),
        ("/api/v1/books/[id]/similar", 400),
        ("/api/v1/books/1/similar?limit=21", 400),
        ("/api/v1/books/99999/similar", 404),
        // Only its own route: the book itself is another function's.
        ("/api/v1/books/1", 404),
    ] {
        let (got, headers, body) = function.get(path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_function_without_its_database_answers_503_problems() {
    let empty = tempfile::tempdir().expect("temp dir");
    let health = Function::start(Route::Health, empty.path());
    let (status, headers, body) = health.get("/api/v1/health").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 503);
    // The internal reason (a path on the server) stays in the logs.
    assert!(!body.contains("books.db"), "{body}");

    let books = Function::start(Route::Books, empty.path());
    let (status, _, _) = books.get("/api/v1/books").await;
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_model_function_without_a_sound_model_answers_503_problems() {
    let request = sample_request(Route::MlPredictions);
    // No model file at all, then one changed after training.
    let missing = deployed_layout(Route::Health);
    let corrupt = deployed_layout(Route::MlPredictions);
    let model = corrupt.path().join("data/model.json");
    let text = std::fs::read_to_string(&model).expect("model");
    std::fs::write(&model, text.replacen("\"Fiction\"", "\"Fictional\"", 1)).expect("write");
    for workdir in [&missing, &corrupt] {
        let function = Function::start(Route::MlPredictions, workdir.path());
        let (status, headers, body) = function.send(&request).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert!(body.contains("model is unavailable"), "{body}");
        assert!(!body.contains("model.json"), "no server path in {body}");
        let log = function.stop();
        assert!(log.contains("\"event\":\"model_unavailable\""), "{log}");
    }
}
