//! The one middleware that observes every request, after the answer is
//! made: its `Server-Timing` header (`total`, and `db` and `model` where
//! they ran), its access log line, and, where `books serve` installed them,
//! its Prometheus metrics.

use std::borrow::Cow;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderName, HeaderValue};
use http_body::Body as _;
use tracing::Level;
use tracing::field::Empty;

use super::route::Route;
use crate::observe::metrics::{self, Answered, RouteLabel};
use crate::observe::timing;
use crate::text::truncate;

/// The most of a request's path, and of its query, that one log line keeps,
/// in characters: a 60 KB query is logged as its first 1,024 characters.
pub const MAX_LOGGED_CHARS: usize = 1024;

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");
/// Lets a front end on another origin read `Server-Timing` through the
/// Resource Timing API, as the API is public and CORS-open anyway.
const TIMING_ALLOW_ORIGIN: HeaderName = HeaderName::from_static("timing-allow-origin");

/// Answers `request`, then adds `Server-Timing`, writes the access log line
/// (request id, method, path, query, route template, status, time, size)
/// and records the metrics.
pub async fn observe_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let in_flight = metrics::installed().map(metrics::Metrics::in_flight);
    let method = request.method().clone();
    // Cheap clones (shared buffers): the request itself moves on.
    let uri = request.uri().clone();
    let request_id = request
        .headers()
        .get(super::app::REQUEST_ID_HEADER)
        .cloned();
    let (mut response, phases) = timing::measured(next.run(request)).await;
    let elapsed = started.elapsed();
    let headers = response.headers_mut();
    headers.insert(SERVER_TIMING, phases.server_timing(elapsed));
    headers.insert(TIMING_ALLOW_ORIGIN, HeaderValue::from_static("*"));

    let route = response.extensions().get::<Route>().map(|r| r.path());
    let status = response.status();
    let bytes = response.body().size_hint().exact().unwrap_or(0);
    if let Some(metrics) = in_flight.as_ref().and(metrics::installed()) {
        let label = match response.extensions().get::<Route>() {
            Some(&route) => route_label(route),
            None => response
                .extensions()
                .get::<RouteLabel>()
                .copied()
                .unwrap_or(RouteLabel::Unmatched),
        };
        metrics.answered(Answered {
            route: label,
            method: &method,
            status,
            elapsed,
            body_bytes: bytes,
        });
    }
    drop(in_flight);

    let path = capped(uri.path());
    let query = capped(uri.query().unwrap_or(""));
    let request_id = request_id
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let route: &dyn tracing::Value = match &route {
        Some(route) => route,
        None => &Empty,
    };
    let status = status.as_u16();
    let duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                event = "request",
                request_id,
                method = method.as_str(),
                path = path.as_ref(),
                query = query.as_ref(),
                route,
                status,
                duration_us,
                bytes
            )
        };
    }
    if status >= 500 {
        line!(Level::ERROR);
    } else {
        line!(Level::INFO);
    }
    response
}

/// The series `route`'s answers are counted under.
pub fn route_label(route: Route) -> RouteLabel {
    RouteLabel::Api {
        path: route.path(),
        index: route as usize,
    }
}

fn capped(text: &str) -> Cow<'_, str> {
    // A string of at most MAX_LOGGED_CHARS bytes has at most as many characters.
    if text.len() <= MAX_LOGGED_CHARS {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(truncate(text, MAX_LOGGED_CHARS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_label_has_a_slot_of_its_own() {
        let api_routes = Route::ALL.len();
        let mut labels: Vec<RouteLabel> = Route::ALL.iter().copied().map(route_label).collect();
        labels.extend([RouteLabel::Site, RouteLabel::Metrics, RouteLabel::Unmatched]);
        let slots: Vec<usize> = labels.iter().map(|label| label.slot(api_routes)).collect();
        assert_eq!(slots, (0..api_routes + 3).collect::<Vec<_>>());
    }
}
