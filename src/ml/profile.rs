//! Summary statistics of every feature of [`FEATURES`] over a catalogue,
//! and the warnings they call for, computed from the data: a feature with
//! one value carries no signal, a number that follows the book id leaks the
//! site's numbering, and a feature identical to a target is that target.

use std::cmp::Ordering;

use serde::Serialize;
use utoipa::ToSchema;

use super::features::{FEATURES, Feature, FeatureKind, FeatureValue, Role, chars, words};
use crate::domain::Book;

/// A numeric feature whose rank correlation with the book id is at least
/// this (in absolute value) leaks the id.
pub const LEAK_SPEARMAN: f64 = 0.9;
/// A feature whose most common value covers at least this share of the
/// books is nearly constant.
pub const QUASI_CONSTANT_SHARE: f64 = 0.99;
/// How many of the most common values are listed.
pub const TOP_VALUES: usize = 10;

/// One feature: its definition, its statistics over the catalogue, and
/// what they warn of.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureProfile {
    /// The dataset column's name.
    #[schema(examples("title_words"))]
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: FeatureKind,
    pub role: Role,
    /// The unit of a numeric feature; null otherwise.
    #[schema(required = true, examples("GBP"))]
    pub unit: Option<&'static str>,
    /// The `books.csv` column it is read from.
    pub column: &'static str,
    /// How it is computed from the column; null when it is the column as is.
    #[schema(required = true)]
    pub derivation: Option<&'static str>,
    /// What a modeller should know about it.
    pub note: &'static str,
    pub stats: FeatureStats,
    /// What the statistics show is wrong with it as an input; empty when
    /// nothing is.
    pub warnings: Vec<Warning>,
}

/// Statistics over every book of the catalogue. The part for the feature's
/// type is filled; the others are null.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureStats {
    /// Books with a value: every book (no feature has missing values).
    pub count: usize,
    /// Distinct values.
    pub distinct: usize,
    /// The share of the books having the most common value.
    #[schema(minimum = 0, maximum = 1)]
    pub top_share: f64,
    #[schema(required = true)]
    pub numeric: Option<NumericStats>,
    #[schema(required = true)]
    pub boolean: Option<BooleanStats>,
    #[schema(required = true)]
    pub text: Option<TextStats>,
    /// The most common values, most common first (ties by value), at most
    /// 10: for categorical features and numeric ones with 10 distinct values
    /// or fewer (then every value); null otherwise.
    #[schema(required = true)]
    pub top_values: Option<Vec<ValueCount>>,
}

/// A numeric feature's distribution (`pandas.Series.describe()`'s figures).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NumericStats {
    pub mean: f64,
    /// Sample standard deviation (n − 1).
    pub std: f64,
    pub min: f64,
    /// Quantiles by linear interpolation between the closest ranks (numpy's
    /// and pandas' default).
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
    /// Spearman rank correlation with the book id (ties take their average
    /// rank); null when the feature is constant. Near ±1, the feature
    /// follows the site's numbering of books.
    #[schema(required = true, minimum = -1, maximum = 1)]
    pub spearman_with_id: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BooleanStats {
    pub true_count: usize,
    #[schema(minimum = 0, maximum = 1)]
    pub true_share: f64,
}

/// A text feature's lengths (characters are Unicode scalar values, words
/// runs of non-whitespace).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TextStats {
    /// Books whose text is empty.
    pub empty: usize,
    pub mean_chars: f64,
    pub max_chars: usize,
    pub mean_words: f64,
    pub max_words: usize,
}

/// A value and how many books have it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ValueCount {
    pub value: FeatureValue<'static>,
    pub count: usize,
    #[schema(minimum = 0, maximum = 1)]
    pub share: f64,
}

/// Something the data shows about a feature.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Warning {
    pub code: WarningCode,
    pub detail: String,
}

/// - `constant`: one value for every book; no signal.
/// - `quasi_constant`: one value for at least 99% of the books.
/// - `leaks_id`: a number whose |Spearman ρ| with the book id is at least
///   0.9: it encodes the site's numbering, not the book.
/// - `leaks_target`: identical to a target for every book.
/// - `duplicate`: identical to an earlier feature for every book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    Constant,
    QuasiConstant,
    LeaksId,
    LeaksTarget,
    Duplicate,
}

