//! What the service tells its operators: one JSON log line per event on
//! stdout, through `tracing`. [`log`] holds the line format and the access
//! log middleware; [`report`] reads those lines back (`books usage-report`)
//! into an HTML report and a text summary.

pub mod log;
pub mod report;

pub use log::{access_log, init_logging};
