//! The answers of the immutable routes, kept per process. An answer of such a
//! route depends only on the data (its content hash), the API's version and
//! the request's canonical key: exactly what its ETag hashes. So the body made
//! for one ETag is the body for every later request with that ETag, until a
//! new database is served (a new content hash, so new ETags). The whole
//! catalogue (`/books?per_page=1000`, 1.9 MB) is then serialised once per
//! process instead of on every request.
//!
//! Bounded by bytes: when an answer would not fit, everything kept is dropped
//! and the cache fills again from what is asked for next (cheap, and the
//! catalogue's hot answers come straight back). An answer over a quarter of
//! the budget is never kept.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// The environment variable setting the budget, in MiB (0: keep nothing).
pub const RESPONSE_CACHE_ENV: &str = "BOOKS_RESPONSE_CACHE_MB";
/// The budget unless told: the whole catalogue and thousands of pages.
pub const DEFAULT_BUDGET_BYTES: usize = 64 << 20;

/// A kept answer: its body and `Link` header.
pub type Kept = (Bytes, Option<String>);

#[derive(Debug)]
pub struct ResponseCache {
    budget: usize,
    kept: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    answers: HashMap<String, Kept>,
    bytes: usize,
}

impl ResponseCache {
    pub fn new(budget_bytes: usize) -> Self {
        ResponseCache {
            budget: budget_bytes,
            kept: Mutex::new(Entries::default()),
        }
    }

    /// The budget from `BOOKS_RESPONSE_CACHE_MB`, else the default; a value
    /// that is not a whole number is logged and the default kept.
    pub fn budget_from_env() -> usize {
        match std::env::var(RESPONSE_CACHE_ENV) {
            Err(_) => DEFAULT_BUDGET_BYTES,
            Ok(v) if v.trim().is_empty() => DEFAULT_BUDGET_BYTES,
            Ok(v) => match v.trim().parse::<usize>() {
                Ok(mib) => mib.saturating_mul(1 << 20),
                Err(_) => {
                    tracing::warn!(
                        event = "response_cache_setting_ignored",
                        reason = "not a whole number of MiB",
                        value = v.as_str()
                    );
                    DEFAULT_BUDGET_BYTES
                }
            },
        }
    }

    /// The answer kept for `etag`, if any.
    pub fn get(&self, etag: &str) -> Option<Kept> {
        self.lock().answers.get(etag).cloned()
    }

    /// Keeps `answer` for `etag`, dropping everything kept first when it
    /// would not fit; an answer over a quarter of the budget is not kept.
    pub fn insert(&self, etag: &str, answer: &Kept) {
        let size = answer.0.len() + answer.1.as_ref().map_or(0, String::len) + etag.len();
        if size > self.budget / 4 {
            return;
        }
        let mut kept = self.lock();
        if kept.bytes + size > self.budget {
            kept.answers.clear();
            kept.bytes = 0;
        }
        if kept
            .answers
            .insert(etag.to_owned(), answer.clone())
            .is_none()
        {
            kept.bytes += size;
        }
    }

    /// Drops every kept answer.
    pub fn clear(&self) {
        let mut kept = self.lock();
        kept.answers.clear();
        kept.bytes = 0;
    }

    /// Bytes kept now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every update leaves the map and its byte count consistent before
        // anything can panic, so a poisoned lock is still sound.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(bytes: usize) -> Kept {
        (Bytes::from(vec![b'x'; bytes]), None)
    }

    #[test]
    fn keeps_answers_within_the_budget_and_starts_over_when_full() {
        let cache = ResponseCache::new(1000);
        cache.insert("a", &answer(199));
        cache.insert("b", &answer(199));
        assert_eq!(cache.get("a").unwrap().0.len(), 199);
        assert_eq!(cache.bytes(), 400);
        // The same ETag twice counts once.
        cache.insert("a", &answer(199));
        assert_eq!(cache.bytes(), 400);
        // Five answers of 200 bytes (body and key) fill the budget exactly.
        for key in ["c", "d", "e"] {
            cache.insert(key, &answer(199));
        }
        assert_eq!(cache.bytes(), 1000);
        assert!(cache.get("a").is_some());
        // A sixth does not fit: only it is kept.
        cache.insert("f", &answer(199));
        assert!(cache.get("a").is_none() && cache.get("e").is_none());
        assert!(cache.get("f").is_some());
        assert_eq!(cache.bytes(), 200);
        // Over a quarter of the budget: never kept.
        cache.insert("big", &answer(300));
        assert!(cache.get("big").is_none());
        assert!(cache.get("f").is_some());
        cache.clear();
        assert_eq!((cache.get("f"), cache.bytes()), (None, 0));
        // A budget of zero keeps nothing.
        let off = ResponseCache::new(0);
        off.insert("a", &answer(0));
        assert!(off.get("a").is_none());
    }
}
