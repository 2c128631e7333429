//! `/ml/features`: the feature dictionary. Every feature of the table with
//! its statistics over the catalogue and what they warn of, the targets
//! with what training found for each (from the model card), and the split.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::ServiceError;
use super::ml::{ModelRef, model_ref};
use crate::ml::card::{Candidate, DataIdentity, ModelCard, SplitCard};
use crate::ml::features::{FEATURES, Feature, FeatureKind, Role};
use crate::ml::model::ModelSummary;
use crate::ml::profile::{
    FeatureProfile, LEAK_SPEARMAN, QUASI_CONSTANT_SHARE, TOP_VALUES, WarningCode, profile_json,
    warning_codes,
};
use crate::ml::split::{self, SplitRule};
use crate::ml::train::findings::MetricPair;
use crate::store::Store;

/// The feature dictionary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeaturesView {
    /// The catalogue the statistics are over.
    pub data: DataIdentity,
    /// Every feature, in the order of the dataset's columns (the JSON the
    /// database was built with, as it is).
    #[schema(value_type = Vec<FeatureProfile>)]
    pub features: Box<RawValue>,
    /// The features (neither the identifier nor a target) with no warning:
    /// the inputs worth trying. A target may also be an input for another.
    pub candidate_inputs: Vec<&'static str>,
    /// The names of the features with each warning.
    pub flagged: FlaggedFeatures,
    /// What is predicted, and what training found for each.
    pub targets: Vec<TargetView>,
    /// The train/test split the model was evaluated on, over this catalogue.
    pub split: SplitCard,
    /// The model whose card the targets' findings come from; null when this
    /// instance has no sound model file (the findings are then null too).
    #[schema(required = true)]
    pub model: Option<ModelRef>,
    /// The rules the warnings follow.
    pub thresholds: WarningThresholds,
    pub notes: Vec<String>,
}

/// The features with each warning code, in table order.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FlaggedFeatures {
    pub constant: Vec<&'static str>,
    pub quasi_constant: Vec<&'static str>,
    pub leaks_id: Vec<&'static str>,
    pub leaks_target: Vec<&'static str>,
    pub duplicate: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WarningThresholds {
    /// `leaks_id` from this |Spearman ρ| with the book id.
    pub leaks_id_abs_spearman: f64,
    /// `quasi_constant` from this share of books with one value.
    pub quasi_constant_share: f64,
    /// Values listed in `top_values`, at most.
    pub top_values: usize,
}

/// A target and what training found for it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    /// The feature predicted.
    #[schema(examples("category"))]
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: FeatureKind,
    #[schema(examples("classification"))]
    pub task: &'static str,
    /// The endpoint serving a model for it; null when none is served.
    #[schema(required = true, examples("POST /api/v1/ml/predictions"))]
    pub served_by: Option<String>,
    /// What training found (the model card's figures); null when the model
    /// file is unavailable.
    #[schema(required = true)]
    pub finding: Option<HeldOutFinding>,
}

/// A model against its trivial baseline, on held-out books.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HeldOutFinding {
    /// The model evaluated.
    pub model: String,
    /// The trivial predictor it is compared with.
    pub baseline: String,
    /// Which books the figures are over.
    pub evaluated_on: String,
    pub books: usize,
    /// Held-out figures of the model and the baseline.
    pub metrics: Vec<MetricPair>,
    /// The share of label permutations doing at least as well; null when
    /// training ran no permutation test for this target.
    #[schema(required = true)]
    pub permutation_p_value: Option<f64>,
    #[schema(required = true)]
    pub permutations: Option<u32>,
    pub conclusion: String,
}

