//! A headless Chromium driven over WebDriver by chromedriver, for the tests
//! that look at a page in a real browser (`/docs`, `/dashboard`, the usage
//! report): start the driver, open a session, run scripts, click, take
//! screenshots, and check that nothing came from another origin and the
//! console stayed clean.
//!
//! The tests that use it are `#[ignore]`d, with the reason (Chromium and
//! chromedriver: `apt-get install chromium chromium-driver`), so plain
//! `cargo test` lists them as ignored; `cargo test -- --include-ignored` (as
//! `.ci/run` runs, after installing both) runs them, and then a missing
//! binary is a failure. `CHROMIUM` and `CHROMEDRIVER` override the binaries'
//! paths. Other hosts do not even resolve in this browser.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The WebDriver element reference key (W3C).
pub const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Every wait in this test ends by then.
pub const WAIT: Duration = Duration::from_secs(30);

/// Reads a JSON answer (reqwest's `json` feature is not enabled here).
pub async fn json_of(response: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let text = response
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{e}: {text:.200}"))
}

/// Sends `body` as JSON.
pub fn with_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
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
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start(chromedriver: &Path) -> Driver {
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
pub struct Session {
    client: reqwest::Client,
    base: String,
    /// Where screenshots go, under `target/`.
    shots: PathBuf,
}

impl Session {
    /// A new browser session; its screenshots go to `target/{shots}/`.
    pub async fn new(driver: &Driver, chromium: &Path, profile: &Path, shots: &str) -> Session {
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
            shots: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target")
                .join(shots),
        }
    }

    pub async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// Resizes the window; headless, that is the viewport.
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    pub async fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": []}))
            .await
    }

    /// Polls `script` until it returns something truthy, or panics saying `what`.
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
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

    pub async fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.click_element(&element).await;
    }

    /// Polls `script` until it returns an element, then returns its reference.
    pub async fn find_by_script(&self, what: &str, script: &str) -> String {
        let found = self.wait_for(what, script).await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not an element: {found}"))
            .to_owned()
    }

    /// A real click (scrolled into view, checked as not covered).
    pub async fn click_element(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Saves a PNG of the viewport in the session's screenshot directory.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64_decode(encoded.as_str().expect("base64 PNG"));
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::create_dir_all(&self.shots).expect("screenshot dir");
        let path = self.shots.join(name);
        std::fs::write(&path, png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    pub async fn quit(self) {
        let _ = self.client.delete(&self.base).send().await.map(|_| ());
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64 screenshot")
}

/// Chromium and chromedriver; panics, saying how to get them, when either is
/// missing (the test runs only when asked for: `--include-ignored`).
pub fn browser_binaries(test: &str) -> (PathBuf, PathBuf) {
    let chromium = binary(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    let chromedriver = binary("CHROMEDRIVER", &["/usr/bin/chromedriver"]);
    let missing = match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => return (chromium, chromedriver),
        (None, None) => "both are",
        (None, Some(_)) => "Chromium is",
        (Some(_), None) => "chromedriver is",
    };
    panic!(
        "{test} needs Chromium and chromedriver: {missing} missing \
         (apt-get install chromium chromium-driver; .ci/run installs them; \
         CHROMIUM and CHROMEDRIVER name other paths)"
    );
}

impl Session {
    /// The URLs of every resource the page has loaded so far.
    pub async fn loaded_resources(&self) -> Vec<String> {
        let loaded = self
            .script("return performance.getEntriesByType('resource').map(e => e.name);")
            .await;
        loaded
            .as_array()
            .expect("resources")
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    /// The browser console's SEVERE entries since the last call.
    pub async fn console_errors(&self) -> Vec<Value> {
        let logs = self
            .command(
                reqwest::Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        logs.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .cloned()
            .collect()
    }

    /// Everything the page loaded came from `origin` (a prefix such as
    /// `http://127.0.0.1:1234` or `file://`), and the console has no
    /// errors. Returns the URLs loaded.
    pub async fn assert_local_only(&self, origin: &str) -> Vec<String> {
        let loaded = self.loaded_resources().await;
        for url in &loaded {
            assert!(url.starts_with(origin), "loaded from another origin: {url}");
        }
        let severe = self.console_errors().await;
        assert!(severe.is_empty(), "console errors: {severe:?}");
        loaded
    }
}
