//! The page for a URL the app does not know.

use crate::i18n::{t, use_i18n};
use crate::routes;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <main class="page not-found" data-testid="not-found">
            <h1>{t!(i18n, not_found_title)}</h1>
            <p>{t!(i18n, not_found_text)}</p>
            <p>
                <a class="button" href=routes::map_href()>{t!(i18n, back_to_map)}</a>
            </p>
        </main>
    }
}
