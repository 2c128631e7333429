//! Fetching and parsing books.toscrape.com: a pure parser ([`parse`]), a
//! retrying HTTP client ([`client`]), the bounded-concurrency crawl
//! ([`crawl`](mod@crawl)) and its progress display ([`progress`]).

pub mod client;
pub mod crawl;
pub mod parse;
pub mod progress;

pub use crawl::{CrawlConfig, CrawlError, CrawlOutput, Failure, ScrapeReport, crawl};
