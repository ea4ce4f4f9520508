//! Opening hours in OpenStreetMap `opening_hours` syntax, parsed by the `opening-hours` crate.
//!
//! The grammar is the feature `grammar` (on by default: the server, the importer). The
//! residents' app builds this crate without it: it keeps the text as the server sent it (the
//! server validated it) and judges "open now" from the compiled [`crate::Timetable`].

use crate::error::ValidationError;
#[cfg(feature = "grammar")]
use chrono::{Datelike, NaiveDateTime};
#[cfg(feature = "grammar")]
use std::cell::RefCell;
#[cfg(feature = "grammar")]
use std::collections::HashMap;
#[cfg(feature = "grammar")]
use std::rc::Rc;

/// Opening hours, e.g. `Mo-Fr 08:00-12:00,13:30-17:00; PH off` or `24/7`. Kept as the text the
/// source gave (trimmed), known to parse (with the feature `grammar`; without it, only its
/// length is checked).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "Mo-Fr 08:00-17:00; Sa 08:00-12:00"))]
pub struct OpeningHours(String);

/// Longest accepted expression: real-world values are far shorter.
const MAX_CHARS: usize = 255;

impl OpeningHours {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::Required {
                field: crate::Field::OpeningHours,
            });
        }
        if trimmed.chars().count() > MAX_CHARS {
            return Err(ValidationError::TooLong {
                field: crate::Field::OpeningHours,
                max: MAX_CHARS,
            });
        }
        #[cfg(feature = "grammar")]
        parsed(trimmed).map_err(|err| {
            ValidationError::OpeningHours {
                value: trimmed.to_owned(),
                // The parser's own report is long and multi-line; its first line says enough.
                detail: err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            }
        })?;
        Ok(OpeningHours(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "grammar")]
impl OpeningHours {
    /// The stretches from `from` to `to`: (start, end, open), `None` where the text leaves it
    /// unknown. What [`crate::Timetable::compile`] is made of.
    pub fn ranges(
        &self,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<(NaiveDateTime, NaiveDateTime, Option<bool>)> {
        let Some(oh) = self.evaluator() else {
            return Vec::new();
        };
        oh.iter_range(from, to)
            .map(|r| {
                let open = match r.kind {
                    opening_hours::RuleKind::Open => Some(true),
                    opening_hours::RuleKind::Closed => Some(false),
                    opening_hours::RuleKind::Unknown => None,
                };
                (r.range.start, r.range.end, open)
            })
            .collect()
    }

    /// The evaluator for these hours: the one parsed before for the same text, else parsed now.
    /// The map and the list ask "open now?" of every facility on every tick of the clock; the
    /// grammar was most of that work.
    fn evaluator(&self) -> Option<Rc<opening_hours::OpeningHours>> {
        parsed(&self.0).ok()
    }

    /// Whether the facility is open at a local time. `None` where the hours leave it unknown.
    pub fn is_open_at(&self, local: NaiveDateTime) -> Option<bool> {
        self.answer_at(local).open
    }

    /// When the open/closed state next changes after `local`, if it ever does.
    pub fn next_change(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        self.answer_at(local).next_change
    }

    /// What these hours say at `local`: worked out once per text and moment. The map and the
    /// list ask it of hundreds of facilities that share a few timetables, at the same moment;
    /// the evaluation walks the day's schedule each time.
    fn answer_at(&self, local: NaiveDateTime) -> Answer {
        if let Some(answer) = ANSWERS.with(|answers| {
            let answers = answers.borrow();
            (answers.0 == Some(local))
                .then(|| answers.1.get(&self.0).copied())
                .flatten()
        }) {
            return answer;
        }
        // The evaluator's calendar is 1900 to 9999, and it panics near chrono's last moment
        // (a clock gone wild, found by fuzzing): outside it, the hours say nothing.
        let evaluator = self
            .evaluator()
            .filter(|_| (1900..10_000).contains(&local.date().year()));
        let answer = match evaluator {
            Some(oh) => Answer {
                open: (!oh.is_unknown(local)).then(|| oh.is_open(local)),
                next_change: next_change_within_a_year(&oh, local),
            },
            None => Answer::default(),
        };
        ANSWERS.with(|answers| {
            let mut answers = answers.borrow_mut();
            if answers.0 != Some(local) {
                *answers = (Some(local), HashMap::new());
            }
            if answers.1.len() < REMEMBERED_CAP {
                answers.1.insert(self.0.clone(), answer);
            }
        });
        answer
    }
}

/// When the state next changes, if it does within a year. The crate's own `next_change` looks
/// as far as year 9999, day by day: for hours that never change (fuzzing found
/// `1:00-01:00; easter SH off`) that took a minute, on a phone for every such facility.
#[cfg(feature = "grammar")]
fn next_change_within_a_year(
    oh: &opening_hours::OpeningHours,
    local: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let horizon = local.checked_add_signed(chrono::Duration::days(366))?;
    let interval = oh.iter_range(local, horizon).next()?;
    (interval.range.end < horizon).then_some(interval.range.end)
}

/// What a timetable says at one moment.
#[cfg(feature = "grammar")]
#[derive(Debug, Clone, Copy, Default)]
struct Answer {
    open: Option<bool>,
    next_change: Option<NaiveDateTime>,
}

/// How many distinct hours texts are remembered with their evaluator (and their answers).
pub const REMEMBERED_CAP: usize = 256;

#[cfg(feature = "grammar")]
thread_local! {
    /// Hours texts that parsed before, with what they parsed to. A registry of 100,000
    /// facilities has a few dozen distinct timetables: reading it back from the phone's store
    /// validates every record, and "open now?" is asked of every facility again and again, so
    /// the grammar runs once per text instead of once per facility and question. Bounded, so a
    /// registry with many distinct texts only loses the shortcut.
    static REMEMBERED: RefCell<HashMap<String, Rc<opening_hours::OpeningHours>>> =
        RefCell::new(HashMap::new());
}

#[cfg(feature = "grammar")]
thread_local! {
    /// The answers of [`OpeningHours::answer_at`] for the moment last asked about, by text.
    static ANSWERS: RefCell<(Option<NaiveDateTime>, HashMap<String, Answer>)> =
        RefCell::new((None, HashMap::new()));
}

/// Why a text is not opening hours (the parser's own error type).
#[cfg(feature = "grammar")]
type ParseError = <opening_hours::OpeningHours as std::str::FromStr>::Err;

/// The evaluator of `text`: the one remembered, else parsed now (and remembered, while there is
/// room).
#[cfg(feature = "grammar")]
fn parsed(text: &str) -> Result<Rc<opening_hours::OpeningHours>, ParseError> {
    if let Some(evaluator) = REMEMBERED.with(|known| known.borrow().get(text).cloned()) {
        return Ok(evaluator);
    }
    let evaluator = Rc::new(text.parse::<opening_hours::OpeningHours>()?);
    REMEMBERED.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() < REMEMBERED_CAP {
            known.insert(text.to_owned(), Rc::clone(&evaluator));
        }
    });
    Ok(evaluator)
}

