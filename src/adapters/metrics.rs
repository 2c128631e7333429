//! `GET /metrics` on `books serve`: the Prometheus text exposition.
//!
//! Who may read it: with `BOOKS_METRICS_TOKEN` set (16 bytes or more), any
//! client that sends it as a bearer token; without it, only loopback
//! clients, and never a request that came through a proxy (a
//! `Forwarded`/`X-Forwarded-For`/`X-Real-IP` header), since a proxy on the
//! same machine would make every client look local. Either way, a page of
//! another site open in a local browser may not read it: such a request
//! (`Sec-Fetch-Site` other than `same-origin`/`none`) is refused, and the
//! answer carries no `Access-Control-Allow-Origin`.
//!
//! Not a Vercel function: a function instance lives for minutes and
//! serves one route, so its counters would describe a sliver of traffic
//! that vanishes with it; there the logs are the record
//! (`books usage-report`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, header};

use crate::http::app::SameOriginOnly;
use crate::http::error::ApiError;
use crate::http::{AppState, bearer};
use crate::observe::metrics::{self, DataVersion, RouteLabel};

/// Where the metrics are served.
pub const METRICS_PATH: &str = "/metrics";
/// The environment variable holding the bearer token that opens `/metrics`
/// to clients beyond loopback.
pub const TOKEN_ENV: &str = "BOOKS_METRICS_TOKEN";
/// A shorter token is refused (and `/metrics` stays loopback-only).
pub const MIN_TOKEN_BYTES: usize = 16;
/// The text exposition format's media type.
const EXPOSITION: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Who may read `/metrics`.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("MetricsAccess")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl MetricsAccess {
    /// From `BOOKS_METRICS_TOKEN`; an empty one is none; a short one, or
    /// one a bearer token cannot carry, is logged and ignored (loopback
    /// only).
    pub fn from_env() -> Self {
        let token = std::env::var(TOKEN_ENV).unwrap_or_default();
        let access = Self::with_token(&token);
        let mode = if access.token.is_some() {
            "bearer token"
        } else {
            "loopback only"
        };
        if access.token.is_none() && !token.is_empty() {
            tracing::error!(
                event = "metrics_token_invalid",
                min_bytes = MIN_TOKEN_BYTES,
                detail = "BOOKS_METRICS_TOKEN is ignored (too short, or not a bearer token: use letters, digits and -._~+/); /metrics answers loopback clients only"
            );
        }
        tracing::info!(
            event = "metrics_configured",
            path = METRICS_PATH,
            access = mode
        );
        access
    }

    /// With `token` as the bearer token, if it is long enough and a bearer
    /// token can carry it.
    pub fn with_token(token: &str) -> Self {
        let usable = token.len() >= MIN_TOKEN_BYTES && bearer::is_b64token(token);
        MetricsAccess {
            token: usable.then(|| Arc::from(token)),
        }
    }

    fn check(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Result<(), ApiError> {
        let from_another_site = headers
            .get("sec-fetch-site")
            .is_some_and(|site| site != "same-origin" && site != "none");
        if from_another_site {
            return Err(ApiError::MetricsLoopbackOnly);
        }
        match &self.token {
            Some(expected) => match bearer::bearer_token(headers) {
                Ok(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
                _ => Err(ApiError::MetricsTokenRequired),
            },
            None => {
                let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
                    .iter()
                    .any(|name| headers.contains_key(*name));
                let loopback = peer.is_some_and(|peer| peer.ip().is_loopback());
                if loopback && !proxied {
                    Ok(())
                } else {
                    Err(ApiError::MetricsLoopbackOnly)
                }
            }
        }
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not say how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The answer to a request for [`METRICS_PATH`].
pub fn respond(access: &MetricsAccess, state: &AppState, request: &Request) -> Response {
    let mut response = answer(access, state, request);
    // Refusals too: they depend on who asks.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let extensions = response.extensions_mut();
    extensions.insert(RouteLabel::Metrics);
    extensions.insert(SameOriginOnly);
    response
}

fn answer(access: &MetricsAccess, state: &AppState, request: &Request) -> Response {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        return ApiError::MethodNotAllowed {
            method: method.to_string(),
            allowed: crate::http::route::Methods::Read,
        }
        .into_response();
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    if let Err(refused) = access.check(request.headers(), peer) {
        return refused.into_response();
    }
    let Some(metrics) = metrics::installed() else {
        return ApiError::Status {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
        }
        .into_response();
    };
    let snapshot = state.store_snapshot();
    let data = snapshot.as_ref().as_ref().ok().map(|store| DataVersion {
        content_hash: store.content_hash().to_owned(),
        scraped_at: store.scraped_at().map(str::to_owned),
        books: store.count_books().unwrap_or(0),
    });
    let body = metrics.render(data.as_ref());
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(EXPOSITION))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn without_a_token_only_direct_loopback_clients_are_served() {
        let access = MetricsAccess::default();
        let none = HeaderMap::new();
        assert!(access.check(&none, peer("127.0.0.1")).is_ok());
        assert!(access.check(&none, peer("::1")).is_ok());
        assert_eq!(
            access.check(&none, peer("192.0.2.7")),
            Err(ApiError::MetricsLoopbackOnly)
        );
        assert_eq!(
            access.check(&none, None),
            Err(ApiError::MetricsLoopbackOnly)
        );
        for (name, value) in [
            ("x-forwarded-for", "192.0.2.7"),
            ("forwarded", "for=192.0.2.7"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            assert_eq!(
                access.check(&headers, peer("127.0.0.1")),
                Err(ApiError::MetricsLoopbackOnly),
                "{name}"
            );
        }
        let mut same_origin = HeaderMap::new();
        same_origin.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(access.check(&same_origin, peer("127.0.0.1")).is_ok());
    }

    #[test]
    fn with_a_token_every_client_needs_it() {
        let access = MetricsAccess::with_token("a-metrics-token-for-tests");
        let bearer = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            headers
        };
        let right = bearer("Bearer a-metrics-token-for-tests");
        assert!(access.check(&right, peer("192.0.2.7")).is_ok());
        for wrong in [
            HeaderMap::new(),
            bearer("Bearer a-metrics-token-for-test"),
            bearer("Basic YWRhOmFkYQ=="),
        ] {
            assert_eq!(
                access.check(&wrong, peer("127.0.0.1")),
                Err(ApiError::MetricsTokenRequired)
            );
        }
        assert!(!format!("{access:?}").contains("tests"));
    }

    #[test]
    fn a_short_or_unsendable_token_is_ignored() {
        assert!(MetricsAccess::with_token("short").token.is_none());
        assert!(
            MetricsAccess::with_token("long enough but has spaces")
                .token
                .is_none()
        );
    }
}
