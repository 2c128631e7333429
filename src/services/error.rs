//! `ServiceError`: every way a service can fail to answer, in the service's
//! own terms. `crate::http` gives each its status and problem document.

use crate::store::StoreError;

/// Why a service gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// No book has this id (as the caller wrote it).
    #[error("no book has id {id}")]
    BookNotFound { id: String },
    /// Well-formed input that names what does not exist or breaks a rule
    /// only the data can check (a prediction for an unknown book id).
    #[error("{detail}")]
    InvalidInput { detail: String },
    /// The database cannot be opened or queried. `cause` is for the error
    /// log, never for the caller; `None` when it never opened.
    #[error("the catalogue database is unavailable")]
    Unavailable { cause: Option<String> },
    /// The model file is missing or corrupt (the cause was logged at start).
    #[error("the model is unavailable")]
    ModelUnavailable,
    /// A service we called (the model endpoint) failed or answered nonsense.
    #[error("{detail}")]
    UpstreamFailed { detail: String },
    /// A service we called did not answer in time.
    #[error("{detail}")]
    UpstreamTimedOut { detail: String },
}

impl ServiceError {
    /// The database is unavailable, with no more to say (it never opened).
    pub const UNAVAILABLE: ServiceError = ServiceError::Unavailable { cause: None };
}

impl From<StoreError> for ServiceError {
    /// A store failure on a request path: the cause is kept for the error
    /// log, never shown to the caller.
    fn from(err: StoreError) -> Self {
        ServiceError::Unavailable {
            cause: Some(err.to_string()),
        }
    }
}
