//! The health office's CSV template (`crates/server/import/registry-template.csv`).
//!
//! Columns: `code, kind, name_zh, name_en, lat, lon, address, township, village, phone,
//! opening_hours, services, doctors, beds, daily_capacity, mobile`. `code`, `kind`, `name_zh`,
//! `lat` and `lon` are required columns; the others may be left out of the file or left empty.
//! A column the template does not know is refused (a typo would otherwise drop data silently),
//! but for the columns our export adds after the template's (status, stock, caremap id,
//! version, declared state), which are read over: the export imports again unchanged.
//! `kind` is a wire name (`village_clinic`) or its label (`村卫生室`); `services` are wire names
//! separated by `;`; `mobile` is yes/no (是/否, true/false, 1/0). The external id is
//! `registry:<code>`, so codes must be unique in a file and stable across files.

use super::{parse_kind, Entry, FileError, Issue, Location, Parsed, Problem};
use caremap_model::{
    Address, AdminArea, AreaName, Capacity, ExternalId, Facility, FacilityId, Field, LatLon, Name,
    Names, OpeningHours, Operational, Phone, Service, ValidationError,
};
use std::collections::BTreeSet;

pub const COLUMNS: &[&str] = &[
    "code",
    "kind",
    "name_zh",
    "name_en",
    "lat",
    "lon",
    "address",
    "township",
    "village",
    "phone",
    "opening_hours",
    "services",
    "doctors",
    "beds",
    "daily_capacity",
    "mobile",
];
pub const REQUIRED_COLUMNS: &[&str] = &["code", "kind", "name_zh", "lat", "lon"];

/// Parses a CSV file of the template's shape.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FileError> {
    parse_reader(bytes)
}

/// The header row's problems: required columns missing, or columns the template does not know.
pub(crate) fn check_headers(headers: &[String]) -> Result<(), FileError> {
    let missing: Vec<String> = REQUIRED_COLUMNS
        .iter()
        .filter(|c| !headers.iter().any(|h| h == *c))
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns(missing));
    }
    let unknown: Vec<String> = headers
        .iter()
        .filter(|h| !h.is_empty() && !COLUMNS.contains(&h.as_str()) && !is_export_column(h))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(FileError::UnknownColumns(unknown));
    }
    Ok(())
}

/// A column our export writes after the template's (the caremap id, the version, the latest
/// status and stock: [`crate::export::table::STATUS_COLUMNS`] and `stock_<item>`): read over, so
/// an export imports again as it is. The status comes from reports, not from the registry.
fn is_export_column(header: &str) -> bool {
    use crate::export::table::{stock_column, STATUS_COLUMNS};
    STATUS_COLUMNS.contains(&header)
        || caremap_model::StockItem::ALL
            .iter()
            .any(|item| stock_column(*item) == header)
}

/// Parses a CSV stream of the template's shape, one line at a time.
pub(crate) fn parse_reader<R: std::io::BufRead>(mut reader: R) -> Result<Parsed, FileError> {
    if reader.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let not_utf8 = |e: &::csv::Error| matches!(e.kind(), ::csv::ErrorKind::Utf8 { .. });
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            if not_utf8(&e) {
                FileError::NotUtf8
            } else {
                FileError::Csv(e.to_string())
            }
        })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    check_headers(&headers)?;

    let mut parsed = Parsed::default();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                if record.iter().all(str::is_empty) {
                    continue;
                }
                let row = Row {
                    headers: &headers,
                    record: &record,
                };
                let location = Location::Line(line);
                parsed.push(location.clone(), parse_row(&row, location));
            }
            Err(err) if not_utf8(&err) => return Err(FileError::NotUtf8),
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                let location = Location::Line(line);
                parsed.invalid_entries.push(location.clone());
                parsed.issues.push(Issue {
                    location,
                    column: "-".to_owned(),
                    problem: Problem::Unreadable {
                        detail: err.to_string(),
                    },
                });
            }
        }
    }
    Ok(parsed)
}

/// The cells of a row, by column index.
pub(crate) trait Cells {
    fn cell(&self, index: usize) -> Option<&str>;
}

impl Cells for ::csv::StringRecord {
    fn cell(&self, index: usize) -> Option<&str> {
        self.get(index)
    }
}

impl Cells for [String] {
    fn cell(&self, index: usize) -> Option<&str> {
        self.get(index).map(String::as_str)
    }
}

pub(crate) struct Row<'a, C: Cells + ?Sized> {
    pub headers: &'a [String],
    pub record: &'a C,
}

impl<C: Cells + ?Sized> Row<'_, C> {
    fn get(&self, column: &str) -> &str {
        self.headers
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.cell(i))
            .unwrap_or_default()
    }
}

/// Collects the issues of one row while parsing its fields.
struct Collector {
    location: Location,
    issues: Vec<Issue>,
}

