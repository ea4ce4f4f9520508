//! The app's URLs: every route path and every link to a page is built here, so a path lives in
//! one place only.

use caremap_model::FacilityId;
use leptos_router::{ParamSegment, StaticSegment};

/// The first segment of a facility page's path: `/facility/<id>`.
const FACILITY_SEGMENT: &str = "facility";

/// The name of the id parameter of the facility route.
pub const FACILITY_ID_PARAM: &str = "id";

/// The map page's route path (`/`).
pub fn map_path() -> StaticSegment<&'static str> {
    StaticSegment("")
}

/// The facility page's route path (`/facility/:id`).
pub fn facility_path() -> (StaticSegment<&'static str>, ParamSegment) {
    (
        StaticSegment(FACILITY_SEGMENT),
        ParamSegment(FACILITY_ID_PARAM),
    )
}

/// The first (only) segment of the doctor's page: `/report`.
const REPORT_SEGMENT: &str = "report";

/// The village doctor's page's route path (`/report`): enrollment, report form, outbox.
pub fn report_path() -> StaticSegment<&'static str> {
    StaticSegment(REPORT_SEGMENT)
}

/// A link to the village doctor's page.
pub fn report_href() -> &'static str {
    "/report"
}

/// A link to the map page.
pub fn map_href() -> &'static str {
    "/"
}

/// A link to a facility's page.
pub fn facility_href(id: FacilityId) -> String {
    format!("/{FACILITY_SEGMENT}/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn facility_links_match_the_route() {
        let id: FacilityId = "0192f0c4-5b7e-7cc0-8000-000000000001"
            .parse()
            .expect("valid uuid");
        assert_eq!(
            facility_href(id),
            "/facility/0192f0c4-5b7e-7cc0-8000-000000000001"
        );
        assert_eq!(report_href(), format!("/{REPORT_SEGMENT}"));
    }
}
