//! `/docs` in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver, loads the docs page from the local server, which lists every
//! endpoint; "Try it out" on `/api/v1/books/{id}` with id 1 shows the book's
//! title. Authorize, with the OAuth 2.0 password flow and the test admin's
//! credentials, signs in at `/api/v1/auth/login`; "Try it out" on
//! `POST /api/v1/scraping/trigger` then gets a 202 from the GitHub Actions
//! trigger (against the shared server's stand-in). Screenshots go to
//! `target/docs-browser/`. Nothing may be loaded from another origin (other
//! hosts do not even resolve in this browser).
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
        self.click_element(&element).await;
    }

    /// Polls `script` until it returns an element, then returns its reference.
    async fn find_by_script(&self, what: &str, script: &str) -> String {
        let found = self.wait_for(what, script).await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not an element: {found}"))
            .to_owned()
    }

    /// A real click (scrolled into view, checked as not covered).
    async fn click_element(&self, element: &str) {
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

/// Chromium and chromedriver, or `None` (with a message) when either is
/// missing and `BOOKS_REQUIRE_BROWSER=1` does not make that a failure.
fn browser_binaries() -> Option<(PathBuf, PathBuf)> {
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
        return None;
    };
    Some((chromium, chromedriver))
}

/// Everything the page loaded came from `origin`, and the console has no
/// errors. Returns the URLs loaded.
async fn assert_local_only(session: &Session, origin: &str) -> Vec<String> {
    let loaded = session
        .script("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    let loaded: Vec<String> = loaded
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    assert!(
        loaded.iter().any(|u| u.ends_with("/swagger-ui-bundle.js")),
        "{loaded:?}"
    );
    for url in &loaded {
        assert!(url.starts_with(origin), "loaded from another origin: {url}");
    }
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
    loaded
}

#[tokio::test]
async fn docs_page_lists_every_endpoint_and_try_it_out_fetches_a_book() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
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

    // Everything the page loaded came from the local server, and the
    // console has no errors.
    assert_local_only(&session, &origin).await;

    session.quit().await;
    drop(driver);
}

/// Records every `fetch` the page makes from now on in `window.__fetches`:
/// URL, method, headers (lower-cased names), body and answer status. Swagger
/// UI calls the global `fetch` for both its Authorize and its Try it out.
const FETCH_HOOK: &str = "
    if (!window.__fetches) {
        window.__fetches = [];
        const original = window.fetch;
        window.fetch = function (input, init) {
            init = init || {};
            const entry = {
                url: new URL(typeof input === 'string' ? input : input.url, location.href).href,
                method: (init.method || (typeof input === 'string' ? 'GET' : input.method)).toUpperCase(),
                headers: Object.fromEntries(new Headers(init.headers || {}).entries()),
                body: init.body == null ? null : String(init.body),
                status: null,
            };
            window.__fetches.push(entry);
            return original.apply(this, arguments).then(response => {
                entry.status = response.status;
                return response;
            });
        };
    }
    return true;";

/// The recorded fetches to `path` on `origin`.
async fn fetches_to(session: &Session, origin: &str, path: &str) -> Vec<Value> {
    let all = session.script("return window.__fetches || [];").await;
    let url = format!("{origin}{path}");
    all.as_array()
        .expect("fetches")
        .iter()
        .filter(|f| {
            f["url"]
                .as_str()
                .is_some_and(|u| u.split('?').next() == Some(&url))
        })
        .cloned()
        .collect()
}

