//! Checking a dataset before anyone trusts it: a `books.csv` + `books.db`
//! pair on disk, or a book list and its scrape meta in memory. Every check
//! runs and every problem is listed (one readable line each); nothing stops
//! at the first.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use rusqlite::Connection;
use thiserror::Error;

use super::ScrapeMeta;
use super::build::categories_of;
use super::csv::{CsvRows, UnparsedRow, content_hash, parse_price, read_rows};
use super::publish::{CSV_FILE_NAME, DB_FILE_NAME};
use super::schema::{SCHEMA_VERSION, meta_key};
use super::sqlite::{StoreError, open_read_only};
use crate::CANONICAL_BASE_URL;
use crate::domain::{Book, BookId, Price, Rating, category_slug};

/// Why a database's meta table could not be read.
#[derive(Debug, Error)]
pub enum ValidateError {
    #[error(transparent)]
    Open(#[from] StoreError),
    #[error("cannot read the meta table of {path}: {source}")]
    Meta {
        path: String,
        source: rusqlite::Error,
    },
}

/// The outcome of a validation: what was checked and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// Books (CSV records, or in-memory books) checked.
    pub book_count: usize,
    /// The content hash of the books, when they could all be parsed.
    pub content_hash: Option<String>,
    /// One readable line per problem; empty when the dataset is valid.
    pub problems: Vec<String>,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for ValidationReport {
    /// The one-line summary, e.g. `OK: 1000 books, content hash 3f2a…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            write!(f, "OK: {} books", self.book_count)?;
        } else {
            write!(
                f,
                "{} problems in {} books",
                self.problems.len(),
                self.book_count
            )?;
        }
        if let Some(hash) = &self.content_hash {
            write!(f, ", content hash {hash}")?;
        }
        Ok(())
    }
}

/// Validates `dir/books.csv` against `dir/books.db`.
pub fn validate_dir(dir: &Path) -> ValidationReport {
    let csv = dir.join(CSV_FILE_NAME);
    let db = dir.join(DB_FILE_NAME);
    validate_pair(
        &csv,
        &db,
        &csv.display().to_string(),
        &db.display().to_string(),
    )
}

/// Validates a CSV file against a database file (see [`validate_dir`]).
pub fn validate_files(csv_path: &Path, db_path: &Path) -> ValidationReport {
    validate_pair(
        csv_path,
        db_path,
        &csv_path.display().to_string(),
        &db_path.display().to_string(),
    )
}

/// Validates books and their scrape meta before anything is written: the
/// per-book checks, unique ids and UPCs, and the meta checks (the count
/// against the site's reported total).
pub fn validate_books(books: &[Book], meta: &ScrapeMeta) -> ValidationReport {
    let labelled: Vec<(String, Fields)> = books
        .iter()
        .map(|book| (format!("book {}", book.id), Fields::from(book)))
        .collect();
    let mut problems: Vec<String> = labelled
        .iter()
        .flat_map(|(label, fields)| field_problems(label, fields))
        .collect();
    problems.extend(duplicate_problems(&labelled));
    check_scrape_meta(meta, books.len(), "meta", &mut problems);
    ValidationReport {
        book_count: books.len(),
        content_hash: Some(content_hash(books)),
        problems,
    }
}

