//! The facility page (`/facility/:id`): everything the registry knows about one facility, its
//! load as its doctor last reported it, and the last seven days.

use crate::clock::now_at_facilities;
use crate::components::{area_text, FacilityLoad, LoadStatus};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang, Locale};
use crate::map::swatch_class;
use crate::open_state::{change_text, next_change, open_now, state_text};
use crate::registry::{LoadState, Registry};
use crate::routes;
use crate::search::map_href_to_return;
use caremap_model::navigation::{self, MapApp};
use caremap_model::{Capacity, Facility, FacilityId, Operational};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn FacilityPage() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get(routes::FACILITY_ID_PARAM)
            .and_then(|raw| raw.parse::<FacilityId>().ok())
    };
    // A memo: a sync that changes other facilities (or only this one's status, which the
    // status block follows by itself) does not draw the page again, nor load its history again.
    let facility = Memo::new(move |_| {
        id().and_then(|id| {
            registry
                .facilities
                .with(|f| f.get(id).cloned().map(|f| (id, f)))
        })
    });
    // Only while the facility is not found does the load state matter.
    let body = move || match facility.get() {
        Some((id, facility)) => view! { <FacilityDetail id facility /> }.into_any(),
        None => match registry.state.get() {
            LoadState::Loading | LoadState::Failed(_) => view! { <LoadStatus /> }.into_any(),
            LoadState::Ready => view! {
                <div class="notice" data-testid="facility-not-found">
                    <p>{t!(i18n, facility_not_found)}</p>
                </div>
            }
            .into_any(),
        },
    };
    view! {
        <main class="page facility-page">
            <p>
                <a class="back-link" href=map_href_to_return() data-testid="back-to-map">
                    "← "
                    {t!(i18n, back_to_map)}
                </a>
            </p>
            {body}
        </main>
    }
}

/// The separator between a label and its value: full-width in Chinese.
fn colon(lang: Lang) -> &'static str {
    td_string!(locale_of(lang), label_separator)
}

