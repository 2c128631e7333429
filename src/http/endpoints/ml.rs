//! The ML routes' axum handlers: the training dataset, the feature
//! dictionary, predictions and the model card.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, header};

use super::super::body::{JsonBody, Validate};
use super::super::conditional::{self, IfNoneMatch, etag_of, not_modified};
use super::super::error::ApiError;
use super::super::params::{DataFormat, NoParams, Query, TopParams, TrainingDataParams};
use super::super::route::{CachePolicy, Route};
use super::state::Predictor;
use super::{AppState, CSV, JSON, immutable, immutable_as, json};
use crate::ml::serving::SERVED_BY_MLFLOW;
use crate::services;
use crate::services::ml::PredictionRequest;

/// The dataset, ready to train on
///
/// Every book as one row of training columns (`columns` keeps a subset, in
/// the order given), for the whole catalogue or one side of the train/test
/// split. A book is in the test split when the first 8 bytes of
/// SHA-256(`"{seed}:{id}"`), big-endian, divided by 2^64, are below
/// `test_size`: stable when books are added or removed, and the same for
/// JSON and CSV. The defaults are the split the served model was evaluated
/// on. `format=csv` (or `Accept: text/csv`) answers RFC 4180 CSV with a
/// header row, as a download.
#[utoipa::path(get, path = Route::MlTrainingData.path(), operation_id = "getTrainingData", tag = "ml",
    params(TrainingDataParams),
    responses((status = 200, description = "OK", content(
        (services::ml::TrainingData = "application/json"),
        (String = "text/csv", example = "id,split,title\r\n1,train,\"1,000 Places to See Before You Die\"\r\n"),
    ))))]
pub(super) async fn training_data(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    headers: http::HeaderMap,
    query: Query<TrainingDataParams>,
) -> Result<Response, ApiError> {
    let params = &query.params;
    let format = params.format.unwrap_or_else(|| preferred_format(&headers));
    let key = format!("{}#{}", query.raw.canonical(), format.as_str());
    let content_type = match format {
        DataFormat::Json => JSON,
        DataFormat::Csv => CSV,
    };
    let route = Route::MlTrainingData;
    let mut response = immutable_as(&state, &if_none_match, route, &key, content_type, |store| {
        let rows = services::ml::training_rows(store, &params.selection)?;
        let body = match format {
            DataFormat::Json => json(&services::ml::training_data(&params.selection, rows)),
            DataFormat::Csv => {
                Bytes::from(crate::ml::dataset::to_csv(&params.selection.columns, &rows))
            }
        };
        Ok((body, None))
    })?;
    let headers = response.headers_mut();
    // The answer depends on Accept when `format` is not given.
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    if format == DataFormat::Csv {
        let name = format!(
            "attachment; filename=\"books-{}-seed{}-test{}.csv\"",
            params.selection.split.as_str(),
            params.selection.rule.seed,
            params.selection.rule.test_size
        );
        if let Ok(value) = HeaderValue::from_str(&name) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

impl Validate for PredictionRequest {
    fn validate(&self) -> Result<(), String> {
        self.check()
    }
}

/// CSV when `Accept` ranks `text/csv` above `application/json`; else JSON.
fn preferred_format(headers: &http::HeaderMap) -> DataFormat {
    let mut csv = 0.0f32;
    let mut json = 0.0f32;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    for range in ranges {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" => csv = csv.max(q),
            "application/json" => json = json.max(q),
            _ => {}
        }
    }
    if csv > 0.0 && csv > json {
        DataFormat::Csv
    } else {
        DataFormat::Json
    }
}

/// Predict categories
///
/// The category of each book, from its title and description, by the model
/// of `/api/v1/ml/model`: the most probable category, its probability, and
/// the `top` most probable (ties by name). Give `instances` (any text) or
/// `book_ids` (catalogue books; an unknown id is a 422). `model.served_by`
/// says who answered: this API from its model file, or, in orchestrator
/// mode, the MLflow model endpoint, whose failures are a 502 (it failed or
/// answered nonsense) or a 504 (it did not answer in time). 503 when the
/// model file is missing or corrupt; the rest of the API still answers.
#[utoipa::path(post, path = Route::MlPredictions.path(), operation_id = "predictCategories", tag = "ml",
    params(TopParams), request_body = PredictionRequest,
    responses((status = 200, description = "OK", body = services::ml::PredictionResponse)))]
