//! Held-out figures of a classifier, from counts a reader can recompute:
//! accuracy, macro-F1, top-3 accuracy, per-class recall and the most common
//! confusions.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// How many of the most frequent confusions a card lists.
const CONFUSION_PAIRS: usize = 10;

/// A classifier's figures on one evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Evaluation {
    /// Books evaluated.
    pub books: usize,
    /// Books whose top prediction was their category.
    pub correct: usize,
    /// `correct / books`.
    pub accuracy: f64,
    /// Books whose category was among the top 3 predictions.
    pub top3_correct: usize,
    /// `top3_correct / books`.
    pub top3_accuracy: f64,
    /// The unweighted mean F1 over every category that is either a book's
    /// category or a prediction (F1 is 0 for a category never predicted
    /// right).
    pub macro_f1: f64,
    /// Recall of each category, with its number of books.
    #[schema(value_type = RecallByClass)]
    pub per_class_recall: BTreeMap<String, ClassRecall>,
    /// The most frequent (actual, predicted) mistakes.
    pub confusion_pairs: Vec<ConfusionPair>,
}

/// Each category's recall, by category name: a schema of its own, so that a
/// client generator does not invent a name for the map.
pub struct RecallByClass;

impl PartialSchema for RecallByClass {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Recall of each category, with its number of books, by category name.",
            ))
            .additional_properties(Some(Ref::from_schema_name(ClassRecall::name())))
            .into()
    }
}

impl ToSchema for RecallByClass {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ClassRecall::name().into_owned(), ClassRecall::schema()));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClassRecall {
    pub books: usize,
    pub correct: usize,
    pub recall: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConfusionPair {
    pub actual: String,
    pub predicted: String,
    pub count: usize,
}

/// Evaluates ranked predictions (best first, at least 1) against the actual
/// categories.
pub fn evaluate(actual: &[&str], ranked: &[Vec<&str>]) -> Evaluation {
    let books = actual.len();
    let mut correct = 0;
    let mut top3_correct = 0;
    let mut support: BTreeMap<&str, usize> = BTreeMap::new();
    let mut predicted_count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut hits: BTreeMap<&str, usize> = BTreeMap::new();
    let mut confusions: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (&truth, predictions) in actual.iter().zip(ranked) {
        let best = predictions[0];
        *support.entry(truth).or_default() += 1;
        *predicted_count.entry(best).or_default() += 1;
        if best == truth {
            correct += 1;
            *hits.entry(truth).or_default() += 1;
        } else {
            *confusions.entry((truth, best)).or_default() += 1;
        }
        if predictions.iter().take(3).any(|&p| p == truth) {
            top3_correct += 1;
        }
    }
    let labels: BTreeSet<&str> = support
        .keys()
        .chain(predicted_count.keys())
        .copied()
        .collect();
    let f1_sum: f64 = labels
        .iter()
        .map(|label| {
            let tp = hits.get(label).copied().unwrap_or(0) as f64;
            let predicted = predicted_count.get(label).copied().unwrap_or(0) as f64;
            let actual = support.get(label).copied().unwrap_or(0) as f64;
            if tp == 0.0 {
                0.0
            } else {
                2.0 * tp / (predicted + actual)
            }
        })
        .sum();
    let per_class_recall = support
        .iter()
        .map(|(&label, &n)| {
            let correct = hits.get(label).copied().unwrap_or(0);
            let recall = ratio(correct, n);
            (
                label.to_owned(),
                ClassRecall {
                    books: n,
                    correct,
                    recall,
                },
            )
        })
        .collect();
    let mut pairs: Vec<ConfusionPair> = confusions
        .into_iter()
        .map(|((actual, predicted), count)| ConfusionPair {
            actual: actual.to_owned(),
            predicted: predicted.to_owned(),
            count,
        })
        .collect();
    // Most frequent first; the map's order breaks ties.
    pairs.sort_by_key(|pair| std::cmp::Reverse(pair.count));
    pairs.truncate(CONFUSION_PAIRS);
    Evaluation {
        books,
        correct,
        accuracy: ratio(correct, books),
        top3_correct,
        top3_accuracy: ratio(top3_correct, books),
        macro_f1: if labels.is_empty() {
            0.0
        } else {
            f1_sum / labels.len() as f64
        },
        per_class_recall,
        confusion_pairs: pairs,
    }
}

/// `part / whole`, 0 for an empty whole.
pub fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_follow_their_definitions() {
        let actual = ["a", "a", "b", "c"];
        let ranked = vec![
            vec!["a", "b", "c"],
            vec!["b", "a", "c"],
            vec!["b", "c", "a"],
            vec!["a", "b", "d"],
        ];
        let e = evaluate(&actual, &ranked);
        assert_eq!((e.books, e.correct, e.top3_correct), (4, 2, 3));
        assert_eq!(e.accuracy, 0.5);
        // a: tp 1, predicted 2, actual 2 -> 0.5; b: tp 1, predicted 2,
        // actual 1 -> 2/3; c: 0.
        assert!((e.macro_f1 - (0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        assert_eq!(e.per_class_recall["a"].recall, 0.5);
        assert_eq!(e.per_class_recall["c"].correct, 0);
        assert_eq!(e.confusion_pairs.len(), 2);
        assert_eq!(e.confusion_pairs[0].actual, "a");
    }
}
