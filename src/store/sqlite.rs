//! The read side of `books.db`: opened read-only and immutable, once per
//! process, and shared by every request through a small connection pool.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use rusqlite::{Connection, OpenFlags};
use thiserror::Error;

use super::schema::meta_key;
use super::summary::{CategoryStats, CategorySummary, Overview};
use crate::observe::timing::{self, Phase};

/// Why the database could not be opened or queried.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database {path} not found")]
    Missing { path: PathBuf },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database query failed: {0}")]
    Query(#[from] rusqlite::Error),
}

/// Opens `path` read-only with `immutable=1`: SQLite then takes no locks and
/// never looks for a journal, which is right for a file nothing writes to.
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Missing {
            path: path.to_owned(),
        });
    }
    let uri = immutable_uri(path);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&uri, flags).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    tune_for_reads(&conn).map_err(|source| StoreError::Open {
        path: path.to_owned(),
        source,
    })?;
    Ok(conn)
}

/// The whole file (a few MiB) fits in memory: map it and cache every page, so
/// a scan never goes back to the file, and keep prepared statements around.
fn tune_for_reads(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "mmap_size", 256 * 1024 * 1024)?;
    conn.pragma_update(None, "cache_size", -64 * 1024)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// `file:` URI for `path`, with the characters URIs reserve escaped.
fn immutable_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let mut uri = String::from("file:");
    for byte in absolute.to_string_lossy().bytes() {
        match byte {
            b'?' | b'#' | b'%' => uri.push_str(&format!("%{byte:02X}")),
            _ => uri.push(byte as char),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// The catalogue database, shared by every request of a process.
pub struct Store {
    path: PathBuf,
    /// Identifies the data: the `meta` table's content hash. Immutable for
    /// the life of the process, so it can key ETags.
    content_hash: String,
    scraped_at: Option<String>,
    /// Aggregates over the whole catalogue, computed once: the data never
    /// changes under a running process.
    pub(super) memo: Memo,
    /// Idle connections; a request takes one and gives it back.
    idle: Mutex<Vec<Connection>>,
    /// Signalled when a connection is given back.
    returned: Condvar,
    /// The file opened, to tell when `path` names another one: a fresh
    /// scrape published over it while this store still serves requests.
    file: Option<FileId>,
}

/// A file's identity on its file system (device and inode).
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

impl Store {
    /// Opens the database and checks that it is one of ours.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let file = file_id(path);
        let conn = open_read_only(path)?;
        let content_hash = read_meta(&conn, meta_key::CONTENT_HASH)?.unwrap_or_default();
        let scraped_at = read_meta(&conn, meta_key::SCRAPED_AT)?;
        Ok(Store {
            path: path.to_owned(),
            content_hash,
            scraped_at,
            memo: Memo::default(),
            idle: Mutex::new(vec![conn]),
            returned: Condvar::new(),
            file,
        })
    }

    /// The content hash of the data (empty if the database has none).
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// When the data was scraped (RFC 3339), if recorded.
    pub fn scraped_at(&self) -> Option<&str> {
        self.scraped_at.as_deref()
    }

    /// Runs `query` on a pooled connection; a new one is opened only when
    /// every pooled one is busy, so the pool grows to the peak concurrency.
    /// Once the file at the path has been replaced (a published scrape),
    /// the pool stops growing and waits for a connection to come back: a
    /// new one would read the new file under this store's hash and memo.
    pub fn with_connection<T>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = {
            let mut idle = self.idle();
            loop {
                if let Some(conn) = idle.pop() {
                    break Some(conn);
                }
                if self.file.is_none() || file_id(&self.path) == self.file {
                    break None;
                }
                idle = self.returned.wait(idle).unwrap_or_else(|e| e.into_inner());
            }
        };
        let conn = match pooled {
            Some(conn) => conn,
            None => open_read_only(&self.path)?,
        };
        let result = timing::timed(Phase::Db, || query(&conn));
        self.idle().push(conn);
        self.returned.notify_one();
        result
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whole-catalogue results kept for the life of a [`Store`].
#[derive(Debug, Default)]
pub(crate) struct Memo {
    pub(super) categories: OnceLock<Vec<CategorySummary>>,
    pub(super) category_stats: OnceLock<Vec<CategoryStats>>,
    pub(super) overview: OnceLock<Overview>,
}

/// A value of the `meta` table, if present.
pub(crate) fn read_meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT value FROM meta WHERE key = ?")?;
    let mut rows = stmt.query([key])?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}