/// Validates a CSV + DB pair, naming them `csv_label` and `db_label` in the
/// problems (publish validates temporary files under their final names).
pub(crate) fn validate_pair(
    csv_path: &Path,
    db_path: &Path,
    csv_label: &str,
    db_label: &str,
) -> ValidationReport {
    let mut problems = Vec::new();

    // The CSV on its own.
    let csv = match read_rows(csv_path) {
        Ok(rows) => Some(rows),
        Err(err) => {
            problems.push(err.to_string()); // names the file
            None
        }
    };
    let csv_hash = csv.as_ref().and_then(|csv| {
        // Rows that did not parse are still checked field by field, so that
        // one bad rating does not hide an empty title or a duplicate id.
        let mut labelled: Vec<(u64, String, Fields)> = csv
            .rows
            .iter()
            .map(|row| (row.line, Fields::from(&row.book)))
            .chain(csv.unparsed.iter().map(|row| (row.line, Fields::from(row))))
            .map(|(line, fields)| (line, format!("{csv_label}: line {line}"), fields))
            .collect();
        labelled.sort_by_key(|(line, _, _)| *line);
        let mut by_line: Vec<(u64, String)> = csv
            .problems
            .iter()
            .map(|p| (p.line, format!("{csv_label}: {p}")))
            .collect();
        for (line, label, fields) in &labelled {
            by_line.extend(
                field_problems(label, fields)
                    .into_iter()
                    .map(|p| (*line, p)),
            );
        }
        // Stable: a line's parse problems come before its field problems.
        by_line.sort_by_key(|(line, _)| *line);
        problems.extend(by_line.into_iter().map(|(_, p)| p));
        let labelled: Vec<(String, Fields)> = labelled
            .into_iter()
            .map(|(_, label, fields)| (label, fields))
            .collect();
        problems.extend(duplicate_problems(&labelled));
        // A hash of only the rows that parsed would differ for a reason
        // already reported; compare hashes only when every row parsed.
        csv.problems.is_empty().then(|| content_hash(&csv.books()))
    });

    // The database on its own, then against the CSV.
    match open_read_only(db_path) {
        Err(err) => problems.push(err.to_string()), // names the file
        Ok(conn) => check_db(
            &conn,
            db_path,
            db_label,
            csv.as_ref(),
            csv_label,
            csv_hash.as_deref(),
            &mut problems,
        ),
    }

    ValidationReport {
        book_count: csv.as_ref().map_or(0, |csv| csv.record_count),
        content_hash: csv_hash,
        problems,
    }
}

/// The fields the checks look at, from a parsed book or from a CSV row that
/// did not parse; there a field that does not parse is `None` and skipped
/// (its problem is reported by the reader).
struct Fields<'a> {
    id: Option<BookId>,
    upc: &'a str,
    title: &'a str,
    category: &'a str,
    price: Option<Price>,
    price_excl_tax: Option<Price>,
    tax: Option<Price>,
    availability: &'a str,
    product_type: &'a str,
    image_url: &'a str,
    product_url: &'a str,
}

impl<'a> From<&'a Book> for Fields<'a> {
    fn from(book: &'a Book) -> Self {
        Fields {
            id: Some(book.id),
            upc: &book.upc,
            title: &book.title,
            category: &book.category,
            price: Some(book.price),
            price_excl_tax: Some(book.price_excl_tax),
            tax: Some(book.tax),
            availability: &book.availability,
            product_type: &book.product_type,
            image_url: &book.image_url,
            product_url: &book.product_url,
        }
    }
}

impl<'a> From<&'a UnparsedRow> for Fields<'a> {
    fn from(row: &'a UnparsedRow) -> Self {
        let raw = &row.raw;
        Fields {
            id: raw.id.parse().ok(),
            upc: &raw.upc,
            title: &raw.title,
            category: &raw.category,
            price: parse_price(&raw.price).ok(),
            price_excl_tax: parse_price(&raw.price_excl_tax).ok(),
            tax: parse_price(&raw.tax).ok(),
            availability: &raw.availability,
            product_type: &raw.product_type,
            image_url: &raw.image_url,
            product_url: &raw.product_url,
        }
    }
}

/// `label: column: message` for each field problem of one book.
fn field_problems(label: &str, fields: &Fields) -> Vec<String> {
    check_fields(fields)
        .into_iter()
        .map(|(column, message)| format!("{label}: {column}: {message}"))
        .collect()
}

/// Ids and UPCs must be unique; `label` says where each book came from
/// (`books.csv: line 7`).
fn duplicate_problems(books: &[(String, Fields)]) -> Vec<String> {
    let mut by_id: BTreeMap<BookId, Vec<&str>> = BTreeMap::new();
    let mut by_upc: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (label, fields) in books {
        if let Some(id) = fields.id {
            by_id.entry(id).or_default().push(label);
        }
        if !fields.upc.is_empty() {
            by_upc.entry(fields.upc).or_default().push(label);
        }
    }
    let mut problems = Vec::new();
    for (id, labels) in by_id.iter().filter(|(_, l)| l.len() > 1) {
        problems.push(format!("duplicate id {id}: {}", occurrences(labels)));
    }
    for (upc, labels) in by_upc.iter().filter(|(_, l)| l.len() > 1) {
        problems.push(format!("duplicate upc {upc:?}: {}", occurrences(labels)));
    }
    problems
}

