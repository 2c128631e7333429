//! `data/books.csv`: the canonical serialisation of a book list (written by
//! hand so the content hash never depends on a library's quoting choices) and
//! a lenient reader that reads every record into a [`RawBookRow`] with serde,
//! converts it into a [`Book`], and collects every problem with its line and
//! column.
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::domain::Book;
use crate::hex::hex;

mod row;

pub(crate) use row::parse_price;
pub use row::{FieldError, RawBookRow};

/// The CSV header: [`Book::COLUMNS`], in that order.
pub const HEADER: [&str; 15] = Book::COLUMNS;

/// Why a CSV file could not be read or written.
#[derive(Debug, Error)]
pub enum CsvError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    /// The file was read but some rows (or the header) are not valid books.
    #[error("{path}: {} (of {} problems)", .problems[0], .problems.len())]
    Invalid {
        path: PathBuf,
        /// Never empty.
        problems: Vec<CsvProblem>,
    },
}

/// One problem of one CSV line, e.g.
/// `line 7: rating: rating must be an integer from 1 to 5, got "6"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    /// 1-based line where the record starts (the header is line 1).
    pub line: u64,
    /// The column at fault, if the problem is one field's.
    pub column: Option<&'static str>,
    pub message: String,
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(f, "line {}: {}: {}", self.line, column, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A book read from the CSV, with the line its record starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    pub line: u64,
    pub book: Book,
}

/// A record with the right number of fields that did not parse into a
/// [`Book`]: kept as text so that validation can still check its other
/// fields (an empty title, a duplicate id) and report every problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnparsedRow {
    pub line: u64,
    /// The record's text (invalid UTF-8 replaced).
    pub raw: RawBookRow,
}

/// Everything a lenient read found: the rows that parsed and a problem for
/// each one that did not (and for a bad header).
#[derive(Debug, Clone, Default)]
pub struct CsvRows {
    /// Records after the header, parsed or not.
    pub record_count: usize,
    pub rows: Vec<CsvRow>,
    /// Records of 15 fields that failed to parse (their problems are in
    /// `problems`).
    pub unparsed: Vec<UnparsedRow>,
    pub problems: Vec<CsvProblem>,
}

impl CsvRows {
    /// The parsed books, in file order.
    pub fn books(&self) -> Vec<Book> {
        self.rows.iter().map(|row| row.book.clone()).collect()
    }
}

/// The canonical CSV bytes of `books`: the header, then one record per book
/// sorted by id; fields separated by `,`, records ended by `\n`; a field is
/// quoted (inner `"` doubled) only if it holds `,`, `"`, `\r` or `\n`; prices
/// as `51.77`. The content hash and `write_csv` both use exactly these bytes.
pub fn canonical_csv(books: &[Book]) -> Vec<u8> {
    let mut sorted: Vec<&Book> = books.iter().collect();
    sorted.sort_by_key(|book| book.id);
    let mut out = String::with_capacity(64 + books.len() * 1_200);
    push_header(&mut out);
    for book in sorted {
        push_record(&mut out, book);
    }
    out.into_bytes()
}

/// Appends the header line of [`canonical_csv`] to `out`.
pub fn push_header(out: &mut String) {
    out.push_str(&HEADER.join(","));
    out.push('\n');
}

/// Appends `book`'s record, exactly as [`canonical_csv`] writes it, to
/// `out`: for writers that stream books already in id order.
pub fn push_record(out: &mut String, book: &Book) {
    let raw = RawBookRow::from(book);
    for (i, field) in raw.fields().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, field);
    }
    out.push('\n');
}

fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// SHA-256 (lowercase hex) of [`canonical_csv`]: the `content_hash` kept in
/// the database's meta table. Independent of the input order.
pub fn content_hash(books: &[Book]) -> String {
    hex(&Sha256::digest(canonical_csv(books)))
}

/// Writes [`canonical_csv`] of `books` to `path` (created or truncated) and
/// syncs it to disk. Not atomic by itself: `publish` writes to a temporary
/// name and renames.
pub fn write_csv(path: &Path, books: &[Book]) -> Result<(), CsvError> {
    let write_err = |source| CsvError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = File::create(path).map_err(write_err)?;
    file.write_all(&canonical_csv(books)).map_err(write_err)?;
    file.sync_all().map_err(write_err)
}

/// Reads `path` strictly: every row must parse, or the error carries every
/// problem found.
pub fn read_csv(path: &Path) -> Result<Vec<Book>, CsvError> {
    let rows = read_rows(path)?;
    if rows.problems.is_empty() {
        Ok(rows.rows.into_iter().map(|row| row.book).collect())
    } else {
        Err(CsvError::Invalid {
            path: path.to_owned(),
            problems: rows.problems,
        })
    }
}

