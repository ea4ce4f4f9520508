//! Opening hours (OpenStreetMap `opening_hours` syntax) as a plain weekly timetable, for the
//! formats that only know one (FHIR's `hoursOfOperation` and `availableTime`).
//!
//! The subset that has a weekly timetable: `24/7`; rules of weekdays (`Mo-Fr`, `Mo,We,Sa`, or
//! none for every day) and times (`08:00-12:00,13:30-17:00`, `off`, `closed`), separated by `;`,
//! a later rule replacing an earlier one for its days, as in OSM. A time may end at `24:00`.
//! Holiday rules (`PH off`, `SH …`) have no weekly form: they are left out and reported in
//! [`Weekly::holiday_rules`]. Anything else (months, weeks, dates, sunrise, open ends `+`,
//! times past midnight, `||` fallbacks, comments) makes the whole text unrepresentable:
//! [`weekly`] returns `None`, and the exports carry the OSM text instead.

use chrono::NaiveTime;

/// The days of the week, Monday first, with their OSM and FHIR names.
pub const DAYS: [(&str, &str); 7] = [
    ("Mo", "mon"),
    ("Tu", "tue"),
    ("We", "wed"),
    ("Th", "thu"),
    ("Fr", "fri"),
    ("Sa", "sat"),
    ("Su", "sun"),
];

/// One day's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Day {
    Closed,
    AllDay,
    /// Opening and closing times, in order, not overlapping; a closing time of `None` is
    /// midnight at the end of the day (`24:00`).
    Open(Vec<(NaiveTime, Option<NaiveTime>)>),
}

/// A week of hours, Monday first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weekly {
    pub days: [Day; 7],
    /// Holiday rules left out (e.g. `PH off`), as written.
    pub holiday_rules: Vec<String>,
}

impl Weekly {
    /// The days grouped by equal hours, in the order of their first day: what FHIR's
    /// `daysOfWeek` lists take. Closed days are left out.
    pub fn groups(&self) -> Vec<(Vec<&'static str>, &Day)> {
        let mut groups: Vec<(Vec<&'static str>, &Day)> = Vec::new();
        for (day, (_, fhir)) in self.days.iter().zip(DAYS) {
            if *day == Day::Closed {
                continue;
            }
            match groups.iter_mut().find(|(_, d)| *d == day) {
                Some((names, _)) => names.push(fhir),
                None => groups.push((vec![fhir], day)),
            }
        }
        groups
    }
}

/// The weekly timetable of `text`, or `None` where it has none (see the module docs).
pub fn weekly(text: &str) -> Option<Weekly> {
    let text = text.trim();
    if text == "24/7" {
        return Some(Weekly {
            days: std::array::from_fn(|_| Day::AllDay),
            holiday_rules: Vec::new(),
        });
    }
    if text.contains("||") || text.contains('"') {
        return None;
    }
    let mut days: [Day; 7] = std::array::from_fn(|_| Day::Closed);
    let mut holiday_rules = Vec::new();
    for rule in text.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        if rule.starts_with("PH") || rule.starts_with("SH") {
            holiday_rules.push(rule.to_owned());
            continue;
        }
        let (selector, times) = match rule.split_once(' ') {
            Some((first, rest)) if first.chars().next().is_some_and(char::is_alphabetic) => {
                (Some(first), rest.trim())
            }
            _ => (None, rule),
        };
        let which = match selector {
            Some(selector) => weekdays(selector)?,
            None => [true; 7],
        };
        let hours = day_hours(times)?;
        for (slot, on) in days.iter_mut().zip(which) {
            if on {
                *slot = hours.clone();
            }
        }
    }
    Some(Weekly {
        days,
        holiday_rules,
    })
}

/// `Mo-Fr,Su` as a mask of days.
fn weekdays(selector: &str) -> Option<[bool; 7]> {
    let index = |name: &str| DAYS.iter().position(|(osm, _)| *osm == name);
    let mut mask = [false; 7];
    for part in selector.split(',') {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (index(from)?, index(to)?);
                // Sa-Mo wraps over the week's end.
                let mut day = from;
                loop {
                    mask[day] = true;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => mask[index(part)?] = true,
        }
    }
    Some(mask)
}

