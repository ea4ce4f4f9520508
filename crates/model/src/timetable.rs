//! Opening hours compiled for the weeks ahead: what "open now?" needs, without the grammar.
//!
//! The server evaluates each distinct `opening_hours` text once (the OSM grammar, with its date
//! ranges and week rules applied day by day; public holidays as far as the evaluator knows them)
//! and sends the result in the registry feed: per text, the open minutes of the next
//! [`Timetable::DEFAULT_DAYS`] days in the facilities' local time, and the minute until which that
//! holds. The residents' app judges "open now", "closes at 17:00" and the "open now" filter from
//! it, and never links the grammar. After `until` (a phone offline for weeks) the answer is
//! "unknown, see the text": never a guess. docs/ARCHITECTURE.md, "Opening hours".

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /api/v1/timetables`: every distinct opening-hours text of the registry, compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimetableSet {
    /// By the text, exactly as the registry has it (`Facility::opening_hours`).
    pub timetables: BTreeMap<String, Timetable>,
}

/// One timetable's open (and unknown) minutes from `from` to `from + minutes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timetable {
    /// The first minute covered, local time (a midnight).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-12-03T00:00:00"))]
    pub from: NaiveDateTime,
    /// How many minutes after `from` the intervals hold ("valid until").
    pub minutes: u32,
    /// Open intervals `[start, end)`, in minutes after `from`: sorted, disjoint, not touching.
    pub open: Vec<[u32; 2]>,
    /// Intervals the text leaves unknown (an `unknown` rule), in the same form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<[u32; 2]>,
}

/// What a timetable says at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursState {
    /// Open; `until`, when it closes within the timetable (`None`: open past its end).
    Open { until: Option<NaiveDateTime> },
    /// Closed; `until`, when it opens within the timetable.
    Closed { until: Option<NaiveDateTime> },
    /// The text leaves it unknown, or the moment is outside the timetable (before `from`, or
    /// after `until`: the phone has not heard from the server for too long).
    Unknown,
}

impl Timetable {
    /// How many days ahead the server compiles: four weeks, so a phone that syncs once a month
    /// still knows.
    pub const DEFAULT_DAYS: u32 = 28;

    /// The last moment the timetable holds (exclusive).
    pub fn until(&self) -> NaiveDateTime {
        self.from + Duration::minutes(i64::from(self.minutes))
    }

    /// The state at `local` (facility local time).
    pub fn state_at(&self, local: NaiveDateTime) -> HoursState {
        let offset = (local - self.from).num_minutes();
        let Ok(minute) = u32::try_from(offset) else {
            return HoursState::Unknown;
        };
        if minute >= self.minutes {
            return HoursState::Unknown;
        }
        if self.unknown.iter().any(|[s, e]| (*s..*e).contains(&minute)) {
            return HoursState::Unknown;
        }
        let at = |m: u32| (m < self.minutes).then(|| self.from + Duration::minutes(i64::from(m)));
        // The first interval that ends after `minute`.
        let index = self.open.partition_point(|[_, end]| *end <= minute);
        match self.open.get(index) {
            Some([start, end]) if *start <= minute => HoursState::Open { until: at(*end) },
            Some([start, _]) => HoursState::Closed { until: at(*start) },
            None => HoursState::Closed { until: None },
        }
    }

    /// Whether the intervals are well formed: sorted, disjoint, within `minutes`.
    pub fn is_well_formed(&self) -> bool {
        let ok = |list: &[[u32; 2]]| {
            list.iter().all(|[s, e]| s < e && *e <= self.minutes)
                && list.windows(2).all(|w| w[0][1] < w[1][0])
        };
        ok(&self.open) && ok(&self.unknown)
    }
}

