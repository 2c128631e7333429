//! In-process mode: the scrape `books scrape` runs, in a background task of
//! the server: crawl; refuse an incomplete crawl (the data directory is then
//! untouched); publish `books.csv` and `books.db` (validated, renamed into
//! place); then hand the new database to `on_published`, which opens it and
//! swaps it in. One run at a time; the current or last run is kept for the
//! status.

use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde::Serialize;
use url::Url;
use utoipa::ToSchema;

use super::{TriggerError, normalize_reason, now_rfc3339};
use crate::scrape::client::ClientConfig;
use crate::scrape::crawl::normalize_base;
use crate::scrape::progress::Progress;
use crate::scrape::{CrawlConfig, CrawlOutput, crawl};
use crate::store::DB_FILE_NAME;
use crate::store::ScrapeMeta;
use crate::store::publish::{PublishError, publish};

/// Failures named in a failed run's error; the rest are counted.
const FAILURES_SHOWN: usize = 3;
/// The longest error kept, in characters.
const MAX_ERROR_CHARS: usize = 600;

/// What to scrape and where to publish it.
#[derive(Debug, Clone)]
pub struct LocalScrapeConfig {
    /// The site's root, e.g. `https://books.toscrape.com/`.
    pub base_url: Url,
    /// Where `books.csv` and `books.db` are published.
    pub data_dir: PathBuf,
    /// Product pages fetched at once (at least 1).
    pub concurrency: usize,
    /// Timeouts and retry policy.
    pub client: ClientConfig,
}

/// Called with the published `books.db` once a run has published it; opens
/// it and swaps it in. An `Err` (shown to the operator) fails the run.
pub type OnPublished = Arc<dyn Fn(&Path) -> Result<(), String> + Send + Sync>;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// Crawling or publishing.
    Running,
    /// Published and swapped in.
    Succeeded,
    /// Stopped; see `error`.
    Failed,
}

/// One in-process scrape run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunStatus {
    /// 1 for the process's first run, then counting up.
    pub id: u64,
    /// Why it was started.
    pub reason: String,
    /// Where it is.
    pub state: RunState,
    /// When it started (RFC 3339, UTC).
    #[schema(format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub started_at: String,
    /// When it ended (RFC 3339, UTC); null while running.
    #[schema(required = true, format = DateTime, examples("2025-01-01T06:00:41Z"))]
    pub finished_at: Option<String>,
    /// Time since it started, or its whole duration once ended.
    pub elapsed_ms: u64,
    /// Pages fetched and parsed, listing and product pages (live while running).
    pub pages: u64,
    /// Product pages done (live while running: parsed or failed); once
    /// ended, the books extracted.
    pub books: u64,
    /// Pages that failed for good (live while running).
    pub failures: u64,
    /// Retries made by the HTTP client (known once the crawl has ended).
    pub retries: u64,
    /// Why it failed, in short: the first failed pages, or why publishing
    /// or swapping in failed. Null unless failed.
    #[schema(required = true)]
    pub error: Option<String>,
    /// SHA-256 of the published CSV; null unless published.
    #[schema(required = true)]
    pub content_hash: Option<String>,
    /// Books published; null unless published.
    #[schema(required = true)]
    pub book_count: Option<usize>,
}

/// The in-process trigger. Cheap to clone (clones share runs).
#[derive(Clone)]
pub struct LocalScraper {
    inner: Arc<Inner>,
}

struct Inner {
    config: LocalScrapeConfig,
    on_published: OnPublished,
    current: Mutex<Option<Current>>,
    /// The run itself ([`run`]), named only where a scraper is made: the
    /// trigger's Vercel function, which never makes one, then links neither
    /// the crawler nor the publishing.
    run: RunFn,
}

type RunFn = fn(Arc<Inner>, Progress) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The current or last run, and while it runs, its live counters.
struct Current {
    status: RunStatus,
    started: Instant,
    progress: Option<Progress>,
}

impl std::fmt::Debug for LocalScraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalScraper")
            .field("config", &self.inner.config)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

/// How a run ended, before it is recorded.
struct Outcome {
    error: Option<String>,
    pages: u64,
    books: u64,
    failures: u64,
    /// Every retry, of either kind.
    retries: u64,
    /// The retries of pages that answered 200 but did not parse.
    unparseable_retries: u64,
    content_hash: Option<String>,
    book_count: Option<usize>,
}

