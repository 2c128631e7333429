//! Monitoring on the real server: `Server-Timing` on every answer, and the
//! Prometheus metrics at `/metrics` of a real `books serve`, exact for known
//! traffic, valid by `promtool check metrics`, closed to other hosts, proxies
//! and other sites' pages, and scraped by a real Prometheus server.
//!
//! The Prometheus tests need Debian's `prometheus` package (`promtool` and
//! `prometheus`): they are `#[ignore]`d, with that reason, so plain
//! `cargo test` lists them as ignored; `cargo test -- --include-ignored` (as
//! `.ci/run` runs, after installing the package) runs them, and then a
//! missing tool is a failure.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app::{Reply, TestApp, committed_db};
use crate::served::Served;

/// A metrics token for the tests (real ones come from the environment).
const TEST_METRICS_TOKEN: &str = "metrics-token-of-the-tests-0123456789";

/// The phases a `Server-Timing` value names, with their durations in ms.
fn server_timing(reply: &Reply) -> Vec<(String, f64)> {
    let value = reply
        .header("server-timing")
        .unwrap_or_else(|| panic!("no Server-Timing: {:?}", reply.headers));
    value
        .split(',')
        .map(|metric| {
            let (name, duration) = metric
                .trim()
                .split_once(";dur=")
                .unwrap_or_else(|| panic!("malformed Server-Timing: {value}"));
            let duration: f64 = duration.parse().expect("a duration in ms");
            (name.to_owned(), duration)
        })
        .collect()
}

fn names(timing: &[(String, f64)]) -> Vec<&str> {
    timing.iter().map(|(name, _)| name.as_str()).collect()
}

#[tokio::test]
async fn every_answer_says_its_total_time_and_the_database_and_model_time_where_they_ran() {
    let app = TestApp::new();

    // A query no other test asks (the shared server keeps answers, so a
    // repeat runs no query): the first answer ran one, the second is kept.
    let page = "/api/v1/books?per_page=7&page=13&sort=stock&order=desc";
    let book = app.get(page).await;
    assert_eq!(book.status, 200);
    let timing = server_timing(&book);
    assert_eq!(names(&timing), ["db", "total"]);
    let (db, total) = (timing[0].1, timing[1].1);
    assert!(db > 0.0 && db <= total, "{timing:?}");
    assert_eq!(book.header("timing-allow-origin"), Some("*"));
    let kept = app.get(page).await;
    assert_eq!(names(&server_timing(&kept)), ["total"]);

    // A 304 from the ETag alone runs no query.
    let etag = book.header("etag").expect("etag").to_owned();
    let cached = app
        .request(reqwest::Method::GET, page, &[("if-none-match", &etag)])
        .await;
    assert_eq!(cached.status, 304);
    assert_eq!(names(&server_timing(&cached)), ["total"]);

    // The model on free text: no database.
    let predicted = app
        .post_json(
            "/api/v1/ml/predictions",
            &json!({"instances": [{"title": "A history of Rome", "description": "Emperors"}]}),
        )
        .await;
    assert_eq!(predicted.status, 200, "{}", predicted.text);
    assert_eq!(names(&server_timing(&predicted)), ["model", "total"]);

    // By id: the database, then the model.
    let by_id = app
        .post_json("/api/v1/ml/predictions", &json!({"book_ids": [1, 2]}))
        .await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    assert_eq!(names(&server_timing(&by_id)), ["db", "model", "total"]);

    // Errors, the site and refusals are timed too.
    for path in ["/api/v1/books/0", "/api/v1/nope", "/docs"] {
        let reply = app.get(path).await;
        assert_eq!(
            names(&server_timing(&reply)).last(),
            Some(&"total"),
            "{path}"
        );
    }
}

/// `promtool`/`prometheus` from `PATH`; panics, saying how to get it, when
/// it is missing (the test runs only when asked for: `--include-ignored`).
fn prometheus_tool(name: &str, test: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "{test} needs {name}, which is not on PATH \
             (apt-get install --no-install-recommends prometheus; .ci/run installs it)"
        )
    })
}

