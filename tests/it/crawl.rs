//! Crawl tests against a generated site (3 listing pages, 45 books) served on
//! 127.0.0.1 with scripted faults: clean run, 500/503 then success, 429 with
//! `Retry-After`, a hanging response, a malformed product page, and a page
//! that always fails (the real `books scrape` binary exits non-zero and
//! leaves the output directory byte for byte as it was).

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Body, respond, serve};
use books::scrape::client::ClientConfig;
use books::scrape::progress::Progress;
use books::scrape::{CrawlConfig, CrawlOutput, crawl};
use hyper::{Response, StatusCode};
use url::Url;

const BOOKS: u32 = 45;
const PER_PAGE: u32 = 20;
const CATEGORIES: [&str; 3] = ["Poetry", "Travel", "Science Fiction"];
const RATINGS: [&str; 5] = ["One", "Two", "Three", "Four", "Five"];

/// What the server does instead of serving a page normally.
#[derive(Debug, Clone)]
enum Fault {
    Status(u16),
    RetryAfter(&'static str),
    Hang(Duration),
    Body(String),
}

/// The generated site, its scripted faults and a log of the requests seen.
struct Site {
    pages: HashMap<String, String>,
    /// Faults served once each, in order, before the page itself.
    script: Mutex<HashMap<String, VecDeque<Fault>>>,
    /// Faults served on every request.
    always: HashMap<String, Fault>,
    hits: Mutex<Vec<(String, Instant)>>,
}

impl Site {
    fn generate() -> Self {
        let mut pages = HashMap::new();
        let pages_count = BOOKS.div_ceil(PER_PAGE);
        for page in 1..=pages_count {
            let first = (page - 1) * PER_PAGE + 1;
            let last = (page * PER_PAGE).min(BOOKS);
            let mut links: Vec<String> = (first..=last)
                .map(|i| format!("book-{i}_{i}/index.html"))
                .collect();
            if page == pages_count {
                // A duplicate link to book 1, written another way: fetched once.
                links.push("../catalogue/book-1_1/index.html".into());
            }
            let next = (page < pages_count).then(|| format!("page-{}.html", page + 1));
            pages.insert(
                format!("/catalogue/page-{page}.html"),
                listing_html(&links, next.as_deref()),
            );
        }
        for id in 1..=BOOKS {
            pages.insert(product_path(id), product_html(id));
        }
        Site {
            pages,
            script: Mutex::new(HashMap::new()),
            always: HashMap::new(),
            hits: Mutex::new(Vec::new()),
        }
    }

    fn script(self, path: &str, faults: Vec<Fault>) -> Self {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_owned(), faults.into());
        self
    }

    fn always(mut self, path: &str, fault: Fault) -> Self {
        self.always.insert(path.to_owned(), fault);
        self
    }

    fn hits(&self, path: &str) -> Vec<Instant> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }

    async fn handle(&self, path: String) -> Response<Body> {
        self.hits
            .lock()
            .unwrap()
            .push((path.clone(), Instant::now()));
        let scripted = self
            .script
            .lock()
            .unwrap()
            .get_mut(&path)
            .and_then(VecDeque::pop_front);
        match scripted.or_else(|| self.always.get(&path).cloned()) {
            Some(Fault::Status(code)) => respond(StatusCode::from_u16(code).unwrap(), "fault"),
            Some(Fault::RetryAfter(value)) => {
                let mut r = respond(StatusCode::TOO_MANY_REQUESTS, "slow down");
                r.headers_mut()
                    .insert("retry-after", value.parse().unwrap());
                r
            }
            Some(Fault::Hang(d)) => {
                tokio::time::sleep(d).await;
                respond(
                    StatusCode::OK,
                    self.pages.get(&path).cloned().unwrap_or_default(),
                )
            }
            Some(Fault::Body(body)) => respond(StatusCode::OK, body),
            None => match self.pages.get(&path) {
                Some(page) => respond(StatusCode::OK, page.clone()),
                None => respond(StatusCode::NOT_FOUND, "not found"),
            },
        }
    }

    /// Serves the site on loopback; returns it (for its log) and its base URL.
    async fn start(self) -> (Arc<Site>, Url) {
        let site = Arc::new(self);
        let served = Arc::clone(&site);
        let addr = serve(move |path| {
            let site = Arc::clone(&served);
            async move { site.handle(path).await }
        })
        .await;
        (site, Url::parse(&format!("http://{addr}/")).unwrap())
    }
}

