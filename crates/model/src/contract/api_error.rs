//! The body of every error response, `{"error": {"code": "...", "message": "..."}}`, and the
//! codes the server puts in it.
//!
//! The code is stable: clients and tests match on it, so a variant's wire name never changes.
//! The message is for people, in the language of the request's `Accept-Language`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The body of every error response of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `invalid_cursor`.
    #[cfg_attr(feature = "openapi", schema(example = "invalid_cursor"))]
    pub code: ApiErrorCode,
    /// Message for people, in the language of `Accept-Language` (zh-CN by default).
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ApiErrorCode, message: String) -> Self {
        ErrorBody {
            error: ErrorDetail { code, message },
        }
    }
}

/// Why the API refused or failed a request, as the `code` of its error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub enum ApiErrorCode {
    /// 400: a registry cursor the server never gave (or one ahead of it); sync from the start.
    InvalidCursor,
    /// 400: a registry `limit` that is not a positive whole number.
    InvalidLimit,
    /// 400: the query string could not be read.
    InvalidQuery,
    /// 400: the body is not the JSON the endpoint expects.
    InvalidJson,
    /// 413: the body is larger than the server takes.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 404: no such endpoint, or no such resource.
    NotFound,
    /// 400: a path segment that should be an id is not one.
    InvalidId,
    /// 400: an enrollment code of the wrong shape.
    InvalidEnrollmentCode,
    /// 401: the enrollment code is unknown, used, expired, or its account revoked.
    EnrollmentFailed,
    /// 401: no working device token; only a new enrollment helps.
    Unauthenticated,
    /// 403: the token works, but its account's role may not do this (an export by a
    /// non-admin).
    Forbidden,
    /// 429: too many attempts from this client; see `Retry-After`.
    RateLimited,
    /// 400: a push of more mutations than [`crate::push::MAX_BATCH`].
    BatchTooLarge,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 408: the request took too long.
    Timeout,
    /// 503: the database is unreachable; try again later.
    Unavailable,
    /// 500: anything else; the server logged the detail.
    Internal,
    /// A code this build does not know (a newer server's): read, never sent.
    #[serde(other, skip_serializing)]
    Unrecognized,
}

impl ApiErrorCode {
    /// Every code the server sends (not [`ApiErrorCode::Unrecognized`]).
    pub const ALL: [ApiErrorCode; 18] = [
        ApiErrorCode::InvalidCursor,
        ApiErrorCode::InvalidLimit,
        ApiErrorCode::InvalidQuery,
        ApiErrorCode::InvalidJson,
        ApiErrorCode::PayloadTooLarge,
        ApiErrorCode::UnsupportedMediaType,
        ApiErrorCode::NotFound,
        ApiErrorCode::InvalidId,
        ApiErrorCode::InvalidEnrollmentCode,
        ApiErrorCode::EnrollmentFailed,
        ApiErrorCode::Unauthenticated,
        ApiErrorCode::Forbidden,
        ApiErrorCode::RateLimited,
        ApiErrorCode::BatchTooLarge,
        ApiErrorCode::MethodNotAllowed,
        ApiErrorCode::Timeout,
        ApiErrorCode::Unavailable,
        ApiErrorCode::Internal,
    ];

    /// The wire name (what serde writes).
    pub const fn as_str(self) -> &'static str {
        match self {
            ApiErrorCode::InvalidCursor => "invalid_cursor",
            ApiErrorCode::InvalidLimit => "invalid_limit",
            ApiErrorCode::InvalidQuery => "invalid_query",
            ApiErrorCode::InvalidJson => "invalid_json",
            ApiErrorCode::PayloadTooLarge => "payload_too_large",
            ApiErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ApiErrorCode::NotFound => "not_found",
            ApiErrorCode::InvalidId => "invalid_id",
            ApiErrorCode::InvalidEnrollmentCode => "invalid_enrollment_code",
            ApiErrorCode::EnrollmentFailed => "enrollment_failed",
            ApiErrorCode::Unauthenticated => "unauthenticated",
            ApiErrorCode::Forbidden => "forbidden",
            ApiErrorCode::RateLimited => "rate_limited",
            ApiErrorCode::BatchTooLarge => "batch_too_large",
            ApiErrorCode::MethodNotAllowed => "method_not_allowed",
            ApiErrorCode::Timeout => "timeout",
            ApiErrorCode::Unavailable => "unavailable",
            ApiErrorCode::Internal => "internal",
            ApiErrorCode::Unrecognized => "unrecognized",
        }
    }

    /// The code of a wire name; [`ApiErrorCode::Unrecognized`] for one this build does not know.
    pub fn parse(raw: &str) -> Self {
        ApiErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == raw)
            .unwrap_or(ApiErrorCode::Unrecognized)
    }
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The wire names, written out: a rename here breaks every client.
    const WIRE: [(ApiErrorCode, &str); 18] = [
        (ApiErrorCode::InvalidCursor, "invalid_cursor"),
        (ApiErrorCode::InvalidLimit, "invalid_limit"),
        (ApiErrorCode::InvalidQuery, "invalid_query"),
        (ApiErrorCode::InvalidJson, "invalid_json"),
        (ApiErrorCode::PayloadTooLarge, "payload_too_large"),
        (ApiErrorCode::UnsupportedMediaType, "unsupported_media_type"),
        (ApiErrorCode::NotFound, "not_found"),
        (ApiErrorCode::InvalidId, "invalid_id"),
        (
            ApiErrorCode::InvalidEnrollmentCode,
            "invalid_enrollment_code",
        ),
        (ApiErrorCode::EnrollmentFailed, "enrollment_failed"),
        (ApiErrorCode::Unauthenticated, "unauthenticated"),
        (ApiErrorCode::Forbidden, "forbidden"),
        (ApiErrorCode::RateLimited, "rate_limited"),
        (ApiErrorCode::BatchTooLarge, "batch_too_large"),
        (ApiErrorCode::MethodNotAllowed, "method_not_allowed"),
        (ApiErrorCode::Timeout, "timeout"),
        (ApiErrorCode::Unavailable, "unavailable"),
        (ApiErrorCode::Internal, "internal"),
    ];

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        assert_eq!(WIRE.map(|(code, _)| code), ApiErrorCode::ALL);
        for (code, wire) in WIRE {
            assert_eq!(serde_json::to_value(code).unwrap(), wire);
            assert_eq!(
                serde_json::from_value::<ApiErrorCode>(wire.into()).unwrap(),
                code
            );
            assert_eq!(code.as_str(), wire);
            assert_eq!(code.to_string(), wire);
            assert_eq!(ApiErrorCode::parse(wire), code);
        }
    }

    #[test]
    fn an_unknown_code_is_read_but_never_written() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"error": {"code": "quota_exceeded", "message": "later"}}"#)
                .unwrap();
        assert_eq!(body.error.code, ApiErrorCode::Unrecognized);
        assert_eq!(body.error.message, "later");
        assert_eq!(
            ApiErrorCode::parse("quota_exceeded"),
            ApiErrorCode::Unrecognized
        );
        assert!(serde_json::to_string(&ApiErrorCode::Unrecognized).is_err());
    }

    #[test]
    fn the_body_has_the_documented_shape() {
        let body = ErrorBody::new(ApiErrorCode::InvalidCursor, "bad cursor".into());
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "invalid_cursor", "message": "bad cursor"}})
        );
        assert_eq!(serde_json::from_value::<ErrorBody>(json).unwrap(), body);
        assert!(serde_json::from_str::<ErrorBody>(r#"{"code": "internal"}"#).is_err());
    }
}
