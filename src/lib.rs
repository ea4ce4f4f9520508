//! The caremap PWA: the [`App`] component, its routes and the modules that make it up.
//!
//! `main.rs` only mounts [`App`] (through [`mount`], which also takes down `index.html`'s app
//! shell); everything else lives in this library so tests can mount it.

pub mod api;
pub mod browser;
pub mod clock;
pub mod components;
pub mod crowding;
pub mod i18n;
pub mod map;
pub mod offline_map;
pub mod open_state;
pub mod outbox;
pub mod pages;
pub mod pwa;
pub mod registry;
pub mod retry;
pub mod routes;
pub mod search;
pub mod store;
pub mod sync;

// The library's unit tests run in headless Chromium like the browser tests in tests/.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use crate::components::Header;
use crate::i18n::{td_string, use_i18n, I18nContextProvider, LangMemory};
use crate::outbox::ReportingProvider;
use crate::pages::{FacilityPage, MapPage, NotFound, ReportPage};
use crate::registry::Registry;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};

/// The id of the static app shell in `index.html`: the map page's first frame, drawn from HTML
/// and CSS while the wasm loads.
const APP_SHELL_ID: &str = "app-shell";

/// Mounts [`App`] on `<body>` and removes the app shell, in the same task: no frame shows both,
/// and the app's first frame takes the shell's place with the same geometry.
pub fn mount() {
    leptos::mount::mount_to_body(App);
    if let Some(shell) = document().get_element_by_id(APP_SHELL_ID) {
        shell.remove();
    }
}

/// The whole app: language context, registry, header and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    Registry::provide();
    view! {
        <I18nContextProvider>
            <LangMemory />
            <DocumentTitle />
            <WhenLanguageSettled>
                // The doctor's account, outbox and sender: running on every page, so reports
                // waiting on the phone go as soon as the network allows.
                <ReportingProvider>
                    <Router>
                        <Header />
                        <components::UpdateBanner />
                        <Routes fallback=NotFound>
                            <Route path=routes::map_path() view=MapPage />
                            <Route path=routes::facility_path() view=FacilityPage />
                            <Route path=routes::report_path() view=ReportPage />
                        </Routes>
                    </Router>
                </ReportingProvider>
            </WhenLanguageSettled>
        </I18nContextProvider>
    }
}

/// Its children, drawn once [`LangMemory`] has applied the stored language (or zh-CN).
/// leptos_i18n starts from the browser's languages: on a browser set to English the whole page
/// was drawn in English, then again in Chinese, which doubled the task that starts the app.
/// Effects first run in the order they are made, so this one runs after `LangMemory`'s; both
/// within the task that mounts the app, before its first frame.
#[component]
fn WhenLanguageSettled(children: ChildrenFn) -> impl IntoView {
    let settled = RwSignal::new(false);
    Effect::new(move |_| settled.set(true));
    view! { <Show when=move || settled.get()>{children()}</Show> }
}

/// Keeps `<title>` in the current language.
#[component]
fn DocumentTitle() -> impl IntoView {
    let i18n = use_i18n();
    view! { <Title text=move || td_string!(i18n.get_locale(), app_name) /> }
}
