//! GitHub Actions mode: a `workflow_dispatch` of `.github/workflows/deploy.yml`
//! (scrape, validate, train, redeploy), refused while a run of it is queued
//! or in progress, and its latest runs for the status.
//!
//! Configured from the environment ([`GitHubConfig::from_env`]):
//! `BOOKS_GITHUB_REPO` (`owner/name`) and `BOOKS_GITHUB_TOKEN` (a token that
//! may run the workflow: fine-grained with "Actions: read and write"), both or
//! neither; `BOOKS_GITHUB_API_URL` (default `https://api.github.com`) and
//! `BOOKS_GITHUB_REF` (default `main`).
//!
//! The token never leaves the `Authorization` header: not in `Debug`, logs or
//! errors. GitHub's answers are never echoed either; errors name the status.

use std::sync::OnceLock;
use std::time::Duration;

use http::HeaderValue;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod config;

pub use config::{
    API_URL_VAR, ConfigError, DEFAULT_API_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REF,
    DEFAULT_REQUEST_TIMEOUT, GitHubConfig, REF_VAR, REPO_VAR, TOKEN_VAR,
};

use super::{TriggerError, normalize_reason};

/// The workflow dispatched, under `.github/workflows/`.
pub const WORKFLOW_FILE: &str = "deploy.yml";
/// The REST API version asked for.
pub const API_VERSION: &str = "2022-11-28";
/// Run statuses that mean a run is not finished.
pub const ACTIVE_STATUSES: [&str; 5] = ["queued", "in_progress", "waiting", "requested", "pending"];
/// Runs looked at before dispatching.
const RUNS_CHECKED: usize = 10;
/// The largest runs answer read (ten runs are ~50 kB).
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// One run of the deploy workflow, as GitHub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkflowRun {
    /// GitHub's run id.
    pub id: u64,
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested` or `pending`.
    pub status: String,
    /// `success`, `failure`, `cancelled`, ... once completed; null before.
    #[schema(required = true)]
    pub conclusion: Option<String>,
    /// What started it: `workflow_dispatch`, `push`, `schedule`, ...
    pub event: String,
    /// The run's title as GitHub shows it.
    #[schema(required = true)]
    pub display_title: Option<String>,
    /// When the run was created (RFC 3339, UTC).
    #[schema(format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub created_at: String,
    /// When the run last changed (RFC 3339, UTC).
    #[schema(format = DateTime, examples("2025-01-01T06:04:00Z"))]
    pub updated_at: String,
    /// The run's page on GitHub.
    pub html_url: String,
}

impl WorkflowRun {
    /// True while the run is not finished (its status is one of [`ACTIVE_STATUSES`]).
    pub fn is_active(&self) -> bool {
        ACTIVE_STATUSES.contains(&self.status.as_str())
    }
}

/// A dispatch GitHub accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispatched {
    /// `owner/name`.
    pub repo: String,
    /// The ref the workflow runs on.
    pub git_ref: String,
    /// The reason sent as the workflow's `reason` input.
    pub reason: String,
    /// The HTTP status GitHub answered (204, or 200 from newer API versions).
    pub status: u16,
}

/// The runs answer, as much of it as is read.
#[derive(Deserialize)]
struct RunsAnswer {
    workflow_runs: Vec<RawRun>,
}

#[derive(Deserialize)]
struct RawRun {
    id: u64,
    status: Option<String>,
    conclusion: Option<String>,
    event: String,
    display_title: Option<String>,
    created_at: String,
    updated_at: String,
    html_url: String,
}

impl From<RawRun> for WorkflowRun {
    fn from(raw: RawRun) -> Self {
        WorkflowRun {
            id: raw.id,
            status: raw.status.unwrap_or_else(|| "unknown".to_owned()),
            conclusion: raw.conclusion,
            event: raw.event,
            display_title: raw.display_title,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            html_url: raw.html_url,
        }
    }
}

/// The GitHub Actions trigger. Its HTTP client is built on first use, so a
/// process that never triggers never sets up TLS.
#[derive(Debug)]
pub struct GitHubActions {
    config: GitHubConfig,
    http: OnceLock<reqwest::Client>,
}

/// Which call failed, for logs.
#[derive(Clone, Copy)]
enum Call {
    Runs,
    Dispatch,
}

impl Call {
    fn event(self) -> &'static str {
        match self {
            Call::Runs => "github_runs_failed",
            Call::Dispatch => "github_dispatch_failed",
        }
    }
}

impl GitHubActions {
    /// The trigger for `config`; no I/O.
    pub fn new(config: GitHubConfig) -> Self {
        GitHubActions {
            config,
            http: OnceLock::new(),
        }
    }

    /// Its settings.
    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    /// Dispatches the deploy workflow with input `reason`, unless one of its
    /// latest runs is still queued or running ([`TriggerError::AlreadyRunning`]).
    /// GitHub runs one deploy at a time anyway (the workflow's concurrency
    /// group); this check keeps requests from piling up behind it.
    pub async fn dispatch(&self, reason: &str) -> Result<Dispatched, TriggerError> {
        let reason = normalize_reason(reason);
        let runs = self.runs(RUNS_CHECKED, Call::Dispatch).await?;
        if let Some(active) = runs.iter().find(|run| run.is_active()) {
            tracing::info!(
                event = "github_dispatch_refused",
                repo = self.config.repo.as_str(),
                run_id = active.id,
                run_status = active.status.as_str()
            );
            return Err(TriggerError::AlreadyRunning);
        }
        let body = serde_json::json!({
            "ref": self.config.git_ref,
            "inputs": { "reason": reason },
        });
        let request = self
            .client(Call::Dispatch)?
            .post(self.config.workflow_url("dispatches"))
            .headers(self.headers())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(Call::Dispatch, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.status_error(Call::Dispatch, &response));
        }
        tracing::info!(
            event = "github_dispatched",
            repo = self.config.repo.as_str(),
            git_ref = self.config.git_ref.as_str(),
            workflow = WORKFLOW_FILE,
            status = status.as_u16()
        );
        Ok(Dispatched {
            repo: self.config.repo.clone(),
            git_ref: self.config.git_ref.clone(),
            reason,
            status: status.as_u16(),
        })
    }

    /// The deploy workflow's latest `limit` runs (1 to 100), newest first.
    pub async fn recent_runs(&self, limit: usize) -> Result<Vec<WorkflowRun>, TriggerError> {
        self.runs(limit, Call::Runs).await
    }

    async fn runs(&self, limit: usize, call: Call) -> Result<Vec<WorkflowRun>, TriggerError> {
        let limit = limit.clamp(1, 100);
        let url = self.config.workflow_url(&format!("runs?per_page={limit}"));
        let mut response = self
            .client(call)?
            .get(url)
            .headers(self.headers())
            .send()
            .await
            .map_err(|e| self.transport_error(call, &e))?;
        if !response.status().is_success() {
            return Err(self.status_error(call, &response));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(call, &e))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(self.malformed(call, "too large"));
            }
            body.extend_from_slice(&chunk);
        }
        let answer: RunsAnswer =
            serde_json::from_slice(&body).map_err(|_| self.malformed(call, "not the runs JSON"))?;
        Ok(answer
            .workflow_runs
            .into_iter()
            .take(limit)
            .map(WorkflowRun::from)
            .collect())
    }

    /// The shared client, built on first use (two racing first uses may
    /// both build one; one is kept).
    fn client(&self, call: Call) -> Result<&reqwest::Client, TriggerError> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(crate::scrape::client::user_agent())
            .connect_timeout(self.config.connect_timeout)
            .timeout(self.config.request_timeout)
            .pool_max_idle_per_host(2)
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| {
                tracing::error!(event = call.event(), cause = "client_build", error = %e);
                TriggerError::Upstream {
                    detail: "cannot set up the HTTP client for GitHub".to_owned(),
                }
            })?;
        Ok(self.http.get_or_init(|| client))
    }

    fn headers(&self) -> reqwest::header::HeaderMap {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static(API_VERSION),
        );
        // Checked by `GitHubConfig::new`.
        if let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {}", self.config.token)) {
            bearer.set_sensitive(true);
            headers.insert(AUTHORIZATION, bearer);
        }
        headers
    }

    fn transport_error(&self, call: Call, error: &reqwest::Error) -> TriggerError {
        // Without the URL: it names no secret, but logs need not repeat it.
        let cause = crate::scrape::client::failure_kind(error);
        tracing::warn!(
            event = call.event(),
            repo = self.config.repo.as_str(),
            cause
        );
        if error.is_timeout() {
            TriggerError::UpstreamTimeout
        } else {
            TriggerError::Upstream {
                detail: "GitHub could not be reached".to_owned(),
            }
        }
    }

    fn status_error(&self, call: Call, response: &reqwest::Response) -> TriggerError {
        let status = response.status();
        let rate_limited = matches!(status.as_u16(), 403 | 429)
            && response
                .headers()
                .get("x-ratelimit-remaining")
                .is_some_and(|v| v.as_bytes() == b"0");
        tracing::warn!(
            event = call.event(),
            repo = self.config.repo.as_str(),
            status = status.as_u16(),
            rate_limited
        );
        let detail = if rate_limited {
            format!(
                "GitHub answered {}: its rate limit was reached",
                show(status)
            )
        } else if matches!(status.as_u16(), 401 | 403 | 404) {
            format!(
                "GitHub answered {}: the token ({TOKEN_VAR}) or the repository ({REPO_VAR}) setting is probably wrong",
                show(status)
            )
        } else {
            format!("GitHub answered {}", show(status))
        };
        TriggerError::Upstream { detail }
    }

    fn malformed(&self, call: Call, why: &'static str) -> TriggerError {
        tracing::warn!(
            event = call.event(),
            repo = self.config.repo.as_str(),
            cause = why
        );
        TriggerError::Upstream {
            detail: "GitHub's answer was malformed".to_owned(),
        }
    }
}

/// `500 Internal Server Error` (or just the code, for unnamed ones).
fn show(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_token() {
        let config = GitHubConfig::new("o/n", "ghp_secret123").unwrap();
        let shown = format!("{config:?} {:?}", GitHubActions::new(config.clone()));
        assert!(!shown.contains("ghp_secret123"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn status_text() {
        assert_eq!(
            show(StatusCode::INTERNAL_SERVER_ERROR),
            "500 Internal Server Error"
        );
        assert_eq!(show(StatusCode::from_u16(599).unwrap()), "599");
    }
}
