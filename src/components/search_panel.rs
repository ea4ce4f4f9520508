//! The map page's search controls: "near me" (the browser's geolocation), with tapping the map
//! or choosing a township when the position is refused or unknown, and the filters. Both change
//! the URL (through `set_search`), which is where the search lives.

use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use crate::registry::Registry;
use crate::search::{township_centres, Search, SERVICE_FILTERS};
use caremap_model::{Crowding, FacilityKind, LatLon};
use leptos::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Why the browser gave no position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocateError {
    /// The resident (or the browser's settings) refused.
    Denied,
    /// No fix: no GPS, no network position.
    Unavailable,
    /// No fix in time.
    Timeout,
    /// No geolocation in this browser (or not a secure context).
    Unsupported,
}

/// Where "near me" stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Locating {
    Idle,
    Busy,
    Failed(LocateError),
}

/// How long to wait for a position, and how old a cached one may be.
const LOCATE_TIMEOUT_MS: u32 = 15_000;
const LOCATE_MAX_AGE_MS: u32 = 60_000;

/// Asks the browser once for the device's position; `done` gets it or why not.
pub fn locate(done: impl FnOnce(Result<LatLon, LocateError>) + 'static) {
    let geolocation = window().navigator().geolocation().ok();
    let Some(geolocation) = geolocation else {
        done(Err(LocateError::Unsupported));
        return;
    };
    let done = Rc::new(RefCell::new(Some(done)));
    let finish = {
        let done = Rc::clone(&done);
        move |result: Result<LatLon, LocateError>| {
            if let Some(done) = done.borrow_mut().take() {
                done(result);
            }
        }
    };
    let on_position = {
        let finish = finish.clone();
        Closure::once_into_js(move |position: web_sys::Position| {
            let coords = position.coords();
            finish(
                LatLon::new(coords.latitude(), coords.longitude())
                    .map_err(|_| LocateError::Unavailable),
            );
        })
    };
    let on_error = {
        let finish = finish.clone();
        Closure::once_into_js(move |error: web_sys::PositionError| {
            finish(Err(match error.code() {
                web_sys::PositionError::PERMISSION_DENIED => LocateError::Denied,
                web_sys::PositionError::TIMEOUT => LocateError::Timeout,
                _ => LocateError::Unavailable,
            }));
        })
    };
    let options = web_sys::PositionOptions::new();
    options.set_timeout(LOCATE_TIMEOUT_MS);
    options.set_maximum_age(LOCATE_MAX_AGE_MS);
    if geolocation
        .get_current_position_with_error_callback_and_options(
            on_position.unchecked_ref(),
            Some(on_error.unchecked_ref()),
            &options,
        )
        .is_err()
    {
        finish(Err(LocateError::Unsupported));
    }
}

