//! The model card: what the served model is, what it was trained and judged
//! on, how well it does against a baseline, what training found for the
//! targets it does not predict, and where it should not be trusted. It lives
//! inside the model file and is served at `/api/v1/ml/model`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::train::findings::TargetFinding;
use super::train::metrics::Evaluation;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelCard {
    pub task: String,
    pub intended_use: Vec<String>,
    pub data: DataIdentity,
    pub split: SplitCard,
    pub labels: LabelPolicy,
    pub features: FeatureCard,
    /// The algorithm served, with its hyper-parameters.
    pub algorithm: Candidate,
    pub selection: Selection,
    pub calibration: CalibrationCard,
    pub evaluation: EvaluationCard,
    /// Targets training looked at and serves no model for.
    pub other_targets: Vec<TargetFinding>,
    pub limitations: Vec<String>,
}

/// The catalogue the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DataIdentity {
    /// The content hash of the books (as in `/api/v1/health`).
    pub content_hash: String,
    /// When that catalogue was scraped, when known.
    pub scraped_at: Option<String>,
    pub books: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SplitCard {
    pub seed: u64,
    pub test_size: f64,
    /// How a book's side is computed.
    pub rule: String,
    pub train_books: usize,
    pub test_books: usize,
}

/// Which categories the model predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LabelPolicy {
    /// Site placeholders, not genres: never trained on, never predicted,
    /// not evaluated.
    pub excluded_categories: Vec<String>,
    /// A category needs this many books in the train split to be a class.
    pub min_train_books: usize,
    pub classes: usize,
    /// Real categories with too few train books: their test books count as
    /// misses.
    pub too_small: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeatureCard {
    pub inputs: Vec<String>,
    pub text: String,
    pub vocabulary_terms: usize,
    pub min_df: u32,
    pub max_terms: usize,
}

/// A candidate algorithm and its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Candidate {
    ComplementNaiveBayes {
        alpha: f64,
    },
    LogisticRegression {
        l2: f64,
        balanced: bool,
        iterations: u32,
    },
}

impl std::fmt::Display for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Candidate::ComplementNaiveBayes { alpha } => {
                write!(f, "complement naive Bayes, alpha {alpha}")
            }
            Candidate::LogisticRegression {
                l2,
                balanced,
                iterations,
            } => write!(
                f,
                "logistic regression, L2 {l2}{}, {iterations} steps",
                if *balanced { ", balanced" } else { "" }
            ),
        }
    }
}

/// How the algorithm was chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Selection {
    pub method: String,
    pub candidates: Vec<CandidateResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CandidateResult {
    pub candidate: Candidate,
    /// Pooled out-of-fold figures over the train split (what chose).
    pub cv_macro_f1: f64,
    pub cv_accuracy: f64,
    /// Figures on the test split (reported, not used to choose).
    pub test_macro_f1: f64,
    pub test_accuracy: f64,
    pub test_top3_accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationCard {
    /// Which books were evaluated.
    pub set: String,
    pub model: Evaluation,
    /// The train split's most common category.
    pub baseline_category: String,
    /// Always predicting the most common categories (top 3: the three most
    /// common).
    pub majority_baseline: Evaluation,
}

/// How the probabilities were calibrated, and how well they predict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CalibrationCard {
    pub method: String,
    /// Every score was divided by this before the file was written.
    pub temperature: f64,
    /// Mean negative log-likelihood of the true class, out of fold, before
    /// and after scaling.
    pub cv_log_loss_before: f64,
    pub cv_log_loss_after: f64,
    /// Test books of the modelled categories (log loss needs a class).
    pub test_books: usize,
    /// The served model's log loss on them.
    pub test_log_loss: f64,
    /// The log loss of the uniform guess (ln of the class count).
    pub test_uniform_log_loss: f64,
}
