//! A facility's newest load status in words: the reported state, crowding, wait, patients,
//! doctors and stock with shortages highlighted, as of when and how old, greyed with a warning
//! when stale.

use crate::clock::{at_facilities, date_text, facility_date, time_text};
use crate::crowding::{crowd_text_class, status_words, Badge};
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use crate::registry::Registry;
use caremap_model::status::age_text;
use caremap_model::{FacilityId, Freshness, ReportedStatus, StockLevel};
use chrono::Utc;
use leptos::prelude::*;

fn stock_class(level: StockLevel) -> &'static str {
    match level {
        StockLevel::Ample => "stock-item stock-ample",
        StockLevel::Low => "stock-item stock-low",
        StockLevel::Out => "stock-item stock-out",
    }
}

fn reported_class(status: ReportedStatus) -> &'static str {
    match status {
        ReportedStatus::Open => "status status-open",
        ReportedStatus::Reduced => "status status-reduced",
        ReportedStatus::Closed => "status status-closed",
    }
}

/// The newest status in words, as of when and how old.
#[component]
pub(super) fn StatusBlock(id: FacilityId) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    let status = Memo::new(move |_| registry.facilities.with(|f| f.status(id).cloned()));
    // The age ("5 分钟前") and the freshness move on while the page is open.
    let clock = RwSignal::new(Utc::now());
    if let Ok(handle) = set_interval_with_handle(
        move || clock.set(Utc::now()),
        std::time::Duration::from_secs(60),
    ) {
        on_cleanup(move || handle.clear());
    }
    move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        let Some(status) = status.get() else {
            return view! {
                <section class="load-status" data-testid="load-status" data-state="none" aria-labelledby="load-title">
                    <h2 id="load-title" class="section-title">{t!(i18n, load_title)}</h2>
                    <p class="muted" data-testid="no-status">{t!(i18n, load_none)}</p>
                </section>
            }
            .into_any();
        };
        let now = clock.get();
        let thresholds = registry.thresholds();
        let freshness = status.freshness(now, thresholds);
        let stale = freshness == Freshness::Stale;
        let badge = Badge {
            crowding: status.crowding,
            stale,
        };
        let hours = (thresholds.stale_after_minutes / 60).max(1).to_string();
        let today = facility_date(now) == facility_date(status.as_of);
        let day = if today {
            td_string!(locale, load_today).to_owned()
        } else {
            date_text(facility_date(status.as_of), lang)
        };
        let people = |n: u32| td_string!(locale, load_people, n = n).to_string();
        // Every row is the same view (one piece of code in the wasm, whatever the row).
        let mut facts = vec![Fact {
            label: td_string!(locale, load_reported_status).to_owned(),
            value: status.status.label(lang).to_owned(),
            class: Some(reported_class(status.status)),
            swatch: None,
            testid: "reported-status",
        }];
        if let Some(crowding) = status.crowding {
            facts.push(Fact {
                label: td_string!(locale, load_crowding).to_owned(),
                value: status_words(Some(crowding), status.status, lang).to_owned(),
                class: Some(crowd_text_class(Some(crowding), stale)),
                swatch: Some(format!("crowd-swatch{}", badge.classes())),
                testid: "crowding",
            });
        }
        if let Some(m) = status.wait_minutes {
            facts.push(Fact {
                label: td_string!(locale, load_wait).to_owned(),
                value: td_string!(locale, load_wait_value, minutes = m.to_string()).to_string(),
                class: None,
                swatch: None,
                testid: "wait",
            });
        }
        let counts = [
            (
                status.outpatients_today,
                td_string!(locale, load_outpatients),
                "outpatients",
            ),
            (
                status.fever_patients_today,
                td_string!(locale, load_fever_patients),
                "fever-patients",
            ),
        ];
        for (count, what, testid) in counts {
            if let Some(n) = count {
                let label = td_string!(locale, load_count_label, day = day.as_str(), what = what)
                    .to_string();
                facts.push(Fact {
                    label,
                    value: people(n),
                    class: None,
                    swatch: None,
                    testid,
                });
            }
        }
        if let Some(n) = status.doctors_on_duty {
            facts.push(Fact {
                label: td_string!(locale, load_doctors).to_owned(),
                value: people(n),
                class: None,
                swatch: None,
                testid: "doctors",
            });
        }
        let stock: Vec<_> = {
            let mut items: Vec<_> = status.stock.iter().map(|(i, l)| (*i, *l)).collect();
            // Shortages first, out before low, as the list says them.
            items.sort_by_key(|(item, level)| (std::cmp::Reverse(*level), *item));
            items
        };
        let freshness_mark = (freshness != Freshness::Fresh).then(|| {
            view! {
                " · "
                <span class=if stale { "stale-mark" } else { "ageing-mark" } data-testid="freshness">
                    {freshness.label(lang)}
                </span>
            }
        });
        let stale_note = stale.then(|| {
            view! {
                <p class="stale-note" data-testid="stale-note">
                    {td_string!(locale, load_stale_note, hours = hours.as_str()).to_string()}
                </p>
            }
        });
        let stock = (!stock.is_empty()).then(|| {
            view! {
                <dt>{td_string!(locale, load_stock)}</dt>
                <dd>
                    <ul class="stock" data-testid="stock">
                        {stock
                            .into_iter()
                            .map(|(item, level)| {
                                view! {
                                    <li class=stock_class(level) data-item=item.as_str() data-level=level.as_str()>
                                        {item.label(lang)}
                                        {td_string!(locale, label_separator)}
                                        <strong>{level.label(lang)}</strong>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </dd>
            }
        });
        view! {
            <section
                class=if stale { "load-status is-stale" } else { "load-status" }
                data-testid="load-status"
                data-state=freshness.as_str()
                data-crowding=status.crowding.map(|c| c.as_str())
                aria-labelledby="load-title"
            >
                <h2 id="load-title" class="section-title">{td_string!(locale, load_title)}</h2>
                <p class="load-as-of" data-testid="status-age">
                    {td_string!(locale, load_as_of)}
                    {td_string!(locale, label_separator)}
                    {time_text(at_facilities(status.as_of), lang)}
                    " · "
                    <strong>{age_text(status.as_of, now, lang)}</strong>
                    {freshness_mark}
                </p>
                {stale_note}
                <dl class="facts load-facts">
                    {facts
                        .into_iter()
                        .map(|fact| {
                            view! {
                                <dt>{fact.label}</dt>
                                <dd>
                                    {fact
                                        .swatch
                                        .map(|class| {
                                            view! { <span class=class aria-hidden="true"></span> " " }
                                        })}
                                    <span class=fact.class data-testid=fact.testid>
                                        {fact.value}
                                    </span>
                                </dd>
                            }
                        })
                        .collect_view()}
                    {stock}
                </dl>
            </section>
        }
        .into_any()
    }
}

/// One row of the status block.
struct Fact {
    label: String,
    value: String,
    class: Option<&'static str>,
    /// The classes of a badge before the value.
    swatch: Option<String>,
    testid: &'static str,
}
