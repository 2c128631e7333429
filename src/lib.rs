//! # books
//!
//! A data pipeline and JSON API over the books.toscrape.com catalogue.
//!
//! ```text
//! site ──scrape──▶ Vec<Book> ──store──▶ data/books.csv + data/books.db ──http──▶ JSON
//! ```
//!
//! Module map:
//! - [`domain`]: `Book`, `BookId`, `Rating`, `Price`: validated value types.
//! - [`scrape`]: fetch and parse the site (pure parser, retrying client, bounded crawl).
//! - [`scraping`]: the operator's scrape trigger (a GitHub Actions dispatch,
//!   or a run in the process that publishes and swaps the store), HTTP-free.
//! - [`store`]: the CSV, the prebuilt SQLite file (build, validate, read-only queries).
//! - [`http`]: the route table, the axum app (extractors, problem+json errors,
//!   cache policy, middleware) and the OpenAPI document.
//! - [`ml`]: text features, the train/test split, the category model and its card.
//! - [`auth`]: accounts (argon2id), HS256 tokens and their settings.
//! - [`observe`]: the JSON log lines (tracing), request phase timings and the
//!   Prometheus metrics: primitives any layer may call.
//! - [`report`]: `books usage-report`, the HTML report and summary of the logs.
//! - [`services`]: one function per endpoint over the store and the model,
//!   with typed inputs and its own error ([`services::ServiceError`]); no HTTP.
//! - [`adapters`]: the Vercel function entry point and the local server.
//! - [`hex`]: lowercase hex text of digests (content hash, ETags).
//! - [`text`]: echoes of what a caller sent, cut to a bounded length.

pub mod adapters;
pub mod auth;
pub mod domain;
pub mod hex;
pub mod http;
pub mod ml;
pub mod observe;
pub mod report;
pub mod scrape;
pub mod scraping;
pub mod services;
pub mod store;
pub mod text;

/// The crate version, reported by `/health` and sent in the scraper's User-Agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where stored URLs point, whatever base URL a scrape fetched from.
pub const CANONICAL_BASE_URL: &str = "https://books.toscrape.com/";
