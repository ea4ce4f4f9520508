//! healthsites.io exports, in both of their schemas.
//!
//! - **Current** (the OSM-backed API and its GeoJSON / shapefile exports): OSM tags, either flat
//!   in the properties (`amenity`, `healthcare`, `name`, `osm_id`, `osm_type`, `uuid`,
//!   `completeness` …) or nested in `attributes` next to `osm_id`, `osm_type`, `centroid` and
//!   `completeness`. The API writes some tags with underscores (`contact_number`, `addr_street`,
//!   `staff_doctors`, `speciality`); they are read as the OSM tags they stand for. The kind
//!   follows the OSM rules of [`super::geojson`].
//! - **Older** (the localities schema, before healthsites moved onto OSM): no OSM tags, but
//!   `nature-of-facility`, `type`, `uuid`, `upstream`, `name`, `physical-address`,
//!   `contact-number`. The kind follows [`FACILITY_TYPES`].
//!
//! External id: the OSM id when there is one (`osm:node/123`, so the same place from an Overpass
//! export is the same facility), and `healthsites:<uuid>` kept with it; without an OSM id (the
//! older schema) `healthsites:<uuid>` is the facility's identity.

use super::geojson::{classify as classify_osm, classify_by_name, Classification, Ids, Tags};
use caremap_model::FacilityKind;
use serde_json::{Map, Value};

/// What a healthsites facility type says, before the name is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeRule {
    /// Like `amenity=hospital`: a township health centre by its name (卫生院, 社区卫生服务中心),
    /// else a fever clinic.
    Hospital,
    /// Like `amenity=clinic`: by its name (卫生院 …; 发热 → fever station; 卫生室, 卫生站, 村 →
    /// village clinic), else kind unknown.
    Clinic,
    Kind(FacilityKind),
    NotAHealthFacility,
}

/// The healthsites facility types (values of `nature-of-facility`, `type`, `healthcare`,
/// `amenity`, compared without case) and what they map to; documented in
/// `crates/server/import/README.md`. Any other value: kind unknown (add `caremap:kind`).
pub const FACILITY_TYPES: &[(&str, TypeRule)] = &[
    ("hospital", TypeRule::Hospital),
    ("general hospital", TypeRule::Hospital),
    ("district hospital", TypeRule::Hospital),
    ("referral hospital", TypeRule::Hospital),
    ("first referral hospital", TypeRule::Hospital),
    (
        "second referral hospital or general hospital",
        TypeRule::Hospital,
    ),
    (
        "tertiary level including university hospital",
        TypeRule::Hospital,
    ),
    ("specialised hospital", TypeRule::Hospital),
    ("specialized hospital", TypeRule::Hospital),
    ("field hospital", TypeRule::Hospital),
    (
        "clinic with beds",
        TypeRule::Kind(FacilityKind::TownshipHealthCenter),
    ),
    (
        "health centre",
        TypeRule::Kind(FacilityKind::TownshipHealthCenter),
    ),
    (
        "health center",
        TypeRule::Kind(FacilityKind::TownshipHealthCenter),
    ),
    (
        "primary health centre",
        TypeRule::Kind(FacilityKind::TownshipHealthCenter),
    ),
    (
        "community health centre",
        TypeRule::Kind(FacilityKind::TownshipHealthCenter),
    ),
    ("centre", TypeRule::Kind(FacilityKind::TownshipHealthCenter)),
    ("health post", TypeRule::Kind(FacilityKind::VillageClinic)),
    ("dispensary", TypeRule::Kind(FacilityKind::VillageClinic)),
    (
        "health station",
        TypeRule::Kind(FacilityKind::VillageClinic),
    ),
    ("clinic", TypeRule::Clinic),
    ("clinic without beds", TypeRule::Clinic),
    ("doctors", TypeRule::Clinic),
    ("doctor", TypeRule::Clinic),
    ("medical centre", TypeRule::Clinic),
    (
        "vaccination_centre",
        TypeRule::Kind(FacilityKind::VaccinationPoint),
    ),
    (
        "vaccination centre",
        TypeRule::Kind(FacilityKind::VaccinationPoint),
    ),
    (
        "immunization centre",
        TypeRule::Kind(FacilityKind::VaccinationPoint),
    ),
    ("pharmacy", TypeRule::NotAHealthFacility),
    ("dentist", TypeRule::NotAHealthFacility),
    ("laboratory", TypeRule::NotAHealthFacility),
    ("optometrist", TypeRule::NotAHealthFacility),
    ("physiotherapist", TypeRule::NotAHealthFacility),
    ("alternative", TypeRule::NotAHealthFacility),
    ("blood_donation", TypeRule::NotAHealthFacility),
    ("blood bank", TypeRule::NotAHealthFacility),
    ("veterinary", TypeRule::NotAHealthFacility),
];

/// The older schema's facility-type properties, in the order they are read.
const TYPE_KEYS: &[&str] = &["nature-of-facility", "nature_of_facility", "type"];

/// The API's underscore names and the OSM tags they stand for.
const RENAMES: &[(&str, &str)] = &[
    ("contact_number", "contact:phone"),
    ("contact-number", "contact:phone"),
    ("addr_housenumber", "addr:housenumber"),
    ("addr_street", "addr:street"),
    ("addr_city", "addr:city"),
    ("addr_postcode", "addr:postcode"),
    ("physical-address", "addr:full"),
    ("physical_address", "addr:full"),
    ("speciality", "healthcare:speciality"),
    ("staff_doctors", "staff_count:doctors"),
];

