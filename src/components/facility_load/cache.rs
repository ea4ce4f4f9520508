//! Fetching a facility's seven days and keeping them: `GET /api/v1/facilities/{id}/reports`
//! (all the days it serves, [`HISTORY_MAX_DAYS`]),
//! asked for when the phone is online, each answer reduced to one figure per day and kept in
//! localStorage, so the page shows the last one it saw when offline (and says so), or says it
//! cannot load them.

use super::days::{daily_loads, DayLoad, HistoryLoads};
use crate::api::{self, ApiError};
use crate::browser;
use caremap_model::{FacilityId, HISTORY_MAX_DAYS};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// localStorage key prefix of the last answer per facility.
const CACHE_PREFIX: &str = "caremap.history.v1.";

/// What the phone keeps of a facility's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cached {
    pub saved_at: DateTime<Utc>,
    pub days: Vec<DayLoad>,
}

/// Where the seven days stand.
#[derive(Debug, Clone, PartialEq)]
pub enum History {
    Loading,
    /// Just loaded from the server.
    Live(Vec<DayLoad>),
    /// The last answer kept on the phone, shown because the server cannot be reached.
    Cached(Cached),
    /// Offline and nothing kept.
    Offline,
    /// The server answered with an error and nothing is kept.
    Failed,
}

impl History {
    /// `data-state` of the history section.
    pub fn state(&self) -> &'static str {
        match self {
            History::Loading => "loading",
            History::Live(_) => "online",
            History::Cached(_) => "cached",
            History::Offline => "offline",
            History::Failed => "error",
        }
    }
}

fn cache_key(id: FacilityId) -> String {
    format!("{CACHE_PREFIX}{id}")
}

/// What to show without an answer: the copy kept on the phone, else why there is nothing.
pub fn fallback(id: FacilityId, offline: bool) -> History {
    match browser::stored_json::<Cached>(&cache_key(id)) {
        Some(cached) => History::Cached(cached),
        None if offline => History::Offline,
        None => History::Failed,
    }
}

/// The facility's days from the server (kept on the phone for next time), or the fallback.
pub async fn fetch(id: FacilityId) -> History {
    match api::facility_reports_as::<HistoryLoads>(id, HISTORY_MAX_DAYS).await {
        Ok(answer) => {
            let days = daily_loads(&answer);
            let cached = Cached {
                saved_at: Utc::now(),
                days: days.clone(),
            };
            // A full localStorage only costs the chart offline.
            let _ = browser::store_json(&cache_key(id), &cached);
            History::Live(days)
        }
        Err(err) => {
            leptos::logging::warn!("report history: {err}");
            fallback(id, matches!(err, ApiError::Network(_)))
        }
    }
}
