//! The columnar encoding of a registry page: `GET /api/v1/registry?…&format=columns`.
//!
//! The same page as [`RegistryPage`], laid out field by field instead of record by record: all
//! the names, then all the coordinates, then all the phone numbers… Compressors find far more
//! to share between 5,000 Chinese names side by side than between a name and the coordinates
//! that follow it, so a first sync of 100,000 facilities takes about half the bytes of the
//! record layout (see docs/PERFORMANCE.md, "The registry feed"). The PWA asks for this
//! encoding; the record layout stays the documented default for every other client.
//!
//! Every column has one entry per record, in feed order; a tombstone has `null` in every
//! facility column. A facility whose id is the one its first external id gives
//! ([`FacilityId::from_external`], as every imported facility's is) has `null` in `id`: 36
//! characters of hexadecimal that compress to nothing are most of a record's cost otherwise.
//! Decoding goes through the same validated types as the record layout, so a page that decodes
//! is as valid as one that parses.

use crate::facility::{
    AdminArea, Capacity, ExternalId, Facility, FacilityId, FacilityKind, Names, Operational, Phone,
    Service,
};
use crate::geo::LatLon;
use crate::hours::OpeningHours;
use crate::registry::{Cursor, FacilityRecord, RegistryPage};
use crate::status::FacilityStatus;
use crate::text::{Address, AreaName, Name};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A registry page, column by column. Build one with [`ColumnarPage::from_page`]; read one with
/// [`ColumnarPage::into_page`], which checks that the columns agree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnarPage {
    pub cursor: Cursor,
    pub has_more: bool,
    /// `null` where the id is the one the facility's first external id gives.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub id: Vec<Option<FacilityId>>,
    pub version: Vec<u64>,
    pub updated_at: Vec<DateTime<Utc>>,
    pub deleted: Vec<bool>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub kind: Vec<Option<FacilityKind>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub name_zh: Vec<Option<Name>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub name_en: Vec<Option<Name>>,
    pub lat: Vec<Option<f64>>,
    pub lon: Vec<Option<f64>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub address: Vec<Option<Address>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub township: Vec<Option<AreaName>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub village: Vec<Option<AreaName>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<String>>))]
    pub phone: Vec<Option<Phone>>,
    /// The OSM opening-hours texts as sent: parsed by [`ColumnarPage::into_page`], not while
    /// the JSON is read. On a phone the first parse of each text (the `pest` grammar) made
    /// decoding the first page one of the longest tasks of a first visit; apart, decoding and
    /// checking are two shorter ones (the PWA yields between them).
    pub opening_hours: Vec<Option<String>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<Vec<String>>>))]
    pub services: Vec<Option<BTreeSet<Service>>>,
    pub doctors: Vec<Option<u32>>,
    pub beds: Vec<Option<u32>>,
    pub daily_capacity: Vec<Option<u32>>,
    pub operational: Vec<Option<Operational>>,
    pub mobile: Vec<Option<bool>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Option<Vec<String>>>))]
    pub external_ids: Vec<Option<BTreeSet<ExternalId>>>,
    pub status: Vec<Option<FacilityStatus>>,
}

/// A columnar page whose columns do not make records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnarError {
    #[error("column “{column}” has {found} entries, the page has {expected}")]
    Length {
        column: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("record {index}: {problem}")]
    Record { index: usize, problem: String },
}

/// The id to send: `None` where the receiver derives it from the first external id.
fn sent_id(id: FacilityId, facility: Option<&Facility>) -> Option<FacilityId> {
    let derived = facility
        .and_then(|f| f.external_ids.iter().next())
        .map(FacilityId::from_external);
    (derived != Some(id)).then_some(id)
}

impl ColumnarPage {
    /// The page size the PWA asks for: the largest the feed gives ([`crate::PageLimit::MAX`]).
    /// Larger pages compress better; a sync cut off loses at most one.
    pub const PAGE_LIMIT: u32 = crate::PageLimit::MAX;

    /// Lays out a page column by column.
    pub fn from_page(page: RegistryPage) -> Self {
        let mut out = ColumnarPage {
            cursor: page.cursor,
            has_more: page.has_more,
            ..ColumnarPage::default()
        };
        for record in page.items {
            let facility = record.facility.filter(|_| !record.deleted);
            out.id.push(sent_id(record.id, facility.as_ref()));
            out.version.push(record.version);
            out.updated_at.push(record.updated_at);
            out.deleted.push(facility.is_none());
            out.status
                .push(record.status.filter(|_| facility.is_some()));
            out.push_facility(facility);
        }
        out
    }

