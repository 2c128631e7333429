//! `books train`: from the books alone to a model file, deterministically.
//!
//! 1. Split the books by [`SplitRule`]; drop the pseudo-categories; a
//!    category with fewer than `min_train_books` train books is no class.
//! 2. Choose among the candidates by pooled 5-fold cross-validated macro-F1
//!    on the train split (the test split chooses nothing).
//! 3. Refit the winner on the whole train split, round its numbers to the
//!    precision the file stores, and evaluate *that* model on the test split,
//!    next to the majority baseline.
//! 4. Look at price and rating too, and say what was found.

pub mod bayes;
pub mod calibration;
pub mod findings;
pub mod logistic;
pub mod metrics;

use std::collections::BTreeMap;

use thiserror::Error;

use super::card::{
    CalibrationCard, Candidate, CandidateResult, DataIdentity, EvaluationCard, FeatureCard,
    LabelPolicy, ModelCard, Selection, SplitCard,
};
use super::linear::LinearClassifier;
use super::model::{MODEL_NAME, ModelFile};
use super::split::SplitRule;
use super::text::{Tokenizer, Vectorizer, VocabularyRules, book_text};
use crate::domain::Book;
use metrics::{Evaluation, evaluate};

/// Categories of the site that are placeholders, not genres.
pub const PSEUDO_CATEGORIES: [&str; 2] = ["Add a comment", "Default"];

/// Everything training is told.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub split: SplitRule,
    pub min_train_books: usize,
    pub folds: u32,
    pub vocabulary: VocabularyRules,
    pub candidates: Vec<Candidate>,
    /// Label shuffles for the price and rating permutation tests.
    pub permutations: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        let logistic = |l2| Candidate::LogisticRegression {
            l2,
            balanced: true,
            iterations: 500,
        };
        TrainOptions {
            split: SplitRule::default(),
            min_train_books: 5,
            folds: 5,
            vocabulary: VocabularyRules {
                min_df: 2,
                max_terms: 5000,
            },
            candidates: vec![
                Candidate::ComplementNaiveBayes { alpha: 0.1 },
                Candidate::ComplementNaiveBayes { alpha: 0.3 },
                Candidate::ComplementNaiveBayes { alpha: 1.0 },
                logistic(3e-4),
                logistic(1e-3),
                logistic(3e-3),
            ],
            permutations: 199,
        }
    }
}

#[derive(Debug, Error)]
pub enum TrainError {
    #[error("{0}")]
    Data(String),
}

