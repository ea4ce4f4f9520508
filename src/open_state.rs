//! "Open now / closed now, and when that changes", as the facility page and the nearest list
//! show it: judged on the facilities' clock (China Standard Time), from the facility's opening
//! hours and its declared operational status.
//!
//! The hours are judged from the server's timetables (`GET /api/v1/timetables`: each distinct
//! text compiled into the open minutes of the next four weeks), never from the OSM grammar,
//! which the residents' app does not link. A text without a timetable, or a moment after its
//! last one (a phone offline for weeks), is "unknown": the facility page shows the text.

use crate::i18n::{td_string, Locale};
use caremap_model::{Facility, HoursState, Operational, Timetable};
use chrono::{Datelike, NaiveDateTime, Weekday};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    /// The timetables the phone holds, by text ([`set_timetables`]).
    static TIMETABLES: RefCell<Rc<HashMap<String, Timetable>>> = RefCell::default();
}

/// Replaces the timetables "open now" is judged from.
pub fn set_timetables(timetables: HashMap<String, Timetable>) {
    TIMETABLES.with(|t| *t.borrow_mut() = Rc::new(timetables));
}

/// From when until when the timetable of `text` holds, if the phone has one.
pub fn timetable_span(text: &str) -> Option<(NaiveDateTime, NaiveDateTime)> {
    TIMETABLES.with(|t| t.borrow().get(text).map(|t| (t.from, t.until())))
}

/// What the timetable of `text` says at `now`; unknown without one.
fn hours_state(text: &str, now: NaiveDateTime) -> HoursState {
    TIMETABLES.with(|t| {
        t.borrow()
            .get(text)
            .map_or(HoursState::Unknown, |table| table.state_at(now))
    })
}

/// A change further ahead than this is not worth announcing ("opens in three weeks" reads as
/// "closed"): a week covers every regular timetable.
const ANNOUNCE_WITHIN_DAYS: i64 = 7;

/// Whether a facility is open at a moment, as far as the registry can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenNow {
    Open,
    Closed,
    Unknown,
}

/// Open or closed at `now` (facility local time): a facility declared closed is closed whatever
/// its hours say; `None` when it publishes no hours.
pub fn open_now(facility: &Facility, now: NaiveDateTime) -> Option<OpenNow> {
    if matches!(facility.operational, Operational::Closed { .. }) {
        return Some(OpenNow::Closed);
    }
    let hours = facility.opening_hours.as_ref()?;
    Some(match hours_state(hours.as_str(), now) {
        HoursState::Open { .. } => OpenNow::Open,
        HoursState::Closed { .. } => OpenNow::Closed,
        HoursState::Unknown => OpenNow::Unknown,
    })
}

/// Judges "known to be open" (what the "open now" filter keeps) for many facilities at one
/// moment, evaluating each distinct opening-hours text once: a registry has thousands of
/// facilities but only a handful of different timetables.
pub struct OpenJudge {
    now: NaiveDateTime,
    seen: HashMap<String, Option<bool>>,
}

impl OpenJudge {
    pub fn new(now: NaiveDateTime) -> Self {
        OpenJudge {
            now,
            seen: HashMap::new(),
        }
    }

    /// Whether `facility` is known to be open: not declared closed, and open by its hours.
    pub fn is_open(&mut self, facility: &Facility) -> bool {
        if matches!(facility.operational, Operational::Closed { .. }) {
            return false;
        }
        let Some(hours) = &facility.opening_hours else {
            return false;
        };
        let open = match self.seen.get(hours.as_str()) {
            Some(open) => *open,
            None => {
                let open = match hours_state(hours.as_str(), self.now) {
                    HoursState::Open { .. } => Some(true),
                    HoursState::Closed { .. } => Some(false),
                    HoursState::Unknown => None,
                };
                self.seen.insert(hours.as_str().to_owned(), open);
                open
            }
        };
        open == Some(true)
    }
}

/// The next opening or closing of a facility after `now`, when it is within a week and the
/// facility is not declared closed: (the moment, whether it opens then).
pub fn next_change(facility: &Facility, now: NaiveDateTime) -> Option<(NaiveDateTime, bool)> {
    let state = open_now(facility, now)?;
    if matches!(facility.operational, Operational::Closed { .. }) || state == OpenNow::Unknown {
        return None;
    }
    let at = match hours_state(facility.opening_hours.as_ref()?.as_str(), now) {
        HoursState::Open { until } | HoursState::Closed { until } => until?,
        HoursState::Unknown => return None,
    };
    if (at - now).num_days() >= ANNOUNCE_WITHIN_DAYS {
        return None;
    }
    Some((at, state == OpenNow::Closed))
}

/// "17:00 关门" / "closes 17:00", "明天 08:00 开门" / "opens tomorrow 08:00",
/// "周一 08:00 开门" / "opens Mon 08:00": when the state changes, said from `now`.
pub fn change_text(locale: Locale, now: NaiveDateTime, at: NaiveDateTime, opens: bool) -> String {
    let time = at.format("%H:%M").to_string();
    let days = (at.date() - now.date()).num_days();
    match (days, opens) {
        (0, true) => td_string!(locale, opens_today, time = time.as_str()).to_string(),
        (0, false) => td_string!(locale, closes_today, time = time.as_str()).to_string(),
        (1, true) => td_string!(locale, opens_tomorrow, time = time.as_str()).to_string(),
        (1, false) => td_string!(locale, closes_tomorrow, time = time.as_str()).to_string(),
        (_, opens) => {
            let day = weekday(locale, at.weekday());
            if opens {
                td_string!(locale, opens_on, day = day, time = time.as_str()).to_string()
            } else {
                td_string!(locale, closes_on, day = day, time = time.as_str()).to_string()
            }
        }
    }
}

