//! The targets the served model does *not* predict, and why: price (ridge
//! regression on the structured columns) and rating (naive Bayes on the
//! text), each against its trivial baseline, with a permutation test. A
//! model that cannot beat shuffled labels has learned nothing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bayes;
use super::metrics::evaluate;
use crate::domain::Book;
use crate::ml::features;
use crate::ml::linear::LinearClassifier;
use crate::ml::text::{Tokenizer, VocabularyRules, book_text};

/// Significance level the conclusions use.
const ALPHA: f64 = 0.05;

/// What training found for one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TargetFinding {
    pub target: String,
    /// The model tried.
    pub model: String,
    /// The trivial predictor it is compared with.
    pub baseline: String,
    /// Test-split figures of the model and the baseline.
    pub metrics: Vec<MetricPair>,
    /// The share of label permutations (train labels shuffled, model refit)
    /// doing at least as well as the real labels on `metrics[0]`.
    pub permutation_p_value: f64,
    pub permutations: u32,
    pub conclusion: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MetricPair {
    pub metric: String,
    pub model: f64,
    pub baseline: f64,
    /// Whether a higher value is better.
    pub higher_is_better: bool,
}

/// Price from category, rating, title length and description length.
pub fn price(train: &[&Book], test: &[&Book], permutations: u32, seed: u64) -> TargetFinding {
    const RIDGE: f64 = 1.0;
    let design = Design::fit(train);
    let x_train: Vec<Vec<f64>> = train.iter().map(|b| design.row(b)).collect();
    let x_test: Vec<Vec<f64>> = test.iter().map(|b| design.row(b)).collect();
    let y_train: Vec<f64> = train.iter().map(|b| pounds(b)).collect();
    let y_test: Vec<f64> = test.iter().map(|b| pounds(b)).collect();

    let mae_of = |y: &[f64]| {
        let predict = ridge(&x_train, y, RIDGE);
        let predictions: Vec<f64> = x_test.iter().map(|x| predict(x)).collect();
        (mae(&predictions, &y_test), r2(&predictions, &y_test))
    };
    let (model_mae, model_r2) = mae_of(&y_train);
    let mean = y_train.iter().sum::<f64>() / y_train.len() as f64;
    let baseline = vec![mean; y_test.len()];
    let (base_mae, base_r2) = (mae(&baseline, &y_test), r2(&baseline, &y_test));

    let mut rng = fastrand::Rng::with_seed(seed);
    let mut shuffled = y_train.clone();
    let as_good = (0..permutations)
        .filter(|_| {
            rng.shuffle(&mut shuffled);
            mae_of(&shuffled).0 <= model_mae
        })
        .count();
    let p = (1 + as_good) as f64 / (1 + permutations) as f64;
    TargetFinding {
        target: "price".into(),
        model: format!(
            "ridge regression (λ = {RIDGE}) on category (one-hot), rating (one-hot), title length and description word count"
        ),
        baseline: "the train split's mean price".into(),
        metrics: vec![
            MetricPair {
                metric: "mae_gbp".into(),
                model: model_mae,
                baseline: base_mae,
                higher_is_better: false,
            },
            MetricPair {
                metric: "r2".into(),
                model: model_r2,
                baseline: base_r2,
                higher_is_better: true,
            },
        ],
        permutation_p_value: p,
        permutations,
        conclusion: conclusion(p, model_mae < base_mae),
    }
}

