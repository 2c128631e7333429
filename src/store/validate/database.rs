//! A `books.db` file on its own: the file intact, a single rollback-journal
//! file and vacuumed; the books table read back into domain types with its
//! derived columns right; the categories table, the full-text index, the
//! similar books, the feature profiles and the meta table's count and hash
//! agreeing with the books.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rusqlite::Connection;

use super::{Problem, Scope};
use crate::domain::{Book, BookId, Price, Rating, category_slug};
use crate::ml::profile::profile_json;
use crate::store::build::categories_of;
use crate::store::csv::content_hash;
use crate::store::schema::meta_key;
use crate::store::sqlite::read_meta;

/// `books.db: cannot read the books table: ...`
fn cannot(db: &str, step: &str, err: rusqlite::Error) -> Problem {
    Problem::new(Scope::File(db.to_owned()), format!("cannot {step}: {err}"))
}

/// The file itself: intact, a single rollback-journal file, vacuumed.
pub(super) fn check_file(conn: &Connection, db_path: &Path, db: &str, problems: &mut Vec<Problem>) {
    let problem = |message: String| Problem::new(Scope::File(db.to_owned()), message);
    match conn.query_row("PRAGMA quick_check", [], |row| row.get::<_, String>(0)) {
        Ok(ok) if ok == "ok" => {}
        Ok(other) => problems.push(problem(format!("integrity check failed: {other}"))),
        Err(err) => problems.push(cannot(db, "run the integrity check", err)),
    }
    if let Some(message) = check_header(db_path) {
        problems.push(problem(message));
    }
    match conn.query_row("PRAGMA freelist_count", [], |row| row.get::<_, i64>(0)) {
        Ok(0) => {}
        Ok(n) => problems.push(problem(format!(
            "{n} free pages: the file was not vacuumed"
        ))),
        Err(err) => problems.push(cannot(db, "count free pages", err)),
    }
}

/// Bytes 18 and 19 of a SQLite header are 2 in WAL mode; the deployed file
/// must be a single rollback-journal file.
fn check_header(db_path: &Path) -> Option<String> {
    let mut header = [0u8; 20];
    let read = File::open(db_path).and_then(|mut f| f.read_exact(&mut header));
    match read {
        Err(err) => Some(format!("cannot read the header: {err}")),
        Ok(()) if header[18] == 2 || header[19] == 2 => {
            Some("is in WAL mode; it must be built with journal_mode=DELETE".to_owned())
        }
        Ok(()) => None,
    }
}

/// The columns [`read_books`] selects, in the order it reads them: the
/// contract's (a test pins it), with `title_folded` and the category's name
/// by its id to check.
const BOOK_ROW_COLUMNS: &str = "b.id, b.upc, b.title, b.title_folded, b.category, c.name, \
     b.price_pence, b.price_excl_tax_pence, b.tax_pence, b.rating, b.availability, \
     b.stock, b.review_count, b.product_type, b.description, b.image_url, b.product_url";

/// The books table read back into [`Book`]s (see [`read_books`]), or `None`
/// with the reason reported when it cannot be read.
pub(super) fn books_table(
    conn: &Connection,
    db: &str,
    problems: &mut Vec<Problem>,
) -> Option<Vec<Book>> {
    read_books(conn, db, problems)
        .map_err(|err| problems.push(cannot(db, "read the books table", err)))
        .ok()
}

/// Reads the books table back into [`Book`]s, reporting rows whose values
/// are out of range for the domain types or whose derived columns are wrong.
fn read_books(
    conn: &Connection,
    db: &str,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Book>, rusqlite::Error> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {BOOK_ROW_COLUMNS} \
         FROM books b LEFT JOIN categories c ON c.id = b.category_id \
         ORDER BY b.id"
    ))?;
    let mut rows = stmt.query([])?;
    let mut books = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let mut bad = |what: String| {
            let scope = Scope::Row {
                file: db.to_owned(),
                id,
            };
            problems.push(Problem::new(scope, what));
        };
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

