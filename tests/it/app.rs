//! `TestApp`: the local server on 127.0.0.1:0 over the committed
//! `data/books.db`, started once per test binary, and helpers to call it;
//! [`bad_inputs`], the one table of requests the API must refuse.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use books::adapters::server;
use books::http::Route;

use serde_json::Value;

/// The committed database the API serves.
pub fn committed_db() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/books.db")
}
/// Runs the `books` binary with `args` and waits for it.
pub fn books_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_books"))
        .args(args)
        .output()
        .expect("the books binary runs")
}

/// A finished command's stdout and stderr, as text.
pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The address of the shared server, started on first use on its own thread.
pub fn server_addr() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind loopback");
                tx.send(listener.local_addr().expect("local addr"))
                    .expect("send addr");
                // The database and, next to it, the committed model; the
                // test accounts; the GitHub Actions trigger, against a
                // stand-in with no runs.
                let github = crate::common::idle_github().await;
                let state = books::adapters::load_state(&committed_db(), &Route::ALL)
                    .with_auth(Some(test_auth()))
                    .with_trigger(Some(crate::common::github_trigger(&github)));
                server::serve(
                    listener,
                    server::app(state),
                    std::future::pending(),
                    server::Limits::default(),
                )
                .await;
            });
        });
        rx.recv().expect("server started")
    })
}

/// `books serve`'s app with `state`, on a fresh loopback port in the
/// calling test's runtime (for tests that need their own state); its URL.
pub async fn serve_state(state: books::http::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(server::serve(
        listener,
        server::app(state),
        std::future::pending(),
        server::Limits::default(),
    ));
    format!("http://{addr}")
}

/// The shared server's token secret (tests only; real ones come from the
/// environment and are never written down).
pub const TEST_SECRET: &str = "test-only secret of the shared test server, 32+ bytes";
/// The test accounts: name, password, role.
pub const ADMIN: (&str, &str) = ("ada", "admin password for tests");
pub const READER: (&str, &str) = ("rita", "reader password for tests");

/// `BOOKS_USERS` for the test accounts (hashed once per test binary).
pub fn test_users() -> &'static str {
    static USERS: OnceLock<String> = OnceLock::new();
    USERS.get_or_init(|| {
        let hash = |pw| books::auth::hash_password(pw).expect("hash");
        format!(
            "{}:{}:admin;{}:{}:reader",
            ADMIN.0,
            hash(ADMIN.1),
            READER.0,
            hash(READER.1)
        )
    })
}

/// The environment that configures authentication for the test accounts.
pub fn auth_env() -> [(&'static str, &'static str); 2] {
    [
        ("BOOKS_JWT_SECRET", TEST_SECRET),
        ("BOOKS_USERS", test_users()),
    ]
}

/// A sample request body's media type and bytes. The tests write every
/// sample body as a JSON value; a JSON string stands for a form (the OAuth
/// 2.0 token route takes only `application/x-www-form-urlencoded`).
pub fn encoded_body(body: &Value) -> (&'static str, String) {
    match body {
        Value::String(form) => ("application/x-www-form-urlencoded", form.clone()),
        json => ("application/json", json.to_string()),
    }
}

/// The form the OAuth 2.0 token route takes, for the admin account.
pub fn admin_password_grant() -> Value {
    Value::String(format!(
        "grant_type=password&username={}&password={}",
        ADMIN.0, ADMIN.1
    ))
}

