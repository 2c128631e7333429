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

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use http::HeaderValue;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use url::Url;
use utoipa::ToSchema;

use super::{TriggerError, normalize_reason};

/// The workflow dispatched, under `.github/workflows/`.
pub const WORKFLOW_FILE: &str = "deploy.yml";
/// `BOOKS_GITHUB_API_URL`'s default.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// `BOOKS_GITHUB_REF`'s default.
pub const DEFAULT_REF: &str = "main";
/// The REST API version asked for.
pub const API_VERSION: &str = "2022-11-28";
/// Time to connect (TCP and TLS) to the API.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one whole API call; under the API's 10 s request timeout, so a
/// slow GitHub is reported rather than cut off.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
/// Run statuses that mean a run is not finished.
pub const ACTIVE_STATUSES: [&str; 5] = ["queued", "in_progress", "waiting", "requested", "pending"];
/// Runs looked at before dispatching.
const RUNS_CHECKED: usize = 10;
/// The largest runs answer read (ten runs are ~50 kB).
const MAX_ANSWER_BYTES: usize = 4 << 20;

/// The environment variables read.
pub const REPO_VAR: &str = "BOOKS_GITHUB_REPO";
/// The token's variable.
pub const TOKEN_VAR: &str = "BOOKS_GITHUB_TOKEN";
/// The API base URL's variable.
pub const API_URL_VAR: &str = "BOOKS_GITHUB_API_URL";
/// The git ref's variable.
pub const REF_VAR: &str = "BOOKS_GITHUB_REF";

/// Why the GitHub settings are unusable. The caller logs it and treats the
/// trigger as not configured. Never holds the token.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// One of the pair is set, the other is not.
    #[error("{set} is set but {missing} is not; set both or neither")]
    Incomplete {
        set: &'static str,
        missing: &'static str,
    },
    /// The repository is not `owner/name`.
    #[error("{REPO_VAR} must be owner/name (letters, digits, '.', '_', '-'), not {0:?}")]
    Repo(String),
    /// The token cannot be sent in a header.
    #[error("{TOKEN_VAR} holds characters a token cannot have")]
    Token,
    /// The API URL is not an http or https URL.
    #[error("{API_URL_VAR} must be an http or https URL without query or fragment")]
    ApiUrl,
    /// The ref is empty or has whitespace or control characters.
    #[error("{REF_VAR} must be a branch or tag name, not {0:?}")]
    Ref(String),
}

/// Where and how to dispatch. Build with [`GitHubConfig::new`] (then the
/// `with_*` methods) or [`GitHubConfig::from_env`].
#[derive(Clone)]
pub struct GitHubConfig {
    /// `https://api.github.com`, without a trailing slash.
    api_url: String,
    repo: String,
    token: String,
    git_ref: String,
    connect_timeout: Duration,
    request_timeout: Duration,
}

