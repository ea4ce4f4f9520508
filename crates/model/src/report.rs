//! Load reports: what a village doctor says about their clinic today — open or not, how many
//! patients, how long the wait, how many doctors, what is running short.
//!
//! A report is append-only: it is never edited. A correction is a new report that `supersedes`
//! the earlier one. Its id ([`ReportId`], a UUID v7 made on the phone) is the idempotency key of
//! the push that carries it, so a report sent twice is stored once.
//!
//! [`LoadReport`] is valid by construction: serde goes through [`LoadReport::validate`], and the
//! phone's form goes through [`ReportDraft::parse`], which gives every field's error at once with
//! the same codes and words. What needs a clock ([`LoadReport::check_time`]) is checked apart, by
//! the phone against its clock and by the server against its own.

use crate::error::{Field, ValidationError};
use crate::facility::{labelled_enum, FacilityId};
use crate::lang::Lang;
use crate::text::Note;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A report's identity: a UUID v7 made on the phone, the idempotency key of its push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
pub struct ReportId(Uuid);

impl ReportId {
    /// A new id, ordered by creation time.
    pub fn new_v7() -> Self {
        ReportId(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl From<Uuid> for ReportId {
    fn from(uuid: Uuid) -> Self {
        ReportId(uuid)
    }
}

impl fmt::Display for ReportId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ReportId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(ReportId)
    }
}

labelled_enum!(
    /// Whether the facility is seeing patients, as its doctor reports it.
    ReportedStatus, Field::ReportStatus, {
        Open = "open", "正常开诊", "Open";
        /// Open with reduced service (fewer doctors, some services stopped).
        Reduced = "reduced", "部分开诊", "Reduced service";
        Closed = "closed", "暂停接诊", "Closed";
    }
);

labelled_enum!(
    /// What a clinic keeps in stock and the health authority moves where it is short.
    StockItem, Field::StockCount, {
        Antipyretics = "antipyretics", "退烧药", "Antipyretics";
        AntigenKits = "antigen_kits", "抗原检测试剂", "Antigen test kits";
        CoughCold = "cough_cold", "止咳感冒药", "Cough and cold medicine";
        Oxygen = "oxygen", "氧气/血氧仪", "Oxygen and oximeters";
    }
);

labelled_enum!(
    /// How much of an item is on hand.
    StockLevel, Field::StockCount, {
        Ample = "ample", "充足", "Ample";
        Low = "low", "紧张", "Low";
        Out = "out", "缺货", "Out of stock";
    }
);

impl StockLevel {
    /// Whether the level is a warning: residents see it, the authority acts on it.
    pub fn is_short(self) -> bool {
        matches!(self, StockLevel::Low | StockLevel::Out)
    }
}

/// One item's stock: its level, and optionally how many are on hand and how many a day needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stock {
    pub level: StockLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_need: Option<u32>,
}

/// The largest numbers a report may carry; anything larger is a typing error.
pub mod limits {
    /// Outpatients (and so fever patients) in a day.
    pub const PATIENTS: u32 = 20_000;
    /// A wait of a whole day.
    pub const WAIT_MINUTES: u32 = 24 * 60;
    pub const DOCTORS: u32 = 1_000;
    /// Units of one stock item (count or daily need).
    pub const STOCK: u32 = 1_000_000;
    /// How far ahead of the checking clock a report's time may be (clocks disagree a little).
    pub const FUTURE_MINUTES: i64 = 60;
    /// How old a report may be when it arrives: doctors may be out of signal for weeks.
    pub const MAX_AGE_DAYS: u32 = 30;
    /// No time a phone sends is before this year (1 January, UTC): a clock reset to 1970 or
    /// year 1 is refused rather than stored.
    pub const EARLIEST_YEAR: i32 = 2000;
    /// How far ahead of the server's clock a mutation's `recorded_at` may be. Looser than
    /// [`FUTURE_MINUTES`]: it is only kept, never counted, but it must stay a time every
    /// database stores and reads back.
    pub const RECORDED_FUTURE_HOURS: i64 = 24;

