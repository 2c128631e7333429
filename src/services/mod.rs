//! The service layer: one function per endpoint over the store, the model
//! and the model endpoint. Typed inputs in ([`page::Pagination`],
//! [`ml::TrainingSelection`], a checked [`ml::PredictionRequest`]), a
//! serialisable view or a [`ServiceError`] out. No HTTP here: `crate::http`
//! builds the inputs from requests and maps [`ServiceError`] to statuses,
//! as it does for [`crate::scraping`].

pub mod books;
pub mod categories;
pub mod error;
pub mod health;
pub mod ml;
pub mod ml_features;
pub mod page;
pub mod schema;
pub mod stats;

pub use error::ServiceError;
