//! Orchestrator mode: the category model served by MLflow (`mlflow models
//! serve` over `scripts/mlflow/books_model.py`), called by `/ml/predictions`
//! instead of loading the model file. Set by `BOOKS_MODEL_SERVING_URL`.
//!
//! The model endpoint is another service, so every call is bounded: a connect
//! timeout, a total timeout per attempt, at most `max_connections` calls at
//! once (the rest wait, within the timeout), and one retry, only when the
//! connection could not be made (nothing was sent, so nothing can be done
//! twice). Its answers are checked before use and its error bodies never
//! passed on: they can hold stack traces with server paths.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;
use thiserror::Error;
use tokio::sync::Semaphore;

use super::card::ModelCard;

/// The model endpoint's base URL (`{url}/invocations`, `{url}/ping`).
pub const SERVING_URL_ENV: &str = "BOOKS_MODEL_SERVING_URL";
/// Milliseconds to open a connection (default 1,000).
pub const CONNECT_TIMEOUT_ENV: &str = "BOOKS_MODEL_SERVING_CONNECT_TIMEOUT_MS";
/// Milliseconds for one call, waiting for a connection included (default
/// 5,000: under the API's own 10 s limit, so a slow model is our 504, not a
/// dropped request).
pub const TIMEOUT_ENV: &str = "BOOKS_MODEL_SERVING_TIMEOUT_MS";
/// Calls in flight at once (default 8).
pub const MAX_CONNECTIONS_ENV: &str = "BOOKS_MODEL_SERVING_MAX_CONNECTIONS";

/// `model.served_by` when the model endpoint answered.
pub const SERVED_BY_MLFLOW: &str = "mlflow";
/// The longest answer read from the model endpoint. 100 predictions of 30
/// classes are about 150 KB.
const MAX_ANSWER_BYTES: usize = 4 << 20;
/// The health check's own bound: `/health` must stay quick.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the served model's description is reused.
const DESCRIPTION_MAX_AGE: Duration = Duration::from_secs(60);

/// Where the model endpoint is and how it is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingConfig {
    /// Without a trailing slash.
    base: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_connections: usize,
}

impl ServingConfig {
    /// The settings for `url`, with the default timeouts and pool.
    pub fn new(url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|e| format!("{SERVING_URL_ENV} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(format!(
                "{SERVING_URL_ENV} must be an http(s) URL with a host"
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(format!("{SERVING_URL_ENV} must have no query or fragment"));
        }
        Ok(ServingConfig {
            base: parsed.as_str().trim_end_matches('/').to_owned(),
            connect_timeout: Duration::from_millis(1_000),
            timeout: Duration::from_millis(5_000),
            max_connections: 8,
        })
    }

    /// The settings from the environment: `Ok(None)` when
    /// `BOOKS_MODEL_SERVING_URL` is unset or empty.
    pub fn from_env() -> Result<Option<Self>, String> {
        let Some(url) = std::env::var(SERVING_URL_ENV)
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return Ok(None);
        };
        let mut config = ServingConfig::new(&url)?;
        let number = |name: &str, max: u64| -> Result<Option<u64>, String> {
            match std::env::var(name).ok().filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(format!("{name} must be a whole number from 1 to {max}")),
                },
            }
        };
        if let Some(ms) = number(CONNECT_TIMEOUT_ENV, 60_000)? {
            config.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = number(TIMEOUT_ENV, 300_000)? {
            config.timeout = Duration::from_millis(ms);
        }
        if let Some(n) = number(MAX_CONNECTIONS_ENV, 1_024)? {
            config.max_connections = n as usize;
        }
        Ok(Some(config))
    }

    /// The base URL without any credentials it holds, for logs.
    pub fn shown(&self) -> String {
        match url::Url::parse(&self.base) {
            Ok(mut url) => {
                let _ = url.set_password(None);
                let _ = url.set_username("");
                url.as_str().trim_end_matches('/').to_owned()
            }
            Err(_) => String::new(),
        }
    }
}