/// `08:00-12:00,13:30-17:00`, `off` or `closed`.
fn day_hours(times: &str) -> Option<Day> {
    if times == "off" || times == "closed" {
        return Some(Day::Closed);
    }
    let mut ranges = Vec::new();
    for range in times.split(',').map(str::trim) {
        let (open, close) = range.split_once('-')?;
        let open = NaiveTime::parse_from_str(open.trim(), "%H:%M").ok()?;
        let close = match close.trim() {
            "24:00" => None,
            close => {
                let close = NaiveTime::parse_from_str(close, "%H:%M").ok()?;
                // A range past midnight belongs to two days: no weekly form here.
                (close > open).then_some(close)?;
                Some(close)
            }
        };
        if let Some((_, Some(previous))) = ranges.last() {
            if open < *previous {
                return None;
            }
        }
        if let Some((_, None)) = ranges.last() {
            return None;
        }
        ranges.push((open, close));
    }
    if ranges == [(NaiveTime::MIN, None)] {
        return Some(Day::AllDay);
    }
    Some(Day::Open(ranges))
}

#[cfg(test)]
mod tests {
    use super::*;
    use caremap_model::OpeningHours;
    use chrono::{Duration, NaiveDate, Timelike};

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default()
    }

    #[test]
    fn common_forms() {
        let w = weekly("Mo-Fr 08:00-12:00,13:30-17:00; Sa 08:00-11:30; PH off").expect("weekly");
        assert_eq!(
            w.days[0],
            Day::Open(vec![(t(8, 0), Some(t(12, 0))), (t(13, 30), Some(t(17, 0)))])
        );
        assert_eq!(w.days[5], Day::Open(vec![(t(8, 0), Some(t(11, 30)))]));
        assert_eq!(w.days[6], Day::Closed);
        assert_eq!(w.holiday_rules, ["PH off"]);
        let groups = w.groups();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(weekly("24/7").map(|w| w.groups().len()), Some(1));
        assert_eq!(
            weekly("Mo-Su 00:00-24:00").map(|w| w.days[3].clone()),
            Some(Day::AllDay)
        );
        assert_eq!(
            weekly("Mo-Su 08:00-20:00; We off").map(|w| w.days[2].clone()),
            Some(Day::Closed)
        );
        for none in [
            "Jan-Mar Mo 08:00-12:00",
            "Mo 20:00-02:00",
            "Mo 08:00+",
            "sunrise-sunset",
            "Mo 08:00-12:00 || Tu off",
        ] {
            assert_eq!(weekly(none), None, "{none}");
        }
    }

    /// Whether the timetable says open exactly when the OSM evaluator does, every quarter hour
    /// of a week without holidays (2026-11-23 is a Monday).
    fn agrees(text: &str, week: &Weekly) {
        let hours = OpeningHours::parse(text).expect("valid hours");
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        for quarter in 0..(7 * 24 * 4) {
            let at = monday + Duration::minutes(15 * quarter);
            let day = &week.days[(quarter / (24 * 4)) as usize];
            let time = at.time();
            let ours = match day {
                Day::Closed => false,
                Day::AllDay => true,
                Day::Open(ranges) => ranges
                    .iter()
                    .any(|(open, close)| time >= *open && close.is_none_or(|c| time < c)),
            };
            assert_eq!(
                Some(ours),
                hours.is_open_at(at),
                "{text} at {at} ({}:{:02})",
                time.hour(),
                time.minute()
            );
        }
    }

    #[test]
    fn agrees_with_the_opening_hours_evaluator() {
        for text in [
            "24/7",
            "Mo-Fr 08:00-12:00,13:30-17:00; Sa 08:00-11:30; PH off",
            "Mo-Sa 07:30-11:30,13:30-17:00",
            "Mo-Su 08:00-20:00; We off",
            "Sa-Mo 09:00-24:00",
            "08:00-18:00",
            "Mo,We,Fr 08:00-12:00; Fr 14:00-16:00",
        ] {
            agrees(text, &weekly(text).expect("weekly"));
        }
    }

    /// Every timetable of the demo registries that has a weekly form is converted right.
    #[test]
    fn the_demo_registries_hours_convert_right() {
        let demo = crate::demo::registry().expect("demo registry");
        let synthetic: Vec<_> = crate::demo::synthetic::registry(5_000)
            .expect("synthetic registry")
            .collect::<Result<_, _>>()
            .expect("valid synthetic facilities");
        let texts: std::collections::BTreeSet<String> = demo
            .iter()
            .chain(synthetic.iter())
            .filter_map(|(_, f)| f.opening_hours.as_ref().map(|h| h.as_str().to_owned()))
            .collect();
        assert!(texts.len() >= 5, "{texts:?}");
        let mut converted = 0;
        for text in &texts {
            if let Some(week) = weekly(text) {
                agrees(text, &week);
                converted += 1;
            }
        }
        assert!(
            converted * 2 > texts.len(),
            "most convert: {converted} of {texts:?}"
        );
    }
}