    /// The first instant of [`EARLIEST_YEAR`].
    pub fn earliest() -> chrono::DateTime<chrono::Utc> {
        chrono::NaiveDate::from_ymd_opt(EARLIEST_YEAR, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or(chrono::DateTime::<chrono::Utc>::UNIX_EPOCH)
    }
}

/// The body of a `load_report` mutation, as the phone sends it and the server stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LoadReportWire")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoadReport {
    pub facility: FacilityId,
    /// When the figures were true (the phone's clock).
    pub as_of: DateTime<Utc>,
    pub status: ReportedStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outpatients_today: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fever_patients_today: Option<u32>,
    /// Current wait in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctors_on_duty: Option<u32>,
    /// Only the items reported; an item not named is unknown, not out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stock: BTreeMap<StockItem, Stock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
    /// The earlier report this one corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<ReportId>,
}

/// [`LoadReport`] before its rules are checked: what serde reads.
#[derive(Deserialize)]
struct LoadReportWire {
    facility: FacilityId,
    as_of: DateTime<Utc>,
    status: ReportedStatus,
    #[serde(default)]
    outpatients_today: Option<u32>,
    #[serde(default)]
    fever_patients_today: Option<u32>,
    #[serde(default)]
    wait_minutes: Option<u32>,
    #[serde(default)]
    doctors_on_duty: Option<u32>,
    #[serde(default)]
    stock: BTreeMap<StockItem, Stock>,
    #[serde(default)]
    note: Option<Note>,
    #[serde(default)]
    supersedes: Option<ReportId>,
}

impl TryFrom<LoadReportWire> for LoadReport {
    type Error = ValidationError;
    fn try_from(w: LoadReportWire) -> Result<Self, Self::Error> {
        LoadReport {
            facility: w.facility,
            as_of: w.as_of,
            status: w.status,
            outpatients_today: w.outpatients_today,
            fever_patients_today: w.fever_patients_today,
            wait_minutes: w.wait_minutes,
            doctors_on_duty: w.doctors_on_duty,
            stock: w.stock,
            note: w.note,
            supersedes: w.supersedes,
        }
        .validate()
    }
}

fn at_most(value: Option<u32>, field: Field, max: u32) -> Result<(), ValidationError> {
    match value {
        Some(n) if n > max => Err(ValidationError::TooLarge {
            field,
            max: u64::from(max),
        }),
        _ => Ok(()),
    }
}

impl LoadReport {
    /// Every rule that needs no clock; the first broken one is the error.
    pub fn validate(self) -> Result<Self, ValidationError> {
        match self.errors().into_iter().next() {
            Some(err) => Err(err),
            None => Ok(self),
        }
    }

    /// Every rule that needs no clock, each broken one an error (for a form).
    fn errors(&self) -> Vec<ValidationError> {
        let checks = [
            at_most(
                self.outpatients_today,
                Field::OutpatientsToday,
                limits::PATIENTS,
            ),
            at_most(
                self.fever_patients_today,
                Field::FeverPatientsToday,
                limits::PATIENTS,
            ),
            at_most(self.wait_minutes, Field::WaitMinutes, limits::WAIT_MINUTES),
            at_most(self.doctors_on_duty, Field::DoctorsOnDuty, limits::DOCTORS),
        ];
        let mut errors: Vec<ValidationError> = checks.into_iter().filter_map(Result::err).collect();
        if let (Some(fever), Some(outpatients)) =
            (self.fever_patients_today, self.outpatients_today)
        {
            if fever > outpatients
                && !errors
                    .iter()
                    .any(|e| e.field() == Field::FeverPatientsToday)
            {
                errors.push(ValidationError::FeverExceedsOutpatients { fever, outpatients });
            }
        }
        for stock in self.stock.values() {
            errors.extend(at_most(stock.count, Field::StockCount, limits::STOCK).err());
            errors.extend(at_most(stock.daily_need, Field::StockDailyNeed, limits::STOCK).err());
        }
        errors
    }

    /// The rules that need a clock: `as_of` is at most [`limits::FUTURE_MINUTES`] ahead of `now`
    /// and at most [`limits::MAX_AGE_DAYS`] behind it.
    pub fn check_time(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        // Checked: a clock at either end of chrono's range has no time beyond it to refuse.
        let latest = now.checked_add_signed(Duration::minutes(limits::FUTURE_MINUTES));
        if latest.is_some_and(|latest| self.as_of > latest) {
            return Err(ValidationError::InFuture { field: Field::AsOf });
        }
        let earliest = now.checked_sub_signed(Duration::days(i64::from(limits::MAX_AGE_DAYS)));
        if earliest.is_some_and(|earliest| self.as_of < earliest) {
            return Err(ValidationError::TooOld {
                field: Field::AsOf,
                max_days: limits::MAX_AGE_DAYS,
            });
        }
        Ok(())
    }

