//! `/dashboard` in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver, follows the landing page's link to the dashboard on the
//! shared test server (the committed data) and reads the charts from the
//! DOM: the rating chart's bars, every category, a price histogram and a
//! scatter of all 1000 books, the data version and `scraped_at`, the model
//! card. Nothing may come from another origin and the console stays clean.
//! Screenshots at a laptop's and a phone's width go to
//! `target/dashboard-browser/`; at the phone's width nothing overflows
//! sideways. The live panel reads the server's `/metrics` and shows the
//! test's traffic; its Prometheus parser is also checked on sample text.
//!
//! Ignored, with the reason, unless asked for (`--include-ignored`): they
//! need Chromium and chromedriver (see [`crate::browser`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::browser::{Driver, Session, browser_binaries, json_of};

/// The panels drawn from the API (the live one aside).
const PANELS: [&str; 6] = [
    "data",
    "ratings",
    "prices",
    "scatter",
    "categories",
    "model",
];

async fn api(origin: &str, path: &str) -> Value {
    json_of(reqwest::get(format!("{origin}{path}")).await)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// Waits until every panel has finished, and asserts each is drawn.
async fn wait_for_panels(session: &Session) {
    let ids = json!(PANELS).to_string();
    let states = session
        .wait_for(
            "every panel to load",
            &format!(
                "const states = {ids}.map(id => document.getElementById(id).dataset.state || '');\
                 return states.every(s => s) ? states : null;"
            ),
        )
        .await;
    assert_eq!(
        states,
        json!(vec!["ready"; PANELS.len()]),
        "the panels' states"
    );
    wait_for_charts(session).await;
}

/// Waits until every chart is drawn at its box's current width.
async fn wait_for_charts(session: &Session) {
    session
        .wait_for(
            "the charts to be drawn at the page's width",
            "const boxes = Array.from(document.querySelectorAll('.panel:not(#live) .chart'));\
             return boxes.length >= 5 && boxes.every(b => b.querySelector('svg')\
                && Number(b.dataset.width) === Math.floor(b.clientWidth));",
        )
        .await;
}

/// Requests to the server, a few dozen a second, until aborted: the live
/// panel's traffic.
async fn traffic(origin: String) {
    let client = reqwest::Client::new();
    for n in 0u32.. {
        let path = if n % 4 == 3 {
            "/api/v1/books/search?q=light".to_owned()
        } else {
            format!("/api/v1/books/{}", n % 1000 + 1)
        };
        let _ = client.get(format!("{origin}{path}")).send().await;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

/// Sizes the window so that the viewport is `width` × `height`.
async fn set_viewport(session: &Session, width: u32, height: u32) {
    session.set_window_size(width, height).await;
    let inner = session
        .script("return [window.innerWidth, window.innerHeight];")
        .await;
    let grow = |wanted: u32, got: &Value| {
        let got = u32::try_from(got.as_u64().expect("a size")).expect("a size");
        (2 * wanted).saturating_sub(got)
    };
    session
        .set_window_size(grow(width, &inner[0]), grow(height, &inner[1]))
        .await;
}

/// Emulates `prefers-color-scheme: scheme` (Chrome DevTools, through
/// chromedriver).
async fn prefer_color_scheme(session: &Session, scheme: &str) {
    session
        .post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]}}),
        )
        .await;
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or_else(|| panic!("not a number: {v}"))
        })
        .collect()
}