pub(super) async fn predictions(
    State(state): State<AppState>,
    query: Query<TopParams>,
    JsonBody(request): JsonBody<PredictionRequest>,
) -> Result<Response, ApiError> {
    let top = query.params.0;
    let predictor = state.predictor()?;
    let books = {
        // The store is needed only to look books up by id.
        let snapshot = state.store_snapshot();
        services::ml::books_to_predict(snapshot.as_ref().as_ref().ok(), request)?
    };
    let answer = match predictor {
        Predictor::Served(serving) => services::ml::predict_served(serving, &books, top).await?,
        Predictor::File(model) => services::ml::predict(model, &books, top),
    };
    let cache = Route::MlPredictions.cache_policy().cache_control();
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JSON)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        json(&answer),
    )
        .into_response())
}

/// The model and its card
///
/// The served category model: its name, version (the model file's content
/// hash), classes, and its card: the data and split it was trained and
/// evaluated on, the algorithm and how it was chosen, held-out figures next
/// to the majority baseline, what training found for price and rating, and
/// its limitations. In orchestrator mode the description comes from the
/// model endpoint itself (`card_source: served-model`, kept a minute), or,
/// when it cannot say, from the bundled model file (`model-file`).
#[utoipa::path(get, path = Route::MlModel.path(), operation_id = "getModel", tag = "ml",
    responses((status = 200, description = "OK", body = services::ml::ModelView)))]
pub(super) async fn model(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    let view = match state.serving().transpose()? {
        None => services::ml::model_view(
            state.model_summary().ok_or(ApiError::ModelUnavailable)?,
            "model-file",
        ),
        Some(serving) => match serving.describe_cached().await {
            Ok(served) => services::ml::served_model_view(served),
            Err(error) => match state.model_summary() {
                Some(file) => services::ml::model_view(file, SERVED_BY_MLFLOW),
                None => return Err(services::ml::upstream_error(error).into()),
            },
        },
    };
    // The model endpoint's model changes without a deploy of ours.
    let cache = match view.served_by {
        SERVED_BY_MLFLOW => CachePolicy::Revalidate,
        _ => Route::MlModel.cache_policy(),
    }
    .cache_control();
    let etag = etag_of(&[
        crate::VERSION.as_bytes(),
        view.version.as_bytes(),
        view.served_by.as_bytes(),
        view.card_source.as_bytes(),
        Route::MlModel.path().as_bytes(),
    ]);
    if if_none_match.lists(&etag) {
        return Ok(not_modified(&etag, cache));
    }
    Ok(conditional::respond(
        &if_none_match,
        &etag,
        cache,
        JSON,
        json(&view),
    ))
}

/// The feature dictionary
///
/// Every feature a model may read about a book, one entry each: its name,
/// type (numeric, categorical, boolean or text), role (identifier, target
/// or feature), unit, the column it comes from and how it is derived; its
/// statistics over the catalogue (numeric: count, mean, std, quartiles,
/// min/max, distinct values and the Spearman correlation with the book id;
/// categorical: the most common values; boolean: the true share; text:
/// empty count and lengths); and warnings computed from them: constant
/// columns, columns that follow the book id (`leaks_id`) and columns
/// identical to a target. Then the targets (category, price, rating) with
/// what training found for each, from the model card, and the train/test
/// split. Without a sound model file the dictionary still answers, with
/// the findings null.
#[utoipa::path(get, path = Route::MlFeatures.path(), operation_id = "getFeatures", tag = "ml",
    responses((status = 200, description = "OK", body = services::ml_features::FeaturesView)))]
pub(super) async fn features(
    State(state): State<AppState>,
    if_none_match: IfNoneMatch,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    // The answer follows from the data and the model's card: the ETag
    // covers both (`immutable` adds the data's hash).
    let model = state.model_summary();
    let key = model.map_or("no-model", |m| m.version.as_str());
    immutable(&state, &if_none_match, Route::MlFeatures, key, |store| {
        Ok((
            json(&services::ml_features::features(
                store,
                model,
                Route::MlPredictions.path(),
            )?),
            None,
        ))
    })
}
