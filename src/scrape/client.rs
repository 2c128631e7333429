//! The one HTTP client of a scrape: keep-alive `reqwest::Client` with
//! timeouts and a User-Agent, retrying transient failures (connection errors,
//! timeouts, 408, 429, 5xx, and a 200 whose body the caller cannot parse)
//! with exponential backoff and jitter, honouring `Retry-After`. Other 4xx
//! are final.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use thiserror::Error;
use url::Url;

/// Timeouts and retry policy. `Default` suits the live site; tests shorten it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Time to establish a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for one whole attempt, from connecting to the last body byte.
    pub request_timeout: Duration,
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The first backoff; doubled on every further retry.
    pub backoff_base: Duration,
    /// The longest backoff between two attempts.
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured; longer values are cut to this.
    pub retry_after_cap: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(60),
            user_agent: user_agent(),
        }
    }
}

/// Where the User-Agent points the site's operators to.
pub const PROJECT_URL: &str = "https://github.com/books-toscrape/books";

/// `books/<version> (+<PROJECT_URL>)`.
pub fn user_agent() -> String {
    format!("books/{} (+{PROJECT_URL})", crate::VERSION)
}

/// Why a URL could not be fetched, after any retries.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The client could not be built (TLS backend, bad settings).
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
    /// The server answered with a non-success status.
    #[error("HTTP {status} after {attempts} attempt(s)")]
    Status {
        /// The last status received.
        status: StatusCode,
        /// How many attempts were made.
        attempts: u32,
    },
    /// The attempt timed out (connect or whole request).
    #[error("timed out after {attempts} attempt(s)")]
    Timeout {
        /// How many attempts were made.
        attempts: u32,
    },
    /// Connection refused, reset, or another transport failure.
    #[error("{kind} error after {attempts} attempt(s): {source}")]
    Transport {
        /// `connect`, `body`, `request`.
        kind: &'static str,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered 200, but the body was not the page expected
    /// (empty, cut short, another site's), on every attempt.
    #[error("answered 200 but did not parse after {attempts} attempt(s): {reason}")]
    Unparseable {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last body did not parse.
        reason: String,
    },
}

/// A retrying HTTP GET client; cheap to share by reference across tasks.
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    retries: AtomicU64,
    unparseable_retries: AtomicU64,
}

/// The outcome of one attempt.
enum Attempt {
    Done(Bytes),
    Retry {
        error: FetchError,
        retry_after: Option<Duration>,
    },
    Fail(FetchError),
}

impl Client {
    /// Builds the client: keep-alive connection pool, timeouts, User-Agent.
    pub fn new(config: ClientConfig) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .map_err(FetchError::Build)?;
        Ok(Client {
            http,
            config,
            retries: AtomicU64::new(0),
            unparseable_retries: AtomicU64::new(0),
        })
    }

    /// The policy this client follows.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Retries made so far by every fetch of this client after a transport
    /// failure or a retryable status.
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Retries made so far by every fetch of this client after a 200 whose
    /// body did not parse.
    pub fn unparseable_retries(&self) -> u64 {
        self.unparseable_retries.load(Ordering::Relaxed)
    }

    /// GETs `url` and parses its body, as text (UTF-8; invalid bytes
    /// replaced), with `parse`, which answers `Ok(Ok(page))`, `Ok(Err(why))`
    /// when the body is not the page expected, or `Err(e)` when parsing
    /// itself broke. Transient failures are retried, and so is a body that
    /// is not the page, with the same backoff and limit: a truncated or
    /// foreign 200 is as transient as a 5xx. `Err(e)` is returned at once.
    pub async fn get_parsed<T, P, E, F, Fut>(&self, url: &Url, mut parse: F) -> Result<T, E>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<Result<T, P>, E>>,
        P: Display,
        E: From<FetchError>,
    {
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (error, retry_after, counter) = match self.attempt(url, attempts).await {
                Attempt::Done(body) => match parse(into_text(body)).await? {
                    Ok(page) => return Ok(page),
                    Err(why) => {
                        let reason = why.to_string();
                        let error = FetchError::Unparseable { attempts, reason };
                        (error, None, &self.unparseable_retries)
                    }
                },
                Attempt::Fail(error) => return Err(error.into()),
                Attempt::Retry { error, retry_after } => (error, retry_after, &self.retries),
            };
            if attempts > self.config.max_retries {
                return Err(error.into());
            }
            counter.fetch_add(1, Ordering::Relaxed);
            let wait = retry_after
                .map(|d| d.min(self.config.retry_after_cap))
                .unwrap_or_else(|| self.backoff(attempts));
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, url: &Url, attempts: u32) -> Attempt {
        let response = match self.http.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => return classify(e, attempts),
        };
        let status = response.status();
        if status.is_success() {
            return match response.bytes().await {
                Ok(body) => Attempt::Done(body),
                Err(e) => classify(e, attempts),
            };
        }
        let error = FetchError::Status { status, attempts };
        if is_retryable(status) {
            let retry_after = retry_after(response.headers(), SystemTime::now());
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Fail(error)
        }
    }

    /// `base * 2^(attempt-1)`, capped, with "equal jitter": a uniformly random
    /// wait between half and all of it, so retries of parallel fetches spread.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        let full = self
            .config
            .backoff_base
            .saturating_mul(1 << exp)
            .min(self.config.backoff_max);
        full.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// `body` as text: UTF-8, invalid bytes replaced.
fn into_text(body: Bytes) -> String {
    match String::from_utf8(body.into()) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// 408, 429 and every 5xx are worth another try.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// Reads `Retry-After` as delay-seconds or an HTTP date (relative to `now`).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What kind of failure `error` is, in one word for logs (`timeout`,
/// `connect`, `redirect`, `body` or `request`): an error's own text repeats
/// the URL, which may carry credentials.
pub fn failure_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else {
        "request"
    }
}

fn classify(error: reqwest::Error, attempts: u32) -> Attempt {
    let error = if error.is_timeout() {
        FetchError::Timeout { attempts }
    } else {
        let kind = if error.is_connect() {
            "connect"
        } else if error.is_body() || error.is_decode() {
            "body"
        } else if error.is_builder() || error.is_redirect() {
            return Attempt::Fail(FetchError::Transport {
                kind: "request",
                attempts,
                source: error,
            });
        } else {
            "request"
        };
        FetchError::Transport {
            kind,
            attempts,
            source: error,
        }
    };
    Attempt::Retry {
        error,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retryable_statuses() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 410] {
            assert!(!is_retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn backoff_doubles_within_jitter_and_cap() {
        let client = Client::new(ClientConfig {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(350),
            ..ClientConfig::default()
        })
        .unwrap();
        for _ in 0..50 {
            let b1 = client.backoff(1);
            assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
            let b2 = client.backoff(2);
            assert!(b2 >= Duration::from_millis(100) && b2 <= Duration::from_millis(200));
            let b9 = client.backoff(9);
            assert!(b9 >= Duration::from_millis(175) && b9 <= Duration::from_millis(350));
        }
    }
}
