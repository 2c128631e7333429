//! Checking a dataset before anyone trusts it: a `books.csv` + `books.db`
//! pair on disk, or a book list and its scrape meta in memory. Every check
//! runs and every problem is listed (a [`Problem`], one readable line each);
//! nothing stops at the first.
//!
//! This module holds the entry points and the report; the checks live in
//! `rules` (each book's fields, unique ids and UPCs), `meta` (scrape meta and
//! the meta table), `database` (the SQLite file and its tables on their own),
//! `similar` (the similar-books table against the books) and `consistency`
//! (the CSV against the database, in report order).

use std::fmt;
use std::path::Path;

use thiserror::Error;

use super::csv::{content_hash, read_rows};
use super::sqlite::{StoreError, open_read_only};
use super::{CSV_FILE_NAME, DB_FILE_NAME, ScrapeMeta};
use crate::domain::{Book, BookId};

mod consistency;
mod database;
mod meta;
mod rules;
mod similar;

pub use meta::read_meta;
pub use rules::check_book;

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

/// Where a [`Problem`] is. Files are named as the report names them (publish
/// validates temporary files under their final names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The dataset as a whole: ids and UPCs across books, the CSV against the
    /// database, a file that cannot be opened at all (the message names it).
    Dataset,
    /// One file as a whole: `books.db`.
    File(String),
    /// Scrape meta: of books in memory (`None`, shown as `meta`) or the meta
    /// table of a database file.
    Meta(Option<String>),
    /// One book in memory, by id: `book 7`.
    Book(BookId),
    /// One CSV record, by the line it starts on: `books.csv: line 7`.
    Line { file: String, line: u64 },
    /// One row of a database's books table, by its id as stored (which may be
    /// out of range for a [`BookId`]): `books.db: book 7`.
    Row { file: String, id: i64 },
}

impl fmt::Display for Scope {
    /// The label a problem line starts with; empty for [`Scope::Dataset`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Dataset => Ok(()),
            Scope::File(file) | Scope::Meta(Some(file)) => f.write_str(file),
            Scope::Meta(None) => f.write_str("meta"),
            Scope::Book(id) => write!(f, "book {id}"),
            Scope::Line { file, line } => write!(f, "{file}: line {line}"),
            Scope::Row { file, id } => write!(f, "{file}: book {id}"),
        }
    }
}

/// One problem: where, which column (for a field's problem), and what.
/// Displays as one line: `books.csv: line 7: rating: rating must be ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub scope: Scope,
    /// The [`Book::COLUMNS`] entry at fault, if the problem is one field's.
    pub field: Option<&'static str>,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(scope: Scope, message: impl Into<String>) -> Self {
        Problem {
            scope,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scope != Scope::Dataset {
            write!(f, "{}: ", self.scope)?;
        }
        if let Some(field) = self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Compares the line a problem displays as: what the CLI prints and what
/// tests assert.
impl PartialEq<str> for Problem {
    fn eq(&self, line: &str) -> bool {
        let shown = self.to_string();
        shown == line
    }
}

impl PartialEq<&str> for Problem {
    fn eq(&self, line: &&str) -> bool {
        self == *line
    }
}

impl PartialEq<String> for Problem {
    fn eq(&self, line: &String) -> bool {
        self == line.as_str()
    }
}

/// The outcome of a validation: what was checked and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// Books (CSV records, or in-memory books) checked.
    pub book_count: usize,
    /// The content hash of the books, when they could all be parsed.
    pub content_hash: Option<String>,
    /// Every problem, in report order; empty when the dataset is valid.
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every problem as the one line it displays as.
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(ToString::to_string).collect()
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
    validate_files(&dir.join(CSV_FILE_NAME), &dir.join(DB_FILE_NAME))
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
    let mut problems = rules::books_problems(books);
    meta::check_scrape_meta(meta, books.len(), &Scope::Meta(None), &mut problems);
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
            problems.push(Problem::new(Scope::Dataset, err.to_string())); // names the file
            None
        }
    };
    let csv_hash = csv.as_ref().and_then(|csv| {
        problems.extend(rules::csv_problems(csv, csv_label));
        // A hash of only the rows that parsed would differ for a reason
        // already reported; compare hashes only when every row parsed.
        csv.problems.is_empty().then(|| content_hash(&csv.books()))
    });

    // The database on its own, then against the CSV.
    match open_read_only(db_path) {
        Err(err) => problems.push(Problem::new(Scope::Dataset, err.to_string())), // names the file
        Ok(conn) => consistency::check_db(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_display_as_scope_field_message() {
        let line = |scope, field, message: &str| {
            let problem = Problem {
                scope,
                field,
                message: message.to_owned(),
            };
            problem.to_string()
        };
        let file = || "books.csv".to_owned();
        assert_eq!(
            line(Scope::Dataset, None, "duplicate id 2"),
            "duplicate id 2"
        );
        assert_eq!(
            line(Scope::File("books.db".into()), None, "x"),
            "books.db: x"
        );
        assert_eq!(line(Scope::Meta(None), None, "x"), "meta: x");
        assert_eq!(
            line(Scope::Meta(Some("books.db".into())), None, "x"),
            "books.db: x"
        );
        let id = BookId::new(7).unwrap();
        assert_eq!(
            line(Scope::Book(id), Some("title"), "x"),
            "book 7: title: x"
        );
        let at_line = Scope::Line {
            file: file(),
            line: 3,
        };
        assert_eq!(line(at_line, Some("tax"), "x"), "books.csv: line 3: tax: x");
        let row = Scope::Row {
            file: "books.db".into(),
            id: -1,
        };
        assert_eq!(line(row, None, "x"), "books.db: book -1: x");
    }
}
