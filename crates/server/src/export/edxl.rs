//! The status of every facility as an OASIS EDXL-HAVE 1.0 document (`HospitalStatus`, namespace
//! [`HAVE_NS`]): one `Hospital` per facility, written with quick-xml (so every text is escaped).
//!
//! Mapping (the table with the fields we cannot fill is in the server's README, "Exports"):
//! - `Organization`: `OrganizationInformation/xnl:OrganisationName/xnl:NameElement` the Chinese
//!   name (and the English one), `OrganizationGeoLocation/gml:Point/gml:pos` "lat lon", and a
//!   `CommentText` with the kind and the caremap id;
//! - `EmergencyDepartmentStatus/EMSTraffic/EMSTrafficStatus` from the latest report (the
//!   declared state before any report): closed → `Closed`; reduced, or crowding high → `Advisory`;
//!   else `Normal`; `EMSTrafficReason` says why in words;
//! - `HospitalBedCapacityStatus/BedCapacity` (`BedType` `EmergencyDepartment`: our outpatient
//!   capacity of a day, once a report came): `CapacityStatus` `NotAvailable` when closed, very
//!   crowded or the day's capacity is used up, else `Vacant/Available`; `BaselineCount` the daily
//!   capacity; `AvailableCount` the daily capacity less today's outpatients;
//! - `HospitalFacilityStatus`: `ClinicalStatus` `Full` when closed or very crowded, else `Normal`
//!   (once a report came); `FacilityStatus` from the declared state: open → `Normal`, reduced →
//!   `Compromised`, closed → `Closed`;
//! - `HospitalResourcesStatus`: `Staffing` from the doctors on duty (`Insufficient` when none is
//!   while open, or fewer than half the baseline), `ClinicalOperations` from the stock: every
//!   reported item ample → `Adequate`, any low or out → `Insufficient` (the standard's
//!   enumeration has only these two), and one `ResourcesInformationText` per item with its level;
//! - `LastUpdateTime`: the later of the record's change and the status's time.

use super::table::operational_state;
use super::{stock_items, Entry, ExportError, Snapshot};
use caremap_model::{Crowding, Lang, Operational, ReportedStatus};
use chrono::SecondsFormat;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

pub const HAVE_NS: &str = "urn:oasis:names:tc:emergency:EDXL:HAVE:1.0";
pub const XNL_NS: &str = "urn:oasis:names:tc:ciq:xnl:3";
pub const GML_NS: &str = "http://www.opengis.net/gml";

type W = Writer<Vec<u8>>;

fn open(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))
}

fn close(w: &mut W, name: &str) -> std::io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn leaf(w: &mut W, name: &str, text: &str) -> std::io::Result<()> {
    open(w, name)?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    close(w, name)
}

pub fn write(snapshot: &Snapshot) -> Result<Vec<u8>, ExportError> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let root = BytesStart::new("have:HospitalStatus").with_attributes([
        ("xmlns:have", HAVE_NS),
        ("xmlns:xnl", XNL_NS),
        ("xmlns:gml", GML_NS),
    ]);
    w.write_event(Event::Start(root))?;
    for entry in &snapshot.entries {
        hospital(&mut w, entry)?;
    }
    close(&mut w, "have:HospitalStatus")?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

/// `Normal`, `Advisory` or `Closed`, and the reason in words.
pub fn ems_traffic(entry: &Entry) -> (&'static str, Option<String>) {
    let f = &entry.facility;
    let declared_reason = match &f.operational {
        Operational::Open => None,
        Operational::Reduced { reason } | Operational::Closed { reason, .. } => {
            reason.as_ref().map(|r| r.as_str().to_owned())
        }
    };
    let state = match &entry.status {
        Some(s) => s.status,
        None => match f.operational {
            Operational::Open => ReportedStatus::Open,
            Operational::Reduced { .. } => ReportedStatus::Reduced,
            Operational::Closed { .. } => ReportedStatus::Closed,
        },
    };
    let crowding = entry.status.as_ref().and_then(|s| s.crowding);
    let words = |label: &str| {
        let mut text = label.to_owned();
        if let Some(wait) = entry.status.as_ref().and_then(|s| s.wait_minutes) {
            text.push_str(&format!("（候诊 {wait} 分钟 / wait {wait} min）"));
        }
        if let Some(reason) = &declared_reason {
            text.push_str(&format!("：{reason}"));
        }
        text
    };
    match state {
        ReportedStatus::Closed => ("Closed", Some(words("暂停接诊 / closed"))),
        ReportedStatus::Reduced => ("Advisory", Some(words("部分开诊 / reduced service"))),
        ReportedStatus::Open if crowding == Some(Crowding::High) => {
            ("Advisory", Some(words("很拥挤 / very crowded")))
        }
        ReportedStatus::Open => ("Normal", None),
    }
}

/// `Normal`, `Compromised` or `Closed`, from the declared state.
pub fn facility_status(operational: &Operational) -> &'static str {
    match operational {
        Operational::Open => "Normal",
        Operational::Reduced { .. } => "Compromised",
        Operational::Closed { .. } => "Closed",
    }
}

/// `Adequate` or `Insufficient` from the reported stock; `None` when none was reported.
pub fn clinical_operations(entry: &Entry) -> Option<&'static str> {
    let status = entry.status.as_ref()?;
    if status.stock.is_empty() {
        return None;
    }
    Some(if status.stock.values().any(|l| l.is_short()) {
        "Insufficient"
    } else {
        "Adequate"
    })
}

