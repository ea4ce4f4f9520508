//! A facility's load on its page: the status from its newest report ([`status`]), today's load
//! and a chart of the last seven days ([`chart`]), from the history endpoint or the copy kept
//! on the phone ([`cache`]), reduced to one figure per day by pure day arithmetic ([`days`]).

mod cache;
mod chart;
mod days;
mod status;

use crate::browser;
use crate::clock::now_at_facilities;
use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang};
use cache::History;
use caremap_model::status::age_text;
use caremap_model::FacilityId;
use chart::{chart, table};
use chrono::Utc;
use days::{any_counts, last_days};
use leptos::prelude::*;
use leptos::task::spawn_local;
use status::StatusBlock;

/// The status block and the seven days of one facility.
#[component]
pub fn FacilityLoad(id: FacilityId) -> impl IntoView {
    view! {
        <StatusBlock id />
        <LoadHistory id />
    }
}

/// Today's load and the chart of the last seven days, from the history endpoint (or the copy
/// kept on the phone).
#[component]
fn LoadHistory(id: FacilityId) -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let history = RwSignal::new(History::Loading);
    if browser::online() {
        spawn_local(async move {
            let next = cache::fetch(id).await;
            // The page may be gone by now; a disposed signal is simply not set.
            let _ = history.try_set(next);
        });
    } else {
        history.set(cache::fallback(id, true));
    }

    let body = move || {
        let lang = lang.get();
        let locale = locale_of(lang);
        let state = history.get();
        let (days, note) = match &state {
            History::Loading => {
                return view! {
                    <p class="muted" role="status">{td_string!(locale, history_loading)}</p>
                }
                .into_any();
            }
            History::Offline => {
                return view! {
                    <p class="notice" data-testid="history-note">{td_string!(locale, history_offline)}</p>
                }
                .into_any();
            }
            History::Failed => {
                return view! {
                    <p class="notice" data-testid="history-note">{td_string!(locale, history_failed)}</p>
                }
                .into_any();
            }
            History::Live(days) => (days.clone(), None),
            History::Cached(cached) => {
                let age = age_text(cached.saved_at, Utc::now(), lang);
                (
                    cached.days.clone(),
                    Some(td_string!(locale, history_cached, age = age.as_str()).to_string()),
                )
            }
        };
        let today = now_at_facilities().date();
        let week = last_days(&days, today);
        let today_load = week.last().and_then(|(_, load)| *load);
        let people = |n: u32| td_string!(locale, load_people, n = n).to_string();
        let today_text = match today_load.map(|l| (l.outpatients.map(people), l.fever.map(people)))
        {
            Some((Some(outpatients), Some(fever))) => td_string!(
                locale,
                history_today_both,
                outpatients = outpatients,
                fever = fever
            )
            .to_string(),
            Some((Some(outpatients), None)) => {
                td_string!(locale, history_today_outpatients, outpatients = outpatients).to_string()
            }
            Some((None, Some(fever))) => {
                td_string!(locale, history_today_fever, fever = fever).to_string()
            }
            Some((None, None)) | None => td_string!(locale, history_today_none).to_owned(),
        };
        let any = any_counts(&week);
        view! {
            {note.map(|note| view! { <p class="notice" data-testid="history-note">{note}</p> })}
            <p class="today-load" data-testid="today-load">
                <strong>{td_string!(locale, history_today)}</strong>
                {td_string!(locale, label_separator)}
                {today_text}
            </p>
            {if any {
                view! {
                    {chart(&week, today, lang)}
                    {table(&week, today, lang)}
                }
                    .into_any()
            } else {
                view! { <p class="muted" data-testid="history-empty">{td_string!(locale, history_empty)}</p> }
                    .into_any()
            }}
        }
        .into_any()
    };
    view! {
        <section
            class="load-history"
            data-testid="load-history"
            data-state=move || history.with(History::state)
            aria-labelledby="history-title"
        >
            <h2 id="history-title" class="section-title">{t!(i18n, history_title)}</h2>
            {body}
        </section>
    }
}
