//! The aggregate of a log, built one record at a time in bounded memory:
//! counts, status mix, per-route latency histograms and 304 share, requests
//! over time, the most asked-for search terms and categories, the slowest
//! requests and the server errors. [`Limits`] bounds every part that could
//! grow with the log.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use super::heavy::HeavyHitters;
use super::histogram::LatencyHistogram;
use super::record::{Request, Skip};
use super::timeline::Timeline;
use crate::domain::category_slug;
use crate::http::Route;

/// The bounds on what the report keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Distinct routes; the requests of any further route count under
    /// [`OTHER_ROUTES`].
    pub routes: usize,
    /// Slots of each most-frequent-values counter (exact while the distinct
    /// values fit).
    pub top_slots: usize,
    /// The slowest requests listed.
    pub slowest: usize,
    /// The server errors (5xx) listed; the rest are counted.
    pub errors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            routes: 64,
            top_slots: 1024,
            slowest: 20,
            errors: 10_000,
        }
    }
}

/// The label of requests with no route template.
pub const NO_ROUTE: &str = "(no route)";
/// The label of routes past [`Limits::routes`].
pub const OTHER_ROUTES: &str = "(other routes)";
/// The most bytes kept of any logged text (path, query, request id).
pub const MAX_KEPT_BYTES: usize = 1024;
/// The most bytes kept of a search term or category.
pub const MAX_TERM_BYTES: usize = 200;

/// One route's numbers.
#[derive(Debug, Clone)]
pub struct RouteUsage {
    pub name: String,
    pub requests: u64,
    pub latency: LatencyHistogram,
    /// GET and HEAD requests, and those of them answered 304.
    pub reads: u64,
    pub not_modified: u64,
    /// Requests answered 5xx.
    pub server_errors: u64,
}

/// A request kept for a list (slowest, server errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub at_us: i64,
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub route: Option<String>,
    pub status: u16,
    pub duration_us: u64,
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct Usage {
    pub limits: Limits,
    /// Records read: lines, or elements of a JSON array (blank lines are
    /// not records).
    pub records: u64,
    pub requests: u64,
    skipped: [u64; Skip::ALL.len()],
    /// The first and last request times (microseconds since the epoch).
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    /// Requests per status code (100 ..= 599).
    status: Vec<u64>,
    routes: Vec<RouteUsage>,
    route_index: HashMap<String, usize>,
    pub overall: LatencyHistogram,
    pub bytes: u64,
    pub timeline: Timeline,
    pub terms: HeavyHitters,
    pub categories: HeavyHitters,
    slowest: BinaryHeap<Reverse<Slow>>,
    errors: Vec<Logged>,
    pub errors_not_listed: u64,
}

impl Default for Usage {
    fn default() -> Self {
        Usage::new(Limits::default())
    }
}

impl Usage {
    pub fn new(limits: Limits) -> Self {
        Usage {
            limits,
            records: 0,
            requests: 0,
            skipped: [0; Skip::ALL.len()],
            first_us: None,
            last_us: None,
            status: vec![0; 600],
            routes: Vec::new(),
            route_index: HashMap::new(),
            overall: LatencyHistogram::default(),
            bytes: 0,
            timeline: Timeline::default(),
            terms: HeavyHitters::new(limits.top_slots),
            categories: HeavyHitters::new(limits.top_slots),
            slowest: BinaryHeap::new(),
            errors: Vec::new(),
            errors_not_listed: 0,
        }
    }

    /// Counts one record's outcome.
    pub fn add(&mut self, outcome: Result<&Request<'_>, Skip>) {
        self.records += 1;
        match outcome {
            Ok(request) => self.add_request(request),
            Err(skip) => self.skipped[skip as usize] += 1,
        }
    }

    /// Records skipped for `reason`.
    pub fn skipped(&self, reason: Skip) -> u64 {
        self.skipped[reason as usize]
    }