/// Why a call to the model endpoint gave no usable answer.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ServingError {
    #[error("the model endpoint could not be reached")]
    Unreachable,
    #[error("the model endpoint did not answer within {0} ms")]
    Timeout(u128),
    #[error("the model endpoint answered {0}")]
    Status(u16),
    #[error("the model endpoint's answer is malformed: {0}")]
    Malformed(&'static str),
}

/// The served model's answer for a batch: its version and each row's class
/// probabilities (by class name).
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBatch {
    pub version: String,
    pub rows: Vec<BTreeMap<String, f64>>,
}

/// The model as the endpoint describes itself (`params.output = "model"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServedModel {
    pub name: String,
    pub version: String,
    pub format: String,
    pub classes: Vec<String>,
    pub vocabulary_terms: usize,
    pub card: ModelCard,
}

/// The model endpoint's client. Its HTTP client is made once per process.
#[derive(Debug)]
pub struct ModelServing {
    config: ServingConfig,
    http: reqwest::Client,
    permits: Semaphore,
    described: Mutex<Option<(Instant, ServedModel)>>,
}

#[derive(Deserialize)]
struct Answer<T> {
    predictions: Vec<T>,
}

#[derive(Deserialize)]
struct Row {
    probabilities: BTreeMap<String, f64>,
    model_version: String,
}

#[derive(Deserialize)]
struct Described {
    model: ServedModel,
}

impl ModelServing {
    pub fn new(config: ServingConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .user_agent(crate::scrape::client::user_agent())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .pool_max_idle_per_host(config.max_connections)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(ModelServing {
            permits: Semaphore::new(config.max_connections),
            described: Mutex::new(None),
            config,
            http,
        })
    }

    pub fn config(&self) -> &ServingConfig {
        &self.config
    }

    /// The class probabilities of each `(title, description)`, in order.
    pub async fn predict(&self, books: &[(&str, &str)]) -> Result<ServedBatch, ServingError> {
        let body = json!({
            "dataframe_split": { "columns": ["title", "description"], "data": books },
        });
        let answer: Answer<Row> = self.invoke(&body).await?;
        if answer.predictions.len() != books.len() {
            return Err(ServingError::Malformed("not one prediction per book"));
        }
        let mut version = None;
        let mut rows = Vec::with_capacity(books.len());
        for row in answer.predictions {
            check_probabilities(&row.probabilities)?;
            match &version {
                None => version = Some(row.model_version),
                Some(v) if *v == row.model_version => {}
                Some(_) => return Err(ServingError::Malformed("two model versions in one answer")),
            }
            rows.push(row.probabilities);
        }
        Ok(ServedBatch {
            version: version.unwrap_or_default(),
            rows,
        })
    }

    /// The served model's identity and card.
    pub async fn describe(&self) -> Result<ServedModel, ServingError> {
        let body = json!({
            "dataframe_split": { "columns": ["title", "description"], "data": [["", ""]] },
            "params": { "output": "model" },
        });
        let answer: Answer<Described> = self.invoke(&body).await?;
        answer
            .predictions
            .into_iter()
            .next()
            .map(|d| d.model)
            .ok_or(ServingError::Malformed("no model description"))
    }

    /// [`describe`](Self::describe), reused for a minute.
    pub async fn describe_cached(&self) -> Result<ServedModel, ServingError> {
        let fresh = |(at, _): &&(Instant, ServedModel)| at.elapsed() < DESCRIPTION_MAX_AGE;
        if let Some((_, model)) = self.described_now().as_ref().filter(fresh) {
            return Ok(model.clone());
        }
        let model = self.describe().await?;
        *self.described_now() = Some((Instant::now(), model.clone()));
        Ok(model)
    }

    fn described_now(&self) -> std::sync::MutexGuard<'_, Option<(Instant, ServedModel)>> {
        // A panic while holding it cannot leave a half-written description.
        self.described.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `GET {url}/ping`: how long a healthy answer took.
    pub async fn ping(&self) -> Result<Duration, ServingError> {
        let started = Instant::now();
        let limit = PING_TIMEOUT.min(self.config.timeout);
        let call = self
            .http
            .get(format!("{}/ping", self.config.base))
            .timeout(limit)
            .send();
        let response = tokio::time::timeout(limit, call)
            .await
            .map_err(|_| ServingError::Timeout(limit.as_millis()))?
            .map_err(|e| self.transport_error(&e, limit))?;
        if !response.status().is_success() {
            return Err(ServingError::Status(response.status().as_u16()));
        }
        Ok(started.elapsed())
    }

