//! Load status of the registry (loading, or a failure with a retry button) and the banner that
//! marks demonstration data.

use crate::i18n::{t, use_i18n, use_lang};
use crate::registry::{LoadState, Registry};
use leptos::prelude::*;

#[component]
pub fn LoadStatus() -> impl IntoView {
    let i18n = use_i18n();
    let lang = use_lang();
    let registry = Registry::expect();
    move || match registry.state.get() {
        LoadState::Ready => ().into_any(),
        LoadState::Loading => view! {
            <p class="notice notice-loading" role="status" data-testid="loading">
                {t!(i18n, loading)}
            </p>
        }
        .into_any(),
        LoadState::Failed(err) => view! {
            <div class="notice notice-error" role="alert" data-testid="load-error">
                <p>
                    <strong>{t!(i18n, load_failed)}</strong>
                    " "
                    {move || err.user_message(lang.get())}
                </p>
                <button type="button" class="button" on:click=move |_| registry.refresh()>
                    {t!(i18n, retry)}
                </button>
            </div>
        }
        .into_any(),
    }
}

#[component]
pub fn DemoBanner() -> impl IntoView {
    let i18n = use_i18n();
    let registry = Registry::expect();
    let demo = move || registry.config.with(|c| c.as_ref().is_some_and(|c| c.demo));
    view! {
        <Show when=demo>
            <p class="notice notice-demo" data-testid="demo-banner">{t!(i18n, demo_banner)}</p>
        </Show>
    }
}