/// The authentication settings of the shared server.
pub fn test_auth() -> books::auth::AuthConfig {
    let env = auth_env();
    books::auth::AuthConfig::from_lookup(|name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("test auth settings")
}

/// A token of `kind` for the test account `name` with `role`, as the
/// server would issue it.
pub fn token_for(name: &str, role: books::auth::Role, kind: books::auth::TokenKind) -> String {
    let keys = books::auth::TokenKeys::new(TEST_SECRET.as_bytes()).expect("keys");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    keys.issue(name, role, kind, std::time::Duration::from_secs(600), now)
        .expect("token")
}

/// An admin's access token.
pub fn admin_token() -> String {
    token_for(
        ADMIN.0,
        books::auth::Role::Admin,
        books::auth::TokenKind::Access,
    )
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    /// Reads `response` whole.
    pub async fn read(response: reqwest::Response) -> Reply {
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body read"),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with `status` and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert_eq!(body["type"], "about:blank");
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        body
    }
}

pub struct TestApp {
    base: String,
    client: reqwest::Client,
}

impl TestApp {
    pub fn new() -> Self {
        TestApp {
            base: format!("http://{}", server_addr()),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// `method` on `path_and_query` (starting with `/`), with extra headers.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.send(method, path_and_query, headers, None).await
    }

    /// Like [`request`](Self::request), with a body when given. A request to
    /// an admin route without its own `Authorization` is sent as the test
    /// admin's (the credentials themselves are tested in `auth`).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path_and_query));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let path = path_and_query.split('?').next().unwrap_or_default();
        let protected = Route::resolve(path)
            .is_some_and(|route| route.access() != books::http::route::Access::Public);
        let has_own = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        if protected && !has_own {
            request = request.bearer_auth(admin_token());
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        Reply::read(request.send().await.expect("request sent")).await
    }

    /// POST of a JSON body.
    /// POSTs a sample body: JSON, or a form given as a JSON string (see
    /// [`encoded_body`]).
    pub async fn post_sample(&self, path_and_query: &str, body: &Value) -> Reply {
        let (content_type, text) = encoded_body(body);
        let headers = [("content-type", content_type)];
        self.send(reqwest::Method::POST, path_and_query, &headers, Some(text))
            .await
    }

    pub async fn post_json(&self, path_and_query: &str, body: &Value) -> Reply {
        let headers = [("content-type", "application/json")];
        self.send(
            reqwest::Method::POST,
            path_and_query,
            &headers,
            Some(body.to_string()),
        )
        .await
    }

    /// The absolute URL of `path_and_query`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    pub async fn get(&self, path_and_query: &str) -> Reply {
        self.request(reqwest::Method::GET, path_and_query, &[])
            .await
    }

    /// GET under `/api/v1`, asserting a 200 JSON answer.
    pub async fn api(&self, path_and_query: &str) -> Value {
        let reply = self.get(&format!("/api/v1{path_and_query}")).await;
        assert_eq!(reply.status, 200, "{path_and_query}: {}", reply.text);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        reply.json()
    }

    pub async fn health(&self) -> Value {
        self.api("/health").await
    }

    pub async fn book(&self, id: u32) -> Value {
        self.api(&format!("/books/{id}")).await
    }

    /// `/books/{id}/similar` with `query` (may be empty).
    pub async fn similar(&self, id: u32, query: &str) -> Value {
        self.api(&format!("/books/{id}/similar?{query}")).await
    }

    pub async fn books(&self, query: &str) -> Value {
        self.api(&format!("/books?{query}")).await
    }

    pub async fn search(&self, query: &str) -> Value {
        self.api(&format!("/books/search?{query}")).await
    }

    pub async fn top_rated(&self, query: &str) -> Value {
        self.api(&format!("/books/top-rated?{query}")).await
    }

    pub async fn price_range(&self, query: &str) -> Value {
        self.api(&format!("/books/price-range?{query}")).await
    }

    pub async fn categories(&self) -> Value {
        self.api("/categories").await
    }

    pub async fn stats_overview(&self) -> Value {
        self.api("/stats/overview").await
    }

    pub async fn stats_categories(&self) -> Value {
        self.api("/stats/categories").await
    }
}

/// The `items` of a list envelope.
pub fn items(list: &Value) -> &Vec<Value> {
    list["items"].as_array().expect("items array")
}

/// The ids of a list's items, in order.
pub fn ids(list: &Value) -> Vec<u64> {
    items(list)
        .iter()
        .map(|b| b["id"].as_u64().expect("id"))
        .collect()
}

/// A request the API must refuse: its status and the parameter the problem
/// must name.
#[derive(Debug, Clone)]
pub struct BadInput {
    pub method: reqwest::Method,
    /// Path and query, from `/api/v1`.
    pub path: String,
    pub status: u16,
    pub parameter: Option<&'static str>,
}

/// Every kind of bad input, once: malformed, out of range, unknown or
/// repeated parameters, impossible ids, missing criteria, other methods,
/// unknown paths. `tests/it/api.rs` checks each problem; `openapi.rs` holds
/// each to its documented schema.
pub fn bad_inputs() -> Vec<BadInput> {
    use reqwest::Method;
    let long_title = "a".repeat(10 * 1024);
    let get =
        |path: &str, status, parameter| (Method::GET, format!("/api/v1{path}"), status, parameter);
    let mut rows = vec![
        get("/health?verbose=1", 400, Some("verbose")),
        get("/books/0", 400, Some("id")),
        get("/books/99999", 404, None),
        get("/books/abc", 400, Some("id")),
        get("/books/1.5", 400, Some("id")),
        get("/books/-1", 400, Some("id")),
        get("/books/12345678901234567890", 400, Some("id")),
        get("/books/4294967296", 400, Some("id")),
        get("/books/%27%20OR%201=1%20--", 400, Some("id")),
        get("/books/1?extra=1", 400, Some("extra")),
        get("/books/0/similar", 400, Some("id")),
        get("/books/abc/similar", 400, Some("id")),
        get("/books/99999/similar", 404, None),
        get("/books/1/similar?id=2", 400, Some("id")),
        get("/books/1/similar?limit=0", 400, Some("limit")),
        get("/books/1/similar?limit=21", 400, Some("limit")),
        get("/books/1/similar?limit=abc", 400, Some("limit")),
        get("/books/1/similar?limit=-1", 400, Some("limit")),
        get("/books/1/similar?limit=5&limit=6", 400, Some("limit")),
        get("/books/1/similar?page=2", 400, Some("page")),
        get("/books?page=0", 400, Some("page")),
        get("/books?page=abc", 400, Some("page")),
        get("/books?page=99999999999", 400, Some("page")),
        get("/books?per_page=0", 400, Some("per_page")),
        get("/books?per_page=100000", 400, Some("per_page")),
        get("/books?sort=name", 400, Some("sort")),
        get("/books?order=up", 400, Some("order")),
        get("/books?min_rating=6", 400, Some("min_rating")),
        get("/books?in_stock=maybe", 400, Some("in_stock")),
        get("/books?min_price=30&max_price=20", 400, Some("min_price")),
        get("/books?pgae=2", 400, Some("pgae")),
        get("/books?page=1&page=2", 400, Some("page")),
        get("/books/price-range?min=10&max=5", 400, Some("min")),
        get("/books/price-range?min=abc", 400, Some("min")),
        get("/books/price-range?min=NaN", 400, Some("min")),
        get("/books/price-range?min=-1", 400, Some("min")),
        get("/books/price-range?min=1e", 400, Some("min")),
        get("/books/price-range?min=.5", 400, Some("min")),
        get(
            "/books/price-range?min=1&min_price=2",
            400,
            Some("min_price"),
        ),
        get("/books/price-range", 400, None),
        get("/books/search", 400, None),
        get(
            &format!("/books/search?title={long_title}"),
            400,
            Some("title"),
        ),
        get("/books/search?title=%00", 400, Some("title")),
        get("/books/search?title=a%00b", 400, Some("title")),
        // An empty value is refused, not read as absent; so is blank text.
        get("/books?page=", 400, Some("page")),
        get("/books?category=", 400, Some("category")),
        get("/books?min_price=", 400, Some("min_price")),
        get("/books/search?title=%20%20", 400, Some("title")),
        get("/books/search?q=", 400, Some("q")),
        get("/ml/training-data?test_size=", 400, Some("test_size")),
        get("/ml/training-data?split=validation", 400, Some("split")),
        get("/ml/training-data?test_size=1", 400, Some("test_size")),
        get("/ml/training-data?test_size=0", 400, Some("test_size")),
        get("/ml/training-data?test_size=1e0", 400, Some("test_size")),
        get("/ml/training-data?test_size=-0.5", 400, Some("test_size")),
        get("/ml/training-data?seed=-1", 400, Some("seed")),
        get("/ml/training-data?seed=9007199254740992", 400, Some("seed")),
        get("/ml/training-data?columns=id,id", 400, Some("columns")),
        get(
            "/ml/training-data?columns=id,price_usd",
            400,
            Some("columns"),
        ),
        get("/ml/training-data?format=xml", 400, Some("format")),
        get("/ml/model?verbose=1", 400, Some("verbose")),
        get("/ml/features?split=train", 400, Some("split")),
        (
            Method::POST,
            "/api/v1/ml/predictions?top=0".to_owned(),
            400,
            Some("top"),
        ),
        get("/books/top-rated?per_page=0", 400, Some("per_page")),
        get("/books/top-rated?sort=price", 400, Some("sort")),
        get("/categories?page=2", 400, Some("page")),
        get("/stats/overview?x=1", 400, Some("x")),
        get("/stats/categories?sort=name", 400, Some("sort")),
        get("/openapi.json?format=yaml", 400, Some("format")),
        get("/nowhere", 404, None),
        get("/books/1/2", 404, None),
        get("/books/1/similar/2", 404, None),
    ];
    rows.push((Method::POST, "/api/v1/books".into(), 405, None));
    rows.push((Method::DELETE, "/api/v1/books/1".into(), 405, None));
    rows.push((Method::POST, "/api/v1/books/1/similar".into(), 405, None));
    rows.into_iter()
        .map(|(method, path, status, parameter)| BadInput {
            method,
            path,
            status,
            parameter,
        })
        .collect()
}
