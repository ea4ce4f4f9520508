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
        description = "Sync protocol v1 of caremap. Errors are `{\"error\": {\"code\", \"message\"}}` with the message in the language of `Accept-Language` (zh-CN by default). Any request may also be answered 408 `timeout` when it takes longer than the server's request timeout. `cargo xtask test` runs schemathesis (all checks, all phases) against this document as served."
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
        registry::RegistryAnswer,
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

/// A query parameter read as a whole number of any size (`limit`, `days`: the server clamps
/// it), or empty for the default: digits, described as the text they are, since an integer
/// schema would refuse the empty value and bound the size.
pub fn whole_number() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^[0-9]*$"))
        .build()
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
    fn enums_are_published_with_their_wire_names() {
        use caremap_model::{FacilityKind, ReportedStatus, Service, StockItem, StockLevel};
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let wire = |names: Vec<&str>| names.into_iter().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(enum_of(&doc, "Role"), ["reporter", "outreach", "admin"]);
        assert_eq!(
            enum_of(&doc, "FacilityKind"),
            wire(FacilityKind::ALL.iter().map(|k| k.as_str()).collect())
        );
        assert_eq!(
            enum_of(&doc, "Service"),
            wire(Service::ALL.iter().map(|k| k.as_str()).collect())
        );
        assert_eq!(
            enum_of(&doc, "ReportedStatus"),
            wire(ReportedStatus::ALL.iter().map(|k| k.as_str()).collect())
        );
        assert_eq!(
            enum_of(&doc, "StockItem"),
            wire(StockItem::ALL.iter().map(|k| k.as_str()).collect())
        );
        assert_eq!(
            enum_of(&doc, "StockLevel"),
            wire(StockLevel::ALL.iter().map(|k| k.as_str()).collect())
        );
    }

    #[test]
    fn the_registry_page_is_described_in_both_layouts() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        let answer = &doc["paths"]["/api/v1/registry"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"]["$ref"];
        assert_eq!(answer, "#/components/schemas/RegistryAnswer");
        let layouts: Vec<&str> = doc["components"]["schemas"]["RegistryAnswer"]["oneOf"]
            .as_array()
            .map(|all| all.iter().filter_map(|s| s["$ref"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            layouts,
            [
                "#/components/schemas/RegistryPage",
                "#/components/schemas/ColumnarPage"
            ]
        );
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
