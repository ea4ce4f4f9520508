//! `POST /api/v1/push`: mutations from the phones' outboxes (sync protocol v1).
//!
//! The handler checks what needs no database ([`crate::store::push::prepare`]); the store's
//! writer applies the push with others in one transaction and answers once it is committed
//! (see [`crate::store::push`]). Messages are in the request's language.

use crate::auth::BearerHash;
use crate::error::{request_lang, ApiError, ApiJson, ErrorBody};
use crate::store::push::{prepare, PushBatch};
use crate::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use caremap_model::push::MAX_BATCH;
use caremap_model::{MutationResult, PushRequest, PushResponse};

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
        (status = 401, description = "No working token (`unauthenticated`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; nothing was acknowledged", body = ErrorBody),
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
    let results = state
        .store
        .push(PushBatch {
            token_hash,
            mutations,
        })
        .await?
        .ok_or(ApiError::Unauthenticated)?;
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
