//! `books usage-report` as a real process over logs generated here: our
//! bare lines, Vercel Log Drain entries (NDJSON, and a pretty-printed JSON
//! array export with `[function] ` prefixes), mixed with plain text, foreign
//! JSON, platform entries, broken JSON, invalid UTF-8, an overlong line,
//! other events and malformed fields. The generator keeps the truth; every
//! number of the summary is checked exactly against it (percentiles by
//! nearest rank, computed here). Also: stdin, several files, gzip, a
//! missing file, and hostile text escaped in the HTML.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::json;

/// Why the report skips a line, in the order its summary lists them.
const SKIP_REASONS: [&str; 6] = [
    "too long",
    "not UTF-8",
    "not JSON",
    "not ours",
    "other events",
    "malformed",
];

/// 2026-12-02T06:00:00Z, in microseconds since the epoch.
const START_US: i64 = 1_796_191_200_000_000;
const SEARCH: &str = "/api/v1/books/search";

/// One generated request, as the truth.
#[derive(Debug, Clone)]
pub struct Truth {
    pub route: Option<&'static str>,
    pub method: &'static str,
    pub status: u16,
    pub us: u64,
    pub at_us: i64,
}

/// What the generator wrote, and what the report must say.
#[derive(Debug, Default)]
pub struct Generated {
    pub files: Vec<PathBuf>,
    pub requests: Vec<Truth>,
    /// Records skipped per reason label ("too long", "not JSON", ...).
    pub skipped: HashMap<&'static str, u64>,
    /// Counted search terms and categories (already normalised).
    pub terms: HashMap<String, u64>,
    pub categories: HashMap<String, u64>,
}

impl Generated {
    pub fn records(&self) -> u64 {
        self.requests.len() as u64 + self.skipped.values().sum::<u64>()
    }

    fn skip(&mut self, reason: &'static str) {
        *self.skipped.entry(reason).or_default() += 1;
    }
}

/// Search terms as sent (raw query values) and as counted.
const TERMS: [(&str, &str, &str); 5] = [
    ("q", "dune", "dune"),
    ("q", "%20The+%20Hobbit%20", "the hobbit"),
    ("title", "DUNE", "dune"),
    (
        "q",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "<script>alert(1)</script>",
    ),
    ("q", "caf%C3%A9", "café"),
];
/// Categories as sent and as counted (the slug the API matches on).
const CATEGORIES: [(&str, &str); 4] = [
    ("Travel", "travel"),
    ("travel", "travel"),
    ("Historical%20Fiction", "historical-fiction"),
    ("poetry", "poetry"),
];

/// Our log line for a request.
fn line(id: usize, t: &Truth, path: &str, query: &str) -> String {
    let mut line = json!({
        "ts": time(t.at_us),
        "level": if t.status >= 500 { "error" } else { "info" },
        "event": "request",
        "request_id": format!("req-{id:04}"),
        "method": t.method,
        "path": path,
        "query": query,
    });
    if let Some(route) = t.route {
        line["route"] = json!(route);
    }
    line["status"] = json!(t.status);
    line["duration_us"] = json!(t.us);
    line["bytes"] = json!(100 + id);
    if id.is_multiple_of(4) {
        // Fields added later are tolerated.
        line["db_us"] = json!(t.us / 2);
    }
    line.to_string()
}

pub fn time(micros: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros as u64);
    humantime::format_rfc3339_micros(at).to_string()
}

