//! Building `books.db` from a book list: schema, categories, books, the FTS5
//! index, the similar books and the meta table, in one transaction, then
//! ANALYZE and VACUUM.
//! Deterministic: the same books and meta give the same database content.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};
use thiserror::Error;

use super::ScrapeMeta;
use super::csv::content_hash;
use super::schema::{self, SCHEMA_VERSION, meta_key};
use crate::domain::{Book, category_slug};
use crate::ml::similar::{self, NEIGHBOURS};

/// The columns a book row is inserted with, in the order `write_db` binds
/// them: [`Book::COLUMNS`] plus the two derived for queries (a test pins it).
const BOOK_INSERT_COLUMNS: &str = "id, upc, title, title_folded, category_id, category, \
     price_pence, price_excl_tax_pence, tax_pence, rating, availability, stock, review_count, \
     product_type, description, image_url, product_url";

/// Why a database could not be built.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error("{path} already exists; the builder only writes fresh files")]
    Exists { path: PathBuf },
    #[error("cannot build {path}: {step}: {source}")]
    Sqlite {
        path: PathBuf,
        step: String,
        source: rusqlite::Error,
    },
    #[error("cannot build {path}: {message}")]
    Data { path: PathBuf, message: String },
    #[error("cannot write {path} to disk: {source}")]
    Sync { path: PathBuf, source: io::Error },
    #[error("cannot move {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
}

/// What a build wrote, for the caller's summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSummary {
    pub book_count: usize,
    pub category_count: usize,
    pub content_hash: String,
}

/// Whether a build computes the similar books.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarBooks {
    /// Every book's neighbours: what the API serves and `books validate`
    /// checks.
    Compute,
    /// An empty `similar_books` table, for benchmarks that time the rest
    /// of the build alone. `/similar` then answers an empty list and
    /// `books validate` reports the table.
    Skip,
}

/// How long each step of a build took, in order: for the scale benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildPhases(pub Vec<(&'static str, Duration)>);

impl std::fmt::Display for BuildPhases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (phase, took)) in self.0.iter().enumerate() {
            let sep = if i > 0 { ", " } else { "" };
            write!(f, "{sep}{phase} {:.3} s", took.as_secs_f64())?;
        }
        Ok(())
    }
}

/// Builds `db_path` from `books` and `meta`. Writes a temporary file next to
/// `db_path` and renames it into place, so a failed build never leaves a
/// partial database and never touches an existing one.
pub fn build_db(
    books: &[Book],
    meta: &ScrapeMeta,
    db_path: &Path,
) -> Result<BuildSummary, BuildError> {
    build_db_timed(books, meta, db_path, SimilarBooks::Compute).map(|(summary, _)| summary)
}

/// [`build_db`], computing the similar books or not, with the time each
/// step took.
pub fn build_db_timed(
    books: &[Book],
    meta: &ScrapeMeta,
    db_path: &Path,
    similar: SimilarBooks,
) -> Result<(BuildSummary, BuildPhases), BuildError> {
    let temp = TempPath::next_to(db_path);
    let built = write_db(books, meta, temp.path(), db_path, similar)?;
    fs::rename(temp.path(), db_path).map_err(|source| BuildError::Rename {
        from: temp.path().to_owned(),
        to: db_path.to_owned(),
        source,
    })?;
    temp.disarm();
    Ok(built)
}

