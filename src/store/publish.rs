//! Publishing a dataset: `books.csv` and `books.db` written as temporary
//! files in the target directory, validated, then renamed into place. On any
//! failure the temporary files are removed and the existing files are left
//! byte-for-byte untouched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::build::{BuildError, SimilarBooks, TempPath, write_db};
use super::csv::{CsvError, write_csv};
use super::validate::{validate_books, validate_pair};
use super::{CSV_FILE_NAME, DB_FILE_NAME, ScrapeMeta};
use crate::domain::Book;

/// Why a dataset was not published. In every case the directory's existing
/// `books.csv` and `books.db` are unchanged.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The books (or the files written from them) failed validation.
    #[error("the dataset failed validation ({} problems):\n  {}", .problems.len(), .problems.join("\n  "))]
    Invalid { problems: Vec<String> },
    #[error("cannot create {path}: {source}")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("cannot move {from} to {to}: {source}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
}

impl PublishError {
    /// The validation problems, if that is why publishing failed.
    pub fn problems(&self) -> &[String] {
        match self {
            PublishError::Invalid { problems } => problems,
            _ => &[],
        }
    }
}

/// What was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    pub csv_path: PathBuf,
    pub db_path: PathBuf,
    pub book_count: usize,
    pub category_count: usize,
    /// SHA-256 of the canonical CSV, also kept in the database's meta table.
    pub content_hash: String,
}

/// Writes `books` and `meta` to `dir/books.csv` and `dir/books.db` (creating
/// `dir` if needed) after checking them exactly as `books validate` does.
///
/// Steps: validate in memory (nothing is written if that fails); write both
/// files under temporary names in `dir`; validate the written pair; rename
/// the CSV, then the database, into place. If the second rename fails the
/// first is rolled back from a hard-linked backup, so the pair stays
/// consistent.
pub fn publish(
    dir: &Path,
    books: &[Book],
    meta: &ScrapeMeta,
) -> Result<PublishReport, PublishError> {
    let report = validate_books(books, meta);
    if !report.is_ok() {
        return Err(PublishError::Invalid {
            problems: report.lines(),
        });
    }
    fs::create_dir_all(dir).map_err(|source| PublishError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let csv_path = dir.join(CSV_FILE_NAME);
    let db_path = dir.join(DB_FILE_NAME);
    let csv_temp = TempPath::next_to(&csv_path);
    let db_temp = TempPath::next_to(&db_path);

    write_csv(csv_temp.path(), books)?;
    let (summary, _) = write_db(books, meta, db_temp.path(), &db_path, SimilarBooks::Compute)?;
    let written = validate_pair(csv_temp.path(), db_temp.path(), CSV_FILE_NAME, DB_FILE_NAME);
    if !written.is_ok() {
        return Err(PublishError::Invalid {
            problems: written.lines(),
        });
    }

    rename_pair(&csv_temp, &csv_path, &db_temp, &db_path)?;
    csv_temp.disarm();
    db_temp.disarm();
    sync_dir(dir);
    Ok(PublishReport {
        csv_path,
        db_path,
        book_count: summary.book_count,
        category_count: summary.category_count,
        content_hash: summary.content_hash,
    })
}

/// Renames both temporary files into place, or neither: before the first
/// rename the old CSV is hard-linked to a backup name, and restored if the
/// second rename fails.
fn rename_pair(
    csv_temp: &TempPath,
    csv_path: &Path,
    db_temp: &TempPath,
    db_path: &Path,
) -> Result<(), PublishError> {
    let rename = |from: &Path, to: &Path| {
        fs::rename(from, to).map_err(|source| PublishError::Rename {
            from: from.to_owned(),
            to: to.to_owned(),
            source,
        })
    };
    // No backup when there is no old CSV (or the file system has no hard
    // links): then there is nothing, or nothing cheap, to restore.
    let backup = TempPath::next_to(csv_path);
    let has_backup = fs::hard_link(csv_path, backup.path()).is_ok();

    rename(csv_temp.path(), csv_path)?;
    if let Err(err) = rename(db_temp.path(), db_path) {
        if has_backup {
            let _ = fs::rename(backup.path(), csv_path);
        } else {
            let _ = fs::remove_file(csv_path);
        }
        return Err(err);
    }
    // `backup` is dropped here and removes the old CSV's extra link.
    Ok(())
}

/// Makes the renames durable; best effort, as not every platform can open a
/// directory.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}