impl TryFrom<String> for OpeningHours {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        OpeningHours::parse(&raw)
    }
}

impl From<OpeningHours> for String {
    fn from(value: OpeningHours) -> String {
        value.0
    }
}

impl std::fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(all(test, feature = "grammar"))]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid test date")
    }

    #[test]
    fn parses_common_forms() {
        for ok in [
            "24/7",
            "Mo-Fr 08:00-12:00,13:30-17:00; PH off",
            "Mo-Su 08:00-20:00",
            "Mo-Sa 07:30-11:30",
        ] {
            assert!(OpeningHours::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_garbage_with_a_message_in_both_languages() {
        let err = OpeningHours::parse("every day 8 to 5").unwrap_err();
        assert_eq!(err.code(), "invalid_opening_hours");
        assert!(err.message(crate::Lang::Zh).contains("开放时间"));
        assert!(err.message(crate::Lang::En).contains("opening hours"));
    }

    #[test]
    fn remembered_texts_still_judge_every_input() {
        // More distinct valid texts than are remembered, each parsed twice, then garbage.
        for minute in 0..(REMEMBERED_CAP + 20) {
            let text = format!("Mo-Fr 08:{:02}-17:00", minute % 60);
            let text = format!("{text}; Sa {:02}:00-12:00", minute / 60);
            let first = OpeningHours::parse(&text).unwrap();
            assert_eq!(OpeningHours::parse(&format!(" {text} ")).unwrap(), first);
            // Remembered or not, the evaluator answers for its own text: open on a Monday at
            // noon, closed on a Sunday.
            assert_eq!(
                first.is_open_at(at(2026, 11, 30, 12, 0)),
                Some(true),
                "{text}"
            );
            assert_eq!(
                first.is_open_at(at(2026, 11, 29, 12, 0)),
                Some(false),
                "{text}"
            );
        }
        assert!(OpeningHours::parse("Mo-Fr 08:00-17:00 and more").is_err());
        assert!(OpeningHours::parse("24/7").is_ok());
    }

    #[test]
    fn lunch_break_is_closed() {
        // 2026-11-25 is a Wednesday.
        let oh = OpeningHours::parse("Mo-Fr 08:00-12:00,13:30-17:00").unwrap();
        assert_eq!(oh.is_open_at(at(2026, 11, 25, 9, 0)), Some(true));
        assert_eq!(oh.is_open_at(at(2026, 11, 25, 12, 30)), Some(false));
        assert_eq!(
            oh.next_change(at(2026, 11, 25, 12, 30)),
            Some(at(2026, 11, 25, 13, 30))
        );
        assert_eq!(oh.is_open_at(at(2026, 11, 28, 9, 0)), Some(false));
    }

    #[test]
    fn always_open() {
        let oh = OpeningHours::parse("24/7").unwrap();
        assert_eq!(oh.is_open_at(at(2026, 1, 1, 3, 0)), Some(true));
    }
}
