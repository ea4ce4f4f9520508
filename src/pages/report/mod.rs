//! The village doctor's page (`/report`), one room per thing the doctor does: enrolling this
//! phone with the code the health office gave ([`enroll`]), the account and its facilities
//! ([`account`]), the report form ([`form`]), the outbox's status ([`outbox`]) and the history
//! of the doctor's reports on this phone ([`history`]: waiting, refused, sent, or held for the
//! account that wrote them when another is enrolled).
//!
//! The form is checked with the model's [`caremap_model::ReportDraft::parse`], the same rules
//! the server applies, each error shown beside its field; nothing typed is lost. A saved report
//! goes to the outbox in IndexedDB first and is shown at once as waiting; the sender
//! ([`crate::outbox`]) sends it when it can.

mod account;
mod enroll;
mod form;
mod history;
mod outbox;
mod storage;

use crate::i18n::{locale_of, t, td_string, use_i18n, use_lang, Lang};
use crate::outbox::{report_store_message, AccountState, Reporting};
use crate::registry::Registry;
use caremap_model::{FacilityId, Field};
use chrono::{DateTime, Local, Utc};
use leptos::prelude::*;

/// Which part of the page shows, by where the phone's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The phone's store is being read.
    Loading,
    /// No account: the enrollment form.
    Enroll,
    /// The server refused the token: why, and the enrollment form for a new code.
    Revoked,
    /// The account and the report form.
    Report,
}

impl Part {
    fn of(account: &AccountState) -> Part {
        match account {
            AccountState::Loading => Part::Loading,
            AccountState::None => Part::Enroll,
            AccountState::Enrolled(r) if r.revoked => Part::Revoked,
            AccountState::Enrolled(_) => Part::Report,
        }
    }
}

/// A field's label as a heading: the model's words, capitalised in English.
fn field_label(field: Field, lang: Lang) -> String {
    let label = field.label(lang);
    let mut chars = label.chars();
    match (lang, chars.next()) {
        (Lang::En, Some(first)) => first.to_uppercase().chain(chars).collect(),
        _ => label.to_owned(),
    }
}

/// A time on the phone's clock: "11月29日 08:05" / "29 Nov 08:05".
pub fn time_text(at: DateTime<Utc>, lang: Lang) -> String {
    crate::clock::time_text(at.with_timezone(&Local).naive_local(), lang)
}

/// A facility's name from the phone's registry, or a short form of its id when the registry
/// does not have it (yet).
fn facility_name(registry: Registry, id: FacilityId, lang: Lang) -> String {
    registry.facilities.with(|f| {
        f.get(id)
            .map(|f| f.name.display(lang).to_owned())
            .unwrap_or_else(|| {
                let short: String = id.to_string().chars().take(8).collect();
                td_string!(locale_of(lang), facility_short, short = short).to_string()
            })
    })
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    // Changes only when the account does, so typing is never re-rendered.
    let part = Memo::new(move |_| reporting.account.with(Part::of));
    let store_problem = move || {
        reporting
            .store_problem
            .get()
            .map(|err| report_store_message(&err, lang.get()))
    };
    view! {
        <main class="page report-page" data-testid="report-page">
            <h1>{t!(i18n, report_title)}</h1>
            {move || {
                store_problem()
                    .map(|message| {
                        view! {
                            <p class="notice notice-error" role="alert" data-testid="report-store-problem">
                                {message}
                            </p>
                        }
                    })
            }}
            {move || match part.get() {
                Part::Loading => view! { <p class="notice" role="status">{t!(i18n, loading)}</p> }.into_any(),
                Part::Enroll => view! { <enroll::EnrollForm /> }.into_any(),
                Part::Revoked => view! {
                    <div class="notice notice-error" role="alert" data-testid="revoked">
                        <p><strong>{t!(i18n, report_revoked_title)}</strong></p>
                        <p>{t!(i18n, report_revoked_text)}</p>
                    </div>
                    <enroll::EnrollForm />
                }
                .into_any(),
                Part::Report => view! {
                    <account::AccountCard />
                    <form::ReportForm />
                }
                .into_any(),
            }}
            // Said once there is something to say: reports waiting, or sent from this phone.
            <Show when=move || {
                reporting.outbox.with(|o| !o.is_empty()) || reporting.sent.with(|s| !s.is_empty())
            }>
                <outbox::OutboxStatus />
            </Show>
            <storage::StorageWarning />
            <history::ReportHistory />
        </main>
    }
}
