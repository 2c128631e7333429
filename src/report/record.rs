//! What one record is: our request line (bare, or inside a Vercel
//! envelope's `message`), or why it is skipped. Parsing borrows from the
//! record wherever the JSON has no escapes, and tolerates fields it does not
//! know; a field of the wrong type makes the line [`Skip::Malformed`], not an
//! error.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Why a record was not counted as a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Over the record size limit.
    TooLong,
    /// Not valid UTF-8.
    NotUtf8,
    /// Not JSON.
    NotJson,
    /// JSON, but neither our line nor an envelope whose message is one.
    NotOurs,
    /// Our line, of another event (`scrape_finished`, ...).
    OtherEvent,
    /// Our request line with a field missing or of the wrong type.
    Malformed,
}

impl Skip {
    /// Every reason, in the order reports list them.
    pub const ALL: [Skip; 6] = [
        Skip::TooLong,
        Skip::NotUtf8,
        Skip::NotJson,
        Skip::NotOurs,
        Skip::OtherEvent,
        Skip::Malformed,
    ];

    /// The short label reports use.
    pub const fn label(self) -> &'static str {
        match self {
            Skip::TooLong => "too long",
            Skip::NotUtf8 => "not UTF-8",
            Skip::NotJson => "not JSON",
            Skip::NotOurs => "not ours",
            Skip::OtherEvent => "other events",
            Skip::Malformed => "malformed",
        }
    }

    /// What the label means.
    pub const fn meaning(self) -> &'static str {
        match self {
            Skip::TooLong => "longer than 64 KiB; skipped unread",
            Skip::NotUtf8 => "bytes that are not UTF-8 text",
            Skip::NotJson => "text that is not JSON (plain text, cut-off or broken JSON)",
            Skip::NotOurs => "JSON that is neither our log line nor a Vercel entry holding one",
            Skip::OtherEvent => "our log lines of other events (scrapes, start-up)",
            Skip::Malformed => "request lines with a field missing or of the wrong type",
        }
    }
}

/// One request, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Microseconds since the Unix epoch.
    pub at_us: i64,
    pub request_id: Cow<'a, str>,
    pub method: Cow<'a, str>,
    pub path: Cow<'a, str>,
    pub query: Cow<'a, str>,
    /// The route template; `None` for unmatched paths and the static site.
    pub route: Option<Cow<'a, str>>,
    pub status: u16,
    pub duration_us: u64,
    pub bytes: u64,
}

impl Request<'_> {
    /// The same request, owning its text.
    pub fn into_owned(self) -> Request<'static> {
        Request {
            at_us: self.at_us,
            request_id: Cow::Owned(self.request_id.into_owned()),
            method: Cow::Owned(self.method.into_owned()),
            path: Cow::Owned(self.path.into_owned()),
            query: Cow::Owned(self.query.into_owned()),
            route: self.route.map(|r| Cow::Owned(r.into_owned())),
            status: self.status,
            duration_us: self.duration_us,
            bytes: self.bytes,
        }
    }
}

/// Reads one record and hands `on` its request, or why it has none. A
/// record that is a JSON array (a saved drain delivery on one line) gives
/// each of its elements in turn.
pub fn read(bytes: &[u8], on: &mut impl FnMut(Result<&Request<'_>, Skip>)) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return on(Err(Skip::NotUtf8));
    };
    if text.trim_start().starts_with('[')
        && let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(text)
    {
        for element in elements {
            read_object(element.get(), on);
        }
        return;
    }
    read_object(text, on);
}

fn read_object(text: &str, on: &mut impl FnMut(Result<&Request<'_>, Skip>)) {
    let line: Line<'_> = match serde_json::from_str(text) {
        Ok(line) => line,
        // Valid JSON, but not an object (or an object with a key twice).
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return on(Err(Skip::NotOurs));
        }
        Err(_) => return on(Err(Skip::NotJson)),
    };
    if line.is_ours() {
        return on(line.request().as_ref().map_err(|s| *s));
    }
    // A Vercel entry: our line is its message, from the first `{` (a
    // `[function] ` prefix and a trailing newline are left out).
    let Some(Field::Str(message)) = &line.message else {
        return on(Err(Skip::NotOurs));
    };
    let inner = match message.find('{') {
        Some(at) => serde_json::from_str::<Line<'_>>(&message[at..]).ok(),
        None => None,
    };
    match inner {
        Some(inner) if inner.is_ours() => on(inner.request().as_ref().map_err(|s| *s)),
        _ => on(Err(Skip::NotOurs)),
    }
}

