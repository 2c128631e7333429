//! The HTML report: one file that opens offline. Inline CSS, charts as
//! inline SVG ([`super::svg`]), no script, and a Content-Security-Policy
//! that lets nothing load (`default-src 'none'`). Every text from the log
//! (paths, queries, terms, request ids, even route names) is escaped: a
//! log is attacker-controlled input.

use std::fmt::{self, Write as _};

use super::escape::Esc;
use super::heavy::HeavyHitters;
use super::lists::Logged;
use super::record::Skip;
use super::svg;
use super::text::{ms, percent, time};
use super::usage::Usage;

/// The page's Content-Security-Policy: nothing loads, inline styles apply.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/// Search terms and categories listed.
const TOP: usize = 20;
/// Routes with a colour of their own in the time chart; the rest share one.
const COLOURS: usize = 8;

/// The page's style: light and dark (`prefers-color-scheme`), narrow
/// screens (tables scroll in their own box), the chart colours.
const STYLE: &str = include_str!("report.css");

/// The whole page.
pub fn render(usage: &Usage) -> String {
    let mut out = String::with_capacity(64 * 1024);
    // Writing to a String cannot fail.
    let _ = page(&mut out, usage);
    out
}

fn page(out: &mut String, usage: &Usage) -> fmt::Result {
    write!(
        out,
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>books usage report</title><style>{STYLE}</style></head><body>
<header><h1>books usage report</h1><p class="muted">{}</p>
<nav><a href="#overview">Overview</a><a href="#over-time">Over time</a><a href="#status">Status</a><a href="#latency">Latency</a><a href="#cache">Cache</a><a href="#terms">Search terms</a><a href="#categories">Categories</a><a href="#slowest">Slowest</a><a href="#errors">5xx</a></nav></header><main>"##,
        Esc(&period(usage))
    )?;
    overview(out, usage)?;
    over_time(out, usage)?;
    status(out, usage)?;
    latency(out, usage)?;
    cache(out, usage)?;
    top(out, "terms", "Top search terms", "term", &usage.terms)?;
    top(
        out,
        "categories",
        "Top categories",
        "category",
        &usage.categories,
    )?;
    slowest(out, usage)?;
    errors(out, usage)?;
    writeln!(
        out,
        r#"</main><footer><p>Made by <code>books usage-report</code> {}. Times are UTC; durations are the server's, from the request's arrival to its answer.</p></footer></body></html>"#,
        crate::VERSION
    )
}

fn period(usage: &Usage) -> String {
    match (usage.first_us, usage.last_us) {
        (Some(first), Some(last)) => format!("{} to {}", time(first), time(last)),
        _ => "No requests in the log.".to_owned(),
    }
}

fn card(out: &mut String, id: &str, value: &str, label: &str) -> fmt::Result {
    write!(
        out,
        r#"<div class="card"><b id="{id}">{}</b><span>{}</span></div>"#,
        Esc(value),
        Esc(label)
    )
}

