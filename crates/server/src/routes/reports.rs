//! `GET /api/v1/facilities/{id}/reports?days=N`: a facility's recent load reports, public.
//!
//! Residents and the health authority read the same history, so it carries only what residents
//! may see: no reporter identity, no free-text `note` (a doctor writes it for the health office,
//! and it may name patients), and no report a later correction replaced (only the correction).
//! The doctor's own history on the phone comes from the phone's outbox, not from here.

use crate::error::{ApiError, ApiQuery, ErrorBody};
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use caremap_model::{FacilityId, ReportHistory, ReportRecord, HISTORY_MAX_DAYS};
use chrono::Duration;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Days back from now (default 30, clamped to 1..=30).
    #[param(schema_with = crate::routes::openapi::whole_number, example = 7)]
    pub days: Option<String>,
}

/// Parses `days`: a whole number, clamped to 1..=[`HISTORY_MAX_DAYS`]; absent or empty is
/// [`HISTORY_MAX_DAYS`] (30).
pub fn parse_days(raw: Option<&str>) -> Result<u32, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(HISTORY_MAX_DAYS),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => Ok(s
            .parse::<u32>()
            .unwrap_or(u32::MAX)
            .clamp(1, HISTORY_MAX_DAYS)),
        Some(_) => Err(ApiError::InvalidQuery(format!(
            "days must be a whole number of days (1 to {HISTORY_MAX_DAYS})"
        ))),
    }
}

/// The facility's reports of the last `days` days (by `as_of`), newest first, at most 1,000,
/// without their notes; a report a correction replaced is left out (its correction is listed).
#[utoipa::path(
    get,
    path = "/api/v1/facilities/{id}/reports",
    tag = "reports",
    params(("id" = uuid::Uuid, Path, description = "Facility id (UUID)"), HistoryQuery),
    responses(
        (status = 200, description = "The reports, newest first, without `note` and without reports a correction replaced", body = ReportHistory),
        (status = 400, description = "The id is not a UUID (`invalid_id`) or `days` is not a number (`invalid_query`)", body = ErrorBody),
        (status = 404, description = "No such facility, or it was deleted (`not_found`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable (`unavailable`)", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<ReportHistory>, ApiError> {
    // A segment that is not even UTF-8 once decoded is as invalid as any other non-UUID.
    let Ok(Path(id)) = id else {
        return Err(ApiError::InvalidId);
    };
    let facility: FacilityId = id.trim().parse().map_err(|_| ApiError::InvalidId)?;
    let days = parse_days(query.days.as_deref())?;
    match state.store.get(facility).await? {
        Some(record) if !record.deleted => {}
        _ => return Err(ApiError::NotFound),
    }
    let since = crate::store::now() - Duration::days(i64::from(days));
    let reports = state
        .store
        .report_history(facility, since)
        .await?
        .into_iter()
        .filter(|r| !r.superseded)
        .map(public)
        .collect();
    Ok(Json(ReportHistory { facility, reports }))
}

/// A stored report as residents may see it: without its free-text note.
fn public(mut record: ReportRecord) -> ReportRecord {
    record.report.note = None;
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days() {
        assert_eq!(parse_days(None).ok(), Some(30));
        assert_eq!(parse_days(Some("")).ok(), Some(30));
        assert_eq!(parse_days(Some("0")).ok(), Some(1));
        assert_eq!(parse_days(Some("7")).ok(), Some(7));
        assert_eq!(parse_days(Some("99999999999")).ok(), Some(30));
        assert!(parse_days(Some("-1")).is_err());
        assert!(parse_days(Some("week")).is_err());
    }
}
