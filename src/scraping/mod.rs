//! The operator's "scrape now" trigger, without HTTP: the routes call
//! [`ScrapeTrigger::trigger`] and [`ScrapeTrigger::status`] and map
//! [`TriggerError`] to a status code.
//!
//! Two modes:
//! - [`GitHubActions`] ([`github`]): where the data is read-only (Vercel), a
//!   `workflow_dispatch` of the deploy workflow, which scrapes, validates and
//!   redeploys; refused while a run of it is queued or in progress.
//! - [`LocalScraper`] ([`local`]): on a machine (`books serve`), the scrape
//!   runs in the process, is published into the data directory exactly as
//!   `books scrape` does, and the server swaps the new store in; one run at a
//!   time.

pub mod github;
pub mod local;

use serde::Serialize;
use thiserror::Error;
use utoipa::ToSchema;

pub use github::{ConfigError, Dispatched, GitHubActions, GitHubConfig, WorkflowRun};
pub use local::{LocalScrapeConfig, LocalScraper, OnPublished, RunState, RunStatus};

/// The reason recorded when none is given.
pub const DEFAULT_REASON: &str = "api";
/// The longest reason kept, in characters; longer ones are cut.
pub const MAX_REASON_CHARS: usize = 200;
/// The GitHub runs [`ScrapeTrigger::status`] lists.
pub const STATUS_RUNS: usize = 5;

/// Why a trigger (or a status read) did not happen.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TriggerError {
    /// A scrape is already queued or running (HTTP 409).
    #[error("a scrape is already running")]
    AlreadyRunning,
    /// GitHub failed or refused; `detail` is safe to show (it never holds
    /// the token or GitHub's answer).
    #[error("{detail}")]
    Upstream {
        /// What went wrong, e.g. "GitHub answered 500 Internal Server Error".
        detail: String,
    },
    /// GitHub did not answer in time.
    #[error("GitHub did not answer in time")]
    UpstreamTimeout,
}

/// Where a triggered scrape runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TriggerMode {
    /// A run of the deploy workflow on GitHub Actions (`"github-actions"`).
    GithubActions,
    /// In this process, into its data directory (`"in-process"`).
    InProcess,
}

/// A trigger that was accepted.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Accepted {
    /// Where the scrape runs.
    pub mode: TriggerMode,
    /// The reason recorded (trimmed; "api" when none was given).
    pub reason: String,
    /// When the trigger was accepted (RFC 3339, UTC).
    #[schema(format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub requested_at: String,
    /// The run just started (in-process mode); null in github-actions mode,
    /// where the run appears in the status's `runs` once GitHub queues it.
    #[schema(required = true)]
    pub run: Option<RunStatus>,
}

/// What the trigger knows about runs. Both fields are always present:
/// `runs` is empty in in-process mode and `run` is null in github-actions mode.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TriggerStatus {
    /// Where scrapes run.
    pub mode: TriggerMode,
    /// The deploy workflow's latest runs, newest first (github-actions mode; at most 5).
    pub runs: Vec<WorkflowRun>,
    /// The current or last run (in-process mode); null before the first run.
    #[schema(required = true)]
    pub run: Option<RunStatus>,
}

/// The trigger, in either mode.
#[derive(Debug)]
pub enum ScrapeTrigger {
    /// Dispatches the deploy workflow.
    GitHub(GitHubActions),
    /// Scrapes in this process.
    Local(LocalScraper),
}

impl TriggerMode {
    /// As the API and the metrics name it.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerMode::GithubActions => "github-actions",
            TriggerMode::InProcess => "in-process",
        }
    }
}

impl ScrapeTrigger {
    /// The mode this trigger runs in.
    pub fn mode(&self) -> TriggerMode {
        match self {
            ScrapeTrigger::GitHub(_) => TriggerMode::GithubActions,
            ScrapeTrigger::Local(_) => TriggerMode::InProcess,
        }
    }

    /// Starts a scrape for `reason` (see [`normalize_reason`]). In-process,
    /// must be called inside a tokio runtime.
    pub async fn trigger(&self, reason: String) -> Result<Accepted, TriggerError> {
        let reason = normalize_reason(&reason);
        let requested_at = now_rfc3339();
        let run = match self {
            ScrapeTrigger::GitHub(github) => github.dispatch(&reason).await.map(|_| None),
            ScrapeTrigger::Local(local) => local.start(reason.clone()).map(Some),
        };
        let outcome = match (&run, self.mode()) {
            (Ok(_), TriggerMode::InProcess) => "started",
            (Ok(_), TriggerMode::GithubActions) => "dispatched",
            (Err(TriggerError::AlreadyRunning), _) => "already_running",
            (Err(_), _) => "upstream_failed",
        };
        crate::observe::metrics::scrape_triggered(self.mode().as_str(), outcome);
        let run = run?;
        Ok(Accepted {
            mode: self.mode(),
            reason,
            requested_at,
            run,
        })
    }

    /// The latest runs (github-actions mode; asks GitHub) or the current or
    /// last run (in-process mode; never fails).
    pub async fn status(&self) -> Result<TriggerStatus, TriggerError> {
        let (runs, run) = match self {
            ScrapeTrigger::GitHub(github) => (github.recent_runs(STATUS_RUNS).await?, None),
            ScrapeTrigger::Local(local) => (Vec::new(), local.status()),
        };
        Ok(TriggerStatus {
            mode: self.mode(),
            runs,
            run,
        })
    }
}

/// The reason as recorded: control characters become spaces, surrounding
/// whitespace is trimmed, at most [`MAX_REASON_CHARS`] characters are kept,
/// and an empty reason becomes [`DEFAULT_REASON`].
pub fn normalize_reason(reason: &str) -> String {
    let cleaned: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let kept: String = cleaned.trim().chars().take(MAX_REASON_CHARS).collect();
    let kept = kept.trim_end();
    if kept.is_empty() {
        DEFAULT_REASON.to_owned()
    } else {
        kept.to_owned()
    }
}

/// Now, RFC 3339 UTC to the second.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_cut_and_defaulted() {
        assert_eq!(normalize_reason(""), "api");
        assert_eq!(normalize_reason("  \t\n "), "api");
        assert_eq!(normalize_reason("  nightly fix \n"), "nightly fix");
        assert_eq!(normalize_reason("a\nb\u{7}c"), "a b c");
        let long = "é".repeat(250);
        assert_eq!(normalize_reason(&long).chars().count(), MAX_REASON_CHARS);
    }

    #[test]
    fn modes_and_errors_read_well() {
        let json = |m| serde_json::to_string(&m).unwrap();
        assert_eq!(json(TriggerMode::GithubActions), r#""github-actions""#);
        assert_eq!(json(TriggerMode::InProcess), r#""in-process""#);
        assert_eq!(
            TriggerError::AlreadyRunning.to_string(),
            "a scrape is already running"
        );
        let upstream = TriggerError::Upstream {
            detail: "GitHub answered 500 Internal Server Error".into(),
        };
        assert_eq!(
            upstream.to_string(),
            "GitHub answered 500 Internal Server Error"
        );
    }
}
