//! A database against the CSV it was built from: the same number of books,
//! the site's reported total, and the same content hash. The database's own
//! checks run here too, so that the report lists problems in one fixed order.

use std::path::Path;

use rusqlite::Connection;

use super::{Problem, Scope, database, meta};
use crate::store::csv::CsvRows;

/// Every database check, and the CSV against the database; `csv` and
/// `csv_hash` are the CSV's, when it read (and every row parsed, for the hash).
pub(super) fn check_db(
    conn: &Connection,
    db_path: &Path,
    db: &str,
    csv: Option<&CsvRows>,
    csv_label: &str,
    csv_hash: Option<&str>,
    problems: &mut Vec<Problem>,
) {
    database::check_file(conn, db_path, db, problems);
    let db_meta = meta::check_meta_table(conn, db, problems);
    let db_books = database::books_table(conn, db, problems);

    // Counts: CSV rows, books rows, meta book_count, the site's total.
    if let Some(books) = &db_books {
        database::check_book_count(db_meta.book_count.as_deref(), books, db, problems);
        if let Some(csv) = csv
            && csv.record_count != books.len()
        {
            let message = format!(
                "{csv_label} has {} rows but {db} has {} books",
                csv.record_count,
                books.len()
            );
            problems.push(Problem::new(Scope::Dataset, message));
        }
    }
    if let (Some(scrape), Some(csv)) = (&db_meta.scrape, csv) {
        let scope = Scope::Meta(Some(db.to_owned()));
        meta::check_scrape_meta(scrape, csv.record_count, &scope, problems);
    }

    // Content: the rows, the meta hash and the CSV must all agree.
    if let Some(books) = &db_books {
        database::check_derived(conn, books, db_meta.content_hash.as_deref(), db, problems);
    }
    if let (Some(csv_hash), Some(meta_hash)) = (csv_hash, &db_meta.content_hash)
        && csv_hash != meta_hash
    {
        let message = format!(
            "{csv_label} (content hash {csv_hash}) does not match {db} (meta content_hash {meta_hash})"
        );
        problems.push(Problem::new(Scope::Dataset, message));
    }
}
