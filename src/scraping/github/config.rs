//! The GitHub settings: `BOOKS_GITHUB_REPO`, `BOOKS_GITHUB_TOKEN`,
//! `BOOKS_GITHUB_API_URL` and `BOOKS_GITHUB_REF`, checked, with a `Debug`
//! that never shows the token.

use std::fmt;
use std::time::Duration;

use http::HeaderValue;
use thiserror::Error;
use url::Url;

use super::WORKFLOW_FILE;

/// `BOOKS_GITHUB_API_URL`'s default.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// `BOOKS_GITHUB_REF`'s default.
pub const DEFAULT_REF: &str = "main";
/// Time to connect (TCP and TLS) to the API.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one whole API call; under the API's 10 s request timeout, so a
/// slow GitHub is reported rather than cut off.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

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
    pub(super) api_url: String,
    pub(super) repo: String,
    pub(super) token: String,
    pub(super) git_ref: String,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
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

    pub(super) fn workflow_url(&self, tail: &str) -> String {
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
}
