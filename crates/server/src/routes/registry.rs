//! `GET /api/v1/registry`: the registry feed of sync protocol v1.

use crate::error::{ApiError, ApiQuery, ErrorBody};
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caremap_model::{Cursor, PageLimit, RegistryPage};
use serde::Deserialize;

/// Query of a registry pull. Both are read as text and parsed here, so a bad value gets its own
/// error code instead of a generic query error.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistryQuery {
    /// The cursor of the last page stored; absent or empty for a first sync. One this database
    /// did not give (another history: the server's database was replaced or restored) is
    /// answered 409 `invalid_cursor`. The form is the change number, then `.` and the
    /// database's id in 16 hex digits (a bare number, from servers before ids, is still read).
    #[param(value_type = Option<String>, pattern = "^([0-9]{1,18}(\\.[0-9a-f]{16})?)?$", example = "42.7f3a09c1d2b4e856")]
    pub since: Option<String>,
    /// Most records wanted (default 500, clamped to 1..=5000): any whole number of digits.
    #[param(schema_with = crate::routes::openapi::whole_number, example = 500)]
    pub limit: Option<String>,
    /// `records` (the default: `RegistryPage`) or `columns` (`ColumnarPage`: the same page
    /// column by column, about half the bytes compressed; what the PWA asks for).
    #[param(value_type = Option<String>, pattern = "^(records|columns)?$", example = "columns")]
    pub format: Option<String>,
}

/// A registry page in the layout `format` asks for: what the OpenAPI description says the feed
/// answers (the handler writes either as JSON).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // never built: it describes, nothing more
pub enum RegistryAnswer {
    Records(RegistryPage),
    Columns(caremap_model::ColumnarPage),
}

/// The layouts of a registry page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Records,
    Columns,
}

/// Parses `format`: absent or empty is the record layout.
pub fn parse_format(raw: Option<&str>) -> Result<Format, ApiError> {
    match raw.map(str::trim).unwrap_or_default() {
        "" | "records" => Ok(Format::Records),
        "columns" => Ok(Format::Columns),
        other => Err(ApiError::InvalidQuery(format!(
            "format must be records or columns, not “{}”",
            other.chars().take(40).collect::<String>()
        ))),
    }
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
        (status = 200, description = "A page of the feed: facilities and tombstones in change order; `RegistryPage` (each record with its `facility` nested, absent on a tombstone), or `ColumnarPage` with `format=columns`", body = RegistryAnswer),
        (status = 400, description = "A cursor (`invalid_cursor`), limit (`invalid_limit`) or query (`invalid_query`) that does not parse", body = ErrorBody),
        (status = 409, description = "A cursor this database did not give (`invalid_cursor`): its history was replaced or restored; sync again from the start", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn registry(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<RegistryQuery>,
) -> Result<Response, ApiError> {
    let since: Cursor = query
        .since
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|_| ApiError::InvalidCursor)?;
    let limit = parse_limit(query.limit.as_deref())?;
    let format = parse_format(query.format.as_deref())?;
    let page = state.store.registry_page_raw(since, limit).await?;
    match format {
        // Kept compressed too (src/feed.rs), so a page many phones ask for is compressed once.
        Format::Records if accepts_brotli(&headers) => {
            let body = state.feed_cache.records_brotli(since, limit, page).await?;
            Ok(brotli_json(body))
        }
        Format::Records => Ok(Json(page).into_response()),
        // Compressed once and kept for every phone that asks, at brotli 11 for the pages of a
        // first sync (src/feed.rs); a client without
        // brotli gets the JSON, which the compression layer gzips on the way.
        Format::Columns if accepts_brotli(&headers) => {
            let body = state
                .feed_cache
                .brotli(&state.store, since, limit, page)
                .await?;
            Ok(brotli_json(body))
        }
        Format::Columns => Ok((
            [(header::CONTENT_TYPE, "application/json")],
            crate::feed::columnar_json(page)?,
        )
            .into_response()),
    }
}

/// Brotli-compressed JSON as kept by the feed cache.
fn brotli_json(body: std::sync::Arc<[u8]>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONTENT_ENCODING, "br"),
            (header::VARY, "accept-encoding"),
        ],
        Body::from(body.to_vec()),
    )
        .into_response()
}

/// Whether `Accept-Encoding` lists `br` with a non-zero weight.
fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case("br") && !refused
        })
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

    #[test]
    fn formats_and_encodings() {
        assert_eq!(parse_format(None).ok(), Some(Format::Records));
        assert_eq!(parse_format(Some("columns")).ok(), Some(Format::Columns));
        assert!(parse_format(Some("csv")).is_err());
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
            accepts_brotli(&headers)
        };
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("BR;q=0.5"));
        assert!(!accepts("gzip"));
        assert!(!accepts("br;q=0, gzip"));
        assert!(!accepts("brotli"));
    }
}
