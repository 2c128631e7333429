//! What the service tells its operators: one JSON log line per event on
//! stdout, through `tracing` ([`log`]); per request, a `Server-Timing`
//! header, the access log line and the Prometheus metrics ([`request`],
//! [`timing`], [`metrics`]); [`report`] reads the log lines back
//! (`books usage-report`) into an HTML report and a text summary.

pub mod log;
pub mod metrics;
pub mod report;
pub mod request;
pub mod timing;

pub use log::init_logging;
pub use request::observe_requests;