/// Builds a database at `path`, which must not exist yet; errors name
/// `target`, the file `path` will be renamed to. On failure the caller
/// removes `path` (see [`TempPath`]).
pub(crate) fn write_db(
    books: &[Book],
    meta: &ScrapeMeta,
    path: &Path,
    target: &Path,
    similar: SimilarBooks,
) -> Result<(BuildSummary, BuildPhases), BuildError> {
    // An existing non-empty file would mix old rows into the new database.
    if fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Err(BuildError::Exists {
            path: path.to_owned(),
        });
    }
    let at = |step: &str| {
        let path = target.to_owned();
        let step = step.to_owned();
        move |source| BuildError::Sqlite { path, step, source }
    };
    let data_err = |message: String| BuildError::Data {
        path: target.to_owned(),
        message,
    };
    // The schema's UNIQUE constraints would refuse these too, but with an
    // error naming only the first; say plainly what is wrong instead.
    if let Some(message) = duplicates(books) {
        return Err(data_err(message));
    }

    let mut phases = BuildPhases::default();
    let mut step = Instant::now();
    let mut lap = |phase: &'static str| {
        phases.0.push((phase, step.elapsed()));
        step = Instant::now();
    };

    let mut sorted: Vec<&Book> = books.iter().collect();
    sorted.sort_by_key(|book| book.id);
    let categories = categories_of(books);
    let hash = content_hash(books);
    lap("sort and hash");

    // The neighbours and the feature profiles need only the books: they are
    // computed on other threads while this one fills the tables.
    std::thread::scope(|scope| {
        let neighbours = (similar == SimilarBooks::Compute)
            .then(|| scope.spawn(|| similar::neighbours(books, NEIGHBOURS)));
        let feature_profiles = scope.spawn(|| crate::ml::profile::profile_json(books));
        let mut conn = Connection::open(path).map_err(at("open"))?;
        // No journal and no syncs while building: the file is a temporary one,
        // removed on any failure and renamed into place only once complete
        // (synced first, below). The header still says rollback journal
        // (journal_mode=DELETE), which is what readers open.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
             PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = ON;",
        )
        .map_err(at("pragmas"))?;
        let tx = conn.transaction().map_err(at("begin"))?;
        tx.execute_batch(schema::CREATE)
            .map_err(at("create schema"))?;

        let mut category_ids = BTreeMap::new();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO categories (id, name, slug, book_count) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(at("prepare categories"))?;
            // Ids follow name order, so they are the same for the same books.
            for (index, (name, count)) in categories.iter().enumerate() {
                let id = index as i64 + 1;
                insert
                    .execute(params![id, name, category_slug(name), *count as i64])
                    .map_err(at(&format!("insert category {name:?}")))?;
                category_ids.insert(name.as_str(), id);
            }
        }
        {
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO books ({BOOK_INSERT_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                ))
                .map_err(at("prepare books"))?;
            for book in &sorted {
                let pence = |price: crate::domain::Price, column: &str| {
                    i64::try_from(price.pence())
                        .map_err(|_| data_err(format!("book {}: {column} is too large", book.id)))
                };
                let category_id = category_ids.get(book.category.as_str()).copied();
                insert
                    .execute(params![
                        book.id.get(),
                        book.upc,
                        book.title,
                        book.title.to_lowercase(),
                        category_id,
                        book.category,
                        pence(book.price, "price")?,
                        pence(book.price_excl_tax, "price_excl_tax")?,
                        pence(book.tax, "tax")?,
                        book.rating.stars(),
                        book.availability,
                        book.stock,
                        book.review_count,
                        book.product_type,
                        book.description,
                        book.image_url,
                        book.product_url,
                    ])
                    .map_err(at(&format!("insert book {}", book.id)))?;
            }
        }
        lap("insert");
        tx.execute_batch("INSERT INTO books_fts(books_fts) VALUES('rebuild');")
            .map_err(at("fill the FTS5 index"))?;
        lap("fts index");
        tx.execute_batch("INSERT INTO books_title_trigram(books_title_trigram) VALUES('rebuild');")
            .map_err(at("fill the title trigram index"))?;
        lap("trigram index");
        if let Some(neighbours) = neighbours {
            let mut insert = tx
                .prepare(
                    "INSERT INTO similar_books (book_id, rank, similar_id, score) \
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(at("prepare similar_books"))?;
            for (id, neighbours) in joined(neighbours) {
                for (rank, neighbour) in (1i64..).zip(&neighbours) {
                    insert
                        .execute(params![id.get(), rank, neighbour.id.get(), neighbour.score])
                        .map_err(at(&format!("insert the similar books of {id}")))?;
                }
            }
        }
        lap("similar books");
        let feature_profiles = joined(feature_profiles);
        lap("feature profiles");
        {
            let mut insert = tx
                .prepare("INSERT INTO meta (key, value) VALUES (?1, ?2)")
                .map_err(at("prepare meta"))?;
            let mut rows = vec![
                (meta_key::SCHEMA_VERSION, SCHEMA_VERSION.to_string()),
                (meta_key::SCRAPED_AT, meta.scraped_at.clone()),
                (meta_key::SOURCE, meta.source.clone()),
                (meta_key::BOOK_COUNT, books.len().to_string()),
                (meta_key::CONTENT_HASH, hash.clone()),
                (meta_key::FEATURE_PROFILES, feature_profiles),
            ];
            if let Some(total) = meta.reported_total {
                rows.push((meta_key::REPORTED_TOTAL, total.to_string()));
            }
            for (key, value) in rows {
                insert
                    .execute(params![key, value])
                    .map_err(at(&format!("insert meta {key}")))?;
            }
        }
        tx.execute_batch("ANALYZE;").map_err(at("analyze"))?;
        tx.commit().map_err(at("commit"))?;
        lap("analyze and commit");
        // VACUUM cannot run in a transaction; it leaves one compact file with no
        // free pages, laid out the same way for the same content.
        conn.execute_batch("VACUUM;").map_err(at("vacuum"))?;
        conn.close().map_err(|(_, source)| at("close")(source))?;
        lap("vacuum");
        Ok::<_, BuildError>(())
    })?;
    sync(path).map_err(|source| BuildError::Sync {
        path: path.to_owned(),
        source,
    })?;
    lap("sync");

    let summary = BuildSummary {
        book_count: books.len(),
        category_count: categories.len(),
        content_hash: hash,
    };
    Ok((summary, phases))
}

