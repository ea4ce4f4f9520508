//! The list of facilities beside (or below) the map, one link per facility (nearest first with
//! the distance when there is a point to search from), each with its load status in words and
//! its age ("很拥挤 · 2 小时前", "已过时", "缺：抗原检测试剂"), and the count. A long list is
//! drawn in steps, the first entries with the page.

use crate::browser::after_next_paint;
use crate::crowding::{crowd_text_class, shortage_text, summary, Badge};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang, Locale};
use crate::map::swatch_class;
use crate::open_state::{change_text, next_change, open_now, state_text};
use crate::registry::{Facilities, LoadState, Registry};
use crate::routes;
use crate::search::{Judge, Search, SharedIndex};
use caremap_model::{Facility, FacilityId, FacilityStatus, Freshness, FreshnessThresholds};
use chrono::{DateTime, NaiveDateTime, Utc};
use leptos::prelude::*;
use std::sync::Arc;

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

/// How many entries of the list are drawn with the rest of the page (the whole nearest list)…
const LIST_FIRST: usize = NEAREST_SHOWN;

/// …and how many more in each step after it, each in a task of its own after a frame: drawing a
/// county's 500 entries at once was one task of more than a second on a cheap phone, in which
/// the page answered nothing.
const LIST_STEP: usize = 60;

/// The entries of the list in order, with their distance when there is a point to search from,
/// and what they are drawn for. Each computation is a new generation and the list is drawn anew.
#[derive(Clone)]
struct Rows {
    generation: u64,
    entries: Arc<Vec<(FacilityId, Option<f64>)>>,
    /// How many facilities the full list leaves out (it shows the first [`FULL_LIST_SHOWN`]).
    unlisted: usize,
    now: NaiveDateTime,
    now_utc: DateTime<Utc>,
    thresholds: FreshnessThresholds,
    lang: Lang,
}

impl PartialEq for Rows {
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation
    }
}

/// The entries of chunk `chunk` of the list: the first [`LIST_FIRST`], then [`LIST_STEP`] each.
fn chunk_range(chunk: usize, len: usize) -> std::ops::Range<usize> {
    let (start, end) = match chunk {
        0 => (0, LIST_FIRST),
        n => (LIST_FIRST + (n - 1) * LIST_STEP, LIST_FIRST + n * LIST_STEP),
    };
    start.min(len)..end.min(len)
}

/// How many chunks hold the first `drawn` entries of a list of `len`.
fn chunks_for(drawn: usize, len: usize) -> usize {
    let drawn = drawn.min(len);
    if drawn == 0 {
        0
    } else {
        1 + drawn.saturating_sub(LIST_FIRST).div_ceil(LIST_STEP)
    }
}

/// Draws the next step of generation `generation` of the list after the next frame, and plans
/// the one after, until the whole list is drawn or a new generation replaces it.
fn draw_more(rows: Memo<Rows>, drawn: RwSignal<(u64, usize)>, generation: u64) {
    after_next_paint(move || {
        let Some(Some(len)) =
            rows.try_with_untracked(|r| (r.generation == generation).then(|| r.entries.len()))
        else {
            return; // replaced, or the page is gone
        };
        let now_drawn =
            drawn.with_untracked(|(g, n)| if *g == generation { *n } else { LIST_FIRST });
        if now_drawn >= len {
            return;
        }
        drawn.set((generation, now_drawn + LIST_STEP));
        draw_more(rows, drawn, generation);
    });
}

/// The facilities `search` keeps at `now`: nearest first with their distance when the search
/// has a point, else all of them by kind and name. The first [`LIST_FIRST`] entries are drawn at
/// once, the rest in steps after it ([`LIST_STEP`]).
#[component]
pub fn FacilityList(
    #[prop(into)] search: Signal<Search>,
    #[prop(into)] index: Signal<SharedIndex>,
    #[prop(into)] now: Signal<NaiveDateTime>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    // The ages in the full list ("2 小时前") are brought up to date every ten minutes.
    let status_clock = Memo::new(move |_| now.with(|n| n.and_utc().timestamp() / 600));
    let rows = Memo::new(move |previous: Option<&Rows>| {
        let generation = previous.map_or(0, |p| p.generation + 1);
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
        let (entries, unlisted) = registry.facilities.with(|facilities| match search.near {
            Some(near) => index.with(|index| {
                let nearest = index
                    .0
                    .nearest(near)
                    .filter(|(id, _)| {
                        facilities.get(**id).is_some_and(|facility| {
                            search.matches(facility, facilities.status(**id), &mut judge)
                        })
                    })
                    .take(NEAREST_SHOWN)
                    .map(|(id, distance)| (*id, Some(distance)))
                    .collect::<Vec<_>>();
                (nearest, 0)
            }),
            None => {
                let kept: Vec<_> = facilities
                    .sorted(lang)
                    .into_iter()
                    .filter(|(id, facility)| {
                        search.matches(facility, facilities.status(*id), &mut judge)
                    })
                    .map(|(id, _)| (id, None))
                    .collect();
                let unlisted = kept.len().saturating_sub(FULL_LIST_SHOWN);
                (kept.into_iter().take(FULL_LIST_SHOWN).collect(), unlisted)
            }
        });
        Rows {
            generation,
            entries: Arc::new(entries),
            unlisted,
            now,
            now_utc,
            thresholds,
            lang,
        }
    });
    // How many entries of which generation are drawn; a new generation starts with LIST_FIRST.
    let drawn = RwSignal::new((0u64, LIST_FIRST));
    Effect::new(move |_| draw_more(rows, drawn, rows.with(|r| r.generation)));
    let chunks = move || {
        let (generation, len) = rows.with(|r| (r.generation, r.entries.len()));
        let count = drawn.with(|(g, n)| if *g == generation { *n } else { LIST_FIRST });
        (0..chunks_for(count, len))
            .map(|chunk| (generation, chunk))
            .collect::<Vec<_>>()
    };
    let draw_chunk = move |(generation, chunk): (u64, usize)| {
        rows.with_untracked(|r| {
            if r.generation != generation {
                return Vec::new();
            }
            registry.facilities.with_untracked(|facilities| {
                r.entries[chunk_range(chunk, r.entries.len())]
                    .iter()
                    .filter_map(|(id, distance)| {
                        let facility = facilities.get(*id)?;
                        let status = facilities.status(*id);
                        Some(list_item(
                            *id,
                            facility,
                            status,
                            *distance,
                            r.now,
                            r.now_utc,
                            r.thresholds,
                            r.lang,
                        ))
                    })
                    .collect::<Vec<_>>()
            })
        })
    };
    let none_match = Memo::new(move |_| rows.with(|r| r.entries.is_empty()));
    let unlisted_note = move || {
        let n = rows.with(|r| r.unlisted);
        (n > 0 && search.with(|s| s.near.is_none())).then(|| {
            let text = td_string!(locale_of(lang.get()), list_unlisted, n = n).to_string();
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
                    if none_match.get() {
                        view! {
                            <p class="notice" data-testid="facility-list-none">
                                {t!(i18n, list_none_match)}
                            </p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <ul class="facility-list" data-testid="facility-list" data-mode=mode>
                                <For each=chunks key=|chunk| *chunk children=draw_chunk />
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
