//! The report's charts, as inline SVG: requests over time (stacked bars, one
//! colour per route) and the status mix (one stacked bar). Colours are CSS
//! classes (`s0`..`s7`, `c1xx`..`c5xx`) that the page styles for light and
//! dark; every bar has a `<title>`, the browser's own tooltip (no script).

use std::fmt::Write as _;

use super::escape::Esc;
use super::text::time;
use super::timeline::Chart;

/// Width and height of the time chart's view box.
const W: f64 = 800.0;
const H: f64 = 260.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// Stacked bars of `chart`, whose series are mapped to the `names`' colours
/// by `series_of` (a series past the named ones is the last name's).
pub fn time_chart(out: &mut String, chart: &Chart, names: &[String], series_of: &[usize]) {
    let bins = chart.bins.len().max(1);
    // Per bin, the count of each shown series.
    let stacks: Vec<Vec<u64>> = chart
        .bins
        .iter()
        .map(|bin| {
            let mut stack = vec![0u64; names.len()];
            for (series, &n) in bin.iter().enumerate() {
                let shown = series_of.get(series).copied().unwrap_or(names.len() - 1);
                stack[shown] += n;
            }
            stack
        })
        .collect();
    let tallest = stacks
        .iter()
        .map(|s| s.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let top = nice_ceiling(tallest);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let bar_w = plot_w / bins as f64;
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="over-time-title"><title id="over-time-title">Requests per {} by route</title>"#,
        Esc(&span_words(chart.width_us))
    );
    // Grid lines and their labels.
    for i in 0..=4u64 {
        let value = top * i / 4;
        let y = TOP + plot_h - plot_h * value as f64 / top as f64;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{value}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0
        );
    }
    for (i, stack) in stacks.iter().enumerate() {
        let x = LEFT + bar_w * i as f64;
        let mut y = TOP + plot_h;
        let at = chart
            .start_us
            .saturating_add(chart.width_us.saturating_mul(i as i64));
        for (shown, &n) in stack.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let h = plot_h * n as f64 / top as f64;
            y -= h;
            let _ = write!(
                out,
                r#"<rect class="s{shown}" x="{x:.2}" y="{y:.2}" width="{:.2}" height="{h:.2}"><title>{} {}: {n}</title></rect>"#,
                (bar_w * 0.88).max(0.5),
                Esc(&Label::Full.format(at)),
                Esc(&names[shown]),
            );
        }
    }
    // Up to six time labels along the bottom.
    let label = Label::for_chart(chart);
    let labels = bins.min(6);
    for k in 0..labels {
        let i = if labels == 1 {
            0
        } else {
            k * (bins - 1) / (labels - 1)
        };
        let at = chart
            .start_us
            .saturating_add(chart.width_us.saturating_mul(i as i64));
        let x = LEFT + bar_w * (i as f64 + 0.5);
        let anchor = match k {
            0 if labels > 1 => "start",
            k if k + 1 == labels && labels > 1 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            r#"<text class="axis" x="{x:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
            H - BOTTOM + 18.0,
            Esc(&label.format(at))
        );
    }
    out.push_str("</svg>");
}

/// One horizontal bar of the status classes (index 1 = 1xx ... 5 = 5xx).
pub fn status_bar(out: &mut String, classes: &[u64; 6]) {
    let total: u64 = classes.iter().sum();
    out.push_str(
        r#"<svg class="bar" viewBox="0 0 800 28" preserveAspectRatio="none" role="img" aria-label="Status classes"><title>Status classes</title>"#,
    );
    let mut x = 0.0;
    for (class, &n) in classes.iter().enumerate().filter(|&(_, &n)| n > 0) {
        let w = 800.0 * n as f64 / total as f64;
        let _ = write!(
            out,
            r#"<rect class="c{class}xx" x="{x:.2}" y="0" width="{w:.2}" height="28"><title>{class}xx: {n}</title></rect>"#
        );
        x += w;
    }
    out.push_str("</svg>");
}