/// The fields we read; any other field is ignored.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    ts: Option<Field<'a>>,
    #[serde(borrow)]
    level: Option<Field<'a>>,
    #[serde(borrow)]
    event: Option<Field<'a>>,
    #[serde(borrow)]
    request_id: Option<Field<'a>>,
    #[serde(borrow)]
    method: Option<Field<'a>>,
    #[serde(borrow)]
    path: Option<Field<'a>>,
    #[serde(borrow)]
    query: Option<Field<'a>>,
    #[serde(borrow)]
    route: Option<Field<'a>>,
    #[serde(borrow)]
    status: Option<Field<'a>>,
    #[serde(borrow)]
    duration_us: Option<Field<'a>>,
    #[serde(borrow)]
    bytes: Option<Field<'a>>,
    /// A Vercel entry's message.
    #[serde(borrow)]
    message: Option<Field<'a>>,
}

impl<'a> Line<'a> {
    /// Our lines start `{"ts":"…","level":"…"` and name their event.
    fn is_ours(&self) -> bool {
        matches!(
            (&self.ts, &self.level, &self.event),
            (
                Some(Field::Str(_)),
                Some(Field::Str(_)),
                Some(Field::Str(_))
            )
        )
    }

    fn request(&self) -> Result<Request<'_>, Skip> {
        match &self.event {
            Some(Field::Str(event)) if event == "request" => {}
            _ => return Err(Skip::OtherEvent),
        }
        let at_us = match &self.ts {
            Some(Field::Str(ts)) => parse_time(ts).ok_or(Skip::Malformed)?,
            _ => return Err(Skip::Malformed),
        };
        let status = match self.status {
            Some(Field::UInt(s @ 100..=599)) => s as u16,
            _ => return Err(Skip::Malformed),
        };
        let Some(Field::UInt(duration_us)) = self.duration_us else {
            return Err(Skip::Malformed);
        };
        Ok(Request {
            at_us,
            request_id: text(&self.request_id, true)?.unwrap_or_default(),
            method: text(&self.method, false)?.unwrap_or_default(),
            path: text(&self.path, false)?.unwrap_or_default(),
            query: text(&self.query, true)?.unwrap_or_default(),
            route: text(&self.route, true)?,
            status,
            duration_us,
            bytes: match self.bytes {
                None => 0,
                Some(Field::UInt(n)) => n,
                Some(_) => return Err(Skip::Malformed),
            },
        })
    }
}

/// A string field, borrowed; `optional` says whether it may be missing.
fn text<'b>(field: &'b Option<Field<'_>>, optional: bool) -> Result<Option<Cow<'b, str>>, Skip> {
    match field {
        Some(Field::Str(s)) => Ok(Some(Cow::Borrowed(s.as_ref()))),
        None if optional => Ok(None),
        _ => Err(Skip::Malformed),
    }
}

/// An RFC 3339 time as microseconds since the epoch (before it: negative).
fn parse_time(ts: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339(ts).ok()?;
    match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).ok(),
        Err(before) => i64::try_from(before.duration().as_micros())
            .ok()
            .map(|us| -us),
    }
}

/// A field's value, whatever its JSON type.
#[derive(Debug)]
enum Field<'a> {
    Str(Cow<'a, str>),
    UInt(u64),
    /// A negative or fractional number, a boolean, an object or an array.
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor(std::marker::PhantomData))
    }
}

