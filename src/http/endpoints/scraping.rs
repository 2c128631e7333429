//! The operator's scrape trigger and its status, admin only. Where the work
//! runs (a GitHub Actions deploy, or this process) is the trigger's business
//! ([`crate::scraping`]); here are the HTTP shapes.

use axum::extract::{FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, JSON, json};
use crate::http::bearer::Admin;
use crate::http::body::{Validate, media_type};
use crate::http::error::ApiError;
use crate::http::params::{NoParams, Query};
use crate::http::route::Route;
use crate::scraping::{
    Accepted, MAX_REASON_CHARS, RunStatus, TriggerError, TriggerMode, WorkflowRun,
};

/// A trigger's body; the body itself may be left out.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// Why the scrape is started: shown in the run's status and, on GitHub,
    /// in the deploy's job summary. At most 200 characters, none of them
    /// control characters; "api" when left out.
    #[schema(
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
        examples("prices changed upstream")
    )]
    pub reason: Option<String>,
}

impl Validate for TriggerRequest {
    fn validate(&self) -> Result<(), String> {
        match &self.reason {
            Some(reason)
                if reason.chars().count() > MAX_REASON_CHARS
                    || reason.chars().any(char::is_control) =>
            {
                Err(format!(
                    "reason must be at most {MAX_REASON_CHARS} characters, none of them control"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The optional JSON body: none at all (only whitespace) is the default
/// request; anything else must be a JSON trigger request (an object, as the
/// document says: not `null`), with the same 400/413/415/422 as every JSON
/// body.
pub(super) struct OptionalBody(TriggerRequest);

impl<S: Send + Sync> FromRequest<S> for OptionalBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = media_type(request.headers()).is_some_and(|t| {
            t.eq_ignore_ascii_case("application/json")
                || (t.starts_with("application/") && t.ends_with("+json"))
        });
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection| match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                        limit_bytes: crate::http::app::MAX_BODY_BYTES,
                    },
                    _ => ApiError::MalformedBody {
                        detail: "the request body could not be read".to_owned(),
                    },
                })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(TriggerRequest::default()));
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType {
                detail:
                    "the body must be JSON, sent with Content-Type: application/json (or left out)"
                        .to_owned(),
            });
        }
        let body: TriggerRequest = serde_json::from_slice(&bytes).map_err(|err| {
            let detail = format!("the body is not a valid trigger request: {err}");
            match err.classify() {
                serde_json::error::Category::Data => ApiError::InvalidBody { detail },
                _ => ApiError::MalformedBody { detail },
            }
        })?;
        body.validate()
            .map_err(|detail| ApiError::InvalidBody { detail })?;
        Ok(OptionalBody(body))
    }
}

/// Start a scrape (admin)
///
/// On Vercel (`BOOKS_GITHUB_REPO` and `BOOKS_GITHUB_TOKEN` set), dispatches
/// the Deploy workflow, which scrapes, validates, rebuilds and redeploys.
/// Under `books serve` without them, scrapes in the process and swaps the
/// new data in without dropping a request; a failed scrape changes nothing.
/// 202 with `Location` of the status; 409 while a scrape is queued or
/// running; 502/504 when GitHub fails or does not answer; 503 when no
/// trigger is configured.
#[utoipa::path(post, path = Route::ScrapingTrigger.path(), operation_id = "triggerScrape", tag = "operations",
    request_body(content = TriggerRequest, description = "Optional: the body may be left out."),
    responses((status = 202, description = "Accepted: the scrape is queued or running",
        body = Accepted,
        headers(("Location" = String, description = "The status route: `/api/v1/scraping/status`.")))))]
pub(super) async fn trigger(
    State(state): State<AppState>,
    Admin(caller): Admin,
    _: Query<NoParams>,
    OptionalBody(request): OptionalBody,
) -> Result<Response, ApiError> {
    let trigger = state.trigger()?;
    let accepted = trigger
        .trigger(request.reason.unwrap_or_default())
        .await
        .map_err(api_error)?;
    tracing::info!(
        event = "scrape_triggered",
        user = caller.name.as_str(),
        mode = mode_name(accepted.mode),
        reason = accepted.reason.as_str()
    );
    Ok((
        StatusCode::ACCEPTED,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JSON)),
            (
                header::LOCATION,
                HeaderValue::from_static(Route::ScrapingStatus.path()),
            ),
        ],
        json(&accepted),
    )
        .into_response())
}

/// The trigger's runs, and the data being served.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScrapingStatus {
    /// Where scrapes run: `github-actions` or `in-process`.
    pub mode: TriggerMode,
    /// The Deploy workflow's latest runs, newest first (github-actions
    /// mode; at most 5; empty in-process).
    pub runs: Vec<WorkflowRun>,
    /// The current or last run (in-process mode); null before the first
    /// and in github-actions mode.
    #[schema(required = true)]
    pub run: Option<RunStatus>,
    /// The data this instance serves; null when its database is unavailable.
    #[schema(required = true)]
    pub data: Option<ServedData>,
}

/// The data an instance serves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServedData {
    /// When it was scraped (RFC 3339, UTC); null if unrecorded.
    #[schema(required = true, format = DateTime)]
    pub scraped_at: Option<String>,
    /// SHA-256 of its CSV form, as the database records it.
    pub content_hash: String,
}

/// Scrape status (admin)
///
/// In github-actions mode, the Deploy workflow's latest runs (status,
/// conclusion, created/updated, link) from GitHub; in-process, the current
/// or last run's progress (pages, books, failures, elapsed) and outcome.
/// Both with the served data's `scraped_at` and content hash.
#[utoipa::path(get, path = Route::ScrapingStatus.path(), operation_id = "getScrapeStatus", tag = "operations",
    responses((status = 200, description = "OK", body = ScrapingStatus)))]
pub(super) async fn status(
    State(state): State<AppState>,
    _: Admin,
    _: Query<NoParams>,
) -> Result<Response, ApiError> {
    let trigger = state.trigger()?;
    let status = trigger.status().await.map_err(api_error)?;
    let snapshot = state.store_snapshot();
    let data = snapshot.as_ref().as_ref().ok().map(|store| ServedData {
        scraped_at: store.scraped_at().map(str::to_owned),
        content_hash: store.content_hash().to_owned(),
    });
    let body = ScrapingStatus {
        mode: status.mode,
        runs: status.runs,
        run: status.run,
        data,
    };
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        json(&body),
    )
        .into_response())
}

fn api_error(err: TriggerError) -> ApiError {
    match err {
        TriggerError::AlreadyRunning => ApiError::Conflict {
            detail: "a scrape is already queued or running; see GET /api/v1/scraping/status"
                .to_owned(),
        },
        TriggerError::Upstream { detail } => ApiError::BadGateway { detail },
        TriggerError::UpstreamTimeout => ApiError::GatewayTimeout {
            detail: "GitHub did not answer in time; try again later".to_owned(),
        },
    }
}

fn mode_name(mode: TriggerMode) -> &'static str {
    match mode {
        TriggerMode::GithubActions => "github-actions",
        TriggerMode::InProcess => "in-process",
    }
}
