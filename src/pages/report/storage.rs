//! Whether the browser keeps this app's data for good. When it does not (it refused
//! `navigator.storage.persist()`: the data is "best effort" and may be evicted when the phone
//! runs short of space) and reports wait on the phone, the doctor is told, in words, what that
//! risks and what helps.

use crate::i18n::{t, use_i18n};
use crate::outbox::Reporting;
use leptos::prelude::*;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Whether the browser keeps our storage for good: `persisted()`, and if not, `persist()`
/// asked once more (a browser may grant it now, e.g. once the app is installed). `None` when
/// the browser has no Storage API or does not answer (nothing is said then).
async fn storage_is_persistent() -> Option<bool> {
    let navigator = web_sys::window()?.navigator();
    let has = js_sys::Reflect::get(&navigator, &JsValue::from_str("storage"))
        .is_ok_and(|value| !value.is_undefined() && !value.is_null());
    if !has {
        return None;
    }
    let storage = navigator.storage();
    let persisted = JsFuture::from(storage.persisted().ok()?)
        .await
        .ok()?
        .as_bool()?;
    if persisted {
        return Some(true);
    }
    JsFuture::from(storage.persist().ok()?)
        .await
        .ok()?
        .as_bool()
}

/// The warning, shown while the browser refuses persistent storage and reports are on the
/// phone that the server does not have yet.
#[component]
pub(super) fn StorageWarning() -> impl IntoView {
    let i18n = use_i18n();
    let reporting = Reporting::expect();
    let persistent = RwSignal::new(None::<bool>);
    let asked = StoredValue::new(false);
    // Asked once there is something at stake, not on every visit.
    Effect::new(move |_| {
        if reporting.outbox.with(|o| o.is_empty()) || asked.get_value() {
            return;
        }
        asked.set_value(true);
        leptos::task::spawn_local(async move {
            persistent.set(storage_is_persistent().await);
        });
    });
    let at_risk =
        move || persistent.get() == Some(false) && reporting.outbox.with(|o| !o.is_empty());
    view! {
        <Show when=at_risk>
            <p class="notice notice-error" role="alert" data-testid="storage-at-risk">
                {t!(i18n, report_storage_at_risk)}
            </p>
        </Show>
    }
}