/// Rating (1–5 stars) from the text.
pub fn rating(train: &[&Book], test: &[&Book], permutations: u32, seed: u64) -> TargetFinding {
    const ALPHA_SMOOTHING: f64 = 1.0;
    let vocabulary = VocabularyRules {
        min_df: 2,
        max_terms: 5000,
    };
    let texts = |books: &[&Book]| -> Vec<String> {
        books
            .iter()
            .map(|b| book_text(&b.title, &b.description))
            .collect()
    };
    let (train_texts, test_texts) = (texts(train), texts(test));
    let classes: Vec<String> = (1..=5).map(|r: u8| r.to_string()).collect();
    let label = |b: &&Book| usize::from(b.rating.stars()) - 1;
    let y_train: Vec<usize> = train.iter().map(label).collect();
    let actual: Vec<&str> = test.iter().map(|b| classes[label(b)].as_str()).collect();

    let (vectorizer, x_train) = crate::ml::text::Vectorizer::fit_transform(
        Tokenizer::default(),
        vocabulary,
        train_texts.iter().map(String::as_str),
    );
    let x_test: Vec<_> = test_texts.iter().map(|t| vectorizer.transform(t)).collect();
    let params = bayes::BayesParams {
        alpha: ALPHA_SMOOTHING,
    };
    let accuracy_of = |labels: &[usize]| {
        let (intercepts, coefficients) =
            bayes::fit(&x_train, labels, classes.len(), vectorizer.len(), &params);
        let model = LinearClassifier {
            classes: classes.clone(),
            intercepts,
            coefficients,
        };
        let ranked: Vec<Vec<&str>> = x_test
            .iter()
            .map(|x| {
                model
                    .ranked(x)
                    .into_iter()
                    .map(|(c, _)| classes[c].as_str())
                    .collect()
            })
            .collect();
        evaluate(&actual, &ranked)
    };
    let model = accuracy_of(&y_train);
    let majority = majority(&y_train, classes.len());
    let baseline = evaluate(
        &actual,
        &vec![vec![classes[majority].as_str()]; actual.len()],
    );

    let mut rng = fastrand::Rng::with_seed(seed);
    let mut shuffled = y_train.clone();
    let as_good = (0..permutations)
        .filter(|_| {
            rng.shuffle(&mut shuffled);
            accuracy_of(&shuffled).accuracy >= model.accuracy
        })
        .count();
    let p = (1 + as_good) as f64 / (1 + permutations) as f64;
    TargetFinding {
        target: "rating".into(),
        model: format!(
            "complement naive Bayes (α = {ALPHA_SMOOTHING}) on TF-IDF of title and description"
        ),
        baseline: format!(
            "always the train split's most common rating ({} of 5)",
            majority + 1
        ),
        metrics: vec![
            MetricPair {
                metric: "accuracy".into(),
                model: model.accuracy,
                baseline: baseline.accuracy,
                higher_is_better: true,
            },
            MetricPair {
                metric: "macro_f1".into(),
                model: model.macro_f1,
                baseline: baseline.macro_f1,
                higher_is_better: true,
            },
        ],
        permutation_p_value: p,
        permutations,
        conclusion: conclusion(p, model.accuracy > baseline.accuracy),
    }
}

fn conclusion(p: f64, beats_baseline: bool) -> String {
    if p < ALPHA && beats_baseline {
        format!("some signal (p = {p:.3}), but no model for it is served")
    } else {
        format!(
            "no usable signal: the model {} the baseline and shuffled labels do as well (p = {p:.3}); no model is served for this target",
            if beats_baseline {
                "barely differs from"
            } else {
                "does not beat"
            }
        )
    }
}

/// The most common label (ties: the lowest).
pub(crate) fn majority(labels: &[usize], classes: usize) -> usize {
    let mut counts = vec![0usize; classes];
    for &l in labels {
        counts[l] += 1;
    }
    (0..classes)
        .max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
        .unwrap_or(0)
}

fn pounds(book: &Book) -> f64 {
    book.price.pence() as f64 / 100.0
}

/// The structured columns as numbers: category and rating one-hot, title
/// length and description word count standardised on the train split.
struct Design {
    categories: Vec<String>,
    length_scale: [(f64, f64); 2],
}

impl Design {
    fn fit(train: &[&Book]) -> Self {
        let mut categories: Vec<String> = train.iter().map(|b| b.category.clone()).collect();
        categories.sort();
        categories.dedup();
        let scale = |f: &dyn Fn(&Book) -> f64| {
            let values: Vec<f64> = train.iter().map(|b| f(b)).collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            (mean, var.sqrt().max(1e-12))
        };
        Design {
            categories,
            length_scale: [scale(&title_chars), scale(&description_words)],
        }
    }