/// `category -> data-value` of the category chart's bars of `class`.
async fn category_bars(session: &Session, selector: &str) -> BTreeMap<String, f64> {
    let bars = session
        .script(&format!(
            "return Array.from(document.querySelectorAll('#categories {selector}'))\
             .map(r => [r.dataset.category, Number(r.dataset.value)]);"
        ))
        .await;
    bars.as_array()
        .expect("bars")
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().expect("category").to_owned(),
                pair[1].as_f64().expect("value"),
            )
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn dashboard_shows_the_committed_catalogue_from_the_api() {
    let (chromium, chromedriver) = browser_binaries("dashboard browser test");
    let origin = format!("http://{}", crate::app::server_addr());
    let overview = api(&origin, "/api/v1/stats/overview").await;
    let categories = api(&origin, "/api/v1/stats/categories").await;
    let features = api(&origin, "/api/v1/ml/features").await;
    let model = api(&origin, "/api/v1/ml/model").await;

    // Traffic for the live panel, from before the page opens.
    let busy = tokio::spawn(traffic(origin.clone()));

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "dashboard-browser").await;

    // From the landing page to the dashboard, as a person would.
    session.goto(&format!("{origin}/")).await;
    session
        .wait_for(
            "the landing page's dashboard link",
            "return document.querySelector('a[href=\"/dashboard\"]') !== null;",
        )
        .await;
    session.click("a[href=\"/dashboard\"]").await;
    session
        .wait_for(
            "the dashboard",
            "return window.location.pathname === '/dashboard';",
        )
        .await;
    wait_for_panels(&session).await;
    let title = session.script("return document.title;").await;
    assert!(title.as_str().is_some_and(|t| t.contains("dashboard")));

    // Books per star rating: the committed catalogue's figures, as bars
    // and as their visible labels.
    let ratings = session
        .script(
            "return Array.from(document.querySelectorAll('#ratings rect.bar'))\
             .map(r => [Number(r.dataset.rating), Number(r.dataset.value)]);",
        )
        .await;
    assert_eq!(
        ratings,
        json!([[1, 226], [2, 196], [3, 203], [4, 179], [5, 196]])
    );
    let labels = session
        .script(
            "return Array.from(document.querySelectorAll('#ratings text.value'))\
             .map(t => t.textContent);",
        )
        .await;
    assert_eq!(labels, json!(["226", "196", "203", "179", "196"]));
    let expected: Vec<f64> = (1..=5)
        .map(|stars| {
            overview["rating_distribution"][stars.to_string()]
                .as_f64()
                .expect("count")
        })
        .collect();
    let shown = numbers(
        &session
            .script(
                "return Array.from(document.querySelectorAll('#ratings rect.bar'))\
                 .map(r => Number(r.dataset.value));",
            )
            .await,
    );
    assert_eq!(shown, expected, "the API's rating distribution");
    let label = session
        .script("return document.querySelector('#ratings svg').getAttribute('aria-label');")
        .await;
    assert!(
        label.as_str().is_some_and(|l| l.contains("1 star, 226")),
        "{label}"
    );

    // Every category, with its book count and average price.
    let items = categories["items"].as_array().expect("items");
    let books: BTreeMap<String, f64> = items
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["book_count"].as_f64().expect("count"),
            )
        })
        .collect();
    let prices: BTreeMap<String, f64> = items
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_owned(),
                c["average_price"].as_f64().expect("price"),
            )
        })
        .collect();
    assert_eq!(books.len(), 50);
    assert_eq!(
        category_bars(&session, "rect.bar:not(.second)").await,
        books
    );
    assert_eq!(category_bars(&session, "rect.bar.second").await, prices);
    let names = session
        .script("return document.querySelectorAll('#categories text[data-category]').length;")
        .await;
    assert_eq!(names, json!(books.len()), "a label per category");

    // The price histogram counts every book once; the scatter has a point
    // per book, at its price.
    let total = overview["total_books"].as_f64().expect("total_books");
    assert_eq!(total, 1000.0);
    let counts = numbers(
        &session
            .script(
                "return Array.from(document.querySelectorAll('#prices rect.bar'))\
                 .map(r => Number(r.dataset.value));",
            )
            .await,
    );
    assert!(counts.len() >= 5, "{counts:?}");
    assert_eq!(counts.iter().sum::<f64>(), total, "{counts:?}");
    let points = numbers(
        &session
            .script(
                "return Array.from(document.querySelectorAll('#scatter circle.point'))\
                 .map(c => Number(c.dataset.price));",
            )
            .await,
    );
    assert_eq!(points.len() as f64, total);
    let lowest = points.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = points.iter().copied().fold(0.0, f64::max);
    assert_eq!(Some(lowest), overview["min_price"].as_f64());
    assert_eq!(Some(highest), overview["max_price"].as_f64());

    // The data's version and when it was scraped, as the API says.
    let scraped = session
        .script("return document.querySelector('#scraped-at').getAttribute('datetime');")
        .await;
    assert_eq!(scraped, overview["scraped_at"]);
    assert!(scraped.as_str().is_some_and(|s| s.starts_with("20")));
    let version = session
        .script("return document.querySelector('#data-version').dataset.contentHash;")
        .await;
    assert_eq!(version, features["data"]["content_hash"]);

    // The model card: the served model's version and its held-out figures
    // against the baseline.
    let shown_model = session
        .script("return document.querySelector('#model-version').textContent;")
        .await;
    assert_eq!(shown_model, model["version"]);
    let accuracy = session
        .script(
            "return Array.from(document.querySelectorAll('#model rect[data-metric=\"Accuracy\"]'))\
             .map(r => [r.dataset.who, Number(r.dataset.value)]);",
        )
        .await;
    let evaluation = &model["card"]["evaluation"];
    let close = |shown: &Value, expected: &Value| {
        (shown.as_f64().expect("shown") - expected.as_f64().expect("expected")).abs() < 1e-4
    };
    assert_eq!(accuracy[0][0], "model", "{accuracy}");
    assert!(close(&accuracy[0][1], &evaluation["model"]["accuracy"]));
    assert_eq!(accuracy[1][0], "baseline", "{accuracy}");
    assert!(close(
        &accuracy[1][1],
        &evaluation["majority_baseline"]["accuracy"]
    ));

    // Live requests: this server's /metrics, read from loopback, shows the
    // traffic as a positive request rate, the busiest routes (not its own
    // polls) and the data served.
    let rate = session
        .wait_for(
            "a positive request rate in the live panel, after a few polls",
            "const live = document.getElementById('live');\
             return live.dataset.state === 'ready' && Number(live.dataset.polls) >= 4 \
                 && Number(live.dataset.rate) > 0 ? Number(live.dataset.rate) : 0;",
        )
        .await;
    assert!(rate.as_f64().is_some_and(|r| r > 1.0), "{rate}");
    busy.abort();
    let live = session
        .script(
            "return {\
               figures: Array.from(document.querySelectorAll('#live dt'))\
                 .map(dt => [dt.textContent, dt.nextElementSibling.textContent]),\
               routes: Array.from(document.querySelectorAll('#live table tbody tr'))\
                 .map(tr => tr.cells[0].textContent),\
               data: document.querySelector('#live-data').dataset.contentHash,\
               sparklines: document.querySelectorAll('#live svg polyline').length,\
             };",
        )
        .await;
    let routes = live["routes"].as_array().expect("routes");
    assert!(
        routes.contains(&json!("/api/v1/books/{id}")),
        "the busiest routes: {live}"
    );
    assert!(
        !routes.contains(&json!("/metrics")),
        "its own polls: {live}"
    );
    assert_eq!(live["data"], features["data"]["content_hash"], "{live}");
    assert!(live["sparklines"].as_u64() >= Some(2), "{live}");
    let shown_rate = live["figures"][0][1].as_str().unwrap_or_default();
    assert!(
        shown_rate.ends_with(" req/s") && !shown_rate.starts_with("0.0 "),
        "{live}"
    );

    // Only this origin, /metrics among what it read; no console errors.
    let loaded = session.assert_local_only(&origin).await;
    // The page's module and the four it imports.
    for script in [
        "dashboard.js",
        "dashboard/svg.js",
        "dashboard/page.js",
        "dashboard/charts.js",
        "dashboard/live.js",
    ] {
        assert!(
            loaded
                .iter()
                .any(|u| u.ends_with(&format!("/assets/{script}"))),
            "{script}: {loaded:?}"
        );
    }
    assert!(
        loaded.iter().any(|u| *u == format!("{origin}/metrics")),
        "{loaded:?}"
    );

    // A laptop: the whole page in one screenshot, light and dark.
    set_viewport(&session, 1280, 900).await;
    let height = session
        .script("return document.documentElement.scrollHeight;")
        .await
        .as_u64()
        .expect("height");
    set_viewport(&session, 1280, u32::try_from(height).expect("height")).await;
    wait_for_charts(&session).await;
    session.screenshot("desktop.png").await;
    prefer_color_scheme(&session, "dark").await;
    session.screenshot("desktop-dark.png").await;
    prefer_color_scheme(&session, "light").await;

    // A phone: nothing wider than the screen, and a screenshot per panel.
    set_viewport(&session, 390, 844).await;
    let width = session.script("return window.innerWidth;").await;
    assert_eq!(width, 390);
    wait_for_charts(&session).await;
    let overflow = session
        .script(
            "const width = document.documentElement.clientWidth;\
             return [document.documentElement.scrollWidth, window.innerWidth,\
             Array.from(document.querySelectorAll('body *'))\
               .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > width + 0.5)\
               .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.getAttribute('class'))];",
        )
        .await;
    assert!(
        overflow[0].as_u64() <= overflow[1].as_u64(),
        "wider than the phone ({width}px): {overflow}"
    );
    assert_eq!(overflow[2], json!([]), "sticking out: {overflow}");
    session.screenshot("phone-top.png").await;
    for panel in PANELS.iter().skip(1).chain(&["live"]) {
        session
            .script(&format!(
                "document.getElementById('{panel}').scrollIntoView({{block: 'start'}});"
            ))
            .await;
        session.screenshot(&format!("phone-{panel}.png")).await;
    }
    session.assert_local_only(&origin).await;

    session.quit().await;
    drop(driver);
}