/// "Near me", and the other ways to set the point to search from.
#[component]
pub fn NearMe(
    #[prop(into)] search: Signal<Search>,
    set_search: Callback<Search>,
    picking: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let state = RwSignal::new(Locating::Idle);
    let near_me = move |_| {
        state.set(Locating::Busy);
        picking.set(false);
        locate(move |result| match result {
            Ok(at) => {
                state.set(Locating::Idle);
                set_search.run(Search {
                    near: Some(at),
                    ..search.get_untracked()
                });
            }
            Err(err) => state.set(Locating::Failed(err)),
        });
    };
    // A point set another way (a tap on the map, a township) answers a failed "near me".
    Effect::new(move |_| {
        if search.with(|s| s.near.is_some()) {
            state.set(Locating::Idle);
        }
    });
    let townships = Memo::new(move |_| registry.facilities.with(township_centres));
    let choose_township = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let at = value
            .parse::<usize>()
            .ok()
            .and_then(|i| townships.with(|t| t.get(i).map(|(_, at)| *at)));
        if let Some(at) = at {
            picking.set(false);
            state.set(Locating::Idle);
            set_search.run(Search {
                near: Some(at),
                ..search.get_untracked()
            });
        }
    };
    let problem = move || match state.get() {
        Locating::Failed(err) => {
            let reason = match err {
                LocateError::Denied => t!(i18n, locate_denied).into_any(),
                LocateError::Unavailable => t!(i18n, locate_unavailable).into_any(),
                LocateError::Timeout => t!(i18n, locate_timeout).into_any(),
                LocateError::Unsupported => t!(i18n, locate_unsupported).into_any(),
            };
            view! {
                <p class="notice notice-error" role="alert" data-testid="locate-error">
                    {reason}
                    " "
                    {t!(i18n, locate_instead)}
                </p>
            }
            .into_any()
        }
        Locating::Busy => view! {
            <p class="notice" role="status" data-testid="locating">
                {t!(i18n, locating)}
            </p>
        }
        .into_any(),
        Locating::Idle => ().into_any(),
    };
    let has_point = move || search.with(|s| s.near.is_some());

    view! {
        <section class="near-me" aria-labelledby="near-me-title">
            <h2 id="near-me-title" class="visually-hidden">{t!(i18n, near_me)}</h2>
            <button
                type="button"
                class="big-button near-me-button"
                data-testid="near-me"
                on:click=near_me
                disabled=move || state.get() == Locating::Busy
            >
                <span aria-hidden="true">"📍 "</span>
                {t!(i18n, near_me)}
            </button>
            {problem}
            <div class="near-other">
                <button
                    type="button"
                    class="button button-secondary"
                    data-testid="pick-on-map"
                    aria-pressed=move || if picking.get() { "true" } else { "false" }
                    on:click=move |_| picking.update(|p| *p = !*p)
                >
                    {t!(i18n, pick_on_map)}
                </button>
                <label class="township-choice">
                    <span class="visually-hidden">{t!(i18n, choose_township)}</span>
                    <select data-testid="township-select" on:change=choose_township>
                        <option value="" selected=true>
                            {t!(i18n, choose_township)}
                        </option>
                        {move || {
                            townships
                                .get()
                                .into_iter()
                                .enumerate()
                                .map(|(i, (name, _))| {
                                    view! { <option value=i.to_string()>{name}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
            </div>
            <Show when=move || picking.get()>
                <p class="notice" role="status" data-testid="picking-hint">
                    {t!(i18n, picking_hint)}
                </p>
            </Show>
            <Show when=has_point>
                <p class="near-point">
                    <span>{t!(i18n, near_point)}</span>
                    " "
                    <button
                        type="button"
                        class="button button-secondary"
                        data-testid="clear-near"
                        on:click=move |_| {
                            set_search
                                .run(Search {
                                    near: None,
                                    ..search.get_untracked()
                                })
                        }
                    >
                        {t!(i18n, clear_near)}
                    </button>
                </p>
            </Show>
        </section>
    }
}

/// The filters: kinds, open now, the services residents ask for, and two from the doctors'
/// reports: short wait and antigen kits in stock (their exact rule is said below them).
#[component]
pub fn Filters(
    #[prop(into)] search: Signal<Search>,
    set_search: Callback<Search>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let status_note = move || {
        let hours = (registry.thresholds().stale_after_minutes / 60).max(1);
        td_string!(
            locale_of(lang.get()),
            filter_status_note,
            minutes = Crowding::LOW_MAX_WAIT.to_string(),
            hours = hours.to_string()
        )
        .to_string()
    };
    let kind_boxes = FacilityKind::ALL
        .iter()
        .map(|kind| {
            let kind = *kind;
            view! {
                <label class="filter">
                    <input
                        type="checkbox"
                        data-testid=format!("filter-kind-{}", kind.as_str())
                        prop:checked=move || search.with(|s| s.kinds.contains(&kind))
                        on:change=move |_| set_search.run(search.get_untracked().toggle_kind(kind))
                    />
                    <span>{move || kind.label(lang.get())}</span>
                </label>
            }
        })
        .collect_view();
    let service_boxes = SERVICE_FILTERS
        .iter()
        .map(|service| {
            let service = *service;
            view! {
                <label class="filter">
                    <input
                        type="checkbox"
                        data-testid=format!("filter-svc-{}", service.as_str())
                        prop:checked=move || search.with(|s| s.services.contains(&service))
                        on:change=move |_| {
                            set_search.run(search.get_untracked().toggle_service(service))
                        }
                    />
                    <span>{move || service.label(lang.get())}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="filters" data-testid="filters">
            <legend class="section-title">{t!(i18n, filters_title)}</legend>
            <div class="filter-group">
                <label class="filter">
                    <input
                        type="checkbox"
                        data-testid="filter-open"
                        prop:checked=move || search.with(|s| s.open_now)
                        on:change=move |_| {
                            let current = search.get_untracked();
                            set_search
                                .run(Search {
                                    open_now: !current.open_now,
                                    ..current
                                })
                        }
                    />
                    <span>{t!(i18n, filter_open_now)}</span>
                </label>
                {service_boxes}
            </div>
            <div class="filter-group">
                <label class="filter">
                    <input
                        type="checkbox"
                        data-testid="filter-short-wait"
                        aria-describedby="status-filter-note"
                        prop:checked=move || search.with(|s| s.short_wait)
                        on:change=move |_| {
                            let current = search.get_untracked();
                            set_search
                                .run(Search {
                                    short_wait: !current.short_wait,
                                    ..current
                                })
                        }
                    />
                    <span>{t!(i18n, filter_short_wait)}</span>
                </label>
                <label class="filter">
                    <input
                        type="checkbox"
                        data-testid="filter-antigen-kits"
                        aria-describedby="status-filter-note"
                        prop:checked=move || search.with(|s| s.antigen_kits)
                        on:change=move |_| {
                            let current = search.get_untracked();
                            set_search
                                .run(Search {
                                    antigen_kits: !current.antigen_kits,
                                    ..current
                                })
                        }
                    />
                    <span>{t!(i18n, filter_antigen_kits)}</span>
                </label>
            </div>
            <p class="filter-note" id="status-filter-note" data-testid="status-filter-note">
                {status_note}
            </p>
            <div class="filter-group">{kind_boxes}</div>
            <Show when=move || search.with(Search::is_filtering)>
                <button
                    type="button"
                    class="button button-secondary"
                    data-testid="clear-filters"
                    on:click=move |_| {
                        let current = search.get_untracked();
                        set_search
                            .run(Search {
                                near: current.near,
                                ..Search::default()
                            })
                    }
                >
                    {t!(i18n, clear_filters)}
                </button>
            </Show>
        </fieldset>
    }
}
