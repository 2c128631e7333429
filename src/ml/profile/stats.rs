//! The statistics themselves, over plain numbers and values: means,
//! standard deviations, quantiles, rank correlation, and the counts of
//! distinct values.

use std::cmp::Ordering;

use crate::ml::features::FeatureValue;

/// `value` to 12 significant digits: the figures keep every meaningful
/// digit and lose the last bits of floating-point noise (`35.98`, not
/// `35.980000000000004`).
pub(super) fn tidy(value: f64) -> f64 {
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// Orders values of one feature: text by its bytes, the rest as numbers.
pub(super) fn compare(a: &FeatureValue<'_>, b: &FeatureValue<'_>) -> Ordering {
    match (a.as_str(), b.as_str(), a.as_f64(), b.as_f64()) {
        (Some(a), Some(b), _, _) => a.cmp(b),
        (_, _, Some(a), Some(b)) => a.total_cmp(&b),
        // Mixed kinds never occur within a feature; text last.
        _ => a.as_str().is_some().cmp(&b.as_str().is_some()),
    }
}

/// Each distinct value with its count, most common first, ties by value.
pub(super) fn value_counts<'v, 'a>(
    values: &'v [FeatureValue<'a>],
) -> Vec<(&'v FeatureValue<'a>, usize)> {
    let mut sorted: Vec<&FeatureValue<'_>> = values.iter().collect();
    sorted.sort_by(|a, b| compare(a, b));
    let mut counts: Vec<(&FeatureValue<'_>, usize)> = Vec::new();
    for value in sorted {
        match counts.last_mut() {
            Some((last, n)) if compare(last, value) == Ordering::Equal => *n += 1,
            _ => counts.push((value, 1)),
        }
    }
    // Stable: equal counts keep the values' order.
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts
}

pub(super) fn share(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// The arithmetic mean; 0 for no values.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample standard deviation (n − 1 degrees of freedom); 0 for fewer
/// than two values.
pub fn sample_std(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let squares: f64 = values.iter().map(|v| (v - m).powi(2)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

/// The `q` quantile (0 ≤ q ≤ 1) of ascending `sorted` values, interpolating
/// linearly between the closest ranks: at position (n − 1)·q. NaN when
/// there are no values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let position = last as f64 * q.clamp(0.0, 1.0);
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    sorted[below] + fraction * (sorted[above] - sorted[below])
}

/// 1-based ranks, ties taking the average of the ranks they span.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        // Positions start..=end hold ranks start+1..=end+1.
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            ranks[i] = rank;
        }
        start = end + 1;
    }
    ranks
}

/// Pearson's correlation; `None` when either side is constant or there are
/// fewer than two pairs.
pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        cov += dx * dy;
        va += dx * dx;
        vb += dy * dy;
    }
    if va == 0.0 || vb == 0.0 {
        return None;
    }
    Some((cov / (va * vb).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman's rank correlation: Pearson's over average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    pearson(&ranks(a), &ranks(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        // numpy.percentile([1, 2, 3, 4], [0, 25, 50, 75, 100])
        for (q, want) in [
            (0.0, 1.0),
            (0.25, 1.75),
            (0.5, 2.5),
            (0.75, 3.25),
            (1.0, 4.0),
        ] {
            assert!(close(quantile(&v, q), want), "{q}");
        }
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
        // An odd count's median is its middle value.
        assert_eq!(quantile(&[1.0, 5.0, 100.0], 0.5), 5.0);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), [1.5, 3.0, 1.5, 4.0]);
        assert_eq!(ranks(&[5.0, 5.0, 5.0]), [2.0, 2.0, 2.0]);
        assert_eq!(ranks(&[]), Vec::<f64>::new());
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        // scipy.stats.spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
        let rho = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[5.0, 6.0, 7.0, 8.0, 7.0]).unwrap();
        assert!(close(rho, 0.820_782_681_668_123_3), "{rho}");
        // Monotone is ±1 however non-linear.
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        let cubes: Vec<f64> = x.iter().map(|v| v.powi(3)).collect();
        let falling: Vec<f64> = x.iter().map(|v| -v.exp()).collect();
        assert_eq!(spearman(&x, &cubes), Some(1.0));
        assert_eq!(spearman(&x, &falling), Some(-1.0));
        // Constant: undefined.
        assert_eq!(spearman(&x, &[3.0; 20]), None);
        assert_eq!(pearson(&[1.0], &[2.0]), None);
    }

    #[test]
    fn figures_lose_only_floating_point_noise() {
        assert_eq!(tidy(35.980000000000004), 35.98);
        assert_eq!(tidy(0.1 + 0.2), 0.3);
        assert_eq!(tidy(0.993_476_787_346_401_5), 0.993_476_787_346);
        assert_eq!(tidy(-1.0), -1.0);
        assert_eq!(tidy(0.0), 0.0);
    }

    #[test]
    fn mean_and_sample_std() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_eq!(mean(&v), 5.0);
        // Population σ is 2; the sample one is sqrt(32 / 7).
        assert!(close(sample_std(&v), (32.0f64 / 7.0).sqrt()));
        assert_eq!(sample_std(&[1.0]), 0.0);
    }

    #[test]
    fn top_values_are_most_common_first_then_by_value() {
        let values: Vec<FeatureValue<'_>> = ["b", "a", "c", "a", "b", "d"]
            .into_iter()
            .map(|s| FeatureValue::Text(s.into()))
            .collect();
        let counts: Vec<(String, usize)> = value_counts(&values)
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect();
        let want = [("a", 2), ("b", 2), ("c", 1), ("d", 1)].map(|(v, n)| (v.to_owned(), n));
        assert_eq!(counts, want);
    }
}
