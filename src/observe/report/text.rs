//! The text summary: short, aligned, with exact numbers, in a stable format
//! (tests and scripts read it). Text from the log (routes, terms) is
//! escaped, so a log line cannot write control sequences to a terminal.
//!
//! ```text
//! books usage report
//! period    2026-12-02T06:30:00.000000Z .. 2026-12-02T08:29:59.000000Z
//! lines     1085 read: 1000 requests, 85 skipped
//! skipped   2 too long, 1 not UTF-8, 20 not JSON, 30 not ours, 12 other events, 20 malformed
//! status    2xx 900 (90.0%), 3xx 50 (5.0%), 4xx 30 (3.0%), 5xx 20 (2.0%)
//! cache     304 share 5.0% (50 of 1000 GET/HEAD requests answered 304 Not Modified)
//! 5xx       20 (listed in the HTML report)
//!
//! route                 requests    p50 ms    p95 ms    p99 ms
//! /api/v1/books/{id}         600     0.812     1.950     2.047
//! (all routes)              1000     0.700     1.900     2.040
//!
//! top search terms (exact)
//!      120  "dune"
//! top categories (exact)
//!       30  "travel"
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
    writeln!(out, "5xx       {errors} (listed in the HTML report)")?;

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
}