/// Two polls of a server's `/metrics`, 2 s apart: between them the books
/// route answered 20 more requests (10 within 1 ms, 10 more within 10 ms),
/// and the dashboard polled twice more (which it must leave out).
const METRICS_BEFORE: &str = r#"# HELP http_requests_total Requests answered.
# TYPE http_requests_total counter
http_requests_total{route="/api/v1/books/{id}",method="GET",status="200"} 10
http_requests_total{route="/api/v1/books/{id}",method="GET",status="404"} 2
http_requests_total{method="GET",route="/metrics",status="200"} 5
http_requests_total{route="/odd \"quoted\\\" route",method="GET",status="200"} 1 1712345678000
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="0.001"} 4
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="0.01"} 10
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="+Inf"} 12
http_request_duration_seconds_sum{route="/api/v1/books/{id}"} 0.03
http_request_duration_seconds_count{route="/api/v1/books/{id}"} 12
http_request_duration_seconds_bucket{route="/metrics",le="0.001"} 5
http_request_duration_seconds_bucket{route="/metrics",le="0.01"} 5
http_request_duration_seconds_bucket{route="/metrics",le="+Inf"} 5
http_request_duration_seconds_sum{route="/metrics"} 0.002
http_request_duration_seconds_count{route="/metrics"} 5
http_requests_in_flight 1
books_data_info{content_hash="abc123",scraped_at="2026-11-27T09:21:08Z"} 1
books_data_books 1000
this line is not a sample
broken{route="unterminated} 3
"#;

const METRICS_AFTER: &str = r#"http_requests_total{route="/api/v1/books/{id}",method="GET",status="200"} 30
http_requests_total{route="/api/v1/books/{id}",method="GET",status="404"} 2
http_requests_total{method="GET",route="/metrics",status="200"} 7
http_requests_total{route="/odd \"quoted\\\" route",method="GET",status="200"} 1
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="0.001"} 14
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="0.01"} 30
http_request_duration_seconds_bucket{route="/api/v1/books/{id}",le="+Inf"} 32
http_request_duration_seconds_sum{route="/api/v1/books/{id}"} 0.13
http_request_duration_seconds_count{route="/api/v1/books/{id}"} 32
http_request_duration_seconds_bucket{route="/metrics",le="0.001"} 7
http_request_duration_seconds_bucket{route="/metrics",le="0.01"} 7
http_request_duration_seconds_bucket{route="/metrics",le="+Inf"} 7
http_request_duration_seconds_sum{route="/metrics"} 0.003
http_request_duration_seconds_count{route="/metrics"} 7
http_requests_in_flight 2
"#;

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn dashboard_reads_prometheus_text_for_its_live_panel() {
    let (chromium, chromedriver) = browser_binaries("dashboard browser test");
    let origin = format!("http://{}", crate::app::server_addr());
    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "dashboard-browser").await;
    session.goto(&format!("{origin}/dashboard")).await;
    session
        .wait_for(
            "the dashboard's script",
            "return typeof window.booksDashboard === 'object';",
        )
        .await;

    let before = serde_json::to_string(METRICS_BEFORE).expect("json");
    let after = serde_json::to_string(METRICS_AFTER).expect("json");
    let read = session
        .script(&format!(
            "const d = window.booksDashboard;\
             const samples = d.parsePrometheus({before});\
             const a = d.summarize(samples, '/metrics');\
             const b = d.summarize(d.parsePrometheus({after}), '/metrics');\
             const i = d.interval(a, b, 2);\
             return {{\
               samples: samples.length,\
               quoted: samples[3].labels.route,\
               routes: Array.from(a.routes.keys()).sort(),\
               requests: a.total.requests,\
               info: a.info,\
               total: i.total,\
               books: i.routes.find(r => r.route === '/api/v1/books/{{id}}'),\
               reset: d.interval(b, a, 2).total.requests,\
               empty: d.quantile(0.5, []),\
               loopback: ['127.0.0.1', 'localhost', '[::1]'].map(d.isLoopback),\
               elsewhere: ['books.vercel.app', '192.168.1.2', '127.0.0.1.nip.io'].map(d.isLoopback),\
             }};"
        ))
        .await;
    // 4 counters, 3 + 2 histogram lines for each of two routes, the gauge,
    // the info and the book count; the two broken lines are skipped.
    assert_eq!(read["samples"], 17, "{read}");
    assert_eq!(read["quoted"], "/odd \"quoted\\\" route", "{read}");
    assert_eq!(
        read["routes"],
        json!(["/api/v1/books/{id}", "/odd \"quoted\\\" route"]),
        "/metrics is left out: {read}"
    );
    assert_eq!(read["requests"], 13, "{read}");
    assert_eq!(
        read["info"],
        json!({"inFlight": 1, "books": 1000,
               "data": {"content_hash": "abc123", "scraped_at": "2026-11-27T09:21:08Z"}})
    );
    let near = |value: &Value, expected: f64| {
        value
            .as_f64()
            .is_some_and(|v| (v - expected).abs() < 1e-9 * expected.max(1.0))
    };
    let total = &read["total"];
    assert_eq!(total["requests"], 20, "{read}");
    assert!(near(&total["rate"], 10.0), "20 requests in 2 s: {total}");
    assert!(near(&total["mean"], 0.005), "0.1 s over 20: {total}");
    // The 10th of 20 is the last within 1 ms; the 19th is 9/10 of the way
    // through the 1-10 ms bucket.
    assert!(near(&total["p50"], 0.001), "{total}");
    assert!(near(&total["p95"], 0.0091), "{total}");
    assert_eq!(read["books"]["total"], 32, "{read}");
    assert!(near(&read["books"]["rate"], 10.0), "{read}");
    assert_eq!(read["reset"], 13, "a restarted server counts from 0");
    assert_eq!(read["empty"], Value::Null);
    assert_eq!(read["loopback"], json!([true, true, true]));
    assert_eq!(read["elsewhere"], json!([false, false, false]));

    session.quit().await;
    drop(driver);
}

