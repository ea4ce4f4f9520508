//! The registry as a GeoJSON FeatureCollection with OpenStreetMap-style tags (flat string
//! properties), which our own GeoJSON import ([`crate::import::geojson`]) reads back to the same
//! registry, ids included.
//!
//! `@id` is the OSM id (`node/123`) of a facility that has an `osm:` external id. The OSM
//! classification tags (`amenity`, `healthcare`) are written for other tools (JOSM, QGIS,
//! overpass-style workflows); `caremap:kind` decides for our import. Everything else caremap
//! knows is written under `caremap:`: the id, every external id, doctors, daily capacity, the
//! declared operational state and mobility, which the import reads back, and the code and the
//! latest status and stock, which it reads over (server README, "Exports").

use super::table::{code, operational_state};
use super::{stock_items, Entry, ExportError, Snapshot};
use caremap_model::{FacilityKind, Operational, Service};
use chrono::SecondsFormat;
use serde_json::{json, Map, Value};

/// Writes the collection feature by feature (one per line), so a registry of 100,000
/// facilities never stands in memory as one JSON tree.
pub fn write(snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::new();
    out.extend_from_slice(br#"{"type":"FeatureCollection","generator":"caremap","timestamp":"#);
    serde_json::to_writer(
        &mut out,
        &snapshot.taken_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )?;
    out.extend_from_slice(br#","features":["#);
    for (i, entry) in snapshot.entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'\n');
        serde_json::to_writer(&mut out, &feature(entry, snapshot))?;
    }
    out.extend_from_slice(b"\n]}\n");
    Ok(out)
}

/// The OSM id (`node/123`) of a facility with an `osm:` external id.
pub fn osm_id(entry: &Entry) -> Option<&str> {
    entry
        .facility
        .external_ids
        .iter()
        .find_map(|id| id.as_str().strip_prefix("osm:"))
}

/// OSM's `amenity` and `healthcare` values for a kind.
pub fn osm_tags(kind: FacilityKind) -> (Option<&'static str>, &'static str) {
    match kind {
        FacilityKind::FeverClinic => (Some("hospital"), "hospital"),
        FacilityKind::FeverStation => (Some("clinic"), "clinic"),
        FacilityKind::TownshipHealthCenter => (Some("clinic"), "centre"),
        FacilityKind::VillageClinic => (Some("doctors"), "doctor"),
        FacilityKind::VaccinationPoint => (None, "vaccination_centre"),
    }
}

fn feature(entry: &Entry, snapshot: &Snapshot) -> Value {
    let f = &entry.facility;
    let mut p = Map::new();
    let mut set = |key: &str, value: String| {
        p.insert(key.to_owned(), Value::String(value));
    };
    if let Some(osm) = osm_id(entry) {
        set("@id", osm.to_owned());
    }
    set("caremap:id", entry.id.to_string());
    set("caremap:code", code(entry));
    let external: Vec<&str> = f.external_ids.iter().map(|id| id.as_str()).collect();
    if !external.is_empty() {
        set("caremap:external_ids", external.join(";"));
    }
    set("caremap:kind", f.kind.as_str().to_owned());
    let (amenity, healthcare) = osm_tags(f.kind);
    if let Some(amenity) = amenity {
        set("amenity", amenity.to_owned());
    }
    set("healthcare", healthcare.to_owned());
    if f.kind == FacilityKind::FeverStation {
        set("healthcare:speciality", "fever".to_owned());
    }
    set("name", f.name.zh.as_str().to_owned());
    set("name:zh", f.name.zh.as_str().to_owned());
    if let Some(en) = &f.name.en {
        set("name:en", en.as_str().to_owned());
    }
    if let Some(phone) = &f.phone {
        set("phone", phone.as_str().to_owned());
    }
    if let Some(hours) = &f.opening_hours {
        set("opening_hours", hours.as_str().to_owned());
    }
    if let Some(address) = &f.address {
        set("addr:full", address.as_str().to_owned());
    }
    if let Some(township) = &f.area.township {
        set("addr:town", township.as_str().to_owned());
    }
    if let Some(village) = &f.area.village {
        set("addr:village", village.as_str().to_owned());
    }
    if let Some(beds) = f.capacity.beds {
        set("beds", beds.to_string());
    }
    if f.services.contains(&Service::WheelchairAccess) {
        set("wheelchair", "yes".to_owned());
    }
    if !f.services.is_empty() {
        let services: Vec<&str> = f.services.iter().map(|s| s.as_str()).collect();
        set("caremap:services", services.join(";"));
    }
    if let Some(doctors) = f.capacity.doctors {
        set("caremap:doctors", doctors.to_string());
    }
    if let Some(daily) = f.capacity.daily_capacity {
        set("caremap:daily_capacity", daily.to_string());
    }
    set(
        "caremap:operational",
        operational_state(&f.operational).to_owned(),
    );
    match &f.operational {
        Operational::Open => {}
        Operational::Reduced { reason } | Operational::Closed { reason, .. } => {
            if let Some(reason) = reason {
                set("caremap:operational:reason", reason.as_str().to_owned());
            }
        }
    }
    if let Operational::Closed {
        reopens_on: Some(day),
        ..
    } = &f.operational
    {
        set("caremap:operational:reopens_on", day.to_string());
    }
    if f.mobile {
        set("caremap:mobile", "yes".to_owned());
    }
    if let Some(status) = &entry.status {
        set("caremap:status", status.status.as_str().to_owned());
        set(
            "caremap:status:as_of",
            status.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        if let Some(freshness) = entry.freshness(snapshot) {
            set("caremap:status:freshness", freshness.as_str().to_owned());
        }
        if let Some(crowding) = status.crowding {
            set("caremap:status:crowding", crowding.as_str().to_owned());
        }
        let counts = [
            ("wait_minutes", status.wait_minutes),
            ("outpatients_today", status.outpatients_today),
            ("fever_patients_today", status.fever_patients_today),
            ("doctors_on_duty", status.doctors_on_duty),
        ];
        for (key, value) in counts {
            if let Some(value) = value {
                set(&format!("caremap:status:{key}"), value.to_string());
            }
        }
        for item in stock_items() {
            if let Some(level) = status.stock.get(item) {
                set(
                    &format!("caremap:stock:{}", item.as_str()),
                    level.as_str().to_owned(),
                );
            }
        }
    }
    let id = osm_id(entry).map_or_else(|| entry.id.to_string(), str::to_owned);
    json!({
        "type": "Feature",
        "id": id,
        "geometry": {
            "type": "Point",
            "coordinates": [f.location.lon(), f.location.lat()],
        },
        "properties": p,
    })
}