#[cfg(feature = "grammar")]
impl Timetable {
    /// Compiles `hours` for `days` days from local midnight `from`.
    pub fn compile(hours: &crate::OpeningHours, from: NaiveDateTime, days: u32) -> Timetable {
        let minutes = days.saturating_mul(24 * 60);
        let to = from + Duration::minutes(i64::from(minutes));
        let mut open: Vec<[u32; 2]> = Vec::new();
        let mut unknown: Vec<[u32; 2]> = Vec::new();
        for (start, end, state) in hours.ranges(from, to) {
            let minute = |t: NaiveDateTime| {
                u32::try_from((t.min(to) - from).num_minutes().max(0)).unwrap_or(minutes)
            };
            let (s, e) = (minute(start), minute(end));
            if s >= e {
                continue;
            }
            let list = match state {
                Some(true) => &mut open,
                Some(false) => continue,
                None => &mut unknown,
            };
            match list.last_mut() {
                Some(last) if last[1] >= s => last[1] = last[1].max(e),
                _ => list.push([s, e]),
            }
        }
        Timetable {
            from,
            minutes,
            open,
            unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test date")
    }

    fn table() -> Timetable {
        // Two days from Wednesday 2026-11-25: 08:00-12:00 and 13:30-17:00 each day.
        Timetable {
            from: at(2026, 11, 25, 0, 0),
            minutes: 2 * 24 * 60,
            open: vec![[480, 720], [810, 1020], [1920, 2160], [2250, 2460]],
            unknown: vec![],
        }
    }

    #[test]
    fn open_closed_and_the_next_change() {
        let t = table();
        assert!(t.is_well_formed());
        assert_eq!(
            t.state_at(at(2026, 11, 25, 9, 0)),
            HoursState::Open {
                until: Some(at(2026, 11, 25, 12, 0))
            }
        );
        assert_eq!(
            t.state_at(at(2026, 11, 25, 12, 0)),
            HoursState::Closed {
                until: Some(at(2026, 11, 25, 13, 30))
            }
        );
        assert_eq!(
            t.state_at(at(2026, 11, 25, 19, 0)),
            HoursState::Closed {
                until: Some(at(2026, 11, 26, 8, 0))
            }
        );
        assert_eq!(
            t.state_at(at(2026, 11, 26, 18, 0)),
            HoursState::Closed { until: None }
        );
    }

    #[test]
    fn outside_the_timetable_is_unknown_never_a_guess() {
        let t = table();
        assert_eq!(t.state_at(at(2026, 11, 24, 9, 0)), HoursState::Unknown);
        assert_eq!(t.state_at(at(2026, 11, 27, 0, 0)), HoursState::Unknown);
        assert_eq!(t.state_at(at(2027, 1, 27, 9, 0)), HoursState::Unknown);
        assert_eq!(t.until(), at(2026, 11, 27, 0, 0));
    }

    #[test]
    fn reads_the_wire_form() {
        let json = r#"{"from":"2026-11-25T00:00:00","minutes":2880,"open":[[480,720]]}"#;
        let t: Timetable = serde_json::from_str(json).expect("timetable");
        assert_eq!(t.open, vec![[480, 720]]);
        assert!(t.unknown.is_empty());
        assert_eq!(serde_json::to_string(&t).expect("json"), json);
    }

    #[cfg(feature = "grammar")]
    #[test]
    fn compiles_what_the_grammar_says() {
        let hours = crate::OpeningHours::parse("Mo-Fr 08:00-12:00,13:30-17:00; PH off").unwrap();
        let from = at(2026, 11, 23, 0, 0); // a Monday
        let t = Timetable::compile(&hours, from, 14);
        assert!(t.is_well_formed(), "{t:?}");
        assert_eq!(t.open.len(), 20, "{t:?}");
        // Every quarter hour of the two weeks: the timetable answers as the grammar does.
        let mut now = from;
        while now < t.until() {
            let expected = hours.is_open_at(now);
            let got = match t.state_at(now) {
                HoursState::Open { .. } => Some(true),
                HoursState::Closed { .. } => Some(false),
                HoursState::Unknown => None,
            };
            assert_eq!(got, expected, "{now}");
            if let HoursState::Open { until: Some(u) } | HoursState::Closed { until: Some(u) } =
                t.state_at(now)
            {
                assert_eq!(Some(u), hours.next_change(now), "{now}");
            }
            now += Duration::minutes(15);
        }
        let always = Timetable::compile(&crate::OpeningHours::parse("24/7").unwrap(), from, 7);
        assert_eq!(always.open, vec![[0, 7 * 24 * 60]]);
        assert_eq!(
            always.state_at(at(2026, 11, 25, 3, 0)),
            HoursState::Open { until: None }
        );
    }
}
