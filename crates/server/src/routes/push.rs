//! `POST /api/v1/push`: mutations from the phones' outboxes (sync protocol v1).
//!
//! The handler checks what needs no database ([`crate::store::push::prepare`]); the store's
//! writer applies the push with others in one transaction and answers once it is committed
//! (see [`crate::store::push`]). Messages are in the request's language.
//!
//! The handler waits for the writer at most [`crate::ServerConfig::push_deadline`] (10 s by
//! default): past it, it answers 503 `unavailable` with `Retry-After:`
//! [`PUSH_RETRY_AFTER_SECS`] rather than letting the request time out. The push stays queued
//! and may still be committed; the phone keeps it in its outbox and resends it, and the resend
//! answers `duplicate` for whatever was stored, so nothing is stored twice.

use crate::auth::BearerHash;
use crate::error::{request_lang, ApiError, ApiJson, ErrorBody};
use crate::store::push::{prepare, PushBatch};
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use caremap_model::push::MAX_BATCH;
use caremap_model::{MutationResult, PushRequest, PushResponse};

/// Seconds a phone is told to wait (`Retry-After`) when the writer missed the push deadline.
pub const PUSH_RETRY_AFTER_SECS: u64 = crate::store::push::RETRY_AFTER_SECS;

/// Applies a batch of mutations in order; one result per mutation.
#[utoipa::path(
    post,
    path = "/api/v1/push",
    tag = "push",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "One result per mutation, in order: `applied` (stored and durable), `duplicate` (stored before) or `rejected` with `{code, message}`", body = PushResponse),
        (status = 400, description = "Not JSON of this shape (`invalid_json`), or more than 100 mutations (`batch_too_large`)", body = ErrorBody),
        (status = 401, description = "No working token (`unauthenticated`): refused before the body is read when the token does not exist", body = ErrorBody),
        (status = 429, description = "Too many failed authentications from this address (`rate_limited`); see `Retry-After`", body = ErrorBody),
        (status = 413, description = "The body is larger than the server's limit (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "The body is not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable, or the write queue did not commit the push within the push deadline (10 s by default), `unavailable`; nothing was acknowledged: resend the same mutations after `Retry-After` seconds (those stored meanwhile answer `duplicate`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before resending (sent when the push deadline passed)"))),
    )
)]
pub async fn push(
    State(state): State<AppState>,
    BearerHash(token_hash): BearerHash,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.mutations.len() > MAX_BATCH {
        return Err(ApiError::BatchTooLarge { max: MAX_BATCH });
    }
    let lang = request_lang(&headers);
    let now = crate::store::now();
    let mutations = request.mutations.iter().map(|m| prepare(m, now)).collect();
    // The token is checked by the store's writer, in the transaction that writes (one read per
    // group commit instead of one per request; a token revoked before the commit cannot write).
    let pushed = state.store.push(PushBatch {
        token_hash: token_hash.clone(),
        mutations,
    });
    let results = tokio::time::timeout(state.config.push_deadline, pushed)
        .await
        .map_err(|_| {
            tracing::warn!(
                deadline_ms = state.config.push_deadline.as_millis() as u64,
                "push writer missed the push deadline; answering 503"
            );
            ApiError::Busy {
                retry_after_secs: PUSH_RETRY_AFTER_SECS,
            }
        })??;
    let Some(results) = results else {
        // Revoked since it was last seen working: the next push looks it up again.
        state.gate.forget(&token_hash);
        return Err(ApiError::Unauthenticated);
    };
    Ok(Json(PushResponse {
        results: results
            .into_iter()
            .map(|r| MutationResult {
                error: r.error.map(|e| e.in_lang(lang)),
                ..r
            })
            .collect(),
    }))
}
