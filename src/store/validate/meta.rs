//! Scrape meta: its values checked against the books they describe, and the
//! database's `meta` table read and checked for missing or malformed keys.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;

use super::{Problem, Scope, ValidateError};
use crate::store::ScrapeMeta;
use crate::store::schema::{SCHEMA_VERSION, meta_key};
use crate::store::sqlite::open_read_only;

/// Checks meta values against the number of books they describe; `scope`
/// says whose meta it is.
pub(super) fn check_scrape_meta(
    meta: &ScrapeMeta,
    book_count: usize,
    scope: &Scope,
    problems: &mut Vec<Problem>,
) {
    let mut report = |message: String| problems.push(Problem::new(scope.clone(), message));
    if humantime::parse_rfc3339(&meta.scraped_at).is_err() {
        report(format!(
            "scraped_at must be an RFC 3339 UTC time like 2026-11-27T09:00:00Z, got {:?}",
            meta.scraped_at
        ));
    }
    if meta.source.trim().is_empty() {
        report("source is empty".to_owned());
    }
    match meta.reported_total {
        Some(total) if usize::try_from(total).ok() != Some(book_count) => {
            report(format!("{book_count} books, but the site reported {total}"));
        }
        Some(_) => {}
        // A scrape always sees the site's "N results"; without it the count
        // cannot be checked against anything.
        None if is_scraped(&meta.source) => report(format!(
            "no reported_total recorded for a dataset scraped from {}",
            meta.source
        )),
        None => {}
    }
}

/// A dataset is scraped when its source is a web address.
fn is_scraped(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// Reads the `meta` table of the database at `db_path` (opened read-only).
pub fn read_meta(db_path: &Path) -> Result<BTreeMap<String, String>, ValidateError> {
    let conn = open_read_only(db_path)?;
    meta_map(&conn).map_err(|source| ValidateError::Meta {
        path: db_path.display().to_string(),
        source,
    })
}

fn meta_map(conn: &Connection) -> Result<BTreeMap<String, String>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT key, value FROM meta")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// What the meta table says, each value only if present and well formed.
pub(super) struct DbMeta {
    pub(super) book_count: Option<String>,
    pub(super) content_hash: Option<String>,
    pub(super) scrape: Option<ScrapeMeta>,
}

/// Reads the meta table of the database named `db`, reporting missing keys,
/// a schema version this program does not read, and a malformed
/// reported_total.
pub(super) fn check_meta_table(conn: &Connection, db: &str, problems: &mut Vec<Problem>) -> DbMeta {
    let problem = |message: String| Problem::new(Scope::Meta(Some(db.to_owned())), message);
    let meta = match meta_map(conn) {
        Ok(meta) => meta,
        Err(err) => {
            problems.push(problem(format!("cannot read the meta table: {err}")));
            BTreeMap::new()
        }
    };
    let get = |key: &str, problems: &mut Vec<Problem>| {
        let value = meta.get(key).cloned();
        if value.is_none() {
            problems.push(problem(format!("meta has no {key}")));
        }
        value
    };
    if let Some(version) = get(meta_key::SCHEMA_VERSION, problems)
        && version != SCHEMA_VERSION.to_string()
    {
        problems.push(problem(format!(
            "schema_version is {version:?}, this program reads version {SCHEMA_VERSION}"
        )));
    }
    let book_count = get(meta_key::BOOK_COUNT, problems);
    let content_hash = get(meta_key::CONTENT_HASH, problems);
    // Absent is allowed here (check_scrape_meta decides); malformed is not.
    let reported_total = match meta.get(meta_key::REPORTED_TOTAL) {
        None => Some(None),
        Some(text) => match text.parse::<u32>() {
            Ok(total) => Some(Some(total)),
            Err(_) => {
                problems.push(problem(format!(
                    "meta reported_total is not a count: {text:?}"
                )));
                None
            }
        },
    };
    let scrape = match (
        get(meta_key::SCRAPED_AT, problems),
        get(meta_key::SOURCE, problems),
        reported_total,
    ) {
        (Some(scraped_at), Some(source), Some(reported_total)) => Some(ScrapeMeta {
            scraped_at,
            source,
            reported_total,
        }),
        _ => None,
    };
    DbMeta {
        book_count,
        content_hash,
        scrape,
    }
}
