//! The built `books-lambda` function in cargo-lambda's local emulator: the
//! emulator (`cargo lambda watch --only-lambda-apis`) plays the Lambda
//! runtime API, the function binary polls it from a working directory laid
//! out like the deployment zip (`data/books.db`, `data/model.json`,
//! `data/model.bin`), and
//! `cargo lambda invoke` sends it API Gateway events. For every route the
//! answer (status, body, the headers that matter) equals `books serve`'s.
//!
//! cargo-lambda comes from `scripts/lambda/setup.sh` (pinned, into
//! `.tools/lambda`) or `$BOOKS_CARGO_LAMBDA`. The tests are `#[ignore]`d, with
//! that reason, so plain `cargo test` lists them as ignored;
//! `cargo test -- --include-ignored` (as `.ci/run` runs, after the setup)
//! runs them, and then a missing cargo-lambda is a failure.

mod emulator {
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use books::http::Route;
    use books::http::route::Access;
    use serde_json::{Value, json};

    use crate::app::{ADMIN, TestApp, admin_token, token_for};

    /// The function's name in the emulator.
    const FUNCTION: &str = "books-lambda";

    /// The cargo-lambda executable; panics, saying how to get it, when it is
    /// missing (the test runs only when asked for: `--include-ignored`).
    pub fn cargo_lambda(test: &str) -> PathBuf {
        let path = std::env::var_os("BOOKS_CARGO_LAMBDA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/lambda/bin/cargo-lambda")
            });
        assert!(
            path.is_file(),
            "{test} needs cargo-lambda, and there is none at {} \
             (scripts/lambda/setup.sh installs it; .ci/run runs that; \
             BOOKS_CARGO_LAMBDA names another)",
            path.display()
        );
        path
    }

    /// A child process, killed on drop.
    struct Process(Child);

    impl Process {
        /// Panics if the process has exited (a function that could not
        /// start would leave every invoke waiting).
        fn assert_running(&mut self, what: &str) {
            if let Ok(Some(status)) = self.0.try_wait() {
                panic!("{what} exited ({status}) before the invoke");
            }
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port()
    }

    /// The emulator on `127.0.0.1:port`, once it accepts connections.
    fn start_emulator(cargo_lambda: &Path, port: u16) -> Process {
        let child = Command::new(cargo_lambda)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            // Its own CORS headers would be mixed into the app's.
            .arg("--disable-cors")
            // An invoke fails after 30 s rather than waiting for a function
            // that died.
            .args(["--timeout", "30"])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch starts");
        let emulator = Process(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        emulator
    }

    /// The binary (`$BOOKS_LAMBDA_BIN`, else the one this test run built),
    /// started in `workdir` against the emulator on `port`, with the test
    /// accounts and `env`. `$BOOKS_LAMBDA_RUNNER` (a command and its
    /// arguments, split at spaces) runs it: `qemu-aarch64 -L
    /// /usr/aarch64-linux-gnu` runs the zip's arm64 `bootstrap` here.
    fn start_function(port: u16, workdir: &Path, env: &[(&str, &str)]) -> Process {
        let binary = std::env::var_os("BOOKS_LAMBDA_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_books-lambda")));
        let runner = std::env::var("BOOKS_LAMBDA_RUNNER").unwrap_or_default();
        let mut runner = runner.split_whitespace();
        let mut command = match runner.next() {
            Some(program) => {
                let mut command = Command::new(program);
                command.args(runner).arg(&binary);
                command
            }
            None => Command::new(&binary),
        };
        let child = command
            .current_dir(workdir)
            .env_remove("BOOKS_DB")
            .env_remove("BOOKS_MODEL")
            .envs(crate::app::auth_env())
            .envs(env.iter().copied())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{FUNCTION}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("books-lambda starts");
        Process(child)
    }

    /// A working directory like the deployment zip's.
    fn zip_layout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("data")).expect("data dir");
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        for file in ["books.db", "model.json", "model.bin"] {
            std::fs::copy(data.join(file), dir.path().join("data").join(file)).expect("copy data");
        }
        dir
    }

    /// One request of the comparison.
    struct Call {
        method: &'static str,
        path_and_query: String,
        body: Option<Value>,
    }

    impl Call {
        fn get(path_and_query: &str) -> Call {
            Call {
                method: "GET",
                path_and_query: path_and_query.to_owned(),
                body: None,
            }
        }

        fn post(path: &str, body: Value) -> Call {
            Call {
                method: "POST",
                path_and_query: path.to_owned(),
                body: Some(body),
            }
        }

        fn path(&self) -> &str {
            self.path_and_query.split('?').next().unwrap_or_default()
        }

        fn query(&self) -> &str {
            self.path_and_query
                .split_once('?')
                .map(|(_, q)| q)
                .unwrap_or_default()
        }
    }

    /// A request for every route, with queries that exercise decoding.
    fn calls() -> Vec<Call> {
        let calls: Vec<Call> = Route::ALL
            .into_iter()
            .map(|route| match route {
                Route::Books => Call::get("/api/v1/books?page=3&per_page=4&category=Poetry"),
                Route::BookById => Call::get("/api/v1/books/1000"),
                Route::BookSimilar => Call::get("/api/v1/books/1000/similar?limit=3"),
                Route::BooksSearch => Call::get("/api/v1/books/search?title=light%20in+the"),
                Route::BooksTopRated => Call::get("/api/v1/books/top-rated?per_page=2"),
                Route::BooksPriceRange => Call::get("/api/v1/books/price-range?min=10&max=20.5"),
                Route::MlTrainingData => Call::get("/api/v1/ml/training-data?per_page=2"),
                Route::MlPredictions => Call::post(route.path(), json!({"book_ids": [1000, 999]})),
                Route::AuthLogin => Call::post(
                    route.path(),
                    json!({"username": ADMIN.0, "password": ADMIN.1}),
                ),
                Route::AuthToken => Call::post(route.path(), crate::app::admin_password_grant()),
                Route::AuthRefresh => Call::post(
                    route.path(),
                    json!({"refresh_token": token_for(
                        ADMIN.0,
                        books::auth::Role::Admin,
                        books::auth::TokenKind::Refresh
                    )}),
                ),
                Route::ScrapingTrigger => {
                    Call::post(route.path(), json!({"reason": "the emulator test"}))
                }
                other => Call::get(other.path()),
            })
            .collect();
        // Refusals too: a 404 problem and a 400 naming its parameter.
        calls
            .into_iter()
            .chain([
                Call::get("/api/v1/books/99999"),
                Call::get("/api/v1/books?per_page=0"),
            ])
            .collect()
    }

    /// The API Gateway HTTP API event for `call`, from the event file.
    fn event_for(call: &Call) -> Value {
        let mut event: Value =
            serde_json::from_str(&crate::lambda::event("http-api-books-page.json")).unwrap();
        event["rawPath"] = call.path().into();
        event["rawQueryString"] = call.query().into();
        event
            .as_object_mut()
            .unwrap()
            .remove("queryStringParameters");
        event["requestContext"]["http"]["method"] = call.method.into();
        event["requestContext"]["http"]["path"] = call.path().into();
        // No compression here or at books serve: the bodies compare as text.
        event["headers"]
            .as_object_mut()
            .unwrap()
            .remove("accept-encoding");
        if let Some(body) = &call.body {
            let (content_type, text) = crate::app::encoded_body(body);
            event["body"] = text.into();
            event["headers"]["content-type"] = content_type.into();
        }
        let protected = Route::resolve(call.path()).is_some_and(|r| r.access() != Access::Public);
        if protected {
            event["headers"]["authorization"] = format!("Bearer {}", admin_token()).into();
        }
        event
    }

    /// `cargo lambda invoke` of `event` against the emulator on `port`: the
    /// function's answer, as JSON.
    fn invoke(cargo_lambda: &Path, port: u16, event: &Value) -> Value {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), event.to_string()).expect("write event");
        let output = Command::new(cargo_lambda)
            .args(["lambda", "invoke", FUNCTION, "--output-format", "json"])
            .args(["--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .arg("--data-file")
            .arg(file.path())
            .output()
            .expect("cargo lambda invoke runs");
        assert!(
            output.status.success(),
            "cargo lambda invoke failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "invoke printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// The headers both must agree on (not the request id, `Server-Timing`,
    /// the date or the length).
    const COMPARED: [&str; 9] = [
        "content-type",
        "etag",
        "cache-control",
        "link",
        "access-control-allow-origin",
        "access-control-expose-headers",
        "allow",
        "location",
        "www-authenticate",
    ];

    /// `body` without what differs between any two answers: signed tokens
    /// (their issue time) and the trigger's acceptance time.
    fn comparable(mut body: Value) -> Value {
        for key in ["access_token", "refresh_token", "requested_at"] {
            if let Some(value) = body.get_mut(key) {
                *value = Value::Null;
            }
        }
        body
    }

    #[tokio::test]
    #[ignore = "needs cargo-lambda: scripts/lambda/setup.sh"]
    async fn every_route_in_the_emulator_answers_as_books_serve() {
        let cargo_lambda = cargo_lambda("every_route_in_the_emulator_answers_as_books_serve");
        let github = crate::common::idle_github().await;
        let github_env = [
            ("BOOKS_GITHUB_REPO", "books-toscrape/books"),
            ("BOOKS_GITHUB_TOKEN", "test-token"),
            ("BOOKS_GITHUB_API_URL", github.as_str()),
        ];
        let port = free_port();
        let _emulator = start_emulator(&cargo_lambda, port);
        let workdir = zip_layout();
        let mut function = start_function(port, workdir.path(), &github_env);

        let app = TestApp::new();
        let mut seen = Vec::new();
        for call in calls() {
            function.assert_running("books-lambda");
            let event = event_for(&call);
            let lambda = tokio::task::spawn_blocking({
                let cargo_lambda = cargo_lambda.clone();
                move || invoke(&cargo_lambda, port, &event)
            })
            .await
            .expect("invoke");
            let method = reqwest::Method::from_bytes(call.method.as_bytes()).unwrap();
            let body = call.body.as_ref().map(crate::app::encoded_body);
            let headers: Vec<(&str, &str)> = body
                .iter()
                .map(|(content_type, _)| ("content-type", *content_type))
                .collect();
            let served = app
                .send(
                    method,
                    &call.path_and_query,
                    &headers,
                    body.as_ref().map(|(_, text)| text.clone()),
                )
                .await;
            let what = format!("{} {}", call.method, call.path_and_query);
            assert_eq!(
                lambda["statusCode"].as_u64(),
                Some(u64::from(served.status)),
                "{what}: {lambda}"
            );
            assert_eq!(lambda["isBase64Encoded"], false, "{what}");
            for name in COMPARED {
                assert_eq!(
                    lambda["headers"][name].as_str(),
                    served.header(name),
                    "{what}: header {name}"
                );
            }
            let body: Value = serde_json::from_str(lambda["body"].as_str().unwrap_or_default())
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {lambda}"));
            assert_eq!(comparable(body), comparable(served.json()), "{what}");
            if let Some(route) = Route::resolve(call.path()) {
                seen.push(route);
            }
        }
        for route in Route::ALL {
            assert!(seen.contains(&route), "{route:?} was not compared");
        }
    }

    /// The function's answer to `event`, posted straight to the emulator's
    /// invoke API (no `cargo lambda invoke` process to time with it), within
    /// 30 s, so a function that never starts cannot hang the test.
    async fn invoke_directly(client: &reqwest::Client, url: &str, event: &str) -> Value {
        let text = client
            .post(url)
            .body(event.to_owned())
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("invoke")
            .text()
            .await
            .expect("an answer");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// A fresh function's first answer through the emulator (its cold
    /// start: opening the database and the model, then the first event),
    /// and a warm answer after it. Prints how long each took, asserting no
    /// time (docs/aws-lambda.md's figures come from scripts/bench-lambda.sh, on a
    /// release build).
    #[tokio::test]
    #[ignore = "needs cargo-lambda: scripts/lambda/setup.sh"]
    async fn a_cold_function_answers_its_first_event_then_a_warm_one() {
        let cargo_lambda = cargo_lambda("a_cold_function_answers_its_first_event_then_a_warm_one");
        let port = free_port();
        let _emulator = start_emulator(&cargo_lambda, port);
        let workdir = zip_layout();
        let url = format!("http://127.0.0.1:{port}/2015-03-31/functions/{FUNCTION}/invocations");
        let event = event_for(&Call::get("/api/v1/health")).to_string();
        let client = reqwest::Client::new();
        let started = Instant::now();
        let _function = start_function(port, workdir.path(), &[]);
        let cold = invoke_directly(&client, &url, &event).await;
        let cold_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(cold["statusCode"], 200, "{cold}");
        let warm_started = Instant::now();
        let warm = invoke_directly(&client, &url, &event).await;
        let warm_ms = warm_started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(warm["statusCode"], 200, "{warm}");
        eprintln!(
            "lambda emulator: cold start to first answer {cold_ms:.1} ms, warm {warm_ms:.1} ms"
        );
    }
}
