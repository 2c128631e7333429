//! What the service tells its operators: one JSON log line per event on
//! stdout, through `tracing`. [`log`] holds the line format and the access
//! log middleware.

pub mod log;

pub use log::{access_log, init_logging};
