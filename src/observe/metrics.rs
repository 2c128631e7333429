//! Prometheus metrics for `books serve`, through the `metrics` facade and
//! its Prometheus recorder.
//!
//! [`install`] sets the process's recorder once; until then (and always in
//! a Vercel function, which never installs it) every recording here is a
//! no-op, checked with one atomic load. What is recorded:
//!
//! - per request (by `crate::http::observe::observe_requests`): the count by route
//!   template, method and status, the latency by route, the response bytes
//!   by route, and the requests in flight;
//! - per scrape trigger request and in-process run ([`scrape_triggered`],
//!   [`scrape_run_finished`]);
//! - per prediction request ([`predicted`]).
//!
//! [`Metrics::render`] adds, at scrape time, what is read rather than
//! counted: the served data's version and the process's CPU, memory and
//! file descriptors.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use http::{Method, StatusCode};

use metrics::{Counter, Gauge, Histogram, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by `route`, `method` and `status`.
pub const REQUESTS: &str = "http_requests_total";
/// Time to answer, from the request's arrival to the response's head, by
/// `route`.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Requests being answered now.
pub const IN_FLIGHT: &str = "http_requests_in_flight";
/// Response body bytes sent (before compression), by `route`.
pub const RESPONSE_BYTES: &str = "http_response_body_bytes_total";
/// Scrape trigger requests, by `mode` and `outcome` (`started`,
/// `dispatched`, `already_running`, `upstream_failed`).
pub const SCRAPE_TRIGGERS: &str = "books_scrape_triggers_total";
/// In-process scrape runs that ended, by `outcome` (`succeeded`, `failed`).
pub const SCRAPE_RUNS: &str = "books_scrape_runs_total";
/// How long in-process scrape runs took, by `outcome`.
pub const SCRAPE_DURATION: &str = "books_scrape_run_duration_seconds";
/// Books (instances) predicted, by `model`.
pub const PREDICTIONS: &str = "books_predictions_total";
/// Model time per prediction request, by `model`.
pub const PREDICTION_DURATION: &str = "books_prediction_duration_seconds";

/// Latency buckets in seconds: 10 µs (a cached answer) to 10 s (the request
/// timeout), about three per decade.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Scrape run buckets in seconds: 1 s to an hour.
const SCRAPE_BUCKETS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// How often histogram samples are folded into their buckets when nobody
/// scrapes, so that memory stays bounded.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The series an answer is counted under: its API route's template, or
/// one of the few other things `books serve` answers. Never the raw path,
/// which would make a series per URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLabel {
    /// An API route: its path template, and its place in the route table.
    Api { path: &'static str, index: usize },
    /// A file of the static site.
    Site,
    /// `/metrics` itself.
    Metrics,
    /// A path nothing serves (404).
    Unmatched,
}

impl RouteLabel {
    /// The `route` label's value.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteLabel::Api { path, .. } => path,
            RouteLabel::Site => "site",
            RouteLabel::Metrics => "/metrics",
            RouteLabel::Unmatched => "unmatched",
        }
    }

    /// Its place among the cached series, when the API has `api_routes`
    /// routes: theirs first, by their place in the route table, then the
    /// others.
    pub fn slot(self, api_routes: usize) -> usize {
        let api = api_routes;
        match self {
            RouteLabel::Api { index, .. } => index,
            RouteLabel::Site => api,
            RouteLabel::Metrics => api + 1,
            RouteLabel::Unmatched => api + 2,
        }
    }
}

/// The labels besides the API's routes: the site, `/metrics`, unmatched.
const OTHER_ROUTE_SLOTS: usize = 3;

/// The methods with a series of their own; any other is `other`.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE", "other",
];

/// The statuses this API answers, each with a cached series per route and
/// method; any other status is counted through the registry.
const STATUSES: [&str; 18] = [
    "200", "202", "204", "304", "400", "401", "403", "404", "405", "409", "413", "415", "422",
    "429", "500", "502", "503", "504",
];

/// One route's series, registered on its first request. Recording through
/// these handles is a few atomic operations; through the `metrics` macros
/// each would build, hash and look up a labelled key per request.
struct RouteSeries {
    duration: Histogram,
    body_bytes: Counter,
    /// By method, then status, as [`METHODS`] and [`STATUSES`] list them.
    requests: [[OnceLock<Counter>; STATUSES.len()]; METHODS.len()],
}

