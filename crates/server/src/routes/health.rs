//! `GET /api/v1/health`: liveness and database reachability, for load balancers and humans.

use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// Live (not deleted) facilities in the registry.
    pub facilities: u64,
    pub version: String,
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
    let facilities = state.store.count().await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        facilities,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    }))
}