fn product_path(id: u32) -> String {
    format!("/catalogue/book-{id}_{id}/index.html")
}

fn listing_html(links: &[String], next: Option<&str>) -> String {
    let items: String = links
        .iter()
        .map(|href| {
            format!(
                r#"<li><article class="product_pod"><h3><a href="{href}" title="t">t</a></h3>
<p class="price_color">£1.00</p></article></li>
"#
            )
        })
        .collect();
    let next = next
        .map(|n| format!(r#"<li class="next"><a href="{n}">next</a></li>"#))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html><html><body>
<form method="get" class="form-horizontal"><strong>{BOOKS}</strong> results - showing <strong>1</strong> to <strong>20</strong>.</form>
<section><ol class="row">
{items}</ol><ul class="pager"><li class="current">Page</li>{next}</ul></section></body></html>
"#
    )
}

fn title(id: u32) -> String {
    format!("Book {id} &amp; Friends&#39; Tale")
}

fn product_html(id: u32) -> String {
    let category = CATEGORIES[(id % 3) as usize];
    let rating = RATINGS[(id % 5) as usize];
    let description = if id == 7 {
        String::new()
    } else {
        format!(
            "<div id=\"product_description\" class=\"sub-header\"><h2>Product Description</h2></div>\n<p>About book {id}.</p>\n"
        )
    };
    let pence = 1000 + id * 7;
    let price = format!("£{}.{:02}", pence / 100, pence % 100);
    format!(
        r#"<!DOCTYPE html><html><body>
<ul class="breadcrumb"><li><a href="../../index.html">Home</a></li><li><a href="../category/books_1/index.html">Books</a></li>
<li><a href="../category/books/x_2/index.html">{category}</a></li><li class="active">{title}</li></ul>
<article class="product_page"><div class="row">
<div class="col-sm-6"><div id="product_gallery"><div class="item active"><img src="../../media/cache/{id}.jpg" alt="" /></div></div></div>
<div class="col-sm-6 product_main"><h1>{title}</h1><p class="price_color">{price}</p>
<p class="star-rating {rating}"><i class="icon-star"></i></p></div></div>
{description}<table class="table table-striped">
<tr><th>UPC</th><td>upc{id:04}</td></tr><tr><th>Product Type</th><td>Books</td></tr>
<tr><th>Price (excl. tax)</th><td>{price}</td></tr><tr><th>Price (incl. tax)</th><td>{price}</td></tr>
<tr><th>Tax</th><td>£0.00</td></tr><tr><th>Availability</th><td>In stock ({id} available)</td></tr>
<tr><th>Number of reviews</th><td>0</td></tr></table></article></body></html>
"#,
        title = title(id),
    )
}

/// Short timeouts and backoff so faults cost milliseconds.
fn fast_client() -> ClientConfig {
    ClientConfig {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(400),
        max_retries: 3,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        retry_after_cap: Duration::from_secs(2),
        ..ClientConfig::default()
    }
}

async fn crawl_site(base: &Url) -> CrawlOutput {
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
    assert!(
        failures[0].reason.starts_with("parse error: missing"),
        "{}",
        failures[0].reason
    );
    assert!(
        failures[1].reason.starts_with("parse error: missing"),
        "{}",
        failures[1].reason
    );
    assert!(failures[2].reason.contains("404"), "{}", failures[2].reason);
    assert!(failures[3].reason.contains("503"), "{}", failures[3].reason);
    // A 404 is final; a 503 is retried up to the limit.
    assert_eq!(output.report.retries, 3);
}

/// Runs the real binary against `base` into `out_dir`.
async fn run_books_scrape(base: &Url, out_dir: &Path) -> std::process::Output {
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
        stderr.contains("pages 48, books 45, retries 0, failures 0"),
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