    /// Records skipped for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.iter().sum()
    }

    /// Requests answered `status`.
    pub fn status_count(&self, status: u16) -> u64 {
        self.status.get(usize::from(status)).copied().unwrap_or(0)
    }

    /// Requests per status class: index 1 is 1xx, ..., 5 is 5xx.
    pub fn status_classes(&self) -> [u64; 6] {
        let mut classes = [0; 6];
        for (code, &n) in self.status.iter().enumerate() {
            classes[code / 100] += n;
        }
        classes
    }

    /// Each status code answered, with its count, in code order.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (100..600u16)
            .map(|code| (code, self.status_count(code)))
            .filter(|&(_, n)| n > 0)
    }

    /// The routes, most requested first (then by name); the timeline's
    /// series are indexed by [`Usage::route_series`].
    pub fn routes(&self) -> Vec<&RouteUsage> {
        let mut routes: Vec<&RouteUsage> = self.routes.iter().collect();
        routes.sort_by(|a, b| b.requests.cmp(&a.requests).then(a.name.cmp(&b.name)));
        routes
    }

    /// The timeline series of the route named `name`.
    pub fn route_series(&self, name: &str) -> Option<usize> {
        self.route_index.get(name).copied()
    }

    /// GET and HEAD requests, and those of them answered 304.
    pub fn cache(&self) -> (u64, u64) {
        self.routes.iter().fold((0, 0), |(reads, hits), r| {
            (reads + r.reads, hits + r.not_modified)
        })
    }

    /// The slowest requests, slowest first (ties: in log order).
    pub fn slowest(&self) -> Vec<&Logged> {
        let mut slow: Vec<&Slow> = self.slowest.iter().map(|Reverse(s)| s).collect();
        slow.sort_by(|a, b| b.cmp(a));
        slow.into_iter().map(|s| &s.request).collect()
    }

    /// The server errors listed, in time order (ties: in log order).
    pub fn errors(&self) -> Vec<&Logged> {
        let mut errors: Vec<&Logged> = self.errors.iter().collect();
        errors.sort_by_key(|e| e.at_us);
        errors
    }

    fn add_request(&mut self, request: &Request<'_>) {
        self.requests += 1;
        self.first_us = Some(
            self.first_us
                .map_or(request.at_us, |t| t.min(request.at_us)),
        );
        self.last_us = Some(self.last_us.map_or(request.at_us, |t| t.max(request.at_us)));
        self.status[usize::from(request.status)] += 1;
        self.overall.record(request.duration_us);
        self.bytes = self.bytes.saturating_add(request.bytes);

        let series = self.route(request.route.as_deref());
        let route = &mut self.routes[series];
        route.requests += 1;
        route.latency.record(request.duration_us);
        if matches!(request.method.as_ref(), "GET" | "HEAD") {
            route.reads += 1;
            route.not_modified += u64::from(request.status == 304);
        }
        route.server_errors += u64::from(request.status >= 500);
        self.timeline.add(request.at_us, series);

        self.count_terms(request);
        self.keep_slow(request);
        if request.status >= 500 {
            if self.errors.len() < self.limits.errors {
                self.errors.push(logged(request));
            } else {
                self.errors_not_listed += 1;
            }
        }
    }

    /// The index of the route's usage, added if new.
    fn route(&mut self, route: Option<&str>) -> usize {
        let name = route.map_or(NO_ROUTE, |r| clip(r, MAX_TERM_BYTES));
        if let Some(&index) = self.route_index.get(name) {
            return index;
        }
        let name = if self.routes.len() + 1 < self.limits.routes.max(2) {
            name
        } else {
            OTHER_ROUTES
        };
        if let Some(&index) = self.route_index.get(name) {
            return index;
        }
        self.routes.push(RouteUsage {
            name: name.to_owned(),
            requests: 0,
            latency: LatencyHistogram::default(),
            reads: 0,
            not_modified: 0,
            server_errors: 0,
        });
        self.route_index
            .insert(name.to_owned(), self.routes.len() - 1);
        self.routes.len() - 1
    }

    /// Search terms (`q`, `title` of the search route) and categories
    /// (`category` of any route), of every request but CORS preflights.
    fn count_terms(&mut self, request: &Request<'_>) {
        if request.query.is_empty() || request.method == "OPTIONS" {
            return;
        }
        let search = request.route.as_deref() == Some(Route::BooksSearch.path());
        for (name, value) in url::form_urlencoded::parse(request.query.as_bytes()) {
            match name.as_ref() {
                "q" | "title" if search => {
                    let term = normalize_term(&value);
                    if !term.is_empty() {
                        self.terms.offer(clip(&term, MAX_TERM_BYTES));
                    }
                }
                "category" => {
                    let slug = category_slug(clip(&value, MAX_TERM_BYTES));
                    if !slug.is_empty() {
                        self.categories.offer(&slug);
                    }
                }
                _ => {}
            }
        }
    }

    fn keep_slow(&mut self, request: &Request<'_>) {
        let key = (request.duration_us, Reverse(self.requests));
        if self.slowest.len() < self.limits.slowest {
            let request = logged(request);
            self.slowest.push(Reverse(Slow { key, request }));
        } else if self
            .slowest
            .peek()
            .is_some_and(|Reverse(min)| key > min.key)
        {
            let request = logged(request);
            self.slowest.pop();
            self.slowest.push(Reverse(Slow { key, request }));
        }
    }
}

/// A slow request, ordered by duration, then earliest first.
#[derive(Debug, Clone)]
struct Slow {
    key: (u64, Reverse<u64>),
    request: Logged,
}

