//! `GET /api/v1/config`: what the PWA needs to know about this deployment.

use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use caremap_model::FreshnessThresholds;
use serde::{Deserialize, Serialize};

/// Settings for the PWA.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClientConfig {
    /// Map tile URL template, Leaflet syntax.
    #[schema(example = "https://tile.openstreetmap.org/{z}/{x}/{y}.png")]
    pub tile_url: String,
    #[schema(example = "© OpenStreetMap contributors")]
    pub tile_attribution: String,
    /// Whether the registry holds demo data; the PWA then says so on every screen.
    pub demo: bool,
    /// When a facility's status turns ageing and stale.
    pub freshness: FreshnessThresholds,
}

#[utoipa::path(
    get,
    path = "/api/v1/config",
    tag = "config",
    responses(
        (status = 200, description = "Deployment settings for the PWA", body = ClientConfig),
        (status = 503, description = "The database is unavailable", body = ErrorBody),
    )
)]
pub async fn config(State(state): State<AppState>) -> Result<Json<ClientConfig>, ApiError> {
    Ok(Json(ClientConfig {
        tile_url: state.config.tile_url.clone(),
        tile_attribution: state.config.tile_attribution.clone(),
        demo: state.store.has_demo_data().await?,
        freshness: state.config.freshness,
    }))
}
