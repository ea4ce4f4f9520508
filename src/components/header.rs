//! The app header: the app's name (a link home), the large-text toggle and the language switch.

use super::{LangSwitch, LargeTextToggle, SyncBar};
use crate::i18n::{t, use_i18n};
use crate::routes;
use leptos::prelude::*;

#[component]
pub fn Header() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <header class="app-header">
            <a class="brand" href=routes::map_href()>
                <img class="brand-icon" src="/icon.svg" alt="" width="32" height="32" />
                <span class="brand-name">{t!(i18n, app_name)}</span>
            </a>
            <div class="header-tools">
                <LargeTextToggle />
                <LangSwitch />
            </div>
        </header>
        <SyncBar />
    }
}
