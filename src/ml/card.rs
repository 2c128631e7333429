//! The model card: what the served model is, what it was trained and judged
//! on, how well it does against a baseline, what training found for the
//! targets it does not predict, and where it should not be trusted. It lives
//! inside the model file and is served at `/api/v1/ml/model`.

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::train::findings::TargetFinding;
use super::train::metrics::Evaluation;
use crate::domain::{named_schema, one_of_words};

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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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

// Described by hand so that each variant is a named schema (derive inlines
// them, and a client generator then invents `CandidateType0`).
impl PartialSchema for Candidate {
    fn schema() -> RefOr<Schema> {
        let variant = |name: &str| Ref::from_schema_name(name);
        OneOfBuilder::new()
            .item(variant(NAIVE_BAYES))
            .item(variant(LOGISTIC_REGRESSION))
            .discriminator(Some(Discriminator::with_mapping(
                "algorithm",
                [
                    (
                        "complement_naive_bayes",
                        format!("#/components/schemas/{NAIVE_BAYES}"),
                    ),
                    (
                        "logistic_regression",
                        format!("#/components/schemas/{LOGISTIC_REGRESSION}"),
                    ),
                ],
            )))
            .description(Some("A candidate algorithm and its hyper-parameters."))
            .into()
    }
}

impl ToSchema for Candidate {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let number = || {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Double)))
        };
        let algorithm = || Ref::from_schema_name(Algorithm::name());
        let naive_bayes = ObjectBuilder::new()
            .description(Some(
                "Complement naive Bayes (Rennie et al. 2003) and its smoothing.",
            ))
            .property("algorithm", algorithm())
            .property("alpha", number())
            .required("algorithm")
            .required("alpha");
        let logistic = ObjectBuilder::new()
            .description(Some("Multinomial logistic regression and its L2 penalty."))
            .property("algorithm", algorithm())
            .property("l2", number())
            .property("balanced", ObjectBuilder::new().schema_type(Type::Boolean))
            .property(
                "iterations",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                    .minimum(Some(0)),
            )
            .required("algorithm")
            .required("l2")
            .required("balanced")
            .required("iterations");
        schemas.extend([
            (NAIVE_BAYES.to_owned(), naive_bayes.into()),
            (LOGISTIC_REGRESSION.to_owned(), logistic.into()),
            (Algorithm::name().into_owned(), Algorithm::schema()),
        ]);
    }
}

const NAIVE_BAYES: &str = "ComplementNaiveBayes";
const LOGISTIC_REGRESSION: &str = "LogisticRegression";

named_schema!(
    /// A candidate's algorithm: the tag of [`Candidate`].
    Algorithm => one_of_words(
        &["complement_naive_bayes", "logistic_regression"],
        "The algorithm of a candidate.",
    )
);

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
