//! The crawl's progress display: two indicatif bars on stderr (listing pages,
//! books), hidden when stderr is not a terminal or when asked to be quiet.
//! The crawl only calls the small methods here; nothing else knows indicatif.
//! Beside the bars, cheap atomic counters ([`Progress::counts`]) that work
//! for hidden bars too, so a run in the background can report how far it got.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars for a crawl. [`Progress::hidden`] draws nothing.
#[derive(Debug, Clone)]
pub struct Progress {
    pages: ProgressBar,
    books: ProgressBar,
    /// Product pages queued so far, and the total the site reported: the
    /// books bar's length is the larger.
    found: Arc<AtomicU64>,
    expected: Arc<AtomicU64>,
    /// What [`Progress::counts`] reads; shared by every clone.
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    pages: AtomicU64,
    books: AtomicU64,
    failures: AtomicU64,
}

/// A snapshot of a crawl's progress so far ([`Progress::counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressCounts {
    /// Listing pages fetched and parsed ([`Progress::page_done`]).
    pub pages: u64,
    /// Product pages done with, parsed or failed ([`Progress::book_done`]).
    pub books: u64,
    /// Pages reported as failed for good ([`Progress::failed`]).
    pub failures: u64,
}

impl Progress {
    /// Bars on stderr, unless `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self::hidden();
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let pages = multi.add(ProgressBar::no_length());
        pages.set_style(
            ProgressStyle::with_template("{spinner} listing pages {pos} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pages.enable_steady_tick(Duration::from_millis(100));
        let books = multi.add(ProgressBar::new(0));
        books.set_style(
            ProgressStyle::with_template("books [{bar:40}] {pos}/{len} eta {eta} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Progress::with_bars(pages, books)
    }

    fn with_bars(pages: ProgressBar, books: ProgressBar) -> Self {
        Progress {
            pages,
            books,
            found: Arc::default(),
            expected: Arc::default(),
            counters: Arc::default(),
        }
    }

    /// Bars that draw nothing (tests, `--quiet`, no terminal).
    pub fn hidden() -> Self {
        Progress::with_bars(ProgressBar::hidden(), ProgressBar::hidden())
    }

    /// A listing page was fetched and parsed.
    pub fn page_done(&self) {
        self.counters.pages.fetch_add(1, Ordering::Relaxed);
        self.pages.inc(1);
    }

    /// `n` new product pages were queued.
    pub fn books_found(&self, n: u64) {
        let found = self.found.fetch_add(n, Ordering::Relaxed) + n;
        self.books
            .set_length(found.max(self.expected.load(Ordering::Relaxed)));
    }

    /// The site reported `total` books: the books bar's length from now on.
    pub fn books_expected(&self, total: u64) {
        self.expected.store(total, Ordering::Relaxed);
        self.books
            .set_length(total.max(self.found.load(Ordering::Relaxed)));
    }

    /// A product page was done with (parsed or failed).
    pub fn book_done(&self) {
        self.counters.books.fetch_add(1, Ordering::Relaxed);
        self.books.inc(1);
    }

    /// A page failed for good: shown next to the bars.
    pub fn failed(&self, url: &str) {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        self.books.set_message(format!("failed: {url}"));
    }

    /// The counts so far; cheap (three relaxed loads), shown bars or not.
    pub fn counts(&self) -> ProgressCounts {
        ProgressCounts {
            pages: self.counters.pages.load(Ordering::Relaxed),
            books: self.counters.books.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
        }
    }

    /// Removes the bars, leaving the terminal clean for the summary.
    pub fn finish(&self) {
        self.pages.finish_and_clear();
        self.books.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bars_count_and_clones_share_the_counts() {
        let progress = Progress::hidden();
        let clone = progress.clone();
        assert_eq!(progress.counts(), ProgressCounts::default());
        clone.page_done();
        clone.page_done();
        clone.book_done();
        clone.failed("http://127.0.0.1/x");
        progress.finish();
        assert_eq!(
            progress.counts(),
            ProgressCounts {
                pages: 2,
                books: 1,
                failures: 1
            }
        );
    }
}