/// `2 books have it (books.csv: line 4; books.csv: line 9)`; the labels are
/// left out when they say nothing more (in-memory books labelled by id).
fn occurrences(labels: &[&str]) -> String {
    let mut distinct = labels.to_vec();
    distinct.dedup();
    if distinct.len() > 1 {
        format!("{} books have it ({})", labels.len(), labels.join("; "))
    } else {
        format!("{} books have it", labels.len())
    }
}

/// What is wrong with one book's fields, as `(column, message)` pairs:
/// required text present, prices positive and adding up, URLs canonical.
/// Ids, ratings and counts are in range by construction of the domain types.
pub fn check_book(book: &Book) -> Vec<(&'static str, String)> {
    check_fields(&Fields::from(book))
}

fn check_fields(book: &Fields) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    for (column, value) in [
        ("upc", book.upc),
        ("title", book.title),
        ("category", book.category),
        ("availability", book.availability),
        ("product_type", book.product_type),
    ] {
        if value.trim().is_empty() {
            problems.push((column, "required field is empty".to_owned()));
        }
    }
    for (column, price) in [
        ("price", book.price),
        ("price_excl_tax", book.price_excl_tax),
    ] {
        if price == Some(Price::from_pence(0)) {
            problems.push((column, "must be greater than 0, got 0.00".to_owned()));
        }
    }
    if let (Some(price), Some(excl), Some(tax)) = (book.price, book.price_excl_tax, book.tax)
        && excl.pence().checked_add(tax.pence()) != Some(price.pence())
    {
        problems.push((
            "price",
            format!("{price} is not price_excl_tax {excl} plus tax {tax}"),
        ));
    }
    for (column, value) in [
        ("image_url", book.image_url),
        ("product_url", book.product_url),
    ] {
        if let Err(message) = check_url(value) {
            problems.push((column, message));
        }
    }
    problems
}

/// Stored URLs are absolute, https, and canonical (DESIGN.md §3).
fn check_url(value: &str) -> Result<(), String> {
    let complaint = || format!("must be an absolute {CANONICAL_BASE_URL}... URL, got {value:?}");
    let url = url::Url::parse(value).map_err(|_| complaint())?;
    if url.scheme() != "https" || !value.starts_with(CANONICAL_BASE_URL) {
        return Err(complaint());
    }
    Ok(())
}

