//! JSON request bodies: [`JsonBody<T>`] reads a body of at most
//! [`MAX_BODY_BYTES`](super::app::MAX_BODY_BYTES), then checks it with
//! [`Validate`]. Each way it can fail has its own status, as problem+json:
//! not JSON (`Content-Type`) 415, too large 413, malformed 400, well-formed
//! but wrong (a missing field, a wrong type, a rule of [`Validate`]) 422.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The media type of a request's `Content-Type` (`application/json` of
/// `application/json; charset=utf-8`), without its parameters.
pub fn media_type(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}

/// A request body's own rules, past what its type already enforces.
pub trait Validate {
    /// `Err` says what is wrong, in words a client can act on.
    fn validate(&self) -> Result<(), String>;
}

/// The extractor: a JSON body of type `T` that passed `T::validate`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Validate,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(request, state)
            .await
            .map_err(rejection)?;
        value
            .validate()
            .map_err(|detail| ApiError::InvalidBody { detail })?;
        Ok(JsonBody(value))
    }
}

fn rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType {
            detail: "the body must be JSON, sent with Content-Type: application/json".to_owned(),
        },
        JsonRejection::JsonDataError(err) => ApiError::InvalidBody {
            detail: err.body_text(),
        },
        JsonRejection::JsonSyntaxError(err) => ApiError::MalformedBody {
            detail: err.body_text(),
        },
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge {
                limit_bytes: super::app::MAX_BODY_BYTES,
            }
        }
        other => ApiError::MalformedBody {
            detail: other.body_text(),
        },
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use http::header;
    use http_body_util::BodyExt as _;
    use serde::Deserialize;
    use serde_json::Value;
    use tower::ServiceExt as _;

    use super::*;
    use crate::http::app::{MAX_BODY_BYTES, with_layers};

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Echo {
        text: String,
    }

    impl Validate for Echo {
        fn validate(&self) -> Result<(), String> {
            if self.text.is_empty() {
                return Err("text must not be empty".to_owned());
            }
            Ok(())
        }
    }

    async fn echo(JsonBody(body): JsonBody<Echo>) -> String {
        body.text
    }

    /// POSTs `body` as `content_type` through the real layers.
    async fn post_body(content_type: Option<&str>, body: Vec<u8>) -> (StatusCode, String, Value) {
        let app = with_layers(Router::new().route("/echo", post(echo)));
        let mut request = http::Request::post("/echo");
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let response = app
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, content_type, json)
    }

    #[tokio::test]
    async fn every_kind_of_bad_body_is_its_own_problem() {
        let json = Some("application/json");
        let too_large = format!("{{\"text\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        let cases: Vec<(Option<&str>, Vec<u8>, StatusCode)> = vec![
            (json, br#"{"text":"#.to_vec(), StatusCode::BAD_REQUEST),
            (json, b"not json".to_vec(), StatusCode::BAD_REQUEST),
            (json, too_large.into_bytes(), StatusCode::PAYLOAD_TOO_LARGE),
            (
                Some("text/plain"),
                br#"{"text":"a"}"#.to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                None,
                br#"{"text":"a"}"#.to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            (
                json,
                br#"{"text":1}"#.to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json,
                br#"{"txet":"a"}"#.to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                json,
                br#"{"text":""}"#.to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ];
        for (content_type, body, want) in cases {
            let (status, got_type, problem) = post_body(content_type, body).await;
            assert_eq!(status, want, "{content_type:?}: {problem}");
            assert_eq!(got_type, "application/problem+json");
            assert_eq!(problem["status"], want.as_u16());
            assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        let (status, _, _) = post_body(json, br#"{"text":"hi"}"#.to_vec()).await;
        assert_eq!(status, StatusCode::OK);
    }
}
