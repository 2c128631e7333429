//! HTTP on axum: the route table ([`route`]), the app and its layers
//! ([`app`]), one handler per route ([`endpoints`]), the caller behind a
//! bearer token ([`bearer`]), typed query parameters ([`params`]) and JSON
//! bodies ([`body`]), problem+json errors ([`error`]),
//! validators and conditional requests ([`conditional`]), the OpenAPI
//! document ([`openapi`]) and the static site ([`site`]).

pub mod app;
pub mod bearer;
pub mod body;
pub mod conditional;
pub mod endpoints;
pub mod error;
pub mod openapi;
pub mod params;
pub mod route;
pub mod site;

pub use endpoints::AppState;
pub use error::ApiError;
pub use route::Route;
