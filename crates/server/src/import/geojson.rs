//! GeoJSON FeatureCollections exported from OpenStreetMap: by Overpass / overpass-turbo
//! (properties are the flat OSM tags plus `@id` like `node/123`, or osmtogeojson's
//! `{type, id, tags}`) and by healthsites.io (`osm_type`/`osm_id` plus the tags).
//!
//! Location: a Point, or the centroid of a Polygon's outer ring (of the largest polygon of a
//! MultiPolygon). External id: `osm:<type>/<id>`, e.g. `osm:node/123`.
//!
//! Kind, first rule that matches (also in `crates/server/import/README.md`):
//! 1. an explicit `caremap:kind` property (wire name or label) wins;
//! 2. `healthcare=vaccination_centre` → `vaccination_point`;
//! 3. anything that is not `amenity` or `healthcare` = hospital / clinic / doctors / doctor /
//!    centre is not a health facility: skipped and counted, not an error;
//! 4. a name containing 卫生院 or 社区卫生服务中心 → `township_health_center` (even when tagged
//!    hospital: OSM often tags township health centres `amenity=hospital`);
//! 5. `amenity=hospital` or `healthcare=hospital` → `fever_clinic`;
//! 6. a clinic with a fever hint (name containing 发热, or `healthcare:speciality` containing
//!    `fever`) → `fever_station`;
//! 7. a clinic/doctors/centre whose name contains 卫生室, 卫生站 or 村 → `village_clinic`;
//! 8. any other clinic: kind unknown, skipped and counted (add `caremap:kind` to import it).
//!
//! Other tags: `name:zh` (or `name:zh-Hans`, else `name`) and `name:en`; `phone` or
//! `contact:phone`; `opening_hours`; `addr:full` or `addr:city`+`addr:district`+`addr:street`+
//! `addr:housenumber`; township from `addr:town`/`addr:township`/`addr:subdistrict`, village from
//! `addr:village`/`addr:hamlet`; `beds`; `wheelchair=yes` and `opening_hours=24/7` add services;
//! `caremap:services` lists services by wire name; `caremap:doctors`, `caremap:daily_capacity`,
//! `caremap:operational` (with `:reason` and `:reopens_on`) and `caremap:mobile` as our export
//! writes them.
//!
//! Our export's ids: every external id of `caremap:external_ids` is kept, and `caremap:id` says
//! which one the facility id comes from (see [`Ids::of_feature`]), so every registry, not only
//! facilities with an OSM id, reads back under the same ids.
//!
//! healthsites.io features (their `attributes` nested in the properties, or the older schema with
//! `nature-of-facility`) are read by [`super::healthsites`] first.

use super::csv::{parse_bool, parse_services};
use super::{
    healthsites, parse_kind, Entry, FileError, Issue, Location, Parsed, Problem, SkipReason,
    Skipped,
};
use caremap_model::{
    Address, AdminArea, AreaName, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Field,
    LatLon, Name, Names, Note, OpeningHours, Operational, Phone, Service, ValidationError,
};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// How a feature's tags classify it.
#[derive(Debug, Clone, PartialEq)]
pub enum Classification {
    Kind(FacilityKind),
    NotAHealthFacility,
    KindUnknown,
    /// `caremap:kind` holds a value that is not a kind.
    InvalidExplicit(ValidationError),
}

/// The tags of a feature, wherever the exporter put them.
pub(crate) struct Tags<'a>(pub(crate) &'a Map<String, Value>);