/// Writes `bare.log` (our lines), `drain.ndjson` (Log Drain NDJSON) and
/// `export.json` (a pretty-printed array of entries) into `dir`, `n`
/// requests spread across them, with junk in each.
pub fn generate(dir: &Path, n: usize) -> Generated {
    let mut g = Generated::default();
    let (mut bare, mut drain, mut export) = (Vec::<u8>::new(), String::new(), Vec::new());
    for i in 0..n {
        let (route, method, path, query): (Option<&'static str>, &'static str, String, String) =
            match i % 10 {
                0..=3 => (
                    Some("/api/v1/books/{id}"),
                    if i % 8 == 1 { "HEAD" } else { "GET" },
                    format!("/api/v1/books/{}", i * 37 % 1000 + 1),
                    String::new(),
                ),
                4 | 5 => {
                    let (name, raw, _) = TERMS[(i / 10 + i % 3) % TERMS.len()];
                    let mut query = format!("{name}={raw}&page=2");
                    if i % 20 == 5 {
                        query.push_str("&category=poetry");
                    }
                    (Some(SEARCH), "GET", SEARCH.to_owned(), query)
                }
                6 => {
                    let (raw, _) = CATEGORIES[(i / 10) % CATEGORIES.len()];
                    let q = format!("category={raw}&q=not-a-term");
                    (Some("/api/v1/books"), "GET", "/api/v1/books".to_owned(), q)
                }
                7 => (
                    Some("/api/v1/health"),
                    "GET",
                    "/api/v1/health".to_owned(),
                    String::new(),
                ),
                8 => (
                    None,
                    "GET",
                    if i % 20 == 8 { "/" } else { "/nope" }.to_owned(),
                    String::new(),
                ),
                _ => (
                    Some("/api/v1/auth/login"),
                    // A preflight's query is not counted.
                    if i % 20 == 9 { "OPTIONS" } else { "POST" },
                    "/api/v1/auth/login".to_owned(),
                    if i % 20 == 9 {
                        "category=ignored".to_owned()
                    } else {
                        String::new()
                    },
                ),
            };
        let status = match i {
            i if i % 97 == 50 => 503,
            i if i % 89 == 7 => 500,
            i if i % 10 == 8 && i % 20 != 8 => 404,
            i if i % 5 == 0 => 304,
            i if i % 10 == 9 && i % 3 == 0 => 401,
            _ => 200,
        };
        let truth = Truth {
            route,
            method,
            status,
            // Every duration below 2048 µs: the histogram is exact there.
            us: (i as u64 * 131 + 7) % 2000 + 10,
            // 17 s apart, written out of order across the files.
            at_us: START_US + i as i64 * 17_000_000,
        };
        if method != "OPTIONS" {
            for pair in query.split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if route == Some(SEARCH) && (name == "q" || name == "title") {
                    let (_, _, counted) = TERMS.iter().find(|(_, raw, _)| *raw == value).unwrap();
                    *g.terms.entry(counted.to_string()).or_default() += 1;
                }
                if name == "category" {
                    let slug = match CATEGORIES.iter().find(|(raw, _)| *raw == value) {
                        Some((_, slug)) => slug,
                        None => value,
                    };
                    *g.categories.entry(slug.to_string()).or_default() += 1;
                }
            }
        }
        let text = line(i, &truth, &path, &query);
        match i % 3 {
            0 => writeln!(bare, "{text}").unwrap(),
            1 => {
                let entry = json!({
                    "id": format!("{i}"), "message": format!("{text}\n"),
                    "timestamp": truth.at_us / 1000, "type": "stdout", "source": "lambda",
                    "requestId": format!("vercel-{i}"), "statusCode": status, "path": path,
                    "proxy": {"timestamp": truth.at_us / 1000, "method": method, "path": path,
                              "statusCode": status, "vercelCache": "MISS"},
                });
                writeln!(drain, "{entry}").unwrap();
            }
            _ => export.push(json!({
                "level": "info", "message": format!("[api-v1-fn] {text}"),
                "timestampInMs": truth.at_us / 1000, "requestPath": path,
                "requestMethod": method, "responseStatusCode": status,
            })),
        }
        g.requests.push(truth);
    }

    // Junk among our lines, each of a known kind.
    let other = |event: &str| {
        format!(
            r#"{{"ts":"{}","level":"info","event":"{event}"}}"#,
            time(START_US)
        )
    };
    let junk: Vec<(Vec<u8>, &'static str)> = vec![
        (b"Listening on 127.0.0.1:3000".to_vec(), "not JSON"),
        (br#"{"ts":"2026-12-02T06:00:00Z","lev"#.to_vec(), "not JSON"),
        (br#"{"msg":"someone else's JSON"}"#.to_vec(), "not ours"),
        (b"42".to_vec(), "not ours"),
        (b"{\"bytes\": \"\xff\xfe\"}".to_vec(), "not UTF-8"),
        (format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024)).into_bytes(), "too long"),
        (other("scrape_finished").into_bytes(), "other events"),
        (other("trigger_configured").into_bytes(), "other events"),
        (
            br#"{"ts":"2026-12-02T06:00:00Z","level":"info","event":"request","method":"GET","path":"/","status":"200","duration_us":5}"#.to_vec(),
            "malformed",
        ),
        (
            br#"{"ts":"2026-12-02T06:00:00Z","level":"info","event":"request","method":"GET","path":"/","status":200}"#.to_vec(),
            "malformed",
        ),
    ];
    for (k, (bytes, reason)) in junk.into_iter().enumerate() {
        // Spread through the file: after the k-th line.
        let at = nth_line_end(&bare, k * 7);
        let mut record = bytes;
        record.push(b'\n');
        bare.splice(at..at, record);
        g.skip(reason);
    }
    bare.extend_from_slice(b"\n\n"); // blank lines are no records
    for platform in [
        "START RequestId: 1 Version: $LATEST",
        "Task timed out after 10.00 seconds",
    ] {
        writeln!(
            drain,
            "{}",
            json!({"message": platform, "source": "lambda", "timestamp": 1})
        )
        .unwrap();
        g.skip("not ours");
    }
    writeln!(
        drain,
        "{}",
        json!({"message": other("scrape_finished"), "source": "lambda"})
    )
    .unwrap();
    g.skip("other events");
    export.insert(1, json!({"message": "Cold start", "level": "info"}));
    g.skip("not ours");

    for (name, bytes) in [
        ("bare.log", bare),
        ("drain.ndjson", drain.into_bytes()),
        ("export.json", serde_json::to_vec_pretty(&export).unwrap()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        g.files.push(path);
    }
    g
}

