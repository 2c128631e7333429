//! A log-linear latency histogram in bounded memory: every integer number of
//! microseconds below [`EXACT_BELOW`] has a bucket of its own, so counts and
//! percentiles there are exact; above it each power of two is split into
//! 1,024 equal buckets, so a reported value is within 1/2,048 (0.05 %) of
//! the true one. The largest and smallest values are kept exactly.
//!
//! The buckets above [`EXACT_BELOW`] are allocated an octave at a time (8 KiB
//! each) when a value first falls there: a histogram of values up to a minute
//! holds 16 KiB of exact buckets and at most 15 octaves.

/// Values below this (in microseconds) are counted exactly.
pub const EXACT_BELOW: u64 = 2048;
/// log2 of the buckets per octave above [`EXACT_BELOW`].
const SUB_BITS: u32 = 10;
const SUB_BUCKETS: usize = 1 << SUB_BITS;
/// The first octave above the exact range: values in [2^11, 2^12).
const FIRST_OCTAVE: u32 = EXACT_BELOW.trailing_zeros();
const OCTAVES: usize = (u64::BITS - FIRST_OCTAVE) as usize;

/// Counts of durations (microseconds), with nearest-rank percentiles.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    exact: Box<[u64]>,
    octaves: Vec<Option<Box<[u64]>>>,
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            exact: vec![0; EXACT_BELOW as usize].into_boxed_slice(),
            octaves: vec![None; OCTAVES],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

impl LatencyHistogram {
    /// Counts one value.
    pub fn record(&mut self, micros: u64) {
        self.count += 1;
        self.sum += u128::from(micros);
        self.min = self.min.min(micros);
        self.max = self.max.max(micros);
        if micros < EXACT_BELOW {
            self.exact[micros as usize] += 1;
            return;
        }
        let (octave, sub) = locate(micros);
        let slot = &mut self.octaves[octave];
        slot.get_or_insert_with(|| vec![0; SUB_BUCKETS].into_boxed_slice())[sub] += 1;
    }

    /// How many values were counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The largest value, exactly.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The mean, rounded down.
    pub fn mean(&self) -> Option<u64> {
        (self.count > 0).then(|| u64::try_from(self.sum / u128::from(self.count)).unwrap_or(0))
    }

    /// The `percent`th percentile by nearest rank: the value at rank
    /// ⌈percent × count / 100⌉ (at least 1) in ascending order. Exact below
    /// [`EXACT_BELOW`] and for the smallest and largest values; within
    /// 0.05 % elsewhere.
    pub fn percentile(&self, percent: u32) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let percent = u128::from(percent.min(100));
        let rank = (percent * u128::from(self.count)).div_ceil(100).max(1);
        let rank = u64::try_from(rank).unwrap_or(self.count);
        Some(self.value_at_rank(rank))
    }

    /// The value at 1-based `rank` (1 ..= count) in ascending order.
    fn value_at_rank(&self, rank: u64) -> u64 {
        if rank >= self.count {
            return self.max;
        }
        let mut seen = 0;
        for (value, &n) in self.exact.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return value as u64;
            }
        }
        for (octave, buckets) in self.octaves.iter().enumerate() {
            let Some(buckets) = buckets else { continue };
            for (sub, &n) in buckets.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return representative(octave, sub).clamp(self.min, self.max);
                }
            }
        }
        self.max
    }
}

/// The octave (from [`FIRST_OCTAVE`]) and the bucket within it of a value
/// at or above [`EXACT_BELOW`].
fn locate(micros: u64) -> (usize, usize) {
    let log2 = u64::BITS - 1 - micros.leading_zeros();
    let shift = log2 - SUB_BITS;
    let sub = (micros >> shift) as usize - SUB_BUCKETS;
    ((log2 - FIRST_OCTAVE) as usize, sub)
}

/// The middle of a bucket above the exact range (rounded down).
fn representative(octave: usize, sub: usize) -> u64 {
    let shift = octave as u32 + FIRST_OCTAVE - SUB_BITS;
    let low = ((SUB_BUCKETS + sub) as u64) << shift;
    let width = 1u64 << shift;
    low + (width - 1) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest rank over a sorted list, the definition itself.
    fn nearest_rank(sorted: &[u64], percent: u64) -> u64 {
        let n = sorted.len() as u64;
        let rank = (percent * n).div_ceil(100).max(1);
        sorted[(rank - 1) as usize]
    }

    fn histogram(values: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::default();
        for &v in values {
            h.record(v);
        }
        h
    }

    #[test]
    fn empty_has_no_percentiles() {
        let h = LatencyHistogram::default();
        assert_eq!(h.percentile(50), None);
        assert_eq!(h.max(), None);
        assert_eq!(h.mean(), None);
    }

    #[test]
    fn exact_below_2048_by_nearest_rank() {
        // A pseudo-random spread of values in 0..2048, with repeats.
        let mut values: Vec<u64> = (0..5000u64).map(|i| (i * 7919 + 13) % 2048).collect();
        let h = histogram(&values);
        values.sort_unstable();
        for percent in [0u32, 1, 25, 50, 90, 95, 99, 100] {
            assert_eq!(
                h.percentile(percent),
                Some(nearest_rank(&values, percent.into())),
                "p{percent}"
            );
        }
        assert_eq!(h.count(), 5000);
        assert_eq!(h.max(), Some(2047));
    }

    #[test]
    fn nearest_rank_on_small_sets() {
        // 1..=10: p50 is the 5th value, p95 and p99 the 10th.
        let h = histogram(&(1..=10).collect::<Vec<_>>());
        assert_eq!(h.percentile(50), Some(5));
        assert_eq!(h.percentile(95), Some(10));
        assert_eq!(h.percentile(99), Some(10));
        // One value: every percentile is that value.
        let h = histogram(&[812]);
        assert_eq!(h.percentile(1), Some(812));
        assert_eq!(h.percentile(99), Some(812));
        assert_eq!(h.mean(), Some(812));
    }

    #[test]
    fn within_a_twentieth_of_a_percent_above_2048() {
        let mut values: Vec<u64> = (0..20_000u64)
            .map(|i| 2048 + i * i * 37 % 90_000_000)
            .collect();
        values.push(u64::MAX / 3);
        let h = histogram(&values);
        values.sort_unstable();
        for percent in [1, 10, 50, 90, 95, 99] {
            let want = nearest_rank(&values, percent) as f64;
            let got = h.percentile(percent as u32).unwrap() as f64;
            assert!(
                (got - want).abs() / want <= 1.0 / 2048.0,
                "p{percent}: {got} vs {want}"
            );
        }
        // The extremes are exact.
        assert_eq!(h.percentile(100), Some(u64::MAX / 3));
        assert_eq!(h.max(), Some(u64::MAX / 3));
    }

    #[test]
    fn bucket_edges_are_continuous() {
        // Each value lands in a bucket whose representative is close, across
        // octave boundaries and at the top of the range.
        for v in [2047, 2048, 2049, 4095, 4096, 4097, 1 << 40, u64::MAX] {
            let h = histogram(&[v, v]);
            let got = h.percentile(50).unwrap();
            assert!(got.abs_diff(v) as f64 <= v as f64 / 2048.0, "{v}: {got}");
        }
        let (octave, sub) = locate(u64::MAX);
        assert_eq!((octave, sub), (OCTAVES - 1, SUB_BUCKETS - 1));
    }

    #[test]
    fn memory_grows_only_with_the_octaves_used() {
        let h = histogram(&[5, 3000, 3001, 5000]);
        let used = h.octaves.iter().filter(|o| o.is_some()).count();
        assert_eq!(used, 2);
    }
}
