//! The usage report's HTML in a real browser: headless Chromium opens it
//! from a `file://` URL (as someone would from a download), shows the
//! numbers the summary printed, loads nothing (no request at all, so none
//! to another origin), logs no console error (a Content-Security-Policy
//! violation would be one), runs no script (a search term holding
//! `<script>` stays text), fits a phone's width and turns dark with the
//! system. Screenshots go to `target/usage-report/`.
//!
//! Ignored, with the reason, unless asked for (`--include-ignored`): they
//! need Chromium and chromedriver (see [`crate::browser`]).

use serde_json::json;

use crate::browser::{Driver, Session, browser_binaries};
use crate::usage_report::{generate, report};

#[tokio::test]
#[ignore = "needs Chromium and chromedriver: apt-get install chromium chromium-driver"]
async fn the_html_report_opens_offline_with_the_summary_numbers() {
    let (chromium, chromedriver) = browser_binaries("usage report browser test");
    let dir = tempfile::tempdir().expect("temp dir");
    let g = generate(dir.path(), 600);
    let html = dir.path().join("usage-report.html");
    let summary = report(&g.files, &html);
    let errors = g.requests.iter().filter(|r| r.status >= 500).count();
    let cache_line = summary
        .lines()
        .find(|l| l.starts_with("cache "))
        .expect("a cache line");
    let share = cache_line.split_whitespace().nth(3).expect("the share");

    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver::start(&chromedriver);
    let session = Session::new(&driver, &chromium, profile.path(), "usage-report").await;
    let url = url::Url::from_file_path(&html).expect("a file URL");
    session.goto(url.as_str()).await;
    let total = session
        .wait_for(
            "the overview",
            "const e = document.getElementById('total-requests'); return e ? e.textContent : '';",
        )
        .await;
    assert_eq!(total, json!(g.requests.len().to_string()));
    let shown_share = session
        .script("return document.getElementById('cache-share').textContent;")
        .await;
    assert_eq!(shown_share, json!(share));
    let rows = session
        .script("return document.querySelectorAll('#errors-table tbody tr').length;")
        .await;
    assert_eq!(rows, json!(errors));
    let bars = session
        .script("return document.querySelectorAll('#over-time svg rect').length;")
        .await;
    assert!(bars.as_u64().is_some_and(|n| n > 0), "{bars}");
    // The hostile term is text on the page, and no script exists.
    let scripts = session
        .script(
            "return [document.scripts.length, \
             document.getElementById('terms-table').textContent.includes('<script>alert(1)</script>')];",
        )
        .await;
    assert_eq!(scripts, json!([0, true]));
    session.screenshot("report.png").await;
    session
        .script("document.getElementById('terms').scrollIntoView();")
        .await;
    session.screenshot("report-lists.png").await;

    // A phone's width: nothing wider than the screen (tables scroll inside
    // their own boxes).
    session
        .post("/window/rect", json!({"width": 412, "height": 915}))
        .await;
    let overflow = session
        .script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
        )
        .await;
    let (scroll, client) = (overflow[0].as_u64(), overflow[1].as_u64());
    assert!(
        client.is_some_and(|c| c < 600),
        "the window did not narrow: {overflow}"
    );
    assert!(scroll <= client, "wider than the screen: {overflow}");
    session.screenshot("phone.png").await;
    session
        .script("document.getElementById('latency').scrollIntoView();")
        .await;
    session.screenshot("phone-latency.png").await;

    // Dark mode follows the system's (emulated through Chromium's DevTools
    // protocol, which chromedriver passes on).
    session
        .post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": "dark"}]}}),
        )
        .await;
    let background = session
        .script("return getComputedStyle(document.body).backgroundColor;")
        .await;
    assert_eq!(background, json!("rgb(13, 17, 23)"));
    session
        .script("document.getElementById('over-time').scrollIntoView();")
        .await;
    session.screenshot("phone-dark.png").await;

    // Nothing was loaded from anywhere, and the console stayed clean.
    let loaded = session.assert_local_only("file://").await;
    assert!(loaded.is_empty(), "{loaded:?}");

    session.quit().await;
    drop(driver);
}