/// Every feature of [`FEATURES`] over `books`.
pub fn profile(books: &[Book]) -> Vec<FeatureProfile> {
    let values: Vec<Vec<FeatureValue<'_>>> = FEATURES
        .iter()
        .map(|f| books.iter().map(|b| f.of(b)).collect())
        .collect();
    let ids: Vec<f64> = books.iter().map(|b| f64::from(b.id.get())).collect();
    let mut profiles: Vec<FeatureProfile> = FEATURES
        .iter()
        .zip(&values)
        .map(|(feature, values)| describe(feature, values, &ids))
        .collect();
    // Identical columns: to a target (whatever the order), or to an
    // earlier feature. A constant feature says so already.
    for (i, feature) in FEATURES.iter().enumerate() {
        if feature.role != Role::Feature || profiles[i].stats.distinct <= 1 {
            continue;
        }
        let same = |j: usize| {
            FEATURES[j].kind == feature.kind
                && values[i]
                    .iter()
                    .zip(&values[j])
                    .all(|(a, b)| compare(a, b) == Ordering::Equal)
        };
        let target =
            (0..FEATURES.len()).find(|&j| j != i && FEATURES[j].role == Role::Target && same(j));
        let warning = if let Some(j) = target {
            Warning {
                code: WarningCode::LeaksTarget,
                detail: format!(
                    "identical to the target `{}` for every book: it is that target, not a predictor of it",
                    FEATURES[j].name
                ),
            }
        } else if let Some(j) = (0..i).find(|&j| FEATURES[j].role == Role::Feature && same(j)) {
            Warning {
                code: WarningCode::Duplicate,
                detail: format!("identical to `{}` for every book", FEATURES[j].name),
            }
        } else {
            continue;
        };
        profiles[i].warnings.push(warning);
    }
    profiles
}