/// Trains the category model on `books` and writes its card.
pub fn train(
    books: &[Book],
    data: DataIdentity,
    options: &TrainOptions,
) -> Result<ModelFile, TrainError> {
    let rule = options.split;
    let (train, test): (Vec<&Book>, Vec<&Book>) =
        books.iter().partition(|b| !rule.is_test(b.id.get()));
    let real = |b: &&&Book| !PSEUDO_CATEGORIES.contains(&b.category.as_str());

    let mut train_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for book in train.iter().filter(real) {
        *train_counts.entry(&book.category).or_default() += 1;
    }
    let classes: Vec<String> = train_counts
        .iter()
        .filter(|(_, n)| **n >= options.min_train_books)
        .map(|(c, _)| (*c).to_owned())
        .collect();
    if classes.len() < 2 {
        return Err(TrainError::Data(format!(
            "only {} categories have {} or more train books; a classifier needs 2",
            classes.len(),
            options.min_train_books
        )));
    }
    let too_small: Vec<String> = {
        let mut all: Vec<&str> = books
            .iter()
            .map(|b| b.category.as_str())
            .filter(|c| !PSEUDO_CATEGORIES.contains(c))
            .collect();
        all.sort_unstable();
        all.dedup();
        all.into_iter()
            .filter(|c| classes.binary_search_by(|k| k.as_str().cmp(c)).is_err())
            .map(str::to_owned)
            .collect()
    };
    let class_of = |b: &Book| classes.binary_search(&b.category).ok();
    let examples: Vec<(&Book, usize)> = train
        .iter()
        .filter_map(|b| class_of(b).map(|c| (*b, c)))
        .collect();
    let evaluated: Vec<&Book> = test.iter().filter(real).copied().collect();
    if evaluated.is_empty() {
        return Err(TrainError::Data(
            "the test split holds no book to evaluate on".into(),
        ));
    }

    // Choose by cross-validation on the train split.
    let folds = options.folds.max(2);
    let fold_rule = SplitRule {
        seed: rule.seed.wrapping_add(1),
        test_size: 0.0,
    };
    let fold_of: Vec<u32> = examples
        .iter()
        .map(|(b, _)| ((fold_rule.position(b.id.get()) * f64::from(folds)) as u32).min(folds - 1))
        .collect();
    let mut results = Vec::new();
    let mut scores_by_candidate = Vec::new();
    for candidate in &options.candidates {
        let mut actual = Vec::new();
        let mut ranked = Vec::new();
        let mut out_of_fold = Vec::new();
        for fold in 0..folds {
            let (fit_on, held): (Vec<usize>, Vec<usize>) =
                (0..examples.len()).partition(|&i| fold_of[i] != fold);
            let fit_examples: Vec<(&Book, usize)> = fit_on.iter().map(|&i| examples[i]).collect();
            let model = fit(&fit_examples, &classes, candidate, options.vocabulary);
            for &i in &held {
                let (book, class) = examples[i];
                actual.push(book.category.as_str());
                ranked.push(model.ranked_labels(book));
                out_of_fold.push((model.scores(book), class));
            }
        }
        let ranked: Vec<Vec<&str>> = ranked
            .iter()
            .map(|r: &Vec<String>| r.iter().map(String::as_str).collect())
            .collect();
        let cv = evaluate(&actual, &ranked);
        let on_test = fit(&examples, &classes, candidate, options.vocabulary).evaluate(&evaluated);
        scores_by_candidate.push(out_of_fold);
        results.push(CandidateResult {
            candidate: *candidate,
            cv_macro_f1: cv.macro_f1,
            cv_accuracy: cv.accuracy,
            test_macro_f1: on_test.macro_f1,
            test_accuracy: on_test.accuracy,
            test_top3_accuracy: on_test.top3_accuracy,
        });
    }
    let (best_index, best) = results
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.cv_macro_f1.total_cmp(&b.cv_macro_f1).then(j.cmp(i)))
        .map(|(i, r)| (i, r.candidate))
        .ok_or_else(|| TrainError::Data("no candidate algorithm to train".into()))?;

    // Temperature scaling on the winner's out-of-fold scores: dividing every
    // score by T keeps the ranking (and so every accuracy figure) and makes
    // the probabilities mean what they say.
    let out_of_fold = &scores_by_candidate[best_index];
    let temperature = calibration::fit_temperature(out_of_fold);
    let mut chosen = fit(&examples, &classes, &best, options.vocabulary);
    chosen.scale_scores(1.0 / temperature);
    chosen.round_to_stored_precision();
    let test_scored: Vec<(Vec<f64>, usize)> = evaluated
        .iter()
        .filter_map(|b| class_of(b).map(|c| (chosen.scores(b), c)))
        .collect();
    let calibration_card = CalibrationCard {
        method: "temperature scaling: every score divided by T, T minimising the log loss of the chosen candidate's out-of-fold predictions".into(),
        temperature: round_significant(temperature),
        cv_log_loss_before: calibration::log_loss(out_of_fold, 1.0),
        cv_log_loss_after: calibration::log_loss(out_of_fold, temperature),
        test_books: test_scored.len(),
        test_log_loss: calibration::log_loss(&test_scored, 1.0),
        test_uniform_log_loss: (classes.len() as f64).ln(),
    };
    let model_eval = chosen.evaluate(&evaluated);
    let (baseline_category, baseline_eval) = majority_baseline(&examples, &classes, &evaluated);

    let other_targets = vec![
        findings::price(&train, &test, options.permutations, rule.seed),
        findings::rating(&train, &test, options.permutations, rule.seed),
    ];
    let card = ModelCard {
        task: "Predict a book's category from its title and description.".into(),
        intended_use: vec![
            "Suggest a category for a new title, or a real category for the books the site files under its placeholders (Default, Add a comment).".into(),
            "Use the ranked list (top 3), not only the first answer: top-3 accuracy is far above top-1.".into(),
            "Not for automatic filing without review: most single answers are wrong for the smaller categories.".into(),
        ],
        data,
        split: SplitCard {
            seed: rule.seed,
            test_size: rule.test_size,
            rule: super::split::RULE.into(),
            train_books: train.len(),
            test_books: test.len(),
        },
        labels: LabelPolicy {
            excluded_categories: PSEUDO_CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
            min_train_books: options.min_train_books,
            classes: classes.len(),
            too_small,
        },
        features: FeatureCard {
            inputs: vec!["title".into(), "description".into()],
            text: "title + \"\\n\" + description; ASCII-lowercased tokens of [a-z0-9], 2+ characters, not all digits, stop words dropped; TF = 1 + ln(count), IDF = ln((1 + n) / (1 + df)) + 1, L2-normalised".into(),
            vocabulary_terms: chosen.vectorizer.len(),
            min_df: options.vocabulary.min_df,
            max_terms: options.vocabulary.max_terms,
        },
        algorithm: best,
        selection: Selection {
            method: format!(
                "highest pooled {folds}-fold cross-validated macro-F1 on the train split's modelled books (folds by the split hash with seed + 1); test figures are reported only"
            ),
            candidates: results,
        },
        calibration: calibration_card,
        evaluation: EvaluationCard {
            set: "the test split's books, except those filed under the excluded placeholder categories; books of categories too small to be a class count as misses".into(),
            model: model_eval,
            baseline_category,
            majority_baseline: baseline_eval,
        },
        other_targets,
        limitations: vec![
            "The site's placeholder categories Default and Add a comment are not genres; the model never predicts them.".into(),
            format!(
                "Categories with fewer than {} train books are not classes: their books are always misclassified.",
                options.min_train_books
            ),
            "Categories overlap (Fiction, Womens Fiction, Historical Fiction; Nonfiction and its subjects): confusions between them are expected.".into(),
            "Probabilities are a softmax over linear scores, temperature-scaled on cross-validation; with 29 classes and short texts they stay modest, and a class absent from the model gets none.".into(),
            "The catalogue is a scraping sandbox of 1000 books: prices and ratings are synthetic and unrelated to the text.".into(),
        ],
    };
    Ok(ModelFile::new(
        MODEL_NAME,
        chosen.vectorizer,
        chosen.classifier,
        card,
    ))
}