    /// Checks that a report with id `id` does not correct itself.
    pub fn check_supersedes(&self, id: ReportId) -> Result<(), ValidationError> {
        if self.supersedes == Some(id) {
            Err(ValidationError::SupersedesItself)
        } else {
            Ok(())
        }
    }

    /// The items at a short level (low or out), most urgent first.
    pub fn shortages(&self) -> Vec<(StockItem, StockLevel)> {
        shortages(self.stock.iter().map(|(item, s)| (*item, s.level)))
    }
}

/// Items at a short level, out before low, then in item order.
pub(crate) fn shortages(
    levels: impl Iterator<Item = (StockItem, StockLevel)>,
) -> Vec<(StockItem, StockLevel)> {
    let mut short: Vec<_> = levels.filter(|(_, level)| level.is_short()).collect();
    short.sort_by_key(|(item, level)| (std::cmp::Reverse(*level), *item));
    short
}

/// Parses a count typed in a form: empty is `None`, else a whole number up to `max`. Full-width
/// digits (from Chinese input methods) are read as digits.
pub fn parse_count(raw: &str, field: Field, max: u32) -> Result<Option<u32>, ValidationError> {
    let normalised: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')).unwrap_or(c),
            other => other,
        })
        .collect();
    if normalised.is_empty() {
        return Ok(None);
    }
    if !normalised.chars().all(|c| c.is_ascii_digit()) {
        return Err(ValidationError::NotANumber {
            field,
            value: raw.trim().chars().take(20).collect(),
        });
    }
    match normalised.parse::<u32>() {
        Ok(n) if n <= max => Ok(Some(n)),
        _ => Err(ValidationError::TooLarge {
            field,
            max: u64::from(max),
        }),
    }
}

/// One stock row of the form, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockDraft {
    /// Wire name of the level, or empty for "not reported".
    pub level: String,
    pub count: String,
    pub daily_need: String,
}

/// The report form as typed: every field text, so nothing typed is lost while it is invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDraft {
    pub status: String,
    pub outpatients_today: String,
    pub fever_patients_today: String,
    pub wait_minutes: String,
    pub doctors_on_duty: String,
    pub stock: BTreeMap<StockItem, StockDraft>,
    pub note: String,
}

/// A form field an error belongs to: a report field, or one column of one stock item's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftField {
    Report(Field),
    Stock(StockItem, Field),
}

