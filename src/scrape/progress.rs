//! The crawl's progress display: two indicatif bars on stderr (listing pages,
//! books), hidden when stderr is not a terminal or when asked to be quiet.
//! The crawl only calls the small methods here; nothing else knows indicatif.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars for a crawl. [`Progress::hidden`] draws nothing.
#[derive(Debug, Clone)]
pub struct Progress {
    pages: ProgressBar,
    books: ProgressBar,
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
            ProgressStyle::with_template(
                "books [{bar:40}] {pos}/{len} {per_sec} eta {eta} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Progress { pages, books }
    }

    /// Bars that draw nothing (tests, `--quiet`, no terminal).
    pub fn hidden() -> Self {
        Progress {
            pages: ProgressBar::hidden(),
            books: ProgressBar::hidden(),
        }
    }

    /// A listing page was fetched and parsed.
    pub fn page_done(&self) {
        self.pages.inc(1);
    }

    /// `n` new product pages were queued.
    pub fn books_found(&self, n: u64) {
        self.books.inc_length(n);
    }

    /// The site reported `total` books: the books bar's length from now on.
    pub fn books_expected(&self, total: u64) {
        if total > self.books.length().unwrap_or(0) {
            self.books.set_length(total);
        }
    }

    /// A product page was done with (parsed or failed).
    pub fn book_done(&self) {
        self.books.inc(1);
    }

    /// A page failed for good: shown next to the bars.
    pub fn failed(&self, url: &str) {
        self.books.set_message(format!("failed: {url}"));
    }

    /// Removes the bars, leaving the terminal clean for the summary.
    pub fn finish(&self) {
        self.pages.finish_and_clear();
        self.books.finish_and_clear();
    }
}
