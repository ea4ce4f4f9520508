//! The API's errors: one enum, one JSON shape, messages in the caller's language.
//!
//! Every error response has the body `{"error": {"code": "...", "message": "..."}}`. The code is
//! stable (clients and tests match on it); the message follows the request's `Accept-Language`
//! (zh-CN by default). Internal detail (database errors and the like) is logged with tracing and
//! never sent.
//!
//! How the language reaches the body: [`ApiError::into_response`] renders the Chinese message
//! and leaves the error in the response's extensions; the [`localize`] middleware, which sees the
//! request, re-renders it in English when the caller asked for English. Extractor rejections are
//! turned into [`ApiError`]s by the [`ApiQuery`] and [`ApiJson`] extractors, so a malformed
//! request gets a 400 in this shape, never a 500 and never axum's plain-text rejection.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caremap_model::{Lang, ValidationError};
use serde::Serialize;

/// Why a request failed, as the caller is told.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("invalid cursor")]
    InvalidCursor,
    /// A cursor that parses but that this database did not give (409, same code).
    #[error("cursor of another history")]
    ForeignCursor,
    #[error("invalid limit")]
    InvalidLimit,
    /// The query string could not be read.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The body is not the JSON the endpoint expects.
    #[error("invalid JSON body: {0}")]
    InvalidJson(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("not found")]
    NotFound,
    /// A path segment that should be an id is not one.
    #[error("invalid id")]
    InvalidId,
    /// An enrollment code of the wrong shape (the model's error says how).
    #[error("invalid enrollment code: {0}")]
    InvalidEnrollmentCode(ValidationError),
    /// The code is unknown, used, expired, or its account revoked (not said which).
    #[error("enrollment failed")]
    EnrollmentFailed,
    /// No working bearer token.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The token works, but its account may not export the registry (not an admin).
    #[error("forbidden")]
    ExportForbidden,
    /// Too many attempts from this client; try again after this many seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A push of more than `caremap_model::push::MAX_BATCH` mutations.
    #[error("batch too large")]
    BatchTooLarge { max: usize },
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request timed out")]
    Timeout,
    /// The database is unreachable; the caller may retry.
    #[error("service unavailable")]
    Unavailable,
    /// The push writer did not answer within the push deadline: 503 `unavailable` with
    /// `Retry-After` (the push may still be committed; a resend is safe).
    #[error("push writer busy")]
    Busy { retry_after_secs: u64 },
    /// Anything else; the detail was logged where it happened.
    #[error("internal error")]
    Internal,
}