impl ReportDraft {
    /// Parses the form into a report: every field's error at once, each with the field it
    /// belongs to, so the form can show each beside its field.
    pub fn parse(
        &self,
        facility: FacilityId,
        as_of: DateTime<Utc>,
        supersedes: Option<ReportId>,
    ) -> Result<LoadReport, Vec<(DraftField, ValidationError)>> {
        let mut errors = Vec::new();
        fn field(
            result: Result<Option<u32>, ValidationError>,
            at: DraftField,
            errors: &mut Vec<(DraftField, ValidationError)>,
        ) -> Option<u32> {
            result.unwrap_or_else(|err| {
                errors.push((at, err));
                None
            })
        }
        let outpatients_today = field(
            parse_count(
                &self.outpatients_today,
                Field::OutpatientsToday,
                limits::PATIENTS,
            ),
            DraftField::Report(Field::OutpatientsToday),
            &mut errors,
        );
        let fever_patients_today = field(
            parse_count(
                &self.fever_patients_today,
                Field::FeverPatientsToday,
                limits::PATIENTS,
            ),
            DraftField::Report(Field::FeverPatientsToday),
            &mut errors,
        );
        let wait_minutes = field(
            parse_count(&self.wait_minutes, Field::WaitMinutes, limits::WAIT_MINUTES),
            DraftField::Report(Field::WaitMinutes),
            &mut errors,
        );
        let doctors_on_duty = field(
            parse_count(&self.doctors_on_duty, Field::DoctorsOnDuty, limits::DOCTORS),
            DraftField::Report(Field::DoctorsOnDuty),
            &mut errors,
        );
        let mut stock = BTreeMap::new();
        for (item, row) in &self.stock {
            let count = field(
                parse_count(&row.count, Field::StockCount, limits::STOCK),
                DraftField::Stock(*item, Field::StockCount),
                &mut errors,
            );
            let daily_need = field(
                parse_count(&row.daily_need, Field::StockDailyNeed, limits::STOCK),
                DraftField::Stock(*item, Field::StockDailyNeed),
                &mut errors,
            );
            if row.level.trim().is_empty() {
                continue;
            }
            match row.level.parse::<StockLevel>() {
                Ok(level) => {
                    stock.insert(
                        *item,
                        Stock {
                            level,
                            count,
                            daily_need,
                        },
                    );
                }
                Err(err) => errors.push((DraftField::Stock(*item, Field::StockCount), err)),
            }
        }
        let status = match self.status.parse::<ReportedStatus>() {
            Ok(status) => Some(status),
            Err(_) if self.status.trim().is_empty() => {
                errors.push((
                    DraftField::Report(Field::ReportStatus),
                    ValidationError::Required {
                        field: Field::ReportStatus,
                    },
                ));
                None
            }
            Err(err) => {
                errors.push((DraftField::Report(Field::ReportStatus), err));
                None
            }
        };
        let note = if self.note.trim().is_empty() {
            None
        } else {
            match Note::parse_for(&self.note, Field::Note) {
                Ok(note) => Some(note),
                Err(err) => {
                    errors.push((DraftField::Report(Field::Note), err));
                    None
                }
            }
        };
        let Some(status) = status else {
            return Err(errors);
        };
        let report = LoadReport {
            facility,
            as_of,
            status,
            outpatients_today,
            fever_patients_today,
            wait_minutes,
            doctors_on_duty,
            stock,
            note,
            supersedes,
        };
        errors.extend(
            report
                .errors()
                .into_iter()
                .map(|err| (DraftField::Report(err.field()), err)),
        );
        if errors.is_empty() {
            Ok(report)
        } else {
            Err(errors)
        }
    }

    /// The form filled with a report's values, to correct it.
    pub fn from_report(report: &LoadReport) -> Self {
        let text = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        ReportDraft {
            status: report.status.as_str().to_owned(),
            outpatients_today: text(report.outpatients_today),
            fever_patients_today: text(report.fever_patients_today),
            wait_minutes: text(report.wait_minutes),
            doctors_on_duty: text(report.doctors_on_duty),
            stock: report
                .stock
                .iter()
                .map(|(item, s)| {
                    (
                        *item,
                        StockDraft {
                            level: s.level.as_str().to_owned(),
                            count: text(s.count),
                            daily_need: text(s.daily_need),
                        },
                    )
                })
                .collect(),
            note: report
                .note
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

/// A stored report as the history endpoint returns it: the report and when the server got it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportRecord {
    pub id: ReportId,
    pub report: LoadReport,
    /// The phone's clock when the report was made.
    pub recorded_at: DateTime<Utc>,
    /// The server's clock when it was stored.
    pub received_at: DateTime<Utc>,
    /// Replaced by a later correction: not counted. The public history lists no such report,
    /// so there it is never sent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superseded: bool,
}

/// `GET /api/v1/facilities/{id}/reports`: the last 30 days of a facility's reports, newest
/// first, as residents may see them: no `note`, no report a correction replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportHistory {
    pub facility: FacilityId,
    pub reports: Vec<ReportRecord>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facility() -> FacilityId {
        FacilityId::from(Uuid::from_u128(7))
    }

    fn now() -> DateTime<Utc> {
        "2026-11-29T08:00:00Z".parse().unwrap()
    }

    fn draft() -> ReportDraft {
        ReportDraft {
            status: "open".into(),
            outpatients_today: "120".into(),
            fever_patients_today: "４５".into(),
            wait_minutes: "30".into(),
            doctors_on_duty: "3".into(),
            stock: [(
                StockItem::AntigenKits,
                StockDraft {
                    level: "low".into(),
                    count: "40".into(),
                    daily_need: "60".into(),
                },
            )]
            .into(),
            note: " 下午停诊一小时 ".into(),
        }
    }

    #[test]
    fn a_filled_form_parses_and_round_trips_through_json() {
        let report = draft().parse(facility(), now(), None).unwrap();
        assert_eq!(report.fever_patients_today, Some(45));
        assert_eq!(report.note.as_ref().unwrap().as_str(), "下午停诊一小时");
        assert_eq!(
            report.shortages(),
            vec![(StockItem::AntigenKits, StockLevel::Low)]
        );
        let json = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<LoadReport>(&json).unwrap(), report);
        assert_eq!(
            ReportDraft::from_report(&report)
                .parse(facility(), now(), None)
                .unwrap(),
            report
        );
    }

