//! The list of facilities beside (or below) the map, one link per facility (nearest first with
//! the distance when there is a point to search from), each with its load status in words and
//! its age ("很拥挤 · 2 小时前", "已过时", "缺：抗原检测试剂"), and the count.

use crate::components::crowding::{crowd_text_class, shortage_text, summary, Badge};
use crate::components::open_state::{change_text, next_change, open_now, state_text};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang, Locale};
use crate::map::swatch_class;
use crate::registry::{Facilities, LoadState, Registry};
use crate::routes;
use crate::search::{Judge, Search, SharedIndex};
use caremap_model::{Facility, FacilityId, FacilityStatus, Freshness, FreshnessThresholds};
use chrono::{DateTime, NaiveDateTime, Utc};
use leptos::prelude::*;

/// "Township · village", or nothing when neither is known.
pub fn area_text(facility: &Facility) -> Option<String> {
    let parts: Vec<&str> = [&facility.area.township, &facility.area.village]
        .into_iter()
        .flatten()
        .map(|name| name.as_str())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The number of facilities loaded (`data-testid="facility-count"` holds only the number).
#[component]
pub fn FacilityCount() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let count = move || registry.facilities.with(|f| f.len());
    view! {
        <p class="facility-count">
            {t!(i18n, facility_count_before)} " "
            <strong data-testid="facility-count">{count}</strong> " "
            {t!(i18n, facility_count_after)}
        </p>
    }
}

/// How many facilities the list shows nearest first: enough to choose from, few enough to read.
pub const NEAREST_SHOWN: usize = 20;

/// How many facilities the full list (no point set) shows. A county's registry fits; a
/// province's 100,000 would make the page unusable on a cheap phone (and slow to redraw after
/// every sync), so beyond this the list asks for a point or a filter.
pub const FULL_LIST_SHOWN: usize = 500;

/// The facilities `search` keeps at `now`: nearest first with their distance when the search
/// has a point, else all of them by kind and name.
#[component]
pub fn FacilityList(
    #[prop(into)] search: Signal<Search>,
    #[prop(into)] index: Signal<SharedIndex>,
    #[prop(into)] now: Signal<NaiveDateTime>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    // How many facilities the full list leaves out (it shows the first FULL_LIST_SHOWN).
    let unlisted = RwSignal::new(0usize);
    // The ages in the full list ("2 小时前") are brought up to date every ten minutes.
    let status_clock = Memo::new(move |_| now.with(|n| n.and_utc().timestamp() / 600));
    let items = move || {
        let lang = lang.get();
        let search = search.get();
        // The clock matters to the nearest list (it says open or closed, and the ages) and to
        // "open now"; the full list is not rebuilt every minute for nothing.
        let now = if search.open_now || search.near.is_some() {
            now.get()
        } else {
            if registry.facilities.with(Facilities::has_statuses) {
                status_clock.track();
            }
            now.get_untracked()
        };
        let mut judge = Judge::new(now, registry.thresholds());
        let (now_utc, thresholds) = (judge.now, judge.thresholds);
        registry.facilities.with(|facilities| match search.near {
            Some(near) => index.with(|index| {
                index
                    .0
                    .nearest(near)
                    .filter_map(|(id, distance)| {
                        let facility = facilities.get(*id)?;
                        let status = facilities.status(*id);
                        search.matches(facility, status, &mut judge).then_some((
                            *id,
                            facility,
                            status,
                            Some(distance),
                        ))
                    })
                    .take(NEAREST_SHOWN)
                    .map(|(id, facility, status, distance)| {
                        list_item(
                            id, facility, status, distance, now, now_utc, thresholds, lang,
                        )
                    })
                    .collect::<Vec<_>>()
            }),
            None => {
                let kept: Vec<_> = facilities
                    .sorted(lang)
                    .into_iter()
                    .filter(|(id, facility)| {
                        search.matches(facility, facilities.status(*id), &mut judge)
                    })
                    .collect();
                unlisted.set(kept.len().saturating_sub(FULL_LIST_SHOWN));
                kept.into_iter()
                    .take(FULL_LIST_SHOWN)
                    .map(|(id, facility)| {
                        let status = facilities.status(id);
                        list_item(id, facility, status, None, now, now_utc, thresholds, lang)
                    })
                    .collect::<Vec<_>>()
            }
        })
    };
    let unlisted_note = move || {
        let n = unlisted.get();
        (n > 0 && search.with(|s| s.near.is_none())).then(|| {
            let text = match lang.get() {
                Lang::Zh => format!("还有 {n} 个机构未列出：请点“附近”或用筛选缩小范围。"),
                Lang::En => {
                    format!(
                        "{n} more not listed: tap “Near me” or use the filters to narrow the list."
                    )
                }
            };
            view! { <p class="notice" data-testid="facility-list-more">{text}</p> }
        })
    };
    let empty = move || registry.facilities.with(|f| f.is_empty());
    let title = move || {
        if search.with(|s| s.near.is_some()) {
            t!(i18n, list_nearest_title).into_any()
        } else {
            t!(i18n, list_title).into_any()
        }
    };
    let mode = move || {
        if search.with(|s| s.near.is_some()) {
            "nearest"
        } else {
            "all"
        }
    };
    view! {
        <section class="facility-list-section" aria-labelledby="list-title">
            <h2 id="list-title" class="section-title">{title}</h2>
            <Show
                when=move || !empty()
                fallback=move || {
                    view! {
                        <Show when=move || registry.state.with(|s| *s == LoadState::Ready)>
                            <p class="notice" data-testid="facility-list-empty">
                                {t!(i18n, list_empty)}
                            </p>
                        </Show>
                    }
                }
            >
                {move || {
                    let items = items();
                    if items.is_empty() {
                        view! {
                            <p class="notice" data-testid="facility-list-none">
                                {t!(i18n, list_none_match)}
                            </p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <ul class="facility-list" data-testid="facility-list" data-mode=mode>
                                {items}
                            </ul>
                            {unlisted_note}
                        }
                            .into_any()
                    }
                }}
            </Show>
        </section>
    }
}