#[component]
fn FacilityDetail(id: FacilityId, facility: Facility) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let facility = StoredValue::new(facility);
    let name = move || facility.with_value(|f| f.name.display(lang.get()).to_owned());
    let kind = move || facility.with_value(|f| f.kind.label(lang.get()));
    let kind_class = facility.with_value(|f| swatch_class(f.kind));
    let not_given = move || view! { <span class="muted">{t!(i18n, not_given)}</span> };

    let address =
        move || facility.with_value(|f| f.address.as_ref().map(|a| a.as_str().to_owned()));
    let area = move || facility.with_value(area_text);
    let phones: Vec<(String, String)> = facility.with_value(|f| {
        f.phone
            .as_ref()
            .map(|phone| {
                phone
                    .as_str()
                    .split("; ")
                    .map(str::to_owned)
                    .zip(phone.dialable())
                    .collect()
            })
            .unwrap_or_default()
    });
    let hours = facility.with_value(|f| f.opening_hours.as_ref().map(|h| h.as_str().to_owned()));
    // Judged again when the phone's timetables are replaced: on a first visit they come after
    // the page is drawn.
    let registry = Registry::expect();
    let timing = Memo::new(move |_| {
        registry.timetables.track();
        let now = now_at_facilities();
        facility.with_value(|f| (open_now(f, now), next_change(f, now), now))
    });
    let locale = move || locale_of(lang.get());
    let call = phones.first().cloned();
    let location = facility.with_value(|f| f.location);
    let nav_name = facility.with_value(|f| f.name.display(Lang::Zh).to_owned());
    let services = move || {
        facility.with_value(|f| {
            f.services
                .iter()
                .map(|s| s.label(lang.get()))
                .collect::<Vec<_>>()
        })
    };
    let capacity = facility.with_value(|f| f.capacity);
    let operational = move || facility.with_value(|f| f.operational.clone());
    let mobile = facility.with_value(|f| f.mobile);

    view! {
        <article class="facility-detail" data-testid="facility-detail">
            <h1>{name}</h1>
            <p class="facility-kind">
                <span class=kind_class aria-hidden="true"></span>
                <span>{kind}</span>
            </p>
            {mobile.then(|| view! { <p class="notice">{t!(i18n, mobile_point)}</p> })}
            <div class="actions">
                {call
                    .map(|(shown, dial)| {
                        view! {
                            <a
                                class="big-button call-button"
                                data-testid="call-button"
                                href=format!("tel:{dial}")
                            >
                                <span aria-hidden="true">"📞 "</span>
                                {t!(i18n, call)}
                                " "
                                <span class="call-number">{shown}</span>
                            </a>
                        }
                    })}
                <section class="navigate" aria-labelledby="navigate-title" data-testid="navigate">
                    <h2 id="navigate-title" class="section-title">{t!(i18n, navigate)}</h2>
                    <p class="muted">{t!(i18n, navigate_hint)}</p>
                    <ul class="navigate-apps">
                        {MapApp::ALL
                            .into_iter()
                            .map(|app| {
                                let href = navigation::link(app, location, &nav_name);
                                let external = app != MapApp::Geo;
                                view! {
                                    <li>
                                        <a
                                            class="big-button navigate-button"
                                            data-testid=format!("navigate-{}", map_app_id(app))
                                            href=href
                                            target=external.then_some("_blank")
                                            rel=external.then_some("noopener")
                                        >
                                            {move || map_app_label(locale(), app)}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            </div>
            <FacilityLoad id />
            <h2 class="section-title facts-title">{t!(i18n, facts_title)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, status)}</dt>
                <dd>
                    {move || {
                        let lang = lang.get();
                        let op = operational();
                        let class = match op {
                            Operational::Open => "status status-open",
                            Operational::Reduced { .. } => "status status-reduced",
                            Operational::Closed { .. } => "status status-closed",
                        };
                        let (reason, reopens) = match &op {
                            Operational::Open => (None, None),
                            Operational::Reduced { reason } => {
                                (reason.as_ref().map(|r| r.as_str().to_owned()), None)
                            }
                            Operational::Closed { reason, reopens_on } => {
                                (reason.as_ref().map(|r| r.as_str().to_owned()), *reopens_on)
                            }
                        };
                        view! {
                            <span class=class>{op.label(lang)}</span>
                            {reason
                                .map(|reason| {
                                    view! {
                                        <span class="status-detail">
                                            {t!(i18n, reason)} {colon(lang)} {reason}
                                        </span>
                                    }
                                })}
                            {reopens
                                .map(|date| {
                                    view! {
                                        <span class="status-detail">
                                            {t!(i18n, reopens_on)} {colon(lang)} {date.to_string()}
                                        </span>
                                    }
                                })}
                        }
                    }}
                </dd>
                <dt>{t!(i18n, address)}</dt>
                <dd>
                    {move || match address() {
                        Some(address) => address.into_any(),
                        None => not_given().into_any(),
                    }}
                </dd>
                <dt>{t!(i18n, area)}</dt>
                <dd>
                    {move || match area() {
                        Some(area) => area.into_any(),
                        None => not_given().into_any(),
                    }}
                </dd>
                <dt>{t!(i18n, phone)}</dt>
                <dd>
                    {if phones.is_empty() {
                        not_given().into_any()
                    } else {
                        view! {
                            <ul class="phones">
                                {phones
                                    .into_iter()
                                    .map(|(shown, dial)| {
                                        view! {
                                            <li>
                                                <a class="phone-link" href=format!("tel:{dial}")>
                                                    {shown}
                                                </a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                </dd>
                <dt>{t!(i18n, opening_hours)}</dt>
                <dd>
                    {match hours {
                        Some(hours) => {
                            view! {
                                <span class="hours" lang="en">{hours}</span>
                                {move || {
                                    let (open_state, change, now) = timing.get();
                                    open_state
                                        .map(|state| {
                                            view! {
                                                <span data-testid="open-state">
                                                    {move || {
                                                        let (text, class) = state_text(locale(), state);
                                                        view! { <span class=class>{text}</span> }
                                                    }}
                                                    {change
                                                        .map(|(at, opens)| {
                                                            view! {
                                                                <span class="open-change" data-testid="open-change">
                                                                    {move || change_text(locale(), now, at, opens)}
                                                                </span>
                                                            }
                                                        })}
                                                </span>
                                            }
                                        })
                                }}
                            }
                                .into_any()
                        }
                        None => not_given().into_any(),
                    }}
                </dd>
                <dt>{t!(i18n, services)}</dt>
                <dd>
                    {move || {
                        let services = services();
                        if services.is_empty() {
                            not_given().into_any()
                        } else {
                            view! {
                                <ul class="services">
                                    {services
                                        .into_iter()
                                        .map(|s| view! { <li class="service">{s}</li> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                    }}
                </dd>
                <dt>{t!(i18n, capacity)}</dt>
                <dd>
                    {if capacity == Capacity::default() {
                        not_given().into_any()
                    } else {
                        view! {
                            <ul class="capacity">
                                {capacity
                                    .doctors
                                    .map(|n| {
                                        view! { <li>{t!(i18n, doctors)} {move || colon(lang.get())} {n}</li> }
                                    })}
                                {capacity
                                    .beds
                                    .map(|n| {
                                        view! { <li>{t!(i18n, beds)} {move || colon(lang.get())} {n}</li> }
                                    })}
                                {capacity
                                    .daily_capacity
                                    .map(|n| {
                                        view! {
                                            <li>
                                                {t!(i18n, daily_capacity)} {move || colon(lang.get())} {n}
                                            </li>
                                        }
                                    })}
                            </ul>
                        }
                            .into_any()
                    }}
                </dd>
            </dl>
        </article>
    }
}

/// The map app's name as the resident knows it.
fn map_app_label(locale: Locale, app: MapApp) -> &'static str {
    match app {
        MapApp::Amap => td_string!(locale, map_app_amap),
        MapApp::Baidu => td_string!(locale, map_app_baidu),
        MapApp::Apple => td_string!(locale, map_app_apple),
        MapApp::Geo => td_string!(locale, map_app_geo),
    }
}

/// The stable name of a map app in test ids (`navigate-amap`, …).
fn map_app_id(app: MapApp) -> &'static str {
    match app {
        MapApp::Amap => "amap",
        MapApp::Baidu => "baidu",
        MapApp::Apple => "apple",
        MapApp::Geo => "geo",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn every_map_app_has_a_name_and_a_stable_test_id() {
        for app in MapApp::ALL {
            for locale in [Locale::zh_CN, Locale::en] {
                assert!(!map_app_label(locale, app).is_empty());
            }
        }
        assert_eq!(map_app_id(MapApp::Amap), "amap");
        assert_eq!(map_app_label(Locale::zh_CN, MapApp::Baidu), "百度地图");
    }
}
