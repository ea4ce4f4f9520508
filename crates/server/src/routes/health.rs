//! `GET /api/v1/health`: liveness and database reachability, for load balancers and humans.
//!
//! It must stay cheap however often it is asked (a load balancer asks every few seconds, anyone
//! may ask more): each request reads one row (the change sequence's last number, which proves
//! the database answers). The live facilities are counted (a scan) only when that number moved
//! since the last count, and then at most once every [`RECOUNT_INTERVAL`]; meanwhile the last
//! count is given.

use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The shortest time between two counts of the facilities.
pub const RECOUNT_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// Live (not deleted) facilities in the registry (counted at most once a minute).
    pub facilities: u64,
    pub version: String,
}

/// The last count of live facilities: at which change, and when it was made.
#[derive(Debug, Default)]
pub struct HealthCount {
    last: Mutex<Option<(u64, u64, Instant)>>,
}

#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "health",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let change = state.store.last_change().await?;
    let kept = *state.health.last.lock().unwrap_or_else(|p| p.into_inner());
    let facilities = match kept {
        Some((at, n, when)) if at == change || when.elapsed() < RECOUNT_INTERVAL => n,
        _ => {
            let n = state.store.count().await?;
            *state.health.last.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((change, n, Instant::now()));
            n
        }
    };
    Ok(Json(Health {
        status: "ok".to_owned(),
        facilities,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
