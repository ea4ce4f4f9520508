//! The app header: the app's name (a link home), the village doctor's page (in the staff app,
//! with how many of their reports wait to be sent), the large-text toggle and the language
//! switch. The doctor's page is the staff app, a wasm module of its own: its link is a full
//! navigation (`rel="external"`), and so is the staff app's link home.

use super::{LangSwitch, LargeTextToggle, SyncBar};
use crate::i18n::{t, td_string, use_i18n};
use crate::routes;
use leptos::prelude::*;

/// `unsent`: the doctor's reports waiting to be sent (the staff app); none in the residents' app.
#[component]
pub fn Header(#[prop(optional, into)] unsent: Option<Signal<usize>>) -> impl IntoView {
    let i18n = use_i18n();
    let in_staff_app = unsent.is_some();
    let unsent = move || unsent.map_or(0, |unsent| unsent.get());
    view! {
        <header class="app-header">
            <a class="brand" href=routes::map_href() rel=in_staff_app.then_some("external")>
                <img class="brand-icon" src="/icon.svg" alt="" width="32" height="32" />
                <span class="brand-name">{t!(i18n, app_name)}</span>
            </a>
            <div class="header-tools">
                <a
                    class="header-link"
                    href=routes::report_href()
                    rel="external"
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