#[tokio::test]
async fn authorize_with_the_password_flow_then_trigger_a_scrape() {
    let Some((chromium, chromedriver)) = browser_binaries() else {
        return;
    };
    let origin = format!("http://{}", crate::app::server_addr());
    let (admin, password) = crate::app::ADMIN;
    let login_path = books::http::Route::AuthLogin.path();
    let trigger_path = books::http::Route::ScrapingTrigger.path();

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path()).await;

    session.goto(&format!("{origin}/docs")).await;
    let op = "#operations-operations-triggerScrape";
    session
        .wait_for(
            "Swagger UI to render the trigger and the Authorize button",
            &format!(
                "return document.querySelector('{op}') !== null \
                 && document.querySelector('.auth-wrapper .btn.authorize') !== null;"
            ),
        )
        .await;
    session.script(FETCH_HOOK).await;
    // Nobody is signed in yet: the trigger's padlock is open.
    let padlock =
        format!("document.querySelector('{op} .authorization__btn').getAttribute('aria-label')");
    let before = session.script(&format!("return {padlock};")).await;
    assert_eq!(before, "authorization button unlocked", "before Authorize");

    // Authorize: the password flow's dialog, with the admin's credentials.
    session.click(".auth-wrapper .btn.authorize").await;
    // The scheme's section of the dialog, found by its heading.
    let section = "Array.from(document.querySelectorAll('.modal-ux .auth-container'))\
                   .find(c => (c.querySelector('h4') || {textContent: ''}).textContent.trim()\
                   .startsWith('password (OAuth2, password)'))";
    session
        .wait_for(
            "the password flow in the Authorize dialog",
            &format!("const c = {section}; return !!(c && c.querySelector('#oauth_username'));"),
        )
        .await;
    let token_url = session
        .script(&format!(
            "const c = {section}; return Array.from(c.querySelectorAll('p'))\
             .map(p => p.textContent).find(t => t.startsWith('Token URL')) || '';"
        ))
        .await;
    assert_eq!(
        token_url
            .as_str()
            .map(|t| t.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["Token", "URL:", login_path]),
        "the dialog's token URL"
    );
    session.type_into("#oauth_username", admin).await;
    session.type_into("#oauth_password", password).await;
    let authorize = session
        .find_by_script(
            "the password flow's Authorize button",
            &format!(
                "const c = {section}; return c.querySelector('button.modal-btn.auth.authorize');"
            ),
        )
        .await;
    session.click_element(&authorize).await;
    // Authorized: the section says so and offers Logout instead.
    let shown = session
        .wait_for(
            "the password flow to show as authorized",
            &format!(
                "const c = {section}; if (!c) return '';\
                 const h = c.querySelector('h6'), b = c.querySelector('button.modal-btn.auth.authorize');\
                 return h && b && h.textContent.trim() === 'Authorized' && b.textContent.trim() === 'Logout'\
                    ? c.textContent : '';"
            ),
        )
        .await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(shown.contains(admin), "the signed-in user: {shown}");
    assert!(!shown.contains(password), "the password is shown: {shown}");
    let errors = session
        .script("return Array.from(document.querySelectorAll('.modal-ux .errors')).map(e => e.textContent);")
        .await;
    assert_eq!(errors, json!([]), "errors in the Authorize dialog");
    session.screenshot("authorized.png").await;

    // The token request: a password grant form, POSTed to the sign-in
    // route on this origin, answered 200.
    let logins = fetches_to(&session, &origin, login_path).await;
    assert_eq!(logins.len(), 1, "one sign-in: {logins:?}");
    let login = &logins[0];
    assert_eq!(login["method"], "POST");
    assert_eq!(login["status"], 200, "{login}");
    assert_eq!(
        login["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: Vec<(String, String)> = login["body"]
        .as_str()
        .expect("a form body")
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode(&s.replace('+', " "));
            (decode(k), decode(v))
        })
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("grant_type"), Some("password"), "{form:?}");
    assert_eq!(field("username"), Some(admin), "{form:?}");
    assert_eq!(field("password"), Some(password), "{form:?}");
    // And the browser's own record of it: a fetch to this origin.
    let timed = session
        .script(&format!(
            "return performance.getEntriesByType('resource')\
             .filter(e => e.name === '{origin}{login_path}').map(e => e.initiatorType);"
        ))
        .await;
    assert_eq!(
        timed,
        json!(["fetch"]),
        "the sign-in, as the browser timed it"
    );

    session.click(".modal-ux .btn-done").await;
    session
        .wait_for(
            "the dialog to close",
            "return document.querySelector('.modal-ux') === null;",
        )
        .await;
    session
        .wait_for(
            "the trigger's padlock to close",
            &format!("return {padlock} === 'authorization button locked';"),
        )
        .await;

    // Try it out: POST /api/v1/scraping/trigger with a reason.
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
    let body_field = format!("{op} textarea.body-param__text");
    session
        .wait_for(
            "the request body field",
            &format!("return document.querySelector('{body_field}') !== null;"),
        )
        .await;
    session
        .type_into(&body_field, r#"{"reason": "browser test"}"#)
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
        status.as_str().is_some_and(|s| s.starts_with("202")),
        "status {status}"
    );
    // The body is highlighted after it is first shown: wait for the answer.
    let body = session
        .wait_for(
            "the response body",
            &format!(
                "const b = document.querySelector('{op} .live-responses-table tbody .response-col_description .highlight-code pre');\
                 return b && b.textContent.includes('\"mode\"') ? b.textContent : '';"
            ),
        )
        .await;
    let body = body.as_str().unwrap_or_default();
    let answer: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("the shown body ({e}): {body:.400}"));
    assert_eq!(answer["mode"], "github-actions", "{answer}");
    assert_eq!(answer["reason"], "browser test", "{answer}");
    assert!(body.contains("\"github-actions\"") && body.contains("\"browser test\""));
    let headers = session
        .script(&format!(
            "return Array.from(document.querySelectorAll('{op} .live-responses-table .headerline'))\
             .map(h => h.textContent.trim());"
        ))
        .await;
    let location = format!("location: {}", books::http::Route::ScrapingStatus.path());
    assert!(
        headers
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h.as_str() == Some(location.as_str()))),
        "the shown headers: {headers}"
    );
    // The request went to this origin, with the token from the sign-in.
    let request_url = session
        .script(&format!(
            "const u = document.querySelector('{op} .request-url pre'); return u ? u.textContent : '';"
        ))
        .await;
    assert_eq!(
        request_url.as_str(),
        Some(format!("{origin}{trigger_path}").as_str())
    );
    let curl = session
        .script(&format!(
            "const c = document.querySelector('{op} .curl-command'); return c ? c.textContent : '';"
        ))
        .await;
    let curl = curl.as_str().unwrap_or_default();
    assert!(
        curl.contains("Authorization: Bearer ey"),
        "the curl command: {curl}"
    );
    let triggers = fetches_to(&session, &origin, trigger_path).await;
    assert_eq!(triggers.len(), 1, "one trigger: {triggers:?}");
    let bearer = triggers[0]["headers"]["authorization"]
        .as_str()
        .unwrap_or_default();
    assert!(bearer.starts_with("Bearer ey"), "{}", triggers[0]);
    assert!(
        curl.contains(bearer),
        "the curl command shows the token sent"
    );
    assert_eq!(triggers[0]["status"], 202);
    session
        .script(&format!(
            "document.querySelector('{op}').scrollIntoView({{block: 'start'}});"
        ))
        .await;
    session.screenshot("trigger.png").await;

    // Only this origin, and no console errors.
    let loaded = assert_local_only(&session, &origin).await;
    assert!(
        loaded
            .iter()
            .any(|u| *u == format!("{origin}{trigger_path}")),
        "{loaded:?}"
    );

    session.quit().await;
    drop(driver);
}

/// Decodes `%XX` escapes (the test's own form fields are ASCII).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
