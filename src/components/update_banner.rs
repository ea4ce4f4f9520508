//! "A new version is ready — reload": shown when a new release of the app has installed in the
//! background; the button hands over to it ([`crate::pwa`]).
//!
//! Mounting the banner starts the service worker (once per page), so `App` mounts it once.

use crate::i18n::{t, use_i18n};
use crate::pwa;
use leptos::prelude::*;

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let update_ready = pwa::start();
    view! {
        <Show when=move || update_ready.get()>
            <div class="notice notice-update" role="status" data-testid="update-banner">
                <span>{t!(i18n, update_ready)}</span>
                " — "
                <button type="button" class="button" on:click=move |_| pwa::activate_update()>
                    {t!(i18n, update_reload)}
                </button>
            </div>
        </Show>
    }
}
