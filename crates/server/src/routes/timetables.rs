//! `GET /api/v1/timetables`: every distinct opening-hours text of the registry, compiled into
//! the open minutes of the next four weeks (`caremap_model::Timetable`), so the residents' app
//! says "open now" without the OSM grammar (docs/ARCHITECTURE.md, "Opening hours").
//!
//! Compiled from the facilities' local midnight (China Standard Time) of today, and kept for a
//! few minutes: a registry of 100,000 facilities has a few dozen to a few thousand distinct
//! texts, and the phones of a district ask after each sync that leaves them short of a text or
//! of weeks ahead. A new day, or a text that appeared, is picked up within [`KEEP`].

use crate::error::ApiQuery;
use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use caremap_model::{OpeningHours, Timetable, TimetableSet};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a compiled set is answered before it is made again.
pub const KEEP: Duration = Duration::from_secs(5 * 60);

/// The facilities' offset from UTC (China Standard Time, as the PWA's clock).
const FACILITY_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// The last set compiled: when, from which midnight, and its JSON.
#[derive(Default)]
pub struct TimetableCache {
    last: Mutex<Option<(Instant, NaiveDateTime, Bytes)>>,
}

/// Local midnight of today at the facilities.
fn facilities_midnight() -> NaiveDateTime {
    let now = Utc::now();
    let local = FixedOffset::east_opt(FACILITY_UTC_OFFSET_SECONDS).map_or_else(
        || now.naive_utc(),
        |offset| now.with_timezone(&offset).naive_local(),
    );
    local.date().and_time(NaiveTime::MIN)
}

/// Compiles every distinct text in `texts` from `from`.
pub fn compile_all<'a>(
    texts: impl IntoIterator<Item = &'a OpeningHours>,
    from: NaiveDateTime,
) -> TimetableSet {
    let distinct: BTreeMap<&str, &OpeningHours> =
        texts.into_iter().map(|h| (h.as_str(), h)).collect();
    TimetableSet {
        timetables: distinct
            .into_values()
            .map(|hours| {
                (
                    hours.as_str().to_owned(),
                    Timetable::compile(hours, from, Timetable::DEFAULT_DAYS),
                )
            })
            .collect(),
    }
}

/// `?from=YYYY-MM-DD`: the phone's own day (its clock decides what "now" is); a day more than
/// a year from the server's is taken as that bound (a phone's clock gone wild still gets
/// timetables); today at the facilities when absent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimetablesQuery {
    #[param(value_type = Option<String>, format = Date, example = "2026-12-03")]
    pub from: Option<String>,
}

/// How far the asked day may be from the server's.
const MAX_DAYS_APART: i64 = 366;

fn parse_from(raw: Option<&str>, today: NaiveDateTime) -> Result<NaiveDateTime, ApiError> {
    // Absent: today. Present, it must be a date, exactly (an empty value is not one).
    let Some(raw) = raw else {
        return Ok(today);
    };
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .map(|d| {
            let apart = chrono::Duration::days(MAX_DAYS_APART);
            d.and_time(NaiveTime::MIN)
                .clamp(today - apart, today + apart)
        })
        .ok_or_else(|| {
            ApiError::InvalidQuery(format!(
                "from must be a date (YYYY-MM-DD), not “{}”",
                raw.chars().take(40).collect::<String>()
            ))
        })
}

#[utoipa::path(
    get,
    path = "/api/v1/timetables",
    tag = "registry",
    params(TimetablesQuery),
    responses(
        (status = 200, description = "Every distinct opening-hours text of the registry, compiled for the next four weeks (facilities' local time)", body = TimetableSet),
        (status = 400, description = "`from` is not a date (`invalid_query`)", body = ErrorBody),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn timetables(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TimetablesQuery>,
) -> Result<Response, ApiError> {
    let from = parse_from(query.from.as_deref(), facilities_midnight())?;
    let kept = state
        .timetables
        .last
        .lock()
        .ok()
        .and_then(|last| last.clone())
        .filter(|(at, made_from, _)| *made_from == from && at.elapsed() < KEEP);
    let body = match kept {
        Some((_, _, body)) => body,
        None => {
            let records = state.store.list().await?;
            let set = compile_all(
                records
                    .iter()
                    .filter_map(|r| r.facility.as_ref())
                    .filter_map(|f| f.opening_hours.as_ref()),
                from,
            );
            let body = Bytes::from(serde_json::to_vec(&set).map_err(|err| {
                tracing::error!(error = %err, "timetables: cannot serialise");
                ApiError::Unavailable
            })?);
            if let Ok(mut last) = state.timetables.last.lock() {
                *last = Some((Instant::now(), from, body.clone()));
            }
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
