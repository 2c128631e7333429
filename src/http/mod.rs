//! HTTP without a framework: the route table, typed parameters, problem+json
//! errors, and one total dispatch function from request to response.

pub mod route;

pub use route::Route;
pub mod dispatch;
pub mod error;
pub mod openapi;
pub mod params;
pub mod site;

pub use dispatch::{ApiRequest, StoreHandle, handle};
pub use error::ApiError;
