//! The facilities' clock: China Standard Time (UTC+8 all year, no daylight saving), whatever the
//! phone's time zone. "Open now", "today's load" and the days of a chart are all judged by it;
//! the one formatter of times and dates ([`time_text`], [`date_text`]) serves this clock and the
//! phone's own.

use crate::i18n::{locale_of, td_string, Lang};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};

/// The facilities' offset from UTC, in seconds.
const FACILITY_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

fn facility_offset() -> FixedOffset {
    FixedOffset::east_opt(FACILITY_UTC_OFFSET_SECONDS).unwrap_or_else(|| Utc.fix())
}

/// The current local time at the facilities.
pub fn now_at_facilities() -> NaiveDateTime {
    at_facilities(Utc::now())
}

/// A moment as the facilities' clocks show it.
pub fn at_facilities(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&facility_offset()).naive_local()
}

/// The moment a facility-local time (China Standard Time) stands for.
pub fn facility_time_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    facility_offset()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
}

/// The facilities' calendar day (China Standard Time) of a moment.
pub fn facility_date(at: DateTime<Utc>) -> NaiveDate {
    at_facilities(at).date()
}

/// A wall-clock time in words: "11月29日 08:05" / "29 Nov 08:05".
pub fn time_text(local: NaiveDateTime, lang: Lang) -> String {
    local
        .format(td_string!(locale_of(lang), time_format))
        .to_string()
}

/// A day in words: "11月29日" / "29 Nov".
pub fn date_text(date: NaiveDate, lang: Lang) -> String {
    date.format(td_string!(locale_of(lang), date_format))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn facility_clock_is_china_standard_time() {
        let offset = now_at_facilities() - Utc::now().naive_utc();
        assert!((offset.num_minutes() - 8 * 60).abs() <= 1);
        let utc: DateTime<Utc> = "2026-11-25T17:30:00Z".parse().expect("valid time");
        let local = NaiveDate::from_ymd_opt(2026, 11, 26)
            .and_then(|d| d.and_hms_opt(1, 30, 0))
            .expect("valid time");
        assert_eq!(facility_time_to_utc(local), utc);
        assert_eq!(at_facilities(utc), local);
        assert_eq!(facility_date(utc).to_string(), "2026-11-26");
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn times_and_dates_in_words() {
        let at: DateTime<Utc> = "2026-11-28T23:05:00Z".parse().expect("time");
        assert_eq!(time_text(at_facilities(at), Lang::Zh), "11月29日 07:05");
        assert_eq!(time_text(at_facilities(at), Lang::En), "29 Nov 07:05");
        let day = facility_date(at);
        assert_eq!(date_text(day, Lang::Zh), "11月29日");
        assert_eq!(date_text(day, Lang::En), "29 Nov");
    }
}
