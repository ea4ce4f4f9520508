//! The map legend: every facility kind with the shape and colour of its marker, and the badge
//! in a marker's corner that tells its crowding (as its doctor last reported it), greyed and
//! dashed when that report is out of date.

use crate::crowding::Badge;
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use crate::map::swatch_class;
use crate::registry::Registry;
use caremap_model::{Crowding, FacilityKind, Lang};
use leptos::prelude::*;

#[component]
pub fn Legend() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let stale_text = move || {
        let hours = (registry.thresholds().stale_after_minutes / 60).max(1);
        td_string!(
            locale_of(lang.get()),
            legend_stale,
            hours = hours.to_string()
        )
        .to_string()
    };
    let stale_badge = Badge {
        crowding: Some(Crowding::High),
        stale: true,
    };
    view! {
        <section class="legend" data-testid="legend" aria-labelledby="legend-title">
            <h2 id="legend-title" class="section-title">{t!(i18n, legend_title)}</h2>
            <ul class="legend-items">
                {FacilityKind::ALL
                    .iter()
                    .map(|kind| {
                        let kind = *kind;
                        view! {
                            <li class="legend-item">
                                <span class=swatch_class(kind) aria-hidden="true"></span>
                                <span>{move || kind.label(lang.get())}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <h3 class="legend-subtitle">{t!(i18n, legend_crowding_title)}</h3>
            <ul class="legend-items" data-testid="legend-crowding">
                {Crowding::ALL
                    .iter()
                    .map(|crowding| {
                        let crowding = *crowding;
                        let badge = Badge {
                            crowding: Some(crowding),
                            stale: false,
                        };
                        view! {
                            <li class="legend-item" data-crowding=crowding.as_str()>
                                <span class=format!("crowd-swatch{}", badge.classes()) aria-hidden="true"></span>
                                <span>
                                    {move || crowding.label(lang.get())}
                                    {move || wait_range(crowding, lang.get())}
                                </span>
                            </li>
                        }
                    })
                    .collect_view()}
                <li class="legend-item" data-crowding="stale">
                    <span class=format!("crowd-swatch{}", stale_badge.classes()) aria-hidden="true"></span>
                    <span>{stale_text}</span>
                </li>
                <li class="legend-item">
                    <span>{t!(i18n, legend_no_status)}</span>
                </li>
            </ul>
        </section>
    }
}

/// The wait a level stands for: "（候诊 ≤ 25 分钟）" / " (wait ≤ 25 min)".
fn wait_range(crowding: Crowding, lang: Lang) -> String {
    let (low, high) = (Crowding::LOW_MAX_WAIT, Crowding::HIGH_MIN_WAIT);
    let range = match crowding {
        Crowding::Low => format!("≤ {low}"),
        Crowding::Medium => format!("{}–{}", low + 1, high - 1),
        Crowding::High => format!("≥ {high}"),
        Crowding::Closed => return String::new(),
    };
    td_string!(locale_of(lang), legend_wait_range, range = range).to_string()
}
