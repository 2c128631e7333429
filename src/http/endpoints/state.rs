//! What every handler shares, [`AppState`]: the database (replaceable
//! whole), the model or its endpoint, the authentication settings and the
//! scrape trigger.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::cache::{self, ResponseCache};
use crate::auth::AuthConfig;
use crate::http::error::ApiError;
use crate::ml::serving::ModelServing;
use crate::ml::{ModelError, ModelFile, ModelSummary};
use crate::scraping::ScrapeTrigger;
use crate::store::{Store, StoreError};

/// The database as a request sees it: the one open when the request began,
/// kept open by the request even if a fresh scrape replaces it meanwhile.
pub type StoreSnapshot = Arc<Result<Store, StoreError>>;

/// What every handler shares: the database, opened once per process (and
/// replaced whole when `books serve` publishes a fresh scrape); the model,
/// loaded once by the processes that serve a route using it (or the reason
/// it could not be); the authentication settings, for the routes that sign
/// in or check a caller (`None`: not configured, so those routes answer 503).
#[derive(Clone)]
pub struct AppState {
    store: Arc<ArcSwap<Result<Store, StoreError>>>,
    model: Option<Arc<Result<ModelFile, ModelError>>>,
    /// The model's summary: from `model` when that was loaded, else read
    /// alone by the processes that only show the card.
    summary: Option<Arc<ModelSummary>>,
    serving: Option<Arc<Result<ModelServing, String>>>,
    auth: Option<Arc<AuthConfig>>,
    trigger: Option<Arc<ScrapeTrigger>>,
    responses: Arc<ResponseCache>,
}

impl AppState {
    pub fn new(store: Result<Store, StoreError>) -> Self {
        AppState {
            store: Arc::new(ArcSwap::from_pointee(store)),
            model: None,
            summary: None,
            serving: None,
            auth: None,
            trigger: None,
            responses: Arc::new(ResponseCache::new(cache::DEFAULT_BUDGET_BYTES)),
        }
    }

    /// The state with a model (or the reason it could not be loaded).
    pub fn with_model(self, model: Result<ModelFile, ModelError>) -> Self {
        AppState {
            summary: model.as_ref().ok().map(|m| Arc::new(m.summary())),
            model: Some(Arc::new(model)),
            ..self
        }
    }

    /// The state with only the model's summary (`None`: it could not be
    /// read), for the routes that show the card and never predict.
    pub fn with_model_summary(self, summary: Option<ModelSummary>) -> Self {
        AppState {
            summary: summary.map(Arc::new),
            ..self
        }
    }

    /// The state in orchestrator mode: predictions come from the model
    /// endpoint (or, when its setting is wrong, say why they cannot).
    pub fn with_serving(self, serving: Result<ModelServing, String>) -> Self {
        AppState {
            serving: Some(Arc::new(serving)),
            ..self
        }
    }

    /// The state with authentication configured (`None`: it is not).
    pub fn with_auth(self, auth: Option<AuthConfig>) -> Self {
        AppState {
            auth: auth.map(Arc::new),
            ..self
        }
    }

    /// The state with a scrape trigger (`None`: scraping cannot be
    /// triggered here, so the trigger answers 503).
    pub fn with_trigger(self, trigger: Option<ScrapeTrigger>) -> Self {
        AppState {
            trigger: trigger.map(Arc::new),
            ..self
        }
    }

    /// The state keeping at most `budget_bytes` of answers (0: none).
    pub fn with_response_cache(self, budget_bytes: usize) -> Self {
        AppState {
            responses: Arc::new(ResponseCache::new(budget_bytes)),
            ..self
        }
    }

    /// The answers of the immutable routes kept so far.
    pub(super) fn responses(&self) -> &ResponseCache {
        &self.responses
    }

    /// Whether a scrape trigger is configured.
    pub fn has_trigger(&self) -> bool {
        self.trigger.is_some()
    }

    /// The trigger, or 503 when none is configured.
    pub(super) fn trigger(&self) -> Result<&ScrapeTrigger, ApiError> {
        self.trigger
            .as_deref()
            .ok_or(ApiError::TriggerNotConfigured)
    }

    /// The database now; a request holds one snapshot throughout.
    pub fn store_snapshot(&self) -> StoreSnapshot {
        self.store.load_full()
    }

    /// Serves `store` from now on. Requests under way finish on the one they
    /// began with, which closes when the last of them is done.
    pub fn replace_store(&self, store: Store) {
        self.store.store(Arc::new(Ok(store)));
        // The old data's answers can no longer be asked for (new ETags).
        self.responses.clear();
    }

    /// The authentication settings, or 503 when they are not configured.
    pub(crate) fn auth(&self) -> Result<&Arc<AuthConfig>, ApiError> {
        self.auth.as_ref().ok_or(ApiError::AuthNotConfigured)
    }

    /// The model, if this process loaded one and it was sound.
    pub fn model_handle(&self) -> Option<&ModelFile> {
        self.model.as_deref().and_then(|m| m.as_ref().ok())
    }

    pub(super) fn model(&self) -> Result<&ModelFile, ApiError> {
        self.model_handle().ok_or(ApiError::ModelUnavailable)
    }

    /// The model's summary, if this process read a sound one.
    pub fn model_summary(&self) -> Option<&ModelSummary> {
        self.summary.as_deref()
    }

    /// Who answers predictions: the model endpoint in orchestrator mode,
    /// else the model file (503 when the one in use is unavailable).
    pub(super) fn predictor(&self) -> Result<Predictor<'_>, ApiError> {
        match self.serving() {
            Some(serving) => serving.map(Predictor::Served),
            None => self.model().map(Predictor::File),
        }
    }

    /// The model endpoint in orchestrator mode: `None` when the model file
    /// is used; `Some(Err)` when the endpoint's setting is wrong (logged at
    /// start), which is a 503 rather than a silent fallback to the file.
    pub(super) fn serving(&self) -> Option<Result<&ModelServing, ApiError>> {
        self.serving
            .as_deref()
            .map(|serving| serving.as_ref().map_err(|_| ApiError::ModelUnavailable))
    }
}

/// What answers `/ml/predictions`.
pub(super) enum Predictor<'a> {
    /// Phase 1: the model file, in this process.
    File(&'a ModelFile),
    /// Phase 2: the model endpoint.
    Served(&'a ModelServing),
}
