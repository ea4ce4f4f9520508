//! `GET /api/v1/export/{format}`: the registry with every facility's latest status, as a file
//! (`csv`, `xlsx`, `geojson`, `fhir`, `edxl`; see [`crate::export`]), for the health authority
//! only: a device token of an `admin` account. No token, or an unknown or revoked one, is 401
//! `unauthenticated`; a reporter's or outreach team's token is 403 `forbidden`.

use crate::auth::Authenticated;
use crate::error::{ApiError, ErrorBody};
use crate::export::{self, ExportFormat, Snapshot};
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use caremap_model::Role;

/// Exports written at once; more wait their turn. A registry of 100,000 facilities takes a few
/// hundred megabytes while it is written.
static RUNNING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The registry as a file to download.
#[utoipa::path(
    get,
    path = "/api/v1/export/{format}",
    tag = "export",
    security(("bearer" = [])),
    params(("format" = String, Path, description = "`csv` (UTF-8 with BOM), `xlsx`, `geojson` (OSM-style tags), `fhir` (FHIR R4 Bundle of Location and HealthcareService) or `edxl` (EDXL-HAVE 1.0 HospitalStatus)")),
    responses(
        (status = 200, description = "The export, as an attachment named `caremap-<what>-<date>.<ext>` (`Cache-Control: no-store`)", content(
            ("text/csv; charset=utf-8"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("application/geo+json"),
            ("application/fhir+json; fhirVersion=4.0"),
            ("application/xml; charset=utf-8"),
        )),
        (status = 401, description = "No working token (`unauthenticated`)", body = ErrorBody),
        (status = 429, description = "Too many failed authentications from this address (`rate_limited`); see `Retry-After`", body = ErrorBody),
        (status = 403, description = "The token's account is not an admin (`forbidden`)", body = ErrorBody),
        (status = 404, description = "Unknown format (`not_found`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    auth: Authenticated,
    format: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    if auth.account.role != Role::Admin {
        tracing::info!(account = auth.account.id, "export refused: not an admin");
        return Err(ApiError::ExportForbidden);
    }
    let Ok(Path(format)) = format else {
        return Err(ApiError::NotFound);
    };
    let format = ExportFormat::from_name(&format).ok_or(ApiError::NotFound)?;
    if auth.touch_due {
        state.store.touch_token(&auth.token_hash).await?;
    }
    let _turn = RUNNING.acquire().await.map_err(|_| ApiError::Unavailable)?;
    let snapshot = Snapshot::take(state.store.as_ref(), state.config.freshness).await?;
    let date = snapshot.taken_at.date_naive();
    let count = snapshot.entries.len();
    // A workbook of 100,000 rows takes a while: off the async workers.
    let body = tokio::task::spawn_blocking(move || export::render(format, &snapshot))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "export task failed");
            ApiError::Internal
        })?
        .map_err(|err| {
            tracing::error!(error = %err, "export failed");
            ApiError::Internal
        })?;
    tracing::info!(
        account = auth.account.id,
        format = format.as_str(),
        facilities = count,
        "registry exported"
    );
    let disposition = format!("attachment; filename=\"{}\"", format.file_name(date));
    let disposition = HeaderValue::from_str(&disposition).map_err(|_| ApiError::Internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