/// The value of the one sample `series` (name and labels exactly as
/// exposed), if present.
pub fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.trim().parse().ok()
    })
}

async fn get(client: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = client.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::read(request.send().await.expect("request sent")).await
}

#[tokio::test]
#[ignore = "needs Prometheus (promtool, prometheus): apt-get install --no-install-recommends prometheus"]
async fn metrics_count_known_traffic_exactly_and_pass_promtool() {
    let served = Served::start(&committed_db(), &[], &[]);
    let client = reqwest::Client::new();

    let mut etag = String::new();
    for id in 1..=5 {
        let reply = get(&client, &served.url(&format!("/api/v1/books/{id}")), &[]).await;
        assert_eq!(reply.status, 200);
        etag = reply.header("etag").expect("etag").to_owned();
    }
    for _ in 0..2 {
        let missing = get(&client, &served.url("/api/v1/books/99999"), &[]).await;
        assert_eq!(missing.status, 404);
    }
    let cached = get(
        &client,
        &served.url("/api/v1/books/5"),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(cached.status, 304);
    assert_eq!(get(&client, &served.url("/nowhere"), &[]).await.status, 404);
    assert_eq!(get(&client, &served.url("/docs"), &[]).await.status, 200);

    let reply = get(&client, &served.url("/metrics"), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    // No other site's page may read it.
    assert_eq!(reply.header("access-control-allow-origin"), None);
    let text = &reply.text;

    let requests = |route: &str, status: u16| {
        sample(
            text,
            &format!("http_requests_total{{route=\"{route}\",method=\"GET\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(requests("/api/v1/books/{id}", 200), Some(5.0), "{text}");
    assert_eq!(requests("/api/v1/books/{id}", 404), Some(2.0));
    assert_eq!(requests("/api/v1/books/{id}", 304), Some(1.0));
    assert_eq!(requests("unmatched", 404), Some(1.0));
    assert_eq!(requests("site", 200), Some(1.0));
    // The raw paths never become labels.
    assert!(!text.contains("/api/v1/books/99999"), "{text}");
    let histogram = |suffix: &str| {
        sample(
            text,
            &format!("http_request_duration_seconds{suffix}{{route=\"/api/v1/books/{{id}}\"}}"),
        )
    };
    assert_eq!(histogram("_count"), Some(8.0));
    assert!(histogram("_sum").is_some_and(|sum| sum > 0.0));
    // Tens of microseconds resolve: the smallest bucket is 10 µs.
    assert!(
        text.contains(
            "http_request_duration_seconds_bucket{route=\"/api/v1/books/{id}\",le=\"0.00001\"}"
        ),
        "{text}"
    );
    assert!(
        sample(
            text,
            "http_response_body_bytes_total{route=\"/api/v1/books/{id}\"}"
        )
        .is_some_and(|bytes| bytes > 5.0 * 500.0)
    );
    // This very request is in flight.
    assert_eq!(sample(text, "http_requests_in_flight"), Some(1.0));

    let store = books::store::Store::open(&committed_db()).expect("committed db");
    let info = format!(
        "books_data_info{{content_hash=\"{}\",scraped_at=\"{}\"}}",
        store.content_hash(),
        store.scraped_at().expect("scraped_at")
    );
    assert_eq!(sample(text, &info), Some(1.0), "{text}");
    assert_eq!(sample(text, "books_data_books"), Some(1000.0));
    for process in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(sample(text, process).is_some_and(|v| v > 0.0), "{process}");
    }

    let promtool = prometheus_tool("promtool", "promtool check metrics");
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("exposition written");
    let out = check.wait_with_output().expect("promtool ran");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn metrics_are_closed_to_proxies_other_sites_and_without_the_token_when_one_is_set() {
    let client = reqwest::Client::new();

    let open = Served::start(&committed_db(), &[], &[]);
    for (name, value) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9"),
        ("x-real-ip", "203.0.113.9"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let refused = get(&client, &open.url("/metrics"), &[(name, value)]).await;
        let problem = refused.problem(403);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("BOOKS_METRICS_TOKEN"),
            "{name}: {problem}"
        );
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }
    let same_origin = get(
        &client,
        &open.url("/metrics"),
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(same_origin.status, 200);
    let post = Reply::read(client.post(open.url("/metrics")).send().await.unwrap()).await;
    post.problem(405);
    drop(open);

    let tokened = Served::start(
        &committed_db(),
        &[],
        &[("BOOKS_METRICS_TOKEN", TEST_METRICS_TOKEN)],
    );
    let wrong = format!("Bearer {TEST_METRICS_TOKEN}x");
    for headers in [vec![], vec![("authorization", wrong.as_str())]] {
        let refused = get(&client, &tokened.url("/metrics"), &headers).await;
        refused.problem(401);
        assert_eq!(
            refused.header("www-authenticate"),
            Some("Bearer realm=\"metrics\"")
        );
    }
    let right = format!("Bearer {TEST_METRICS_TOKEN}");
    let allowed = get(
        &client,
        &tokened.url("/metrics"),
        &[("authorization", &right)],
    )
    .await;
    assert_eq!(allowed.status, 200);
    assert!(allowed.text.contains("http_requests_total"));
    // The token is never logged.
    let logs = tokened.stop();
    assert!(logs.contains("\"event\":\"metrics_configured\""), "{logs}");
    assert!(!logs.contains(TEST_METRICS_TOKEN), "{logs}");
}

/// A Prometheus server on a loopback port, with its own storage; killed on
/// drop.
struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(binary: &Path, config: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).expect("config written");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("prometheus starts");
        Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The value of the instant query `query`'s first sample, if any.
    async fn query(&self, client: &reqwest::Client, query: &str) -> Option<f64> {
        let reply = client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?;
        let body: Value = serde_json::from_str(&reply.text().await.ok()?).ok()?;
        body["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
#[ignore = "needs Prometheus (promtool, prometheus): apt-get install --no-install-recommends prometheus"]
async fn a_real_prometheus_scrapes_books_serve_and_counts_what_was_sent() {
    let binary = prometheus_tool("prometheus", "the Prometheus scrape test");
    // Token mode, as Prometheus on another host would scrape it.
    let served = Served::start(
        &committed_db(),
        &[],
        &[("BOOKS_METRICS_TOKEN", TEST_METRICS_TOKEN)],
    );
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
         scrape_configs:\n  - job_name: books\n    authorization:\n      credentials: \"{TEST_METRICS_TOKEN}\"\n\
         \x20   static_configs:\n      - targets: [\"{}\"]\n",
        served.addr
    );
    let prometheus = Prometheus::start(&binary, &config);

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    const SENT: u32 = 7;
    for _ in 0..SENT {
        let reply = get(&client, &served.url("/api/v1/categories"), &[]).await;
        assert_eq!(reply.status, 200);
    }

    let counted = "sum(http_requests_total{job=\"books\",route=\"/api/v1/categories\",method=\"GET\",status=\"200\"})";
    let up = "up{job=\"books\"}";
    // Its own scrapes are counted under /metrics (from the second scrape
    // on: a scrape is counted once answered), never as API traffic.
    let scrapes = "sum(http_requests_total{job=\"books\",route=\"/metrics\",status=\"200\"})";
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (count, is_up, scraped) = (
            prometheus.query(&client, counted).await,
            prometheus.query(&client, up).await,
            prometheus.query(&client, scrapes).await,
        );
        if count == Some(f64::from(SENT)) && is_up == Some(1.0) && scraped.is_some_and(|n| n >= 1.0)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not see {SENT} requests (count {count:?}, up {is_up:?}, scrapes {scraped:?}).\n\
             prometheus log: {}\nserver log: {}",
            prometheus.log(),
            served.logs()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let data = prometheus
        .query(&client, "books_data_books{job=\"books\"}")
        .await;
    assert_eq!(data, Some(1000.0));
}
