//! "A new version is ready — reload": shown when a new release of the app has installed in the
//! background; the button hands over to it ([`crate::pwa`]).
//!
//! Mounting the banner starts the service worker (once per page), so `App` mounts it once. It
//! starts it once the first sync of the registry has ended (or failed), or after
//! [`REGISTER_AT_THE_LATEST`]: the worker's first install downloads the whole app again, which
//! must not compete with the registry and the map's tiles on a slow line.

use crate::i18n::{t, use_i18n};
use crate::pwa;
use crate::registry::{Registry, SyncPhase};
use leptos::prelude::*;
use std::time::Duration;

/// The service worker is registered this long after start at the latest, even while a long
/// first sync is still under way.
const REGISTER_AT_THE_LATEST: Duration = Duration::from_secs(10);

#[component]
pub fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let (update_ready, set_update_ready) = signal(false);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let busy = registry
            .sync
            .with(|s| matches!(s.phase, SyncPhase::Starting | SyncPhase::Syncing { .. }));
        if !busy {
            pwa::start(set_update_ready);
        }
        !busy
    });
    set_timeout(move || pwa::start(set_update_ready), REGISTER_AT_THE_LATEST);
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
