//! The crawl: follow the catalogue's listing pages from `catalogue/page-1.html`
//! through their "next" links, and fetch every product page they link with
//! bounded concurrency while later listing pages are still being read.
//! HTML is parsed on tokio's blocking pool so every core parses while I/O
//! goes on. A page that answers 200 but does not parse is fetched again like
//! a 5xx; so is the last listing page when the walk is short of the listing
//! pages or books the site reports. A page that fails for good is recorded
//! in the [`ScrapeReport`] and the run goes on; the caller decides what
//! failures mean.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::mpsc;
use thiserror::Error;
use tokio::sync::Semaphore;
use url::Url;

use super::client::{Client, ClientConfig, FetchError};
use super::parse::{self, ListingPage, ParseError};
use super::progress::Progress;
use crate::domain::{Book, BookId};

/// The default number of product pages in flight.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// What to crawl and how.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// The site's root, e.g. `https://books.toscrape.com/` or a mirror's.
    pub base_url: Url,
    /// Product pages fetched at once (at least 1).
    pub concurrency: usize,
    /// Timeouts and retry policy.
    pub client: ClientConfig,
}

impl CrawlConfig {
    /// Defaults for `base_url`: [`DEFAULT_CONCURRENCY`], default client.
    pub fn new(base_url: Url) -> Self {
        CrawlConfig {
            base_url,
            concurrency: DEFAULT_CONCURRENCY,
            client: ClientConfig::default(),
        }
    }
}

/// A page that could not be fetched or parsed, for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The page's URL as fetched.
    pub url: String,
    /// What went wrong (after any retries).
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.url, self.reason)
    }
}

/// What a crawl did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScrapeReport {
    /// Pages fetched and parsed (listing and product pages).
    pub pages: u64,
    /// Books extracted.
    pub books: u64,
    /// Retries after a transport failure or a retryable status.
    pub retries: u64,
    /// Retries of pages that answered 200 but did not parse.
    pub unparseable_retries: u64,
    /// Pages that failed for good, in the order they failed.
    pub failures: Vec<Failure>,
    /// Wall time of the crawl.
    pub elapsed: Duration,
}

impl ScrapeReport {
    /// True when no page failed.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for ScrapeReport {
    /// The one-line summary: `pages 1050, books 1000, retries 0
    /// transport/status, 0 unparseable, failures 0, elapsed 0.41s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pages {}, books {}, retries {} transport/status, {} unparseable, failures {}, elapsed {:.2}s",
            self.pages,
            self.books,
            self.retries,
            self.unparseable_retries,
            self.failures.len(),
            self.elapsed.as_secs_f64()
        )
    }
}

/// The crawl's result: the books sorted by id, what happened, and the total
/// the site reported on its listing pages (if it did).
#[derive(Debug, Clone)]
pub struct CrawlOutput {
    /// Every book extracted, sorted by id, each id once.
    pub books: Vec<Book>,
    /// Counts, failures, time.
    pub report: ScrapeReport,
    /// "<strong>1000</strong> results" from the first listing page.
    pub reported_total: Option<u32>,
}

/// What stops a crawl before it starts.
#[derive(Debug, Error)]
pub enum CrawlError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] FetchError),
    /// The base URL cannot be a base (e.g. `mailto:`) or has no catalogue.
    #[error("invalid base URL {0:?}")]
    BaseUrl(String),
}

