//! A facility's load status as residents see it everywhere (marker, popup, list, facility
//! page): how crowded it is in words, how old that is, whether it is out of date, and what is
//! short. The colours (classes `crowd-*`, `is-stale`, in `style/main.css`) always come with
//! these words, never alone.

use crate::i18n::{locale_of, td_string};
use caremap_model::status::age_text;
use caremap_model::{
    Crowding, FacilityStatus, Freshness, FreshnessThresholds, Lang, ReportedStatus, StockLevel,
};
use chrono::{DateTime, Utc};

/// What a marker or a list entry shows of a status at a moment: its crowding level (none when
/// the report gave no wait) and whether it is stale. Cheap to copy: one per marker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Badge {
    pub crowding: Option<Crowding>,
    pub stale: bool,
}

impl Badge {
    /// The badge of `status` at `now`; the empty badge without a status.
    pub fn of(
        status: Option<&FacilityStatus>,
        now: DateTime<Utc>,
        thresholds: FreshnessThresholds,
    ) -> Self {
        match status {
            Some(status) => Badge {
                crowding: status.crowding,
                stale: status.freshness(now, thresholds) == Freshness::Stale,
            },
            None => Badge::default(),
        }
    }

    /// The classes it adds to a marker or a swatch: `crowd-<level>` and `is-stale` (with a
    /// leading space, or empty). Static strings: no allocation per marker.
    pub fn classes(self) -> &'static str {
        match (self.crowding, self.stale) {
            (None, false) => "",
            (None, true) => " is-stale",
            (Some(Crowding::Low), false) => " crowd-low",
            (Some(Crowding::Low), true) => " crowd-low is-stale",
            (Some(Crowding::Medium), false) => " crowd-medium",
            (Some(Crowding::Medium), true) => " crowd-medium is-stale",
            (Some(Crowding::High), false) => " crowd-high",
            (Some(Crowding::High), true) => " crowd-high is-stale",
            (Some(Crowding::Closed), false) => " crowd-closed",
            (Some(Crowding::Closed), true) => " crowd-closed is-stale",
        }
    }
}

/// The headline of a status: its crowding ("很拥挤"), or, without a reported wait, the reported
/// state ("正常开诊").
pub fn status_words(
    crowding: Option<Crowding>,
    reported: ReportedStatus,
    lang: Lang,
) -> &'static str {
    match crowding {
        Some(crowding) => crowding.label(lang),
        None => reported.label(lang),
    }
}

/// "很拥挤 · 2 小时前" / "Very crowded · 2 h ago".
pub fn summary(
    crowding: Option<Crowding>,
    reported: ReportedStatus,
    as_of: DateTime<Utc>,
    now: DateTime<Utc>,
    lang: Lang,
) -> String {
    format!(
        "{} · {}",
        status_words(crowding, reported, lang),
        age_text(as_of, now, lang)
    )
}

/// "缺：抗原检测试剂；紧张：退烧药" / "Out: Antigen test kits; low: Antipyretics", or `None`
/// when nothing reported is short.
pub fn shortage_text(status: &FacilityStatus, lang: Lang) -> Option<String> {
    let short = status.shortages();
    if short.is_empty() {
        return None;
    }
    let names = |level: StockLevel| -> Vec<&'static str> {
        short
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(item, _)| item.label(lang))
            .collect()
    };
    let (out, low) = (names(StockLevel::Out), names(StockLevel::Low));
    let locale = locale_of(lang);
    let separator = td_string!(locale, list_separator);
    let mut parts = Vec::new();
    if !out.is_empty() {
        parts.push(format!(
            "{}{}",
            td_string!(locale, shortage_out),
            out.join(separator)
        ));
    }
    if !low.is_empty() {
        let label = if out.is_empty() {
            td_string!(locale, shortage_low_first)
        } else {
            td_string!(locale, shortage_low)
        };
        parts.push(format!("{label}{}", low.join(separator)));
    }
    Some(parts.join(td_string!(locale, clause_separator)))
}

/// The class of the text of a crowding level (coloured, and always with its words).
pub fn crowd_text_class(crowding: Option<Crowding>, stale: bool) -> &'static str {
    if stale {
        return "crowd-text is-stale";
    }
    match crowding {
        Some(Crowding::Low) => "crowd-text crowd-low",
        Some(Crowding::Medium) => "crowd-text crowd-medium",
        Some(Crowding::High) => "crowd-text crowd-high",
        Some(Crowding::Closed) => "crowd-text crowd-closed",
        None => "crowd-text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caremap_model::StockItem;

    fn status(json: &str) -> FacilityStatus {
        serde_json::from_str(json).expect("valid status")
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid time")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn badges_carry_level_and_staleness() {
        let s = status(
            r#"{"report": "00000000-0000-7000-8000-000000000001", "as_of": "2026-11-29T08:00:00Z",
                "status": "open", "crowding": "high", "wait_minutes": 60}"#,
        );
        let th = FreshnessThresholds::default();
        let fresh = Badge::of(Some(&s), t("2026-11-29T09:00:00Z"), th);
        assert_eq!(fresh.classes(), " crowd-high");
        let stale = Badge::of(Some(&s), t("2026-12-01T09:00:00Z"), th);
        assert_eq!(stale.classes(), " crowd-high is-stale");
        assert_eq!(Badge::of(None, t("2026-12-01T09:00:00Z"), th).classes(), "");
        assert_eq!(
            summary(
                s.crowding,
                s.status,
                s.as_of,
                t("2026-11-29T10:00:00Z"),
                Lang::Zh
            ),
            "很拥挤 · 2 小时前"
        );
        assert_eq!(
            summary(None, ReportedStatus::Reduced, s.as_of, s.as_of, Lang::En),
            "Reduced service · just now"
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn shortages_in_words() {
        let mut s = status(
            r#"{"report": "00000000-0000-7000-8000-000000000001", "as_of": "2026-11-29T08:00:00Z",
                "status": "open", "stock": {"antigen_kits": "out", "antipyretics": "low", "oxygen": "ample"}}"#,
        );
        assert_eq!(
            shortage_text(&s, Lang::Zh).as_deref(),
            Some("缺：抗原检测试剂；紧张：退烧药")
        );
        assert_eq!(
            shortage_text(&s, Lang::En).as_deref(),
            Some("Out: Antigen test kits; low: Antipyretics")
        );
        s.stock.remove(&StockItem::AntigenKits);
        assert_eq!(shortage_text(&s, Lang::Zh).as_deref(), Some("紧张：退烧药"));
        s.stock.remove(&StockItem::Antipyretics);
        assert_eq!(shortage_text(&s, Lang::Zh), None);
    }
}