fn nth_line_end(bytes: &[u8], n: usize) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n)
        .map_or(bytes.len(), |(i, _)| i + 1)
}

/// The value at rank ⌈p n / 100⌉ of the sorted values.
fn nearest_rank(sorted: &[u64], p: u64) -> u64 {
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1);
    sorted[rank as usize - 1]
}

fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

fn percent(part: u64, whole: u64) -> String {
    let tenths = (part * 2000 + whole) / (2 * whole);
    format!("{}.{}%", tenths / 10, tenths % 10)
}

/// The summary the report must print for `g`, line by line.
pub fn expected_summary(g: &Generated, html: &Path) -> String {
    let reqs = &g.requests;
    let mut out = String::from("books usage report\n");
    let first = reqs.iter().map(|r| r.at_us).min().unwrap();
    let last = reqs.iter().map(|r| r.at_us).max().unwrap();
    writeln!(out, "period    {} .. {}", time(first), time(last)).unwrap();
    let skipped: u64 = g.skipped.values().sum();
    writeln!(
        out,
        "lines     {} read: {} requests, {skipped} skipped",
        g.records(),
        reqs.len()
    )
    .unwrap();
    let reasons: Vec<String> = SKIP_REASONS
        .iter()
        .map(|r| format!("{} {r}", g.skipped.get(r).copied().unwrap_or(0)))
        .collect();
    writeln!(out, "skipped   {}", reasons.join(", ")).unwrap();
    let n = reqs.len() as u64;
    let classes: Vec<String> = (1..=5u16)
        .map(|c| {
            (
                c,
                reqs.iter().filter(|r| r.status / 100 == c).count() as u64,
            )
        })
        .filter(|&(_, k)| k > 0)
        .map(|(c, k)| format!("{c}xx {k} ({})", percent(k, n)))
        .collect();
    writeln!(out, "status    {}", classes.join(", ")).unwrap();
    let reads: Vec<&Truth> = reqs
        .iter()
        .filter(|r| matches!(r.method, "GET" | "HEAD"))
        .collect();
    let hits = reads.iter().filter(|r| r.status == 304).count() as u64;
    let reads = reads.len() as u64;
    writeln!(
        out,
        "cache     304 share {} ({hits} of {reads} GET/HEAD requests answered 304 Not Modified)",
        percent(hits, reads)
    )
    .unwrap();
    let errors = reqs.iter().filter(|r| r.status >= 500).count();
    writeln!(out, "5xx       {errors} (listed in the HTML report)\n").unwrap();

    // Routes: most requested first, then by name.
    let mut by_route: HashMap<&str, Vec<u64>> = HashMap::new();
    for r in reqs {
        by_route
            .entry(r.route.unwrap_or("(no route)"))
            .or_default()
            .push(r.us);
    }
    let mut routes: Vec<(&str, Vec<u64>)> = by_route.into_iter().collect();
    routes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let mut all: Vec<u64> = reqs.iter().map(|r| r.us).collect();
    routes.push(("(all routes)", std::mem::take(&mut all)));
    let width = routes.iter().map(|(name, _)| name.len()).max().unwrap();
    writeln!(
        out,
        "{:<width$}  {:>8}  {:>8}  {:>8}  {:>8}",
        "route", "requests", "p50 ms", "p95 ms", "p99 ms"
    )
    .unwrap();
    for (name, mut us) in routes {
        us.sort_unstable();
        let [p50, p95, p99] = [50, 95, 99].map(|p| ms(nearest_rank(&us, p)));
        writeln!(
            out,
            "{name:<width$}  {:>8}  {p50:>8}  {p95:>8}  {p99:>8}",
            us.len()
        )
        .unwrap();
    }
    out.push('\n');
    for (title, counts) in [
        ("top search terms", &g.terms),
        ("top categories", &g.categories),
    ] {
        writeln!(out, "{title} (exact)").unwrap();
        let mut top: Vec<(&String, &u64)> = counts.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (value, count) in top.into_iter().take(5) {
            writeln!(out, "{count:>9}  {value:?}").unwrap();
        }
    }
    writeln!(out, "\nhtml      {}", html.display()).unwrap();
    out
}

