//! The text summary: short, aligned, with exact numbers, in a stable format
//! (tests and scripts read it). Routes are listed most requested first; the
//! 5xx line says when the HTML lists only the first of them. Text from the
//! log (routes, terms) is escaped, so a log line cannot write control
//! sequences to a terminal. The summary of the tests' generated log:
//!
//! ```text
//! books usage report
//! period    2026-12-02T06:00:00.000000Z .. 2026-12-02T08:49:43.000000Z
//! lines     614 read: 600 requests, 14 skipped
//! skipped   1 too long, 1 not UTF-8, 2 not JSON, 5 not ours, 3 other events, 2 malformed
//! status    2xx 421 (70.2%), 3xx 117 (19.5%), 4xx 49 (8.2%), 5xx 13 (2.2%)
//! cache     304 share 21.7% (117 of 540 GET/HEAD requests answered 304 Not Modified)
//! 5xx       13 (listed in the HTML report)
//!
//! route                 requests    p50 ms    p95 ms    p99 ms
//! /api/v1/books/{id}         240     1.029     1.928     1.999
//! /api/v1/books/search       120     1.011     1.911     1.981
//! (no route)                  60     0.985     1.875     1.955
//! /api/v1/auth/login          60     0.986     1.876     2.006
//! /api/v1/books               60     0.933     1.893     1.973
//! /api/v1/health              60     0.934     1.884     1.964
//! (all routes)               600     1.003     1.911     1.990
//!
//! top search terms (exact)
//!        48  "dune"
//!        24  "<script>alert(1)</script>"
//!        24  "café"
//!        24  "the hobbit"
//! top categories (exact)
//!        45  "poetry"
//!        30  "travel"
//!        15  "historical-fiction"
//!
//! html      usage-report.html
//! ```

use std::fmt::Write as _;
use std::path::Path;

use super::heavy::HeavyHitters;
use super::histogram::LatencyHistogram;
use super::record::Skip;
use super::usage::Usage;

/// How many search terms and categories the summary lists.
pub const TOP: usize = 5;

/// The summary, ending with where the HTML report went.
pub fn summary(usage: &Usage, html: &Path) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, usage, html);
    out
}

fn write_summary(out: &mut String, usage: &Usage, html: &Path) -> std::fmt::Result {
    writeln!(out, "books usage report")?;
    match (usage.first_us, usage.last_us) {
        (Some(first), Some(last)) => {
            writeln!(out, "period    {} .. {}", time(first), time(last))?;
        }
        _ => writeln!(out, "period    no requests")?,
    }
    writeln!(
        out,
        "lines     {} read: {} requests, {} skipped",
        usage.records,
        usage.requests,
        usage.skipped_total()
    )?;
    let skipped: Vec<String> = Skip::ALL
        .iter()
        .map(|&s| format!("{} {}", usage.skipped(s), s.label()))
        .collect();
    writeln!(out, "skipped   {}", skipped.join(", "))?;
    let classes: Vec<String> = usage
        .status_classes()
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n > 0)
        .map(|(class, &n)| format!("{class}xx {n} ({})", percent(n, usage.requests)))
        .collect();
    if classes.is_empty() {
        writeln!(out, "status    none")?;
    } else {
        writeln!(out, "status    {}", classes.join(", "))?;
    }
    let (reads, hits) = usage.cache();
    writeln!(
        out,
        "cache     304 share {} ({hits} of {reads} GET/HEAD requests answered 304 Not Modified)",
        percent(hits, reads)
    )?;
    let errors = usage.status_classes()[5];
    if usage.errors_not_listed() == 0 {
        writeln!(out, "5xx       {errors} (listed in the HTML report)")?;
    } else {
        let listed = errors - usage.errors_not_listed();
        writeln!(
            out,
            "5xx       {errors} (the first {listed} in the log listed in the HTML report)"
        )?;
    }

    writeln!(out)?;
    write_routes(out, usage)?;
    writeln!(out)?;
    write_top(out, "top search terms", &usage.terms)?;
    write_top(out, "top categories", &usage.categories)?;
    writeln!(out)?;
    writeln!(out, "html      {}", escape(&html.display().to_string()))
}