/// Checks meta values against the number of books they describe.
fn check_scrape_meta(
    meta: &ScrapeMeta,
    book_count: usize,
    label: &str,
    problems: &mut Vec<String>,
) {
    if humantime::parse_rfc3339(&meta.scraped_at).is_err() {
        problems.push(format!(
            "{label}: scraped_at must be an RFC 3339 UTC time like 2026-11-27T09:00:00Z, got {:?}",
            meta.scraped_at
        ));
    }
    if meta.source.trim().is_empty() {
        problems.push(format!("{label}: source is empty"));
    }
    match meta.reported_total {
        Some(total) if usize::try_from(total).ok() != Some(book_count) => problems.push(format!(
            "{label}: {book_count} books, but the site reported {total}"
        )),
        Some(_) => {}
        // A scrape always sees the site's "N results"; without it the count
        // cannot be checked against anything.
        None if is_scraped(&meta.source) => problems.push(format!(
            "{label}: no reported_total recorded for a dataset scraped from {}",
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

/// Every database check; `csv` and `csv_hash` are the CSV's, when it read.
fn check_db(
    conn: &Connection,
    db_path: &Path,
    db: &str,
    csv: Option<&CsvRows>,
    csv_label: &str,
    csv_hash: Option<&str>,
    problems: &mut Vec<String>,
) {
    let sql = |step: &str, err: rusqlite::Error| format!("{db}: cannot {step}: {err}");
    check_file(conn, db_path, db, problems);
    let DbMeta {
        book_count: meta_count,
        content_hash: meta_hash,
        scrape: scrape_meta,
    } = check_meta_table(conn, db, problems);

    // The books table, read back into domain types.
    let db_books = match read_books(conn, db, problems) {
        Ok(books) => Some(books),
        Err(err) => {
            problems.push(sql("read the books table", err));
            None
        }
    };

    // Counts: CSV rows, books rows, meta book_count, the site's total.
    if let Some(books) = &db_books {
        if let Some(count) = &meta_count
            && count != &books.len().to_string()
        {
            problems.push(format!(
                "{db}: meta book_count is {count} but the books table has {} rows",
                books.len()
            ));
        }
        if let Some(csv) = csv
            && csv.record_count != books.len()
        {
            problems.push(format!(
                "{csv_label} has {} rows but {db} has {} books",
                csv.record_count,
                books.len()
            ));
        }
    }
    if let (Some(meta), Some(csv)) = (&scrape_meta, csv) {
        check_scrape_meta(meta, csv.record_count, db, problems);
    }

    // Content: the rows, the meta hash and the CSV must all agree.
    if let Some(books) = &db_books {
        let rows_hash = content_hash(books);
        if let Some(meta_hash) = &meta_hash
            && &rows_hash != meta_hash
        {
            problems.push(format!(
                "{db}: the books table (hash {rows_hash}) does not match meta content_hash {meta_hash}"
            ));
        }
        check_categories(conn, books, db, problems);
        match conn.query_row("SELECT count(*) FROM books_fts_docsize", [], |row| {
            row.get::<_, i64>(0)
        }) {
            Ok(n) if usize::try_from(n).ok() == Some(books.len()) => {}
            Ok(n) => problems.push(format!(
                "{db}: the full-text index covers {n} of {} books",
                books.len()
            )),
            Err(err) => problems.push(sql("read the full-text index", err)),
        }
    }
    if let (Some(csv_hash), Some(meta_hash)) = (csv_hash, &meta_hash)
        && csv_hash != meta_hash
    {
        problems.push(format!(
            "{csv_label} (content hash {csv_hash}) does not match {db} (meta content_hash {meta_hash})"
        ));
    }
}

/// The file itself: intact, a single rollback-journal file, vacuumed.
fn check_file(conn: &Connection, db_path: &Path, db: &str, problems: &mut Vec<String>) {
    let sql = |step: &str, err: rusqlite::Error| format!("{db}: cannot {step}: {err}");
    match conn.query_row("PRAGMA quick_check", [], |row| row.get::<_, String>(0)) {
        Ok(ok) if ok == "ok" => {}
        Ok(other) => problems.push(format!("{db}: integrity check failed: {other}")),
        Err(err) => problems.push(sql("run the integrity check", err)),
    }
    if let Some(problem) = check_header(db_path, db) {
        problems.push(problem);
    }
    match conn.query_row("PRAGMA freelist_count", [], |row| row.get::<_, i64>(0)) {
        Ok(0) => {}
        Ok(n) => problems.push(format!("{db}: {n} free pages: the file was not vacuumed")),
        Err(err) => problems.push(sql("count free pages", err)),
    }
}

/// What the meta table says, each value only if present and well formed.
struct DbMeta {
    book_count: Option<String>,
    content_hash: Option<String>,
    scrape: Option<ScrapeMeta>,
}

/// Reads the meta table, reporting missing keys, a schema version this
/// program does not read, and a malformed reported_total.
fn check_meta_table(conn: &Connection, db: &str, problems: &mut Vec<String>) -> DbMeta {
    let meta = match meta_map(conn) {
        Ok(meta) => meta,
        Err(err) => {
            problems.push(format!("{db}: cannot read the meta table: {err}"));
            BTreeMap::new()
        }
    };
    let get = |key: &str, problems: &mut Vec<String>| {
        let value = meta.get(key).cloned();
        if value.is_none() {
            problems.push(format!("{db}: meta has no {key}"));
        }
        value
    };
    if let Some(version) = get(meta_key::SCHEMA_VERSION, problems)
        && version != SCHEMA_VERSION.to_string()
    {
        problems.push(format!(
            "{db}: schema_version is {version:?}, this program reads version {SCHEMA_VERSION}"
        ));
    }
    let book_count = get(meta_key::BOOK_COUNT, problems);
    let content_hash = get(meta_key::CONTENT_HASH, problems);
    // Absent is allowed here (check_scrape_meta decides); malformed is not.
    let reported_total = match meta.get(meta_key::REPORTED_TOTAL) {
        None => Some(None),
        Some(text) => match text.parse::<u32>() {
            Ok(total) => Some(Some(total)),
            Err(_) => {
                problems.push(format!(
                    "{db}: meta reported_total is not a count: {text:?}"
                ));
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

/// Bytes 18 and 19 of a SQLite header are 2 in WAL mode; the deployed file
/// must be a single rollback-journal file.
fn check_header(db_path: &Path, db: &str) -> Option<String> {
    let mut header = [0u8; 20];
    let read = File::open(db_path).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Err(err) => Some(format!("{db}: cannot read the header: {err}")),
        Ok(()) if header[18] == 2 || header[19] == 2 => Some(format!(
            "{db}: is in WAL mode; it must be built with journal_mode=DELETE"
        )),
        Ok(()) => None,
    }
}

/// Reads the books table back into [`Book`]s, reporting rows whose values
/// are out of range for the domain types or whose derived columns are wrong.
fn read_books(
    conn: &Connection,
    db: &str,
    problems: &mut Vec<String>,
) -> Result<Vec<Book>, rusqlite::Error> {
    let mut stmt = conn.prepare(
        "SELECT b.id, b.upc, b.title, b.title_folded, b.category, c.name,
                b.price_pence, b.price_excl_tax_pence, b.tax_pence, b.rating, b.availability,
                b.stock, b.review_count, b.product_type, b.description, b.image_url, b.product_url
         FROM books b LEFT JOIN categories c ON c.id = b.category_id
         ORDER BY b.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut books = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let mut bad = |what: String| problems.push(format!("{db}: book {id}: {what}"));
        let title: String = row.get(2)?;
        let title_folded: String = row.get(3)?;
        let category: String = row.get(4)?;
        let category_name: Option<String> = row.get(5)?;
        if title_folded != title.to_lowercase() {
            bad(format!(
                "title_folded {title_folded:?} is not the lowercase title"
            ));
        }
        if category_name.as_deref() != Some(category.as_str()) {
            bad(format!(
                "category {category:?} but category_id points to {category_name:?}"
            ));
        }
        let book_id = u32::try_from(id).ok().and_then(|id| BookId::new(id).ok());
        let price = |i: usize| -> Result<Option<Price>, rusqlite::Error> {
            Ok(u64::try_from(row.get::<_, i64>(i)?)
                .ok()
                .map(Price::from_pence))
        };
        let rating: i64 = row.get(9)?;
        let count = |i: usize| -> Result<Option<u32>, rusqlite::Error> {
            Ok(u32::try_from(row.get::<_, i64>(i)?).ok())
        };
        let fields = (
            book_id,
            price(6)?,
            price(7)?,
            price(8)?,
            u8::try_from(rating).ok().and_then(|r| Rating::new(r).ok()),
            count(11)?,
            count(12)?,
        );
        match fields {
            (
                Some(id),
                Some(price),
                Some(price_excl_tax),
                Some(tax),
                Some(rating),
                Some(stock),
                Some(review_count),
            ) => books.push(Book {
                id,
                upc: row.get(1)?,
                title,
                category,
                price,
                price_excl_tax,
                tax,
                rating,
                availability: row.get(10)?,
                stock,
                review_count,
                product_type: row.get(13)?,
                description: row.get(14)?,
                image_url: row.get(15)?,
                product_url: row.get(16)?,
            }),
            _ => bad("an id, price, rating or count is out of range".to_owned()),
        }
    }
    Ok(books)
}

/// The categories table must be exactly what the books imply: ids in name
/// order from 1, the slug of each name, and its book count.
fn check_categories(conn: &Connection, books: &[Book], db: &str, problems: &mut Vec<String>) {
    let expected: Vec<(i64, String, String, i64)> = categories_of(books)
        .into_iter()
        .enumerate()
        .map(|(i, (name, count))| (i as i64 + 1, category_slug(&name), name, count as i64))
        .collect();
    let found: Result<Vec<(i64, String, String, i64)>, rusqlite::Error> = conn
        .prepare("SELECT id, slug, name, book_count FROM categories ORDER BY id")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect()
        });
    match found {
        Err(err) => problems.push(format!("{db}: cannot read the categories table: {err}")),
        Ok(found) if found != expected => {
            let describe = |rows: &[(i64, String, String, i64)]| {
                rows.iter()
                    .filter(|row| !found.contains(row) || !expected.contains(row))
                    .map(|(id, slug, name, count)| format!("{id} {name:?} ({slug}, {count} books)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            problems.push(format!(
                "{db}: the categories table does not match the books: expected [{}], found [{}]",
                describe(&expected),
                describe(&found)
            ));
        }
        Ok(_) => {}
    }
}