    fn row(&self, book: &Book) -> Vec<f64> {
        let mut row = vec![0.0; self.categories.len() + 5 + 2];
        if let Ok(i) = self.categories.binary_search(&book.category) {
            row[i] = 1.0;
        }
        row[self.categories.len() + usize::from(book.rating.stars()) - 1] = 1.0;
        let n = row.len();
        for (slot, (value, (mean, sd))) in row[n - 2..].iter_mut().zip(
            [title_chars(book), description_words(book)]
                .into_iter()
                .zip(self.length_scale),
        ) {
            *slot = (value - mean) / sd;
        }
        row
    }
}

/// The `title_chars` feature of `/api/v1/ml/features`.
fn title_chars(book: &Book) -> f64 {
    features::chars(&book.title) as f64
}

/// The `description_words` feature of `/api/v1/ml/features`.
fn description_words(book: &Book) -> f64 {
    features::words(&book.description) as f64
}

/// Ridge regression with an unpenalised intercept; returns the predictor.
fn ridge(x: &[Vec<f64>], y: &[f64], lambda: f64) -> impl Fn(&[f64]) -> f64 + use<> {
    let n = x.len() as f64;
    let d = x.first().map_or(0, Vec::len);
    let x_mean: Vec<f64> = (0..d)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let y_mean = y.iter().sum::<f64>() / n;
    // (Xcᵀ Xc + λI) β = Xcᵀ yc, solved by Gaussian elimination.
    let mut a = vec![vec![0.0; d + 1]; d];
    for (row, &target) in x.iter().zip(y) {
        for i in 0..d {
            let xi = row[i] - x_mean[i];
            for j in 0..d {
                a[i][j] += xi * (row[j] - x_mean[j]);
            }
            a[i][d] += xi * (target - y_mean);
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += lambda;
    }
    let beta = solve(a);
    move |row: &[f64]| {
        y_mean
            + row
                .iter()
                .zip(&x_mean)
                .zip(&beta)
                .map(|((v, m), b)| (v - m) * b)
                .sum::<f64>()
    }
}

/// Solves the augmented system `a` (d rows of d + 1) with partial pivoting.
/// The ridge term keeps it positive definite.
fn solve(mut a: Vec<Vec<f64>>) -> Vec<f64> {
    let d = a.len();
    for col in 0..d {
        let pivot = (col..d)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for row in lower {
            let factor = row[col] / pivot_row[col];
            for (value, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * p;
            }
        }
    }
    let mut beta = vec![0.0; d];
    for row in (0..d).rev() {
        let rest: f64 = (row + 1..d).map(|k| a[row][k] * beta[k]).sum();
        beta[row] = (a[row][d] - rest) / a[row][row];
    }
    beta
}

fn mae(predictions: &[f64], actual: &[f64]) -> f64 {
    let total: f64 = predictions
        .iter()
        .zip(actual)
        .map(|(p, a)| (p - a).abs())
        .sum();
    total / actual.len().max(1) as f64
}

/// The coefficient of determination against the evaluated values' own mean.
fn r2(predictions: &[f64], actual: &[f64]) -> f64 {
    let mean = actual.iter().sum::<f64>() / actual.len().max(1) as f64;
    let residual: f64 = predictions
        .iter()
        .zip(actual)
        .map(|(p, a)| (a - p).powi(2))
        .sum();
    let total: f64 = actual.iter().map(|a| (a - mean).powi(2)).sum();
    if total == 0.0 {
        0.0
    } else {
        1.0 - residual / total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_recovers_a_linear_rule() {
        use super::super::metrics::ratio;
        let x: Vec<Vec<f64>> = (0..20)
            .map(|i| vec![f64::from(i), f64::from(i % 3)])
            .collect();
        let y: Vec<f64> = x.iter().map(|r| 2.0 + 3.0 * r[0] - r[1]).collect();
        let predict = ridge(&x, &y, 1e-9);
        assert!((predict(&[10.0, 1.0]) - 31.0).abs() < 1e-6);
        assert_eq!(ratio(1, 4), 0.25);
        assert_eq!(majority(&[2, 1, 2, 1], 3), 1);
    }
}
