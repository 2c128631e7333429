//! `ApiError`: every way a request can fail, mapped to a status and an RFC 9457
//! `application/problem+json` body in this one place.

use http::StatusCode;
use serde::Serialize;

use crate::store::StoreError;

/// A request that cannot be answered with data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// A query parameter (or the id path segment) is malformed or out of range.
    InvalidParameter { parameter: String, detail: String },
    /// The request as a whole is incomplete (e.g. a search with no criteria).
    BadRequest { detail: String },
    /// No book has this id.
    BookNotFound { id: String },
    /// No endpoint at this path.
    RouteNotFound { path: String },
    /// The endpoint exists but not for this method.
    MethodNotAllowed { method: String },
    /// The database cannot be opened or queried. The detail stays in the logs.
    Unavailable,
}

impl ApiError {
    pub fn invalid(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidParameter { .. } | ApiError::BadRequest { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BookNotFound { .. } | ApiError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, parameter) = match self {
            ApiError::InvalidParameter { parameter, detail } => {
                (detail.clone(), Some(parameter.clone()))
            }
            ApiError::BadRequest { detail } => (detail.clone(), None),
            ApiError::BookNotFound { id } => (format!("no book has id {id}"), None),
            ApiError::RouteNotFound { path } => (
                format!("no endpoint at {path}; see /docs for the list of endpoints"),
                None,
            ),
            ApiError::MethodNotAllowed { method } => (
                format!("{method} is not allowed here; the API is read-only: use GET"),
                None,
            ),
            ApiError::Unavailable => (
                "the catalogue database is unavailable; try again later".to_owned(),
                None,
            ),
        };
        Problem {
            problem_type: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail,
            parameter,
        }
    }
}

impl From<StoreError> for ApiError {
    /// A store failure on a request path: the cause goes to the error log,
    /// never to the client.
    fn from(err: StoreError) -> Self {
        let line =
            serde_json::json!({"level": "error", "event": "store_error", "error": err.to_string()});
        eprintln!("{line}");
        ApiError::Unavailable
    }
}

/// An RFC 9457 problem document. `type` is `about:blank`, so `title` is the
/// status's reason phrase; `parameter` names the offending query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}
