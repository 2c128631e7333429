//! `/ml/predictions` and `/ml/model`: the category model over the model file.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::BookId;
use crate::http::body::Validate;
use crate::http::error::ApiError;
use crate::http::params::TrainingDataParams;
use crate::ml::card::ModelCard;
use crate::ml::dataset::{self, Row};
use crate::ml::model::{ModelFile, Prediction};
use crate::observe::metrics;
use crate::observe::timing::{self, Phase};
use crate::store::Store;

/// Instances (or book ids) one request may hold.
pub const MAX_INSTANCES: usize = 100;
/// The longest title and description an instance may have, in characters
/// (the catalogue's longest are about 200 and 8,700).
pub const MAX_TITLE_CHARS: usize = 1_000;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
/// How many ranked categories each prediction lists unless told.
pub const DEFAULT_TOP: u32 = 3;

/// The body of `POST /ml/predictions`: books by their text, or catalogue
/// books by id. Exactly one of the two.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictionRequest {
    /// Books to classify from their text, 1 to 100.
    #[schema(min_items = 1, max_items = 100)]
    pub instances: Option<Vec<Instance>>,
    /// Catalogue books to classify from their stored text, 1 to 100.
    #[schema(min_items = 1, max_items = 100, value_type = Option<Vec<u32>>)]
    pub book_ids: Option<Vec<u32>>,
}

/// A book's text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Not blank; at most 1,000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        examples("The Haunting of Hill House")
    )]
    pub title: String,
    /// May be empty or left out; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: String,
}

impl Validate for PredictionRequest {
    fn validate(&self) -> Result<(), String> {
        let count = match (&self.instances, &self.book_ids) {
            (Some(instances), None) => instances.len(),
            (None, Some(ids)) => ids.len(),
            _ => return Err("give exactly one of instances and book_ids".into()),
        };
        if !(1..=MAX_INSTANCES).contains(&count) {
            return Err(format!(
                "between 1 and {MAX_INSTANCES} books per request; got {count}"
            ));
        }
        for (i, instance) in self.instances.iter().flatten().enumerate() {
            if instance.title.trim().is_empty() {
                return Err(format!("instances[{i}].title must not be blank"));
            }
            if instance.title.chars().count() > MAX_TITLE_CHARS {
                return Err(format!(
                    "instances[{i}].title is longer than {MAX_TITLE_CHARS} characters"
                ));
            }
            if instance.description.chars().count() > MAX_DESCRIPTION_CHARS {
                return Err(format!(
                    "instances[{i}].description is longer than {MAX_DESCRIPTION_CHARS} characters"
                ));
            }
        }
        if let Some(at) = self.book_ids.iter().flatten().position(|&id| id == 0) {
            return Err(format!("book_ids[{at}] must be a positive integer"));
        }
        Ok(())
    }
}

/// Which model answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelRef {
    pub name: String,
    /// The model file's content hash.
    pub version: String,
    /// `model-file`: the API loaded the model file itself.
    pub served_by: &'static str,
}

/// The answer of `POST /ml/predictions`, one prediction per book, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionResponse {
    pub model: ModelRef,
    pub predictions: Vec<BookPrediction>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookPrediction {
    /// The book asked for, when the request gave `book_ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub book_id: Option<u32>,
    #[serde(flatten)]
    pub prediction: Prediction,
}

/// Predicts every book of `request`, listing the `top` best categories.
pub fn predict(
    model: &ModelFile,
    store: Option<&Store>,
    request: &PredictionRequest,
    top: u32,
) -> Result<PredictionResponse, ApiError> {
    let top = top as usize;
    // The model's time alone, for Server-Timing and the metrics.
    let mut model_time = Duration::ZERO;
    let mut predict = |title: &str, description: &str| {
        let started = Instant::now();
        let prediction = model.predict(title, description, top);
        model_time += started.elapsed();
        prediction
    };
    let predictions = match (&request.instances, &request.book_ids) {
        (Some(instances), _) => instances
            .iter()
            .map(|i| BookPrediction {
                book_id: None,
                prediction: predict(&i.title, &i.description),
            })
            .collect(),
        (None, Some(ids)) => {
            let store = store.ok_or(ApiError::UNAVAILABLE)?;
            let mut predictions = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for &id in ids {
                let book = BookId::new(id)
                    .ok()
                    .map(|id| store.book(id))
                    .transpose()?
                    .flatten();
                match book {
                    Some(book) => predictions.push(BookPrediction {
                        book_id: Some(id),
                        prediction: predict(&book.title, &book.description),
                    }),
                    None => missing.push(id.to_string()),
                }
            }
            if !missing.is_empty() {
                missing.truncate(10);
                return Err(ApiError::InvalidBody {
                    detail: format!("no book has id {}", missing.join(", ")),
                });
            }
            predictions
        }
        (None, None) => Vec::new(),
    };
    timing::record(Phase::Model, model_time);
    metrics::predicted(&model.name, predictions.len(), model_time);
    Ok(PredictionResponse {
        model: model_ref(model),
        predictions,
    })
}

pub fn model_ref(model: &ModelFile) -> ModelRef {
    ModelRef {
        name: model.name.clone(),
        version: model.version.clone(),
        served_by: "model-file",
    }
}

/// The model as `/ml/model` shows it: what it is, its classes, its card.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelView {
    pub name: String,
    pub version: String,
    /// The model file's format.
    pub format: String,
    /// The categories it predicts.
    pub classes: Vec<String>,
    pub vocabulary_terms: usize,
    pub card: ModelCard,
}

pub fn model_view(model: &ModelFile) -> ModelView {
    ModelView {
        name: model.name.clone(),
        version: model.version.clone(),
        format: model.format.clone(),
        classes: model.classifier.classes.clone(),
        vocabulary_terms: model.vectorizer.len(),
        card: model.card.clone(),
    }
}

/// `/ml/training-data` as JSON: the split asked for and its rows.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainingData {
    /// `train`, `test` or `all`.
    pub split: &'static str,
    pub seed: u64,
    pub test_size: f64,
    /// The columns of every item, in order.
    pub columns: Vec<&'static str>,
    /// Rows in `items`.
    pub count: usize,
    /// One object per book, by id, with exactly `columns`.
    pub items: Vec<Row>,
}

/// The rows of the split and columns `params` ask for, by id.
pub fn training_rows(store: &Store, params: &TrainingDataParams) -> Result<Vec<Row>, ApiError> {
    let books = store.all_books()?;
    Ok(dataset::rows(
        &books,
        params.rule,
        params.split,
        &params.columns,
    ))
}

/// The JSON answer around `rows`.
pub fn training_data(params: &TrainingDataParams, rows: Vec<Row>) -> TrainingData {
    TrainingData {
        split: params.split.as_str(),
        seed: params.rule.seed,
        test_size: params.rule.test_size,
        columns: params.columns.iter().map(|c| c.name()).collect(),
        count: rows.len(),
        items: rows,
    }
}
