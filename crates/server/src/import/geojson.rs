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
//! `caremap:services` lists services by wire name.

use super::csv::parse_services;
use super::{parse_kind, Entry, FileError, Issue, Location, Parsed, Problem, SkipReason, Skipped};
use caremap_model::{
    Address, AdminArea, AreaName, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Field,
    LatLon, Name, Names, OpeningHours, Operational, Phone, Service, ValidationError,
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
struct Tags<'a>(&'a Map<String, Value>);

impl Tags<'_> {
    fn get(&self, key: &str) -> Option<String> {
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

    fn names(&self) -> String {
        ["name", "name:zh", "name:zh-Hans", "official_name"]
            .iter()
            .filter_map(|k| self.get(k))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Classifies a feature by its tags (see the module docs for the rules).
fn classify(tags: &Tags<'_>) -> Classification {
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

/// The OSM id of a feature as `node/123`, from wherever the exporter put it.
fn osm_id(feature: &Map<String, Value>, props: &Map<String, Value>) -> Option<String> {
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let typed = |s: String| s.contains('/').then_some(s);
    feature
        .get("id")
        .and_then(as_text)
        .and_then(typed)
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

fn point(value: &Value) -> Option<(f64, f64)> {
    let pair = value.as_array()?;
    Some((pair.first()?.as_f64()?, pair.get(1)?.as_f64()?))
}

/// Area-weighted centroid of a ring of `[lon, lat]` points; the mean of its points if the ring
/// has no area. Returns `(lon, lat)` and the absolute area.
fn ring_centroid(ring: &Value) -> Option<((f64, f64), f64)> {
    let points: Vec<(f64, f64)> = ring.as_array()?.iter().filter_map(point).collect();
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
fn position(geometry: Option<&Value>) -> Result<(f64, f64), Problem> {
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

/// Parses a GeoJSON FeatureCollection.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| FileError::NotUtf8)?;
    let root: Value = serde_json::from_str(text).map_err(|e| FileError::NotJson(e.to_string()))?;
    let features = root
        .as_object()
        .filter(|o| o.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
        .and_then(|o| o.get("features"))
        .and_then(Value::as_array)
        .ok_or(FileError::NotFeatureCollection)?;

    let empty = Map::new();
    let mut parsed = Parsed::default();
    for (index, feature) in features.iter().enumerate() {
        let number = index + 1;
        let feature = feature.as_object().unwrap_or(&empty);
        let props = feature
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        // osmtogeojson nests the tags; the other exporters keep them flat.
        let tags = Tags(
            props
                .get("tags")
                .and_then(Value::as_object)
                .unwrap_or(props),
        );
        let osm = osm_id(feature, props);
        let location = Location::Feature {
            number,
            osm_id: osm.as_ref().map(|id| format!("osm:{id}")),
        };
        let kind = match classify(&tags) {
            Classification::Kind(kind) => Ok(kind),
            Classification::NotAHealthFacility => {
                parsed.skipped.push(Skipped {
                    location,
                    reason: SkipReason::NotAHealthFacility,
                });
                continue;
            }
            Classification::KindUnknown => {
                parsed.skipped.push(Skipped {
                    location,
                    reason: SkipReason::KindUnknown,
                });
                continue;
            }
            Classification::InvalidExplicit(err) => Err(err),
        };
        let result = parse_feature(&tags, feature.get("geometry"), osm, kind, &location);
        parsed.push(location, result);
    }
    Ok(parsed)
}

fn parse_feature(
    tags: &Tags<'_>,
    geometry: Option<&Value>,
    osm: Option<String>,
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
    let external = match osm {
        None => {
            check("@id", Problem::MissingOsmId);
            None
        }
        Some(id) => ExternalId::parse(&format!("osm:{id}"))
            .map_err(|e| check("@id", e.into()))
            .ok(),
    };
    let latlon = position(geometry)
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
    let zh = Name::parse_for(&zh_raw, Field::Name)
        .map_err(|e| check(if zh_key.is_empty() { "name" } else { zh_key }, e.into()))
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
        ) if issues.is_empty() => Ok(Entry {
            location: location.clone(),
            id: FacilityId::from_external(&external),
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
                    beds,
                    ..Capacity::default()
                },
                operational: Operational::Open,
                mobile: false,
                external_ids: BTreeSet::from([external]),
            },
        }),
        _ => Err(issues),
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
