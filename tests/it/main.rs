//! Every integration test in one binary (one link instead of thirteen), a
//! module per area. Shared helpers: [`app`] (the local server on loopback
//! over the committed data, `TestApp`, the one table of bad inputs) and
//! [`common`] (a scripted HTTP server and a generated site for the crawl
//! and scraping tests).

mod app;
#[cfg(unix)]
mod browser;
mod common;
mod served;

mod api;
mod auth;
mod crawl;
#[cfg(unix)]
mod dashboard_browser;
mod diff;
#[cfg(unix)]
mod docs_browser;
mod drift;
mod fault_crawl;
mod functions;
mod lambda;
#[cfg(unix)]
mod lambda_emulator;
mod layers;
mod metrics;
mod mirror_e2e;
mod ml;
mod ml_features;
#[cfg(unix)]
mod mlflow;
mod model_serving;
mod openapi;
mod properties;
mod response_cache;
mod scrape_parse;
mod scrape_trigger;
mod scraping;
mod server;
mod similar;
mod sparse_fields;
mod store;
mod synth;
mod title_search;
mod usage_report;
#[cfg(unix)]
mod usage_report_browser;
mod validate_cli;
#[cfg(unix)]
mod vercel_package;
