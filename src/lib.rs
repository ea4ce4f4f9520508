//! The caremap PWA: its two apps and the modules that make them up.
//!
//! Two binaries link this library (docs/ARCHITECTURE.md, "Two apps"): `main.rs`, the residents'
//! app ([`ResidentsApp`]: map, list, near me, filters, facility page), and `bin/caremap-staff.rs`,
//! the staff app ([`StaffApp`]: the doctor's page, `/report`). Each mounts its app through
//! [`mount_residents`] or [`mount_staff`], which also take down the HTML's app shell. The link
//! step keeps only what a binary's app reaches, so a resident never downloads staff code.

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
use crate::pages::{ElsewhereInTheSite, FacilityPage, MapPage, NotFound, ReportPage};
use crate::registry::Registry;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};

/// The id of the static app shell in `index.html`: the map page's first frame, drawn from HTML
/// and CSS while the wasm loads.
const APP_SHELL_ID: &str = "app-shell";

/// Mounts the residents' app on `<body>` in place of `index.html`'s app shell.
pub fn mount_residents() {
    mount(ResidentsApp);
}

/// Mounts the staff app on `<body>` in place of `staff.html`'s app shell.
pub fn mount_staff() {
    mount(StaffApp);
}

/// Mounts `app` on `<body>` and removes the app shell, in the same task: no frame shows both,
/// and the app's first frame takes the shell's place with the same geometry.
fn mount<F, N>(app: F)
where
    F: FnOnce() -> N + 'static,
    N: IntoView + 'static,
{
    leptos::mount::mount_to_body(app);
    if let Some(shell) = document().get_element_by_id(APP_SHELL_ID) {
        shell.remove();
    }
}

/// What both apps share: language, registry, title, and the service worker's update banner.
#[component]
fn Common(children: ChildrenFn) -> impl IntoView {
    provide_meta_context();
    Registry::provide();
    view! {
        <I18nContextProvider>
            <LangMemory />
            <DocumentTitle />
            <WhenLanguageSettled>{children()}</WhenLanguageSettled>
        </I18nContextProvider>
    }
}

/// The residents' app: the map, the list, near me, filters and the facility page. The header's
/// link to the doctor's page is a full navigation to the staff app.
#[component]
pub fn ResidentsApp() -> impl IntoView {
    view! {
        <Common>
            <Router>
                <Header />
                <components::UpdateBanner />
                <Routes fallback=NotFound>
                    <Route path=routes::map_path() view=MapPage />
                    <Route path=routes::facility_path() view=FacilityPage />
                </Routes>
            </Router>
        </Common>
    }
}

/// The staff app: the doctor's page. A path it does not serve belongs to the residents' app,
/// which a full navigation loads.
#[component]
pub fn StaffApp() -> impl IntoView {
    view! {
        <Common>
            // The doctor's account, outbox and sender, so reports waiting on the phone go as
            // soon as the network allows while the staff app is open.
            <ReportingProvider>
                <Router>
                    <StaffHeader />
                    <components::UpdateBanner />
                    <Routes fallback=ElsewhereInTheSite>
                        <Route path=routes::report_path() view=ReportPage />
                    </Routes>
                </Router>
            </ReportingProvider>
        </Common>
    }
}

/// The header, with how many of the doctor's reports wait to be sent.
#[component]
fn StaffHeader() -> impl IntoView {
    let reporting = outbox::Reporting::expect();
    view! { <Header unsent=Signal::derive(move || reporting.unsent()) /> }
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
