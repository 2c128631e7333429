//! JSON log lines through `tracing`: [`init_logging`] installs a subscriber
//! whose every event is one line `{"ts":…,"level":…,<fields>}` on stdout, the
//! shape the platform's log drain (or `jq`) reads. The one line per request
//! is written by `crate::http::observe`, which records no header other than the
//! request id, nor any body: an `Authorization` header, a password or a
//! token never reaches the log.

use std::fmt;
use std::io::Write as _;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

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

fn lower_case(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}