impl PartialEq for Slow {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Slow {}
impl PartialOrd for Slow {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Slow {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

fn logged(request: &Request<'_>) -> Logged {
    Logged {
        at_us: request.at_us,
        request_id: clip(&request.request_id, MAX_KEPT_BYTES).to_owned(),
        method: clip(&request.method, MAX_TERM_BYTES).to_owned(),
        path: clip(&request.path, MAX_KEPT_BYTES).to_owned(),
        query: clip(&request.query, MAX_KEPT_BYTES).to_owned(),
        route: request
            .route
            .as_deref()
            .map(|r| clip(r, MAX_TERM_BYTES).to_owned()),
        status: request.status,
        duration_us: request.duration_us,
    }
}

/// A search term as counted: trimmed, runs of whitespace as one space,
/// lower case.
pub fn normalize_term(value: &str) -> String {
    let mut term = String::with_capacity(value.len());
    for word in value.split_whitespace() {
        if !term.is_empty() {
            term.push(' ');
        }
        term.extend(word.chars().flat_map(char::to_lowercase));
    }
    term
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn request(
        route: Option<&'static str>,
        query: &'static str,
        status: u16,
        us: u64,
    ) -> Request<'static> {
        Request {
            at_us: 1_000_000 * i64::try_from(us).unwrap(),
            request_id: Cow::Borrowed("id"),
            method: Cow::Borrowed("GET"),
            path: Cow::Borrowed("/p"),
            query: Cow::Borrowed(query),
            route: route.map(Cow::Borrowed),
            status,
            duration_us: us,
            bytes: 10,
        }
    }

    #[test]
    fn terms_are_decoded_trimmed_and_folded() {
        let mut usage = Usage::default();
        let search = Some("/api/v1/books/search");
        usage.add(Ok(&request(search, "q=%20The%20%20Hobbit+&page=2", 200, 1)));
        usage.add(Ok(&request(
            search,
            "title=the+hobbit&category=Historical%20Fiction",
            200,
            2,
        )));
        usage.add(Ok(&request(
            Some("/api/v1/books"),
            "q=ignored&category=historical-fiction",
            200,
            3,
        )));
        let terms = usage.terms.top(5);
        assert_eq!(terms.len(), 1);
        assert_eq!((terms[0].value.as_str(), terms[0].count), ("the hobbit", 2));
        let categories = usage.categories.top(5);
        assert_eq!(categories[0].value, "historical-fiction");
        assert_eq!(categories[0].count, 2);
    }

    #[test]
    fn slowest_keeps_the_longest_and_the_earliest_of_ties() {
        let mut usage = Usage::new(Limits {
            slowest: 3,
            ..Limits::default()
        });
        for (at, us) in [5, 9, 1, 9, 7, 9, 2, 8].into_iter().enumerate() {
            let mut r = request(None, "", 200, us);
            r.at_us = at as i64;
            usage.add(Ok(&r));
        }
        let slow: Vec<(u64, i64)> = usage
            .slowest()
            .iter()
            .map(|l| (l.duration_us, l.at_us))
            .collect();
        assert_eq!(slow, [(9, 1), (9, 3), (9, 5)]);
        assert_eq!(usage.routes()[0].name, NO_ROUTE);
    }

    #[test]
    fn routes_past_the_limit_are_pooled() {
        let mut usage = Usage::new(Limits {
            routes: 3,
            ..Limits::default()
        });
        for route in ["/a", "/b", "/c", "/d", "/a"] {
            usage.add(Ok(&request(Some(route), "", 200, 1)));
        }
        let names: Vec<(&str, u64)> = usage
            .routes()
            .iter()
            .map(|r| (r.name.as_str(), r.requests))
            .collect();
        // By count, then name: "(" sorts before "/".
        assert_eq!(names, [(OTHER_ROUTES, 2), ("/a", 2), ("/b", 1)]);
    }

    #[test]
    fn errors_past_the_limit_are_counted() {
        let mut usage = Usage::new(Limits {
            errors: 2,
            ..Limits::default()
        });
        for us in [3, 1, 2] {
            usage.add(Ok(&request(None, "", 503, us)));
        }
        usage.add(Err(Skip::NotJson));
        assert_eq!(usage.errors().len(), 2);
        assert_eq!(usage.errors()[0].duration_us, 1);
        assert_eq!(usage.errors_not_listed, 1);
        assert_eq!(
            (usage.records, usage.requests, usage.skipped_total()),
            (4, 3, 1)
        );
        assert_eq!(usage.status_classes()[5], 3);
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("héllo", 3), "hé");
        assert_eq!(clip("abc", 10), "abc");
    }
}
