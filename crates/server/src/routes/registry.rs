//! `GET /api/v1/registry`: the registry feed of sync protocol v1.

use crate::error::{ApiError, ApiQuery, ErrorBody};
use crate::store::RawPage;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use caremap_model::{Cursor, PageLimit, RegistryPage};
use serde::Deserialize;

/// Query of a registry pull. Both are read as text and parsed here, so a bad value gets its own
/// error code instead of a generic query error.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryQuery {
    /// The cursor of the last page stored; absent or empty for a first sync.
    #[param(value_type = Option<String>, example = "1042")]
    pub since: Option<String>,
    /// Most records wanted (default 500, clamped to 1..=5000).
    #[param(value_type = Option<u32>, example = 500)]
    pub limit: Option<String>,
}

/// Parses a limit: a non-negative whole number, clamped by [`PageLimit`].
pub fn parse_limit(raw: Option<&str>) -> Result<PageLimit, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(PageLimit::clamped(None)),
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
            // All digits: too large for u32 just means "as many as allowed".
            let n = s.parse::<u32>().unwrap_or(u32::MAX);
            Ok(PageLimit::clamped(Some(n)))
        }
        Some(_) => Err(ApiError::InvalidLimit),
    }
}

/// The changes after `since`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/registry",
    tag = "registry",
    params(RegistryQuery),
    responses(
        (status = 200, description = "A page of the feed: facilities and tombstones in change order", body = RegistryPage),
        (status = 400, description = "Invalid cursor (`invalid_cursor`), limit (`invalid_limit`) or query (`invalid_query`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn registry(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RegistryQuery>,
) -> Result<Json<RawPage>, ApiError> {
    let since: Cursor = query
        .since
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|_| ApiError::InvalidCursor)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let page = state.store.registry_page_raw(since, limit).await?;
    Ok(Json(page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(parse_limit(None).map(PageLimit::get).ok(), Some(500));
        assert_eq!(parse_limit(Some("0")).map(PageLimit::get).ok(), Some(1));
        assert_eq!(
            parse_limit(Some("99999999999999")).map(PageLimit::get).ok(),
            Some(PageLimit::MAX)
        );
        assert!(parse_limit(Some("-1")).is_err());
        assert!(parse_limit(Some("ten")).is_err());
    }
}
