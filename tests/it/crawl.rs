//! Crawl tests against a generated site (3 listing pages, 45 books) served on
//! 127.0.0.1 with scripted faults: clean run, 500/503 then success, 429 with
//! `Retry-After`, a hanging response, a malformed product page, and a page
//! that always fails (the real `books scrape` binary exits non-zero and
//! leaves the output directory byte for byte as it was).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{BOOKS, Fault, Site, fast_client, product_html, product_path};
use books::scrape::progress::Progress;
use books::scrape::{CrawlConfig, CrawlOutput, crawl};
use url::Url;

pub(crate) async fn crawl_site(base: &Url) -> CrawlOutput {
    let config = CrawlConfig {
        concurrency: 4,
        client: fast_client(),
        ..CrawlConfig::new(base.clone())
    };
    crawl(&config, &Progress::hidden())
        .await
        .expect("crawl starts")
}

fn assert_all_books(output: &CrawlOutput) {
    let ids: Vec<u32> = output.books.iter().map(|b| b.id.get()).collect();
    assert_eq!(ids, (1..=BOOKS).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_run_gets_every_book_and_field() {
    let (site, base) = Site::generate().start().await;
    let output = crawl_site(&base).await;
    assert!(output.report.is_complete(), "{:?}", output.report.failures);
    assert_all_books(&output);
    assert_eq!(output.reported_total, Some(BOOKS));
    assert_eq!(output.report.pages, 3 + u64::from(BOOKS));
    assert_eq!(output.report.books, u64::from(BOOKS));
    assert_eq!(output.report.retries, 0);
    assert_eq!(output.report.unparseable_retries, 0);
    // The duplicate link to book 1 was not fetched twice.
    assert_eq!(site.hits(&product_path(1)).len(), 1);

    let book = &output.books[11]; // id 12
    assert_eq!(book.id.get(), 12);
    assert_eq!(book.upc, "upc0012");
    assert_eq!(book.title, "Book 12 & Friends' Tale");
    assert_eq!(book.category, "Poetry");
    assert_eq!(book.price.pence(), 1084);
    assert_eq!(book.price_excl_tax.pence(), 1084);
    assert_eq!(book.tax.pence(), 0);
    assert_eq!(book.rating.stars(), 3);
    assert_eq!(book.availability, "In stock");
    assert_eq!(book.stock, 12);
    assert_eq!(book.review_count, 0);
    assert_eq!(book.product_type, "Books");
    assert_eq!(book.description, "About book 12.");
    assert_eq!(
        book.image_url,
        "https://books.toscrape.com/media/cache/12.jpg"
    );
    assert_eq!(
        book.product_url,
        "https://books.toscrape.com/catalogue/book-12_12/index.html"
    );
    assert_eq!(output.books[6].description, "");
    for book in &output.books {
        assert!(
            book.product_url
                .starts_with("https://books.toscrape.com/catalogue/")
        );
        assert!(
            book.image_url
                .starts_with("https://books.toscrape.com/media/")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_success() {
    let (site, base) = Site::generate()
        .script(
            &product_path(5),
            vec![Fault::Status(500), Fault::Status(503)],
        )
        .script(
            "/catalogue/page-2.html",
            vec![Fault::Status(502), Fault::Status(408)],
        )
        .start()
        .await;
    let output = crawl_site(&base).await;
    assert!(output.report.is_complete(), "{:?}", output.report.failures);
    assert_all_books(&output);
    assert_eq!(output.report.retries, 4);
    assert_eq!(site.hits(&product_path(5)).len(), 3);
    assert_eq!(site.hits("/catalogue/page-2.html").len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_honours_retry_after() {
    let path = product_path(9);
    let (site, base) = Site::generate()
        .script(&path, vec![Fault::RetryAfter("1")])
        .start()
        .await;
    let output = crawl_site(&base).await;
    assert!(output.report.is_complete(), "{:?}", output.report.failures);
    assert_all_books(&output);
    assert_eq!(output.report.retries, 1);
    let hits = site.hits(&path);
    assert_eq!(hits.len(), 2);
    let waited = hits[1] - hits[0];
    assert!(
        waited >= Duration::from_millis(990),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_millis(1900), "waited {waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_response_times_out_and_is_retried() {
    let path = product_path(20);
    let (site, base) = Site::generate()
        .script(&path, vec![Fault::Hang(Duration::from_secs(30))])
        .script(
            "/catalogue/page-3.html",
            vec![Fault::Hang(Duration::from_secs(30))],
        )
        .start()
        .await;
    let started = Instant::now();
    let output = crawl_site(&base).await;
    assert!(output.report.is_complete(), "{:?}", output.report.failures);
    assert_all_books(&output);
    assert_eq!(output.report.retries, 2);
    assert_eq!(site.hits(&path).len(), 2);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_product_page_is_reported_with_its_url() {
    let path = product_path(33);
    let truncated: String = product_html(33).chars().take(400).collect();
    let (_site, base) = Site::generate()
        .always(&path, Fault::Body(truncated))
        .always(
            &product_path(34),
            Fault::Body("\u{0}\u{ffff}<<<>>>&&&;".into()),
        )
        .always(&product_path(35), Fault::Status(404))
        .always(&product_path(36), Fault::Status(503))
        .start()
        .await;
    let output = crawl_site(&base).await;
    assert_eq!(output.books.len(), BOOKS as usize - 4);
    let mut failures = output.report.failures.clone();
    failures.sort_by(|a, b| a.url.cmp(&b.url));
    let urls: Vec<&str> = failures.iter().map(|f| f.url.as_str()).collect();
    assert_eq!(
        urls,
        [33, 34, 35, 36]
            .map(|id| format!("{base}{}", &product_path(id)[1..]))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for unparseable in &failures[..2] {
        assert!(
            unparseable
                .reason
                .starts_with("answered 200 but did not parse after 4 attempt(s): missing"),
            "{}",
            unparseable.reason
        );
    }
    assert!(failures[2].reason.contains("404"), "{}", failures[2].reason);
    assert!(failures[3].reason.contains("503"), "{}", failures[3].reason);
    // A 404 is final; a 503 and an unparseable 200 are retried up to the limit.
    assert_eq!(output.report.retries, 3);
    assert_eq!(output.report.unparseable_retries, 2 * 3);
}

/// Runs the real binary against `base` into `out_dir`.
pub(crate) async fn run_books_scrape(base: &Url, out_dir: &Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_books"));
    cmd.args([
        "scrape",
        "--quiet",
        "--base-url",
        base.as_str(),
        "--out-dir",
    ])
    .arg(out_dir);
    tokio::task::spawn_blocking(move || cmd.output().expect("run books scrape"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_fails_and_leaves_previous_files_untouched() {
    let failing = "/catalogue/page-2.html";
    let (_site, base) = Site::generate()
        .always(failing, Fault::Status(503))
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("books.csv");
    let db = dir.path().join("books.db");
    std::fs::write(&csv, b"id,upc\n1,previous\n").unwrap();
    std::fs::write(&db, b"previous database bytes").unwrap();
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();

    let out = run_books_scrape(&base, dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{base}catalogue/page-2.html")),
        "{stderr}"
    );
    assert!(stderr.contains("503"), "{stderr}");
    assert_eq!(std::fs::read(&csv).unwrap(), b"id,upc\n1,previous\n");
    assert_eq!(std::fs::read(&db).unwrap(), b"previous database bytes");
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_publishes_a_clean_scrape() {
    let (_site, base) = Site::generate().start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_books_scrape(&base, dir.path()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr
            .contains("pages 48, books 45, retries 0 transport/status, 0 unparseable, failures 0"),
        "{stderr}"
    );
    let csv = std::fs::read_to_string(dir.path().join("books.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,upc,title,category,price,price_excl_tax,tax,rating,availability,stock,review_count,product_type,description,image_url,product_url"
        )
    );
    assert_eq!(csv.lines().count(), 1 + BOOKS as usize);
    assert!(dir.path().join("books.db").is_file());
}
