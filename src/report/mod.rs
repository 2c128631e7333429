//! `books usage-report`: reads request log lines and writes a self-contained
//! HTML report and a short text summary.
//!
//! # What it reads
//!
//! Files (or stdin), plain or gzip, holding any mix of:
//!
//! - **our line**, as `books serve` (and every function) prints it on stdout
//!   ([`crate::observe::log`]): `{"ts":…,"level":…,"event":"request",
//!   "request_id","method","path","query","route","status","duration_us",
//!   "bytes",…}`. Unknown fields are ignored; `route` may be absent;
//! - **a Vercel log entry whose `message` is our line**: a Log Drain
//!   delivery in NDJSON (one entry per line) or JSON (an array of entries;
//!   several deliveries saved one after the other are read in turn), and
//!   the lines of `vercel logs --json`. The message is read from its first
//!   `{`, so a trailing newline or a `[function] ` prefix does not matter;
//! - **a JSON array** of such entries or lines, on one line or
//!   pretty-printed, however large: it is read element by element
//!   ([`input`]).
//!
//! The Vercel shapes, from <https://vercel.com/docs/drains/reference/logs>
//! (an entry's `id`, `timestamp` in ms, `requestId`, `statusCode`, `path`,
//! `proxy`, ... and `message`, cut to its tail when too long; a drain
//! delivers either a JSON array or NDJSON) and
//! <https://vercel.com/docs/cli/logs> (`vercel logs --json`: one JSON
//! object per line, whose `message` is what the function printed). Only
//! `message` is read: our line carries everything the report needs.
//!
//! Every other record is skipped and counted by reason ([`Skip`]): too long
//! (over 64 KiB: skipped without being buffered), not UTF-8, not JSON, not
//! ours (other JSON, or a platform entry whose message is not our line),
//! our lines of other events, and request lines with a field missing or of
//! the wrong type. A malformed record is never an error: only I/O is.
//!
//! # Bounded memory
//!
//! One record and a 256 KiB read buffer at a time, and [`Usage`] keeps only
//! bounded summaries ([`Limits`]): a latency histogram per route (exact
//! below 2,048 µs, within 0.05 % above: [`histogram`]), requests over time
//! in at most 1,440 bins ([`timeline`]), the most asked-for search terms and
//! categories in 1,024 slots each (exact while the distinct values fit:
//! [`heavy`]), the 20 slowest requests, and the first 10,000 server errors
//! (the rest are counted). Kept text is cut at 1 KiB.
//!
//! # Definitions
//!
//! - Percentiles are by nearest rank: p95 is the value at rank ⌈0.95 n⌉.
//! - The **304 share** ("cache hit ratio") is the share of GET and HEAD
//!   requests answered 304 Not Modified: revalidations of a copy the client
//!   or the edge already had. Requests Vercel's edge answers from its cache
//!   never reach a function, so they are not in the log at all.
//! - **Search terms** are the `q` and `title` values of
//!   `/api/v1/books/search` (percent-decoded, trimmed, whitespace runs as
//!   one space, lower case); **categories** are the `category` values of any
//!   route, as the slug the API matches on (`Historical Fiction` and
//!   `historical-fiction` are one). CORS preflights (OPTIONS) are left out.

mod escape;
pub mod heavy;
pub mod histogram;
mod html;
pub mod input;
pub mod lists;
pub mod record;
mod svg;
pub mod text;
pub mod timeline;
pub mod usage;

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

pub use record::Skip;
pub use usage::{Limits, Usage};

/// An input that could not be read, or a report that could not be written
/// (the I/O error is the source: `{:#}` shows both).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot open {}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Reads every input in turn (`-` is stdin; no input at all is stdin too).
/// Every input is opened before any is read, so a missing file fails the
/// run before any work.
pub fn read_logs(inputs: &[PathBuf], limits: Limits) -> Result<Usage, ReportError> {
    let stdin = [PathBuf::from("-")];
    let inputs = if inputs.is_empty() {
        &stdin[..]
    } else {
        inputs
    };
    let mut opened = Vec::with_capacity(inputs.len());
    for path in inputs {
        let reader = input::open(path).map_err(|source| ReportError::Open {
            path: path.clone(),
            source,
        })?;
        opened.push((path, reader));
    }
    let mut usage = Usage::new(limits);
    for (path, reader) in opened {
        input::scan(reader, &mut |record| match record {
            input::Record::TooLong => usage.add(Err(Skip::TooLong)),
            input::Record::Bytes(bytes) => record::read(bytes, &mut |outcome| usage.add(outcome)),
        })
        .map_err(|source| ReportError::Read {
            path: path.clone(),
            source,
        })?;
    }
    Ok(usage)
}

/// Writes the HTML report to `path` (through a temporary file beside it,
/// renamed into place, so a failed run leaves no half report).
pub fn write_html(usage: &Usage, path: &Path) -> Result<(), ReportError> {
    let error = |source| ReportError::Write {
        path: path.to_owned(),
        source,
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let page = html::render(usage);
    let written = std::fs::File::create(&partial)
        .and_then(|mut file| {
            file.write_all(page.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&partial, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error(e));
    }
    Ok(())
}

/// The text summary (see [`text`] for its format), naming `html`.
pub fn summary(usage: &Usage, html: &Path) -> String {
    text::summary(usage, html)
}