impl fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_url", &self.api_url)
            .field("repo", &self.repo)
            .field("token", &"<redacted>")
            .field("git_ref", &self.git_ref)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl GitHubConfig {
    /// `repo` (`owner/name`) and `token`, with the default API URL, ref and
    /// timeouts. Surrounding whitespace is trimmed from both.
    pub fn new(repo: &str, token: &str) -> Result<Self, ConfigError> {
        let repo = repo.trim();
        if !valid_repo(repo) {
            return Err(ConfigError::Repo(repo.to_owned()));
        }
        let token = token.trim();
        if token.is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(ConfigError::Token);
        }
        Ok(GitHubConfig {
            api_url: DEFAULT_API_URL.to_owned(),
            repo: repo.to_owned(),
            token: token.to_owned(),
            git_ref: DEFAULT_REF.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Another API base URL (GitHub Enterprise's `https://host/api/v3`, a
    /// test stand-in); http or https, a trailing slash is fine.
    pub fn with_api_url(mut self, api_url: &str) -> Result<Self, ConfigError> {
        let url = Url::parse(api_url.trim()).map_err(|_| ConfigError::ApiUrl)?;
        if !matches!(url.scheme(), "http" | "https")
            || url.cannot_be_a_base()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(ConfigError::ApiUrl);
        }
        self.api_url = url.as_str().trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// The branch or tag the workflow runs on.
    pub fn with_ref(mut self, git_ref: &str) -> Result<Self, ConfigError> {
        let git_ref = git_ref.trim();
        if git_ref.is_empty() || git_ref.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ConfigError::Ref(git_ref.to_owned()));
        }
        self.git_ref = git_ref.to_owned();
        Ok(self)
    }

    /// Connect and whole-call timeouts (defaults 3 s and 8 s).
    pub fn with_timeouts(mut self, connect: Duration, request: Duration) -> Self {
        self.connect_timeout = connect;
        self.request_timeout = request;
        self
    }

    /// From the process environment; see [`GitHubConfig::from_lookup`].
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `lookup(variable)`. An empty (or all-whitespace) value counts
    /// as unset. Neither repo nor token: `Ok(None)`; one without the other,
    /// or a bad value: `Err`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let config = match (get(REPO_VAR), get(TOKEN_VAR)) {
            (None, None) => return Ok(None),
            (Some(_), None) => {
                return Err(ConfigError::Incomplete {
                    set: REPO_VAR,
                    missing: TOKEN_VAR,
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError::Incomplete {
                    set: TOKEN_VAR,
                    missing: REPO_VAR,
                });
            }
            (Some(repo), Some(token)) => GitHubConfig::new(&repo, &token)?,
        };
        let config = match get(API_URL_VAR) {
            Some(url) => config.with_api_url(&url)?,
            None => config,
        };
        let config = match get(REF_VAR) {
            Some(git_ref) => config.with_ref(&git_ref)?,
            None => config,
        };
        Ok(Some(config))
    }

    /// The API base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// `owner/name`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The ref dispatched.
    pub fn git_ref(&self) -> &str {
        &self.git_ref
    }

    fn workflow_url(&self, tail: &str) -> String {
        format!(
            "{}/repos/{}/actions/workflows/{WORKFLOW_FILE}/{tail}",
            self.api_url, self.repo
        )
    }
}

/// `owner/name`: one `/`, both parts non-empty, `[A-Za-z0-9._-]` only.
fn valid_repo(repo: &str) -> bool {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    match repo.split_once('/') {
        Some((owner, name)) => part_ok(owner) && part_ok(name),
        None => false,
    }
}

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
        let shown = format!("{}", TransportKind(error));
        tracing::warn!(
            event = call.event(),
            repo = self.config.repo.as_str(),
            cause = shown.as_str()
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

/// A transport failure's kind, for logs.
struct TransportKind<'a>(&'a reqwest::Error);

impl fmt::Display for TransportKind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let kind = if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else if e.is_redirect() {
            "redirect"
        } else if e.is_body() || e.is_decode() {
            "body"
        } else {
            "request"
        };
        f.write_str(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_names() {
        for ok in ["o/n", "books-toscrape/books", "A.b_c-1/x.y"] {
            assert!(valid_repo(ok), "{ok}");
        }
        for bad in ["", "o", "/n", "o/", "o/n/x", "o n/x", "o/n?", "ö/n", "o//n"] {
            assert!(!valid_repo(bad), "{bad}");
        }
    }

    #[test]
    fn debug_redacts_the_token() {
        let config = GitHubConfig::new("o/n", "ghp_secret123").unwrap();
        let shown = format!("{config:?} {:?}", GitHubActions::new(config.clone()));
        assert!(!shown.contains("ghp_secret123"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn api_urls() {
        let config = GitHubConfig::new("o/n", "t").unwrap();
        assert_eq!(config.api_url(), "https://api.github.com");
        let c = config.clone().with_api_url("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            c.workflow_url("runs?per_page=10"),
            "http://127.0.0.1:9/repos/o/n/actions/workflows/deploy.yml/runs?per_page=10"
        );
        let c = config.clone().with_api_url("https://h/api/v3/").unwrap();
        assert_eq!(c.api_url(), "https://h/api/v3");
        for bad in [
            "ftp://h",
            "h",
            "https://h/?q=1",
            "https://h/#f",
            "mailto:x@y",
        ] {
            assert_eq!(
                config.clone().with_api_url(bad).unwrap_err(),
                ConfigError::ApiUrl,
                "{bad}"
            );
        }
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
