//! Test helpers shared by the crawl and scraping tests: a tiny HTTP/1.1
//! server on 127.0.0.1:0 (hyper 1) whose responses a closure decides
//! ([`serve`] sees the path, [`serve_requests`] the whole request), and a
//! generated site ([`Site`]: 3 listing pages, 45 books) with scripted faults.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use books::scrape::client::ClientConfig;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use url::Url;

/// A response body.
pub type Body = Full<Bytes>;

/// Serves every request with `handler(path)` on a fresh loopback port until
/// the runtime shuts down. Returns the bound address.
pub async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    serve_requests(move |seen: Seen| {
        let path = seen.target.split('?').next().unwrap_or_default().to_owned();
        handler(path)
    })
    .await
}

/// A response with `status` and `body`.
pub fn respond(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// A request as [`serve_requests`] saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// The path and query, e.g. `/repos/o/n/actions/workflows/deploy.yml/runs?per_page=10`.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    /// A header's value as text ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Like [`serve`], but `handler` sees the method, target, headers and whole body.
pub async fn serve_requests<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Seen) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let handler = Arc::new(handler);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = Arc::clone(&handler);
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let handler = Arc::clone(&handler);
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let target = parts
                            .uri
                            .path_and_query()
                            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.to_string());
                        let seen = Seen {
                            method: parts.method,
                            target,
                            headers: parts.headers,
                            body,
                        };
                        Ok::<_, Infallible>(handler(seen).await)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

pub const BOOKS: u32 = 45;
const PER_PAGE: u32 = 20;
const CATEGORIES: [&str; 3] = ["Poetry", "Travel", "Science Fiction"];
const RATINGS: [&str; 5] = ["One", "Two", "Three", "Four", "Five"];

/// What the server does instead of serving a page normally.
#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16),
    RetryAfter(&'static str),
    Hang(Duration),
    Body(String),
}

/// The generated site, its scripted faults and a log of the requests seen.
pub struct Site {
    pages: HashMap<String, String>,
    /// Faults served once each, in order, before the page itself.
    script: Mutex<HashMap<String, VecDeque<Fault>>>,
    /// Faults served on every request.
    always: HashMap<String, Fault>,
    hits: Mutex<Vec<(String, Instant)>>,
}

impl Site {
    pub fn generate() -> Self {
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
                listing_html(&links, page, pages_count, next.as_deref()),
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

    pub fn script(self, path: &str, faults: Vec<Fault>) -> Self {
        self.script
            .lock()
            .unwrap()
            .insert(path.to_owned(), faults.into());
        self
    }

    pub fn always(mut self, path: &str, fault: Fault) -> Self {
        self.always.insert(path.to_owned(), fault);
        self
    }

    /// The page at `path`, as served when no fault is scripted.
    pub fn page(&self, path: &str) -> Option<&str> {
        self.pages.get(path).map(String::as_str)
    }

    pub fn hits(&self, path: &str) -> Vec<Instant> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, t)| *t)
            .collect()
    }

    pub async fn handle(&self, path: String) -> Response<Body> {
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
    pub async fn start(self) -> (Arc<Site>, Url) {
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

pub fn product_path(id: u32) -> String {
    format!("/catalogue/book-{id}_{id}/index.html")
}

fn listing_html(links: &[String], page: u32, pages: u32, next: Option<&str>) -> String {
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
{items}</ol><ul class="pager"><li class="current">Page {page} of {pages}</li>{next}</ul></section></body></html>
"#
    )
}

fn title(id: u32) -> String {
    format!("Book {id} &amp; Friends&#39; Tale")
}

pub fn product_html(id: u32) -> String {
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
pub fn fast_client() -> ClientConfig {
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

/// A stand-in for the GitHub API with no deploy runs, which accepts every
/// workflow dispatch (204): the happy path of the GitHub Actions trigger.
/// Returns its base URL.
pub async fn idle_github() -> String {
    let addr = serve(|path: String| async move {
        if path.ends_with("/dispatches") {
            respond(StatusCode::NO_CONTENT, "")
        } else if path.ends_with("/runs") {
            respond(StatusCode::OK, r#"{"total_count":0,"workflow_runs":[]}"#)
        } else {
            respond(StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#)
        }
    })
    .await;
    format!("http://{addr}")
}

/// The GitHub Actions trigger of `books-toscrape/books` at `api_url`.
pub fn github_trigger(api_url: &str) -> books::scraping::ScrapeTrigger {
    let config = books::scraping::GitHubConfig::new("books-toscrape/books", "test-token")
        .and_then(|c| c.with_api_url(api_url))
        .expect("GitHub config");
    books::scraping::ScrapeTrigger::GitHub(books::scraping::GitHubActions::new(config))
}
