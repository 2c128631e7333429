//! The aggregate of a log, built one record at a time in bounded memory:
//! counts, status mix, per-route latency histograms and 304 share, requests
//! over time, the most asked-for search terms and categories, the slowest
//! requests and the server errors. [`Limits`] bounds every part that could
//! grow with the log.

use std::collections::HashMap;

use super::heavy::HeavyHitters;
use super::histogram::LatencyHistogram;
use super::lists::{FirstN, Logged, MAX_LABEL_BYTES, Slowest, clip};
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
    slowest: Slowest,
    errors: FirstN,
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
            slowest: Slowest::new(limits.slowest),
            errors: FirstN::new(limits.errors),
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
        self.slowest.list()
    }

    /// The server errors listed, in time order (ties: in log order).
    pub fn errors(&self) -> Vec<&Logged> {
        self.errors.list()
    }

    /// The server errors past [`Limits::errors`], counted but not listed.
    pub fn errors_not_listed(&self) -> u64 {
        self.errors.not_kept()
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
        self.slowest.offer(request);
        if request.status >= 500 {
            self.errors.offer(request);
        }
    }

    /// The index of the route's usage, added if new.
    fn route(&mut self, route: Option<&str>) -> usize {
        let name = route.map_or(NO_ROUTE, |r| clip(r, MAX_LABEL_BYTES));
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
                        self.terms.offer(clip(&term, MAX_LABEL_BYTES));
                    }
                }
                "category" => {
                    let slug = category_slug(clip(&value, MAX_LABEL_BYTES));
                    if !slug.is_empty() {
                        self.categories.offer(&slug);
                    }
                }
                _ => {}
            }
        }
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
        assert_eq!(usage.errors_not_listed(), 1);
        assert_eq!(
            (usage.records, usage.requests, usage.skipped_total()),
            (4, 3, 1)
        );
        assert_eq!(usage.status_classes()[5], 3);
    }
}
