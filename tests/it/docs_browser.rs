//! `/docs` in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver, loads the docs page from the local server, which lists every
//! endpoint; "Try it out" on `/api/v1/books/{id}` with id 1 shows the book's
//! title. Screenshots go to `target/docs-browser/`. Nothing may be loaded from
//! another origin (other hosts do not even resolve in this browser).
//!
//! Skipped, with a message, where Chromium or chromedriver is missing, unless
//! `BOOKS_REQUIRE_BROWSER=1` (as `.ci/run` sets) makes that a failure.
//! `CHROMIUM` and `CHROMEDRIVER` override the binaries' paths.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use books::http::Route;
use serde_json::{Value, json};

/// The WebDriver element reference key (W3C).
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Every wait in this test ends by then.
const WAIT: Duration = Duration::from_secs(30);

/// Reads a JSON answer (reqwest's `json` feature is not enabled here).
async fn json_of(response: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let text = response
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text:.200}"))
}

/// Sends `body` as JSON.
fn with_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/json")
        .body(body.to_string())
}

fn binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// chromedriver, in its own process group so the browsers it starts go with it.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {chromedriver:?}: {e}"));
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser it left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WebDriver session: the few commands this test needs.
struct Session {
    client: reqwest::Client,
    base: String,
}

impl Session {
    async fn new(driver: &Driver, chromium: &Path, profile: &Path) -> Session {
        let client = reqwest::Client::builder()
            .timeout(WAIT)
            .build()
            .expect("client");
        // chromedriver needs a moment to listen.
        let deadline = Instant::now() + WAIT;
        loop {
            let status = json_of(client.get(format!("{}/status", driver.url)).send().await).await;
            if status.is_ok_and(|body| body["value"]["ready"] == true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1800",
            // Only loopback resolves: a request to any other host fails.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let reply = json_of(
            with_json(
                client.post(format!("{}/session", driver.url)),
                &capabilities,
            )
            .send()
            .await,
        )
        .await
        .expect("new session");
        let id = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {reply}"));
        Session {
            client,
            base: format!("{}/session/{id}", driver.url),
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = with_json(request, &body);
        }
        let reply = json_of(request.send().await)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if reply["value"]["error"].is_string() {
            panic!("{method} {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    async fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Polls `script` until it returns something truthy, or panics saying `what`.
    async fn wait_for(&self, what: &str, script: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.script(script).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                self.screenshot("timeout.png").await;
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Saves a PNG of the viewport under `target/docs-browser/`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64_decode(encoded.as_str().expect("base64 PNG"));
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/docs-browser");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    async fn quit(self) {
        let _ = self.client.delete(&self.base).send().await.map(|_| ());
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for sextet in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | sextet;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

#[tokio::test]
async fn docs_page_lists_every_endpoint_and_try_it_out_fetches_a_book() {
    let chromium = binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let chromedriver = binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let required = std::env::var("BOOKS_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "BOOKS_REQUIRE_BROWSER=1 but Chromium or chromedriver is missing"
        );
        eprintln!(
            "SKIPPED docs browser test: Chromium and chromedriver are needed \
             (apt-get install chromium chromium-driver; .ci/run installs them)"
        );
        return;
    };

    let origin = format!("http://{}", crate::app::server_addr());
    // The book the page must show, as the API serves it.
    let expected = json_of(reqwest::get(format!("{origin}/api/v1/books/1")).await)
        .await
        .expect("GET book 1");
    let title = expected["title"].as_str().expect("title").to_owned();
    assert!(!title.is_empty());

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path()).await;

    // From the landing page to the docs, as a person would.
    session.goto(&format!("{origin}/")).await;
    session
        .wait_for(
            "the landing page",
            "return document.querySelector('a.button.primary') !== null;",
        )
        .await;
    session.screenshot("landing.png").await;
    session.click("a.button.primary").await;
    session
        .wait_for(
            "the docs page",
            "return window.location.pathname === '/docs';",
        )
        .await;
    let count = Route::ALL.len();
    session
        .wait_for(
            "Swagger UI to render every operation",
            &format!("return document.querySelectorAll('.opblock').length >= {count};"),
        )
        .await;
    let listed = session
        .script(
            "return Array.from(document.querySelectorAll('.opblock-summary-path'))\
             .map(e => e.textContent.replace(/\\u200b/g, '').trim());",
        )
        .await;
    let mut listed: Vec<String> = listed
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| p.as_str().expect("path").to_owned())
        .collect();
    listed.sort();
    let mut routes: Vec<String> = Route::ALL.iter().map(|r| r.path().to_owned()).collect();
    routes.sort();
    assert_eq!(listed, routes, "the docs page lists exactly the endpoints");
    let page_title = session.script("return document.title;").await;
    assert!(page_title.as_str().is_some_and(|t| t.contains("books API")));
    session.screenshot("docs.png").await;

    // Try it out: GET /api/v1/books/{id} with id 1.
    let op = "#operations-books-getBook";
    session
        .click(&format!("{op} .opblock-summary-control"))
        .await;
    session
        .wait_for(
            "the operation to open",
            &format!("return document.querySelector('{op} .try-out__btn') !== null;"),
        )
        .await;
    session.click(&format!("{op} .try-out__btn")).await;
    session
        .wait_for(
            "the id field",
            &format!(
                "return document.querySelector('{op} tr[data-param-name=\"id\"] input') !== null;"
            ),
        )
        .await;
    session
        .type_into(&format!("{op} tr[data-param-name=\"id\"] input"), "1")
        .await;
    session.click(&format!("{op} .btn.execute")).await;
    let status = session
        .wait_for(
            "the live response",
            &format!(
                "const s = document.querySelector('{op} .live-responses-table tbody .response-col_status');\
                 return s ? s.textContent.trim() : '';"
            ),
        )
        .await;
    assert!(
        status.as_str().is_some_and(|s| s.starts_with("200")),
        "status {status}"
    );
    let shown = session
        .wait_for(
            "the response body",
            &format!(
                "const b = document.querySelector('{op} .live-responses-table tbody .response-col_description .highlight-code');\
                 return b ? b.textContent : '';"
            ),
        )
        .await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        shown.contains(&title),
        "the response shows {title:?}: {shown:.400}"
    );
    let request_url = session
        .script(&format!(
            "const u = document.querySelector('{op} .request-url pre');\
             return u ? u.textContent : '';"
        ))
        .await;
    assert_eq!(
        request_url.as_str(),
        Some(format!("{origin}/api/v1/books/1").as_str())
    );
    session
        .script(&format!(
            "document.querySelector('{op}').scrollIntoView({{block: 'start'}});"
        ))
        .await;
    session.screenshot("try-it-out.png").await;

    // Everything the page loaded came from the local server.
    let loaded = session
        .script("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    let loaded: Vec<&str> = loaded
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        loaded.iter().any(|u| u.ends_with("/swagger-ui-bundle.js")),
        "{loaded:?}"
    );
    for url in &loaded {
        assert!(
            url.starts_with(&origin),
            "loaded from another origin: {url}"
        );
    }
    // And the console has no errors.
    let logs = session
        .command(
            reqwest::Method::POST,
            "/se/log",
            Some(json!({"type": "browser"})),
        )
        .await;
    let severe: Vec<&Value> = logs
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .collect();
    assert!(severe.is_empty(), "console errors: {severe:?}");

    session.quit().await;
    drop(driver);
}