impl Outcome {
    fn failed(error: String) -> Self {
        Outcome {
            error: Some(error),
            pages: 0,
            books: 0,
            failures: 0,
            retries: 0,
            unparseable_retries: 0,
            content_hash: None,
            book_count: None,
        }
    }
}

impl LocalScraper {
    /// A scraper publishing into `config.data_dir`; no run yet, no I/O.
    pub fn new(config: LocalScrapeConfig, on_published: OnPublished) -> Self {
        LocalScraper {
            inner: Arc::new(Inner {
                config,
                on_published,
                current: Mutex::new(None),
                run: |inner, progress| Box::pin(run(inner, progress)),
            }),
        }
    }

    /// What it scrapes and where it publishes.
    pub fn config(&self) -> &LocalScrapeConfig {
        &self.inner.config
    }

    /// Starts a run in the background and returns its first status, unless
    /// one is running ([`TriggerError::AlreadyRunning`]). Must be called
    /// inside a tokio runtime (it spawns the run; panics otherwise).
    pub fn start(&self, reason: String) -> Result<RunStatus, TriggerError> {
        let reason = normalize_reason(&reason);
        let progress = Progress::hidden();
        let status = {
            let mut current = self.inner.lock();
            if current
                .as_ref()
                .is_some_and(|c| c.status.state == RunState::Running)
            {
                return Err(TriggerError::AlreadyRunning);
            }
            let id = current.as_ref().map_or(1, |c| c.status.id + 1);
            let status = RunStatus {
                id,
                reason,
                state: RunState::Running,
                started_at: now_rfc3339(),
                finished_at: None,
                elapsed_ms: 0,
                pages: 0,
                books: 0,
                failures: 0,
                retries: 0,
                error: None,
                content_hash: None,
                book_count: None,
            };
            *current = Some(Current {
                status: status.clone(),
                started: Instant::now(),
                progress: Some(progress.clone()),
            });
            status
        };
        tracing::info!(
            event = "scrape_run_started",
            run_id = status.id,
            reason = status.reason.as_str(),
            base_url = self.inner.config.base_url.as_str()
        );
        let inner = Arc::clone(&self.inner);
        let id = status.id;
        tokio::spawn(async move {
            // The run in a task of its own, so that even a panic ends it.
            let run = tokio::spawn((inner.run)(Arc::clone(&inner), progress));
            let outcome = run
                .await
                .unwrap_or_else(|_| Outcome::failed("the run stopped unexpectedly".to_owned()));
            inner.finish(id, outcome);
        });
        Ok(status)
    }