pub fn usage_report(args: &[&std::ffi::OsStr], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_books"))
        .arg("usage-report")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the books binary runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Runs the report over `files`, writing the HTML to `html`.
pub fn report(files: &[PathBuf], html: &Path) -> String {
    let mut args: Vec<&std::ffi::OsStr> = files.iter().map(|f| f.as_os_str()).collect();
    args.extend(["--html".as_ref(), html.as_os_str()]);
    stdout(&usage_report(&args, None))
}

#[test]
fn the_summary_of_a_mixed_log_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(dir.path(), 600);
    let html = dir.path().join("report.html");
    let summary = report(&g.files, &html);
    let want = expected_summary(&g, &html);
    assert_eq!(summary, want, "got:\n{summary}\nwant:\n{want}");
    // The generator did make every kind of line.
    for reason in SKIP_REASONS {
        assert!(g.skipped[reason] > 0, "{reason}");
    }
    assert!(
        g.requests.iter().any(|r| r.status == 503) && g.requests.iter().any(|r| r.status == 304)
    );

    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains(r#"<b id="total-requests">600</b>"#));
    assert!(page.contains("default-src &#39;none&#39;") || page.contains("default-src 'none'"));
}

#[test]
fn hostile_text_is_escaped_in_the_html() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(dir.path(), 100);
    // A 5xx whose path, query, route and request id carry markup.
    let evil = json!({
        "ts": time(START_US), "level": "error", "event": "request",
        "request_id": "\"><img src=x onerror=alert(1)>", "method": "GET<svg onload=alert(2)>",
        "path": "/<script>alert(3)</script>", "query": "q=<iframe src=//evil.example>",
        "route": "</td><script>alert(4)</script>", "status": 500, "duration_us": 5000, "bytes": 0
    });
    let log = dir.path().join("evil.log");
    std::fs::write(&log, format!("{evil}\n")).unwrap();
    let html = dir.path().join("report.html");
    let mut files = g.files.clone();
    files.push(log);
    let summary = report(&files, &html);
    assert!(
        summary.contains(r#""<script>alert(1)</script>""#),
        "{summary}"
    );
    let page = std::fs::read_to_string(&html).unwrap().to_lowercase();
    // Markup only as text: no tag of it (its `onerror=` sits between `&lt;`
    // and `&gt;`).
    for tag in ["<script", "<img", "<iframe", "<svg onload", "</td><script"] {
        assert!(!page.contains(tag), "{tag} is in the page");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        page.contains("/&lt;script&gt;alert(3)&lt;/script&gt;?q=&lt;iframe src=//evil.example&gt;")
    );
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // Nothing that could load: no external URL in any src or href.
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    assert!(!page.contains("<link") && !page.contains("@import") && !page.contains("url("));
}

#[test]
fn stdin_several_files_and_gzip_agree() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(dir.path(), 300);
    let html = dir.path().join("all.html");
    let all = report(&g.files, &html);

    // The same files, the first through stdin (`-`) and the last gzipped.
    let gz = dir.path().join("export.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&std::fs::read(&g.files[2]).unwrap())
        .unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let first = std::fs::read(&g.files[0]).unwrap();
    let args: Vec<&std::ffi::OsStr> = vec![
        "-".as_ref(),
        g.files[1].as_os_str(),
        gz.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ];
    let mixed = stdout(&usage_report(&args, Some(&first)));
    assert_eq!(mixed, all);

    // No file at all: stdin alone.
    let bare_only = stdout(&usage_report(
        &["--html".as_ref(), html.as_os_str()],
        Some(&first),
    ));
    let requests = g.requests.len().div_ceil(3);
    assert!(
        bare_only.contains(&format!(" read: {requests} requests, ")),
        "{bare_only}"
    );
}

#[test]
fn a_missing_file_fails_clearly_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let g = generate(dir.path(), 30);
    let missing = dir.path().join("no-such.log");
    let html = dir.path().join("report.html");
    let args = [
        g.files[0].as_os_str(),
        missing.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ];
    let output = usage_report(&args, None);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: cannot open {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert!(output.stdout.is_empty());
    assert!(!html.exists());
}

#[test]
fn an_empty_log_is_a_report_of_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("empty.html");
    let summary = stdout(&usage_report(
        &["--html".as_ref(), html.as_os_str()],
        Some(b""),
    ));
    assert!(summary.contains("period    no requests\n"), "{summary}");
    assert!(summary.contains("lines     0 read: 0 requests, 0 skipped\n"));
    assert!(summary.contains("top search terms: none\n"));
    assert!(html.is_file());
}

#[test]
fn an_unwritable_report_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("no-such-dir").join("report.html");
    let output = usage_report(&["--html".as_ref(), html.as_os_str()], Some(b""));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot write {}: ", html.display())),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "no summary naming a report that is not there"
    );
}