impl RouteSeries {
    fn register(route: RouteLabel) -> Self {
        let label = route.as_str();
        RouteSeries {
            duration: metrics::histogram!(REQUEST_DURATION, "route" => label),
            body_bytes: metrics::counter!(RESPONSE_BYTES, "route" => label),
            requests: std::array::from_fn(|_| std::array::from_fn(|_| OnceLock::new())),
        }
    }
}

fn requests_counter(route: RouteLabel, method: &'static str, status: SharedString) -> Counter {
    metrics::counter!(
        REQUESTS,
        "route" => route.as_str(),
        "method" => method,
        "status" => status
    )
}

/// The installed recorder's handle.
pub struct Metrics {
    handle: PrometheusHandle,
    in_flight: Gauge,
    /// How many API routes there are (see [`RouteLabel::slot`]).
    api_routes: usize,
    /// By [`RouteLabel::slot`].
    routes: Box<[OnceLock<RouteSeries>]>,
}

static INSTALLED: OnceLock<Option<Metrics>> = OnceLock::new();

/// Installs the Prometheus recorder for the process (once; later calls
/// return the same), with cached series for `api_routes` API routes.
/// `None`, logged, if another recorder was installed first.
pub fn install(api_routes: usize) -> Option<&'static Metrics> {
    INSTALLED
        .get_or_init(|| match build(api_routes) {
            Ok(metrics) => Some(metrics),
            Err(err) => {
                tracing::error!(event = "metrics_not_installed", error = %err);
                None
            }
        })
        .as_ref()
}

/// The installed metrics, if [`install`] ran.
pub fn installed() -> Option<&'static Metrics> {
    INSTALLED.get().and_then(Option::as_ref)
}

fn build(api_routes: usize) -> Result<Metrics, metrics_exporter_prometheus::BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(SCRAPE_DURATION.into()), SCRAPE_BUCKETS)?
        .install_recorder()?;
    describe();
    let upkeep = handle.clone();
    // A plain thread: installing must not need a runtime, and it must run
    // whether or not anyone scrapes.
    let _ = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    Ok(Metrics {
        handle,
        in_flight: metrics::gauge!(IN_FLIGHT),
        api_routes,
        routes: (0..api_routes + OTHER_ROUTE_SLOTS)
            .map(|_| OnceLock::new())
            .collect(),
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        REQUESTS,
        "Requests answered, by route template, method and status."
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response, by route template."
    );
    describe_gauge!(IN_FLIGHT, "Requests being answered now.");
    describe_counter!(
        RESPONSE_BYTES,
        Unit::Bytes,
        "Response body bytes before compression, by route template."
    );
    describe_counter!(
        SCRAPE_TRIGGERS,
        "Scrape trigger requests, by mode (in-process, github-actions) and outcome."
    );
    describe_counter!(
        SCRAPE_RUNS,
        "In-process scrape runs started by the trigger that ended, by outcome."
    );
    describe_histogram!(
        SCRAPE_DURATION,
        Unit::Seconds,
        "How long in-process scrape runs took, by outcome."
    );
    describe_counter!(PREDICTIONS, "Books whose category was predicted, by model.");
    describe_histogram!(
        PREDICTION_DURATION,
        Unit::Seconds,
        "Model time per prediction request, by model."
    );
}

/// One request in flight, counted until dropped (a client that hangs up
/// drops it too).
pub struct InFlight(&'static Metrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.decrement(1.0);
    }
}

/// What one answered request adds to the metrics.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    pub route: RouteLabel,
    pub method: &'a Method,
    pub status: StatusCode,
    pub elapsed: Duration,
    pub body_bytes: u64,
}

impl Metrics {
    /// Counts a request in flight until the guard drops.
    pub fn in_flight(&'static self) -> InFlight {
        self.in_flight.increment(1.0);
        InFlight(self)
    }

    /// Records one answered request.
    pub fn answered(&self, answer: Answered<'_>) {
        let route = answer.route;
        let uncached;
        let series = match self.routes.get(route.slot(self.api_routes)) {
            Some(slot) => slot.get_or_init(|| RouteSeries::register(route)),
            // A route past those installed for (never, from `books serve`).
            None => {
                uncached = RouteSeries::register(route);
                &uncached
            }
        };
        let method = method_slot(answer.method);
        let status = answer.status.as_str();
        match STATUSES.iter().position(|s| *s == status) {
            Some(slot) => series.requests[method][slot]
                .get_or_init(|| {
                    let status = SharedString::const_str(STATUSES[slot]);
                    requests_counter(route, METHODS[method], status)
                })
                .increment(1),
            None => {
                let status = SharedString::from(status.to_owned());
                requests_counter(route, METHODS[method], status).increment(1);
            }
        }
        series.duration.record(answer.elapsed);
        if answer.body_bytes > 0 {
            series.body_bytes.increment(answer.body_bytes);
        }
    }

