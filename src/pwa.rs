//! The PWA's service worker from the page's side: registering `/sw.js`, asking for persistent
//! storage, noticing that a new version is ready, and handing over to it.
//!
//! The worker itself is generated at build time by Workbox (`tools/sw/build-sw.mjs`). A new
//! version installs in the background and then *waits*: the page keeps running the version it
//! started with until the user chooses to reload (the update banner), so no page ever mixes the
//! files of two releases. Handing over posts `{type: "SKIP_WAITING"}` to the waiting worker, which
//! activates and takes control (`controllerchange`); the page then reloads into the new version.

use js_sys::{Object, Reflect};
use leptos::logging::{error, log, warn};
use leptos::prelude::*;
use std::cell::Cell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};

/// Where the generated service worker is served; its scope is the whole app.
pub const SERVICE_WORKER_URL: &str = "/sw.js";

/// The message Workbox's generated worker answers by activating at once.
const SKIP_WAITING: &str = "SKIP_WAITING";

thread_local! {
    static STARTED: Cell<bool> = const { Cell::new(false) };
}

/// Registers the service worker and asks for persistent storage, once per page (later calls do
/// nothing); `set_update_ready` is set when a new version is ready: a new worker has installed
/// while this page is controlled by an older one.
///
/// A first install downloads the whole app again into the worker's precache (half a megabyte,
/// the wasm included): the caller starts it once the page has what it came for
/// (`UpdateBanner`), not while the registry and the map's tiles are still coming over a slow line.
pub fn start(set_update_ready: WriteSignal<bool>) {
    if STARTED.with(|started| started.replace(true)) {
        return;
    }
    request_persistent_storage();
    if let Some(container) = service_worker_container() {
        spawn_local(register(container, set_update_ready));
    }
}

/// Activates the waiting version and reloads the page into it once it has taken control.
/// Without a waiting worker (another tab has already activated it) it simply reloads.
pub fn activate_update() {
    let Some(container) = service_worker_container() else {
        reload();
        return;
    };
    spawn_local(async move {
        let waiting = registration(&container).await.and_then(|r| r.waiting());
        let Some(waiting) = waiting else {
            reload();
            return;
        };
        // Reload on the hand-over only: the first install also changes the controller
        // (clientsClaim), and that must not reload the page.
        let on_change = Closure::once_into_js(reload);
        if let Err(err) = container
            .add_event_listener_with_callback("controllerchange", on_change.unchecked_ref())
        {
            error!("pwa: cannot listen for controllerchange: {err:?}");
            reload();
            return;
        }
        if let Err(err) = waiting.post_message(&skip_waiting_message()) {
            error!("pwa: cannot message the waiting service worker: {err:?}");
            reload();
        }
    });
}

/// `navigator.serviceWorker`, where the browser has it (not in insecure contexts, nor in some
/// private modes).
fn service_worker_container() -> Option<ServiceWorkerContainer> {
    let navigator = window().navigator();
    let has = Reflect::get(&navigator, &JsValue::from_str("serviceWorker"))
        .is_ok_and(|value| !value.is_undefined() && !value.is_null());
    has.then(|| navigator.service_worker())
}

async fn register(container: ServiceWorkerContainer, set_update_ready: WriteSignal<bool>) {
    let registration = match JsFuture::from(container.register(SERVICE_WORKER_URL)).await {
        // Where service workers are blocked (policy, some embedded browsers) the promise may
        // resolve to something that is not a registration: carry on without one.
        Ok(registration) => match registration.dyn_into::<ServiceWorkerRegistration>() {
            Ok(registration) => registration,
            Err(other) => {
                warn!("pwa: no service worker registration ({other:?}); no offline app shell");
                return;
            }
        },
        Err(err) => {
            warn!("pwa: service worker not registered, the app will not work offline: {err:?}");
            return;
        }
    };
    // A version that installed during an earlier visit may already be waiting, and the
    // browser's own update check on this navigation may already be installing one.
    if registration.waiting().is_some() && container.controller().is_some() {
        set_update_ready.set(true);
    }
    if let Some(installing) = registration.installing() {
        watch_installing(&container, installing, set_update_ready);
    }
    let on_update_found = {
        let container = container.clone();
        let registration = registration.clone();
        Closure::<dyn Fn()>::new(move || {
            if let Some(installing) = registration.installing() {
                watch_installing(&container, installing, set_update_ready);
            }
        })
    };
    if let Err(err) = registration
        .add_event_listener_with_callback("updatefound", on_update_found.as_ref().unchecked_ref())
    {
        error!("pwa: cannot listen for updates: {err:?}");
    }
    // The registration lives as long as the page.
    on_update_found.forget();
}

/// Flags the update once `worker` has installed, if an older worker controls this page (without
/// one, this is the first install, which takes the page over by itself).
fn watch_installing(
    container: &ServiceWorkerContainer,
    worker: ServiceWorker,
    set_update_ready: WriteSignal<bool>,
) {
    let container = container.clone();
    let watched = worker.clone();
    let on_state_change = Closure::<dyn Fn()>::new(move || {
        if watched.state() == ServiceWorkerState::Installed && container.controller().is_some() {
            set_update_ready.set(true);
        }
    });
    if let Err(err) = worker
        .add_event_listener_with_callback("statechange", on_state_change.as_ref().unchecked_ref())
    {
        error!("pwa: cannot follow the new service worker: {err:?}");
    }
    // Lives as long as the worker; a page sees a handful of workers at most.
    on_state_change.forget();
}

async fn registration(container: &ServiceWorkerContainer) -> Option<ServiceWorkerRegistration> {
    let found = JsFuture::from(container.get_registration()).await.ok()?;
    found.dyn_into::<ServiceWorkerRegistration>().ok()
}

fn skip_waiting_message() -> JsValue {
    let message = Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(
        &message,
        &JsValue::from_str("type"),
        &JsValue::from_str(SKIP_WAITING),
    );
    message.into()
}

fn reload() {
    if let Err(err) = window().location().reload() {
        error!("pwa: cannot reload: {err:?}");
    }
}

/// Asks the browser not to evict our storage (the registry in IndexedDB, the caches) under
/// pressure. Browsers decide by their own rules; the answer is only logged.
fn request_persistent_storage() {
    let navigator = window().navigator();
    let has = Reflect::get(&navigator, &JsValue::from_str("storage"))
        .is_ok_and(|value| !value.is_undefined() && !value.is_null());
    if !has {
        return;
    }
    let Ok(persist) = navigator.storage().persist() else {
        return;
    };
    spawn_local(async move {
        match JsFuture::from(persist).await {
            Ok(granted) if granted.as_bool() == Some(true) => {
                log!("pwa: storage is persistent");
            }
            Ok(_) => log!("pwa: storage is best-effort (persistence not granted)"),
            Err(err) => warn!("pwa: persistent storage request failed: {err:?}"),
        }
    });
}