/// The meta table's book_count against the rows of the books table.
pub(super) fn check_book_count(
    meta_count: Option<&str>,
    books: &[Book],
    db: &str,
    problems: &mut Vec<Problem>,
) {
    if let Some(count) = meta_count
        && count != books.len().to_string()
    {
        let message = format!(
            "meta book_count is {count} but the books table has {} rows",
            books.len()
        );
        problems.push(Problem::new(Scope::Meta(Some(db.to_owned())), message));
    }
}

/// What is derived from the books must agree with them: the meta table's
/// content hash, the categories table, the full-text index and the similar
/// books.
pub(super) fn check_derived(
    conn: &Connection,
    books: &[Book],
    meta_hash: Option<&str>,
    db: &str,
    problems: &mut Vec<Problem>,
) {
    let problem = |message: String| Problem::new(Scope::File(db.to_owned()), message);
    let rows_hash = content_hash(books);
    if let Some(meta_hash) = meta_hash
        && rows_hash != meta_hash
    {
        problems.push(problem(format!(
            "the books table (hash {rows_hash}) does not match meta content_hash {meta_hash}"
        )));
    }
    check_categories(conn, books, db, problems);
    for (table, index) in [
        ("books_fts_docsize", "full-text index"),
        ("books_title_trigram_docsize", "title trigram index"),
    ] {
        let sql = format!("SELECT count(*) FROM {table}");
        match conn.query_row(&sql, [], |row| row.get::<_, i64>(0)) {
            Ok(n) if usize::try_from(n).ok() == Some(books.len()) => {}
            Ok(n) => problems.push(problem(format!(
                "the {index} covers {n} of {} books",
                books.len()
            ))),
            Err(err) => problems.push(cannot(db, &format!("read the {index}"), err)),
        }
    }
    // The profiles need only the books: computed on another thread while
    // this one checks the similar books (the two costliest checks).
    let stored_profiles = read_meta(conn, meta_key::FEATURE_PROFILES);
    std::thread::scope(|scope| {
        let profiles = scope.spawn(|| profile_json(books));
        super::similar::check_similar(conn, books, db, problems);
        let profiles = profiles
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        check_feature_profiles(stored_profiles, &profiles, db, problems);
    });
}

/// The feature profiles kept in `meta` (`stored`) must be the books' own
/// (`computed`).
fn check_feature_profiles(
    stored: Result<Option<String>, crate::store::StoreError>,
    computed: &str,
    db: &str,
    problems: &mut Vec<Problem>,
) {
    let problem = |message: String| Problem::new(Scope::File(db.to_owned()), message);
    match stored {
        Ok(Some(stored)) if stored == computed => {}
        Ok(Some(_)) => problems.push(problem(
            "meta feature_profiles are not the profiles of the books table".to_owned(),
        )),
        Ok(None) => problems.push(problem(format!(
            "meta has no {}",
            meta_key::FEATURE_PROFILES
        ))),
        Err(err) => problems.push(problem(format!("cannot read meta feature_profiles: {err}"))),
    }
}

/// The categories table must be exactly what the books imply: ids in name
/// order from 1, the slug of each name, and its book count.
fn check_categories(conn: &Connection, books: &[Book], db: &str, problems: &mut Vec<Problem>) {
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
        Err(err) => problems.push(cannot(db, "read the categories table", err)),
        Ok(found) if found != expected => {
            let describe = |rows: &[(i64, String, String, i64)]| {
                rows.iter()
                    .filter(|row| !found.contains(row) || !expected.contains(row))
                    .map(|(id, slug, name, count)| format!("{id} {name:?} ({slug}, {count} books)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let message = format!(
                "the categories table does not match the books: expected [{}], found [{}]",
                describe(&expected),
                describe(&found)
            );
            problems.push(Problem::new(Scope::File(db.to_owned()), message));
        }
        Ok(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::contract_columns;

    #[test]
    fn book_rows_are_read_in_contract_order() {
        assert_eq!(
            contract_columns(BOOK_ROW_COLUMNS, &["title_folded", "name"]),
            Book::COLUMNS
        );
    }
}