/// `Adequate` or `Insufficient` from the doctors on duty; `None` when not reported.
pub fn staffing(entry: &Entry) -> Option<&'static str> {
    let status = entry.status.as_ref()?;
    let on_duty = status.doctors_on_duty?;
    let baseline = entry.facility.capacity.doctors;
    let short = (on_duty == 0 && status.status != ReportedStatus::Closed)
        || baseline.is_some_and(|b| on_duty.saturating_mul(2) < b);
    Some(if short { "Insufficient" } else { "Adequate" })
}

/// The outpatient capacity of the day: status, baseline and what is left, once a report came.
pub fn capacity(entry: &Entry) -> Option<(&'static str, Option<u32>, Option<u32>)> {
    let status = entry.status.as_ref()?;
    let baseline = entry.facility.capacity.daily_capacity;
    let available = baseline
        .zip(status.outpatients_today)
        .map(|(b, seen)| b.saturating_sub(seen));
    let full = status.status == ReportedStatus::Closed
        || matches!(status.crowding, Some(Crowding::High | Crowding::Closed))
        || available == Some(0);
    Some((
        if full {
            "NotAvailable"
        } else {
            "Vacant/Available"
        },
        baseline,
        available,
    ))
}

fn hospital(w: &mut W, entry: &Entry) -> Result<(), ExportError> {
    let f = &entry.facility;
    open(w, "have:Hospital")?;

    open(w, "have:Organization")?;
    open(w, "have:OrganizationInformation")?;
    open(w, "xnl:OrganisationName")?;
    leaf(w, "xnl:NameElement", f.name.zh.as_str())?;
    if let Some(en) = &f.name.en {
        leaf(w, "xnl:NameElement", en.as_str())?;
    }
    close(w, "xnl:OrganisationName")?;
    close(w, "have:OrganizationInformation")?;
    open(w, "have:OrganizationGeoLocation")?;
    open(w, "gml:Point")?;
    leaf(
        w,
        "gml:pos",
        &format!("{} {}", f.location.lat(), f.location.lon()),
    )?;
    close(w, "gml:Point")?;
    close(w, "have:OrganizationGeoLocation")?;
    leaf(
        w,
        "have:CommentText",
        &format!(
            "{} / {}; caremap:id {}; {}",
            f.kind.label(Lang::Zh),
            f.kind.label(Lang::En),
            entry.id,
            operational_state(&f.operational)
        ),
    )?;
    close(w, "have:Organization")?;

    let (traffic, reason) = ems_traffic(entry);
    open(w, "have:EmergencyDepartmentStatus")?;
    open(w, "have:EMSTraffic")?;
    leaf(w, "have:EMSTrafficStatus", traffic)?;
    if let Some(reason) = reason {
        leaf(w, "have:EMSTrafficReason", &reason)?;
    }
    close(w, "have:EMSTraffic")?;
    close(w, "have:EmergencyDepartmentStatus")?;

    if let Some((status, baseline, available)) = capacity(entry) {
        open(w, "have:HospitalBedCapacityStatus")?;
        open(w, "have:BedCapacity")?;
        leaf(w, "have:BedType", "EmergencyDepartment")?;
        open(w, "have:Capacity")?;
        leaf(w, "have:CapacityStatus", status)?;
        if let Some(available) = available {
            leaf(w, "have:AvailableCount", &available.to_string())?;
        }
        if let Some(baseline) = baseline {
            leaf(w, "have:BaselineCount", &baseline.to_string())?;
        }
        close(w, "have:Capacity")?;
        close(w, "have:BedCapacity")?;
        close(w, "have:HospitalBedCapacityStatus")?;
    }

    open(w, "have:HospitalFacilityStatus")?;
    if let Some(status) = &entry.status {
        let full = status.status == ReportedStatus::Closed
            || matches!(status.crowding, Some(Crowding::High | Crowding::Closed));
        leaf(
            w,
            "have:ClinicalStatus",
            if full { "Full" } else { "Normal" },
        )?;
    }
    leaf(w, "have:FacilityStatus", facility_status(&f.operational))?;
    close(w, "have:HospitalFacilityStatus")?;

    let staffing = staffing(entry);
    let clinical = clinical_operations(entry);
    if staffing.is_some() || clinical.is_some() {
        open(w, "have:HospitalResourcesStatus")?;
        if let Some(staffing) = staffing {
            leaf(w, "have:Staffing", staffing)?;
        }
        if let Some(clinical) = clinical {
            leaf(w, "have:ClinicalOperations", clinical)?;
        }
        if let Some(status) = &entry.status {
            for item in stock_items() {
                if let Some(level) = status.stock.get(item) {
                    leaf(
                        w,
                        "have:ResourcesInformationText",
                        &format!(
                            "{} {}: {} {} ({})",
                            item.label(Lang::Zh),
                            item.label(Lang::En),
                            level.label(Lang::Zh),
                            level.label(Lang::En),
                            level.as_str()
                        ),
                    )?;
                }
            }
        }
        close(w, "have:HospitalResourcesStatus")?;
    }

    leaf(
        w,
        "have:LastUpdateTime",
        &entry
            .last_update()
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    )?;
    close(w, "have:Hospital")?;
    Ok(())
}
