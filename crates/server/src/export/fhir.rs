//! The registry as a FHIR R4 (4.0.1) `Bundle` of type `collection`: per facility one `Location`
//! (where it is, when it is open, whether it operates) and one `HealthcareService` (what it
//! offers, when), the service referring to the location by the bundle's `urn:uuid:` full URL.
//!
//! Mapping (also in the server's README, "Exports"):
//! - `Location.id` and `HealthcareService.id`: the facility's id (a UUID; the service's is the
//!   UUID v5 of the facility id, so both are stable across exports); `identifier`: every external
//!   id (system [`EXTERNAL_ID_SYSTEM`]);
//! - `Location.status`: `active` when open or reduced, `suspended` when closed (deleted
//!   facilities are not exported: there is no `inactive` one);
//! - `Location.operationalStatus`: the declared state as a Coding of our own code system
//!   [`OPERATIONAL_SYSTEM`] (`open`, `reduced`, `closed`). HL7's v2-0116 (the binding's
//!   preferred codes) is a vocabulary of bed states (occupied, housekeeping, contaminated …) with
//!   no code for "open with reduced service", so it is not used;
//! - `Location.name` (Chinese), `alias` (English), `type` (the kind, [`KIND_SYSTEM`], Chinese
//!   display), `physicalType` (`bu` building, `ve` vehicle for a mobile vaccination point),
//!   `telecom` (each phone number), `address` (`text`, `district` = township, `line` = village),
//!   `position` (WGS-84 latitude and longitude);
//! - `hoursOfOperation` / `availableTime`: the weekly timetable of our opening hours
//!   ([`super::hours`]); what it cannot say (holiday rules such as `PH off`, or hours with no
//!   weekly form) goes as the OSM text into `availabilityExceptions`;
//! - `HealthcareService.category`: the kind; `type`: each service ([`SERVICE_SYSTEM`]);
//!   `location`: the Location; `name`, `telecom`, `active`;
//! - not carried: load, waits and stock (FHIR R4 has no element for them short of extensions or
//!   a `MeasureReport`; see the CSV, workbook, GeoJSON or EDXL-HAVE exports), capacity, the
//!   reason of a closure (it goes into `Location.description`).

use super::hours::{weekly, Day};
use super::table::operational_state;
use super::{Entry, ExportError, Snapshot};
use caremap_model::{Lang, Operational};
use chrono::{NaiveTime, SecondsFormat};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// Code system of the facility kinds (`fever_clinic` …).
pub const KIND_SYSTEM: &str = "urn:caremap:fhir:facility-kind";
/// Code system of the services (`paediatric_fever` …).
pub const SERVICE_SYSTEM: &str = "urn:caremap:fhir:service";
/// Code system of the declared operational state (`open`, `reduced`, `closed`).
pub const OPERATIONAL_SYSTEM: &str = "urn:caremap:fhir:operational-state";
/// Identifier system of the external ids (`osm:node/123`, `registry:YY-001`).
pub const EXTERNAL_ID_SYSTEM: &str = "urn:caremap:external-id";
/// Namespace of the HealthcareService ids (UUID v5 of the facility id).
const SERVICE_NAMESPACE: Uuid = Uuid::from_u128(0x2f6c_9a1e_5b3d_4c7a_8e0f_1d2c_3b4a_5968);