impl Tags<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The first of `keys` that is set, with the key.
    fn first(&self, keys: &[&'static str]) -> Option<(String, &'static str)> {
        keys.iter().find_map(|k| self.get(k).map(|v| (v, *k)))
    }

    fn is(&self, key: &str, value: &str) -> bool {
        self.get(key).is_some_and(|v| v == value)
    }

    pub(crate) fn names(&self) -> String {
        ["name", "name:zh", "name:zh-Hans", "official_name"]
            .iter()
            .filter_map(|k| self.get(k))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Classifies a feature by its tags (see the module docs for the rules).
pub(crate) fn classify(tags: &Tags<'_>) -> Classification {
    if let Some(explicit) = tags.get("caremap:kind") {
        return match parse_kind(&explicit) {
            Ok(kind) => Classification::Kind(kind),
            Err(err) => Classification::InvalidExplicit(err),
        };
    }
    if tags.is("healthcare", "vaccination_centre") {
        return Classification::Kind(FacilityKind::VaccinationPoint);
    }
    let amenity = tags.get("amenity").unwrap_or_default();
    let healthcare = tags.get("healthcare").unwrap_or_default();
    let hospital = amenity == "hospital" || healthcare == "hospital";
    let clinic = matches!(amenity.as_str(), "clinic" | "doctors")
        || matches!(healthcare.as_str(), "clinic" | "doctor" | "centre");
    if !hospital && !clinic {
        return Classification::NotAHealthFacility;
    }
    classify_by_name(tags, hospital)
}

/// Rules 4 to 8: a hospital or a clinic, told apart by its name.
pub(crate) fn classify_by_name(tags: &Tags<'_>, hospital: bool) -> Classification {
    let names = tags.names();
    if names.contains("卫生院") || names.contains("社区卫生服务中心") {
        return Classification::Kind(FacilityKind::TownshipHealthCenter);
    }
    if hospital {
        return Classification::Kind(FacilityKind::FeverClinic);
    }
    let fever = names.contains("发热")
        || tags
            .get("healthcare:speciality")
            .is_some_and(|s| s.to_ascii_lowercase().contains("fever"));
    if fever {
        return Classification::Kind(FacilityKind::FeverStation);
    }
    if ["卫生室", "卫生站", "村"].iter().any(|w| names.contains(w)) {
        return Classification::Kind(FacilityKind::VillageClinic);
    }
    Classification::KindUnknown
}

/// The OSM id of a feature as `node/123`, from wherever the exporter put it (or an external id
/// with its source, `osm:node/123`, `registry:A-1`: see [`external_id`]).
pub(crate) fn osm_id(feature: &Map<String, Value>, props: &Map<String, Value>) -> Option<String> {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    // `node/123`, or an external id already (`osm:node/123`, `registry:A-1`, as our export
    // writes them).
    let typed = |s: String| (s.contains('/') || s.contains(':')).then_some(s);
    props
        .get("caremap:external_id")
        .and_then(as_text)
        .filter(|s| s.contains(':'))
        .or_else(|| feature.get("id").and_then(as_text).and_then(typed))
        .or_else(|| props.get("@id").and_then(as_text).and_then(typed))
        .or_else(|| props.get("id").and_then(as_text).and_then(typed))
        .or_else(|| {
            let kind = props.get("osm_type").and_then(as_text)?;
            let id = props.get("osm_id").and_then(as_text)?;
            Some(format!("{kind}/{id}"))
        })
        .or_else(|| {
            let kind = props.get("type").and_then(as_text)?;
            let id = props.get("id").and_then(as_text)?;
            matches!(kind.as_str(), "node" | "way" | "relation").then(|| format!("{kind}/{id}"))
        })
}

/// The external id for an id [`osm_id`] found: `node/123` is OpenStreetMap's, an id with a source
/// (`registry:A-1`) is kept as it is.
pub(crate) fn external_id(id: &str) -> String {
    if id.contains(':') {
        id.to_owned()
    } else {
        format!("osm:{id}")
    }
}

fn point(value: &Value) -> Option<(f64, f64)> {
    let pair = value.as_array()?;
    Some((pair.first()?.as_f64()?, pair.get(1)?.as_f64()?))
}

/// Area-weighted centroid of a ring of `[lon, lat]` points; the mean of its points if the ring
/// has no area. Returns `(lon, lat)` and the absolute area.
fn ring_centroid(ring: &Value) -> Option<((f64, f64), f64)> {
    let points: Vec<(f64, f64)> = ring.as_array()?.iter().filter_map(point).collect();
    points_centroid(&points)
}

/// Area-weighted centroid of a closed ring of `(lon, lat)` points, the mean of the points when
/// they enclose no area (an open way, a single node). `(lon, lat)` and the absolute area.
pub(crate) fn points_centroid(points: &[(f64, f64)]) -> Option<((f64, f64), f64)> {
    if points.is_empty() {
        return None;
    }
    let (mut area2, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let cross = x0 * y1 - x1 * y0;
        area2 += cross;
        cx += (x0 + x1) * cross;
        cy += (y0 + y1) * cross;
    }
    if area2.abs() < 1e-18 {
        let n = points.len() as f64;
        let (sx, sy) = points
            .iter()
            .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
        return Some(((sx / n, sy / n), 0.0));
    }
    Some((
        (cx / (3.0 * area2), cy / (3.0 * area2)),
        (area2 / 2.0).abs(),
    ))
}

/// The feature's position as `(lon, lat)`.
pub(crate) fn position(geometry: Option<&Value>) -> Result<(f64, f64), Problem> {
    let geometry = geometry
        .and_then(Value::as_object)
        .ok_or(Problem::MissingGeometry)?;
    let kind = geometry
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let coordinates = geometry
        .get("coordinates")
        .ok_or(Problem::MissingGeometry)?;
    let found = match kind {
        "Point" => point(coordinates),
        "Polygon" => coordinates
            .as_array()
            .and_then(|rings| rings.first())
            .and_then(ring_centroid)
            .map(|(c, _)| c),
        "MultiPolygon" => coordinates
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|polygon| polygon.as_array()?.first().and_then(ring_centroid))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c),
        _ => None,
    };
    found.ok_or_else(|| Problem::UnsupportedGeometry {
        kind: if kind.is_empty() { "?" } else { kind }.to_owned(),
    })
}

