//! `GET /api/v1/config`: what the PWA needs to know about this deployment.

use crate::error::{ApiError, ErrorBody};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use caremap_model::ClientConfig;

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
        tiles: state.config.tiles.source.clone(),
        demo: state.store.has_demo_data().await?,
        freshness: state.config.freshness,
    }))
}
