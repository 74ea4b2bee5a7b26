//! Errors as RFC 9457 problem details (`application/problem+json`), with a
//! stable `type` per kind: what the API answers, and what the HTTP layer
//! answers for the pages' shared middleware.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::policy::visibility::Denied;

/// An error as RFC 9457 problem+json, with a stable `type` per kind.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    /// The rule that refused a command, by its stable name
    /// (docs/EVENTS.md), for a refusal by the rules.
    rule: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, kind, detail: detail.into(), rule: None }
    }
    /// The same problem, naming the rule that refused the command, as the
    /// problem's `rule` member.
    pub(crate) fn with_rule(self, rule: &'static str) -> ApiError {
        ApiError { rule: Some(rule), ..self }
    }
    /// The content itself is wrong (422): a bad date, an unknown person.
    pub(crate) fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
    }
    pub(crate) fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    pub(crate) fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", detail)
    }
    /// A log error the client did not cause: a full disk is 507, so a
    /// client knows to try again later; a record that fails its integrity
    /// check is a 500 of its own type, logged with the event it names;
    /// anything else is internal.
    pub(crate) fn log(error: minutebook_log::Error) -> ApiError {
        match error.category() {
            minutebook_log::ErrorCategory::StorageFull => {
                tracing::error!(error = %error, "storage full: an append was refused");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage-full",
                    "the server's storage is full: nothing was recorded; try again once the operator has freed space",
                )
            }
            minutebook_log::ErrorCategory::Corrupt => ApiError::corrupt_record(error),
            _ => ApiError::internal(error),
        }
    }
    /// A log error met serving a read: a request the log refuses (a
    /// stream name no event can have, a position past the end) is the
    /// client's (400); anything else is as `log` says.
    pub(crate) fn log_read(error: minutebook_log::Error) -> ApiError {
        match error.category() {
            minutebook_log::ErrorCategory::Invalid => ApiError::bad_request(error.to_string()),
            _ => ApiError::log(error),
        }
    }
    /// Stored bytes that fail their hash are never served: the client
    /// learns that much, the operator's log learns which record.
    pub(crate) fn corrupt_record(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "a stored record failed its integrity check");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt-record",
            "a stored record failed its integrity check and is not served; the operator has been told",
        )
    }
    /// A recorder error met while reading.
    pub(crate) fn command(error: crate::domain::recorder::CommandError) -> ApiError {
        match error {
            crate::domain::recorder::CommandError::Log(error) => ApiError::log(error),
            other => ApiError::internal(other),
        }
    }
    pub(crate) fn internal(detail: impl std::fmt::Display) -> ApiError {
        // The detail goes to the log, not to the client.
        tracing::error!(error = %detail, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({
            "type": format!("/problems/{}", self.kind),
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Some(rule) = self.rule {
            body["rule"] = json!(rule);
        }
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 names the scheme that would do.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"minutebook\""));
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        match denied {
            Denied::SignInFirst(why) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why),
            Denied::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
        }
    }
}

pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(ApiError::internal)?
}
