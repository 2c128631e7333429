//! The stored catalogue: `books.csv` (the portable artefact) and `books.db`
//! (the prebuilt read-only SQLite file the API serves from).

pub mod build;
pub mod csv;
pub mod diff;
pub mod publish;
pub mod query;
pub mod schema;
pub mod sqlite;
pub mod summary;
pub mod synth;
pub mod validate;

pub use sqlite::{Store, StoreError};

/// The file names of the pair a scrape publishes into a data directory.
pub const CSV_FILE_NAME: &str = "books.csv";
pub const DB_FILE_NAME: &str = "books.db";

/// What a scrape knows besides the books; kept in the database's `meta` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapeMeta {
    /// RFC 3339 UTC time the scrape finished, e.g. `2026-11-27T09:00:00Z`.
    pub scraped_at: String,
    /// The base URL the scrape fetched from.
    pub source: String,
    /// The book count the site itself reported ("1000 results"), if known.
    pub reported_total: Option<u32>,
}