/// The result of a scoped thread, its panic passed on.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Writes the file at `path` through to the disk, so that the rename that
/// publishes it never publishes a file the disk does not hold yet.
fn sync(path: &Path) -> io::Result<()> {
    fs::File::open(path)?.sync_all()
}

/// Every id, UPC and category slug used more than once, if any.
fn duplicates(books: &[Book]) -> Option<String> {
    fn repeated<T: Ord + std::fmt::Display>(values: impl Iterator<Item = T>) -> Vec<String> {
        let mut counts = BTreeMap::new();
        for value in values {
            *counts.entry(value).or_insert(0usize) += 1;
        }
        counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(value, _)| value.to_string())
            .collect()
    }
    let categories = categories_of(books);
    let found = [
        ("ids", repeated(books.iter().map(|b| b.id))),
        ("UPCs", repeated(books.iter().map(|b| b.upc.as_str()))),
        (
            "category slugs",
            repeated(categories.keys().map(|name| category_slug(name))),
        ),
    ];
    let parts: Vec<String> = found
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(what, values)| format!("duplicate {what}: {}", values.join(", ")))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Category names with their book counts, in name order.
pub(crate) fn categories_of(books: &[Book]) -> BTreeMap<String, usize> {
    let mut categories = BTreeMap::new();
    for book in books {
        *categories.entry(book.category.clone()).or_insert(0) += 1;
    }
    categories
}

/// A temporary file path next to a target, removed (with SQLite's journal) on
/// drop unless [`TempPath::disarm`]ed after a successful rename.
pub(crate) struct TempPath {
    path: PathBuf,
    armed: bool,
}

impl TempPath {
    /// `dir/.name.tmp-<pid>-<random>`: hidden, unique, on the target's file
    /// system so that the final rename is atomic.
    pub(crate) fn next_to(target: &Path) -> Self {
        let name = target
            .file_name()
            .map_or_else(|| "books".into(), |n| n.to_string_lossy().into_owned());
        let file = format!(
            ".{name}.tmp-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        );
        let path = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(file),
            _ => PathBuf::from(file),
        };
        TempPath { path, armed: true }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file was renamed into place: nothing left to remove.
    pub(crate) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the files may never have been created.
            let _ = fs::remove_file(&self.path);
            let mut journal = self.path.clone().into_os_string();
            journal.push("-journal");
            let _ = fs::remove_file(journal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::contract_columns;

    #[test]
    fn inserted_columns_follow_the_contract() {
        assert_eq!(
            contract_columns(BOOK_INSERT_COLUMNS, &["title_folded", "category_id"]),
            Book::COLUMNS
        );
    }
}