/// The smallest 1, 2 or 5 × 10^k at or above `n` (at least 1).
fn nice_ceiling(n: u64) -> u64 {
    let mut base = 1u64;
    loop {
        for step in [1, 2, 5] {
            let nice = base.saturating_mul(step);
            if nice >= n || nice == u64::MAX {
                return nice.max(1);
            }
        }
        base = base.saturating_mul(10);
    }
}

/// How a bin's start is labelled: `06:30` when the chart is within one
/// day, `12-02 06:30` within a year, else `2026-12-02`; and always
/// `2026-12-02 06:30` in a bar's tooltip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Time,
    DayTime,
    Date,
    Full,
}

impl Label {
    fn for_chart(chart: &Chart) -> Label {
        let last = chart
            .start_us
            .saturating_add(chart.width_us.saturating_mul(chart.bins.len() as i64 - 1));
        let (first, last) = (time(chart.start_us), time(last));
        if chart.width_us >= 1440 * 60_000_000 || first.get(..4) != last.get(..4) {
            Label::Date
        } else if first.get(..10) == last.get(..10) {
            Label::Time
        } else {
            Label::DayTime
        }
    }

    fn format(self, micros: i64) -> String {
        // 2026-12-02T06:30:00.000000Z
        let full = time(micros);
        let part = |range: std::ops::Range<usize>| full.get(range).unwrap_or("");
        match self {
            Label::Time => part(11..16).to_owned(),
            Label::DayTime => format!("{} {}", part(5..10), part(11..16)),
            Label::Date => part(0..10).to_owned(),
            Label::Full => format!("{} {}", part(0..10), part(11..16)),
        }
    }
}

/// A bin width in words: `minute`, `5 minutes`, `hour`, `3 hours`, `day`...
pub fn span_words(width_us: i64) -> String {
    let minutes = width_us / 60_000_000;
    let (n, unit) = match minutes {
        m if m % 10_080 == 0 => (m / 10_080, "week"),
        m if m % 1440 == 0 => (m / 1440, "day"),
        m if m % 60 == 0 => (m / 60, "hour"),
        m => (m, "minute"),
    };
    if n == 1 {
        unit.to_owned()
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        let got: Vec<u64> = [0, 1, 2, 3, 7, 10, 11, 199, 501]
            .into_iter()
            .map(nice_ceiling)
            .collect();
        assert_eq!(got, [1, 1, 2, 5, 10, 10, 20, 200, 1000]);
    }

    #[test]
    fn spans_in_words() {
        assert_eq!(span_words(60_000_000), "minute");
        assert_eq!(span_words(15 * 60_000_000), "15 minutes");
        assert_eq!(span_words(180 * 60_000_000), "3 hours");
        assert_eq!(span_words(1440 * 60_000_000), "day");
        assert_eq!(span_words(40_320 * 60_000_000), "4 weeks");
    }

    #[test]
    fn labels_fit_the_span() {
        let minute = 60_000_000;
        let chart = |start_us: i64, width_us: i64, bins: usize| Chart {
            start_us,
            width_us,
            bins: vec![vec![1]; bins],
        };
        let noon = 1_796_212_800_000_000; // 2026-12-02T12:00:00Z
        let within_a_day = chart(noon, minute, 60);
        assert_eq!(Label::for_chart(&within_a_day), Label::Time);
        assert_eq!(Label::Time.format(noon), "12:00");
        let two_days = chart(noon, 30 * minute, 96);
        assert_eq!(Label::for_chart(&two_days), Label::DayTime);
        assert_eq!(Label::DayTime.format(noon), "12-02 12:00");
        let weeks = chart(noon, 1440 * minute, 30);
        assert_eq!(Label::for_chart(&weeks), Label::Date);
        assert_eq!(Label::Full.format(noon), "2026-12-02 12:00");
    }

    #[test]
    fn labels_are_escaped() {
        let chart = Chart {
            start_us: 0,
            width_us: 60_000_000,
            bins: vec![vec![1, 2], vec![0, 3]],
        };
        let mut out = String::new();
        time_chart(&mut out, &chart, &["/a".into(), "<b>".into()], &[0, 1]);
        assert!(out.contains("&lt;b&gt;: 2"), "{out}");
        assert!(!out.contains("<b>"));
        assert_eq!(out.matches("<rect").count(), 3);
    }
}