fn weekday(locale: Locale, day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => td_string!(locale, weekday_mon),
        Weekday::Tue => td_string!(locale, weekday_tue),
        Weekday::Wed => td_string!(locale, weekday_wed),
        Weekday::Thu => td_string!(locale, weekday_thu),
        Weekday::Fri => td_string!(locale, weekday_fri),
        Weekday::Sat => td_string!(locale, weekday_sat),
        Weekday::Sun => td_string!(locale, weekday_sun),
    }
}

/// The badge text and its class for a state.
pub fn state_text(locale: Locale, state: OpenNow) -> (&'static str, &'static str) {
    match state {
        OpenNow::Open => (td_string!(locale, open_now), "open-now is-open"),
        OpenNow::Closed => (td_string!(locale, closed_now), "open-now is-closed"),
        OpenNow::Unknown => (td_string!(locale, hours_unknown), "open-now"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A facility with `hours`, whose timetable (compiled as the server does, for four weeks
    /// from Monday 2026-11-23) the phone holds.
    fn facility(hours: &str, operational: &str) -> Facility {
        install(hours);
        serde_json::from_str(&format!(
            r#"{{"kind": "village_clinic", "name": {{"zh": "东村卫生室"}},
                "location": {{"lat": 30.0, "lon": 121.0}},
                "opening_hours": "{hours}", "operational": {operational}}}"#
        ))
        .expect("valid facility")
    }

    /// Adds the timetable of `text` to those held.
    pub(crate) fn install(text: &str) {
        let hours = caremap_model::OpeningHours::parse(text).expect("valid hours");
        let from = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid date");
        let mut all: HashMap<String, Timetable> = TIMETABLES.with(|t| t.borrow().as_ref().clone());
        all.insert(
            text.to_owned(),
            Timetable::compile(&hours, from, Timetable::DEFAULT_DAYS),
        );
        set_timetables(all);
    }

    /// 2026-11-25 is a Wednesday.
    fn at(day: u32, hour: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("valid time")
    }

    const OPEN: &str = r#"{"state": "open"}"#;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn open_now_follows_hours_unless_declared_closed() {
        let f = facility("Mo-Fr 08:00-12:00", OPEN);
        assert_eq!(open_now(&f, at(25, 9)), Some(OpenNow::Open));
        assert_eq!(open_now(&f, at(25, 13)), Some(OpenNow::Closed));
        let closed = facility("24/7", r#"{"state": "closed", "reason": "停电"}"#);
        assert_eq!(open_now(&closed, at(25, 9)), Some(OpenNow::Closed));
        let mut judge = OpenJudge::new(at(25, 9));
        assert!(!judge.is_open(&closed));
        assert!(judge.is_open(&f));
        assert!(judge.is_open(&f), "a second facility with the same hours");
        assert!(!OpenJudge::new(at(25, 13)).is_open(&f));
        assert_eq!(next_change(&closed, at(25, 9)), None);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn says_when_it_closes_today_and_opens_tomorrow_or_later() {
        let f = facility("Mo-Fr 08:00-17:00", OPEN);
        let now = at(25, 9);
        let (when, opens) = next_change(&f, now).expect("closes today");
        assert!(!opens);
        assert_eq!(change_text(Locale::zh_CN, now, when, opens), "17:00 关门");
        assert_eq!(change_text(Locale::en, now, when, opens), "closes 17:00");

        let evening = at(25, 18);
        let (when, opens) = next_change(&f, evening).expect("opens tomorrow");
        assert!(opens);
        assert_eq!(
            change_text(Locale::zh_CN, evening, when, opens),
            "明天 08:00 开门"
        );
        assert_eq!(
            change_text(Locale::en, evening, when, opens),
            "opens tomorrow 08:00"
        );

        // Friday evening: Monday morning.
        let friday = at(27, 18);
        let (when, opens) = next_change(&f, friday).expect("opens Monday");
        assert_eq!(
            change_text(Locale::zh_CN, friday, when, opens),
            "周一 08:00 开门"
        );
        assert_eq!(
            change_text(Locale::en, friday, when, opens),
            "opens Mon 08:00"
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn always_open_never_announces_a_change() {
        let f = facility("24/7", OPEN);
        assert_eq!(open_now(&f, at(25, 3)), Some(OpenNow::Open));
        assert_eq!(next_change(&f, at(25, 3)), None);
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn without_a_timetable_or_after_its_end_the_state_is_unknown() {
        let f = facility("Mo-Su 07:00-21:00", OPEN);
        assert_eq!(open_now(&f, at(25, 9)), Some(OpenNow::Open));
        // Four weeks from 2026-11-23: on 2026-12-21 the phone no longer knows.
        let later = chrono::NaiveDate::from_ymd_opt(2026, 12, 21)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("valid time");
        assert_eq!(open_now(&f, later), Some(OpenNow::Unknown));
        assert_eq!(next_change(&f, later), None);
        assert!(!OpenJudge::new(later).is_open(&f));
        // A text the server has not compiled yet.
        let unknown: Facility = serde_json::from_str(
            r#"{"kind": "village_clinic", "name": {"zh": "西村卫生室"},
                "location": {"lat": 30.0, "lon": 121.0},
                "opening_hours": "Tu 09:00-10:00", "operational": {"state": "open"}}"#,
        )
        .expect("valid facility");
        assert_eq!(open_now(&unknown, at(24, 9)), Some(OpenNow::Unknown));
    }
}
