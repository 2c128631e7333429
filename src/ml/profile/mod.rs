//! Summary statistics of every feature of [`FEATURES`] over a catalogue,
//! and the warnings they call for, computed from the data: a feature with
//! one value carries no signal, a number that follows the book id leaks the
//! site's numbering, and a feature identical to a target is that target.
//!
//! `stats` holds the statistics themselves and `views` the serialisable
//! types a profile is shaped into; this module computes each feature's
//! figures and warnings from the data.

use std::cmp::Ordering;

use super::features::{FEATURES, Feature, FeatureKind, FeatureValue, Role, chars, words};
use crate::domain::Book;

mod stats;
mod views;

use stats::{compare, share, tidy, value_counts};
pub use stats::{mean, pearson, quantile, ranks, sample_std, spearman};
pub use views::{
    BooleanStats, FeatureProfile, FeatureStats, NumericStats, TextStats, ValueCount, Warning,
    WarningCode,
};

/// A numeric feature whose rank correlation with the book id is at least
/// this (in absolute value) leaks the id.
pub const LEAK_SPEARMAN: f64 = 0.9;
/// A feature whose most common value covers at least this share of the
/// books is nearly constant.
pub const QUASI_CONSTANT_SHARE: f64 = 0.99;
/// How many of the most common values are listed.
pub const TOP_VALUES: usize = 10;

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

/// [`profile`] as JSON text: what the database keeps, built once with it,
/// and `/ml/features` answers with as it is.
pub fn profile_json(books: &[Book]) -> String {
    // Plain structs of strings and numbers always serialise.
    serde_json::to_string(&profile(books)).unwrap_or_default()
}

/// Each feature of [`FEATURES`] with the codes of its warnings, read from
/// [`profile_json`]'s text; `None` when the text is not a profile of these
/// features, in their order (a database built by another version).
pub fn warning_codes(json: &str) -> Option<Vec<(&'static Feature, Vec<WarningCode>)>> {
    #[derive(serde::Deserialize)]
    struct Listed {
        name: String,
        warnings: Vec<Code>,
    }
    #[derive(serde::Deserialize)]
    struct Code {
        code: WarningCode,
    }
    let listed: Vec<Listed> = serde_json::from_str(json).ok()?;
    if listed.len() != FEATURES.len() {
        return None;
    }
    FEATURES
        .iter()
        .zip(listed)
        .map(|(feature, listed)| {
            (feature.name == listed.name).then(|| {
                (
                    feature,
                    listed.warnings.into_iter().map(|w| w.code).collect(),
                )
            })
        })
        .collect()
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

/// A value as a warning quotes it.
fn shown(value: &FeatureValue<'_>) -> String {
    match value {
        FeatureValue::Text(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
