//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every endpoint and schema.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{config, health, registry};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "caremap API",
        description = "Sync protocol v1 of caremap. Errors are `{\"error\": {\"code\", \"message\"}}` with the message in the language of `Accept-Language` (zh-CN by default)."
    ),
    paths(registry::registry, config::config, health::health, openapi_json),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        config::ClientConfig,
        health::Health,
        caremap_model::RegistryPage,
        caremap_model::FacilityRecord,
        caremap_model::Facility,
        caremap_model::FacilityId,
        caremap_model::FacilityKind,
        caremap_model::Service,
        caremap_model::Names,
        caremap_model::LatLon,
        caremap_model::AdminArea,
        caremap_model::Phone,
        caremap_model::OpeningHours,
        caremap_model::Capacity,
        caremap_model::Operational,
        caremap_model::ExternalId,
        caremap_model::Cursor,
    ))
)]
pub struct ApiDoc;

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "This OpenAPI document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
