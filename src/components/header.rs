//! The app header: the app's name (a link home), the village doctor's page (with how many of
//! their reports wait to be sent), the large-text toggle and the language switch.

use super::{LangSwitch, LargeTextToggle, SyncBar};
use crate::i18n::{t, td_string, use_i18n};
use crate::outbox::Reporting;
use crate::routes;
use leptos::prelude::*;

#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let reporting = Reporting::expect();
    let unsent = move || reporting.unsent();
    view! {
        <header class="app-header">
            <a class="brand" href=routes::map_href()>
                <img class="brand-icon" src="/icon.svg" alt="" width="32" height="32" />
                <span class="brand-name">{t!(i18n, app_name)}</span>
            </a>
            <div class="header-tools">
                <a
                    class="header-link"
                    href=routes::report_href()
                    data-testid="nav-report"
                    title=move || td_string!(i18n.get_locale(), nav_report_label).to_string()
                >
                    {t!(i18n, nav_report)}
                    <Show when=move || { unsent() > 0 }>
                        <span class="unsent-badge" data-testid="unsent-count">{unsent}</span>
                    </Show>
                </a>
                <LargeTextToggle />
                <LangSwitch />
            </div>
        </header>
        <SyncBar />
    }
}
