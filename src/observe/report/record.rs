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
