//! Requests over time, per series (route), in bounded memory. Counts go into
//! one-minute bins; when more than [`MAX_STORED_BINS`] bins hold something,
//! the bins widen to the next step of [`LADDER_MINUTES`] (each step a
//! multiple of the one before, so widening merges bins exactly). Lines may
//! come in any order (several files, exports newest first).
//!
//! [`Timeline::chart`] re-bins for a chart: the narrowest step, no
//! narrower than what is stored, that covers the whole span in at most the
//! bins asked for.

use std::collections::BTreeMap;

/// Bin widths, in minutes; past the last, each step doubles.
pub const LADDER_MINUTES: [i64; 11] = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 10_080, 40_320];
/// The most bins held at once (a day of minutes).
pub const MAX_STORED_BINS: usize = 1440;
const MICROS_PER_MINUTE: i64 = 60_000_000;

/// Counts per bin and series.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    step: usize,
    bins: BTreeMap<i64, Vec<u64>>,
}

/// Dense bins for a chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// The first bin's start, in microseconds since the Unix epoch.
    pub start_us: i64,
    /// Each bin's width, in microseconds.
    pub width_us: i64,
    /// Per bin, the count of each series (shorter when the last are 0).
    pub bins: Vec<Vec<u64>>,
}

/// The width of ladder step `step`, in microseconds (saturating).
fn width_us(step: usize) -> i64 {
    let last = LADDER_MINUTES.len() - 1;
    let minutes = if step <= last {
        LADDER_MINUTES[step]
    } else {
        let doublings = u32::try_from(step - last).unwrap_or(u32::MAX);
        LADDER_MINUTES[last].saturating_mul(2i64.saturating_pow(doublings))
    };
    minutes.saturating_mul(MICROS_PER_MINUTE)
}

impl Timeline {
    /// Counts one event of `series` at `at_us` (microseconds since the epoch).
    pub fn add(&mut self, at_us: i64, series: usize) {
        let key = at_us.div_euclid(width_us(self.step));
        let counts = self.bins.entry(key).or_default();
        if counts.len() <= series {
            counts.resize(series + 1, 0);
        }
        counts[series] += 1;
        while self.bins.len() > MAX_STORED_BINS {
            self.widen();
        }
    }

    /// The stored bin width, in microseconds.
    pub fn stored_width_us(&self) -> i64 {
        width_us(self.step)
    }

    fn widen(&mut self) {
        let old = width_us(self.step);
        self.step += 1;
        let new = width_us(self.step);
        let bins = std::mem::take(&mut self.bins);
        for (key, counts) in bins {
            let merged = self
                .bins
                .entry(key.saturating_mul(old).div_euclid(new))
                .or_default();
            add_into(merged, &counts);
        }
    }

    /// The bins re-binned to at most `max_bins` (at least 1) covering the
    /// span from the first to the last event; `None` when nothing was added.
    pub fn chart(&self, max_bins: usize) -> Option<Chart> {
        let (&first, _) = self.bins.first_key_value()?;
        let (&last, _) = self.bins.last_key_value()?;
        let stored = width_us(self.step);
        let (first_us, last_us) = (first.saturating_mul(stored), last.saturating_mul(stored));
        let max_bins = i64::try_from(max_bins.max(1)).unwrap_or(i64::MAX);
        let mut step = self.step;
        loop {
            let width = width_us(step);
            let span = last_us.div_euclid(width) - first_us.div_euclid(width) + 1;
            if span <= max_bins || width == i64::MAX {
                let start = first_us.div_euclid(width);
                let len = usize::try_from(span.min(max_bins)).unwrap_or(1);
                let mut bins = vec![Vec::new(); len];
                for (&key, counts) in &self.bins {
                    let at = key.saturating_mul(stored).div_euclid(width) - start;
                    let at = usize::try_from(at).unwrap_or(0).min(len - 1);
                    add_into(&mut bins[at], counts);
                }
                return Some(Chart {
                    start_us: start.saturating_mul(width),
                    width_us: width,
                    bins,
                });
            }
            step += 1;
        }
    }
}

fn add_into(into: &mut Vec<u64>, counts: &[u64]) {
    if into.len() < counts.len() {
        into.resize(counts.len(), 0);
    }
    for (a, b) in into.iter_mut().zip(counts) {
        *a += b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = MICROS_PER_MINUTE;

    #[test]
    fn the_ladder_steps_are_multiples() {
        let mut step = 1;
        while width_us(step) < i64::MAX {
            assert_eq!(width_us(step) % width_us(step - 1), 0, "step {step}");
            step += 1;
        }
        assert!(step > 30);
    }

    #[test]
    fn minutes_within_the_chart_limit_stay_minutes() {
        let mut t = Timeline::default();
        let base = 29_933_334 * MIN; // a minute in 2026
        for minute in 0..90 {
            t.add(base + minute * MIN + 5, 0);
            if minute % 2 == 0 {
                t.add(base + minute * MIN + 59 * 1_000_000, 1);
            }
        }
        let chart = t.chart(120).unwrap();
        assert_eq!(chart.width_us, MIN);
        assert_eq!(chart.bins.len(), 90);
        assert_eq!(chart.bins[0], [1, 1]);
        assert_eq!(chart.bins[1], [1]);
        let total: u64 = chart.bins.iter().flatten().sum();
        assert_eq!(total, 90 + 45);
    }

    #[test]
    fn a_long_span_is_rebinned_for_the_chart() {
        let mut t = Timeline::default();
        // Out of order: a day apart, then the middle.
        t.add(0, 0);
        t.add(24 * 60 * MIN - 1, 0);
        t.add(12 * 60 * MIN, 2);
        let chart = t.chart(120).unwrap();
        // 1440 minutes in <= 120 bins: 15-minute bins (96 of them).
        assert_eq!(chart.width_us, 15 * MIN);
        assert_eq!(chart.bins.len(), 96);
        assert_eq!(chart.bins[0], [1]);
        assert_eq!(chart.bins[48], [0, 0, 1]);
        assert_eq!(chart.bins[95], [1]);
    }

    #[test]
    fn stored_bins_stay_bounded_and_counts_survive_widening() {
        let mut t = Timeline::default();
        let n = 10_000i64;
        for i in 0..n {
            // One event every 7 minutes, before and after the epoch.
            t.add((i - n / 2) * 7 * MIN, (i % 3) as usize);
        }
        assert!(t.bins.len() <= MAX_STORED_BINS);
        assert!(t.stored_width_us() > MIN);
        let chart = t.chart(120).unwrap();
        assert!(chart.bins.len() <= 120);
        let total: u64 = chart.bins.iter().flatten().sum();
        assert_eq!(total, n as u64);
    }

    #[test]
    fn empty_has_no_chart() {
        assert_eq!(Timeline::default().chart(120), None);
    }
}
