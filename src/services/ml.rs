//! `/ml/predictions` and `/ml/model`: the category model over the model file.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use super::ServiceError;
use crate::domain::{BookId, named_schema};
use crate::ml::card::ModelCard;
use crate::ml::dataset::{self, Column, Row};
use crate::ml::model::{ClassProbability, MODEL_NAME, ModelFile, ModelSummary, Prediction};
use crate::ml::serving::{ModelServing, SERVED_BY_MLFLOW, ServedModel, ServingError};
use crate::ml::split::{Split, SplitRule};
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionRequest {
    pub instances: Option<Vec<Instance>>,
    #[serde(default, deserialize_with = "whole_numbers")]
    pub book_ids: Option<Vec<u32>>,
}

/// Book ids as JSON numbers with no fraction, `191.0` as well as `191`:
/// JSON Schema calls both integers, and so do the clients that write
/// every number as a float.
fn whole_numbers<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<u32>>, D::Error> {
    let Some(numbers) = Option::<Vec<serde_json::Number>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    numbers
        .iter()
        .map(|number| {
            let whole = number.as_u64().or_else(|| {
                number
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                    .map(|f| f as u64)
            });
            whole.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "book ids are whole numbers from 1 to {}; got {number}",
                    u32::MAX
                ))
            })
        })
        .collect::<Result<Vec<u32>, D::Error>>()
        .map(Some)
}

// Described by hand: its two forms are schemas of their own, so that the
// document says "exactly one" (`oneOf` of two closed objects) and a client
// generator gets two named types.
impl PartialSchema for PredictionRequest {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(PredictByText::name()))
            .item(Ref::from_schema_name(PredictByBookIds::name()))
            .description(Some(
                "Books by their text, or catalogue books by id: exactly one of the two.",
            ))
            .into()
    }
}

impl ToSchema for PredictionRequest {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PredictByText::name().into(), PredictByText::schema()));
        PredictByText::schemas(schemas);
        schemas.push((PredictByBookIds::name().into(), PredictByBookIds::schema()));
    }
}

/// Books to classify from their text.
#[derive(ToSchema)]
#[allow(dead_code)] // Described, never built: `PredictionRequest` reads it.
pub struct PredictByText {
    /// 1 to 100 books.
    #[schema(min_items = 1, max_items = 100)]
    instances: Vec<Instance>,
}

named_schema!(
    /// Catalogue books to classify from their stored text.
    PredictByBookIds => ObjectBuilder::new()
        .description(Some("Catalogue books to classify from their stored text."))
        .property(
            "book_ids",
            ArrayBuilder::new()
                .items(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                        .minimum(Some(1))
                        .maximum(Some(u32::MAX)),
                )
                .min_items(Some(1))
                .max_items(Some(MAX_INSTANCES))
                .description(Some(
                    "1 to 100 ids of the catalogue's books, as `/books/{id}` takes them; \
                     an id no book has is a 404.",
                )),
        )
        .required("book_ids")
);

/// A book's text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// Not blank; at most 1,000 characters.
    #[schema(
        min_length = 1,
        max_length = 1000,
        pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
        examples("The Haunting of Hill House")
    )]
    pub title: String,
    /// May be empty or left out; at most 20,000 characters.
    #[serde(default)]
    #[schema(max_length = 20000)]
    pub description: String,
}

impl PredictionRequest {
    /// Checks the rules the schema states: exactly one of the two lists,
    /// 1 to [`MAX_INSTANCES`] books, titles not blank, texts within their
    /// lengths, ids positive. `Err` says what is wrong, in words a client
    /// can act on.
    pub fn check(&self) -> Result<(), String> {
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
    /// `model-file`: the API loaded the model file itself; `mlflow`: the
    /// model endpoint (`BOOKS_MODEL_SERVING_URL`) answered.
    #[schema(examples("model-file", "mlflow"))]
    pub served_by: &'static str,
}

/// The answer of `POST /ml/predictions`, one prediction per book, in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PredictionResponse {
    pub model: ModelRef,
    pub predictions: Vec<BookPrediction>,
}

/// One book's prediction. Its fields are spelled out rather than flattened
/// from [`Prediction`]: the document's closed object schemas would otherwise
/// refuse `book_id` beside the prediction's own fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookPrediction {
    /// The book asked for, when the request gave `book_ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub book_id: Option<u32>,
    /// The most probable category.
    pub category: String,
    pub probability: f64,
    /// The `top` most probable categories, most probable first (ties by name).
    pub top: Vec<ClassProbability>,
}

impl BookPrediction {
    fn new(book_id: Option<u32>, prediction: Prediction) -> Self {
        BookPrediction {
            book_id,
            category: prediction.category,
            probability: prediction.probability,
            top: prediction.top,
        }
    }
}

/// One book to predict: its id when it was asked for by id, and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct BookText {
    pub book_id: Option<u32>,
    pub title: String,
    pub description: String,
}