/// One feature's profile, with the warnings it shows on its own.
fn describe(feature: &Feature, values: &[FeatureValue<'_>], ids: &[f64]) -> FeatureProfile {
    let count = values.len();
    let counts = value_counts(values);
    let distinct = counts.len();
    let top = counts.first();
    let top_share = top.map_or(0.0, |(_, n)| share(*n, count));
    let numbers: Vec<f64> = values.iter().filter_map(FeatureValue::as_f64).collect();

    let numeric =
        (feature.kind == FeatureKind::Numeric && count > 0).then(|| numeric_stats(&numbers, ids));
    let boolean = (feature.kind == FeatureKind::Boolean).then(|| {
        let true_count = values
            .iter()
            .filter(|v| **v == FeatureValue::Bool(true))
            .count();
        BooleanStats {
            true_count,
            true_share: share(true_count, count),
        }
    });
    let text = (feature.kind == FeatureKind::Text && count > 0).then(|| {
        let texts: Vec<&str> = values.iter().filter_map(FeatureValue::as_str).collect();
        let lengths: Vec<(usize, usize)> = texts.iter().map(|t| (chars(t), words(t))).collect();
        TextStats {
            empty: texts.iter().filter(|t| t.is_empty()).count(),
            mean_chars: tidy(mean(
                &lengths.iter().map(|l| l.0 as f64).collect::<Vec<_>>(),
            )),
            max_chars: lengths.iter().map(|l| l.0).max().unwrap_or(0),
            mean_words: tidy(mean(
                &lengths.iter().map(|l| l.1 as f64).collect::<Vec<_>>(),
            )),
            max_words: lengths.iter().map(|l| l.1).max().unwrap_or(0),
        }
    });
    let listed = match feature.kind {
        FeatureKind::Categorical => true,
        FeatureKind::Numeric => distinct <= TOP_VALUES,
        FeatureKind::Boolean | FeatureKind::Text => false,
    };
    let top_values = listed.then(|| {
        counts
            .iter()
            .take(TOP_VALUES)
            .map(|(value, n)| ValueCount {
                value: (*value).clone().into_owned(),
                count: *n,
                share: share(*n, count),
            })
            .collect()
    });

    let mut warnings = Vec::new();
    if let (1, Some((value, _))) = (distinct, top) {
        warnings.push(Warning {
            code: WarningCode::Constant,
            detail: format!(
                "the same value for every book ({}): it carries no signal",
                shown(value)
            ),
        });
    } else if let Some((value, n)) = top.filter(|_| top_share >= QUASI_CONSTANT_SHARE) {
        warnings.push(Warning {
            code: WarningCode::QuasiConstant,
            detail: format!(
                "{} for {n} of {count} books: too few others to learn from",
                shown(value)
            ),
        });
    }
    let rho = numeric.as_ref().and_then(|n| n.spearman_with_id);
    if let Some(rho) = rho.filter(|r| r.abs() >= LEAK_SPEARMAN && feature.role != Role::Identifier)
    {
        warnings.push(Warning {
            code: WarningCode::LeaksId,
            detail: format!(
                "follows the book id (Spearman ρ = {rho:.3}): it encodes the site's numbering of books, not anything about a book; a model using it learns the id"
            ),
        });
    }
    FeatureProfile {
        name: feature.name,
        kind: feature.kind,
        role: feature.role,
        unit: feature.unit,
        column: feature.column,
        derivation: feature.derivation,
        note: feature.note,
        stats: FeatureStats {
            count,
            distinct,
            top_share,
            numeric,
            boolean,
            text,
            top_values,
        },
        warnings,
    }
}

fn numeric_stats(numbers: &[f64], ids: &[f64]) -> NumericStats {
    let mut sorted = numbers.to_vec();
    sorted.sort_by(f64::total_cmp);
    NumericStats {
        mean: tidy(mean(numbers)),
        std: tidy(sample_std(numbers)),
        min: sorted[0],
        p25: tidy(quantile(&sorted, 0.25)),
        median: tidy(quantile(&sorted, 0.5)),
        p75: tidy(quantile(&sorted, 0.75)),
        max: sorted[sorted.len() - 1],
        spearman_with_id: spearman(numbers, ids).map(tidy),
    }
}

/// `value` to 12 significant digits: the figures keep every meaningful
/// digit and lose the last bits of floating-point noise (`35.98`, not
/// `35.980000000000004`).
fn tidy(value: f64) -> f64 {
    format!("{value:.11e}").parse().unwrap_or(value)
}

/// A value as a warning quotes it.
fn shown(value: &FeatureValue<'_>) -> String {
    match value {
        FeatureValue::Text(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

/// Orders values of one feature: text by its bytes, the rest as numbers.
fn compare(a: &FeatureValue<'_>, b: &FeatureValue<'_>) -> Ordering {
    match (a.as_str(), b.as_str(), a.as_f64(), b.as_f64()) {
        (Some(a), Some(b), _, _) => a.cmp(b),
        (_, _, Some(a), Some(b)) => a.total_cmp(&b),
        // Mixed kinds never occur within a feature; text last.
        _ => a.as_str().is_some().cmp(&b.as_str().is_some()),
    }
}

/// Each distinct value with its count, most common first, ties by value.
fn value_counts<'v, 'a>(values: &'v [FeatureValue<'a>]) -> Vec<(&'v FeatureValue<'a>, usize)> {
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

fn share(n: usize, of: usize) -> f64 {
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

    fn book(id: u32, title: &str, description: &str, pence: u64, stock: u32) -> Book {
        crate::ml::features::tests::book(id, title, description, pence, stock)
    }

    fn find<'p>(profiles: &'p [FeatureProfile], name: &str) -> &'p FeatureProfile {
        profiles.iter().find(|p| p.name == name).unwrap()
    }

    fn codes(profile: &FeatureProfile) -> Vec<WarningCode> {
        profile.warnings.iter().map(|w| w.code).collect()
    }

    #[test]
    fn warnings_come_from_the_data() {
        // Stock rises with the id; the price does not.
        let books: Vec<Book> = (1..=200)
            .map(|i| {
                let description = if i == 1 { "" } else { "some words here" };
                book(
                    i,
                    "A title",
                    description,
                    1000 + u64::from(i * 37 % 101),
                    i / 10,
                )
            })
            .collect();
        let profiles = profile(&books);
        assert_eq!(profiles.len(), FEATURES.len());
        for constant in [
            "tax",
            "review_count",
            "availability",
            "product_type",
            "title",
        ] {
            assert_eq!(
                codes(find(&profiles, constant)),
                [WarningCode::Constant],
                "{constant}"
            );
        }
        assert_eq!(codes(find(&profiles, "stock")), [WarningCode::LeaksId]);
        assert!(
            find(&profiles, "stock").warnings[0]
                .detail
                .contains("ρ = 0.99")
        );
        assert_eq!(
            codes(find(&profiles, "price_excl_tax")),
            [WarningCode::LeaksTarget]
        );
        // The target itself and the identifier are not warned of.
        assert!(codes(find(&profiles, "price")).is_empty());
        assert!(codes(find(&profiles, "id")).is_empty());
        assert_eq!(
            codes(find(&profiles, "has_description")),
            [WarningCode::QuasiConstant]
        );
        // 15 characters and 3 words: not each other's duplicates.
        assert_eq!(
            codes(find(&profiles, "description_words")),
            [WarningCode::QuasiConstant]
        );

        let stock = find(&profiles, "stock").stats.numeric.clone().unwrap();
        assert_eq!((stock.min, stock.max), (0.0, 20.0));
        let in_stock = find(&profiles, "in_stock").stats.boolean.clone().unwrap();
        assert_eq!(in_stock.true_count, 191);
        let text = find(&profiles, "description").stats.text.clone().unwrap();
        assert_eq!((text.empty, text.max_words, text.max_chars), (1, 3, 15));
        let rating = find(&profiles, "rating");
        let top = rating.stats.top_values.clone().unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].value, FeatureValue::Integer(3));
        assert_eq!(
            rating.stats.numeric.as_ref().unwrap().spearman_with_id,
            None
        );
        assert!(find(&profiles, "title").stats.top_values.is_none());
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
