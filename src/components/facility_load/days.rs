//! The day arithmetic of the seven-day chart, pure: a facility's report history reduced to one
//! figure per day of the facilities' calendar (China Standard Time), and the days the chart
//! shows, each with its load if one was reported.

use crate::clock::facility_date;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many days the chart shows, today included.
pub const CHART_DAYS: usize = 7;

/// One day's load: the figures of the newest report of that day (China Standard Time) that no
/// correction replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLoad {
    pub date: NaiveDate,
    pub outpatients: Option<u32>,
    pub fever: Option<u32>,
}

/// What the chart reads of the history endpoint's answer (`caremap_model::ReportHistory`):
/// per report its time, receipt, whether a correction replaced it, and its two counts. The
/// server has validated the reports; the rest of each is not parsed.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryLoads {
    reports: Vec<RecordLoad>,
}

#[derive(Debug, Clone, Deserialize)]
struct RecordLoad {
    report: ReportLoad,
    received_at: DateTime<Utc>,
    #[serde(default)]
    superseded: bool,
}

#[derive(Debug, Clone, Deserialize)]
struct ReportLoad {
    as_of: DateTime<Utc>,
    #[serde(default)]
    outpatients_today: Option<u32>,
    #[serde(default)]
    fever_patients_today: Option<u32>,
}

/// The day-by-day load of a history, oldest first. Per day, the report with the newest time
/// (its `as_of`, or its receipt if earlier, as the status takes it) among those not
/// superseded.
pub fn daily_loads(history: &HistoryLoads) -> Vec<DayLoad> {
    let mut days: BTreeMap<NaiveDate, (DateTime<Utc>, DayLoad)> = BTreeMap::new();
    for record in history.reports.iter().filter(|r| !r.superseded) {
        let at = record.report.as_of.min(record.received_at);
        let date = facility_date(at);
        let load = DayLoad {
            date,
            outpatients: record.report.outpatients_today,
            fever: record.report.fever_patients_today,
        };
        match days.get(&date) {
            Some((held, _)) if *held >= at => {}
            _ => {
                days.insert(date, (at, load));
            }
        }
    }
    days.into_values().map(|(_, load)| load).collect()
}

/// The `CHART_DAYS` days ending `today`, oldest first, each with its load if reported.
pub fn last_days(loads: &[DayLoad], today: NaiveDate) -> Vec<(NaiveDate, Option<DayLoad>)> {
    (0..CHART_DAYS)
        .rev()
        .map(|back| {
            let date = today - Duration::days(back as i64);
            (date, loads.iter().find(|l| l.date == date).copied())
        })
        .collect()
}

/// Whether any of the days has a count to draw.
pub fn any_counts(week: &[(NaiveDate, Option<DayLoad>)]) -> bool {
    week.iter()
        .any(|(_, l)| l.is_some_and(|l| l.outpatients.is_some() || l.fever.is_some()))
}

/// The tallest figure of the days (at least 1): the chart's scale.
pub fn busiest(week: &[(NaiveDate, Option<DayLoad>)]) -> u32 {
    week.iter()
        .filter_map(|(_, l)| l.map(|l| l.outpatients.unwrap_or(0).max(l.fever.unwrap_or(0))))
        .max()
        .unwrap_or(0)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        id: u128,
        as_of: &str,
        received: &str,
        out: u32,
        fever: u32,
        superseded: bool,
    ) -> serde_json::Value {
        serde_json::json!({
            "id": format!("00000000-0000-7000-8000-{id:012x}"),
            "report": {
                "facility": "00000000-0000-7000-8000-000000000099",
                "as_of": as_of,
                "status": "open",
                "outpatients_today": out,
                "fever_patients_today": fever
            },
            "recorded_at": as_of,
            "received_at": received,
            "superseded": superseded
        })
    }

    fn d(s: &str) -> NaiveDate {
        s.parse::<NaiveDate>().expect("date")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn one_figure_per_china_day_from_the_newest_report_not_superseded() {
        // The endpoint's answer, in full: what is not read is ignored.
        let history: HistoryLoads = serde_json::from_value(serde_json::json!({
            "facility": "00000000-0000-7000-8000-000000000099",
            "reports": [
                // 29 Nov, 10:00 CST: corrected, so not counted.
                record(5, "2026-11-29T02:00:00Z", "2026-11-29T02:00:05Z", 999, 1, true),
                // 29 Nov, 09:00 CST.
                record(4, "2026-11-29T01:00:00Z", "2026-11-29T01:00:05Z", 120, 45, false),
                // 29 Nov, 07:00 CST (23:00 UTC on the 28th).
                record(3, "2026-11-28T23:00:00Z", "2026-11-28T23:00:05Z", 20, 5, false),
                // 28 Nov, 20:00 CST.
                record(2, "2026-11-28T12:00:00Z", "2026-11-28T12:00:05Z", 80, 30, false),
                // 28 Nov, 08:00 CST.
                record(1, "2026-11-28T00:00:00Z", "2026-11-28T00:00:05Z", 10, 2, false),
            ]
        }))
        .expect("valid history");
        let loads = daily_loads(&history);
        assert_eq!(
            loads,
            vec![
                DayLoad {
                    date: d("2026-11-28"),
                    outpatients: Some(80),
                    fever: Some(30)
                },
                DayLoad {
                    date: d("2026-11-29"),
                    outpatients: Some(120),
                    fever: Some(45)
                },
            ]
        );
        let week = last_days(&loads, d("2026-11-29"));
        assert_eq!(week.len(), CHART_DAYS);
        assert_eq!(week[0].0, d("2026-11-23"));
        assert_eq!(week[0].1, None);
        assert_eq!(week[6].1.and_then(|l| l.outpatients), Some(120));
        assert_eq!(week[5].1.and_then(|l| l.fever), Some(30));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn a_report_received_before_its_time_counts_on_the_day_it_arrived() {
        // Said to be as of 00:30 CST on the 30th, received 23:50 CST on the 29th.
        let history: HistoryLoads = serde_json::from_value(serde_json::json!({
            "reports": [record(1, "2026-11-29T16:30:00Z", "2026-11-29T15:50:00Z", 7, 1, false)]
        }))
        .expect("valid history");
        assert_eq!(daily_loads(&history)[0].date, d("2026-11-29"));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn the_week_spans_month_ends_and_knows_its_busiest_day() {
        let loads = [
            DayLoad {
                date: d("2026-11-30"),
                outpatients: None,
                fever: Some(12),
            },
            DayLoad {
                date: d("2026-12-02"),
                outpatients: Some(9),
                fever: Some(3),
            },
        ];
        let week = last_days(&loads, d("2026-12-03"));
        let dates: Vec<String> = week.iter().map(|(d, _)| d.to_string()).collect();
        assert_eq!(dates.first().map(String::as_str), Some("2026-11-27"));
        assert_eq!(dates.last().map(String::as_str), Some("2026-12-03"));
        assert!(any_counts(&week));
        assert_eq!(busiest(&week), 12);
        let empty = last_days(&[], d("2026-12-03"));
        assert!(!any_counts(&empty));
        assert_eq!(busiest(&empty), 1, "an empty week still has a scale");
    }
}