struct FieldVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for FieldVisitor<'a> {
    type Value = Field<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Field::UInt(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(v).map_or(Field::Other, Field::UInt))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"ts":"2026-12-02T06:30:00.123456Z","level":"info","event":"request","request_id":"9f","method":"GET","path":"/api/v1/books/42","query":"","route":"/api/v1/books/{id}","status":200,"duration_us":812,"bytes":1534}"#;

    /// A request as (route, status, duration), or why there was none.
    type Outcome = Result<(Option<String>, u16, u64), Skip>;

    /// The outcomes of one record.
    fn outcomes(record: &[u8]) -> Vec<Outcome> {
        let mut out = Vec::new();
        read(record, &mut |o| {
            out.push(o.map(|r| {
                (
                    r.route.as_deref().map(str::to_owned),
                    r.status,
                    r.duration_us,
                )
            }))
        });
        out
    }

    fn ok(route: &str, status: u16, us: u64) -> Outcome {
        Ok((Some(route.to_owned()), status, us))
    }

    #[test]
    fn our_line_is_read_whole() {
        let mut seen = None;
        read(LINE.as_bytes(), &mut |o| {
            seen = Some(o.map(|r| r.clone().into_owned()))
        });
        let request = seen.unwrap().unwrap();
        assert_eq!(request.at_us, 1_796_193_000_123_456);
        assert_eq!(request.request_id, "9f");
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/api/v1/books/42");
        assert_eq!(request.query, "");
        assert_eq!(request.bytes, 1534);
    }

    #[test]
    fn unknown_fields_and_a_missing_route_are_fine() {
        let line = r#"{"ts":"2026-12-02T06:30:00Z","level":"info","event":"request","method":"GET","path":"/","status":200,"duration_us":3,"db_us":1,"model_us":{"a":[1]}}"#;
        assert_eq!(outcomes(line.as_bytes()), [Ok((None, 200, 3))]);
    }

    #[test]
    fn vercel_entries_hold_our_line_in_their_message() {
        let message = serde_json::to_string(&format!("{LINE}\n")).unwrap();
        let drain = format!(
            r#"{{"id":"1","message":{message},"timestamp":1796193000123,"requestId":"r","statusCode":200,"source":"lambda","proxy":{{"path":"/x","statusCode":200}}}}"#
        );
        assert_eq!(
            outcomes(drain.as_bytes()),
            [ok("/api/v1/books/{id}", 200, 812)]
        );
        let cli = format!(
            r#"{{"level":"info","message":{},"timestampInMs":1,"requestPath":"/x","responseStatusCode":200}}"#,
            serde_json::to_string(&format!("[api-v1-books-id] {LINE}")).unwrap()
        );
        assert_eq!(
            outcomes(cli.as_bytes()),
            [ok("/api/v1/books/{id}", 200, 812)]
        );
        // A platform line: not ours.
        let platform = r#"{"message":"START RequestId: 1 Version: $LATEST","level":"info"}"#;
        assert_eq!(outcomes(platform.as_bytes()), [Err(Skip::NotOurs)]);
        // Our line of another event, inside an entry.
        let other = r#"{"message":"{\"ts\":\"2026-12-02T06:30:00Z\",\"level\":\"info\",\"event\":\"scrape_finished\"}"}"#;
        assert_eq!(outcomes(other.as_bytes()), [Err(Skip::OtherEvent)]);
    }

    #[test]
    fn a_line_holding_an_array_gives_each_element() {
        let batch = format!(r#"[{LINE}, {{"message":"hello"}}, 7]"#);
        assert_eq!(
            outcomes(batch.as_bytes()),
            [
                ok("/api/v1/books/{id}", 200, 812),
                Err(Skip::NotOurs),
                Err(Skip::NotOurs)
            ]
        );
    }

    #[test]
    fn every_skip_reason() {
        let cases: [(&[u8], Skip); 9] = [
            (b"plain text", Skip::NotJson),
            (b"{\"ts\": ", Skip::NotJson),
            (b"[not json", Skip::NotJson),
            (b"\xff\xfe{}", Skip::NotUtf8),
            (b"{\"a\":1}", Skip::NotOurs),
            (b"\"just a string\"", Skip::NotOurs),
            (
                br#"{"ts":"2026-12-02T06:30:00Z","level":"info","event":"trigger_configured"}"#,
                Skip::OtherEvent,
            ),
            (
                br#"{"ts":"2026-12-02T06:30:00Z","level":"info","event":"request","method":"GET","path":"/","status":"200","duration_us":3}"#,
                Skip::Malformed,
            ),
            (
                br#"{"ts":"yesterday","level":"info","event":"request","method":"GET","path":"/","status":200,"duration_us":3}"#,
                Skip::Malformed,
            ),
        ];
        for (record, want) in cases {
            assert_eq!(
                outcomes(record),
                [Err(want)],
                "{}",
                String::from_utf8_lossy(record)
            );
        }
        for bad in [
            r#""status":700,"duration_us":3"#,
            r#""status":200,"duration_us":-3"#,
            r#""status":200,"duration_us":1.5"#,
            r#""status":200"#,
            r#""status":200,"duration_us":3,"route":7"#,
            r#""status":200,"duration_us":3,"bytes":"many""#,
        ] {
            let line = format!(
                r#"{{"ts":"2026-12-02T06:30:00Z","level":"info","event":"request","method":"GET","path":"/",{bad}}}"#
            );
            assert_eq!(outcomes(line.as_bytes()), [Err(Skip::Malformed)], "{line}");
        }
    }
}
