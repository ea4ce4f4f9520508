//! A facility's current status, derived by the server from its newest report and shipped in the
//! registry feed: how crowded it is, what is short, and as of when. Every number a resident sees
//! carries its age; [`Freshness`] says how much to trust it now.

use crate::error::{Field, ValidationError};
use crate::facility::labelled_enum;
use crate::lang::Lang;
use crate::report::{shortages, LoadReport, ReportId, ReportedStatus, StockItem, StockLevel};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

labelled_enum!(
    /// How crowded a facility is, from its reported wait.
    Crowding, Field::WaitMinutes, {
        Low = "low", "不拥挤", "Not crowded";
        Medium = "medium", "较拥挤", "Busy";
        High = "high", "很拥挤", "Very crowded";
        Closed = "closed", "暂停接诊", "Closed";
    }
);

impl Crowding {
    /// A wait of at most this many minutes is low.
    pub const LOW_MAX_WAIT: u32 = 25;
    /// A wait of at least this many minutes is high.
    pub const HIGH_MIN_WAIT: u32 = 50;

    /// The level for a wait in minutes: ≤ 25 low, 26–49 medium, ≥ 50 high.
    pub fn from_wait(wait_minutes: u32) -> Self {
        if wait_minutes <= Self::LOW_MAX_WAIT {
            Crowding::Low
        } else if wait_minutes < Self::HIGH_MIN_WAIT {
            Crowding::Medium
        } else {
            Crowding::High
        }
    }

    /// The level a report gives: closed when closed, else from the wait, unknown without one.
    pub fn of(status: ReportedStatus, wait_minutes: Option<u32>) -> Option<Self> {
        match status {
            ReportedStatus::Closed => Some(Crowding::Closed),
            _ => wait_minutes.map(Self::from_wait),
        }
    }
}

labelled_enum!(
    /// How much to trust a status now, from its age.
    Freshness, Field::AsOf, {
        Fresh = "fresh", "最新", "Current";
        Ageing = "ageing", "较旧", "Ageing";
        Stale = "stale", "已过时", "Out of date";
    }
);

/// When a status stops being fresh, and when it becomes stale. The server publishes its values
/// in the client configuration; these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreshnessThresholds {
    /// Older than this many minutes: ageing.
    pub ageing_after_minutes: u32,
    /// Older than this many minutes: stale, shown greyed.
    pub stale_after_minutes: u32,
}

impl Default for FreshnessThresholds {
    /// Doctors report about daily: a status from this morning is current, yesterday's is stale.
    fn default() -> Self {
        FreshnessThresholds {
            ageing_after_minutes: 6 * 60,
            stale_after_minutes: 24 * 60,
        }
    }
}

impl FreshnessThresholds {
    /// Checks that ageing comes no later than stale, and both are positive.
    pub fn new(ageing_after_minutes: u32, stale_after_minutes: u32) -> Result<Self, String> {
        if ageing_after_minutes == 0 || stale_after_minutes < ageing_after_minutes {
            return Err(format!(
                "freshness thresholds must satisfy 0 < ageing ({ageing_after_minutes}) <= stale ({stale_after_minutes})"
            ));
        }
        Ok(FreshnessThresholds {
            ageing_after_minutes,
            stale_after_minutes,
        })
    }

    /// The freshness of something true at `as_of`, seen at `now`. A time ahead of `now` (a
    /// clock that runs fast) counts as age zero.
    pub fn judge(self, as_of: DateTime<Utc>, now: DateTime<Utc>) -> Freshness {
        let age = now.signed_duration_since(as_of).max(Duration::zero());
        if age > Duration::minutes(i64::from(self.stale_after_minutes)) {
            Freshness::Stale
        } else if age > Duration::minutes(i64::from(self.ageing_after_minutes)) {
            Freshness::Ageing
        } else {
            Freshness::Fresh
        }
    }
}

/// A facility's status as the registry feed carries it: the newest report that no correction
/// replaced, reduced to what residents and the authority look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilityStatus {
    /// The report it comes from.
    pub report: ReportId,
    /// When it was true: the report's time, or the server's receipt if that is earlier (a phone
    /// clock running fast must not make a status look newer than it is).
    pub as_of: DateTime<Utc>,
    pub status: ReportedStatus,
    /// Absent when the report gave no wait and the facility is not closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crowding: Option<Crowding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outpatients_today: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fever_patients_today: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctors_on_duty: Option<u32>,
    /// The level of every item reported.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stock: BTreeMap<StockItem, StockLevel>,
}

impl FacilityStatus {
    /// The status a stored report gives.
    pub fn from_report(id: ReportId, report: &LoadReport, received_at: DateTime<Utc>) -> Self {
        FacilityStatus {
            report: id,
            as_of: report.as_of.min(received_at),
            status: report.status,
            crowding: Crowding::of(report.status, report.wait_minutes),
            wait_minutes: report.wait_minutes,
            outpatients_today: report.outpatients_today,
            fever_patients_today: report.fever_patients_today,
            doctors_on_duty: report.doctors_on_duty,
            stock: report.stock.iter().map(|(i, s)| (*i, s.level)).collect(),
        }
    }

    /// The items at a short level, out before low: the stock warnings.
    pub fn shortages(&self) -> Vec<(StockItem, StockLevel)> {
        shortages(self.stock.iter().map(|(i, l)| (*i, *l)))
    }

