//! JSON log lines through `tracing`: [`init_logging`] installs a subscriber
//! whose every event is one line `{"ts":…,"level":…,<fields>}` on stdout, the
//! shape the platform's log drain (or `jq`) reads. [`access_log`] writes the
//! one line per request. Nothing here records a header other than the
//! request id, nor any body: an `Authorization` header, a password or a token
//! never reaches the log.

use std::borrow::Cow;
use std::fmt;
use std::time::{Instant, SystemTime};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::Body as _;
use std::io::Write as _;
use tracing::field::{Empty, Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::http::Route;

/// The most of a request's path, and of its query, that one log line keeps,
/// in characters: a 60 KB query is logged as its first 1,024 characters.
pub const MAX_LOGGED_CHARS: usize = 1024;

/// Installs the JSON line subscriber (INFO and above) for the process. A
/// second call, or a process that already has a subscriber, keeps the first.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(Level::INFO)
        .with_writer(std::io::stdout)
        .event_format(JsonLine)
        .try_init();
}

/// One JSON object per event: `ts` (RFC 3339, microseconds), `level`
/// (lower case), then the event's fields in the order given.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Line(Vec::with_capacity(256));
        let ts = humantime::format_rfc3339_micros(SystemTime::now());
        let _ = write!(line.0, "{{\"ts\":\"{ts}\",\"level\":");
        line.value(lower_case(event.metadata().level()));
        event.record(&mut line);
        line.0.extend_from_slice(b"}\n");
        // Only JSON (UTF-8) was written.
        writer.write_str(std::str::from_utf8(&line.0).map_err(|_| fmt::Error)?)
    }
}

/// A line being written: each field as `,"name":value`, straight into the
/// buffer (no intermediate JSON values).
struct Line(Vec<u8>);

impl Line {
    fn value<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // Serialising a string or a number into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    fn field<T: serde::Serialize + ?Sized>(&mut self, field: &Field, value: &T) {
        self.0.push(b',');
        self.value(field.name());
        self.0.push(b':');
        self.value(value);
    }
}

impl Visit for Line {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.field(field, value);
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, &value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, &value);
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, &value);
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, &value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.field(field, format!("{value:?}").as_str());
    }
}

/// The access log: one line per request, after the answer is made, with the
/// request id, method, path, query, route template, status, time and size.
pub async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // Cheap clones (shared buffers): the request itself moves on.
    let uri = request.uri().clone();
    let request_id = request
        .headers()
        .get(crate::http::app::REQUEST_ID_HEADER)
        .cloned();
    let response = next.run(request).await;
    let path = capped(uri.path());
    let query = capped(uri.query().unwrap_or(""));
    let request_id = request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let route = response.extensions().get::<Route>().map(|r| r.path());
    let route: &dyn tracing::Value = match &route {
        Some(route) => route,
        None => &Empty,
    };
    let status = response.status().as_u16();
    let bytes = response.body().size_hint().exact().unwrap_or(0);
    let duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                event = "request",
                request_id,
                method = method.as_str(),
                path = path.as_ref(),
                query = query.as_ref(),
                route,
                status,
                duration_us,
                bytes
            )
        };
    }
    if status >= 500 {
        line!(Level::ERROR);
    } else {
        line!(Level::INFO);
    }
    response
}

fn capped(text: &str) -> Cow<'_, str> {
    // A string of at most MAX_LOGGED_CHARS bytes has at most as many characters.
    if text.len() <= MAX_LOGGED_CHARS {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(crate::http::error::truncate(text, MAX_LOGGED_CHARS))
    }
}

fn lower_case(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}