fn write_routes(out: &mut String, usage: &Usage) -> std::fmt::Result {
    const ALL: &str = "(all routes)";
    let routes = usage.routes();
    let names: Vec<String> = routes.iter().map(|r| escape(&r.name)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([ALL.len()])
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  {:>8}  {:>8}",
        "route", "requests", "p50 ms", "p95 ms", "p99 ms"
    )?;
    let row = |out: &mut String, name: &str, requests: u64, latency: &LatencyHistogram| {
        let pad = width.saturating_sub(name.chars().count());
        writeln!(
            out,
            "{name}{:pad$}  {requests:>8}  {:>8}  {:>8}  {:>8}",
            "",
            ms(latency.percentile(50)),
            ms(latency.percentile(95)),
            ms(latency.percentile(99)),
        )
    };
    for (route, name) in routes.iter().zip(&names) {
        row(out, name, route.requests, &route.latency)?;
    }
    row(out, ALL, usage.requests, &usage.overall)
}

fn write_top(out: &mut String, title: &str, counter: &HeavyHitters) -> std::fmt::Result {
    let top = counter.top(TOP);
    if top.is_empty() {
        return writeln!(out, "{title}: none");
    }
    if counter.is_exact() {
        writeln!(out, "{title} (exact)")?;
    } else {
        writeln!(
            out,
            "{title} (approximate: over {} distinct values; a count may exceed the true one by the error shown)",
            counter.capacity()
        )?;
    }
    for item in top {
        write!(out, "{:>9}  {:?}", item.count, item.value)?;
        if item.error > 0 {
            write!(out, "  (error {})", item.error)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Microseconds as milliseconds with three decimals (exact), or `-`.
pub fn ms(micros: Option<u64>) -> String {
    match micros {
        Some(us) => format!("{}.{:03}", us / 1000, us % 1000),
        None => "-".to_owned(),
    }
}

/// `part` of `whole` as a percentage with one decimal, rounded half up;
/// `-` of nothing.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    let (part, whole) = (u128::from(part), u128::from(whole));
    let tenths = (part * 2000 + whole) / (2 * whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// RFC 3339 UTC with microseconds.
pub fn time(micros: i64) -> String {
    let at = if micros >= 0 {
        std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros.unsigned_abs())
    } else {
        std::time::UNIX_EPOCH - std::time::Duration::from_micros(micros.unsigned_abs())
    };
    humantime::format_rfc3339_micros(at).to_string()
}

/// Log text made safe for a terminal: control characters escaped.
fn escape(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.escape_debug().to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact_and_stable() {
        assert_eq!(ms(Some(812)), "0.812");
        assert_eq!(ms(Some(1_234_567)), "1234.567");
        assert_eq!(ms(None), "-");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(1, 2000), "0.1%"); // 0.05 rounds up
        assert_eq!(percent(0, 0), "-");
        assert_eq!(time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(escape("a\u{1b}[31m"), "a\\u{1b}[31m");
    }

    #[test]
    fn says_when_not_every_5xx_is_listed() {
        use crate::report::record::Request;
        use crate::report::usage::Limits;
        use std::borrow::Cow;

        let mut usage = Usage::new(Limits {
            errors: 1,
            ..Limits::default()
        });
        for status in [503, 500, 200] {
            usage.add(Ok(&Request {
                at_us: 0,
                request_id: Cow::Borrowed("r"),
                method: Cow::Borrowed("GET"),
                path: Cow::Borrowed("/"),
                query: Cow::Borrowed(""),
                route: None,
                status,
                duration_us: 1,
                bytes: 0,
            }));
        }
        let text = summary(&usage, Path::new("r.html"));
        assert!(
            text.contains("\n5xx       2 (the first 1 in the log listed in the HTML report)\n"),
            "{text}"
        );
        assert!(text.contains("\nhtml      r.html\n"));
    }
}