    #[test]
    fn every_bad_field_is_reported_at_once_in_both_languages() {
        let mut d = draft();
        d.status = String::new();
        d.outpatients_today = "很多".into();
        d.wait_minutes = "5000".into();
        let errors = d.parse(facility(), now(), None).unwrap_err();
        let codes: Vec<_> = errors.iter().map(|(f, e)| (*f, e.code())).collect();
        assert!(codes.contains(&(DraftField::Report(Field::ReportStatus), "required")));
        assert!(codes.contains(&(DraftField::Report(Field::OutpatientsToday), "not_a_number")));
        assert!(codes.contains(&(DraftField::Report(Field::WaitMinutes), "too_large")));
        let wait = &errors
            .iter()
            .find(|(f, _)| *f == DraftField::Report(Field::WaitMinutes))
            .unwrap()
            .1;
        assert_eq!(
            wait.message(Lang::Zh),
            "当前候诊时间（分钟）过大：最多 1440"
        );
        assert_eq!(
            wait.message(Lang::En),
            "The current wait (minutes) is too large: at most 1440"
        );
    }

    #[test]
    fn fever_patients_cannot_outnumber_outpatients_on_the_wire_either() {
        let mut d = draft();
        d.fever_patients_today = "200".into();
        let errors = d.parse(facility(), now(), None).unwrap_err();
        assert_eq!(errors[0].1.code(), "fever_exceeds_outpatients");
        let mut ok = draft().parse(facility(), now(), None).unwrap();
        ok.fever_patients_today = Some(200);
        let json = serde_json::to_string(&ok).unwrap();
        let err = serde_json::from_str::<LoadReport>(&json).unwrap_err();
        assert!(err.to_string().contains("不能多于"), "{err}");
    }

    #[test]
    fn times_are_checked_against_a_clock() {
        let report = draft().parse(facility(), now(), None).unwrap();
        assert!(report.check_time(now()).is_ok());
        assert!(report
            .check_time(now() - Duration::minutes(limits::FUTURE_MINUTES - 1))
            .is_ok());
        assert_eq!(
            report
                .check_time(now() - Duration::hours(2))
                .unwrap_err()
                .code(),
            "in_future"
        );
        assert_eq!(
            report
                .check_time(now() + Duration::days(31))
                .unwrap_err()
                .code(),
            "too_old"
        );
    }

    #[test]
    fn a_correction_cannot_correct_itself() {
        let id = ReportId::new_v7();
        let report = draft().parse(facility(), now(), Some(id)).unwrap();
        assert_eq!(
            report.check_supersedes(id).unwrap_err().code(),
            "supersedes_itself"
        );
        assert!(report.check_supersedes(ReportId::new_v7()).is_ok());
    }

    proptest! {
        #[test]
        fn counts_parse_exactly_the_whole_numbers_up_to_max(raw in "[0-9０-９a-z ]{0,8}", max in 0u32..100_000) {
            match parse_count(&raw, Field::WaitMinutes, max) {
                Ok(None) => prop_assert!(raw.trim().is_empty()),
                Ok(Some(n)) => prop_assert!(n <= max),
                Err(e) => prop_assert!(matches!(e.code(), "not_a_number" | "too_large")),
            }
        }

        #[test]
        fn valid_reports_round_trip(out in 0u32..=limits::PATIENTS, fever_share in 0.0f64..=1.0, wait in 0u32..=limits::WAIT_MINUTES) {
            let fever = (f64::from(out) * fever_share) as u32;
            let report = LoadReport {
                facility: facility(),
                as_of: now(),
                status: ReportedStatus::Reduced,
                outpatients_today: Some(out),
                fever_patients_today: Some(fever),
                wait_minutes: Some(wait),
                doctors_on_duty: None,
                stock: BTreeMap::new(),
                note: None,
                supersedes: None,
            }.validate().unwrap();
            let json = serde_json::to_string(&report).unwrap();
            prop_assert_eq!(serde_json::from_str::<LoadReport>(&json).unwrap(), report);
        }
    }
}