/// The books `request` asks about, in order: its instances as given, or the
/// catalogue's books by id (an unknown id is a missing book, naming it).
pub fn books_to_predict(
    store: Option<&Store>,
    request: PredictionRequest,
) -> Result<Vec<BookText>, ServiceError> {
    match (request.instances, request.book_ids) {
        (Some(instances), _) => Ok(instances
            .into_iter()
            .map(|i| BookText {
                book_id: None,
                title: i.title,
                description: i.description,
            })
            .collect()),
        (None, Some(ids)) => {
            let store = store.ok_or(ServiceError::UNAVAILABLE)?;
            let mut books = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for id in ids {
                let book = BookId::new(id)
                    .ok()
                    .map(|id| store.book(id))
                    .transpose()?
                    .flatten();
                match book {
                    Some(book) => books.push(BookText {
                        book_id: Some(id),
                        title: book.title,
                        description: book.description,
                    }),
                    None => missing.push(id.to_string()),
                }
            }
            if !missing.is_empty() {
                // As for `/books/{id}`: a book that does not exist is a 404.
                missing.truncate(10);
                return Err(ServiceError::BookNotFound {
                    id: missing.join(", "),
                });
            }
            Ok(books)
        }
        (None, None) => Ok(Vec::new()),
    }
}

/// Phase 1: predicts `books` with the model file, listing the `top` best
/// categories.
pub fn predict(model: &ModelFile, books: &[BookText], top: u32) -> PredictionResponse {
    let started = Instant::now();
    let predictions = books
        .iter()
        .map(|book| {
            let prediction = model.predict(&book.title, &book.description, top as usize);
            BookPrediction::new(book.book_id, prediction)
        })
        .collect::<Vec<_>>();
    predicted(&model.name, predictions.len(), started.elapsed());
    PredictionResponse {
        model: model_ref(&model.name, &model.version),
        predictions,
    }
}

/// Phase 2: sends `books` to the model endpoint and shapes its answer as
/// phase 1 does. Its failures are upstream errors, never passed on verbatim.
pub async fn predict_served(
    serving: &ModelServing,
    books: &[BookText],
    top: u32,
) -> Result<PredictionResponse, ServiceError> {
    let texts: Vec<(&str, &str)> = books
        .iter()
        .map(|b| (b.title.as_str(), b.description.as_str()))
        .collect();
    let started = Instant::now();
    let batch = serving.predict(&texts).await.map_err(upstream_error)?;
    predicted(MODEL_NAME, books.len(), started.elapsed());
    let predictions = books
        .iter()
        .zip(batch.rows)
        .map(|(book, row)| {
            let (classes, probabilities): (Vec<String>, Vec<f64>) = row.into_iter().unzip();
            let prediction = Prediction::ranked(&classes, probabilities, top as usize);
            BookPrediction::new(book.book_id, prediction)
        })
        .collect();
    Ok(PredictionResponse {
        model: ModelRef {
            name: MODEL_NAME.to_owned(),
            version: batch.version,
            served_by: SERVED_BY_MLFLOW,
        },
        predictions,
    })
}

/// The model's time, for Server-Timing and the metrics (the model
/// endpoint's includes the network).
fn predicted(model: &str, books: usize, elapsed: Duration) {
    timing::record(Phase::Model, elapsed);
    metrics::predicted(model, books, elapsed);
}

/// A failed call to the model endpoint, as the caller may be told it.
pub fn upstream_error(error: ServingError) -> ServiceError {
    let detail = error.to_string();
    match error {
        ServingError::Timeout(_) => ServiceError::UpstreamTimedOut { detail },
        _ => ServiceError::UpstreamFailed { detail },
    }
}

/// The model file named `name` at `version`, as predicted with here.
pub fn model_ref(name: &str, version: &str) -> ModelRef {
    ModelRef {
        name: name.to_owned(),
        version: version.to_owned(),
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
    /// Who answers `/ml/predictions`: `model-file` (this API) or `mlflow`
    /// (the model endpoint).
    #[schema(examples("model-file", "mlflow"))]
    pub served_by: &'static str,
    /// Where this description comes from: `model-file` (the file bundled
    /// with the API) or `served-model` (the model endpoint's own answer).
    #[schema(examples("model-file", "served-model"))]
    pub card_source: &'static str,
    pub card: ModelCard,
}

/// The view of the bundled model file; `served_by` says who predicts.
pub fn model_view(model: &ModelSummary, served_by: &'static str) -> ModelView {
    ModelView {
        name: model.name.clone(),
        version: model.version.clone(),
        format: model.format.clone(),
        classes: model.classes.clone(),
        vocabulary_terms: model.vocabulary_terms,
        served_by,
        card_source: "model-file",
        card: model.card.clone(),
    }
}

/// The view of the model the endpoint serves, from its own description.
pub fn served_model_view(model: ServedModel) -> ModelView {
    ModelView {
        name: model.name,
        version: model.version,
        format: model.format,
        classes: model.classes,
        vocabulary_terms: model.vocabulary_terms,
        served_by: SERVED_BY_MLFLOW,
        card_source: "served-model",
        card: model.card,
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

/// Which rows and columns of the training data a caller asks for.
#[derive(Debug, Clone)]
pub struct TrainingSelection {
    pub split: Split,
    pub rule: SplitRule,
    pub columns: Vec<Column>,
}

/// The rows of the split and columns `selection` asks for, by id.
pub fn training_rows(
    store: &Store,
    selection: &TrainingSelection,
) -> Result<Vec<Row>, ServiceError> {
    let books = store.all_books()?;
    Ok(dataset::rows(
        &books,
        selection.rule,
        selection.split,
        &selection.columns,
    ))
}

/// The JSON answer around `rows`.
pub fn training_data(selection: &TrainingSelection, rows: Vec<Row>) -> TrainingData {
    TrainingData {
        split: selection.split.as_str(),
        seed: selection.rule.seed,
        test_size: selection.rule.test_size,
        columns: selection.columns.iter().map(|c| c.name()).collect(),
        count: rows.len(),
        items: rows,
    }
}
