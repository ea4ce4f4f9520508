//! The facility page (`/facility/:id`): everything the registry knows about one facility.

use crate::components::{area_text, LoadStatus};
use crate::i18n::{t, use_i18n, use_lang, Lang};
use crate::map::swatch_class;
use crate::registry::{LoadState, Registry};
use crate::routes;
use caremap_model::{Capacity, Facility, FacilityId, Operational};
use chrono::{FixedOffset, NaiveDateTime, Offset, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Facilities keep China Standard Time (UTC+8, no daylight saving): "open now" is judged by the
/// facility's clock, not by the phone's time zone.
const FACILITY_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// The current local time at the facilities.
fn now_at_facilities() -> NaiveDateTime {
    let offset = FixedOffset::east_opt(FACILITY_UTC_OFFSET_SECONDS).unwrap_or_else(|| Utc.fix());
    Utc::now().with_timezone(&offset).naive_local()
}

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
    let facility = move || id().and_then(|id| registry.facilities.with(|f| f.get(id).cloned()));
    let body = move || match (facility(), registry.state.get()) {
        (Some(facility), _) => view! { <FacilityDetail facility /> }.into_any(),
        (None, LoadState::Loading) => view! { <LoadStatus /> }.into_any(),
        (None, LoadState::Failed(_)) => view! { <LoadStatus /> }.into_any(),
        (None, LoadState::Ready) => view! {
            <div class="notice" data-testid="facility-not-found">
                <p>{t!(i18n, facility_not_found)}</p>
            </div>
        }
        .into_any(),
    };
    view! {
        <main class="page facility-page">
            <p>
                <a class="back-link" href=routes::map_href()>
                    "← "
                    {t!(i18n, back_to_map)}
                </a>
            </p>
            {body}
        </main>
    }
}

/// Whether a facility is open at a moment, as far as the registry can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpenNow {
    Open,
    Closed,
    Unknown,
}

/// Open or closed at `now` (facility local time): a facility declared closed is closed whatever
/// its hours say; `None` when it publishes no hours.
fn open_now(facility: &Facility, now: NaiveDateTime) -> Option<OpenNow> {
    if matches!(facility.operational, Operational::Closed { .. }) {
        return Some(OpenNow::Closed);
    }
    let hours = facility.opening_hours.as_ref()?;
    Some(match hours.is_open_at(now) {
        Some(true) => OpenNow::Open,
        Some(false) => OpenNow::Closed,
        None => OpenNow::Unknown,
    })
}

/// The separator between a label and its value: full-width in Chinese.
fn colon(lang: Lang) -> &'static str {
    lang.pick("：", ": ")
}

#[component]
fn FacilityDetail(facility: Facility) -> impl IntoView {
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
    let now = now_at_facilities();
    let open_now = facility.with_value(|f| open_now(f, now));
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
                                {open_now
                                    .map(|state| match state {
                                        OpenNow::Open => {
                                            view! {
                                                <span class="open-now is-open">{t!(i18n, open_now)}</span>
                                            }
                                                .into_any()
                                        }
                                        OpenNow::Closed => {
                                            view! {
                                                <span class="open-now is-closed">
                                                    {t!(i18n, closed_now)}
                                                </span>
                                            }
                                                .into_any()
                                        }
                                        OpenNow::Unknown => {
                                            view! {
                                                <span class="open-now">{t!(i18n, hours_unknown)}</span>
                                            }
                                                .into_any()
                                        }
                                    })}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facility(hours: &str, operational: &str) -> Facility {
        serde_json::from_str(&format!(
            r#"{{"kind": "village_clinic", "name": {{"zh": "东村卫生室"}},
                "location": {{"lat": 30.0, "lon": 121.0}},
                "opening_hours": "{hours}", "operational": {operational}}}"#
        ))
        .expect("valid facility")
    }

    fn at(hour: u32) -> NaiveDateTime {
        // 2026-11-25 is a Wednesday.
        chrono::NaiveDate::from_ymd_opt(2026, 11, 25)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .expect("valid time")
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn open_now_follows_hours_unless_declared_closed() {
        let open = r#"{"state": "open"}"#;
        let f = facility("Mo-Fr 08:00-12:00", open);
        assert_eq!(open_now(&f, at(9)), Some(OpenNow::Open));
        assert_eq!(open_now(&f, at(13)), Some(OpenNow::Closed));
        let closed = facility("24/7", r#"{"state": "closed", "reason": "停电"}"#);
        assert_eq!(open_now(&closed, at(9)), Some(OpenNow::Closed));
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn facility_clock_is_china_standard_time() {
        let offset = now_at_facilities() - Utc::now().naive_utc();
        assert!((offset.num_minutes() - 8 * 60).abs() <= 1);
    }
}
