//! `/health`: a real query against the database, for uptime checks, and in
//! orchestrator mode a ping of the model endpoint.

use serde::Serialize;
use utoipa::ToSchema;

use std::time::Duration;

use super::ServiceError;
use super::schema::CheckStatus;
use crate::ml::serving::ServingError;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    #[schema(value_type = CheckStatus)]
    pub status: &'static str,
    #[schema(value_type = CheckStatus)]
    pub database: &'static str,
    /// Books the database holds, counted now.
    pub books: u64,
    /// When the data was scraped (RFC 3339, UTC); null if the database does not say.
    #[schema(required = true, format = DateTime, examples("2025-01-01T06:00:00Z"))]
    pub scraped_at: Option<String>,
    /// The API's version.
    pub version: &'static str,
    /// In orchestrator mode, the model endpoint's `/ping`; absent otherwise.
    /// Its failure is reported here and does not fail the check: every route
    /// but predictions still answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_endpoint: Option<ModelEndpointHealth>,
}

/// How the model endpoint answered `/ping`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelEndpointHealth {
    /// `ok`, `unreachable`, `timeout`, `error` (it answered a non-2xx), or
    /// `misconfigured` (`BOOKS_MODEL_SERVING_URL` is wrong; the log says how).
    #[schema(examples("ok", "unreachable", "timeout", "error", "misconfigured"))]
    pub status: &'static str,
    /// Milliseconds to a healthy answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// The status it answered with, when not a 2xx.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
}

impl ModelEndpointHealth {
    /// The endpoint's setting is wrong, so it is never called.
    pub fn misconfigured() -> Self {
        ModelEndpointHealth {
            status: "misconfigured",
            latency_ms: None,
            http_status: None,
        }
    }

    /// The outcome of a ping.
    pub fn of(ping: Result<Duration, ServingError>) -> Self {
        let (status, latency_ms, http_status) = match ping {
            Ok(took) => ("ok", Some(took.as_secs_f64() * 1000.0), None),
            Err(ServingError::Timeout(_)) => ("timeout", None, None),
            Err(ServingError::Status(code)) => ("error", None, Some(code)),
            Err(ServingError::Unreachable | ServingError::Malformed(_)) => {
                ("unreachable", None, None)
            }
        };
        ModelEndpointHealth {
            status,
            latency_ms,
            http_status,
        }
    }
}

/// 200 when the database answers a count; 503 when it could not be opened or
/// queried.
pub fn health(
    store: Result<&Store, &StoreError>,
    model_endpoint: Option<ModelEndpointHealth>,
) -> Result<Health, ServiceError> {
    let store = store.map_err(|_| ServiceError::UNAVAILABLE)?;
    let books = store.count_books()?;
    Ok(Health {
        status: "ok",
        database: "ok",
        books,
        scraped_at: store.scraped_at().map(str::to_owned),
        version: crate::VERSION,
        model_endpoint,
    })
}