/// Writes the bundle entry by entry (one per line), so a registry of 100,000 facilities never
/// stands in memory as one JSON tree.
pub fn write(snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    let mut out = Vec::new();
    out.extend_from_slice(br#"{"resourceType":"Bundle","id":"#);
    serde_json::to_writer(&mut out, &Uuid::now_v7().to_string())?;
    out.extend_from_slice(br#","type":"collection","timestamp":"#);
    serde_json::to_writer(
        &mut out,
        &snapshot.taken_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )?;
    if snapshot.entries.is_empty() {
        // FHIR's JSON has no empty arrays: a bundle of nothing has no `entry`.
        out.extend_from_slice(b"}\n");
        return Ok(out);
    }
    out.extend_from_slice(br#","entry":["#);
    let mut first = true;
    for entry in &snapshot.entries {
        let location_url = format!("urn:uuid:{}", entry.id);
        let service_id = service_id(entry);
        let location = json!({
            "fullUrl": location_url,
            "resource": location(entry),
        });
        let service = json!({
            "fullUrl": format!("urn:uuid:{service_id}"),
            "resource": healthcare_service(entry, &service_id, &location_url),
        });
        for resource in [location, service] {
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'\n');
            serde_json::to_writer(&mut out, &resource)?;
        }
    }
    out.extend_from_slice(b"\n]}\n");
    Ok(out)
}

/// The id of a facility's HealthcareService.
pub fn service_id(entry: &Entry) -> Uuid {
    Uuid::new_v5(&SERVICE_NAMESPACE, entry.id.as_uuid().as_bytes())
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({"system": system, "code": code, "display": display})
}

fn kind_concept(entry: &Entry) -> Value {
    let kind = entry.facility.kind;
    json!({
        "coding": [coding(KIND_SYSTEM, kind.as_str(), kind.label(Lang::Zh))],
        "text": format!("{} / {}", kind.label(Lang::Zh), kind.label(Lang::En)),
    })
}

fn telecom(entry: &Entry) -> Option<Value> {
    let phone = entry.facility.phone.as_ref()?;
    let numbers: Vec<Value> = phone
        .as_str()
        .split("; ")
        .map(|n| json!({"system": "phone", "value": n, "use": "work"}))
        .collect();
    Some(Value::Array(numbers))
}

/// FHIR's `time` (`HH:MM:SS`); the end of a day is the last second of it, since FHIR has no
/// `24:00:00`.
fn fhir_time(time: Option<NaiveTime>) -> String {
    time.map_or_else(
        || "23:59:59".to_owned(),
        |t| t.format("%H:%M:%S").to_string(),
    )
}

/// The timetable as FHIR's `{daysOfWeek, allDay | opening/closing time}` objects (with the
/// given names for the time fields), and the OSM text when part of it has no weekly form.
fn timetable(entry: &Entry, open_key: &str, close_key: &str) -> (Vec<Value>, Option<String>) {
    let Some(hours) = &entry.facility.opening_hours else {
        return (Vec::new(), None);
    };
    let Some(week) = weekly(hours.as_str()) else {
        return (
            Vec::new(),
            Some(format!("开放时间 opening_hours (OpenStreetMap): {hours}")),
        );
    };
    let mut out = Vec::new();
    for (days, day) in week.groups() {
        match day {
            Day::Closed => {}
            Day::AllDay => out.push(json!({"daysOfWeek": days, "allDay": true})),
            Day::Open(ranges) => {
                for (open, close) in ranges {
                    let mut slot = Map::new();
                    slot.insert("daysOfWeek".into(), json!(days));
                    slot.insert(open_key.into(), json!(fhir_time(Some(*open))));
                    slot.insert(close_key.into(), json!(fhir_time(*close)));
                    out.push(Value::Object(slot));
                }
            }
        }
    }
    let exceptions = (!week.holiday_rules.is_empty()).then(|| {
        format!(
            "节假日 holidays: {} (opening_hours: {hours})",
            week.holiday_rules.join("; ")
        )
    });
    (out, exceptions)
}

fn location(entry: &Entry) -> Value {
    let f = &entry.facility;
    let mut r = Map::new();
    r.insert("resourceType".into(), json!("Location"));
    r.insert("id".into(), json!(entry.id.to_string()));
    let identifiers: Vec<Value> = f
        .external_ids
        .iter()
        .map(|id| json!({"system": EXTERNAL_ID_SYSTEM, "value": id.as_str()}))
        .collect();
    if !identifiers.is_empty() {
        r.insert("identifier".into(), Value::Array(identifiers));
    }
    let closed = matches!(f.operational, Operational::Closed { .. });
    r.insert(
        "status".into(),
        json!(if closed { "suspended" } else { "active" }),
    );
    let state = operational_state(&f.operational);
    r.insert(
        "operationalStatus".into(),
        coding(
            OPERATIONAL_SYSTEM,
            state,
            &format!(
                "{} / {}",
                f.operational.label(Lang::Zh),
                f.operational.label(Lang::En)
            ),
        ),
    );
    r.insert("name".into(), json!(f.name.zh.as_str()));
    if let Some(en) = &f.name.en {
        r.insert("alias".into(), json!([en.as_str()]));
    }
    match &f.operational {
        Operational::Open => {}
        Operational::Reduced { reason } | Operational::Closed { reason, .. } => {
            let mut text = f.operational.label(Lang::Zh).to_owned();
            if let Some(reason) = reason {
                text.push('：');
                text.push_str(reason.as_str());
            }
            if let Operational::Closed {
                reopens_on: Some(day),
                ..
            } = &f.operational
            {
                text.push_str(&format!("（预计 {day} 恢复 / reopens {day}）"));
            }
            r.insert("description".into(), json!(text));
        }
    }
    r.insert("mode".into(), json!("instance"));
    r.insert("type".into(), json!([kind_concept(entry)]));
    if let Some(telecom) = telecom(entry) {
        r.insert("telecom".into(), telecom);
    }
    let mut address = Map::new();
    if let Some(text) = &f.address {
        address.insert("text".into(), json!(text.as_str()));
    }
    if let Some(village) = &f.area.village {
        address.insert("line".into(), json!([village.as_str()]));
    }
    if let Some(township) = &f.area.township {
        address.insert("district".into(), json!(township.as_str()));
    }
    if !address.is_empty() {
        address.insert("country".into(), json!("CN"));
        r.insert("address".into(), Value::Object(address));
    }
    let (code, display) = if f.mobile {
        ("ve", "Vehicle")
    } else {
        ("bu", "Building")
    };
    r.insert(
        "physicalType".into(),
        json!({"coding": [coding(
            "http://terminology.hl7.org/CodeSystem/location-physical-type",
            code,
            display,
        )]}),
    );
    r.insert(
        "position".into(),
        json!({"longitude": f.location.lon(), "latitude": f.location.lat()}),
    );
    let (hours, exceptions) = timetable(entry, "openingTime", "closingTime");
    if !hours.is_empty() {
        r.insert("hoursOfOperation".into(), Value::Array(hours));
    }
    if let Some(exceptions) = exceptions {
        r.insert("availabilityExceptions".into(), json!(exceptions));
    }
    Value::Object(r)
}

fn healthcare_service(entry: &Entry, id: &Uuid, location_url: &str) -> Value {
    let f = &entry.facility;
    let mut r = Map::new();
    r.insert("resourceType".into(), json!("HealthcareService"));
    r.insert("id".into(), json!(id.to_string()));
    r.insert(
        "active".into(),
        json!(!matches!(f.operational, Operational::Closed { .. })),
    );
    r.insert("category".into(), json!([kind_concept(entry)]));
    let types: Vec<Value> = f
        .services
        .iter()
        .map(|s| {
            json!({
                "coding": [coding(SERVICE_SYSTEM, s.as_str(), s.label(Lang::Zh))],
                "text": format!("{} / {}", s.label(Lang::Zh), s.label(Lang::En)),
            })
        })
        .collect();
    if !types.is_empty() {
        r.insert("type".into(), Value::Array(types));
    }
    r.insert(
        "location".into(),
        json!([{"reference": location_url, "display": f.name.zh.as_str()}]),
    );
    r.insert("name".into(), json!(f.name.zh.as_str()));
    if let Some(telecom) = telecom(entry) {
        r.insert("telecom".into(), telecom);
    }
    let (times, exceptions) = timetable(entry, "availableStartTime", "availableEndTime");
    if !times.is_empty() {
        r.insert("availableTime".into(), Value::Array(times));
    }
    if let Some(exceptions) = exceptions {
        r.insert("availabilityExceptions".into(), json!(exceptions));
    }
    Value::Object(r)
}