fn overview(out: &mut String, usage: &Usage) -> fmt::Result {
    let (reads, hits) = usage.cache();
    let errors = usage.status_classes()[5];
    out.push_str(r#"<section id="overview"><h2>Overview</h2><div class="cards">"#);
    card(
        out,
        "total-requests",
        &usage.requests.to_string(),
        "requests",
    )?;
    card(out, "lines-read", &usage.records.to_string(), "lines read")?;
    card(
        out,
        "lines-skipped",
        &usage.skipped_total().to_string(),
        "lines skipped",
    )?;
    card(out, "server-errors", &errors.to_string(), "5xx answers")?;
    card(
        out,
        "share-304",
        &percent(hits, reads),
        "304 share of GET/HEAD",
    )?;
    card(
        out,
        "p95-all",
        &ms(usage.overall.percentile(95)),
        "p95 ms, all routes",
    )?;
    card(out, "bytes", &usage.bytes.to_string(), "body bytes sent")?;
    out.push_str("</div>");
    out.push_str(r#"<p class="muted">Lines skipped, by reason. A line is a line of the log, or an element of a JSON array; blank lines are not counted.</p><div class="scroll"><table id="skipped"><thead><tr><th>reason</th><th class="n">lines</th><th>meaning</th></tr></thead><tbody>"#);
    for reason in Skip::ALL {
        write!(
            out,
            r#"<tr><td>{}</td><td class="n">{}</td><td>{}</td></tr>"#,
            reason.label(),
            usage.skipped(reason),
            reason.meaning()
        )?;
    }
    out.push_str("</tbody></table></div></section>");
    Ok(())
}

fn over_time(out: &mut String, usage: &Usage) -> fmt::Result {
    out.push_str(r#"<section id="over-time"><h2>Requests over time, by route</h2>"#);
    let Some(chart) = usage.timeline.chart(120) else {
        out.push_str(r#"<p class="muted">No requests.</p></section>"#);
        return Ok(());
    };
    let routes = usage.routes();
    let own = if routes.len() <= COLOURS {
        routes.len()
    } else {
        COLOURS - 1
    };
    let mut names: Vec<String> = routes[..own].iter().map(|r| r.name.clone()).collect();
    if routes.len() > own {
        names.push(format!("{} other routes", routes.len() - own));
    }
    let series = routes.len();
    let mut series_of = vec![names.len() - 1; series];
    for (shown, route) in routes.iter().enumerate() {
        if let Some(index) = usage.route_series(&route.name) {
            series_of[index] = shown.min(names.len() - 1);
        }
    }
    out.push_str(r#"<figure><div class="scroll">"#);
    svg::time_chart(out, &chart, &names, &series_of);
    out.push_str("</div>");
    write!(
        out,
        r#"<figcaption>Requests per {}, {} (UTC); hover a bar for its count.</figcaption></figure><ul class="legend">"#,
        Esc(&svg::span_words(chart.width_us)),
        Esc(&period(usage))
    )?;
    for (i, name) in names.iter().enumerate() {
        write!(out, r#"<li><i class="s{i}"></i>{}</li>"#, Esc(name))?;
    }
    out.push_str("</ul></section>");
    Ok(())
}

fn status(out: &mut String, usage: &Usage) -> fmt::Result {
    out.push_str(r#"<section id="status"><h2>Status mix</h2>"#);
    let classes = usage.status_classes();
    if usage.requests > 0 {
        svg::status_bar(out, &classes);
        out.push_str(r#"<ul class="legend">"#);
        for (class, &n) in classes.iter().enumerate().filter(|&(_, &n)| n > 0) {
            write!(
                out,
                r#"<li><i class="c{class}xx"></i>{class}xx {n} ({})</li>"#,
                percent(n, usage.requests)
            )?;
        }
        out.push_str("</ul>");
    }
    out.push_str(r#"<div class="scroll"><table id="statuses"><thead><tr><th>status</th><th class="n">requests</th><th class="n">share</th></tr></thead><tbody>"#);
    for (code, n) in usage.statuses() {
        write!(
            out,
            r#"<tr><td>{code}</td><td class="n">{n}</td><td class="n">{}</td></tr>"#,
            percent(n, usage.requests)
        )?;
    }
    out.push_str("</tbody></table></div></section>");
    Ok(())
}

fn latency(out: &mut String, usage: &Usage) -> fmt::Result {
    out.push_str(r#"<section id="latency"><h2>Latency per route</h2><p class="muted">Milliseconds, by nearest rank (p95: the value at rank ⌈0.95 n⌉). Exact below 2.048 ms, within 0.05 % above; the maximum is exact.</p><div class="scroll"><table id="latency-table"><thead><tr><th>route</th><th class="n">requests</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">max</th><th class="n">mean</th></tr></thead><tbody>"#);
    let row = |out: &mut String, name: &str, n: u64, h: &super::histogram::LatencyHistogram| {
        write!(
            out,
            r#"<tr><td class="w">{}</td><td class="n">{n}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            Esc(name),
            ms(h.percentile(50)),
            ms(h.percentile(95)),
            ms(h.percentile(99)),
            ms(h.max()),
            ms(h.mean())
        )
    };
    for route in usage.routes() {
        row(out, &route.name, route.requests, &route.latency)?;
    }
    row(out, "(all routes)", usage.requests, &usage.overall)?;
    out.push_str("</tbody></table></div></section>");
    Ok(())
}

fn cache(out: &mut String, usage: &Usage) -> fmt::Result {
    let (reads, hits) = usage.cache();
    write!(
        out,
        r#"<section id="cache"><h2>Cache hit ratio (304 share)</h2><p><b id="cache-share">{}</b> of GET and HEAD requests were answered 304 Not Modified ({hits} of {reads}): the client or the edge revalidated a copy it already had. Requests Vercel's edge answers from its own cache never reach a function and are not in this log.</p><div class="scroll"><table id="cache-table"><thead><tr><th>route</th><th class="n">GET/HEAD</th><th class="n">304</th><th class="n">304 share</th></tr></thead><tbody>"#,
        percent(hits, reads)
    )?;
    for route in usage.routes().into_iter().filter(|r| r.reads > 0) {
        write!(
            out,
            r#"<tr><td class="w">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            Esc(&route.name),
            route.reads,
            route.not_modified,
            percent(route.not_modified, route.reads)
        )?;
    }
    out.push_str("</tbody></table></div></section>");
    Ok(())
}

fn top(out: &mut String, id: &str, title: &str, what: &str, counter: &HeavyHitters) -> fmt::Result {
    write!(out, r#"<section id="{id}"><h2>{title}</h2>"#)?;
    let items = counter.top(TOP);
    if items.is_empty() {
        out.push_str(r#"<p class="muted">None asked for.</p></section>"#);
        return Ok(());
    }
    let exact = counter.is_exact();
    let note = if exact {
        format!(
            "{} asked for, {} distinct; counts are exact.",
            counter.total(),
            counter.distinct()
        )
    } else {
        format!(
            "{} asked for, more distinct values than the {} counted at once: counts are upper bounds, each at most its error above the true count.",
            counter.total(),
            counter.capacity()
        )
    };
    write!(
        out,
        r#"<p class="muted">{}</p><div class="scroll"><table id="{id}-table"><thead><tr><th>{what}</th><th class="n">requests</th>{}<th></th></tr></thead><tbody>"#,
        Esc(&note),
        if exact {
            ""
        } else {
            r#"<th class="n">error</th>"#
        }
    )?;
    let most = items[0].count.max(1);
    for item in &items {
        write!(
            out,
            r#"<tr><td class="w">{}</td><td class="n">{}</td>{}<td class="barcell"><span style="width:{:.1}%"></span></td></tr>"#,
            Esc(&item.value),
            item.count,
            if exact {
                String::new()
            } else {
                format!(r#"<td class="n">{}</td>"#, item.error)
            },
            100.0 * item.count as f64 / most as f64
        )?;
    }
    out.push_str("</tbody></table></div></section>");
    Ok(())
}

fn requests_table(out: &mut String, id: &str, caption: &str, rows: &[&Logged]) -> fmt::Result {
    write!(
        out,
        r#"<p class="muted">{}</p><div class="scroll"><table id="{id}"><thead><tr><th>time (UTC)</th><th class="n">ms</th><th class="n">status</th><th>method</th><th>path and query</th><th>route</th><th>request id</th></tr></thead><tbody>"#,
        Esc(caption)
    )?;
    for r in rows {
        let target = if r.query.is_empty() {
            r.path.clone()
        } else {
            format!("{}?{}", r.path, r.query)
        };
        write!(
            out,
            r#"<tr><td class="t">{}</td><td class="n">{}</td><td class="n">{}</td><td>{}</td><td class="w">{}</td><td class="w">{}</td><td class="w">{}</td></tr>"#,
            time(r.at_us),
            ms(Some(r.duration_us)),
            r.status,
            Esc(&r.method),
            Esc(&target),
            Esc(r.route.as_deref().unwrap_or("")),
            Esc(&r.request_id)
        )?;
    }
    out.push_str("</tbody></table></div>");
    Ok(())
}

fn slowest(out: &mut String, usage: &Usage) -> fmt::Result {
    out.push_str(r#"<section id="slowest"><h2>Slowest requests</h2>"#);
    let rows = usage.slowest();
    let caption = format!(
        "The {} slowest of {} requests (ties: the first in the log).",
        rows.len(),
        usage.requests
    );
    requests_table(out, "slowest-table", &caption, &rows)?;
    out.push_str("</section>");
    Ok(())
}

fn errors(out: &mut String, usage: &Usage) -> fmt::Result {
    out.push_str(r#"<section id="errors"><h2>Every 5xx</h2>"#);
    let rows = usage.errors();
    let caption = if usage.errors_not_listed() == 0 {
        format!(
            "All {} answers with a 5xx status, in time order.",
            rows.len()
        )
    } else {
        format!(
            "The first {} answers with a 5xx status in the log, in time order, and {} more not listed.",
            rows.len(),
            usage.errors_not_listed()
        )
    };
    requests_table(out, "errors-table", &caption, &rows)?;
    if usage.errors_not_listed() > 0 {
        write!(
            out,
            r#"<p id="errors-more">… and {} more not listed.</p>"#,
            usage.errors_not_listed()
        )?;
    }
    out.push_str("</section>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            Esc(r#"<script>alert("x") & 'y'</script>"#).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(Esc("plain é").to_string(), "plain é");
    }

    #[test]
    fn an_empty_report_renders() {
        let page = render(&Usage::default());
        assert!(page.contains(CSP));
        assert!(page.contains("No requests"));
        assert!(page.ends_with("</html>\n"));
    }
}