/// The profiles of a catalogue, read (or computed) once per content hash.
struct Profiled {
    content_hash: String,
    books: usize,
    features: Box<RawValue>,
    /// Each feature with the codes of its warnings.
    warnings: Vec<(&'static Feature, Vec<WarningCode>)>,
    train_books: usize,
    test_books: usize,
}

fn profiled(store: &Store) -> Result<Arc<Profiled>, ServiceError> {
    static CACHE: Mutex<Option<Arc<Profiled>>> = Mutex::new(None);
    let hash = store.content_hash();
    let cached = CACHE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(done) = cached.filter(|p| p.content_hash == hash) {
        return Ok(done);
    }
    // Built with the database; a database without them (or from another
    // version of the feature table) has them computed from its books.
    let stored = store
        .feature_profiles()?
        .and_then(|json| Some((warning_codes(&json)?, json)));
    let (warnings, json) = match stored {
        Some(stored) => stored,
        None => {
            let json = profile_json(&store.all_books()?);
            (warning_codes(&json).unwrap_or_default(), json)
        }
    };
    let features = RawValue::from_string(json).map_err(|err| ServiceError::Unavailable {
        cause: Some(format!("the feature profiles are not JSON: {err}")),
    })?;
    let ids = store.book_ids()?;
    let rule = SplitRule::default();
    let test_books = ids.iter().filter(|&&id| rule.is_test(id)).count();
    let done = Arc::new(Profiled {
        content_hash: hash.to_owned(),
        books: ids.len(),
        features,
        warnings,
        train_books: ids.len() - test_books,
        test_books,
    });
    *CACHE.lock().unwrap_or_else(|e| e.into_inner()) = Some(done.clone());
    Ok(done)
}

/// The dictionary over `store`'s catalogue, with the findings of `model`'s
/// card when there is a model. `predictions_path` is where the category
/// model answers (the dictionary names it).
pub fn features(
    store: &Store,
    model: Option<&ModelSummary>,
    predictions_path: &str,
) -> Result<FeaturesView, ServiceError> {
    let profiled = profiled(store)?;
    let mut flagged = FlaggedFeatures::default();
    for (feature, codes) in &profiled.warnings {
        for code in codes {
            let list = match code {
                WarningCode::Constant => &mut flagged.constant,
                WarningCode::QuasiConstant => &mut flagged.quasi_constant,
                WarningCode::LeaksId => &mut flagged.leaks_id,
                WarningCode::LeaksTarget => &mut flagged.leaks_target,
                WarningCode::Duplicate => &mut flagged.duplicate,
            };
            list.push(feature.name);
        }
    }
    let candidate_inputs = profiled
        .warnings
        .iter()
        .filter(|(feature, codes)| feature.role == Role::Feature && codes.is_empty())
        .map(|(feature, _)| feature.name)
        .collect();
    let card = model.map(|m| &m.card);
    let targets = FEATURES
        .iter()
        .filter(|f| f.role == Role::Target)
        .map(|f| target(f.name, f.kind, card, predictions_path))
        .collect();

    let rule = SplitRule::default();
    let mut notes = vec![
        "Statistics are over every book of the catalogue, both sides of the split: fit scalers and encoders on the train split only.".to_owned(),
        "`upc`, `image_url` and `product_url` identify a book as `id` does; they are not features.".to_owned(),
    ];
    match card {
        None => notes.push(
            "The model file is unavailable on this instance: the targets' findings are null."
                .to_owned(),
        ),
        Some(card) if card.data.content_hash != profiled.content_hash => notes.push(format!(
            "The model was trained on another catalogue (content hash {}): its findings may not hold for this one.",
            card.data.content_hash
        )),
        Some(_) => {}
    }
    Ok(FeaturesView {
        data: DataIdentity {
            content_hash: profiled.content_hash.clone(),
            scraped_at: store.scraped_at().map(str::to_owned),
            books: profiled.books,
        },
        features: profiled.features.clone(),
        candidate_inputs,
        flagged,
        targets,
        split: SplitCard {
            seed: rule.seed,
            test_size: rule.test_size,
            rule: split::RULE.to_owned(),
            train_books: profiled.train_books,
            test_books: profiled.test_books,
        },
        model: model.map(|m| model_ref(&m.name, &m.version)),
        thresholds: WarningThresholds {
            leaks_id_abs_spearman: LEAK_SPEARMAN,
            quasi_constant_share: QUASI_CONSTANT_SHARE,
            top_values: TOP_VALUES,
        },
        notes,
    })
}

/// The target `name` and what `card` found for it.
fn target(
    name: &'static str,
    kind: FeatureKind,
    card: Option<&ModelCard>,
    predictions_path: &str,
) -> TargetView {
    let (task, served_by) = match name {
        "category" => ("classification", Some(format!("POST {predictions_path}"))),
        "rating" => ("ordinal (1 to 5 stars): classification or regression", None),
        _ if kind == FeatureKind::Numeric => ("regression", None),
        _ => ("classification", None),
    };
    let finding = card.and_then(|card| {
        if served_by.is_some() {
            Some(category_finding(card, predictions_path))
        } else {
            card.other_targets
                .iter()
                .find(|t| t.target == name)
                .map(|t| HeldOutFinding {
                    model: t.model.clone(),
                    baseline: t.baseline.clone(),
                    evaluated_on: "the test split".into(),
                    books: card.split.test_books,
                    metrics: t.metrics.clone(),
                    permutation_p_value: Some(t.permutation_p_value),
                    permutations: Some(t.permutations),
                    conclusion: t.conclusion.clone(),
                })
        }
    });
    TargetView {
        name,
        kind,
        task,
        served_by,
        finding,
    }
}

/// The served category model's held-out figures against the majority
/// baseline.
fn category_finding(card: &ModelCard, predictions_path: &str) -> HeldOutFinding {
    let evaluation = &card.evaluation;
    let (model, baseline) = (&evaluation.model, &evaluation.majority_baseline);
    let pair = |metric: &str, m: f64, b: f64| MetricPair {
        metric: metric.into(),
        model: m,
        baseline: b,
        higher_is_better: true,
    };
    let beats = model.accuracy > baseline.accuracy && model.top3_accuracy > baseline.top3_accuracy;
    HeldOutFinding {
        model: format!(
            "{} on TF-IDF of title and description",
            describe(&card.algorithm)
        ),
        baseline: format!(
            "always the train split's most common categories ({} first; its top 3 for top-3 accuracy)",
            evaluation.baseline_category
        ),
        evaluated_on: evaluation.set.clone(),
        books: model.books,
        metrics: vec![
            pair("accuracy", model.accuracy, baseline.accuracy),
            pair("top3_accuracy", model.top3_accuracy, baseline.top3_accuracy),
            pair("macro_f1", model.macro_f1, baseline.macro_f1),
        ],
        permutation_p_value: None,
        permutations: None,
        conclusion: format!(
            "{}: held-out accuracy {:.3} against {:.3} for the baseline, top-3 {:.3} against {:.3}, macro-F1 {:.3} against {:.3}; served by POST {}",
            if beats { "signal" } else { "no clear signal" },
            model.accuracy,
            baseline.accuracy,
            model.top3_accuracy,
            baseline.top3_accuracy,
            model.macro_f1,
            baseline.macro_f1,
            predictions_path
        ),
    }
}

/// An algorithm and its hyper-parameters, in words.
fn describe(candidate: &Candidate) -> String {
    match *candidate {
        Candidate::ComplementNaiveBayes { alpha } => {
            format!("complement naive Bayes (α = {alpha})")
        }
        Candidate::LogisticRegression {
            l2,
            balanced,
            iterations,
        } => format!(
            "logistic regression (L2 = {l2}, {} class weights, {iterations} iterations)",
            if balanced { "balanced" } else { "equal" }
        ),
    }
}