/// A server whose database and model are missing: every API read is a 503,
/// and whose `/metrics` wants a token. Each panel says what failed, the live
/// one stops polling; no script error, no blank page.
#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn dashboard_says_which_panel_failed_when_the_api_does() {
    let (chromium, chromedriver) = browser_binaries("dashboard browser test");
    let missing = tempfile::tempdir().expect("dir");
    let state =
        books::adapters::load_state(&missing.path().join("books.db"), &books::http::Route::ALL);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // And /metrics wants a token the page does not have.
    let access = books::adapters::metrics::MetricsAccess::with_token("a-metrics-token-for-tests");
    let server = tokio::spawn(books::adapters::server::serve(
        listener,
        books::adapters::server::app_with_metrics(state, access),
        async move {
            let _ = stopped.await;
        },
        books::adapters::server::Limits::default(),
    ));

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "dashboard-browser").await;
    session.goto(&format!("{origin}/dashboard")).await;
    let ids = json!(PANELS).to_string();
    let shown = session
        .wait_for(
            "every panel to give up",
            &format!(
                "const panels = {ids}.map(id => document.getElementById(id));\
                 return panels.every(p => p.dataset.state) \
                    ? panels.map(p => [p.id, p.dataset.state, p.querySelector('.body').textContent]) : null;"
            ),
        )
        .await;
    for panel in shown.as_array().expect("panels") {
        assert_eq!(panel[1], "error", "{panel}");
        let text = panel[2].as_str().expect("text");
        assert!(
            text.starts_with("Could not draw this panel: /api/v1/") && text.contains("HTTP 503"),
            "{panel}"
        );
    }
    let live = session
        .wait_for(
            "the live panel to stop",
            "const live = document.getElementById('live');\
             return live.dataset.state === 'stopped' ? live.querySelector('.body').textContent : '';",
        )
        .await;
    assert!(
        live.as_str()
            .is_some_and(|t| t.contains("refused /metrics (HTTP 401")),
        "{live}"
    );
    session.screenshot("api-down.png").await;
    // The failed requests are the browser's own network errors; the
    // script itself logged nothing (no uncaught rejection).
    let severe = session.console_errors().await;
    assert!(!severe.is_empty());
    for entry in &severe {
        assert_eq!(entry["source"], "network", "{entry}");
    }

    session.quit().await;
    drop(driver);
    let _ = stop.send(());
    let _ = server.await;
}