/// Parses a GeoJSON FeatureCollection (streaming, like every JSON import).
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    super::json::parse(bytes)
}

/// Where a facility's external ids come from.
pub(crate) struct Ids {
    /// The id the facility id is derived from, e.g. `osm:node/1`, `healthsites:<uuid>`.
    pub primary: Option<String>,
    /// More external ids kept with the facility (a healthsites uuid next to the OSM id).
    pub extra: Vec<String>,
    /// The property to name when the primary id is missing or invalid.
    pub column: &'static str,
    /// The property to name when one of `extra` is invalid.
    pub extra_column: &'static str,
    /// The facility id the file claims (our export's `caremap:id`): it must be the id of one of
    /// the external ids, and that one becomes the primary.
    pub claimed: Option<String>,
}

impl Ids {
    /// One id from an OSM element or feature, nothing else.
    pub(crate) fn single(primary: Option<String>, column: &'static str) -> Ids {
        Ids {
            primary,
            extra: Vec::new(),
            column,
            extra_column: column,
            claimed: None,
        }
    }

    /// The ids of a plain GeoJSON feature: its OSM id (`@id` …) and, as our export writes them,
    /// every external id in `caremap:external_ids` (separated by `;`) and the facility id in
    /// `caremap:id`. Without a `caremap:id`, the OSM id is the primary, else the first of
    /// `caremap:external_ids` (a facility from the CSV template or the demo: `registry:<code>`,
    /// `demo:<n>`).
    pub(crate) fn of_feature(osm: Option<String>, tags: &Tags<'_>) -> Ids {
        let listed: Vec<String> = tags
            .get("caremap:external_ids")
            .map(|raw| {
                raw.split([';', '；'])
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let osm = osm.map(|id| external_id(&id));
        let column = if osm.is_some() || listed.is_empty() {
            "@id"
        } else {
            "caremap:external_ids"
        };
        let primary = osm.or_else(|| listed.first().cloned());
        let extra = listed
            .into_iter()
            .filter(|id| Some(id) != primary.as_ref())
            .collect();
        Ids {
            primary,
            extra,
            column,
            extra_column: "caremap:external_ids",
            claimed: tags.get("caremap:id"),
        }
    }
}

/// Reads one feature of a FeatureCollection (`number` is 1-based).
pub(crate) fn feature(parsed: &mut Parsed, number: usize, feature: &Value) {
    let empty = Map::new();
    let feature = feature.as_object().unwrap_or(&empty);
    let props = feature
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let healthsites = healthsites::tags(props);
    // osmtogeojson nests the tags; the other exporters keep them flat.
    let tags = Tags(match &healthsites {
        Some(map) => map,
        None => props
            .get("tags")
            .and_then(Value::as_object)
            .unwrap_or(props),
    });
    let ids = match &healthsites {
        Some(_) => healthsites::ids(osm_id(feature, props), &tags),
        None => Ids::of_feature(osm_id(feature, props), &tags),
    };
    let location = Location::Feature {
        number,
        osm_id: ids.primary.clone(),
    };
    let classification = match &healthsites {
        Some(_) => healthsites::classify(&tags),
        None => classify(&tags),
    };
    let Some(kind) = kind_or_skip(parsed, classification, &location) else {
        return;
    };
    let position = position(feature.get("geometry")).or_else(|problem| {
        // The healthsites.io API's `centroid` when there is no geometry.
        props
            .get("centroid")
            .map_or(Err(problem.clone()), |c| position(Some(c)))
            .map_err(|_| problem)
    });
    let result = parse_entry(&tags, position, ids, kind, &location);
    parsed.push(location, result);
}

/// The kind of a classified entry, or `None` after recording why it was skipped.
pub(crate) fn kind_or_skip(
    parsed: &mut Parsed,
    classification: Classification,
    location: &Location,
) -> Option<Result<FacilityKind, ValidationError>> {
    let reason = match classification {
        Classification::Kind(kind) => return Some(Ok(kind)),
        Classification::InvalidExplicit(err) => return Some(Err(err)),
        Classification::NotAHealthFacility => SkipReason::NotAHealthFacility,
        Classification::KindUnknown => SkipReason::KindUnknown,
    };
    parsed.skipped.push(Skipped {
        location: location.clone(),
        reason,
    });
    None
}

/// Parses one facility from its tags; `position` is `(lon, lat)`.
pub(crate) fn parse_entry(
    tags: &Tags<'_>,
    position: Result<(f64, f64), Problem>,
    ids: Ids,
    kind: Result<FacilityKind, ValidationError>,
    location: &Location,
) -> Result<Entry, Vec<Issue>> {
    parse_feature(tags, position, ids, kind, location)
}

fn parse_feature(
    tags: &Tags<'_>,
    position: Result<(f64, f64), Problem>,
    ids: Ids,
    kind: Result<FacilityKind, ValidationError>,
    location: &Location,
) -> Result<Entry, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut check = |column: &str, problem: Problem| {
        issues.push(Issue {
            location: location.clone(),
            column: column.to_owned(),
            problem,
        });
    };

    let kind = kind.map_err(|e| check("caremap:kind", e.into())).ok();
    let external = match &ids.primary {
        None => {
            check(ids.column, Problem::MissingOsmId);
            None
        }
        Some(id) => ExternalId::parse(id)
            .map_err(|e| check(ids.column, e.into()))
            .ok(),
    };
    let extra: Vec<ExternalId> = ids
        .extra
        .iter()
        .filter_map(|id| {
            ExternalId::parse(id)
                .map_err(|e| check(ids.extra_column, e.into()))
                .ok()
        })
        .collect();
    // `caremap:id` names which external id the facility's id comes from; an id that none of
    // them gives (a feature copied in an editor, its ids changed) is refused rather than
    // importing a second facility under another id.
    let external_ids: BTreeSet<ExternalId> = external.iter().chain(&extra).cloned().collect();
    let external = match (external, &ids.claimed) {
        (Some(primary), Some(claimed)) => {
            let claimed_id = claimed.parse::<FacilityId>().ok();
            let found = std::iter::once(&primary)
                .chain(&extra)
                .find(|e| Some(FacilityId::from_external(e)) == claimed_id)
                .cloned();
            if found.is_none() {
                check(
                    "caremap:id",
                    Problem::ForeignId {
                        id: claimed.clone(),
                    },
                );
            }
            found
        }
        (external, _) => external,
    };
    let latlon = position
        .map_err(|p| check("geometry", p))
        .ok()
        .and_then(|(lon, lat)| {
            LatLon::new(lat, lon)
                .map_err(|e| check("geometry", e.into()))
                .ok()
        });
    let (zh_raw, zh_key) = tags
        .first(&["name:zh", "name:zh-Hans", "name:zh-CN", "name"])
        .unwrap_or_default();
    let zh_key = if zh_key.is_empty() { "name" } else { zh_key };
    let zh = Name::parse_for(&zh_raw, Field::Name)
        .map_err(|e| check(zh_key, e.into()))
        .ok();
    let en = match tags.get("name:en") {
        None => Some(None),
        Some(raw) => Name::parse_for(&raw, Field::NameEn)
            .map(Some)
            .map_err(|e| check("name:en", e.into()))
            .ok(),
    };
    let phone = match tags.first(&["phone", "contact:phone"]) {
        None => Some(None),
        Some((raw, key)) => Phone::parse(&raw.replace([',', '，'], ";"))
            .map(Some)
            .map_err(|e| check(key, e.into()))
            .ok(),
    };
    let opening_hours = match tags.get("opening_hours") {
        None => Some(None),
        Some(raw) => OpeningHours::parse(&raw)
            .map(Some)
            .map_err(|e| check("opening_hours", e.into()))
            .ok(),
    };
    let address_raw = tags.get("addr:full").unwrap_or_else(|| {
        [
            "addr:city",
            "addr:district",
            "addr:street",
            "addr:housenumber",
        ]
        .iter()
        .filter_map(|k| tags.get(k))
        .collect::<String>()
    });
    let address = if address_raw.is_empty() {
        Some(None)
    } else {
        Address::parse_for(&address_raw, Field::Address)
            .map(Some)
            .map_err(|e| check("addr:*", e.into()))
            .ok()
    };
    let area_name =
        |keys: &[&'static str], field: Field, check: &mut dyn FnMut(&str, Problem)| match tags
            .first(keys)
        {
            None => Some(None),
            Some((raw, key)) => AreaName::parse_for(&raw, field)
                .map(Some)
                .map_err(|e| check(key, e.into()))
                .ok(),
        };
    let township = area_name(
        &["addr:town", "addr:township", "addr:subdistrict"],
        Field::Township,
        &mut check,
    );
    let village = area_name(&["addr:village", "addr:hamlet"], Field::Village, &mut check);
    let beds = tags
        .get("beds")
        .map_or(Ok(None), |raw| Capacity::parse_count(&raw))
        .map_err(|e| check("beds", e.into()))
        .ok();
    let mut services = tags
        .get("caremap:services")
        .map_or(Ok(BTreeSet::new()), |raw| parse_services(&raw))
        .map_err(|p| check("caremap:services", p))
        .ok();
    let mut count = |key: &str| {
        tags.get(key)
            .map_or(Ok(None), |raw| Capacity::parse_count(&raw))
            .map_err(|e| check(key, e.into()))
            .ok()
    };
    let doctors = count("caremap:doctors");
    let daily_capacity = count("caremap:daily_capacity");
    let operational = operational(tags, &mut check);
    let mobile = tags
        .get("caremap:mobile")
        .map_or(Ok(false), |raw| parse_bool(&raw))
        .map_err(|p| check("caremap:mobile", p))
        .ok();
    if let Some(services) = services.as_mut() {
        if tags.is("opening_hours", "24/7") {
            services.insert(Service::Open24h);
        }
        if tags.is("wheelchair", "yes") {
            services.insert(Service::WheelchairAccess);
        }
    }

    match (
        kind,
        external,
        latlon,
        zh,
        en,
        phone,
        opening_hours,
        address,
        township,
        village,
        beds,
        services,
        (doctors, daily_capacity, operational, mobile),
    ) {
        (
            Some(kind),
            Some(external),
            Some(latlon),
            Some(zh),
            Some(en),
            Some(phone),
            Some(opening_hours),
            Some(address),
            Some(township),
            Some(village),
            Some(beds),
            Some(services),
            (Some(doctors), Some(daily_capacity), Some(operational), Some(mobile)),
        ) if issues.is_empty() => Ok(Entry {
            location: location.clone(),
            id: FacilityId::from_external(&external),
            external_id: external.as_str().to_owned(),
            facility: Facility {
                kind,
                name: Names { zh, en },
                location: latlon,
                address,
                area: AdminArea { township, village },
                phone,
                opening_hours,
                services,
                capacity: Capacity {
                    doctors,
                    beds,
                    daily_capacity,
                },
                operational,
                mobile,
                external_ids,
            },
        }),
        _ => Err(issues),
    }
}

/// The declared state our export writes: `caremap:operational` (`open`, `reduced`, `closed`;
/// open when absent), `caremap:operational:reason` and `caremap:operational:reopens_on`
/// (`YYYY-MM-DD`, only for `closed`).
fn operational(tags: &Tags<'_>, check: &mut dyn FnMut(&str, Problem)) -> Option<Operational> {
    let reason = match tags.get("caremap:operational:reason") {
        None => Some(None),
        Some(raw) => Note::parse_for(&raw, Field::Note)
            .map(Some)
            .map_err(|e| check("caremap:operational:reason", e.into()))
            .ok(),
    };
    let reopens_on = match tags.get("caremap:operational:reopens_on") {
        None => Some(None),
        Some(raw) => chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                check(
                    "caremap:operational:reopens_on",
                    Problem::NotADate { value: raw },
                )
            })
            .ok(),
    };
    let state = tags.get("caremap:operational");
    match state.as_deref().unwrap_or("open") {
        "open" => Some(Operational::Open),
        "reduced" => reason.clone().map(|reason| Operational::Reduced { reason }),
        "closed" => reason
            .clone()
            .zip(reopens_on)
            .map(|(reason, reopens_on)| Operational::Closed { reason, reopens_on }),
        other => {
            check(
                "caremap:operational",
                Problem::UnknownState {
                    value: other.to_owned(),
                },
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify_json(tags: Value) -> Classification {
        let map = tags.as_object().cloned().unwrap_or_default();
        classify(&Tags(&map))
    }

    #[test]
    fn kinds_from_tags() {
        use FacilityKind::*;
        let cases = [
            (
                json!({"amenity": "hospital", "name": "余姚市人民医院"}),
                Classification::Kind(FeverClinic),
            ),
            (
                json!({"amenity": "hospital", "name": "马渚镇卫生院"}),
                Classification::Kind(TownshipHealthCenter),
            ),
            (
                json!({"amenity": "clinic", "name": "阳明街道社区卫生服务中心"}),
                Classification::Kind(TownshipHealthCenter),
            ),
            (
                json!({"amenity": "doctors", "name": "横塘村卫生室"}),
                Classification::Kind(VillageClinic),
            ),
            (
                json!({"healthcare": "clinic", "name": "临山镇发热诊疗站"}),
                Classification::Kind(FeverStation),
            ),
            (
                json!({"healthcare": "vaccination_centre", "name": "接种点"}),
                Classification::Kind(VaccinationPoint),
            ),
            (
                json!({"amenity": "hospital", "caremap:kind": "village_clinic"}),
                Classification::Kind(VillageClinic),
            ),
            (
                json!({"amenity": "pharmacy", "name": "药店"}),
                Classification::NotAHealthFacility,
            ),
            (
                json!({"amenity": "clinic", "name": "牙科诊所"}),
                Classification::KindUnknown,
            ),
        ];
        for (tags, expected) in cases {
            assert_eq!(classify_json(tags.clone()), expected, "{tags}");
        }
    }

    #[test]
    fn ids_with_a_source_are_kept_as_they_are() {
        let geojson = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "osm:node/5", "properties": {"amenity": "hospital", "name": "测试医院"},
             "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}},
            {"type": "Feature", "properties": {"@id": "registry:T-1", "caremap:kind": "village_clinic", "name": "测试村卫生室"},
             "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}},
            {"type": "Feature", "properties": {"@id": "way/7", "amenity": "hospital", "name": "测试二院"},
             "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}}
        ]}"#;
        let parsed = parse(geojson.as_bytes()).expect("readable");
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let ids: Vec<&str> = parsed
            .entries
            .iter()
            .map(|e| e.external_id.as_str())
            .collect();
        assert_eq!(ids, ["osm:node/5", "registry:T-1", "osm:way/7"]);
    }

    /// A feature as our export writes it for a facility from the CSV template that also has an
    /// OSM id, and a copy of it whose ids were edited.
    #[test]
    fn our_export_reads_back_with_its_ids_and_registry_tags() {
        let registry = ExternalId::parse("registry:T-1").expect("id");
        let id = FacilityId::from_external(&registry);
        let feature = |props: Value| {
            json!({"type": "Feature", "properties": props,
                   "geometry": {"type": "Point", "coordinates": [121.1, 30.0]}})
        };
        let base = json!({
            "caremap:id": id.to_string(), "caremap:code": "T-1",
            "caremap:external_ids": "osm:node/9;registry:T-1", "caremap:kind": "village_clinic",
            "name": "测试村卫生室", "caremap:doctors": "2", "caremap:daily_capacity": "30",
            "caremap:operational": "closed", "caremap:operational:reason": "装修",
            "caremap:operational:reopens_on": "2026-12-20", "caremap:mobile": "yes",
            "caremap:status": "open", "caremap:stock:oxygen": "low"
        });
        let mut copied = base.clone();
        copied["caremap:external_ids"] = json!("registry:T-2");
        let mut broken = base.clone();
        broken["caremap:id"] = json!("registry:T-1");
        broken["caremap:operational"] = json!("shut");
        broken["caremap:operational:reopens_on"] = json!("20.12.2026");
        let collection = json!({"type": "FeatureCollection",
            "features": [feature(base), feature(copied), feature(broken)]});
        let parsed = parse(collection.to_string().as_bytes()).expect("readable");

        let [entry] = &parsed.entries[..] else {
            panic!("one entry: {:?}", parsed.entries);
        };
        assert_eq!(entry.id, id, "the id caremap:id names, not the OSM id's");
        assert_eq!(entry.external_id, "registry:T-1");
        let f = &entry.facility;
        let ids: Vec<&str> = f.external_ids.iter().map(|e| e.as_str()).collect();
        assert_eq!(ids, ["osm:node/9", "registry:T-1"]);
        assert_eq!(
            (f.capacity.doctors, f.capacity.daily_capacity),
            (Some(2), Some(30))
        );
        assert!(f.mobile);
        assert_eq!(
            f.operational,
            Operational::Closed {
                reason: Some(Note::parse_for("装修", Field::Note).expect("note")),
                reopens_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 20),
            }
        );

        let problems: Vec<(usize, &str)> = parsed
            .issues
            .iter()
            .map(|i| match &i.location {
                Location::Feature { number, .. } => (*number, i.column.as_str()),
                _ => (0, ""),
            })
            .collect();
        assert_eq!(
            problems,
            [
                (2, "caremap:id"),
                (3, "caremap:id"),
                (3, "caremap:operational:reopens_on"),
                (3, "caremap:operational"),
            ]
        );
        assert!(parsed.issues[0]
            .message(caremap_model::Lang::En)
            .contains("is not the id of any of the entry's external ids"));
    }

    #[test]
    fn polygon_centroid() {
        let square = json!([
            [121.0, 30.0],
            [121.2, 30.0],
            [121.2, 30.2],
            [121.0, 30.2],
            [121.0, 30.0]
        ]);
        let ((lon, lat), area) = ring_centroid(&square).expect("centroid");
        assert!((lon - 121.1).abs() < 1e-9 && (lat - 30.1).abs() < 1e-9);
        assert!(area > 0.0);
    }
}