/// "350 米" / "350 m" below a kilometre, "1.2 公里" / "1.2 km" from there.
pub fn distance_text(locale: Locale, metres: f64) -> String {
    if metres < 1000.0 {
        let m = ((metres / 10.0).round() * 10.0).max(10.0);
        td_string!(locale, distance_m, m = format!("{m:.0}")).to_string()
    } else if metres < 100_000.0 {
        td_string!(locale, distance_km, km = format!("{:.1}", metres / 1000.0)).to_string()
    } else {
        td_string!(locale, distance_km, km = format!("{:.0}", metres / 1000.0)).to_string()
    }
}

/// A facility's status as one line of the list: crowding (or the reported state) and its age,
/// "已过时" when stale, and what is short. `data-crowding` and `data-freshness` carry the wire
/// names for tests.
pub fn status_line(
    status: &FacilityStatus,
    now: DateTime<Utc>,
    thresholds: FreshnessThresholds,
    lang: Lang,
) -> impl IntoView + use<> {
    let freshness = status.freshness(now, thresholds);
    let stale = freshness == Freshness::Stale;
    let badge = Badge {
        crowding: status.crowding,
        stale,
    };
    let text = summary(status.crowding, status.status, status.as_of, now, lang);
    let shortages = shortage_text(status, lang);
    view! {
        <span
            class=if stale { "facility-status is-stale" } else { "facility-status" }
            data-testid="facility-status"
            data-crowding=status.crowding.map(|c| c.as_str())
            data-freshness=freshness.as_str()
        >
            {status
                .crowding
                .map(|_| {
                    view! {
                        <span class=format!("crowd-swatch{}", badge.classes()) aria-hidden="true"></span>
                    }
                })}
            <span class=crowd_text_class(status.crowding, stale) data-testid="crowding">
                {text}
            </span>
            {stale
                .then(|| {
                    view! {
                        <span class="stale-mark" data-testid="stale-mark">
                            {Freshness::Stale.label(lang)}
                        </span>
                    }
                })}
            {shortages
                .map(|text| {
                    view! {
                        <span class="shortages" data-testid="shortages">
                            {text}
                        </span>
                    }
                })}
        </span>
    }
}

#[allow(clippy::too_many_arguments)]
fn list_item(
    id: FacilityId,
    facility: &Facility,
    status: Option<&FacilityStatus>,
    distance: Option<f64>,
    now: NaiveDateTime,
    now_utc: DateTime<Utc>,
    thresholds: FreshnessThresholds,
    lang: Lang,
) -> impl IntoView + use<> {
    let locale = locale_of(lang);
    let status = status.map(|status| status_line(status, now_utc, thresholds, lang));
    let name = facility.name.display(lang).to_owned();
    let kind = facility.kind.label(lang);
    let area = area_text(facility);
    // Only the short nearest-first list says open or closed: judging every facility of a long
    // registry on each render would cost more than the list is worth.
    let open = distance.and(open_now(facility, now)).map(|state| {
        let (text, class) = state_text(locale, state);
        let change = next_change(facility, now)
            .map(|(at, opens)| format!(" · {}", change_text(locale, now, at, opens)));
        view! {
            <span class="facility-open" data-testid="facility-open">
                <span class=class>{text}</span>
                {change}
            </span>
        }
    });
    view! {
        <li>
            <a class="facility-link" href=routes::facility_href(id)>
                <span class=swatch_class(facility.kind) aria-hidden="true"></span>
                <span class="facility-text">
                    <span class="facility-name">{name}</span>
                    <span class="facility-meta">
                        {distance
                            .map(|d| {
                                view! {
                                    <span class="facility-distance" data-testid="distance">
                                        {distance_text(locale, d)}
                                    </span>
                                    " · "
                                }
                            })}
                        {kind}
                        {area.map(|area| format!(" · {area}"))}
                    </span>
                    {status}
                    {open}
                </span>
            </a>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn distances_read_plainly_in_both_languages() {
        assert_eq!(distance_text(Locale::zh_CN, 1234.0), "1.2 公里");
        assert_eq!(distance_text(Locale::en, 1234.0), "1.2 km");
        assert_eq!(distance_text(Locale::zh_CN, 347.0), "350 米");
        assert_eq!(distance_text(Locale::en, 3.0), "10 m");
        assert_eq!(distance_text(Locale::en, 123_456.0), "123 km");
    }
}