/// Makes `url` a directory URL (`http://host/mirror` -> `http://host/mirror/`)
/// so relative joins stay inside it.
pub fn normalize_base(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// Why one page failed, before it becomes a [`Failure`].
#[derive(Debug, Error)]
enum PageError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("parser task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Why a listing page that answered 200 is fetched again.
#[derive(Debug, Error)]
enum ListingRejected {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Short(#[from] Shortfall),
}

/// What the site says the listing pages hold, from the first page that
/// says it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Expected {
    /// The N of "Page 1 of N".
    listing_pages: Option<u32>,
    /// "<strong>1000</strong> results".
    books: Option<u32>,
}

impl Expected {
    /// What was expected so far, or else what `page` says.
    fn or_from(self, page: &ListingPage) -> Self {
        Expected {
            listing_pages: self.listing_pages.or(page.position.map(|p| p.of)),
            books: self.books.or(page.reported_total),
        }
    }
}

/// A listing page without a "next" link that cannot be the last: the walk
/// ending there would be short of what the site says.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
enum Shortfall {
    #[error("no next link, after {crawled} of the {expected} listing pages")]
    ListingPages { crawled: u64, expected: u32 },
    #[error("no next link, with {linked} of the {reported} books the site reports")]
    Books { linked: u64, reported: u32 },
}

/// Checks a walk over the listing pages that ends after `listing_pages`
/// pages linking `books_linked` distinct books against what the site says.
fn shortfall(listing_pages: u64, books_linked: u64, expected: Expected) -> Option<Shortfall> {
    if let Some(pages) = expected.listing_pages
        && listing_pages < u64::from(pages)
    {
        return Some(Shortfall::ListingPages {
            crawled: listing_pages,
            expected: pages,
        });
    }
    if let Some(reported) = expected.books
        && books_linked < u64::from(reported)
    {
        return Some(Shortfall::Books {
            linked: books_linked,
            reported,
        });
    }
    None
}

/// Crawls the site at `config.base_url`. Never fails because of a page: page
/// failures are in the report. Must run inside a tokio runtime (multi-thread
/// for parsing to use every core).
pub async fn crawl(config: &CrawlConfig, progress: &Progress) -> Result<CrawlOutput, CrawlError> {
    let started = Instant::now();
    let base = normalize_base(config.base_url.clone());
    if base.cannot_be_a_base() {
        return Err(CrawlError::BaseUrl(base.to_string()));
    }
    let first_page = base
        .join("catalogue/page-1.html")
        .map_err(|_| CrawlError::BaseUrl(base.to_string()))?;
    let client = Arc::new(Client::new(config.client.clone())?);
    let base = Arc::new(base);
    // Parsing is the crawl's cost. The listing chain is its critical path
    // (each page names the next, and feeds the product fetches), so while it
    // runs one core is kept for it and product pages are parsed on the
    // others; when it ends, its core joins them. Bodies waiting for a slot
    // wait in memory rather than in an oversubscribed run queue.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let reserved = usize::from(cores > 1);
    let parse_slots = Semaphore::new(cores - reserved);

    let (product_tx, product_rx) = mpsc::unbounded::<Url>();
    let listings = async {
        let outcome = follow_listings(&client, first_page, product_tx, progress).await;
        parse_slots.add_permits(reserved);
        outcome
    };
    let products = product_rx
        .map(|url| fetch_product(&client, &base, &parse_slots, url))
        .buffer_unordered(config.concurrency.max(1))
        .inspect(|result| {
            if let Err(failure) = result {
                progress.failed(&failure.url);
            }
            progress.book_done();
        })
        .collect::<Vec<_>>();
    let (listing, product_results) = futures::join!(listings, products);
    progress.finish();

    let mut report = ScrapeReport {
        pages: listing.pages,
        failures: listing.failures,
        ..ScrapeReport::default()
    };
    let mut books = Vec::with_capacity(product_results.len());
    for result in product_results {
        match result {
            Ok(book) => books.push(book),
            Err(failure) => report.failures.push(failure),
        }
    }
    books.sort_by_key(|b| b.id);
    report.pages += books.len() as u64;
    report.books = books.len() as u64;
    report.retries = client.retries();
    report.unparseable_retries = client.unparseable_retries();
    report.elapsed = started.elapsed();
    Ok(CrawlOutput {
        books,
        report,
        reported_total: listing.reported_total,
    })
}

/// What walking the listing pages found, besides the product URLs it sent.
struct ListingOutcome {
    pages: u64,
    failures: Vec<Failure>,
    reported_total: Option<u32>,
}

/// Walks `page-1.html` -> next -> ... and sends each new product URL (one per
/// book id) down `products`. Stops at the last page or at the first listing
/// page that fails (the pages after it cannot be found). A page without a
/// "next" link is the last only if the walk then has every listing page and
/// book the site reports; otherwise it was cut short and is fetched again,
/// and failing that, fails.
async fn follow_listings(
    client: &Client,
    first_page: Url,
    products: mpsc::UnboundedSender<Url>,
    progress: &Progress,
) -> ListingOutcome {
    let mut outcome = ListingOutcome {
        pages: 0,
        failures: Vec::new(),
        reported_total: None,
    };
    let mut seen_ids: HashSet<BookId> = HashSet::new();
    let mut seen_pages: HashSet<Url> = HashSet::new();
    let mut expected = Expected::default();
    let mut next = Some(first_page);
    while let Some(url) = next.take() {
        if !seen_pages.insert(url.clone()) {
            outcome.failures.push(Failure {
                url: url.to_string(),
                reason: "listing pages loop back to this page".into(),
            });
            break;
        }
        let ends_complete = |page: &ListingPage| {
            if page.next.is_some() {
                return Ok(());
            }
            let new_ids: HashSet<BookId> = page
                .products
                .iter()
                .filter_map(|product| parse::book_id_from_url(product).ok())
                .filter(|id| !seen_ids.contains(id))
                .collect();
            let linked = (seen_ids.len() + new_ids.len()) as u64;
            match shortfall(outcome.pages + 1, linked, expected.or_from(page)) {
                Some(short) => Err(short),
                None => Ok(()),
            }
        };
        let page = match fetch_listing(client, &url, ends_complete).await {
            Ok(page) => page,
            Err(e) => {
                progress.failed(url.as_str());
                outcome.failures.push(Failure {
                    url: url.to_string(),
                    reason: e.to_string(),
                });
                break;
            }
        };
        outcome.pages += 1;
        progress.page_done();
        expected = expected.or_from(&page);
        if outcome.reported_total.is_none() {
            outcome.reported_total = page.reported_total;
            if let Some(total) = page.reported_total {
                progress.books_expected(total.into());
            }
        }
        let mut queued = 0;
        for product in page.products {
            match parse::book_id_from_url(&product) {
                Ok(id) if !seen_ids.insert(id) => {}
                Ok(_) => {
                    // The receiver lives until every sender is dropped.
                    if products.unbounded_send(product).is_ok() {
                        queued += 1;
                    }
                }
                Err(e) => outcome.failures.push(Failure {
                    url: product.to_string(),
                    reason: e.to_string(),
                }),
            }
        }
        progress.books_found(queued);
        next = page.next;
    }
    outcome
}

/// Fetches and parses the listing page at `url`, fetching it again while it
/// does not parse or `ends_complete` refuses it.
async fn fetch_listing(
    client: &Client,
    url: &Url,
    ends_complete: impl Fn(&ListingPage) -> Result<(), Shortfall>,
) -> Result<ListingPage, PageError> {
    let ends_complete = &ends_complete;
    client
        .get_parsed(url, |html| {
            let page_url = url.clone();
            async move {
                let parsed =
                    tokio::task::spawn_blocking(move || parse::parse_listing(&html, &page_url))
                        .await?;
                Ok::<_, PageError>(match parsed {
                    Ok(page) => ends_complete(&page).map(|()| page).map_err(Into::into),
                    Err(e) => Err(ListingRejected::Parse(e)),
                })
            }
        })
        .await
}

async fn fetch_product(
    client: &Client,
    base: &Arc<Url>,
    parse_slots: &Semaphore,
    url: Url,
) -> Result<Book, Failure> {
    let result = client
        .get_parsed(&url, |html| {
            let (page_url, base) = (url.clone(), Arc::clone(base));
            async move {
                // Never closed, so acquiring cannot fail; parse anyway if it did.
                let _slot = parse_slots.acquire().await.ok();
                tokio::task::spawn_blocking(move || parse::parse_product(&html, &page_url, &base))
                    .await
                    .map_err(PageError::Join)
            }
        })
        .await;
    result.map_err(|e: PageError| Failure {
        url: url.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_become_directories() {
        let n = |s: &str| normalize_base(Url::parse(s).unwrap()).to_string();
        assert_eq!(n("http://127.0.0.1:8080"), "http://127.0.0.1:8080/");
        assert_eq!(n("http://h/mirror"), "http://h/mirror/");
        assert_eq!(n("http://h/mirror/?x=1#y"), "http://h/mirror/");
    }

    #[test]
    fn summary_line() {
        let report = ScrapeReport {
            pages: 1050,
            books: 1000,
            retries: 2,
            unparseable_retries: 5,
            failures: vec![],
            elapsed: Duration::from_millis(420),
        };
        assert_eq!(
            report.to_string(),
            "pages 1050, books 1000, retries 2 transport/status, 5 unparseable, failures 0, elapsed 0.42s"
        );
    }

    const SITE: Expected = Expected {
        listing_pages: Some(50),
        books: Some(1000),
    };

    #[test]
    fn a_walk_with_every_page_and_book_is_complete() {
        assert_eq!(shortfall(50, 1000, SITE), None);
        // More than reported is not a shortfall; nothing reported, nothing to miss.
        assert_eq!(shortfall(51, 1001, SITE), None);
        assert_eq!(shortfall(1, 20, Expected::default()), None);
    }

    #[test]
    fn a_walk_short_of_pages_or_books_is_a_shortfall() {
        assert_eq!(
            shortfall(49, 1000, SITE),
            Some(Shortfall::ListingPages {
                crawled: 49,
                expected: 50
            })
        );
        assert_eq!(
            shortfall(50, 999, SITE),
            Some(Shortfall::Books {
                linked: 999,
                reported: 1000
            })
        );
        let books_only = Expected {
            listing_pages: None,
            ..SITE
        };
        assert_eq!(
            shortfall(3, 60, books_only)
                .map(|s| s.to_string())
                .as_deref(),
            Some("no next link, with 60 of the 1000 books the site reports")
        );
    }

    #[test]
    fn the_first_page_that_says_sets_what_is_expected() {
        let page = |position, reported_total| ListingPage {
            products: vec![],
            next: None,
            reported_total,
            position,
        };
        let first = Expected::default().or_from(&page(None, Some(1000)));
        assert_eq!(first.books, Some(1000));
        let later = first.or_from(&page(
            Some(parse::PagePosition { page: 2, of: 50 }),
            Some(7),
        ));
        assert_eq!(later, SITE);
    }
}