    /// POSTs `body` to `/invocations` and parses the answer, within the
    /// timeout (waiting for a free connection included).
    async fn invoke<T: for<'de> Deserialize<'de>>(
        &self,
        body: &serde_json::Value,
    ) -> Result<Answer<T>, ServingError> {
        let limit = self.config.timeout;
        let bytes = tokio::time::timeout(limit, self.invoke_bytes(body))
            .await
            .map_err(|_| ServingError::Timeout(limit.as_millis()))??;
        serde_json::from_slice(&bytes).map_err(|_| ServingError::Malformed("not the JSON expected"))
    }

    async fn invoke_bytes(&self, body: &serde_json::Value) -> Result<Vec<u8>, ServingError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ServingError::Unreachable)?;
        let body = body.to_string();
        let send = || {
            self.http
                .post(format!("{}/invocations", self.config.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "application/json")
                .body(body.clone())
                .send()
        };
        let response = match send().await {
            // Nothing reached the endpoint: one more try can do no harm.
            Err(e) if e.is_connect() => {
                tracing::warn!(event = "model_serving_retry", cause = "connect");
                send().await
            }
            other => other,
        };
        let mut response = response.map_err(|e| self.transport_error(&e, self.config.timeout))?;
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(event = "model_serving_failed", status = status.as_u16());
            return Err(ServingError::Status(status.as_u16()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e, self.config.timeout))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ServingError::Malformed("too large"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn transport_error(&self, error: &reqwest::Error, limit: Duration) -> ServingError {
        let cause = crate::scrape::client::failure_kind(error);
        tracing::warn!(event = "model_serving_failed", cause);
        match cause {
            "timeout" => ServingError::Timeout(limit.as_millis()),
            "body" => ServingError::Malformed("cut short"),
            _ => ServingError::Unreachable,
        }
    }
}

/// Probabilities must be finite, in [0, 1], for at least two classes, and
/// sum to 1.
fn check_probabilities(probabilities: &BTreeMap<String, f64>) -> Result<(), ServingError> {
    if probabilities.len() < 2 {
        return Err(ServingError::Malformed("fewer than two classes"));
    }
    if !probabilities.values().all(|p| (0.0..=1.0).contains(p)) {
        return Err(ServingError::Malformed("a probability outside [0, 1]"));
    }
    let sum: f64 = probabilities.values().sum();
    if (sum - 1.0).abs() > 1e-6 {
        return Err(ServingError::Malformed(
            "probabilities that do not sum to 1",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_must_be_http_with_a_host_and_nothing_after_the_path() {
        let config = ServingConfig::new("http://127.0.0.1:5000/").unwrap();
        assert_eq!(config.base, "http://127.0.0.1:5000");
        assert_eq!(
            ServingConfig::new("https://user:pw@models.example/v1")
                .unwrap()
                .shown(),
            "https://models.example/v1"
        );
        for bad in [
            "",
            "127.0.0.1:5000",
            "ftp://h/",
            "http://h/?a=1",
            "http://h/#x",
            "file:///x",
        ] {
            assert!(ServingConfig::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn probabilities_are_checked() {
        let of = |pairs: &[(&str, f64)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            check_probabilities(&of(&[("a", 0.25), ("b", 0.75)])),
            Ok(())
        );
        assert!(check_probabilities(&of(&[("a", 1.0)])).is_err());
        assert!(check_probabilities(&of(&[("a", 0.5), ("b", 0.6)])).is_err());
        assert!(check_probabilities(&of(&[("a", -0.5), ("b", 1.5)])).is_err());
        assert!(check_probabilities(&of(&[("a", f64::NAN), ("b", 1.0)])).is_err());
    }
}