    fn push_facility(&mut self, facility: Option<Facility>) {
        let Some(f) = facility else {
            self.kind.push(None);
            self.name_zh.push(None);
            self.name_en.push(None);
            self.lat.push(None);
            self.lon.push(None);
            self.address.push(None);
            self.township.push(None);
            self.village.push(None);
            self.phone.push(None);
            self.opening_hours.push(None);
            self.services.push(None);
            self.doctors.push(None);
            self.beds.push(None);
            self.daily_capacity.push(None);
            self.operational.push(None);
            self.mobile.push(None);
            self.external_ids.push(None);
            return;
        };
        self.kind.push(Some(f.kind));
        self.name_zh.push(Some(f.name.zh));
        self.name_en.push(f.name.en);
        self.lat.push(Some(f.location.lat()));
        self.lon.push(Some(f.location.lon()));
        self.address.push(f.address);
        self.township.push(f.area.township);
        self.village.push(f.area.village);
        self.phone.push(f.phone);
        self.opening_hours
            .push(f.opening_hours.map(|hours| hours.as_str().to_owned()));
        self.services.push(Some(f.services));
        self.doctors.push(f.capacity.doctors);
        self.beds.push(f.capacity.beds);
        self.daily_capacity.push(f.capacity.daily_capacity);
        self.operational.push(Some(f.operational));
        self.mobile.push(Some(f.mobile));
        self.external_ids.push(Some(f.external_ids));
    }

