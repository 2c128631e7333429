//! HTTP without a framework: the route table, typed parameters, problem+json
//! errors, and one total dispatch function from request to response.

pub mod route;

pub use route::Route;