impl Collector {
    fn check<T>(&mut self, column: &str, result: Result<T, Problem>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(problem) => {
                self.issues.push(Issue {
                    location: self.location.clone(),
                    column: column.to_owned(),
                    problem,
                });
                None
            }
        }
    }
}

fn optional<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>, Problem> {
    if raw.is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some).map_err(Problem::from)
    }
}

pub(crate) fn parse_coordinate(raw: &str, field: Field) -> Result<f64, Problem> {
    if raw.is_empty() {
        return Err(ValidationError::Required { field }.into());
    }
    raw.parse::<f64>().map_err(|_| Problem::NotANumber {
        value: raw.to_owned(),
    })
}

pub(crate) fn parse_bool(raw: &str) -> Result<bool, Problem> {
    match raw.to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" | "否" => Ok(false),
        "yes" | "y" | "true" | "1" | "是" => Ok(true),
        _ => Err(Problem::NotABoolean {
            value: raw.to_owned(),
        }),
    }
}

pub(crate) fn parse_services(raw: &str) -> Result<BTreeSet<Service>, Problem> {
    raw.split([';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Service>().map_err(Problem::from))
        .collect()
}

/// The external ids of a row and the one the facility id comes from: `registry:<code>`; but in
/// a row of our export whose `code` (or `registry:<code>`) is one of its `external_ids`, every
/// id of `external_ids`, with the facility id from the one whose id the `id` column holds (a
/// facility from OpenStreetMap or the demo keeps its identity: its code is `osm:node/1`,
/// `demo:1`). A row whose code was changed is a new facility under `registry:<code>` alone.
fn row_ids(
    code: &str,
    listed: &str,
    id: &str,
) -> Result<(ExternalId, BTreeSet<ExternalId>), (&'static str, Problem)> {
    if code.is_empty() {
        let required = ValidationError::Required {
            field: Field::ExternalId,
        };
        return Err(("code", required.into()));
    }
    let listed: Vec<&str> = listed
        .split([';', '；'])
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    let candidate = if listed.contains(&code) {
        code.to_owned()
    } else {
        format!("registry:{code}")
    };
    let primary = ExternalId::parse(&candidate).map_err(|e| ("code", e.into()))?;
    if !listed.contains(&primary.as_str()) {
        return Ok((primary.clone(), BTreeSet::from([primary])));
    }
    let all = listed
        .iter()
        .map(|raw| ExternalId::parse(raw))
        .collect::<Result<BTreeSet<_>, _>>()
        .map_err(|e| ("external_ids", e.into()))?;
    if id.is_empty() {
        return Ok((primary, all));
    }
    let claimed = id.parse::<FacilityId>().ok();
    let named = all
        .iter()
        .find(|e| Some(FacilityId::from_external(e)) == claimed)
        .cloned()
        .ok_or_else(|| ("id", Problem::ForeignId { id: id.to_owned() }))?;
    Ok((named, all))
}

pub(crate) fn parse_row<C: Cells + ?Sized>(
    row: &Row<'_, C>,
    location: Location,
) -> Result<Entry, Vec<Issue>> {
    let mut c = Collector {
        location: location.clone(),
        issues: Vec::new(),
    };
    let ids = row_ids(row.get("code"), row.get("external_ids"), row.get("id"))
        .map_err(|(column, problem)| {
            c.issues.push(Issue {
                location: location.clone(),
                column: column.to_owned(),
                problem,
            })
        })
        .ok();
    let kind = c.check(
        "kind",
        if row.get("kind").is_empty() {
            Err(ValidationError::Required { field: Field::Kind }.into())
        } else {
            parse_kind(row.get("kind")).map_err(Problem::from)
        },
    );
    let name_zh = c.check(
        "name_zh",
        Name::parse_for(row.get("name_zh"), Field::Name).map_err(Problem::from),
    );
    let name_en = c.check(
        "name_en",
        optional(row.get("name_en"), |s| Name::parse_for(s, Field::NameEn)),
    );
    let lat = c.check("lat", parse_coordinate(row.get("lat"), Field::Latitude));
    let lon = c.check("lon", parse_coordinate(row.get("lon"), Field::Longitude));
    let location_value = match (lat, lon) {
        (Some(lat), Some(lon)) => {
            let column = if (-90.0..=90.0).contains(&lat) {
                "lon"
            } else {
                "lat"
            };
            c.check(column, LatLon::new(lat, lon).map_err(Problem::from))
        }
        _ => None,
    };
    let address = c.check(
        "address",
        optional(row.get("address"), |s| {
            Address::parse_for(s, Field::Address)
        }),
    );
    let township = c.check(
        "township",
        optional(row.get("township"), |s| {
            AreaName::parse_for(s, Field::Township)
        }),
    );
    let village = c.check(
        "village",
        optional(row.get("village"), |s| {
            AreaName::parse_for(s, Field::Village)
        }),
    );
    let phone = c.check("phone", optional(row.get("phone"), Phone::parse));
    let opening_hours = c.check(
        "opening_hours",
        optional(row.get("opening_hours"), OpeningHours::parse),
    );
    let services = c.check("services", parse_services(row.get("services")));
    let doctors = c.check(
        "doctors",
        Capacity::parse_count(row.get("doctors")).map_err(Problem::from),
    );
    let beds = c.check(
        "beds",
        Capacity::parse_count(row.get("beds")).map_err(Problem::from),
    );
    let daily_capacity = c.check(
        "daily_capacity",
        Capacity::parse_count(row.get("daily_capacity")).map_err(Problem::from),
    );
    let mobile = c.check("mobile", parse_bool(row.get("mobile")));

    match (
        ids,
        kind,
        name_zh,
        name_en,
        location_value,
        address,
        township,
        village,
        phone,
        opening_hours,
        services,
        doctors,
        beds,
        daily_capacity,
        mobile,
    ) {
        (
            Some((external, external_ids)),
            Some(kind),
            Some(zh),
            Some(en),
            Some(latlon),
            Some(address),
            Some(township),
            Some(village),
            Some(phone),
            Some(opening_hours),
            Some(services),
            Some(doctors),
            Some(beds),
            Some(daily_capacity),
            Some(mobile),
        ) if c.issues.is_empty() => Ok(Entry {
            location,
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
                operational: Operational::Open,
                mobile,
                external_ids,
            },
        }),
        _ => Err(c.issues),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_cleanly() {
        let parsed = parse(super::super::CSV_TEMPLATE.as_bytes()).expect("template readable");
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        assert!(parsed.entries.len() >= 2);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let csv = "code,kind,name_zh,lat,lon,phone\n\
                   A1,village_clinic,好村卫生室,30.1,121.1,0574-62681234\n\
                   A2,spa,坏村卫生室,30.1,121.1,call me\n\
                   A3,村卫生室,,abc,121.1,\n";
        let parsed = parse(csv.as_bytes()).expect("readable");
        assert_eq!(parsed.entries.len(), 1);
        let at: Vec<(u64, &str)> = parsed
            .issues
            .iter()
            .map(|i| match i.location {
                Location::Line(n) => (n, i.column.as_str()),
                _ => (0, ""),
            })
            .collect();
        assert_eq!(at, [(3, "kind"), (3, "phone"), (4, "name_zh"), (4, "lat")]);
    }

    /// Rows of our export: an OSM facility keeps its ids, a changed code is a new facility, an
    /// `id` that none of the ids gives is refused; status columns are read over.
    #[test]
    fn exported_rows_keep_their_identity() {
        let osm = ExternalId::parse("osm:node/9").expect("id");
        let id = FacilityId::from_external(&osm);
        let csv = format!(
            "code,kind,name_zh,lat,lon,id,external_ids,status,stock_oxygen\n\
             healthsites:u1,village_clinic,甲村卫生室,30.1,121.1,{id},healthsites:u1;osm:node/9,open,low\n\
             T-9,village_clinic,乙村卫生室,30.1,121.1,{id},healthsites:u1;osm:node/9,,\n\
             osm:node/9,village_clinic,丙村卫生室,30.1,121.1,{},osm:node/9,,\n",
            FacilityId::new_random()
        );
        let parsed = parse(csv.as_bytes()).expect("readable");
        let ids: Vec<(FacilityId, Vec<&str>)> = parsed
            .entries
            .iter()
            .map(|e| {
                let ids = e.facility.external_ids.iter().map(|x| x.as_str()).collect();
                (e.id, ids)
            })
            .collect();
        let new = FacilityId::from_external(&ExternalId::parse("registry:T-9").expect("id"));
        assert_eq!(
            ids,
            [
                (id, vec!["healthsites:u1", "osm:node/9"]),
                (new, vec!["registry:T-9"])
            ]
        );
        let problems: Vec<(u64, &str)> = parsed
            .issues
            .iter()
            .map(|i| match i.location {
                Location::Line(n) => (n, i.column.as_str()),
                _ => (0, ""),
            })
            .collect();
        assert_eq!(problems, [(4, "id")]);
    }

    #[test]
    fn unreadable_files() {
        assert!(matches!(parse(b"\xff\xfe"), Err(FileError::NotUtf8)));
        assert!(matches!(
            parse(b"code,kind\n"),
            Err(FileError::MissingColumns(cols)) if cols == ["name_zh", "lat", "lon"]
        ));
        assert!(matches!(
            parse(b"code,kind,name_zh,lat,lon,phon\n"),
            Err(FileError::UnknownColumns(_))
        ));
    }
}