/// The body of every error response, and the codes in it: the model's, shared with the PWA.
pub use caremap_model::contract::{ApiErrorCode, ErrorBody, ErrorDetail};

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidCursor
            | ApiError::InvalidLimit
            | ApiError::InvalidQuery(_)
            | ApiError::InvalidJson(_)
            | ApiError::InvalidId
            | ApiError::InvalidEnrollmentCode(_)
            | ApiError::BatchTooLarge { .. } => StatusCode::BAD_REQUEST,
            ApiError::ForeignCursor => StatusCode::CONFLICT,
            ApiError::EnrollmentFailed | ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::ExportForbidden => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> ApiErrorCode {
        match self {
            ApiError::InvalidCursor | ApiError::ForeignCursor => ApiErrorCode::InvalidCursor,
            ApiError::InvalidLimit => ApiErrorCode::InvalidLimit,
            ApiError::InvalidQuery(_) => ApiErrorCode::InvalidQuery,
            ApiError::InvalidJson(_) => ApiErrorCode::InvalidJson,
            ApiError::PayloadTooLarge => ApiErrorCode::PayloadTooLarge,
            ApiError::UnsupportedMediaType => ApiErrorCode::UnsupportedMediaType,
            ApiError::NotFound => ApiErrorCode::NotFound,
            ApiError::InvalidId => ApiErrorCode::InvalidId,
            ApiError::InvalidEnrollmentCode(_) => ApiErrorCode::InvalidEnrollmentCode,
            ApiError::EnrollmentFailed => ApiErrorCode::EnrollmentFailed,
            ApiError::Unauthenticated => ApiErrorCode::Unauthenticated,
            ApiError::ExportForbidden => ApiErrorCode::Forbidden,
            ApiError::RateLimited { .. } => ApiErrorCode::RateLimited,
            ApiError::BatchTooLarge { .. } => ApiErrorCode::BatchTooLarge,
            ApiError::MethodNotAllowed => ApiErrorCode::MethodNotAllowed,
            ApiError::Timeout => ApiErrorCode::Timeout,
            ApiError::Unavailable | ApiError::Busy { .. } => ApiErrorCode::Unavailable,
            ApiError::Internal => ApiErrorCode::Internal,
        }
    }

    /// The message a person reads. Parser detail (which field, what was wrong) is included for
    /// malformed input because it helps the caller and reveals nothing of the server.
    pub fn message(&self, lang: Lang) -> String {
        let (zh, en) = match self {
            ApiError::InvalidCursor | ApiError::ForeignCursor => (
                "同步游标无效，请从头重新同步",
                "The sync cursor is invalid; start the sync again from the beginning",
            ),
            ApiError::InvalidLimit => (
                "limit 应为正整数",
                "The limit must be a positive whole number",
            ),
            ApiError::InvalidQuery(detail) => {
                return match lang {
                    Lang::Zh => format!("查询参数无效：{detail}"),
                    Lang::En => format!("Invalid query parameters: {detail}"),
                }
            }
            ApiError::InvalidJson(detail) => {
                return match lang {
                    Lang::Zh => format!("请求内容不是有效的 JSON：{detail}"),
                    Lang::En => format!("The request body is not valid JSON: {detail}"),
                }
            }
            ApiError::PayloadTooLarge => ("请求内容过大", "The request body is too large"),
            ApiError::UnsupportedMediaType => (
                "请求内容应为 application/json",
                "The request body must be application/json",
            ),
            ApiError::NotFound => ("未找到该接口或资源", "No such endpoint or resource"),
            ApiError::InvalidId => ("编号格式无效", "The id is not valid"),
            ApiError::InvalidEnrollmentCode(err) => return err.message(lang),
            ApiError::EnrollmentFailed => (
                "注册码无效、已使用或已过期，请向卫生院索取新的注册码",
                "The enrollment code is wrong, used or expired; ask the health office for a new one",
            ),
            ApiError::Unauthenticated => (
                "请先用注册码登记本设备，或重新登记",
                "Enroll this device with an enrollment code first, or enroll it again",
            ),
            ApiError::ExportForbidden => (
                "只有卫生健康部门的账号可以导出数据",
                "Only an account of the health authority may export the registry",
            ),
            ApiError::RateLimited { retry_after_secs } => {
                return match lang {
                    Lang::Zh => format!("尝试次数过多，请 {retry_after_secs} 秒后再试"),
                    Lang::En => {
                        format!("Too many attempts; try again in {retry_after_secs} seconds")
                    }
                }
            }
            ApiError::BatchTooLarge { max } => {
                return match lang {
                    Lang::Zh => format!("一次最多提交 {max} 条变更"),
                    Lang::En => format!("A push may carry at most {max} mutations"),
                }
            }
            ApiError::MethodNotAllowed => (
                "该接口不支持此请求方法",
                "This endpoint does not allow this method",
            ),
            ApiError::Timeout => (
                "请求超时，请稍后重试",
                "The request timed out; please try again",
            ),
            ApiError::Unavailable => (
                "服务暂时不可用，请稍后重试",
                "The service is temporarily unavailable; please try again",
            ),
            ApiError::Busy { retry_after_secs } => {
                return match lang {
                    Lang::Zh => format!(
                        "服务器正忙，报告仍保存在手机上，请 {retry_after_secs} 秒后重新发送"
                    ),
                    Lang::En => format!(
                        "The server is busy; the reports stay on the phone: send them again in {retry_after_secs} seconds"
                    ),
                }
            }
            ApiError::Internal => (
                "服务器内部错误，请稍后重试",
                "Internal server error; please try again later",
            ),
        };
        lang.pick(zh, en).to_owned()
    }

    pub fn body(&self, lang: Lang) -> ErrorBody {
        ErrorBody::new(self.code(), self.message(lang))
    }

    /// The response in `lang` (handlers return the error itself; the [`localize`] middleware
    /// picks the language).
    pub fn render_in(&self, lang: Lang) -> Response {
        self.render(lang)
    }

    fn render(&self, lang: Lang) -> Response {
        let mut response = (self.status(), Json(self.body(lang))).into_response();
        match self {
            ApiError::Unauthenticated => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after_secs),
                );
            }
            _ => {}
        }
        response.extensions_mut().insert(self.clone());
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.render(Lang::default())
    }
}

impl From<crate::credentials::RandomError> for ApiError {
    fn from(err: crate::credentials::RandomError) -> Self {
        tracing::error!(error = %err, "no randomness for a token");
        ApiError::Internal
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match &err {
            StoreError::CursorAhead(_) | StoreError::CursorForeign(_) => ApiError::ForeignCursor,
            StoreError::Busy(_) => {
                tracing::warn!(error = %err, "push not stored: the database is busy");
                ApiError::Busy {
                    retry_after_secs: crate::store::push::RETRY_AFTER_SECS,
                }
            }
            StoreError::WriterGone => {
                tracing::error!(error = %err, "push writer unavailable");
                ApiError::Unavailable
            }
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_),
            ) => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::Unavailable
            }
            _ => {
                tracing::error!(error = %err, "storage error");
                ApiError::Internal
            }
        }
    }
}

/// The language a request asked for with `Accept-Language`.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

/// Middleware: renders [`ApiError`] responses in the request's language, and gives the bare
/// responses of tower layers (timeout, body limit) our error shape.
pub async fn localize(request: Request, next: Next) -> Response {
    let lang = request_lang(request.headers());
    let response = next.run(request).await;
    if let Some(err) = response.extensions().get::<ApiError>() {
        if lang != Lang::default() {
            return err.clone().render(lang);
        }
        return response;
    }
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout.render(lang),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge.render(lang),
        _ => response,
    }
}

/// `Query` whose rejection is an [`ApiError`] (400 in our shape).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::InvalidQuery(rejection.body_text())),
        }
    }
}

/// `Json` whose rejection is an [`ApiError`] (400/413/415 in our shape).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::PayloadTooLarge
                }
                other => ApiError::InvalidJson(other.body_text()),
            }),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
