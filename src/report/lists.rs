//! The requests the report lists one by one, in bounded memory: the
//! slowest (a min-heap of the slowest so far; ties keep the first in the
//! log) and the server errors (the first in the log; the rest are counted).
//! Kept text is cut at [`MAX_KEPT_BYTES`].

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::record::Request;

/// The most bytes kept of a logged path, query or request id.
pub const MAX_KEPT_BYTES: usize = 1024;
/// The most bytes kept of a short label: a route, a method, a search term.
pub const MAX_LABEL_BYTES: usize = 200;

/// A request kept for a list.
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

impl Logged {
    fn of(request: &Request<'_>) -> Logged {
        Logged {
            at_us: request.at_us,
            request_id: clip(&request.request_id, MAX_KEPT_BYTES).to_owned(),
            method: clip(&request.method, MAX_LABEL_BYTES).to_owned(),
            path: clip(&request.path, MAX_KEPT_BYTES).to_owned(),
            query: clip(&request.query, MAX_KEPT_BYTES).to_owned(),
            route: request
                .route
                .as_deref()
                .map(|r| clip(r, MAX_LABEL_BYTES).to_owned()),
            status: request.status,
            duration_us: request.duration_us,
        }
    }
}

/// The `capacity` slowest requests.
#[derive(Debug, Clone)]
pub struct Slowest {
    capacity: usize,
    /// The least slow on top.
    heap: BinaryHeap<Reverse<Slow>>,
    offered: u64,
}

/// A slow request, ordered by duration, then the earlier in the log first.
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

impl Slowest {
    pub fn new(capacity: usize) -> Self {
        Slowest {
            capacity,
            heap: BinaryHeap::new(),
            offered: 0,
        }
    }

    /// Keeps `request` if it is among the slowest so far.
    pub fn offer(&mut self, request: &Request<'_>) {
        self.offered += 1;
        let key = (request.duration_us, Reverse(self.offered));
        if self.heap.len() < self.capacity {
            let request = Logged::of(request);
            self.heap.push(Reverse(Slow { key, request }));
        } else if self.heap.peek().is_some_and(|Reverse(min)| key > min.key) {
            let request = Logged::of(request);
            self.heap.pop();
            self.heap.push(Reverse(Slow { key, request }));
        }
    }

    /// Slowest first (ties: in log order).
    pub fn list(&self) -> Vec<&Logged> {
        let mut slow: Vec<&Slow> = self.heap.iter().map(|Reverse(s)| s).collect();
        slow.sort_by(|a, b| b.cmp(a));
        slow.into_iter().map(|s| &s.request).collect()
    }
}

/// The first `capacity` requests offered; the rest are counted.
#[derive(Debug, Clone)]
pub struct FirstN {
    capacity: usize,
    kept: Vec<Logged>,
    not_kept: u64,
}

impl FirstN {
    pub fn new(capacity: usize) -> Self {
        FirstN {
            capacity,
            kept: Vec::new(),
            not_kept: 0,
        }
    }

    pub fn offer(&mut self, request: &Request<'_>) {
        if self.kept.len() < self.capacity {
            self.kept.push(Logged::of(request));
        } else {
            self.not_kept += 1;
        }
    }

    /// The kept requests in time order (ties: in log order).
    pub fn list(&self) -> Vec<&Logged> {
        let mut kept: Vec<&Logged> = self.kept.iter().collect();
        kept.sort_by_key(|e| e.at_us);
        kept
    }

    /// How many were offered past the capacity.
    pub fn not_kept(&self) -> u64 {
        self.not_kept
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn clip(text: &str, max: usize) -> &str {
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

    fn request(at_us: i64, duration_us: u64) -> Request<'static> {
        Request {
            at_us,
            request_id: Cow::Borrowed("id"),
            method: Cow::Borrowed("GET"),
            path: Cow::Owned("/p".repeat(1000)),
            query: Cow::Borrowed(""),
            route: None,
            status: 503,
            duration_us,
            bytes: 0,
        }
    }

    #[test]
    fn slowest_keeps_the_longest_and_the_earliest_of_ties() {
        let mut slowest = Slowest::new(3);
        for (at, us) in [5, 9, 1, 9, 7, 9, 2, 8].into_iter().enumerate() {
            slowest.offer(&request(at as i64, us));
        }
        let slow: Vec<(u64, i64)> = slowest
            .list()
            .iter()
            .map(|l| (l.duration_us, l.at_us))
            .collect();
        assert_eq!(slow, [(9, 1), (9, 3), (9, 5)]);
        // Kept text is cut.
        assert_eq!(slowest.list()[0].path.len(), MAX_KEPT_BYTES);
    }

    #[test]
    fn the_first_are_kept_and_listed_in_time_order() {
        let mut errors = FirstN::new(2);
        for at in [3, 1, 2] {
            errors.offer(&request(at, 1));
        }
        let at: Vec<i64> = errors.list().iter().map(|l| l.at_us).collect();
        assert_eq!(at, [1, 3]);
        assert_eq!(errors.not_kept(), 1);
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        assert_eq!(clip("héllo", 2), "h");
        assert_eq!(clip("héllo", 3), "hé");
        assert_eq!(clip("abc", 10), "abc");
    }
}