    /// The exposition text: every recorded metric, then the served data's
    /// version (when a database is open) and the process's own figures.
    pub fn render(&self, data: Option<&DataVersion>) -> String {
        let mut out = self.handle.render();
        if let Some(data) = data {
            data.render(&mut out);
        }
        render_process(&mut out);
        out
    }
}

/// Records a scrape trigger request: `mode` `in-process` or
/// `github-actions`, and what came of it.
pub fn scrape_triggered(mode: &'static str, outcome: &'static str) {
    metrics::counter!(SCRAPE_TRIGGERS, "mode" => mode, "outcome" => outcome).increment(1);
}

/// Records how an in-process scrape run ended, and how long it took.
pub fn scrape_run_finished(outcome: &'static str, elapsed: Duration) {
    metrics::counter!(SCRAPE_RUNS, "outcome" => outcome).increment(1);
    metrics::histogram!(SCRAPE_DURATION, "outcome" => outcome).record(elapsed);
}

/// Records one prediction request: `books` predicted by `model` in `elapsed`.
pub fn predicted(model: &str, books: usize, elapsed: Duration) {
    if installed().is_none() {
        return;
    }
    let model = SharedString::from(model.to_owned());
    metrics::counter!(PREDICTIONS, "model" => model.clone()).increment(books as u64);
    metrics::histogram!(PREDICTION_DURATION, "model" => model).record(elapsed);
}

/// `method`'s place in [`METHODS`].
fn method_slot(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::OPTIONS => 3,
        Method::PUT => 4,
        Method::PATCH => 5,
        Method::DELETE => 6,
        // Any other token a client invents would be a new series.
        _ => 7,
    }
}

/// The served data, as the `books_data_info` metric tells it.
#[derive(Debug, Clone)]
pub struct DataVersion {
    pub content_hash: String,
    pub scraped_at: Option<String>,
    pub books: u64,
}

impl DataVersion {
    fn render(&self, out: &mut String) {
        let scraped_at = self.scraped_at.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "# HELP books_data_info The served data: its content hash and when it was scraped.\n\
             # TYPE books_data_info gauge\n\
             books_data_info{{content_hash=\"{}\",scraped_at=\"{}\"}} 1\n\
             # HELP books_data_books Books in the served data.\n\
             # TYPE books_data_books gauge\n\
             books_data_books {}",
            escape_label(&self.content_hash),
            escape_label(scraped_at),
            self.books
        );
    }
}

/// The process's figures under the names Prometheus's own client libraries
/// use, read now. A figure the platform cannot give is left out.
fn render_process(out: &mut String) {
    let process = metrics_process::collector::collect();
    let mut metric = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(value) = value {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    };
    let as_f64 = |v: Option<u64>| v.map(|v| v as f64);
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        process.cpu_seconds_total,
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        as_f64(process.resident_memory_bytes),
    );
    metric(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        as_f64(process.virtual_memory_bytes),
    );
    metric(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        as_f64(process.open_fds),
    );
    metric(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        as_f64(process.max_fds),
    );
    metric(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        as_f64(process.threads),
    );
    metric(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        as_f64(process.start_time_seconds),
    );
}

/// A label value as the text format needs it: `\`, `"` and newlines escaped.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn methods_have_bounded_labels() {
        assert_eq!(METHODS[method_slot(&Method::GET)], "GET");
        assert_eq!(METHODS[method_slot(&Method::DELETE)], "DELETE");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(METHODS[method_slot(&invented)], "other");
    }

    #[test]
    fn the_data_version_renders_as_an_info_metric() {
        let mut out = String::new();
        DataVersion {
            content_hash: "abc".into(),
            scraped_at: Some("2026-12-01T06:00:00Z".into()),
            books: 1000,
        }
        .render(&mut out);
        assert!(
            out.contains(
                "books_data_info{content_hash=\"abc\",scraped_at=\"2026-12-01T06:00:00Z\"} 1\n"
            ),
            "{out}"
        );
        assert!(out.ends_with("books_data_books 1000\n"), "{out}");
    }
}