    /// Whether antigen test kits are reported in stock (ample or low); `None` if not reported.
    pub fn has_antigen_kits(&self) -> Option<bool> {
        self.stock
            .get(&StockItem::AntigenKits)
            .map(|level| *level != StockLevel::Out)
    }

    pub fn freshness(&self, now: DateTime<Utc>, thresholds: FreshnessThresholds) -> Freshness {
        thresholds.judge(self.as_of, now)
    }
}

/// "5 分钟前" / "5 min ago": how old something is, in words.
pub fn age_text(as_of: DateTime<Utc>, now: DateTime<Utc>, lang: Lang) -> String {
    let minutes = now.signed_duration_since(as_of).num_minutes().max(0);
    let (hours, days) = (minutes / 60, minutes / (60 * 24));
    match lang {
        Lang::Zh if minutes < 1 => "刚刚".to_owned(),
        Lang::Zh if minutes < 60 => format!("{minutes} 分钟前"),
        Lang::Zh if hours < 24 => format!("{hours} 小时前"),
        Lang::Zh => format!("{days} 天前"),
        Lang::En if minutes < 1 => "just now".to_owned(),
        Lang::En if minutes < 60 => format!("{minutes} min ago"),
        Lang::En if hours < 24 => format!("{hours} h ago"),
        Lang::En if days == 1 => "1 day ago".to_owned(),
        Lang::En => format!("{days} days ago"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::facility::FacilityId;
    use crate::report::Stock;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn crowding_follows_the_design_thresholds() {
        assert_eq!(Crowding::from_wait(0), Crowding::Low);
        assert_eq!(Crowding::from_wait(25), Crowding::Low);
        assert_eq!(Crowding::from_wait(26), Crowding::Medium);
        assert_eq!(Crowding::from_wait(49), Crowding::Medium);
        assert_eq!(Crowding::from_wait(50), Crowding::High);
        assert_eq!(
            Crowding::of(ReportedStatus::Closed, Some(5)),
            Some(Crowding::Closed)
        );
        assert_eq!(Crowding::of(ReportedStatus::Open, None), None);
    }

    #[test]
    fn freshness_by_age() {
        let th = FreshnessThresholds::default();
        let as_of = t("2026-11-29T08:00:00Z");
        assert_eq!(th.judge(as_of, t("2026-11-29T07:00:00Z")), Freshness::Fresh);
        assert_eq!(th.judge(as_of, t("2026-11-29T14:00:00Z")), Freshness::Fresh);
        assert_eq!(
            th.judge(as_of, t("2026-11-29T14:01:00Z")),
            Freshness::Ageing
        );
        assert_eq!(th.judge(as_of, t("2026-11-30T08:01:00Z")), Freshness::Stale);
        assert!(FreshnessThresholds::new(60, 30).is_err());
        assert!(FreshnessThresholds::new(0, 30).is_err());
    }

    #[test]
    fn status_from_a_report_never_postdates_its_receipt() {
        let report = LoadReport {
            facility: FacilityId::from(Uuid::from_u128(1)),
            as_of: t("2026-11-29T09:00:00Z"),
            status: ReportedStatus::Open,
            outpatients_today: Some(80),
            fever_patients_today: Some(30),
            wait_minutes: Some(55),
            doctors_on_duty: Some(2),
            stock: [
                (
                    StockItem::Antipyretics,
                    Stock {
                        level: StockLevel::Low,
                        count: None,
                        daily_need: None,
                    },
                ),
                (
                    StockItem::AntigenKits,
                    Stock {
                        level: StockLevel::Out,
                        count: Some(0),
                        daily_need: Some(50),
                    },
                ),
                (
                    StockItem::Oxygen,
                    Stock {
                        level: StockLevel::Ample,
                        count: None,
                        daily_need: None,
                    },
                ),
            ]
            .into(),
            note: None,
            supersedes: None,
        };
        let status =
            FacilityStatus::from_report(ReportId::new_v7(), &report, t("2026-11-29T08:30:00Z"));
        assert_eq!(status.as_of, t("2026-11-29T08:30:00Z"));
        assert_eq!(status.crowding, Some(Crowding::High));
        assert_eq!(
            status.shortages(),
            vec![
                (StockItem::AntigenKits, StockLevel::Out),
                (StockItem::Antipyretics, StockLevel::Low)
            ]
        );
        assert_eq!(status.has_antigen_kits(), Some(false));
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(
            serde_json::from_str::<FacilityStatus>(&json).unwrap(),
            status
        );
    }

    #[test]
    fn ages_in_words() {
        let now = t("2026-11-29T08:00:00Z");
        assert_eq!(age_text(now, now, Lang::Zh), "刚刚");
        assert_eq!(
            age_text(t("2026-11-29T07:55:00Z"), now, Lang::Zh),
            "5 分钟前"
        );
        assert_eq!(
            age_text(t("2026-11-29T05:00:00Z"), now, Lang::En),
            "3 h ago"
        );
        assert_eq!(
            age_text(t("2026-11-27T08:00:00Z"), now, Lang::En),
            "2 days ago"
        );
    }

    proptest! {
        #[test]
        fn crowding_is_monotonic_in_the_wait(a in 0u32..2000, b in 0u32..2000) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(Crowding::from_wait(lo) <= Crowding::from_wait(hi));
        }
    }
}
