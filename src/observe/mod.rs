//! What the service tells its operators, as primitives any layer may call:
//! one JSON log line per event on stdout, through `tracing` ([`log`]); the
//! time each phase of a request took, for `Server-Timing` ([`timing`]); and
//! the Prometheus metrics ([`metrics`]). The HTTP layer records each
//! request with them (`crate::http::observe`); `crate::report` reads the
//! log lines back (`books usage-report`).

pub mod log;
pub mod metrics;
pub mod timing;

pub use log::init_logging;