/// The tags of a healthsites feature, or `None` when the properties are not healthsites'.
pub(crate) fn tags(props: &Map<String, Value>) -> Option<Map<String, Value>> {
    let attributes = props.get("attributes").and_then(Value::as_object);
    let older = TYPE_KEYS.iter().take(2).any(|k| props.contains_key(*k))
        || (props.contains_key("uuid")
            && ["upstream", "osm_id", "osm_type", "completeness"]
                .iter()
                .any(|k| props.contains_key(*k)));
    if attributes.is_none() && !older {
        return None;
    }
    let mut tags = props.clone();
    tags.remove("attributes");
    if let Some(attributes) = attributes {
        for (key, value) in attributes {
            tags.insert(key.clone(), value.clone());
        }
    }
    for (from, to) in RENAMES {
        if !tags.contains_key(*to) {
            if let Some(value) = tags.get(*from).cloned() {
                tags.insert((*to).to_owned(), value);
            }
        }
    }
    Some(tags)
}

/// The OSM id (`node/1`) when there is one, the healthsites uuid next to it or instead.
pub(crate) fn ids(osm: Option<String>, tags: &Tags<'_>) -> Ids {
    let uuid = tags.get("uuid").map(|u| format!("healthsites:{u}"));
    match osm {
        Some(osm) => Ids {
            primary: Some(super::geojson::external_id(&osm)),
            extra: uuid.into_iter().collect(),
            column: "osm_id",
            extra_column: "uuid",
            claimed: None,
        },
        None => Ids::single(uuid, "uuid"),
    }
}

/// What a facility-type value maps to, if the table knows it.
pub fn type_rule(value: &str) -> Option<TypeRule> {
    let value = value.trim().to_lowercase();
    FACILITY_TYPES
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, rule)| *rule)
}

/// Classifies a healthsites feature: `caremap:kind` first, OSM tags when it has them (the
/// current schema), else its facility type (the older schema, [`FACILITY_TYPES`]).
pub(crate) fn classify(tags: &Tags<'_>) -> Classification {
    let has_osm_tags = ["caremap:kind", "amenity", "healthcare"]
        .iter()
        .any(|k| tags.get(k).is_some());
    if has_osm_tags {
        return classify_osm(tags);
    }
    let mut saw_type = false;
    for key in TYPE_KEYS {
        let Some(value) = tags.get(key) else {
            continue;
        };
        saw_type = true;
        match type_rule(&value) {
            Some(TypeRule::Hospital) => return classify_by_name(tags, true),
            Some(TypeRule::Clinic) => return classify_by_name(tags, false),
            Some(TypeRule::Kind(kind)) => {
                // A named township health centre stays one whatever the type says.
                return match classify_by_name(tags, false) {
                    Classification::Kind(FacilityKind::TownshipHealthCenter) => {
                        Classification::Kind(FacilityKind::TownshipHealthCenter)
                    }
                    _ => Classification::Kind(kind),
                };
            }
            Some(TypeRule::NotAHealthFacility) => return Classification::NotAHealthFacility,
            None => {}
        }
    }
    if saw_type {
        // A health facility of a type the table does not know: by its name, else unknown.
        classify_by_name(tags, false)
    } else {
        Classification::NotAHealthFacility
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify_props(props: Value) -> Classification {
        let props = props.as_object().cloned().unwrap_or_default();
        let tags = super::tags(&props).expect("healthsites");
        classify(&Tags(&tags))
    }

    #[test]
    fn older_schema_types_map_to_kinds() {
        use FacilityKind::*;
        let cases = [
            (
                json!({"nature-of-facility": "Hospital", "name": "县人民医院", "uuid": "a", "upstream": "x"}),
                Classification::Kind(FeverClinic),
            ),
            (
                json!({"nature-of-facility": "clinic with beds", "name": "某镇卫生院", "uuid": "a"}),
                Classification::Kind(TownshipHealthCenter),
            ),
            (
                json!({"nature-of-facility": "Health Post", "name": "横塘", "uuid": "a"}),
                Classification::Kind(VillageClinic),
            ),
            (
                json!({"nature-of-facility": "Clinic", "name": "某村卫生室", "uuid": "a"}),
                Classification::Kind(VillageClinic),
            ),
            (
                json!({"nature-of-facility": "Clinic", "name": "私人诊所", "uuid": "a"}),
                Classification::KindUnknown,
            ),
            (
                json!({"nature-of-facility": "Pharmacy", "name": "药店", "uuid": "a"}),
                Classification::NotAHealthFacility,
            ),
            (
                json!({"type": "hospital", "name": "马渚镇中心卫生院", "uuid": "a", "upstream": "x"}),
                Classification::Kind(TownshipHealthCenter),
            ),
            (
                json!({"nature-of-facility": "Maternity home", "name": "妇幼", "uuid": "a"}),
                Classification::KindUnknown,
            ),
        ];
        for (props, expected) in cases {
            assert_eq!(classify_props(props.clone()), expected, "{props}");
        }
    }

    #[test]
    fn current_schema_attributes_are_osm_tags() {
        let props = json!({
            "attributes": {"amenity": "hospital", "name": "测试医院", "contact_number": "0574-62680101", "uuid": "u1"},
            "osm_id": 7, "osm_type": "node", "completeness": 30
        });
        let props = props.as_object().cloned().unwrap_or_default();
        let tags = super::tags(&props).expect("healthsites");
        let tags = Tags(&tags);
        assert_eq!(
            classify(&tags),
            Classification::Kind(FacilityKind::FeverClinic)
        );
        assert_eq!(tags.get("contact:phone").as_deref(), Some("0574-62680101"));
        let ids = ids(Some("node/7".to_owned()), &tags);
        assert_eq!(ids.primary.as_deref(), Some("osm:node/7"));
        assert_eq!(ids.extra, ["healthsites:u1"]);
    }
}
