//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every endpoint and schema.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes::{accounts, config, export, health, push, registry, reports, timetables};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "caremap API",
        description = "Sync protocol v1 of caremap. Errors are `{\"error\": {\"code\", \"message\"}}` with the message in the language of `Accept-Language` (zh-CN by default)."
    ),
    modifiers(&BearerToken),
    paths(
        registry::registry,
        timetables::timetables,
        accounts::enroll,
        accounts::me,
        push::push,
        reports::history,
        export::export,
        config::config,
        health::health,
        openapi_json
    ),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        caremap_model::ClientConfig,
        caremap_model::ApiErrorCode,
        caremap_model::MutationErrorCode,
        health::Health,
        caremap_model::RegistryPage,
        caremap_model::ColumnarPage,
        caremap_model::TimetableSet,
        caremap_model::Timetable,
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
        caremap_model::FacilityStatus,
        caremap_model::Crowding,
        caremap_model::FreshnessThresholds,
        caremap_model::EnrollRequest,
        caremap_model::EnrollResponse,
        caremap_model::AccountInfo,
        caremap_model::Role,
        caremap_model::Scope,
        caremap_model::PushRequest,
        caremap_model::PushResponse,
        caremap_model::Mutation,
        caremap_model::MutationResult,
        caremap_model::MutationError,
        caremap_model::Outcome,
        caremap_model::ReportHistory,
        caremap_model::ReportRecord,
        caremap_model::ReportId,
        caremap_model::LoadReport,
        caremap_model::ReportedStatus,
        caremap_model::Stock,
        caremap_model::StockItem,
        caremap_model::StockLevel,
    ))
)]
pub struct ApiDoc;

/// The `bearer` security scheme of the write endpoints (device tokens from `/enroll`).
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use caremap_model::{ApiErrorCode, MutationErrorCode};

    fn enum_of(doc: &serde_json::Value, schema: &str) -> Vec<String> {
        doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_document_lists_every_code_the_server_sends_and_no_other() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        assert_eq!(
            enum_of(&doc, "ApiErrorCode"),
            ApiErrorCode::ALL.map(|c| c.as_str().to_owned())
        );
        assert_eq!(
            enum_of(&doc, "MutationErrorCode"),
            MutationErrorCode::ALL.map(|c| c.as_str().to_owned())
        );
        assert_eq!(
            doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]["$ref"],
            "#/components/schemas/ApiErrorCode"
        );
    }
}