/// Reads `path` leniently: see [`parse_rows`]. Errs only if the file cannot
/// be read at all.
pub fn read_rows(path: &Path) -> Result<CsvRows, CsvError> {
    let file = File::open(path).map_err(|source| CsvError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse_rows(io::BufReader::new(file)).map_err(|source| CsvError::Read {
        path: path.to_owned(),
        source,
    })
}

/// The I/O error inside a csv error (the only kind `parse_rows` passes on).
fn into_io(err: csv::Error) -> io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(source) => source,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Parses CSV text: checks the header, then parses every record into a
/// [`Book`], recording a [`CsvProblem`] for each bad field (all of a row's bad
/// fields, not just the first) and going on with the next row. Errs only on
/// I/O failure.
pub fn parse_rows<R: Read>(reader: R) -> Result<CsvRows, io::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut out = CsvRows::default();
    let mut record = csv::ByteRecord::new();

    if !reader.read_byte_record(&mut record).map_err(into_io)? {
        out.problems.push(CsvProblem {
            line: 1,
            column: None,
            message: format!("empty file: expected the header {}", HEADER.join(",")),
        });
        return Ok(out);
    }
    let header: Vec<&[u8]> = record.iter().collect();
    let expected: Vec<&[u8]> = HEADER.iter().map(|h| h.as_bytes()).collect();
    if header != expected {
        out.problems.push(CsvProblem {
            line: 1,
            column: None,
            message: format!(
                "header must be exactly {:?}, got {:?}",
                HEADER.join(","),
                join_lossy(&record)
            ),
        });
    }

    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) if err.is_io_error() => return Err(into_io(err)),
            Err(err) => {
                // A malformed record: report it and carry on with the next.
                out.record_count += 1;
                let line = err.position().map_or(0, |p| p.line());
                out.problems.push(CsvProblem {
                    line,
                    column: None,
                    message: err.to_string(),
                });
                continue;
            }
        }
        out.record_count += 1;
        let line = record.position().map_or(0, |p| p.line());
        match parse_record(&record) {
            Ok(book) => out.rows.push(CsvRow { line, book }),
            Err((raw, problems)) => {
                if let Some(raw) = raw {
                    out.unparsed.push(UnparsedRow { line, raw: *raw });
                }
                out.problems
                    .extend(problems.into_iter().map(|(column, message)| CsvProblem {
                        line,
                        column,
                        message,
                    }));
            }
        }
    }
    Ok(out)
}

/// The record's fields joined by commas, for messages.
fn join_lossy(record: &csv::ByteRecord) -> String {
    record
        .iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(",")
}

type FieldProblem = (Option<&'static str>, String);

/// Parses one record into a book, or lists every field that does not parse
/// and, if the record has every column, returns its text for validation.
fn parse_record(
    record: &csv::ByteRecord,
) -> Result<Book, (Option<Box<RawBookRow>>, Vec<FieldProblem>)> {
    if record.len() != HEADER.len() {
        let message = format!("expected {} fields, found {}", HEADER.len(), record.len());
        return Err((None, vec![(None, message)]));
    }
    let mut problems: Vec<FieldProblem> = Vec::new();
    // A field that is not UTF-8 is reported and parsed as empty, so a number
    // column reports its own parse problem too.
    let texts: csv::StringRecord = record
        .iter()
        .zip(HEADER)
        .map(|(bytes, column)| {
            std::str::from_utf8(bytes).unwrap_or_else(|_| {
                problems.push((Some(column), "not valid UTF-8".to_owned()));
                ""
            })
        })
        .collect();
    let converted = RawBookRow::from_record(&texts)
        .map_err(|err| vec![(None, err.to_string())])
        .and_then(|raw| {
            Book::try_from(raw).map_err(|errors| {
                errors
                    .into_iter()
                    .map(|e| (Some(e.column), e.message))
                    .collect()
            })
        });
    match converted {
        Ok(book) if problems.is_empty() => return Ok(book),
        Ok(_) => {}
        Err(more) => problems.extend(more),
    }
    // Validation checks the text as it is, with invalid bytes replaced.
    let lossy: csv::StringRecord = record.iter().map(String::from_utf8_lossy).collect();
    Err((RawBookRow::from_record(&lossy).ok().map(Box::new), problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_quoting() {
        let quoted = |field: &str| {
            let mut out = String::new();
            push_field(&mut out, field);
            out
        };
        assert_eq!(quoted("plain text"), "plain text");
        assert_eq!(quoted(""), "");
        assert_eq!(quoted("a,b"), "\"a,b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("two\nlines"), "\"two\nlines\"");
        assert_eq!(quoted("é 東京"), "é 東京");
    }

    #[test]
    fn an_empty_file_is_a_problem_not_an_error() {
        let rows = parse_rows(&b""[..]).unwrap();
        assert_eq!(rows.record_count, 0);
        assert_eq!(rows.problems.len(), 1);
        assert!(
            rows.problems[0]
                .to_string()
                .starts_with("line 1: empty file")
        );
    }
}