    /// The current or last run; None before the first. While running, the
    /// counts are live.
    pub fn status(&self) -> Option<RunStatus> {
        let current = self.inner.lock();
        let current = current.as_ref()?;
        let mut status = current.status.clone();
        if let Some(progress) = &current.progress {
            let counts = progress.counts();
            status.pages = counts.pages + counts.books;
            status.books = counts.books;
            status.failures = counts.failures;
            status.elapsed_ms = millis(current.started);
        }
        Some(status)
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Option<Current>> {
        // A panic while holding the lock leaves nothing half-written.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records how run `id` ended, and logs it.
    fn finish(&self, id: u64, outcome: Outcome) {
        let mut current = self.lock();
        let Some(current) = current.as_mut().filter(|c| c.status.id == id) else {
            return;
        };
        current.progress = None;
        let status = &mut current.status;
        status.state = if outcome.error.is_none() {
            RunState::Succeeded
        } else {
            RunState::Failed
        };
        status.finished_at = Some(now_rfc3339());
        status.elapsed_ms = millis(current.started);
        status.pages = outcome.pages;
        status.books = outcome.books;
        status.failures = outcome.failures;
        status.retries = outcome.retries;
        status.error = outcome.error;
        status.content_hash = outcome.content_hash;
        status.book_count = outcome.book_count;
        let outcome_name = match status.state {
            RunState::Succeeded => "succeeded",
            _ => "failed",
        };
        crate::observe::metrics::scrape_run_finished(outcome_name, current.started.elapsed());
        let unparseable_retries = outcome.unparseable_retries;
        let (run_id, pages, books, failures, retries, elapsed_ms) = (
            status.id,
            status.pages,
            status.books,
            status.failures,
            status.retries,
            status.elapsed_ms,
        );
        let (book_count, content_hash) = (status.book_count, status.content_hash.as_deref());
        let error = status.error.as_deref();
        macro_rules! finished {
            ($level:ident) => {
                tracing::$level!(
                    event = "scrape_run_finished",
                    run_id,
                    outcome = outcome_name,
                    pages,
                    books,
                    failures,
                    retries,
                    unparseable_retries,
                    elapsed_ms,
                    book_count,
                    content_hash,
                    error
                )
            };
        }
        if error.is_some() {
            finished!(warn);
        } else {
            finished!(info);
        }
    }
}

/// The pipeline: crawl, refuse failures, publish, hand over.
async fn run(inner: Arc<Inner>, progress: Progress) -> Outcome {
    let config = &inner.config;
    let crawl_config = CrawlConfig {
        base_url: config.base_url.clone(),
        concurrency: config.concurrency.max(1),
        client: config.client.clone(),
    };
    let output = match crawl(&crawl_config, &progress).await {
        Ok(output) => output,
        Err(e) => return Outcome::failed(cut(format!("the crawl could not start: {e}"))),
    };
    let CrawlOutput {
        books,
        report,
        reported_total,
    } = output;
    let mut outcome = Outcome {
        error: None,
        pages: report.pages,
        books: report.books,
        failures: report.failures.len() as u64,
        retries: report.retries + report.unparseable_retries,
        unparseable_retries: report.unparseable_retries,
        content_hash: None,
        book_count: None,
    };
    if !report.is_complete() {
        let mut error = format!(
            "{} page(s) failed; nothing published: ",
            report.failures.len()
        );
        for (i, failure) in report.failures.iter().take(FAILURES_SHOWN).enumerate() {
            if i > 0 {
                error.push_str("; ");
            }
            let _ = write!(error, "{failure}");
        }
        if report.failures.len() > FAILURES_SHOWN {
            let _ = write!(
                error,
                "; and {} more",
                report.failures.len() - FAILURES_SHOWN
            );
        }
        outcome.error = Some(cut(error));
        return outcome;
    }
    let meta = ScrapeMeta {
        scraped_at: now_rfc3339(),
        source: normalize_base(config.base_url.clone()).to_string(),
        reported_total,
    };
    let data_dir = config.data_dir.clone();
    let on_published = Arc::clone(&inner.on_published);
    let published = tokio::task::spawn_blocking(move || {
        let report = publish(&data_dir, &books, &meta).map_err(|e| publish_error(&e))?;
        let handed = on_published(&data_dir.join(DB_FILE_NAME));
        Ok::<_, String>((report, handed))
    })
    .await;
    match published {
        Ok(Ok((report, handed))) => {
            outcome.content_hash = Some(report.content_hash);
            outcome.book_count = Some(report.book_count);
            if let Err(e) = handed {
                outcome.error = Some(cut(format!(
                    "published, but the new data could not be swapped in: {e}"
                )));
            }
        }
        Ok(Err(e)) => outcome.error = Some(cut(e)),
        Err(_) => outcome.error = Some("publishing stopped unexpectedly".to_owned()),
    }
    outcome
}

/// A publish error in short: validation problems (the first few), or the
/// file operation that failed.
fn publish_error(error: &PublishError) -> String {
    let problems = error.problems();
    if problems.is_empty() {
        return format!("not published: {error}");
    }
    let shown: Vec<&str> = problems
        .iter()
        .take(FAILURES_SHOWN)
        .map(String::as_str)
        .collect();
    let mut text = format!(
        "not published: the dataset failed validation ({} problem(s)): {}",
        problems.len(),
        shown.join("; ")
    );
    if problems.len() > FAILURES_SHOWN {
        let _ = write!(text, "; and {} more", problems.len() - FAILURES_SHOWN);
    }
    text
}

/// At most [`MAX_ERROR_CHARS`] characters, on one line.
fn cut(text: String) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= MAX_ERROR_CHARS {
        return one_line;
    }
    let mut kept: String = one_line.chars().take(MAX_ERROR_CHARS - 1).collect();
    kept.push('…');
    kept
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_cut_to_one_short_line() {
        assert_eq!(cut("a\nb".into()), "a b");
        let long = cut("x".repeat(2000));
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn states_are_lowercase() {
        let json =
            serde_json::to_string(&[RunState::Running, RunState::Succeeded, RunState::Failed])
                .unwrap();
        assert_eq!(json, r#"["running","succeeded","failed"]"#);
    }
}