/// A fitted text classifier: vectorizer and linear scores.
pub struct TextModel {
    pub vectorizer: Vectorizer,
    pub classifier: LinearClassifier,
}

impl TextModel {
    fn ranked_labels(&self, book: &Book) -> Vec<String> {
        let x = self
            .vectorizer
            .transform(&book_text(&book.title, &book.description));
        self.classifier
            .ranked(&x)
            .into_iter()
            .take(3)
            .map(|(c, _)| self.classifier.classes[c].clone())
            .collect()
    }

    /// The linear scores of every class for `book`.
    fn scores(&self, book: &Book) -> Vec<f64> {
        let x = self
            .vectorizer
            .transform(&book_text(&book.title, &book.description));
        self.classifier.scores(&x)
    }

    /// Multiplies every score by `factor` (the model stays linear).
    fn scale_scores(&mut self, factor: f64) {
        self.classifier
            .intercepts
            .iter_mut()
            .for_each(|v| *v *= factor);
        self.classifier
            .coefficients
            .iter_mut()
            .flatten()
            .for_each(|v| *v *= factor);
    }

    fn evaluate(&self, books: &[&Book]) -> Evaluation {
        let ranked: Vec<Vec<String>> = books.iter().map(|b| self.ranked_labels(b)).collect();
        let actual: Vec<&str> = books.iter().map(|b| b.category.as_str()).collect();
        let ranked: Vec<Vec<&str>> = ranked
            .iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect();
        evaluate(&actual, &ranked)
    }

    /// Keeps 8 significant digits of every stored number, so the file stays
    /// small and the model evaluated is exactly the one served.
    fn round_to_stored_precision(&mut self) {
        let round = |v: &mut f64| *v = round_significant(*v);
        self.vectorizer.idf.iter_mut().for_each(round);
        self.classifier.intercepts.iter_mut().for_each(round);
        self.classifier
            .coefficients
            .iter_mut()
            .flatten()
            .for_each(round);
    }
}

/// `value` to 8 significant digits.
pub fn round_significant(value: f64) -> f64 {
    format!("{value:.7e}").parse().unwrap_or(value)
}

/// Fits `candidate` on `examples` (book, class index), with a vectorizer
/// fitted on the same books.
fn fit(
    examples: &[(&Book, usize)],
    classes: &[String],
    candidate: &Candidate,
    vocabulary: VocabularyRules,
) -> TextModel {
    let texts: Vec<String> = examples
        .iter()
        .map(|(b, _)| book_text(&b.title, &b.description))
        .collect();
    let (vectorizer, xs) = Vectorizer::fit_transform(
        Tokenizer::default(),
        vocabulary,
        texts.iter().map(String::as_str),
    );
    let labels: Vec<usize> = examples.iter().map(|(_, c)| *c).collect();
    let (k, terms) = (classes.len(), vectorizer.len());
    let (intercepts, coefficients) = match *candidate {
        Candidate::ComplementNaiveBayes { alpha } => {
            bayes::fit(&xs, &labels, k, terms, &bayes::BayesParams { alpha })
        }
        Candidate::LogisticRegression {
            l2,
            balanced,
            iterations,
        } => logistic::fit(
            &xs,
            &labels,
            k,
            terms,
            &logistic::LogisticParams {
                l2,
                balanced,
                iterations,
            },
        ),
    };
    TextModel {
        vectorizer,
        classifier: LinearClassifier {
            classes: classes.to_vec(),
            intercepts,
            coefficients,
        },
    }
}

/// Always the train split's most common classes, most common first.
fn majority_baseline(
    examples: &[(&Book, usize)],
    classes: &[String],
    evaluated: &[&Book],
) -> (String, Evaluation) {
    let mut counts = vec![0usize; classes.len()];
    for (_, c) in examples {
        counts[*c] += 1;
    }
    let mut order: Vec<usize> = (0..classes.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    let top: Vec<&str> = order.iter().take(3).map(|&c| classes[c].as_str()).collect();
    let actual: Vec<&str> = evaluated.iter().map(|b| b.category.as_str()).collect();
    let ranked = vec![top.clone(); actual.len()];
    (top[0].to_owned(), evaluate(&actual, &ranked))
}
