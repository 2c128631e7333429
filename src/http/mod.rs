//! HTTP on axum: the route table ([`route`]), the app and its layers
//! ([`app`]), one handler per route ([`endpoints`]), the caller behind a
//! bearer token ([`bearer`]), typed query parameters ([`params`]) and JSON
//! bodies ([`body`]), problem+json errors ([`error`]),
//! validators and conditional requests ([`conditional`]), the OpenAPI
//! document ([`openapi`]), the static site ([`site`]), and per request its
//! `Server-Timing`, access log line and metrics ([`observe`]).

pub mod app;
pub mod bearer;
pub mod body;
pub mod conditional;
pub mod endpoints;
pub mod error;
pub mod observe;
pub mod openapi;
pub mod params;
pub mod route;
pub mod site;

pub use endpoints::AppState;
pub use error::ApiError;
pub use route::Route;
