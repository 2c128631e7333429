//! The most frequent values of a stream in bounded memory: the Space-Saving
//! algorithm (Metwally, Agrawal and El Abbadi, 2005) over a fixed number of
//! slots. While the distinct values fit in the slots, every count is exact.
//! After that, a new value takes the slot of the least counted one and
//! inherits its count as an error bound: a reported count is never below
//! the true count and at most `error` above it, and every value seen more
//! than `total / slots` times is among the slots.
//!
//! Written by hand: it is forty lines, and the crates that offer it carry
//! more (generic sketches, hashing choices) than this report needs.

use std::collections::{BTreeSet, HashMap};

/// One counted value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub value: String,
    /// Never below the true count.
    pub count: u64,
    /// How much `count` may exceed the true count (0 while exact).
    pub error: u64,
}

/// A Space-Saving counter with a fixed number of slots.
#[derive(Debug, Clone)]
pub struct HeavyHitters {
    capacity: usize,
    slots: Vec<Counted>,
    index: HashMap<Box<str>, usize>,
    /// (count, slot), so the least counted slot is the first.
    by_count: BTreeSet<(u64, usize)>,
    evictions: u64,
    total: u64,
}

impl HeavyHitters {
    /// A counter with `capacity` slots (at least one).
    pub fn new(capacity: usize) -> Self {
        HeavyHitters {
            capacity: capacity.max(1),
            slots: Vec::new(),
            index: HashMap::new(),
            by_count: BTreeSet::new(),
            evictions: 0,
            total: 0,
        }
    }

    /// Counts one occurrence of `value`.
    pub fn offer(&mut self, value: &str) {
        self.total += 1;
        if let Some(&slot) = self.index.get(value) {
            let count = self.slots[slot].count;
            self.by_count.remove(&(count, slot));
            self.by_count.insert((count + 1, slot));
            self.slots[slot].count += 1;
            return;
        }
        if self.slots.len() < self.capacity {
            let slot = self.slots.len();
            self.slots.push(Counted {
                value: value.to_owned(),
                count: 1,
                error: 0,
            });
            self.index.insert(value.into(), slot);
            self.by_count.insert((1, slot));
            return;
        }
        // Full: the least counted value gives its slot up.
        let Some((least, slot)) = self.by_count.pop_first() else {
            return;
        };
        self.evictions += 1;
        let evicted = std::mem::replace(
            &mut self.slots[slot],
            Counted {
                value: value.to_owned(),
                count: least + 1,
                error: least,
            },
        );
        self.index.remove(evicted.value.as_str());
        self.index.insert(value.into(), slot);
        self.by_count.insert((least + 1, slot));
    }

    /// Whether every count is exact (the distinct values fitted).
    pub fn is_exact(&self) -> bool {
        self.evictions == 0
    }

    /// How many values were offered.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How many distinct values are held.
    pub fn distinct(&self) -> usize {
        self.slots.len()
    }

    /// The slots' capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The `n` most counted values, by count (highest first), then value.
    pub fn top(&self, n: usize) -> Vec<Counted> {
        let mut top: Vec<&Counted> = self.slots.iter().collect();
        top.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        top.into_iter().take(n).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn exact_while_the_values_fit() {
        let mut hh = HeavyHitters::new(4);
        for v in ["a", "b", "a", "c", "a", "b", "d"] {
            hh.offer(v);
        }
        assert!(hh.is_exact());
        assert_eq!(hh.total(), 7);
        let top: Vec<(String, u64, u64)> = hh
            .top(3)
            .into_iter()
            .map(|c| (c.value, c.count, c.error))
            .collect();
        assert_eq!(
            top,
            [
                ("a".to_owned(), 3, 0),
                ("b".to_owned(), 2, 0),
                ("c".to_owned(), 1, 0)
            ]
        );
    }

    #[test]
    fn bounds_hold_after_evictions() {
        // A skewed stream: value i appears about 1000/(i+1) times, with many
        // one-off values mixed in, through 16 slots.
        let mut stream = Vec::new();
        for i in 0..40u64 {
            for _ in 0..(1000 / (i + 1)) {
                stream.push(format!("v{i}"));
            }
        }
        for j in 0..500 {
            stream.insert((j * 7) % stream.len(), format!("once{j}"));
        }
        let mut truth: HashMap<&str, u64> = HashMap::new();
        let mut hh = HeavyHitters::new(16);
        for v in &stream {
            *truth.entry(v).or_default() += 1;
            hh.offer(v);
        }
        assert!(!hh.is_exact());
        assert_eq!(hh.distinct(), 16);
        let total = stream.len() as u64;
        for c in hh.top(16) {
            let t = truth[c.value.as_str()];
            assert!(c.count >= t, "{c:?} under {t}");
            assert!(c.count - c.error <= t, "{c:?} over {t}");
        }
        // Every value above total/slots is held.
        let held: Vec<String> = hh.top(16).into_iter().map(|c| c.value).collect();
        for (v, &t) in &truth {
            if t > total / 16 {
                assert!(held.iter().any(|h| h == v), "{v} ({t}) missing");
            }
        }
        // The heaviest comes first.
        assert_eq!(hh.top(1)[0].value, "v0");
    }

    #[test]
    fn ties_are_ordered_by_value() {
        let mut hh = HeavyHitters::new(8);
        for v in ["b", "a", "c", "a", "b", "c"] {
            hh.offer(v);
        }
        let order: Vec<String> = hh.top(3).into_iter().map(|c| c.value).collect();
        assert_eq!(order, ["a", "b", "c"]);
    }
}
