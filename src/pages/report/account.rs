//! The account enrolled on this phone: its name and role, the facilities it reports for, and
//! signing out (its unsent reports stay on the phone, held for it).

use super::facility_name;
use crate::browser::confirm;
use crate::i18n::{t, td_string, use_i18n, use_lang};
use crate::outbox::Reporting;
use crate::registry::Registry;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Who is enrolled, for which facilities, and signing out.
#[component]
pub(super) fn AccountCard() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let reporting = Reporting::expect();
    let registry = Registry::expect();
    let record = move || reporting.account.with(|a| a.record().cloned());
    let name = move || record().map(|r| r.account.name).unwrap_or_default();
    let role = move || {
        record()
            .map(|r| r.account.role.label(lang.get()))
            .unwrap_or_default()
    };
    let facilities = move || {
        record()
            .map(|r| r.account.scope.facilities)
            .unwrap_or_default()
            .into_iter()
            .map(|id| view! { <li>{move || facility_name(registry, id, lang.get())}</li> })
            .collect_view()
    };
    let sign_out = move |_| {
        let locale = i18n.get_locale_untracked();
        // This account's unsent reports (refused ones included): they stay, held for it.
        let unsent = untrack(move || reporting.unsent());
        let question = if unsent > 0 {
            let name = untrack(name);
            td_string!(
                locale,
                sign_out_unsent_confirm,
                count = unsent.to_string(),
                name = name
            )
            .to_string()
        } else {
            td_string!(locale, sign_out_confirm).to_string()
        };
        if confirm(&question) {
            spawn_local(async move {
                if let Err(err) = reporting.sign_out().await {
                    reporting.store_problem.set(Some(err));
                }
            });
        }
    };
    view! {
        <section class="report-card account-card" data-testid="account-card">
            <p class="account-name">
                <strong data-testid="account-name">{name}</strong>
                " · "
                <span data-testid="account-role">{role}</span>
            </p>
            <p class="muted">{t!(i18n, account_facilities)}</p>
            <ul class="account-facilities" data-testid="account-facilities">
                {facilities}
            </ul>
            <button type="button" class="button button-secondary" data-testid="sign-out" on:click=sign_out>
                {t!(i18n, sign_out)}
            </button>
        </section>
    }
}
