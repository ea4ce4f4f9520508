//! `POST /api/v1/enroll` (a phone trades its one-time code for a device token) and
//! `GET /api/v1/me` (the account behind a token).

use crate::auth::{self, Authenticated, ClientIp};
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use caremap_model::{AccountInfo, DeviceName, EnrollRequest, EnrollResponse, EnrollmentCode};

/// Trades a one-time enrollment code for a device token.
///
/// Attempts are limited per client address (`--enroll-per-minute`, 10 by default): the code has
/// 60 bits, so guessing is hopeless, and the limit keeps it so.
#[utoipa::path(
    post,
    path = "/api/v1/enroll",
    tag = "accounts",
    request_body = EnrollRequest,
    responses(
        (status = 200, description = "The device token (shown once) and the account", body = EnrollResponse),
        (status = 400, description = "The code is not of the right shape (`invalid_enrollment_code`), or the body is not JSON (`invalid_json`)", body = ErrorBody),
        (status = 401, description = "The code is unknown, used, expired or its account revoked (`enrollment_failed`)", body = ErrorBody),
        (status = 413, description = "The body is larger than the server's limit (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "The body is not sent as `Content-Type: application/json` (`unsupported_media_type`)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address (`rate_limited`); see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn enroll(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    if let Err(retry_after_secs) = state.enroll_limiter.check(ip) {
        tracing::warn!(client = %ip, "enrollment attempts rate-limited");
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    let code = EnrollmentCode::parse(&request.code).map_err(ApiError::InvalidEnrollmentCode)?;
    // The model's rule, clipped rather than refused: a label is never worth a failed enrollment.
    let device = request.device.as_deref().and_then(DeviceName::clip);
    let token = auth::new_token()?;
    let token_hash = auth::sha256_hex(&token);
    let account = state
        .store
        .enroll(
            &auth::code_hash(&code),
            &token_hash,
            device.as_ref().map(DeviceName::as_str),
        )
        .await?;
    match account {
        Some(account) => {
            tracing::info!(account = account.id, "device enrolled");
            // Its first push needs no look-up.
            state.gate.remember(&token_hash);
            Ok(Json(EnrollResponse {
                token,
                account: account.info(),
            }))
        }
        None => {
            tracing::info!(client = %ip, "enrollment refused");
            Err(ApiError::EnrollmentFailed)
        }
    }
}

/// The account of the bearer token.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = AccountInfo),
        (status = 401, description = "No working token (`unauthenticated`)", body = ErrorBody),
        (status = 429, description = "Too many failed authentications from this address (`rate_limited`); see `Retry-After`", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn me(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<AccountInfo>, ApiError> {
    if auth.touch_due {
        state.store.touch_token(&auth.token_hash).await?;
    }
    Ok(Json(auth.account.info()))
}