    /// Every column's name and length, to check they agree.
    fn lengths(&self) -> [(&'static str, usize); 22] {
        [
            ("id", self.id.len()),
            ("version", self.version.len()),
            ("updated_at", self.updated_at.len()),
            ("deleted", self.deleted.len()),
            ("kind", self.kind.len()),
            ("name_zh", self.name_zh.len()),
            ("name_en", self.name_en.len()),
            ("lat", self.lat.len()),
            ("lon", self.lon.len()),
            ("address", self.address.len()),
            ("township", self.township.len()),
            ("village", self.village.len()),
            ("phone", self.phone.len()),
            ("opening_hours", self.opening_hours.len()),
            ("services", self.services.len()),
            ("doctors", self.doctors.len()),
            ("beds", self.beds.len()),
            ("daily_capacity", self.daily_capacity.len()),
            ("operational", self.operational.len()),
            ("mobile", self.mobile.len()),
            ("external_ids", self.external_ids.len()),
            ("status", self.status.len()),
        ]
    }

    /// The page as records, checking that every column has one entry per record, that every
    /// live record has what a facility must have, and that every value is valid.
    pub fn into_page(self) -> Result<RegistryPage, ColumnarError> {
        let expected = self.id.len();
        if let Some((column, found)) = self.lengths().into_iter().find(|(_, n)| *n != expected) {
            return Err(ColumnarError::Length {
                column,
                expected,
                found,
            });
        }
        let ColumnarPage {
            cursor,
            has_more,
            id,
            version,
            updated_at,
            deleted,
            kind,
            name_zh,
            name_en,
            lat,
            lon,
            address,
            township,
            village,
            phone,
            opening_hours,
            services,
            doctors,
            beds,
            daily_capacity,
            operational,
            mobile,
            external_ids,
            status,
        } = self;
        let mut columns = (
            kind.into_iter(),
            name_zh.into_iter().zip(name_en),
            lat.into_iter().zip(lon),
            address.into_iter().zip(township).zip(village),
            phone.into_iter().zip(opening_hours).zip(services),
            doctors.into_iter().zip(beds).zip(daily_capacity),
            operational.into_iter().zip(mobile).zip(external_ids),
        );
        let mut items = Vec::with_capacity(expected);
        let rows = id
            .into_iter()
            .zip(version)
            .zip(updated_at)
            .zip(deleted)
            .zip(status);
        for (index, ((((id, version), updated_at), deleted), status)) in rows.enumerate() {
            let problem = |problem: &str| ColumnarError::Record {
                index,
                problem: problem.to_owned(),
            };
            // Every iterator has `expected` entries (checked above).
            let (
                Some(kind),
                Some((zh, en)),
                Some((lat, lon)),
                Some(((address, township), village)),
                Some(((phone, opening_hours), services)),
                Some(((doctors, beds), daily_capacity)),
                Some(((operational, mobile), external_ids)),
            ) = (
                columns.0.next(),
                columns.1.next(),
                columns.2.next(),
                columns.3.next(),
                columns.4.next(),
                columns.5.next(),
                columns.6.next(),
            )
            else {
                return Err(problem("columns end early"));
            };
            let facility = if deleted {
                None
            } else {
                let (Some(kind), Some(zh), Some(lat), Some(lon)) = (kind, zh, lat, lon) else {
                    return Err(problem(
                        "a live facility needs a kind, a name and a location",
                    ));
                };
                let location =
                    LatLon::new(lat, lon).map_err(|err| problem(&err.message(crate::Lang::En)))?;
                let opening_hours = opening_hours
                    .map(OpeningHours::try_from)
                    .transpose()
                    .map_err(|err| problem(&err.message(crate::Lang::En)))?;
                Some(Facility {
                    kind,
                    name: Names { zh, en },
                    location,
                    address,
                    area: AdminArea { township, village },
                    phone,
                    opening_hours,
                    services: services.unwrap_or_default(),
                    capacity: Capacity {
                        doctors,
                        beds,
                        daily_capacity,
                    }
                    .validate()
                    .map_err(|err| problem(&err.message(crate::Lang::En)))?,
                    operational: operational.unwrap_or_default(),
                    mobile: mobile.unwrap_or_default(),
                    external_ids: external_ids.unwrap_or_default(),
                })
            };
            let id = match id {
                Some(id) => id,
                None => facility
                    .as_ref()
                    .and_then(|f| f.external_ids.iter().next())
                    .map(FacilityId::from_external)
                    .ok_or_else(|| problem("no id and no external id to derive it from"))?,
            };
            items.push(FacilityRecord {
                id,
                version,
                updated_at,
                deleted,
                status: status.filter(|_| facility.is_some()),
                facility,
            });
        }
        Ok(RegistryPage {
            items,
            cursor,
            has_more,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // proptest! bodies are not seen as tests by clippy
mod tests {
    use super::*;
    use crate::report::ReportedStatus;
    use crate::status::Crowding;
    use proptest::prelude::*;

    fn facility(n: u32, external: bool) -> Facility {
        Facility {
            kind: FacilityKind::ALL[n as usize % FacilityKind::ALL.len()],
            name: Names {
                zh: Name::try_from(format!("第{n}村卫生室")).unwrap(),
                en: n
                    .is_multiple_of(2)
                    .then(|| Name::try_from(format!("Clinic {n}")).unwrap()),
            },
            location: LatLon::new(29.0 + f64::from(n) * 1e-7, 121.5).unwrap(),
            address: (!n.is_multiple_of(3)).then(|| Address::try_from(format!("{n}号")).unwrap()),
            area: AdminArea {
                township: Some(AreaName::try_from("梅林街道".to_owned()).unwrap()),
                village: n
                    .is_multiple_of(4)
                    .then(|| AreaName::try_from("东村".to_owned()).unwrap()),
            },
            phone: (!n.is_multiple_of(5)).then(|| Phone::parse("0574-62681234").unwrap()),
            opening_hours: (n % 2 == 1).then(|| OpeningHours::parse("24/7").unwrap()),
            services: Service::ALL.iter().copied().take(n as usize % 4).collect(),
            capacity: Capacity {
                doctors: Some(n % 7),
                beds: None,
                daily_capacity: n.is_multiple_of(3).then_some(n),
            },
            operational: if n.is_multiple_of(6) {
                Operational::Closed {
                    reason: None,
                    reopens_on: None,
                }
            } else {
                Operational::Open
            },
            mobile: n.is_multiple_of(8),
            external_ids: if external {
                [ExternalId::parse(&format!("demo:zj/{n}")).unwrap()].into()
            } else {
                BTreeSet::new()
            },
        }
    }

    fn record(n: u32, deleted: bool, external: bool, random_id: bool) -> FacilityRecord {
        let facility = facility(n, external);
        let id = match facility.external_ids.iter().next() {
            Some(ext) if !random_id => FacilityId::from_external(ext),
            _ => FacilityId::new_random(),
        };
        FacilityRecord {
            id,
            version: u64::from(n) + 1,
            updated_at: DateTime::from_timestamp(1_790_000_000 + i64::from(n), 0).unwrap(),
            deleted,
            status: (!deleted && n % 3 == 1).then(|| FacilityStatus {
                report: "0193a0e4-5b7c-7d3e-8f10-123456789abc".parse().unwrap(),
                as_of: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
                status: ReportedStatus::Open,
                crowding: Some(Crowding::Low),
                wait_minutes: Some(10),
                outpatients_today: None,
                fever_patients_today: None,
                doctors_on_duty: None,
                stock: Default::default(),
            }),
            facility: (!deleted).then_some(facility),
        }
    }

    #[test]
    fn derived_ids_are_left_out_and_come_back() {
        let page = RegistryPage {
            items: vec![
                record(1, false, true, false),
                record(2, false, true, true),
                record(3, false, false, false),
                record(4, true, true, false),
            ],
            cursor: Cursor::from_seq(9),
            has_more: true,
        };
        let columns = ColumnarPage::from_page(page.clone());
        assert_eq!(columns.id[0], None, "derivable from demo:zj/1");
        assert_eq!(columns.id[1], Some(page.items[1].id), "a random id is sent");
        assert_eq!(columns.id[2], Some(page.items[2].id), "no external id");
        assert_eq!(
            columns.id[3],
            Some(page.items[3].id),
            "tombstones carry their id"
        );
        let json = serde_json::to_string(&columns).unwrap();
        let back: ColumnarPage = serde_json::from_str(&json).unwrap();
        assert_eq!(back.into_page().unwrap(), page);
    }

    #[test]
    fn columns_that_disagree_are_refused() {
        let mut columns = ColumnarPage::from_page(RegistryPage {
            items: vec![record(1, false, true, false), record(2, false, true, false)],
            cursor: Cursor::from_seq(2),
            has_more: false,
        });
        columns.phone.pop();
        let err = columns.clone().into_page().unwrap_err();
        assert!(err.to_string().contains("phone"), "{err}");

        columns.phone.push(None);
        columns.kind[1] = None;
        let err = columns.clone().into_page().unwrap_err();
        assert_eq!(
            err.to_string(),
            "record 1: a live facility needs a kind, a name and a location"
        );

        columns.kind[1] = Some(FacilityKind::VillageClinic);
        columns.lat[1] = Some(123.0);
        assert!(
            columns.clone().into_page().is_err(),
            "latitude out of range"
        );

        columns.lat[1] = Some(29.0);
        // Opening hours are text in the JSON, checked with the record.
        columns.opening_hours[1] = Some("Mo-Fr 25:00-26:00; whenever".to_owned());
        let err = columns.clone().into_page().unwrap_err();
        assert!(err.to_string().starts_with("record 1: "), "{err}");
        columns.opening_hours[1] = Some("Mo-Fr 08:00-12:00,14:00-17:30".to_owned());
        let page = columns.clone().into_page().unwrap();
        let hours = page.items[1]
            .facility
            .as_ref()
            .unwrap()
            .opening_hours
            .as_ref();
        assert_eq!(
            hours.map(|h| h.as_str()),
            Some("Mo-Fr 08:00-12:00,14:00-17:30")
        );

        columns.id[1] = None;
        columns.external_ids[1] = Some(BTreeSet::new());
        assert!(columns.into_page().is_err(), "no id to derive");
    }

    #[test]
    fn invalid_values_are_refused_while_parsing() {
        let columns = ColumnarPage::from_page(RegistryPage {
            items: vec![record(1, false, true, false)],
            cursor: Cursor::from_seq(1),
            has_more: false,
        });
        let json = serde_json::to_string(&columns)
            .unwrap()
            .replace("0574-62681234", "call me");
        assert!(serde_json::from_str::<ColumnarPage>(&json).is_err());
    }

    proptest! {
        #[test]
        fn any_page_round_trips(
            shapes in proptest::collection::vec((0u32..10_000, any::<bool>(), any::<bool>(), any::<bool>()), 0..40),
            seq in 0u64..1_000_000,
            has_more in any::<bool>(),
        ) {
            let page = RegistryPage {
                items: shapes
                    .into_iter()
                    .map(|(n, deleted, external, random_id)| record(n, deleted, external, random_id))
                    .collect(),
                cursor: Cursor::from_seq(seq),
                has_more,
            };
            let json = serde_json::to_string(&ColumnarPage::from_page(page.clone())).unwrap();
            let back: ColumnarPage = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.into_page().unwrap(), page);
        }
    }
}
